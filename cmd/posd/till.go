package main

import (
	"net/http"

	"posd/api/till"
)

// tillHandler serves the browser till page embedded in the binary.
func tillHandler() http.Handler { return till.Handler() }
