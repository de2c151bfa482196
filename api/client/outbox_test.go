package client_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"posd/api"
	"posd/api/client"
	"posd/engine"
	"posd/engine/boltstore"
	"posd/engine/storetest"
)

// posdEnv is a real posd (API over a bbolt store on disk) with the test
// shop (storetest.NewShop): its till token, location and apple, and a
// bread.
type posdEnv struct {
	srv          *httptest.Server
	owner, till  *client.Client
	tillToken    string
	loc          string
	apple, bread *engine.Product
}

// fast is a retry policy with the real rules and short waits, so tests of
// retries take milliseconds.
var fast = client.RetryPolicy{MaxRetries: 3, BaseDelay: 5 * time.Millisecond, MaxDelay: 50 * time.Millisecond, Jitter: 0.2, AttemptTimeout: 10 * time.Second}

func newPosd(t *testing.T) *posdEnv {
	t.Helper()
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "posd.db"), boltstore.Options{})
	must(t, err)
	svc := engine.NewService(st)
	srv := httptest.NewServer(api.NewServer(svc, api.Options{}))
	t.Cleanup(func() {
		srv.Close()
		st.Close()
	})
	shop := storetest.NewShop(t, svc, "Europe/Berlin")
	e := &posdEnv{srv: srv, owner: client.New(srv.URL, shop.OwnerToken), till: client.New(srv.URL, shop.TillToken), tillToken: shop.TillToken,
		loc: shop.Location, apple: shop.Apple}
	e.bread, err = e.owner.CreateProduct(context.Background(), "", client.ProductRequest{SKU: "BREAD", Name: "Bread", Price: 320})
	must(t, err)
	return e
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func (e *posdEnv) sale(p *engine.Product, qty int64) client.SaleRequest {
	return client.SaleRequest{LocationID: e.loc, Items: []client.SaleLine{{ProductID: p.ID, Quantity: engine.Q(qty)}},
		Payments: []engine.Payment{{Method: engine.MethodCash, Amount: 10000}}}
}

func (e *posdEnv) sales(t *testing.T) []*engine.Sale {
	t.Helper()
	all, err := e.owner.AllSales(context.Background())
	must(t, err)
	return all
}

// faultProxy stands between a till and posd. In mode "pass" it forwards;
// "down" closes every connection unanswered, as an unreachable posd does;
// "drop" forwards a POST to posd, waits for posd's whole answer (so the
// write is committed) and then closes the connection instead of answering.
type faultProxy struct {
	srv *httptest.Server
	mu  sync.Mutex
	// mode applies to the next requests; drops counts down "drop" answers
	// before the proxy passes again (-1: drop forever).
	mode  string
	drops int
	posts []string // Idempotency-Key of every POST that reached the proxy
}

func newFaultProxy(t *testing.T, upstream string) *faultProxy {
	t.Helper()
	u, err := url.Parse(upstream)
	must(t, err)
	p := &faultProxy{mode: "pass"}
	rp := httputil.NewSingleHostReverseProxy(u)
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		mode := p.mode
		if r.Method == http.MethodPost {
			p.posts = append(p.posts, r.Header.Get("Idempotency-Key"))
			if mode == "drop" {
				if p.drops > 0 {
					p.drops--
				}
				if p.drops == 0 {
					p.mode = "pass"
				}
			}
		}
		p.mu.Unlock()
		switch {
		case mode == "down":
			hangUp(w)
		case mode == "drop" && r.Method == http.MethodPost:
			rec := httptest.NewRecorder()
			rp.ServeHTTP(rec, r) // posd answers (and has committed)…
			hangUp(w)            // …and the answer is lost on the way back
		default:
			rp.ServeHTTP(w, r)
		}
	}))
	t.Cleanup(p.srv.Close)
	return p
}

func hangUp(w http.ResponseWriter) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err == nil {
		conn.Close()
	}
}

func (p *faultProxy) set(mode string, drops int) {
	p.mu.Lock()
	p.mode, p.drops = mode, drops
	p.mu.Unlock()
}

func (p *faultProxy) postKeys() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.posts...)
}

func (e *posdEnv) outbox(t *testing.T, path, baseURL string) *client.Outbox {
	t.Helper()
	c := client.New(baseURL, e.tillToken)
	c.Retry = &fast
	o, err := client.OpenOutbox(path, c)
	must(t, err)
	t.Cleanup(func() { o.Close() })
	return o
}

