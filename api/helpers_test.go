package api_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"posd/api/client"
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

// lossyProxy serves the API, except that the next lose requests that match
// are carried out and their answers lost (502 instead), as when the network
// drops posd's reply after the commit. It records the Idempotency-Key of
// every matching request.
type lossyProxy struct {
	e     *env
	match func(*http.Request) bool
	mu    sync.Mutex
	lose  int
	keys  []string
}

func (p *lossyProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	m := p.match(r)
	if m {
		p.keys = append(p.keys, r.Header.Get("Idempotency-Key"))
	}
	l := m && p.lose > 0
	if l {
		p.lose--
	}
	p.mu.Unlock()
	if l {
		p.e.api.ServeHTTP(httptestDiscard{}, r)
		http.Error(w, "bad gateway", http.StatusBadGateway)
		return
	}
	p.e.api.ServeHTTP(w, r)
}

// loseNext loses the answers to the next n matching requests and forgets
// the keys seen so far.
func (p *lossyProxy) loseNext(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.lose, p.keys = n, nil
}

func (p *lossyProxy) seen() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.keys...)
}

// lossyClient is an owner's client with short retries behind a lossyProxy
// for the requests that match.
func lossyClient(t *testing.T, e *env, match func(*http.Request) bool) (*client.Client, *lossyProxy) {
	p := &lossyProxy{e: e, match: match}
	c := client.New(newTestServer(t, p).URL, e.ownerToken())
	c.Retry = &client.RetryPolicy{MaxRetries: 3, BaseDelay: 10 * time.Millisecond, AttemptTimeout: 5 * time.Second}
	return c, p
}
