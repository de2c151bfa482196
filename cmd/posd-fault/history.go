//go:build linux

package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"sort"
	"sync"
	"time"
)

// Attempt is one HTTP request a till sent, as the till saw it: the
// harness's history is made of these, recorded below the Go client so that
// every retry the client makes is in it.
type Attempt struct {
	Shop     int
	Till     string
	Method   string
	Path     string
	Key      string
	BodyHash string
	Call     time.Time // just before the request left
	Answer   time.Time // when the whole answer was read, or the error came
	Status   int       // 0: no answer (connection refused, reset, timeout)
	Code     string    // the contract's error code of a refusal
	Err      string
	Replayed bool
	DocID    string
	Number   string
}

// OK reports whether the attempt got a 2xx answer.
func (a *Attempt) OK() bool { return a.Status >= 200 && a.Status < 300 }

// History is every attempt of a run, safe for concurrent use.
type History struct {
	mu       sync.Mutex
	attempts []*Attempt
}

func (h *History) add(a *Attempt) {
	h.mu.Lock()
	h.attempts = append(h.attempts, a)
	h.mu.Unlock()
}

// Attempts returns a copy of the attempts, in call order.
func (h *History) Attempts() []*Attempt {
	h.mu.Lock()
	out := append([]*Attempt(nil), h.attempts...)
	h.mu.Unlock()
	sort.SliceStable(out, func(i, j int) bool { return out[i].Call.Before(out[j].Call) })
	return out
}

// Len is the number of attempts so far.
func (h *History) Len() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.attempts)
}

// recorder is the http.RoundTripper under each till's client: it records
// every attempt with what the till sent and what came back.
type recorder struct {
	h    *History
	shop int
	till string
	base http.RoundTripper
}

func (r *recorder) RoundTrip(req *http.Request) (*http.Response, error) {
	a := &Attempt{Shop: r.shop, Till: r.till, Method: req.Method, Path: req.URL.Path, Key: req.Header.Get("Idempotency-Key")}
	if req.Body != nil && req.GetBody != nil {
		if b, err := req.GetBody(); err == nil {
			body, _ := io.ReadAll(b)
			sum := sha256.Sum256(body)
			a.BodyHash = hex.EncodeToString(sum[:8])
		}
	}
	a.Call = time.Now()
	res, err := r.base.RoundTrip(req)
	if err != nil {
		a.Answer, a.Err = time.Now(), err.Error()
		r.record(a)
		return nil, err
	}
	body, err := io.ReadAll(res.Body)
	res.Body.Close()
	a.Answer = time.Now()
	if err != nil {
		// The status line came but the body did not: for the till, that is
		// no answer at all, and the client will retry.
		a.Err = "reading the answer: " + err.Error()
		r.record(a)
		return nil, err
	}
	a.Status = res.StatusCode
	a.Replayed = res.Header.Get("X-Idempotent-Replay") == "true"
	var doc struct {
		ID             string          `json:"id"`
		InvoiceNumber  string          `json:"invoiceNumber"`
		ReturnNumber   string          `json:"returnNumber"`
		ReceiptNumber  *string         `json:"receiptNumber"`
		TransferNumber *string         `json:"transferNumber"`
		Error          json.RawMessage `json:"error"`
	}
	if json.Unmarshal(body, &doc) == nil {
		a.DocID = doc.ID
		switch {
		case doc.InvoiceNumber != "":
			a.Number = doc.InvoiceNumber
		case doc.ReturnNumber != "":
			a.Number = doc.ReturnNumber
		case doc.ReceiptNumber != nil:
			a.Number = *doc.ReceiptNumber
		case doc.TransferNumber != nil:
			a.Number = *doc.TransferNumber
		}
		if len(doc.Error) > 0 {
			var e struct{ Code string }
			json.Unmarshal(doc.Error, &e)
			a.Code = e.Code
			a.DocID = ""
		}
	}
	r.record(a)
	res.Body = io.NopCloser(bytes.NewReader(body))
	return res, nil
}

func (r *recorder) record(a *Attempt) {
	if a.Method == http.MethodPost {
		r.h.add(a)
	}
}
