package api_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func stringsReader(s string) io.Reader {
	if s == "" {
		return nil
	}
	return strings.NewReader(s)
}

func readAll(t *testing.T, res *http.Response) []byte {
	t.Helper()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// errorShape checks that b is exactly the contract's error shape and
// returns its code.
func errorShape(t *testing.T, b []byte) string {
	t.Helper()
	var v map[string]map[string]any
	if err := json.Unmarshal(b, &v); err != nil || len(v) != 1 || v["error"] == nil {
		t.Fatalf("error body not in contract shape: %s", b)
	}
	code, _ := v["error"]["code"].(string)
	msg, _ := v["error"]["message"].(string)
	if code == "" || msg == "" {
		t.Fatalf("error body lacks code or message: %s", b)
	}
	for k := range v["error"] {
		if k != "code" && k != "message" && k != "field" {
			t.Fatalf("error body has extra key %q: %s", k, b)
		}
	}
	if strings.Contains(string(b), "goroutine") || strings.Contains(string(b), ".go:") {
		t.Fatalf("error body leaks internals: %s", b)
	}
	return code
}

// httptestDiscard is a ResponseWriter that drops the answer, to model an
// answer lost on the way back.
type httptestDiscard struct{}

func (httptestDiscard) Header() http.Header         { return http.Header{} }
func (httptestDiscard) Write(b []byte) (int, error) { return len(b), nil }
func (httptestDiscard) WriteHeader(int)             {}

func newTestServer(t *testing.T, h http.Handler) *httptest.Server {
	s := httptest.NewServer(h)
	t.Cleanup(s.Close)
	return s
}
