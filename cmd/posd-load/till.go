//go:build linux

package main

import (
	"bytes"
	"errors"
	"fmt"
	"hash/fnv"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
)

// Request kinds of the mix.
const (
	kindSale   = iota // a new sale with a new key
	kindRetry         // an acknowledged sale sent again with its key
	kindDouble        // a new sale sent twice at once with one key
	kindRefund        // a refund of one item of an earlier sale
	nKinds
)

var kindNames = [nKinds]string{"sale", "retry", "double", "refund"}

// ack is an acknowledged document, kept for retries, refunds and the
// verification.
type ack struct {
	key     string
	id      string
	number  string
	hash    uint64 // of the first answer's body
	body    []byte // the request, for a retry
	product string // the first line's product, for a refund
}

// till is one simulated till: one request at a time, its own token.
type till struct {
	n      int
	cfg    *Config
	shop   *shop
	auth   string
	rng    *rand.Rand
	window time.Time
	rbuf   bytes.Buffer
	// conn carries the till's requests; aux the second copy of a double
	// submit.
	conn, aux *rawConn

	// Figures inside the measurement window.
	lat      [nKinds][]time.Duration
	counts   [nKinds]int
	requests int
	ok       int
	docs     int
	// Over the whole run.
	errs     map[string]int
	findings []string
	nFinding int
	sales    []ack
	returns  []ack
	// refundable indexes sales not refunded yet.
	refundable []int
	queue      []queued
}

type queued struct {
	key  string
	body []byte
}

func newTill(n int, cfg *Config, s *shop) *till {
	seed := uint64(cfg.Seed)
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t := &till{n: n, cfg: cfg, shop: s, auth: "Bearer " + s.tills[n], rng: rand.New(rand.NewPCG(seed, uint64(n)+1)),
		errs: map[string]int{}}
	url := cfg.URL
	if all := append([]string{cfg.URL}, cfg.AlsoURLs...); len(all) > 1 {
		url = all[n%len(all)] // several posd processes on one database
	}
	t.conn, _ = newRawConn(url, cfg.Timeout)
	t.aux, _ = newRawConn(url, cfg.Timeout)
	return t
}

func (t *till) close() {
	t.conn.close()
	t.aux.close()
}

// prebuild makes the till's queue: what a till holds after a network
// outage, submitted as fast as possible once the server is back.
func (t *till) prebuild(n int) {
	for range n {
		body, _ := t.saleBody()
		t.queue = append(t.queue, queued{key: uuid.NewString(), body: body})
	}
}

// warm opens the till's connection.
func (t *till) warm() {
	t.conn.do("GET", "/api/health", nil, nil, &t.rbuf)
}

func (t *till) loop(stop *atomic.Bool, started *atomic.Int64, window time.Time) {
	t.window = window
	if t.cfg.PerTill > 0 {
		for _, q := range t.queue {
			if stop.Load() {
				return
			}
			t.drainOne(q)
		}
		return
	}
	retry := t.cfg.RetryRate
	double := retry + t.cfg.DoubleRate
	refund := double + t.cfg.RefundRate
	for !stop.Load() {
		if t.cfg.Count > 0 && started.Add(1) > int64(t.cfg.Count) {
			return
		}
		switch r := t.rng.Float64(); {
		case r < retry && len(t.sales) > 0:
			t.retry()
		case r >= retry && r < double:
			t.double()
		case r >= double && r < refund && len(t.refundable) > 0:
			t.refund()
		default:
			t.sale()
		}
	}
}

// saleBody builds a sale of cfg.Lines random lines, paid by card (exact)
// or cash (rounded up to a note, with change).
func (t *till) saleBody() ([]byte, string) { return saleBody(t.rng, t.shop, t.cfg.Lines) }