// The answer to a committed sale is lost on the way back: the outbox
// retries with the same key, posd replays its answer, one sale exists.
func TestOutboxLostResponseAfterCommit(t *testing.T) {
	e := newPosd(t)
	p := newFaultProxy(t, e.srv.URL)
	o := e.outbox(t, filepath.Join(t.TempDir(), "outbox"), p.srv.URL)
	p.set("drop", 1)

	sale, entry, err := o.CreateSale(context.Background(), e.sale(e.apple, 2))
	must(t, err)
	if !entry.Replayed {
		t.Errorf("entry.Replayed = false; the second attempt should have been answered from posd's record")
	}
	keys := p.postKeys()
	if len(keys) != 2 || keys[0] != entry.Key || keys[1] != entry.Key {
		t.Errorf("POSTs seen by the proxy: %q, want two with key %q", keys, entry.Key)
	}
	all := e.sales(t)
	if len(all) != 1 {
		t.Fatalf("posd holds %d sales, want 1", len(all))
	}
	if all[0].InvoiceNumber != sale.InvoiceNumber || all[0].ID != sale.ID {
		t.Errorf("answer names %s/%s, posd holds %s/%s", sale.ID, sale.InvoiceNumber, all[0].ID, all[0].InvoiceNumber)
	}
	if n := len(o.Pending()); n != 0 {
		t.Errorf("%d entries still queued", n)
	}
}

// A till crashes after posd committed its sale but before it got the
// answer. At the next start the reopened outbox sends the sale again with
// the same key: posd replays, and there is exactly one sale.
func TestOutboxRestartResubmitsWithSameKey(t *testing.T) {
	e := newPosd(t)
	p := newFaultProxy(t, e.srv.URL)
	path := filepath.Join(t.TempDir(), "outbox")
	o := e.outbox(t, path, p.srv.URL)
	p.set("drop", -1)

	_, entry, err := o.CreateSale(context.Background(), e.sale(e.bread, 1))
	if !errors.Is(err, client.ErrQueued) {
		t.Fatalf("CreateSale with every answer lost: err = %v, want ErrQueued", err)
	}
	if got := len(p.postKeys()); got != 1+fast.MaxRetries {
		t.Errorf("proxy saw %d POSTs, want %d (first try and every retry)", got, 1+fast.MaxRetries)
	}
	if n := len(e.sales(t)); n != 1 {
		t.Fatalf("posd holds %d sales after the lost answers, want 1 (the first attempt committed)", n)
	}
	must(t, o.Close()) // the till goes down

	o2 := e.outbox(t, path, e.srv.URL) // it comes back, and posd is reachable
	pending := o2.Pending()
	if len(pending) != 1 || pending[0].Key != entry.Key {
		t.Fatalf("reopened outbox holds %v, want the one entry with key %s", pending, entry.Key)
	}
	must(t, o2.Flush(context.Background()))
	got, ok := o2.Entry(entry.Key)
	if !ok || got.State != client.EntryDone || got.Status != http.StatusCreated || !got.Replayed {
		t.Fatalf("entry after flush: %+v, want done, 201, replayed", got)
	}
	var s engine.Sale
	must(t, json.Unmarshal(got.Answer, &s))
	all := e.sales(t)
	if len(all) != 1 || all[0].InvoiceNumber != s.InvoiceNumber {
		t.Fatalf("posd holds %d sales (%v); the outbox's answer names %s", len(all), all, s.InvoiceNumber)
	}

	// The answer is on disk: a third start still knows it, and sends nothing.
	must(t, o2.Close())
	o3 := e.outbox(t, path, e.srv.URL)
	if got, ok := o3.Entry(entry.Key); !ok || got.State != client.EntryDone {
		t.Errorf("third open: entry %+v, want done", got)
	}
	if n := len(o3.Pending()); n != 0 {
		t.Errorf("third open: %d pending, want 0", n)
	}
}

