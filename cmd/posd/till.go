package main

import "net/http"

// tillHandler serves the till page. Until the till page lands it answers
// with a short notice pointing at the API.
func tillHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte("The till page is not part of this build yet; the API is at /api (see README.md).\n"))
	})
}
