package api

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"posd/engine"
)

// Error codes that only HTTP gives: the engine has no such errors. They
// travel as *engine.Error like the engine's own, and api/client knows them
// by the same names. ERATELIMITED is the engine's too (a locked PIN entry).
const (
	ERATELIMITED      = engine.ERATELIMITED
	EMEDIATYPE        = "unsupported_media_type"
	EMETHODNOTALLOWED = "method_not_allowed"
)

// statusOf maps every error code of the contract to its HTTP status. It is
// the only place where errors meet status codes; a code not listed here is
// a 500.
var statusOf = map[string]int{
	engine.EINVALID:               http.StatusBadRequest,
	engine.EIDEMPOTENCYMISSING:    http.StatusBadRequest,
	engine.EIDEMPOTENCYINVALID:    http.StatusBadRequest,
	engine.EUNAUTHORIZED:          http.StatusUnauthorized,
	engine.EFORBIDDEN:             http.StatusForbidden,
	engine.ENOTFOUND:              http.StatusNotFound,
	engine.EINVALIDSTATE:          http.StatusConflict,
	engine.EINSUFFICIENTSTOCK:     http.StatusConflict,
	engine.EREFUNDEXCEEDSSALE:     http.StatusConflict,
	engine.EIDEMPOTENCYINPROGRESS: http.StatusConflict,
	engine.ETOOLARGE:              http.StatusRequestEntityTooLarge,
	EMEDIATYPE:                    http.StatusUnsupportedMediaType,
	EMETHODNOTALLOWED:             http.StatusMethodNotAllowed,
	engine.EIDEMPOTENCYREUSED:     http.StatusUnprocessableEntity,
	ERATELIMITED:                  http.StatusTooManyRequests,
	engine.EINTERNAL:              http.StatusInternalServerError,
	engine.EUNAVAILABLE:           http.StatusServiceUnavailable,
}

// retryAfter is the Retry-After value, in seconds, sent with codes that ask
// the client to come back, unless the error says how long itself
// (waitError).
var retryAfter = map[string]string{
	engine.EIDEMPOTENCYINPROGRESS: "1",
	ERATELIMITED:                  "10",
	engine.EUNAVAILABLE:           "2",
}

// waitError is an error that knows when the client may come back: a
// rate-limited address, whose wait depends on how many wrong tokens it
// sent.
type waitError struct {
	err  *engine.Error
	wait time.Duration
}

func (e *waitError) Error() string { return e.err.Error() }
func (e *waitError) Unwrap() error { return e.err }

// ErrorBody is the JSON shape of every error answer.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is the inside of ErrorBody.
type ErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

// httpStatus returns the HTTP status for an error code.
func httpStatus(code string) int {
	if s, ok := statusOf[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// writeError answers with err in the contract's shape. Internal errors are
// logged in full and answered with a generic message: no stack trace or
// internal detail reaches a client.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code := engine.ErrorCode(err)
	status := httpStatus(code)
	if status >= 500 {
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "code", code, "err", err)
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			s.metrics.writeFailed(Failure{Cause: engine.StorageCause(err), Route: s.routeName(r), Message: engine.ErrorMessage(err)})
		}
	}
	s.metrics.refused(code)
	var we *waitError
	var ee *engine.Error
	if errors.As(err, &we) {
		w.Header().Set("Retry-After", seconds(we.wait))
	} else if errors.As(err, &ee) && ee.RetryAfter > 0 {
		w.Header().Set("Retry-After", seconds(ee.RetryAfter))
	} else if ra, ok := retryAfter[code]; ok {
		w.Header().Set("Retry-After", ra)
	}
	body := ErrorBody{Error: ErrorDetail{Code: code, Message: engine.ErrorMessage(err), Field: engine.ErrorField(err)}}
	if status == http.StatusInternalServerError {
		body.Error.Code, body.Error.Message, body.Error.Field = engine.EINTERNAL, "an internal error occurred; nothing was written", ""
	}
	writeJSON(w, status, body)
}

// writeJSON writes v as a JSON answer.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		slog.Error("encoding answer", "err", err)
		status, b = http.StatusInternalServerError, []byte(`{"error":{"code":"internal","message":"an internal error occurred"}}`)
	}
	writeRaw(w, status, b)
}

func writeRaw(w http.ResponseWriter, status int, b []byte) {
	// The same three values on every answer: shared, never written to
	// (net/http copies the header when WriteHeader sends it), instead of
	// three new slices per answer.
	h := w.Header()
	h["Content-Type"] = hdrJSON
	h["Cache-Control"] = hdrNoStore
	h["X-Content-Type-Options"] = hdrNoSniff
	w.WriteHeader(status)
	w.Write(b)
}

var (
	hdrJSON    = []string{"application/json; charset=utf-8"}
	hdrNoStore = []string{"no-store"}
	hdrNoSniff = []string{"nosniff"}
)

// mustMarshal encodes one of the API's own answer types, which cannot fail.
func mustMarshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("api: encoding " + err.Error())
	}
	return b
}
