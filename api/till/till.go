// Package till serves posd's browser till: one HTML page, a stylesheet and
// a few ES modules, embedded in the binary so that a shop needs nothing but
// posd and a browser. There is no build step: the files under static/ are
// what the browser runs.
//
// The JS client module, static/js/posd-client.js, is served at the stable
// URL /till/js/posd-client.js for integrators: it holds the client half of
// posd's guarantee (one idempotency key per intent, persisted before the
// first send; retries with backoff; a durable offline queue in IndexedDB;
// one sending tab at a time).
package till

import (
	"embed"
	"io/fs"
	"net/http"
	"strings"
)

//go:embed static
var static embed.FS

// Files returns the till's files, rooted at the page's directory.
func Files() fs.FS {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the embedded tree always has static/
	}
	return sub
}

// Handler serves the till under /till/. Every answer asks the browser to
// revalidate (no-cache), so a till picks up a new posd at its next load;
// offline loads are served by the page's service worker, not the HTTP
// cache.
func Handler() http.Handler {
	files := http.StripPrefix("/till/", http.FileServerFS(Files()))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "the till page is read-only", http.StatusMethodNotAllowed)
			return
		}
		h := w.Header()
		h.Set("Cache-Control", "no-cache")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		csp := "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"
		if strings.HasSuffix(r.URL.Path, "/setup.html") {
			// The setup page checks that the device trusts posd's HTTPS
			// address (another origin: another port) before it goes there.
			csp = strings.Replace(csp, "connect-src 'self'", "connect-src 'self' https:", 1)
		}
		h.Set("Content-Security-Policy", csp)
		if strings.HasSuffix(r.URL.Path, "/sw.js") {
			// The service worker controls the whole till, from /till/.
			h.Set("Service-Worker-Allowed", "/till/")
		}
		files.ServeHTTP(w, r)
	})
}
