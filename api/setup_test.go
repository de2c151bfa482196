package api_test

import (
	"encoding/json"
	"encoding/pem"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"

	"posd/api"
	"posd/engine"
)

// fakeHTTPS stands in for cmd/posd's HTTPS side.
type fakeHTTPS struct {
	der      []byte
	err      error
	lastHost string
}

func (f *fakeHTTPS) CACertificate() ([]byte, error) { return f.der, f.err }

func (f *fakeHTTPS) Setup(host string) api.Setup {
	f.lastHost = host
	port, fp, url := 8443, "AB:CD", "/ca.crt"
	return api.Setup{HTTPS: true, HTTPSPort: &port, CAFingerprint: &fp, CAURL: &url,
		Names: []string{"shop.lan"}, HTTPSURLs: []string{"https://shop.lan:8443/till/"}, SetupURLs: []string{}}
}

func get(t *testing.T, url string) (*http.Response, []byte) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	return res, readAll(t, res)
}

// TestCACertificateRoute: /ca.crt needs no token and serves the DER with a
// type browsers hand to the certificate installer, PEM on request, a plain
// download for Android; a CA that cannot be read is a 503 in the
// contract's shape, and a posd without HTTPS side says it has no CA.
func TestCACertificateRoute(t *testing.T) {
	der := []byte{0x30, 0x03, 0x02, 0x01, 0x01} // any bytes: the route serves what it is given
	f := &fakeHTTPS{der: der}
	srv := httptest.NewServer(api.NewServer(engine.NewService(nil), api.Options{HTTPS: f}))
	defer srv.Close()

	res, b := get(t, srv.URL+"/ca.crt")
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/x-x509-ca-cert" || string(b) != string(der) {
		t.Errorf("DER: %d %q %x", res.StatusCode, res.Header.Get("Content-Type"), b)
	}
	if cd := res.Header.Get("Content-Disposition"); cd != `attachment; filename="posd-shop-ca.crt"` {
		t.Errorf("Content-Disposition %q", cd)
	}
	res, b = get(t, srv.URL+"/ca.crt?format=pem")
	blk, _ := pem.Decode(b)
	if res.StatusCode != 200 || blk == nil || blk.Type != "CERTIFICATE" || string(blk.Bytes) != string(der) {
		t.Errorf("PEM: %d %s", res.StatusCode, b)
	}
	res, b = get(t, srv.URL+"/ca.crt?download=1")
	if res.Header.Get("Content-Type") != "application/octet-stream" || string(b) != string(der) {
		t.Errorf("download: %q", res.Header.Get("Content-Type"))
	}

	f.err = errors.New("disk on fire")
	res, b = get(t, srv.URL+"/ca.crt")
	if res.StatusCode != 503 || errorShape(t, b) != engine.EUNAVAILABLE {
		t.Errorf("unreadable CA: %d %s", res.StatusCode, b)
	}

	bare := httptest.NewServer(api.NewServer(engine.NewService(nil), api.Options{}))
	defer bare.Close()
	res, b = get(t, bare.URL+"/ca.crt")
	if res.StatusCode != 404 || errorShape(t, b) != engine.ENOTFOUND {
		t.Errorf("no HTTPS side: %d %s", res.StatusCode, b)
	}
	res, b = get(t, bare.URL+"/api/setup")
	var s map[string]any
	if res.StatusCode != 200 || json.Unmarshal(b, &s) != nil || s["https"] != false || s["caFingerprint"] != nil {
		t.Errorf("setup without HTTPS side: %d %s", res.StatusCode, b)
	}
	for _, k := range []string{"names", "httpsUrls", "setupUrls"} {
		if l, ok := s[k].([]any); !ok || len(l) != 0 {
			t.Errorf("setup without HTTPS: %s is %v, want []", k, s[k])
		}
	}
}

// TestSetupRoute: /api/setup needs no token and passes the request's host
// name (without the port) to the HTTPS side.
func TestSetupRoute(t *testing.T) {
	f := &fakeHTTPS{}
	srv := httptest.NewServer(api.NewServer(engine.NewService(nil), api.Options{HTTPS: f}))
	defer srv.Close()
	req, _ := http.NewRequest("GET", srv.URL+"/api/setup", nil)
	req.Host = "shop.lan:8080"
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b := readAll(t, res)
	res.Body.Close()
	var s api.Setup
	if res.StatusCode != 200 || json.Unmarshal(b, &s) != nil || !s.HTTPS || *s.HTTPSPort != 8443 || *s.CAURL != "/ca.crt" {
		t.Errorf("setup: %d %s", res.StatusCode, b)
	}
	if f.lastHost != "shop.lan" {
		t.Errorf("host passed on: %q, want shop.lan", f.lastHost)
	}
	if res.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control %q", res.Header.Get("Cache-Control"))
	}
}
