package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"
	"unicode/utf8"

	"posd/engine"
)

// MaxBodyBytes is the largest request body accepted (contract: 1 MiB).
const MaxBodyBytes = 1 << 20

// serverOwned lists fields that only the server sets. Sending one is an
// error with a message that says so, rather than a generic unknown field.
var serverOwned = map[string]bool{
	"id": true, "invoiceNumber": true, "returnNumber": true, "receiptNumber": true, "transferNumber": true,
	"number": true, "total": true, "taxTotal": true, "paid": true, "change": true, "status": true,
	"businessId": true, "business": true, "createdAt": true, "updatedAt": true, "tokenId": true,
	"lineTotal": true, "taxAmount": true, "currency": true, "approvedAt": true, "sentAt": true, "receivedAt": true,
	"refundedQuantity": true, "refundedAmount": true, "returns": true, "token": true, "saleId": true, "hash": true,
}

// readBody reads and checks a request body: size, media type and UTF-8. An
// empty body is returned as nil when allowEmpty (the {} of the state-change
// routes may be left out).
func readBody(r *http.Request, allowEmpty bool) ([]byte, error) {
	body, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, MaxBodyBytes))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, engine.Errorf(engine.ETOOLARGE, "the body is larger than 1 MiB; split the document")
	}
	if err != nil {
		return nil, engine.Errorf(engine.EINVALID, "the body could not be read")
	}
	if len(bytes.TrimSpace(body)) == 0 {
		if allowEmpty {
			return nil, nil
		}
		return nil, engine.Errorf(engine.EINVALID, "a JSON body is required")
	}
	ct := r.Header.Get("Content-Type")
	mt, params, err := mime.ParseMediaType(ct)
	if ct == "" || err != nil || mt != "application/json" || (params["charset"] != "" && !strings.EqualFold(params["charset"], "utf-8")) {
		return nil, &engine.Error{Code: EMEDIATYPE, Message: fmt.Sprintf("the body must be sent as Content-Type: application/json, not %q", ct)}
	}
	if !utf8.Valid(body) {
		return nil, engine.Errorf(engine.EINVALID, "the body is not valid UTF-8")
	}
	return body, nil
}

// decode decodes a request body into in: a sale through its own direct
// decoder when that takes it (salejson.go), anything else and every
// mistake through decodeStrict.
func decode[T any](body []byte, in *T) error {
	if p, ok := any(in).(*engine.SaleInput); ok && decodeSaleInput(body, p) {
		return nil
	}
	return decodeStrict(body, in)
}

// decodeStrict decodes one JSON object into v, refusing unknown fields,
// server-owned fields, wrong types and trailing data.
func decodeStrict(body []byte, v any) error {
	if body == nil {
		body = []byte("{}")
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return engine.Errorf(engine.EINVALID, "the body must hold exactly one JSON object")
	}
	return nil
}

func decodeError(err error) error {
	var syn *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syn):
		return engine.Errorf(engine.EINVALID, "the body is not valid JSON (at byte %d)", syn.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return engine.Errorf(engine.EINVALID, "the body is not valid JSON (it ends too early)")
	case errors.As(err, &typ):
		field := typ.Field
		if field == "" {
			return engine.Errorf(engine.EINVALID, "the body must be a JSON object")
		}
		return engine.FieldError(field, "must be %s, not %s", jsonType(typ.Type.Kind().String()), typ.Value)
	}
	// The one error recognised by its words: encoding/json has no typed
	// error for a field DisallowUnknownFields refuses, only this message
	// (json: unknown field "name"), the same since Go 1.10. The
	// unknown-field cases of TestErrorCodes and TestBadInputChangesNothing
	// fail if a Go release changes it (the field would no longer be named).
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		name = strings.Trim(name, `"`)
		if serverOwned[name] {
			return engine.FieldError(name, "is set by the server and must not be sent")
		}
		return engine.FieldError(name, "is not a known field of this request")
	}
	var e *engine.Error
	if errors.As(err, &e) {
		return e
	}
	return engine.Errorf(engine.EINVALID, "the body could not be decoded")
}

func jsonType(kind string) string {
	switch kind {
	case "string":
		return "a string"
	case "slice", "array":
		return "an array"
	case "struct", "map":
		return "an object"
	case "bool":
		return "true or false"
	case "ptr", "interface":
		return "a value of another type"
	}
	return "a number"
}