// saleBody builds a sale of n random lines of s's products, paid by card
// (exact) or cash (rounded up to a note, with change); it also returns the
// first line's product.
func saleBody(rng *rand.Rand, s *shop, n int) ([]byte, string) {
	b := make([]byte, 0, 96+n*80)
	b = append(b, `{"locationId":"`...)
	b = append(b, s.location...)
	b = append(b, `","items":[`...)
	var total int64
	first := ""
	for i := range n {
		p := s.products[rng.IntN(len(s.products))]
		q := int64(1 + rng.IntN(3))
		total += p.price * q
		if i == 0 {
			first = p.id
		} else {
			b = append(b, ',')
		}
		b = append(b, `{"productId":"`...)
		b = append(b, p.id...)
		b = append(b, `","quantity":`...)
		b = strconv.AppendInt(b, q, 10)
		b = append(b, '}')
	}
	if rng.IntN(2) == 0 {
		b = append(b, `],"payments":[{"method":"card","amount":`...)
		b = strconv.AppendInt(b, total, 10)
	} else {
		b = append(b, `],"payments":[{"method":"cash","amount":`...)
		b = strconv.AppendInt(b, (total+499)/500*500, 10)
	}
	b = append(b, `}]}`...)
	return b, first
}

// result is one answer.
type result struct {
	start  time.Time
	lat    time.Duration
	status int
	replay bool
	code   string // error code for a non-2xx answer or a failure
	id     string
	number string
	hash   uint64
}

func (r *result) ok() bool { return r.status >= 200 && r.status < 300 }

// send posts body with key on c and reads the answer into buf.
func (t *till) send(c *rawConn, path, key string, body []byte, buf *bytes.Buffer) result {
	var r result
	hdr := [][2]string{{"Content-Type", "application/json"}, {"Idempotency-Key", key}, {"Authorization", t.auth}}
	r.start = time.Now()
	a, err := c.do("POST", path, hdr, body, buf)
	r.lat = time.Since(r.start)
	if err != nil {
		var ne interface{ Timeout() bool }
		switch {
		case errors.As(err, &ne) && ne.Timeout() || errors.Is(err, os.ErrDeadlineExceeded):
			r.code = "client_timeout"
		case errors.Is(err, errBadAnswer):
			r.code = "bad_answer"
		default:
			r.code = "network_error"
		}
		return r
	}
	r.status = a.status
	b := buf.Bytes()
	if !r.ok() {
		r.code = jsonString(b, `"code":"`)
		if r.code == "" {
			r.code = "http_" + strconv.Itoa(r.status)
		}
		return r
	}
	r.replay = a.replay
	r.id = jsonString(b, `"id":"`)
	if r.number = jsonString(b, `"invoiceNumber":"`); r.number == "" {
		r.number = jsonString(b, `"returnNumber":"`)
	}
	h := fnv.New64a()
	h.Write(b)
	r.hash = h.Sum64()
	return r
}

// jsonString returns the string value after the first occurrence of
// prefix (a key and the opening quote). posd writes a document's own
// fields before its nested ones, so the first "id" is the document's.
func jsonString(b []byte, prefix string) string {
	i := bytes.Index(b, []byte(prefix))
	if i < 0 {
		return ""
	}
	b = b[i+len(prefix):]
	j := bytes.IndexByte(b, '"')
	if j < 0 {
		return ""
	}
	return string(b[:j])
}

// record counts an answer: errors over the whole run, the rest only
// inside the measurement window.
func (t *till) record(kind int, r *result) {
	if !r.ok() {
		t.errs[r.code]++
	}
	if r.start.Before(t.window) {
		return
	}
	t.requests++
	t.counts[kind]++
	t.lat[kind] = append(t.lat[kind], r.lat)
	if r.ok() {
		t.ok++
	}
}

func (t *till) finding(format string, args ...any) {
	t.nFinding++
	if len(t.findings) < 10 {
		t.findings = append(t.findings, fmt.Sprintf("till %d: ", t.n+1)+fmt.Sprintf(format, args...))
	}
}

func (t *till) countDoc(r *result) {
	if !r.start.Before(t.window) {
		t.docs++
	}
}

func (t *till) sale() {
	body, first := t.saleBody()
	key := uuid.NewString()
	r := t.send(t.conn, "/api/sales", key, body, &t.rbuf)
	t.record(kindSale, &r)
	if !r.ok() {
		return
	}
	t.countDoc(&r)
	if r.replay && !t.cfg.Bare {
		t.finding("a new key %s was answered as a replay", key)
	}
	t.acked(ack{key: key, id: r.id, number: r.number, hash: r.hash, body: body, product: first})
}

