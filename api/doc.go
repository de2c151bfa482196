// Package api serves posd's HTTP API (contract §2) and the till page.
//
// It is a thin layer: it authenticates the bearer token, checks the route's
// permission, reads the Idempotency-Key header, decodes the JSON body
// strictly, and hands all of it to the engine, which does the rest in one
// transaction. Errors become HTTP answers in exactly one place (error.go).
// An answer to an idempotent request is written byte for byte as the engine
// returns it, so a replay is identical to the first answer.
package api
