//go:build linux

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"posd/engine"
)

// bareHandler is the ceiling of any HTTP design on this machine: it reads
// and strictly decodes a sale request the way posd does, and answers a
// sale of the same shape and size, but keeps nothing: no auth, no
// database, no fsync.
type bareHandler struct {
	n atomic.Uint64
}

func (h *bareHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == "GET" {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"status":"ok"}`)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		http.Error(w, `{"error":{"code":"invalid_request","message":"unreadable body"}}`, http.StatusBadRequest)
		return
	}
	var in engine.SaleInput
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&in); err != nil {
		http.Error(w, `{"error":{"code":"invalid_request","message":"bad JSON"}}`, http.StatusBadRequest)
		return
	}
	n := h.n.Add(1)
	now := time.Now().UTC().Truncate(time.Millisecond)
	s := engine.Sale{ID: engine.NewID(now), InvoiceNumber: engine.FormatNumber("INV-"+engine.Series(now.Format("200601")), n),
		LocationID: in.LocationID, Currency: "EUR", CreatedAt: now, TokenID: "0190c0de-0000-7000-8000-000000000000", Returns: []string{}}
	for _, it := range in.Items {
		q, _ := strconv.ParseInt(string(it.Quantity), 10, 64)
		l := engine.SaleLine{ProductID: it.ProductID, SKU: "LOAD-00000", Name: "Load product", Quantity: engine.Q(q), UnitPrice: 250, TaxRate: 2000}
		l.LineTotal = l.UnitPrice * engine.Money(q)
		l.TaxAmount = l.LineTotal / 6
		s.Items = append(s.Items, l)
		s.Total += l.LineTotal
		s.TaxTotal += l.TaxAmount
	}
	for _, p := range in.Payments {
		a, _ := strconv.ParseInt(string(p.Amount), 10, 64)
		s.Payments = append(s.Payments, engine.Payment{Method: p.Method, Amount: engine.Money(a)})
		s.Paid += engine.Money(a)
	}
	out, err := json.Marshal(&s)
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusCreated)
	w.Write(out)
}

// floorHandler is the floor of any net/http design on this machine: it
// reads the request and its body and answers 201 with posd's three answer
// headers and a body the size of posd's answer to a 3-line sale, made
// once. No JSON is decoded or encoded, nothing is kept. What a server
// spends per request beyond this is its own work; what this costs is
// net/http's and the kernel's (loopback TCP), which no handler avoids.
type floorHandler struct{ answer []byte }

// floorAnswerSize is the length of posd's answer to the load's 3-line sale
// (with its hash and previous hash).
const floorAnswerSize = 1122

func newFloorHandler() *floorHandler {
	b := make([]byte, floorAnswerSize)
	for i := range b {
		b[i] = 'x'
	}
	b[0], b[len(b)-1] = '{', '}'
	return &floorHandler{answer: b}
}

var (
	floorJSON    = []string{"application/json; charset=utf-8"}
	floorNoStore = []string{"no-store"}
	floorNoSniff = []string{"nosniff"}
	floorBuf     = sync.Pool{New: func() any { b := make([]byte, 4096); return &b }}
)

func (h *floorHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	bp := floorBuf.Get().(*[]byte)
	for {
		if _, err := r.Body.Read(*bp); err != nil {
			break
		}
	}
	floorBuf.Put(bp)
	hd := w.Header()
	hd["Content-Type"], hd["Cache-Control"], hd["X-Content-Type-Options"] = floorJSON, floorNoStore, floorNoSniff
	if r.Method == "GET" {
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, `{"status":"ok"}`)
		return
	}
	w.WriteHeader(http.StatusCreated)
	w.Write(h.answer)
}

func runBare(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bare-server", "[--listen ADDR] [--floor]", stderr)
	listen := fs.String("listen", "127.0.0.1:8090", "address to listen on")
	floor := fs.Bool("floor", false, "no JSON at all: read the body, answer a fixed body of posd's size (the floor of net/http and the kernel)")
	if err := parse(fs, args); err != nil {
		return err
	}
	var handler http.Handler = &bareHandler{}
	if *floor {
		handler = newFloorHandler()
	}
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: handler, ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stdout, "bare-server listening on http://%s\n", ln.Addr())
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); err != http.ErrServerClosed {
		return err
	}
	return nil
}
