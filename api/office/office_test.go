package office_test

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
	"posd/api/office"
	"posd/api/till"
	"posd/engine"
	"posd/engine/boltstore"
)

// The office is served by posd under /office/, with the till's CSP, and
// /office sends a browser there.
func TestServedByPosd(t *testing.T) {
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "posd.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	srv := httptest.NewServer(api.NewServer(engine.NewService(st), api.Options{Till: till.Handler(), Office: office.Handler()}))
	defer srv.Close()
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := noRedirect.Get(srv.URL + "/office")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if loc := res.Header.Get("Location"); res.StatusCode != http.StatusMovedPermanently || loc != "/office/" {
		t.Errorf("GET /office = %d to %q, want 301 to /office/", res.StatusCode, loc)
	}
	for _, tc := range []struct{ path, ctype, contains string }{
		{"/office/", "text/html", `<script type="module" src="js/app.js">`},
		{"/office/js/app.js", "text/javascript", "export const SCREENS"},
		{"/office/office.css", "text/css", "@media"},
		// The office's client is the till's: both pages must serve it.
		{"/till/js/posd-client.js", "text/javascript", "export class PosdClient"},
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
		csp := res.Header.Get("Content-Security-Policy")
		for _, want := range []string{"script-src 'self'", "default-src 'self'", "object-src 'none'", "frame-ancestors 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("GET %s: Content-Security-Policy %q lacks %q", tc.path, csp, want)
			}
		}
		if strings.Contains(csp, "unsafe-") {
			t.Errorf("GET %s: Content-Security-Policy %q allows unsafe sources", tc.path, csp)
		}
	}
	res, err = http.Post(srv.URL+"/office/", "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /office/ = %d, want 405", res.StatusCode)
	}
}

// Every module the office imports is embedded (its own beside it, the
// till's shared ones under /till/), every screen of the screen table
// exists, and no script builds markup from strings: data only ever goes
// into text nodes, so nothing typed by anyone can run as code.
func TestModulesAndNoMarkupFromStrings(t *testing.T) {
	importRE := regexp.MustCompile(`(?m)(?:^\s*(?:import|export)\b[^;]*?from\s*|import\()\s*'([^']+)'`)
	screenRE := regexp.MustCompile(`module: '(\./screens/[^']+)'`)
	forbidden := regexp.MustCompile(`\.innerHTML|\.outerHTML|insertAdjacentHTML|document\.write|\beval\(|new Function\(|setTimeout\('`)
	files := office.Files()
	n := 0
	err := fs.WalkDir(files, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(files, name)
		if err != nil {
			return err
		}
		src := string(b)
		for _, tag := range regexp.MustCompile(`<script[^>]*>`).FindAllString(src, -1) {
			if !strings.Contains(tag, " src=") {
				t.Errorf("%s has an inline script: %s", name, tag)
			}
		}
		if strings.HasSuffix(name, ".html") && regexp.MustCompile(`\son[a-z]+=`).MatchString(src) {
			t.Errorf("%s has an inline event handler", name)
		}
		if !strings.HasSuffix(name, ".js") {
			return nil
		}
		n++
		if m := forbidden.FindString(src); m != "" {
			t.Errorf("%s uses %s: build elements with el() and text nodes instead", name, m)
		}
		refs := importRE.FindAllStringSubmatch(src, -1)
		refs = append(refs, screenRE.FindAllStringSubmatch(src, -1)...)
		for _, m := range refs {
			ref := m[1]
			if rest, ok := strings.CutPrefix(ref, "/till/"); ok {
				if _, err := fs.Stat(till.Files(), rest); err != nil {
					t.Errorf("%s imports %s, which the till does not serve", name, ref)
				}
				continue
			}
			base := path.Dir(name)
			if strings.Contains(src, "SCREENS") && strings.HasPrefix(ref, "./screens/") {
				base = "js"
			}
			if _, err := fs.Stat(files, path.Join(base, ref)); err != nil {
				t.Errorf("%s imports %s, which is not embedded", name, ref)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n < 10 {
		t.Errorf("found %d modules, want the app and every screen", n)
	}
}
