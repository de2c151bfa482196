package pgstore_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"sync"
	"testing"
	"time"

	"posd/engine"
	"posd/engine/pgstore"
	"posd/engine/pgstore/pgtest"
)

// node is one posd process on the shared database: its own store (pool,
// in-process queues, catalogue cache) and its own engine.
type node struct {
	st  *pgstore.Store
	svc *engine.Service
}

func twoNodes(t *testing.T) (a, b node, owner string, biz *engine.Business, loc *engine.Location) {
	t.Helper()
	u := newDatabase(t)
	a = node{st: openURL(t, u)}
	b = node{st: openURL(t, u)}
	a.svc, b.svc = engine.NewService(a.st), engine.NewService(b.st)
	var err error
	biz, loc, owner, err = a.svc.CreateBusiness(context.Background(), engine.BusinessInput{Name: "Chain", Timezone: "UTC", Currency: "EUR"})
	if err != nil {
		t.Fatal(err)
	}
	return a, b, owner, biz, loc
}

func auth(t *testing.T, n node, secret string) *engine.Actor {
	t.Helper()
	a, err := n.svc.Authenticate(context.Background(), secret)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func product(t *testing.T, n node, a *engine.Actor, sku string, price int) *engine.Product {
	t.Helper()
	out, err := n.svc.CreateProduct(context.Background(), a, engine.IdempotencyKey("p-"+sku), engine.ProductInput{SKU: sku, Name: sku, Price: json.RawMessage(fmt.Sprint(price))})
	if err != nil {
		t.Fatal(err)
	}
	return out.Doc
}

func saleInput(loc, product string) engine.SaleInput {
	return engine.SaleInput{LocationID: loc, Items: []engine.SaleItemInput{{ProductID: product, Quantity: json.RawMessage("1")}},
		Payments: []engine.PaymentInput{{Method: "cash", Amount: json.RawMessage("1000000")}}}
}

// TestTwoProcessesOneBusiness: two stores on one database (two posd
// processes) sell into one business at once. Numbers stay 1..N with no
// duplicate, the sale list is in number order (positions are taken in
// commit order), a key sent to both at once makes one sale, and stock
// equals the ledger.
func TestTwoProcessesOneBusiness(t *testing.T) {
	a, b, owner, biz, loc := twoNodes(t)
	ctx := context.Background()
	actA, actB := auth(t, a, owner), auth(t, b, owner)
	p := product(t, a, actA, "APPLE", 150)
	const writers, each = 16, 25
	var mu sync.Mutex
	var numbers []string
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			n, act := a, actA
			if w%2 == 1 {
				n, act = b, actB
			}
			for i := 0; i < each; i++ {
				out, err := n.svc.CreateSale(ctx, act, engine.IdempotencyKey(fmt.Sprintf("w%d-%d", w, i)), saleInput(loc.ID, p.ID))
				if err != nil {
					t.Errorf("sale: %v", err)
					continue
				}
				mu.Lock()
				numbers = append(numbers, out.Doc.InvoiceNumber)
				mu.Unlock()
			}
		}(w)
	}
	// The same key, sent to both processes at once, many times.
	outs := make([]*engine.Outcome[*engine.Sale], 20)
	for i := range outs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			n, act := a, actA
			if i%2 == 1 {
				n, act = b, actB
			}
			var err error
			if outs[i], err = n.svc.CreateSale(ctx, act, "shared-key", saleInput(loc.ID, p.ID)); err != nil {
				t.Errorf("same-key sale: %v", err)
			}
		}(i)
	}
	wg.Wait()
	first := 0
	for _, o := range outs {
		if o == nil {
			t.FailNow()
		}
		if !o.Replayed {
			first++
		}
		if a, b := o.Doc, outs[0].Doc; !reflect.DeepEqual(a, b) {
			t.Fatalf("same key, two answers:\n%+v\n%+v", a, b)
		}
	}
	if first != 1 {
		t.Errorf("same key on two processes: %d first answers, want 1", first)
	}
	numbers = append(numbers, outs[0].Doc.InvoiceNumber)
	sort.Strings(numbers)
	month := time.Now().UTC().Format("200601")
	for i, n := range numbers {
		if want := fmt.Sprintf("INV-%s-%04d", month, i+1); n != want {
			t.Fatalf("number %d: got %s, want %s (duplicate or gap)", i, n, want)
		}
	}
	// The list, paged from the other process, is in number order.
	var listed []string
	cursor := ""
	for {
		page, next, err := b.svc.Sales(ctx, actB, engine.SaleFilter{Limit: 37, Cursor: cursor})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range page {
			listed = append(listed, s.InvoiceNumber)
		}
		if next == "" {
			break
		}
		cursor = next
	}
	if fmt.Sprint(listed) != fmt.Sprint(numbers) {
		t.Errorf("sale list is not in commit (number) order:\n got %v\nwant %v", listed, numbers)
	}
	rep, err := a.svc.Verify(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if rep.Findings() != 0 {
		for _, c := range rep.Checks {
			t.Errorf("verify %s: %v", c.Name, c.Findings)
		}
	}
	_ = biz
}

