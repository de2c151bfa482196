// Package office serves posd's back office: the owner's and managers' page
// for running the shop without a terminal (today's takings, tills and their
// pairing, products and their CSV import, stock, purchases and transfers,
// the journal, backups and health, tokens). Like the till it is plain HTML,
// CSS and ES modules embedded in the binary, with no build step: the files
// under static/ are what the browser runs.
//
// The office talks to posd only through the HTTP API, with the till's own
// client module (/till/js/posd-client.js): one idempotency key per intent,
// retries with backoff, the contract's error messages. It shares that
// module rather than copying it, so both pages follow the same rules.
package office

import (
	"embed"
	"io/fs"
	"net/http"
)

//go:embed static
var static embed.FS

// Files returns the office's files, rooted at the page's directory.
func Files() fs.FS {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // the embedded tree always has static/
	}
	return sub
}

// CSP is the office's Content-Security-Policy, the till's: nothing but
// posd's own scripts, styles and connections; images from posd or data:
// URLs (the QR codes). No inline script and no eval, so that a product
// name or a supplier typed by someone cannot become code.
const CSP = "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"

// Handler serves the office under /office/. Every answer asks the browser
// to revalidate (no-cache), so an owner gets a new posd's office at the
// next load.
func Handler() http.Handler {
	files := http.StripPrefix("/office/", http.FileServerFS(Files()))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "the office page is read-only", http.StatusMethodNotAllowed)
			return
		}
		h := w.Header()
		h.Set("Cache-Control", "no-cache")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Content-Security-Policy", CSP)
		files.ServeHTTP(w, r)
	})
}