// Sales rung up while posd is down wait in the outbox, in order, and go out
// in that order once it is back.
func TestOutboxQueuesWhilePosdIsDownThenSendsInOrder(t *testing.T) {
	e := newPosd(t)
	p := newFaultProxy(t, e.srv.URL)
	o := e.outbox(t, filepath.Join(t.TempDir(), "outbox"), p.srv.URL)
	p.set("down", 0)
	var keys []string
	for i := range 3 {
		_, entry, err := o.CreateSale(context.Background(), e.sale(e.apple, int64(i+1)))
		if !errors.Is(err, client.ErrQueued) {
			t.Fatalf("sale %d while posd is down: err = %v, want ErrQueued", i, err)
		}
		keys = append(keys, entry.Key)
	}
	if n := len(e.sales(t)); n != 0 {
		t.Fatalf("posd holds %d sales while unreachable", n)
	}
	p.set("pass", 0)
	before := len(p.postKeys())
	must(t, o.Flush(context.Background()))
	sent := p.postKeys()[before:]
	if strings.Join(sent, ",") != strings.Join(keys, ",") {
		t.Errorf("sent %v, want %v in that order", sent, keys)
	}
	all := e.sales(t)
	if len(all) != 3 {
		t.Fatalf("posd holds %d sales, want 3", len(all))
	}
	for i, s := range all {
		if want := engine.Q(int64(i + 1)); s.Items[0].Quantity != want {
			t.Errorf("sale %d has quantity %s, want %s", i, s.Items[0].Quantity, want)
		}
	}
}

// A queued sale posd refuses (its product was archived meanwhile) is parked,
// kept and exportable; the sale queued after it still goes through.
func TestOutboxParksRefusedEntryAndGoesOn(t *testing.T) {
	e := newPosd(t)
	p := newFaultProxy(t, e.srv.URL)
	path := filepath.Join(t.TempDir(), "outbox")
	o := e.outbox(t, path, p.srv.URL)
	ctx := context.Background()
	p.set("down", 0)
	_, bad, err := o.CreateSale(ctx, e.sale(e.apple, 1))
	if !errors.Is(err, client.ErrQueued) {
		t.Fatal(err)
	}
	_, good, err := o.CreateSale(ctx, e.sale(e.bread, 1))
	if !errors.Is(err, client.ErrQueued) {
		t.Fatal(err)
	}
	archived := true
	_, err = e.owner.UpdateProduct(ctx, e.apple.ID, client.ProductPatch{Archived: &archived})
	must(t, err)
	p.set("pass", 0)

	must(t, o.Flush(ctx))
	parked := o.Parked()
	if len(parked) != 1 || parked[0].Key != bad.Key || parked[0].Status != http.StatusNotFound {
		t.Fatalf("parked = %+v, want the archived-product sale, 404", parked)
	}
	if !errors.Is(parked[0].Err(), engine.ErrNotFound) {
		t.Errorf("parked error = %v, want not_found", parked[0].Err())
	}
	if got, _ := o.Entry(good.Key); got.State != client.EntryDone {
		t.Errorf("the later sale is %s, want done", got.State)
	}
	all := e.sales(t)
	if len(all) != 1 || all[0].Items[0].ProductID != e.bread.ID {
		t.Fatalf("posd holds %v, want the bread sale only", all)
	}
	// A parked entry is never sent again, survives a restart and exports.
	n := len(p.postKeys())
	must(t, o.Flush(ctx))
	if len(p.postKeys()) != n {
		t.Errorf("a flush with only a parked entry sent %d requests", len(p.postKeys())-n)
	}
	must(t, o.Close())
	o2 := e.outbox(t, path, e.srv.URL)
	var buf bytes.Buffer
	must(t, o2.ExportParked(&buf))
	var exported []client.Entry
	must(t, json.Unmarshal(buf.Bytes(), &exported))
	if len(exported) != 1 || exported[0].Key != bad.Key || !strings.Contains(string(exported[0].Answer), "not_found") {
		t.Errorf("export after restart: %s", buf.Bytes())
	}
}

// A 401 stops the queue without parking: the token is wrong, not the sale.
func TestOutboxUnauthorizedStopsWithoutParking(t *testing.T) {
	e := newPosd(t)
	c := client.New(e.srv.URL, "posd_not-a-token")
	c.Retry = &fast
	o, err := client.OpenOutbox(filepath.Join(t.TempDir(), "outbox"), c)
	must(t, err)
	defer o.Close()
	_, entry, err := o.CreateSale(context.Background(), e.sale(e.apple, 1))
	if !errors.Is(err, engine.ErrUnauthorized) {
		t.Fatalf("err = %v, want unauthorized", err)
	}
	if entry.State != client.EntryQueued || len(o.Parked()) != 0 || len(o.Pending()) != 1 {
		t.Errorf("entry %s, %d parked, %d pending; want it still queued", entry.State, len(o.Parked()), len(o.Pending()))
	}
}

