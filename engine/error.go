package engine

import (
	"errors"
	"fmt"
	"time"
)

// Error codes. They are the codes of the contract's error table that the
// domain gives, so a code travels unchanged from the engine through the API
// to a client and back. The codes only HTTP gives (unsupported_media_type,
// method_not_allowed) are the API's; rate_limited is both: the API's for
// guessed tokens, the engine's for a PIN entry locked after wrong PINs.
const (
	EINVALID               = "invalid_request"
	EIDEMPOTENCYMISSING    = "idempotency_key_missing"
	EIDEMPOTENCYINVALID    = "idempotency_key_invalid"
	EUNAUTHORIZED          = "unauthorized"
	EFORBIDDEN             = "forbidden"
	ENOTFOUND              = "not_found"
	EINVALIDSTATE          = "invalid_state"
	EINSUFFICIENTSTOCK     = "insufficient_stock"
	EREFUNDEXCEEDSSALE     = "refund_exceeds_sale"
	EIDEMPOTENCYINPROGRESS = "idempotency_key_in_progress"
	ETOOLARGE              = "request_too_large"
	EIDEMPOTENCYREUSED     = "idempotency_key_reused"
	EINTERNAL              = "internal"
	EUNAVAILABLE           = "unavailable"
	ERATELIMITED           = "rate_limited"
)

// Error is the one error type of the domain. Its Code is stable and is what
// callers test (with errors.Is against the sentinels below, or ErrorCode);
// Message is written for the person who has to act on it; Field names the
// offending request field, in JSON path form ("items[2].quantity"), when one
// is to blame.
type Error struct {
	Code    string
	Message string
	Field   string
	// Err is an underlying cause kept for logs; it is never shown to clients.
	Err error
	// RetryAfter, when set, is how long the client should wait before
	// trying again (a locked PIN entry); the API sends it as Retry-After.
	RetryAfter time.Duration
}

// Error implements the error interface.
func (e *Error) Error() string {
	msg := "engine: " + e.Code
	if e.Message != "" {
		msg += ": " + e.Message
	}
	if e.Field != "" {
		msg += " (field " + e.Field + ")"
	}
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is an *Error with the same code, so that
// errors.Is(err, engine.ErrNotFound) works for any not-found error.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code && (t.Message == "" || t.Message == e.Message)
}

// Sentinels for errors.Is. They carry only a code.
var (
	ErrInvalid               = &Error{Code: EINVALID}
	ErrUnauthorized          = &Error{Code: EUNAUTHORIZED}
	ErrForbidden             = &Error{Code: EFORBIDDEN}
	ErrNotFound              = &Error{Code: ENOTFOUND}
	ErrInvalidState          = &Error{Code: EINVALIDSTATE}
	ErrInsufficientStock     = &Error{Code: EINSUFFICIENTSTOCK}
	ErrRefundExceedsSale     = &Error{Code: EREFUNDEXCEEDSSALE}
	ErrIdempotencyReused     = &Error{Code: EIDEMPOTENCYREUSED}
	ErrIdempotencyMissing    = &Error{Code: EIDEMPOTENCYMISSING}
	ErrIdempotencyInvalid    = &Error{Code: EIDEMPOTENCYINVALID}
	ErrIdempotencyInProgress = &Error{Code: EIDEMPOTENCYINPROGRESS}
	ErrUnavailable           = &Error{Code: EUNAVAILABLE}
	ErrInternal              = &Error{Code: EINTERNAL}
)

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// FieldError returns an invalid_request error blaming one field. The
// message starts with the field's name, so it reads on its own:
// "items[0].quantity must be positive".
func FieldError(field, format string, args ...any) *Error {
	return &Error{Code: EINVALID, Field: field, Message: field + " " + fmt.Sprintf(format, args...)}
}

func fieldErr(field, format string, args ...any) *Error { return FieldError(field, format, args...) }

// notFound returns a not_found error. Objects of other businesses are reported
// through the same function, so the two cases cannot be told apart.
func notFound(what, field string) *Error {
	msg := what + " not found"
	if field != "" {
		msg += " (" + field + ")"
	}
	return &Error{Code: ENOTFOUND, Field: field, Message: msg}
}

// ErrorCode returns the code of err: the code of an *Error in its chain,
// "" for nil, and EINTERNAL for anything else.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	if e, ok := err.(*Error); ok { // most errors, without errors.As's allocation
		return e.Code
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return EINTERNAL
}

// ErrorMessage returns the human message of err. Errors that are not *Error
// are internal: their text may reveal details, so a generic message is given.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Message != "" {
		return e.Message
	}
	if errors.As(err, &e) {
		return defaultMessages[e.Code]
	}
	return defaultMessages[EINTERNAL]
}

// ErrorField returns the field blamed by err, if any.
func ErrorField(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Field
	}
	return ""
}

var defaultMessages = map[string]string{
	EINVALID:               "the request is not valid",
	EIDEMPOTENCYMISSING:    "every POST needs an Idempotency-Key header (a UUID made once per request and reused on retries)",
	EIDEMPOTENCYINVALID:    "the Idempotency-Key header must be 1 to 255 visible ASCII characters",
	EUNAUTHORIZED:          "a valid token is needed: send Authorization: Bearer TOKEN",
	EFORBIDDEN:             "this token's role may not do this",
	ENOTFOUND:              "not found",
	EINVALIDSTATE:          "the document is not in a state that allows this",
	EINSUFFICIENTSTOCK:     "not enough stock",
	EREFUNDEXCEEDSSALE:     "the refund returns more than the sale still holds",
	EIDEMPOTENCYINPROGRESS: "a request with this Idempotency-Key is still running; retry shortly",
	ETOOLARGE:              "the request is too large",
	EIDEMPOTENCYREUSED:     "this Idempotency-Key was already used for a different request; make a new key for a new request",
	EINTERNAL:              "an internal error occurred; nothing was written",
	EUNAVAILABLE:           "posd cannot write right now; nothing was written, retry shortly",
	ERATELIMITED:           "too many tries; wait a moment and try again",
}