func (t *till) acked(a ack) {
	if a.id == "" || a.number == "" {
		t.finding("a sale answer without id or invoiceNumber (key %s)", a.key)
		return
	}
	t.sales = append(t.sales, a)
	t.refundable = append(t.refundable, len(t.sales)-1)
}

// retry sends an acknowledged sale again: the answer must be the first
// one, byte for byte, marked as a replay.
func (t *till) retry() {
	a := t.sales[t.rng.IntN(len(t.sales))]
	r := t.send(t.conn, "/api/sales", a.key, a.body, &t.rbuf)
	t.record(kindRetry, &r)
	if !r.ok() || t.cfg.Bare {
		return
	}
	if !r.replay {
		t.finding("a retry of key %s was not answered as a replay", a.key)
	}
	if r.hash != a.hash || r.id != a.id {
		t.finding("a retry of key %s got another answer than the first (id %s, first %s)", a.key, r.id, a.id)
	}
}

// double sends one new sale twice at once, as a till whose cashier taps
// twice: one document, two identical answers, one of them a replay.
func (t *till) double() {
	body, first := t.saleBody()
	key := uuid.NewString()
	var r2 result
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var buf bytes.Buffer
		r2 = t.send(t.aux, "/api/sales", key, body, &buf)
	}()
	r1 := t.send(t.conn, "/api/sales", key, body, &t.rbuf)
	wg.Wait()
	t.record(kindDouble, &r1)
	t.record(kindDouble, &r2)
	var first2xx *result
	switch {
	case r1.ok():
		first2xx = &r1
	case r2.ok():
		first2xx = &r2
	default:
		return
	}
	t.countDoc(first2xx)
	if r1.ok() && r2.ok() && !t.cfg.Bare {
		if r1.id != r2.id || r1.hash != r2.hash {
			t.finding("a double submit of key %s got two different answers (%s, %s)", key, r1.id, r2.id)
		}
		if r1.replay == r2.replay {
			t.finding("a double submit of key %s got replay=%v twice; want one first answer and one replay", key, r1.replay)
		}
	}
	t.acked(ack{key: key, id: first2xx.id, number: first2xx.number, hash: first2xx.hash, body: body, product: first})
}

// refund returns one item of the first line of an earlier sale.
func (t *till) refund() {
	i := t.rng.IntN(len(t.refundable))
	a := t.sales[t.refundable[i]]
	t.refundable[i] = t.refundable[len(t.refundable)-1]
	t.refundable = t.refundable[:len(t.refundable)-1]
	body := append(append([]byte(`{"items":[{"productId":"`), a.product...), `","quantity":1}]}`...)
	key := uuid.NewString()
	r := t.send(t.conn, "/api/sales/"+a.id+"/refund", key, body, &t.rbuf)
	t.record(kindRefund, &r)
	if !r.ok() {
		return
	}
	t.countDoc(&r)
	if t.cfg.Bare {
		return
	}
	if r.id == "" || r.number == "" {
		t.finding("a refund answer without id or returnNumber (key %s)", key)
		return
	}
	t.returns = append(t.returns, ack{key: key, id: r.id, number: r.number, hash: r.hash})
}

// drainOne submits one queued sale, retrying with the same key on a
// failure that may be temporary, as a till's outbox does.
func (t *till) drainOne(q queued) {
	for attempt := 0; ; attempt++ {
		r := t.send(t.conn, "/api/sales", q.key, q.body, &t.rbuf)
		t.record(kindSale, &r)
		if r.ok() {
			t.countDoc(&r)
			if !t.cfg.Bare {
				t.acked(ack{key: q.key, id: r.id, number: r.number, hash: r.hash, body: q.body})
			}
			return
		}
		retryable := r.status == 0 || r.status >= 500 || r.status == 429 || r.code == "idempotency_key_in_progress"
		if !retryable || attempt == 3 {
			t.finding("queued sale %s was not accepted: %s", q.key, r.code)
			return
		}
		time.Sleep(time.Duration(100<<attempt) * time.Millisecond)
	}
}
