package till_test

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"path"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"posd/api"
	"posd/api/till"
	"posd/engine"
	"posd/engine/boltstore"
)

// The till is served by posd itself, under /till/, with / sending a
// browser there and the JS client at its stable URL.
func TestServedByPosd(t *testing.T) {
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "posd.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	srv := httptest.NewServer(api.NewServer(engine.NewService(st), api.Options{Till: till.Handler()}))
	defer srv.Close()
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

	res, err := noRedirect.Get(srv.URL + "/")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if loc := res.Header.Get("Location"); res.StatusCode != http.StatusFound || loc != "/till/" {
		t.Errorf("GET / = %d to %q, want 302 to /till/", res.StatusCode, loc)
	}

	for _, tc := range []struct {
		path, ctype, contains string
	}{
		{"/till/", "text/html", `<script type="module" src="js/app.js">`},
		{"/till/js/posd-client.js", "text/javascript", "export class PosdClient"},
		{"/till/js/posd-outbox.js", "text/javascript", "export class IdbOutbox"},
		{"/till/till.css", "text/css", "@media print"},
		{"/till/sw.js", "text/javascript", "caches.open"},
		{"/till/setup.html", "text/html", `<script type="module" src="js/setup.js">`},
		{"/till/js/setup.js", "text/javascript", "export function secureTarget"},
	} {
		res, err := http.Get(srv.URL + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Errorf("GET %s = %d, want 200", tc.path, res.StatusCode)
			continue
		}
		if ct := res.Header.Get("Content-Type"); !strings.HasPrefix(ct, tc.ctype) {
			t.Errorf("GET %s: Content-Type %q, want %s", tc.path, ct, tc.ctype)
		}
		if !strings.Contains(string(b), tc.contains) {
			t.Errorf("GET %s: body lacks %q", tc.path, tc.contains)
		}
		if cc := res.Header.Get("Cache-Control"); cc != "no-cache" {
			t.Errorf("GET %s: Cache-Control %q, want no-cache (revalidate, so a new posd's till is used)", tc.path, cc)
		}
		csp := res.Header.Get("Content-Security-Policy")
		if !strings.Contains(csp, "script-src 'self'") || !strings.Contains(csp, "default-src 'self'") {
			t.Errorf("GET %s: Content-Security-Policy %q", tc.path, csp)
		}
		// Only the setup page may connect elsewhere: to posd's HTTPS
		// address, to check that the device trusts it.
		if wide := strings.Contains(csp, "connect-src 'self' https:"); wide != (tc.path == "/till/setup.html") {
			t.Errorf("GET %s: connect-src in %q", tc.path, csp)
		}
	}

	res, err = http.Get(srv.URL + "/till/nope.js")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("GET a missing file = %d, want 404", res.StatusCode)
	}
	res, err = http.Post(srv.URL+"/till/", "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /till/ = %d, want 405", res.StatusCode)
	}
}

// Every module the page imports is embedded, and the service worker keeps
// every file of the till for offline use: a file left out would break the
// till only on a real device, or only when posd is down.
func TestEmbedsAndCachesEveryFile(t *testing.T) {
	importRE := regexp.MustCompile(`(?m)^\s*(?:import|export)\b[^;]*?from '\./([^']+)'`)
	sw, err := fs.ReadFile(till.Files(), "sw.js")
	if err != nil {
		t.Fatal(err)
	}
	err = fs.WalkDir(till.Files(), ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if name != "sw.js" && !strings.Contains(string(sw), "'"+name+"'") {
			t.Errorf("sw.js does not cache %s", name)
		}
		if !strings.HasSuffix(name, ".js") {
			return nil
		}
		b, err := fs.ReadFile(till.Files(), name)
		if err != nil {
			return err
		}
		for _, m := range importRE.FindAllStringSubmatch(string(b), -1) {
			if _, err := fs.Stat(till.Files(), path.Join(path.Dir(name), m[1])); err != nil {
				t.Errorf("%s imports %s, which is not embedded", name, m[1])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// The till's modules keep their concerns apart (review §6): state.js holds
// state and imports no view or wording, views.js reads no state, and only
// money.js turns posd's quantities into thousandths.
func TestModuleBoundaries(t *testing.T) {
	importRE := regexp.MustCompile(`(?m)^\s*import\b[^;]*?from '\./([^']+)'`)
	imports := func(name string) []string {
		b, err := fs.ReadFile(till.Files(), "js/"+name)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, m := range importRE.FindAllStringSubmatch(string(b), -1) {
			out = append(out, m[1])
		}
		return out
	}
	for _, imp := range imports("state.js") {
		if imp != "money.js" && imp != "cart.js" {
			t.Errorf("state.js imports %s; it holds state only (money.js and cart.js)", imp)
		}
	}
	for _, imp := range imports("views.js") {
		if imp == "state.js" || imp == "session.js" || imp == "sell.js" || imp == "app.js" {
			t.Errorf("views.js imports %s; views draw what they are given", imp)
		}
	}
	qtyRE := regexp.MustCompile(`Math\.round\([^;]*\*\s*(1000|QTY)\b`)
	err := fs.WalkDir(till.Files(), "js", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || name == "js/money.js" {
			return err
		}
		b, err := fs.ReadFile(till.Files(), name)
		if err != nil {
			return err
		}
		if m := qtyRE.Find(b); m != nil {
			t.Errorf("%s converts a quantity itself (%s); use money.js's qtyOf", name, m)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// The version a till reports to posd (contract §5: PUT
// /api/tills/current/status) is the one its service worker caches, so the
// office sees which till runs an old page: bumping one without the other
// fails here.
func TestReportedVersionIsCachedVersion(t *testing.T) {
	read := func(name string, re *regexp.Regexp) string {
		b, err := fs.ReadFile(till.Files(), name)
		if err != nil {
			t.Fatal(err)
		}
		m := re.FindSubmatch(b)
		if m == nil {
			t.Fatalf("%s: %s not found", name, re)
		}
		return string(m[1])
	}
	cache := read("sw.js", regexp.MustCompile(`const CACHE = '([^']+)'`))
	version := read("js/session.js", regexp.MustCompile(`export const VERSION = '([^']+)'`))
	if cache != version {
		t.Errorf("session.js reports version %q, sw.js caches %q", version, cache)
	}
}
