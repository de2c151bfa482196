// Package api serves posd's HTTP API (contract §2) and the till page.
//
// It is a thin layer: it authenticates the bearer token, checks the route's
// permission, reads the Idempotency-Key header, decodes the JSON body
// strictly, and hands all of it to the engine, which does the rest in one
// transaction. Errors become HTTP answers in exactly one place (error.go),
// the 405 and the 429 included. The engine returns documents, not bytes: a
// write's route picks its status (201 for what creates, 200 for a state
// change and for a replay after the answer TTL) and renders the document
// after the commit, on the request's goroutine, with renderAnswer, the one
// function of (document, answer version) that first answers and replays go
// through, so a replay is byte for byte the first answer.
package api