// A crash while a line was being written leaves a torn tail, which the next
// open drops (that entry was never acknowledged); damage in the middle of
// the file is reported, never silently skipped.
func TestOutboxFileDamage(t *testing.T) {
	e := newPosd(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "outbox")
	p := newFaultProxy(t, e.srv.URL)
	p.set("down", 0)
	o := e.outbox(t, path, p.srv.URL)
	entry, err := o.Add(http.MethodPost, "/api/sales", e.sale(e.apple, 1))
	must(t, err)
	must(t, o.Close())

	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	must(t, err)
	_, err = f.WriteString(`{"op":"add","entry":{"key":"torn`)
	must(t, err)
	must(t, f.Close())
	o2 := e.outbox(t, path, e.srv.URL)
	if pend := o2.Pending(); len(pend) != 1 || pend[0].Key != entry.Key {
		t.Fatalf("after a torn tail: pending %v, want only %s", pend, entry.Key)
	}
	must(t, o2.Flush(context.Background()))
	if n := len(e.sales(t)); n != 1 {
		t.Errorf("posd holds %d sales, want 1", n)
	}
	must(t, o2.Close())

	b, err := os.ReadFile(path)
	must(t, err)
	must(t, os.WriteFile(path, append([]byte("garbage\n"), b...), 0o600))
	if _, err := client.OpenOutbox(path, e.till); err == nil {
		t.Fatal("opening an outbox damaged in the middle succeeded")
	}
}

// Two goroutines sending at once: each sale once, none lost.
func TestOutboxConcurrentSends(t *testing.T) {
	e := newPosd(t)
	o := e.outbox(t, filepath.Join(t.TempDir(), "outbox"), e.srv.URL)
	var wg sync.WaitGroup
	errs := make(chan error, 10)
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, _, err := o.CreateSale(context.Background(), e.sale(e.apple, int64(i+1)))
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		must(t, err)
	}
	if n := len(e.sales(t)); n != 10 {
		t.Errorf("posd holds %d sales, want 10", n)
	}
}

// A till's whole shift while posd is down: opened with a float, a sale, a
// pay-out and the close, all queued in the outbox with the till's times.
// When posd is back the outbox sends them in order, and the shift's cash
// is the one the till saw: the sale is in the shift, the close counts it.
func TestOutboxShiftWhilePosdIsDown(t *testing.T) {
	e := newPosd(t)
	p := newFaultProxy(t, e.srv.URL)
	o := e.outbox(t, filepath.Join(t.TempDir(), "outbox"), p.srv.URL)
	ctx := context.Background()
	p.set("down", 0)
	at := time.Date(2026, 11, 20, 17, 0, 0, 0, time.UTC)
	send := func(path string, body any) {
		t.Helper()
		if _, err := o.Send(ctx, "POST", path, body); !errors.Is(err, client.ErrQueued) {
			t.Fatalf("%s while posd is down: %v, want ErrQueued", path, err)
		}
	}
	send("/api/shifts", client.ShiftRequest{LocationID: e.loc, Float: 5000, At: &at})
	sale := e.sale(e.bread, 1) // 3.20 paid with 100.00: 96.80 change
	sale.SoldAt = &at
	send("/api/sales", sale)
	send("/api/shifts/current/cash-movements", client.CashMovementRequest{Type: engine.PayOut, Amount: 200, Reason: "stamps", At: &at})
	counted := engine.Money(5000 + 320 - 200)
	send("/api/shifts/current/close", client.CloseShiftRequest{Counted: &counted, At: &at})
	if n := len(o.Pending()); n != 4 {
		t.Fatalf("queued: %d, want 4", n)
	}
	p.set("pass", 0)
	must(t, o.Flush(ctx))
	if n := len(o.Pending()); n != 0 {
		t.Fatalf("still queued after the flush: %d", n)
	}
	shifts, err := e.owner.Shifts(ctx, e.loc, "")
	must(t, err)
	if len(shifts) != 1 {
		t.Fatalf("shifts: %d, want 1", len(shifts))
	}
	sh := shifts[0]
	if sh.Status != engine.ShiftClosed || sh.Cash.Sales != 1 || sh.Cash.Expected != counted || *sh.Cash.Difference != 0 || !sh.Opened.At.Equal(at) || !sh.Closed.At.Equal(at) {
		t.Errorf("the shift after the queue drained: %s, %+v, opened %s closed %s", sh.Status, sh.Cash, sh.Opened.At, sh.Closed.At)
	}
	all := e.sales(t)
	if len(all) != 1 || all[0].ShiftID != sh.ID || all[0].SoldAt == nil || !all[0].SoldAt.Equal(at) {
		t.Errorf("the sale: %+v", all)
	}
}