// TestCatalogueAcrossProcesses: a product changed through one process is
// what the other sells at next, though it had the old one cached; so is a
// new location, and a revoked token fails at once on both.
func TestCatalogueAcrossProcesses(t *testing.T) {
	a, b, owner, _, loc := twoNodes(t)
	ctx := context.Background()
	actA, actB := auth(t, a, owner), auth(t, b, owner)
	p := product(t, a, actA, "PEAR", 100)
	sell := func(n node, act *engine.Actor, key string) *engine.Sale {
		t.Helper()
		out, err := n.svc.CreateSale(ctx, act, engine.IdempotencyKey(key), saleInput(loc.ID, p.ID))
		if err != nil {
			t.Fatal(err)
		}
		return out.Doc
	}
	if s := sell(b, actB, "s1"); s.Total != 100 {
		t.Fatalf("first sale: total %d, want 100", s.Total)
	}
	price := json.RawMessage("250")
	if _, err := a.svc.UpdateProduct(ctx, actA, p.ID, engine.ProductPatch{Price: price}); err != nil {
		t.Fatal(err)
	}
	if s := sell(b, actB, "s2"); s.Total != 250 {
		t.Errorf("sale on the other process after a price change: total %d, want 250 (stale catalogue)", s.Total)
	}
	lo, err := b.svc.CreateLocation(ctx, actB, "l1", engine.LocationInput{Name: "Branch"})
	if err != nil {
		t.Fatal(err)
	}
	in := saleInput(lo.Doc.ID, p.ID)
	if _, err := a.svc.CreateSale(ctx, actA, "s3", in); err != nil {
		t.Errorf("sale at a location made on the other process: %v", err)
	}
	to, err := a.svc.CreateToken(ctx, actA, "t1", engine.TokenInput{Role: "till", Name: "till"})
	if err != nil {
		t.Fatal(err)
	}
	secret := *to.Doc.Secret
	auth(t, b, secret)
	if err := a.svc.RevokeToken(ctx, actA, to.Doc.ID); err != nil {
		t.Fatal(err)
	}
	for name, n := range map[string]node{"a": a, "b": b} {
		if _, err := n.svc.Authenticate(ctx, secret); engine.ErrorCode(err) != engine.EUNAUTHORIZED {
			t.Errorf("revoked token on %s: got %v, want unauthorized", name, err)
		}
	}
}

// TestRefusesNewerSchema: a database migrated by a newer posd is refused,
// read-only or not; a database without posd's schema is refused read-only.
func TestRefusesNewerSchema(t *testing.T) {
	u := newDatabase(t)
	s := openURL(t, u)
	if err := s.Update(context.Background(), func(tx engine.Tx) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if err := pgstore.ExecForTest(s, "INSERT INTO schema_migrations (version, name) VALUES (99, 'from the future')"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	for _, ro := range []bool{false, true} {
		if _, err := pgstore.Open(context.Background(), u, pgstore.Options{ReadOnly: ro}); !errors.Is(err, pgstore.ErrNewerSchema) {
			t.Errorf("open (read-only %v) of a newer schema: got %v, want ErrNewerSchema", ro, err)
		}
	}
	empty := pgtest.NewDatabase(t, "")
	if _, err := pgstore.Open(context.Background(), empty, pgstore.Options{ReadOnly: true}); !errors.Is(err, pgstore.ErrNotPosd) {
		t.Errorf("read-only open of an empty database: got %v, want ErrNotPosd", err)
	}
}
