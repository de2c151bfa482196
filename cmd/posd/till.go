package main

import (
	"net/http"

	"posd/api/office"
	"posd/api/till"
)

// tillHandler serves the browser till page embedded in the binary.
func tillHandler() http.Handler { return till.Handler() }

// officeHandler serves the owner's back office embedded in the binary.
func officeHandler() http.Handler { return office.Handler() }
