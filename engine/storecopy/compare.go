package storecopy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"time"

	"posd/engine"
)

// Report is what Compare found.
type Report struct {
	// Counts holds, per kind of object, how many each store has.
	Counts map[string][2]int
	// Findings names the differences (at most MaxFindings of them);
	// Omitted counts those left out.
	Findings []string
	Omitted  int
}

// MaxFindings bounds the differences a Report lists.
const MaxFindings = 20

// Same reports whether the two stores hold the same.
func (r *Report) Same() bool { return len(r.Findings) == 0 }

// Kinds lists the kinds of Counts in a stable order.
func (r *Report) Kinds() []string {
	var ks []string
	for k := range r.Counts {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func (r *Report) find(format string, args ...any) {
	if len(r.Findings) < MaxFindings {
		r.Findings = append(r.Findings, fmt.Sprintf(format, args...))
	} else {
		r.Omitted++
	}
}

// item is one object as Compare sees it: its kind, a name for messages and
// the digest of its canonical form.
type item struct {
	group, biz, kind, name string
	sum                    [32]byte
}

// Compare walks a and b, each in one View, side by side, and reports every
// object that differs, is missing on one side or is extra: businesses,
// locations, products, tokens (with their hashes), every document (whole,
// so a hash chain's fields are compared with the rest), the sale list's
// order, every movement in ledger order, stock levels, series counters,
// number claims and idempotency records with their stored answers. Times
// outside documents are compared to the microsecond, the precision
// PostgreSQL keeps.
func Compare(ctx context.Context, a, b engine.Store) (*Report, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ca, cb := make(chan item, 1024), make(chan item, 1024)
	errc := make(chan error, 2)
	for _, side := range []struct {
		st engine.Store
		ch chan item
	}{{a, ca}, {b, cb}} {
		go func() {
			defer close(side.ch)
			sink := &digestSink{ctx: ctx, out: side.ch}
			errc <- engine.Scan(ctx, side.st, func(tx engine.ScanTx) error { return Walk(ctx, tx, sink) })
		}()
	}
	rep := &Report{Counts: map[string][2]int{}}
	ra, rb := &reader{ch: ca}, &reader{ch: cb}
	for {
		x, okA := ra.peek()
		y, okB := rb.peek()
		switch {
		case !okA && !okB:
		case okA && (!okB || x.group < y.group):
			g := ra.group()
			rep.count(0, g)
			rep.find("%d %s of business %s are missing from the target", len(g), g[0].kind, g[0].biz)
			continue
		case okB && (!okA || y.group < x.group):
			g := rb.group()
			rep.count(1, g)
			rep.find("%d %s of business %s are in the target only", len(g), g[0].kind, g[0].biz)
			continue
		default:
			rep.compareGroup(ra, rb)
			continue
		}
		break
	}
	for range 2 {
		if err := <-errc; err != nil {
			return nil, err
		}
	}
	for _, k := range rep.Kinds() {
		if c := rep.Counts[k]; c[0] != c[1] {
			rep.Findings = append([]string{fmt.Sprintf("%s: %d in the source, %d in the target", k, c[0], c[1])}, rep.Findings...)
		}
	}
	return rep, nil
}

func (r *Report) count(side int, g []item) {
	if len(g) == 0 {
		return
	}
	c := r.Counts[g[0].kind]
	c[side] += len(g)
	r.Counts[g[0].kind] = c
}

// compareGroup compares one group (a kind of one business) of both sides:
// in step while they agree, then, from the first difference, by name, so
// that one missing or extra object is reported as such and not as every
// object after it being different.
func (r *Report) compareGroup(ra, rb *reader) {
	g := ra.items[0].group
	for {
		x, okA := ra.peek()
		y, okB := rb.peek()
		okA, okB = okA && x.group == g, okB && y.group == g
		if !okA || !okB || x.name != y.name {
			break
		}
		ra.next()
		rb.next()
		r.count(0, []item{x})
		r.count(1, []item{y})
		if x.sum != y.sum {
			r.find("%s %s of business %s differs", x.kind, x.name, x.biz)
		}
	}
	restA, restB := ra.groupOf(g), rb.groupOf(g)
	r.count(0, restA)
	r.count(1, restB)
	inB := make(map[string][32]byte, len(restB))
	for _, y := range restB {
		inB[y.name] = y.sum
	}
	for _, x := range restA {
		sum, ok := inB[x.name]
		switch {
		case !ok:
			r.find("%s %s of business %s is missing from the target", x.kind, x.name, x.biz)
		case sum != x.sum:
			r.find("%s %s of business %s differs", x.kind, x.name, x.biz)
		default:
			switch x.kind {
			case "sale", "return", "shift", "Z report":
				r.find("%s %s of business %s is at another place in the target's list", x.kind, x.name, x.biz)
			}
		}
		delete(inB, x.name)
	}
	for _, y := range restB {
		if _, ok := inB[y.name]; ok {
			r.find("%s %s of business %s is in the target only", y.kind, y.name, y.biz)
		}
	}
}

// reader reads one side's items with one of look-ahead.
type reader struct {
	ch    <-chan item
	items []item
	done  bool
}

func (r *reader) peek() (item, bool) {
	if len(r.items) == 0 && !r.done {
		it, ok := <-r.ch
		if !ok {
			r.done = true
		} else {
			r.items = append(r.items, it)
		}
	}
	if len(r.items) == 0 {
		return item{}, false
	}
	return r.items[0], true
}

func (r *reader) next() { r.items = r.items[1:] }

// groupOf reads the rest of group g.
func (r *reader) groupOf(g string) []item {
	var out []item
	for {
		it, ok := r.peek()
		if !ok || it.group != g {
			return out
		}
		out = append(out, it)
		r.next()
	}
}

// group reads the whole group that comes next.
func (r *reader) group() []item {
	it, _ := r.peek()
	return r.groupOf(it.group)
}

// kindOrder is the order in which Walk gives the kinds of one business.
var kindOrder = map[string]int{"business": 0, "location": 1, "product": 2, "token": 3, "sale": 4, "return": 5, "receipt": 6,
	"transfer": 7, "movement": 8, "idempotency record": 9, "adjustment": 10, "stock level": 11, "series": 12, "number": 13,
	"chain head": 14, "pairing": 15, "till status": 16, "product import": 17, "cashier": 18, "approval": 19, "shift": 20, "Z report": 21}

// digestSink turns what Walk gives into items.
type digestSink struct {
	ctx  context.Context
	out  chan<- item
	biz  string
	move int
}

func (d *digestSink) emit(kind, name string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	select {
	case d.out <- item{group: fmt.Sprintf("%s\x00%02d", d.biz, kindOrder[kind]), biz: d.biz, kind: kind, name: name, sum: sha256.Sum256(b)}:
		return nil
	case <-d.ctx.Done():
		return d.ctx.Err()
	}
}

// micro is a time as PostgreSQL keeps it.
func micro(t time.Time) string { return t.UTC().Truncate(time.Microsecond).Format(time.RFC3339Nano) }

func (d *digestSink) Business(b *engine.Business) error {
	d.biz, d.move = b.ID, 0
	return d.emit("business", b.ID, b)
}
func (d *digestSink) Location(l *engine.Location) error { return d.emit("location", l.ID, l) }
func (d *digestSink) Product(p *engine.Product) error   { return d.emit("product", p.ID, p) }
func (d *digestSink) Token(t *engine.Token) error {
	return d.emit("token", t.ID, struct {
		T    *engine.Token
		Hash string
	}{t, hex.EncodeToString(t.Hash[:])})
}
func (d *digestSink) Sale(s *engine.Sale) error { return d.emit("sale", s.InvoiceNumber+" "+s.ID, s) }
func (d *digestSink) Return(r *engine.Return) error {
	return d.emit("return", r.ReturnNumber+" "+r.ID, r)
}
func (d *digestSink) Receipt(r *engine.Receipt) error   { return d.emit("receipt", r.ID, r) }
func (d *digestSink) Transfer(t *engine.Transfer) error { return d.emit("transfer", t.ID, t) }
func (d *digestSink) Adjustment(a *engine.Adjustment) error {
	return d.emit("adjustment", a.ID, a)
}
func (d *digestSink) Movement(m *engine.Movement) error {
	d.move++
	return d.emit("movement", "#"+strconv.Itoa(d.move), []any{m.LocationID, m.ProductID, m.Quantity, m.Doc, micro(m.At)})
}
func (d *digestSink) Stock(biz, loc string, l engine.StockLevel) error {
	return d.emit("stock level", loc+"/"+l.ProductID, l.Quantity)
}
func (d *digestSink) Counter(biz string, s engine.Series, last uint64) error {
	return d.emit("series", string(s), last)
}
func (d *digestSink) Number(biz, number string, ref engine.DocRef) error {
	return d.emit("number", number, ref)
}
func (d *digestSink) Idempotency(r *engine.IdempotencyRecord) error {
	// The answer is compared as the document it is (its JSON), so a
	// store that keeps it in another encoding compares equal.
	return d.emit("idempotency record", strconv.Quote(r.Key), []any{r.Op, r.Target, hex.EncodeToString(r.Hash), r.Version, r.Doc, micro(r.CreatedAt), micro(r.ExpiresAt), r.Answer})
}
func (d *digestSink) ChainHead(biz string, s engine.Series, h engine.ChainHead) error {
	return d.emit("chain head", string(s), h)
}
func (d *digestSink) Pairing(p *engine.Pairing) error {
	return d.emit("pairing", p.ID, struct {
		P    *engine.Pairing
		Hash string
	}{p, hex.EncodeToString(p.Hash[:])})
}
func (d *digestSink) TillStatus(s *engine.TillStatus) error {
	return d.emit("till status", s.TillID, []any{s, micro(s.LastSeenAt)})
}
func (d *digestSink) ProductImport(r *engine.ImportReport) error {
	return d.emit("product import", r.ID, r)
}
func (d *digestSink) Cashier(c *engine.Cashier) error {
	// The PIN's key and scheme are json:"-": compared beside the rest.
	return d.emit("cashier", c.ID, []any{c, hex.EncodeToString(c.PIN[:]), c.PINScheme})
}
func (d *digestSink) Approval(a *engine.Approval) error { return d.emit("approval", a.ID, a) }
func (d *digestSink) Shift(s *engine.Shift) error       { return d.emit("shift", s.ID, s) }
func (d *digestSink) ZReport(z *engine.ZReport) error {
	return d.emit("Z report", z.ZNumber+" "+z.ID, z)
}
func (d *digestSink) Done(string) error { return nil }

// Digest is one hash of everything st holds, as Walk reads it: two stores
// with the same digest hold the same. Tests use it to show that a refused
// request changed nothing.
func Digest(ctx context.Context, st engine.Store) ([]byte, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	ch := make(chan item, 1024)
	errc := make(chan error, 1)
	go func() {
		defer close(ch)
		sink := &digestSink{ctx: ctx, out: ch}
		errc <- engine.Scan(ctx, st, func(tx engine.ScanTx) error { return Walk(ctx, tx, sink) })
	}()
	h := sha256.New()
	for it := range ch {
		h.Write([]byte(it.group + "\x00" + it.name + "\x00"))
		h.Write(it.sum[:])
	}
	if err := <-errc; err != nil {
		return nil, err
	}
	return h.Sum(nil), nil
}
