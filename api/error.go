package api

import (
	"encoding/json"
	"log/slog"
	"net/http"

	"github.com/gorilla/mux"

	"posd/engine"
)

// statusOf maps every error code of the contract to its HTTP status. It is
// the only place where errors meet status codes; a code not listed here is
// a 500.
var statusOf = map[string]int{
	engine.EINVALID:              http.StatusBadRequest,
	engine.EIDEMPOTENCYMISSING:   http.StatusBadRequest,
	engine.EIDEMPOTENCYINVALID:   http.StatusBadRequest,
	engine.EUNAUTHORIZED:         http.StatusUnauthorized,
	engine.EFORBIDDEN:            http.StatusForbidden,
	engine.ENOTFOUND:             http.StatusNotFound,
	engine.EINVALIDSTATE:         http.StatusConflict,
	engine.EINSUFFICIENTSTOCK:    http.StatusConflict,
	engine.EREFUNDEXCEEDSSALE:    http.StatusConflict,
	engine.EIDEMPOTENCYINPROGRES: http.StatusConflict,
	engine.ETOOLARGE:             http.StatusRequestEntityTooLarge,
	engine.EMEDIATYPE:            http.StatusUnsupportedMediaType,
	engine.EIDEMPOTENCYREUSED:    http.StatusUnprocessableEntity,
	engine.ERATELIMITED:          http.StatusTooManyRequests,
	engine.EINTERNAL:             http.StatusInternalServerError,
	engine.EUNAVAILABLE:          http.StatusServiceUnavailable,
}

// retryAfter is the Retry-After value, in seconds, sent with codes that ask
// the client to come back.
var retryAfter = map[string]string{
	engine.EIDEMPOTENCYINPROGRES: "1",
	engine.ERATELIMITED:          "10",
	engine.EUNAVAILABLE:          "2",
}

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

// StatusOf returns the HTTP status for an error code.
func StatusOf(code string) int {
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
	status := StatusOf(code)
	if status >= 500 {
		s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "code", code, "err", err)
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			route := ""
			if cr := mux.CurrentRoute(r); cr != nil {
				route = cr.GetName()
			}
			s.metrics.writeFailed(Failure{Cause: engine.StorageCause(err), Route: route, Message: engine.ErrorMessage(err)})
		}
	}
	s.metrics.refused(code)
	if ra, ok := retryAfter[code]; ok {
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
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	w.Write(b)
}

// mustMarshal encodes one of the API's own answer types, which cannot fail.
func mustMarshal(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic("api: encoding " + err.Error())
	}
	return b
}
