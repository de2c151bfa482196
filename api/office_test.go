package api_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"posd/api/client"
	"posd/engine"
	"posd/engine/storetest/backends"
)

func productCount(t *testing.T, c *client.Client) int {
	t.Helper()
	ps, err := c.Products(context.Background(), true)
	must(t, err)
	return len(ps)
}

// TestProductImport walks the CSV import as an owner would: a file with
// bad rows is refused whole with every bad row listed; fixed, it imports;
// the same file again changes nothing; a changed price is one change; a
// lost answer replays.
func TestProductImport(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	m := e.shop.manager
	before := productCount(t, m)
	bad := "sku,name,price,taxRate\n" +
		"4006381333931,Apple,1.50,20\n" +
		"4006381333931,Apple again,1.60,20\n" + // duplicate SKU
		"5000112548167,Bread,\"12,5€\",10\n" + // price with a comma and a euro sign
		"2000000000015,Cheese,19.99,VAT20\n" + // unknown tax rate
		"7610000000001,,2.00,7.7\n" + // missing name
		"7610000000002,\"Tea, green\",3.2,7.7\n"
	ops := backends.Commits(e.store).Operations
	rep, _, err := m.ImportProducts(ctx, "", client.ImportRequest{CSV: bad, DryRun: true})
	must(t, err)
	want := map[int]string{3: "sku", 4: "price", 5: "taxRate", 6: "name"}
	if len(rep.Errors) != len(want) || rep.Imported || rep.Rows != 6 {
		t.Fatalf("dry run of the bad file: %+v", rep)
	}
	for _, e := range rep.Errors {
		if want[e.Line] != e.Field || e.Reason == "" {
			t.Errorf("error on line %d, field %s (%s); want %v", e.Line, e.Field, e.Reason, want)
		}
		if e.Field == "price" && !strings.Contains(e.Reason, "12.50") {
			t.Errorf("the price error does not say the format: %s", e.Reason)
		}
	}
	// Confirmed, the bad file is refused all the same: nothing written.
	rep, _, err = m.ImportProducts(ctx, "", client.ImportRequest{CSV: bad})
	must(t, err)
	if rep.Imported || len(rep.Errors) != 4 || productCount(t, m) != before || backends.Commits(e.store).Operations != ops {
		t.Fatalf("a bad file was imported: %+v", rep)
	}

	good := "sku,name,price,taxRate\n" +
		"4006381333931,Apple,1.50,20\n" +
		"5000112548167,Bread,12.5,10\n" +
		"2000000000015,Cheese,19.99,20\n" +
		"7610000000001,Honey,2.00,7.7\n" +
		"7610000000002,\"Tea, green\",3.2,7.7\n"
	rep, _, err = m.ImportProducts(ctx, "", client.ImportRequest{CSV: good, DryRun: true})
	must(t, err)
	if rep.Created != 5 || rep.Imported || len(rep.Errors) != 0 || backends.Commits(e.store).Operations != ops {
		t.Fatalf("dry run of the good file: %+v", rep)
	}
	rep, replayed, err := m.ImportProducts(ctx, "imp-1", client.ImportRequest{CSV: good})
	must(t, err)
	if !rep.Imported || rep.Created != 5 || rep.Changed != 0 || replayed || productCount(t, m) != before+5 {
		t.Fatalf("import: %+v", rep)
	}
	ps, err := m.Products(ctx, false)
	must(t, err)
	for _, p := range ps {
		if p.SKU == "5000112548167" && (p.Price != 1250 || p.TaxRate != 1000 || p.Name != "Bread") {
			t.Errorf("bread: %+v", p)
		}
		if p.SKU == "7610000000002" && (p.Name != "Tea, green" || p.TaxRate != 770) {
			t.Errorf("tea: %+v", p)
		}
	}
	// The same key again: the first answer, byte for byte, as a replay.
	res1, b1 := e.raw("POST", "/api/products/import", m.Token, "imp-2", "application/json", `{"csv":"sku,name,price\nX1,X,1.00\n"}`)
	res2, b2 := e.raw("POST", "/api/products/import", m.Token, "imp-2", "application/json", `{ "csv" : "sku,name,price\nX1,X,1.00\n" }`)
	if res1.StatusCode != 200 || res2.StatusCode != 200 || string(b1) != string(b2) || res2.Header.Get("X-Idempotent-Replay") != "true" || res1.Header.Get("X-Idempotent-Replay") != "" {
		t.Errorf("replay: %d %s / %d %s %v", res1.StatusCode, b1, res2.StatusCode, b2, res2.Header)
	}
	if _, _, err := m.ImportProducts(ctx, "imp-2", client.ImportRequest{CSV: "sku,name,price\nX1,X,2.00\n"}); !errors.Is(err, engine.ErrIdempotencyReused) {
		t.Errorf("the key with another file: %v", err)
	}
	// The same file again changes nothing.
	rep, _, err = m.ImportProducts(ctx, "", client.ImportRequest{CSV: good})
	must(t, err)
	if rep.Created != 0 || rep.Changed != 0 || rep.Unchanged != 5 {
		t.Errorf("the same file again: %+v, want 0 created, 0 changed", rep)
	}
	// Excel in Europe: a byte order mark, semicolons, decimal commas.
	excel := "\ufeffSKU;Name;Price;Tax rate\r\n4006381333931;Apple;1,75;20\r\n5000112548167;Bread;12,50;10\r\n"
	rep, _, err = m.ImportProducts(ctx, "", client.ImportRequest{CSV: excel})
	must(t, err)
	if !rep.Imported || rep.Changed != 1 || rep.Unchanged != 1 || rep.Separator != ";" {
		t.Errorf("the Excel file: %+v, want the apple changed", rep)
	}
	// Export gives the same columns, and imports back unchanged.
	csv, err := m.ExportProducts(ctx)
	must(t, err)
	if !strings.HasPrefix(csv, "sku,name,price,taxRate,archived\n") || !strings.Contains(csv, "4006381333931,Apple,1.75,20,no\n") || !strings.Contains(csv, `"Tea, green",3.20,7.7,no`) {
		t.Errorf("export:\n%s", csv)
	}
	rep, _, err = m.ImportProducts(ctx, "", client.ImportRequest{CSV: csv})
	must(t, err)
	if rep.Created != 0 || rep.Changed != 0 || len(rep.Errors) != 0 {
		t.Errorf("re-importing the export: %+v", rep)
	}
	// A name that a spreadsheet would run as a formula is exported guarded,
	// and imported back as it was.
	_, err = m.CreateProduct(ctx, "", client.ProductRequest{SKU: "F1", Name: "=HYPERLINK(\"x\")", Price: 100})
	must(t, err)
	csv, _ = m.ExportProducts(ctx)
	if !strings.Contains(csv, `F1,"'=HYPERLINK(""x"")"`) {
		t.Errorf("a formula name is not guarded:\n%s", csv)
	}
	if rep, _, _ := m.ImportProducts(ctx, "", client.ImportRequest{CSV: csv, DryRun: true}); rep.Changed != 0 {
		t.Errorf("the guarded name reads back changed: %+v", rep)
	}
	// A till may not import.
	if _, _, err := e.shop.till.ImportProducts(ctx, "", client.ImportRequest{CSV: good}); !errors.Is(err, engine.ErrForbidden) {
		t.Errorf("till importing: %v", err)
	}
	// Form problems are listed by line too.
	rep, _, _ = m.ImportProducts(ctx, "", client.ImportRequest{CSV: "sku,name,prise\n1,a,1\n", DryRun: true})
	if len(rep.Errors) == 0 || rep.Errors[0].Line != 1 {
		t.Errorf("an unknown column: %+v", rep)
	}
	rep, _, _ = m.ImportProducts(ctx, "", client.ImportRequest{CSV: "sku,name,price\n1,a,1,extra\n2,\"b,2\n", DryRun: true})
	if len(rep.Errors) < 2 || rep.Errors[0].Line != 2 {
		t.Errorf("bad rows: %+v", rep)
	}
}

// A large file goes in parts, each its own request and key: every part
// checks the whole file, and the parts together import every row once.
func TestProductImportInParts(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var b strings.Builder
	b.WriteString("sku,name,price,taxRate\n")
	for i := 0; i < 2500; i++ {
		fmt.Fprintf(&b, "P%05d,Product %d,%d.%02d,20\n", i, i, i%50, i%100)
	}
	csv := b.String()
	total := engine.ImportReport{}
	for from := 0; from < 2500; from += 1000 {
		rep, _, err := e.owner.ImportProducts(ctx, "", client.ImportRequest{CSV: csv, Part: &engine.ImportPart{From: from, Count: 1000}})
		must(t, err)
		if !rep.Imported || rep.Rows != 2500 {
			t.Fatalf("part %d: %+v", from, rep)
		}
		total.Created += rep.Created
		total.Unchanged += rep.Unchanged
	}
	if total.Created != 2500 || productCount(t, e.owner) != 2502 {
		t.Errorf("created %d in parts, %d products", total.Created, productCount(t, e.owner))
	}
	rep, _, err := e.owner.ImportProducts(ctx, "", client.ImportRequest{CSV: csv, DryRun: true})
	must(t, err)
	if rep.Unchanged != 2500 || rep.Created+rep.Changed != 0 {
		t.Errorf("again: %+v", rep)
	}
	if _, _, err := e.owner.ImportProducts(ctx, "", client.ImportRequest{CSV: csv, Part: &engine.ImportPart{From: 2500, Count: 10}}); !errors.Is(err, engine.ErrInvalid) {
		t.Errorf("a part past the end: %v", err)
	}
}

// TestJournalLists: the journal's lists filter by day, location, till,
// state and number, and page with a cursor.
func TestJournalLists(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	f := e.shop
	e.clock.Set(time.Date(2026, 11, 19, 10, 0, 0, 0, time.UTC)) // Thursday 11:00 in Berlin
	day1, err := f.till.CreateSale(ctx, "", f.saleRequest("1"))
	must(t, err)
	e.clock.Set(time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC))
	var today []*engine.Sale
	for i := 0; i < 5; i++ {
		c := f.till
		if i%2 == 1 {
			c = f.boundTill
		}
		s, err := c.CreateSale(ctx, "", f.saleRequest("1"))
		must(t, err)
		today = append(today, s)
	}
	ret, err := f.owner.Refund(ctx, "", today[0].ID, client.RefundRequest{Items: []client.Line{{ProductID: f.apple.ID, Quantity: engine.Q(1)}}})
	must(t, err)

	sales, next, err := f.manager.ListSales(ctx, client.ListQuery{Day: "2026-11-20", Newest: true, Limit: 2})
	must(t, err)
	if len(sales) != 2 || next == nil || sales[0].ID != today[4].ID {
		t.Fatalf("page 1 of today: %d %v", len(sales), next)
	}
	seen := len(sales)
	for next != nil {
		sales, next, err = f.manager.ListSales(ctx, client.ListQuery{Day: "2026-11-20", Newest: true, Limit: 2, Cursor: *next})
		must(t, err)
		seen += len(sales)
		for _, s := range sales {
			if s.ID == day1.ID {
				t.Error("yesterday's sale listed under today")
			}
		}
	}
	if seen != 5 {
		t.Errorf("today's sales in pages: %d, want 5", seen)
	}
	boundMe, _ := f.boundTill.Me(ctx)
	sales, _, err = f.manager.ListSales(ctx, client.ListQuery{TillID: boundMe.Token.ID, Limit: 50})
	must(t, err)
	if len(sales) != 2 {
		t.Errorf("the bound till's sales: %d, want 2", len(sales))
	}
	sales, _, err = f.manager.ListSales(ctx, client.ListQuery{Day: "2026-11-19"})
	must(t, err)
	if len(sales) != 1 || sales[0].ID != day1.ID {
		t.Errorf("Thursday's sales: %d", len(sales))
	}
	if _, _, err := f.manager.ListSales(ctx, client.ListQuery{Day: "20.11.2026"}); !errors.Is(err, engine.ErrInvalid) {
		t.Errorf("a bad day: %v", err)
	}

	rets, _, err := f.till.Returns(ctx, client.ListQuery{Day: "2026-11-20"})
	must(t, err)
	if len(rets) != 1 || rets[0].ReturnNumber != ret.ReturnNumber || rets[0].SaleNumber != today[0].InvoiceNumber {
		t.Errorf("refunds: %+v", rets)
	}

	rc, err := f.owner.CreateReceipt(ctx, "", client.ReceiptRequest{LocationID: f.loc, Supplier: "Orchard", Items: []client.ReceiptLine{{ProductID: f.apple.ID, Quantity: engine.Q(10), UnitCost: 50}}})
	must(t, err)
	_, err = f.owner.CreateReceipt(ctx, "", client.ReceiptRequest{LocationID: f.loc, Supplier: "Dairy", Items: []client.ReceiptLine{{ProductID: f.cheese.ID, Quantity: engine.Q(1), UnitCost: 900}}})
	must(t, err)
	_, err = f.owner.ApproveReceipt(ctx, "", rc.ID)
	must(t, err)
	rcs, _, err := f.manager.Receipts(ctx, client.ListQuery{Status: "approved"})
	must(t, err)
	if len(rcs) != 1 || rcs[0].ReceiptNumber == nil {
		t.Errorf("approved receipts: %+v", rcs)
	}
	if all, _, _ := f.manager.Receipts(ctx, client.ListQuery{}); len(all) != 2 {
		t.Errorf("all receipts: %d", len(all))
	}
	if _, _, err := f.till.Receipts(ctx, client.ListQuery{}); !errors.Is(err, engine.ErrForbidden) {
		t.Errorf("a till listing receipts: %v", err)
	}
	tr, err := f.owner.CreateTransfer(ctx, "", client.TransferRequest{FromLocationID: f.loc, ToLocationID: f.loc2, Items: []client.Line{{ProductID: f.apple.ID, Quantity: engine.Q(2)}}})
	must(t, err)
	if trs, _, _ := f.manager.Transfers(ctx, client.ListQuery{Numbered: true}); len(trs) != 0 {
		t.Errorf("numbered transfers before sending: %d", len(trs))
	}
	tr, err = f.owner.SendTransfer(ctx, "", tr.ID)
	must(t, err)
	if trs, _, _ := f.manager.Transfers(ctx, client.ListQuery{Numbered: true, LocationID: f.loc2}); len(trs) != 1 {
		t.Errorf("numbered transfers to the store room: %d", len(trs))
	}

	for _, n := range []string{today[2].InvoiceNumber, ret.ReturnNumber, *tr.TransferNumber, strings.ToLower(today[1].InvoiceNumber)} {
		d, err := f.manager.Document(ctx, n)
		if err != nil || d.Number != strings.ToUpper(n) || len(d.Document) == 0 {
			t.Errorf("document %s: %v %+v", n, err, d)
		}
	}
	if _, err := f.manager.Document(ctx, "INV-202611-9999"); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("an unknown number: %v", err)
	}
	if _, err := e.shopB.owner.Document(ctx, today[0].InvoiceNumber); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("another shop's number: %v", err)
	}

	// The apple's history at Main: 6 sold, 1 refunded back, 10 received,
	// 2 sent away; the stock after each step.
	ms, _, err := f.manager.Movements(ctx, f.apple.ID, f.loc, client.ListQuery{Newest: true})
	must(t, err)
	if len(ms) != 9 || ms[0].Balance != engine.Q(-6+1+10-2) || ms[0].Number != *tr.TransferNumber {
		t.Fatalf("history: %d entries, first %+v", len(ms), ms[0])
	}
	if last := ms[len(ms)-1]; last.Balance != engine.Q(-1) || last.Number != day1.InvoiceNumber {
		t.Errorf("oldest entry: %+v", last)
	}
	pg, next, err := f.manager.Movements(ctx, f.apple.ID, f.loc, client.ListQuery{Limit: 4})
	must(t, err)
	pg2, _, err := f.manager.Movements(ctx, f.apple.ID, f.loc, client.ListQuery{Limit: 4, Cursor: *next})
	must(t, err)
	if len(pg) != 4 || len(pg2) != 4 || pg2[0].Balance != engine.Q(-5) {
		t.Errorf("history pages: %d %d %+v", len(pg), len(pg2), pg2[0])
	}
}

// TestTodayReport: today's figures in the shop's time zone, against the
// same weekday last week up to the same time and as a whole day.
func TestTodayReport(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	f := e.shop
	sell := func(at time.Time, c *client.Client, method string, paid engine.Money) *engine.Sale {
		e.clock.Set(at)
		s, err := c.CreateSale(ctx, "", client.SaleRequest{LocationID: f.loc, Items: []client.SaleLine{{ProductID: f.apple.ID, Quantity: engine.Q(2)}},
			Payments: []engine.Payment{{Method: method, Amount: paid}}})
		must(t, err)
		return s
	}
	berlin, _ := time.LoadLocation("Europe/Berlin")
	day := func(d, h, m int) time.Time { return time.Date(2026, 11, d, h, m, 0, 0, berlin) }
	// Last Friday (13th): two sales before 15:00, one after.
	sell(day(13, 9, 0), f.till, "cash", 500)
	sell(day(13, 14, 0), f.till, "card", 300)
	sell(day(13, 18, 0), f.till, "card", 300)
	// Yesterday, late: not today.
	sell(day(19, 23, 30), f.till, "card", 300)
	// Today (Friday 20th), after midnight in Berlin (23:30 UTC the day before).
	s1 := sell(time.Date(2026, 11, 19, 23, 30, 0, 0, time.UTC), f.till, "cash", 1000)
	sell(day(20, 10, 0), f.boundTill, "card", 300)
	sell(day(20, 11, 0), f.boundTill, "card", 300)
	e.clock.Set(day(20, 12, 0))
	_, err := f.till.Refund(ctx, "", s1.ID, client.RefundRequest{Items: []client.Line{{ProductID: f.apple.ID, Quantity: engine.Q(1)}}})
	must(t, err)
	_, err = f.owner.AdjustStock(ctx, "", client.AdjustmentRequest{LocationID: f.loc2, Reason: "count", Items: []client.Line{{ProductID: f.cheese.ID, Quantity: -500}}})
	must(t, err)
	e.clock.Set(day(20, 15, 0))
	r, err := f.manager.Today(ctx, "")
	must(t, err)
	if r.Day != "2026-11-20" || r.Timezone != "Europe/Berlin" {
		t.Errorf("day %s %s", r.Day, r.Timezone)
	}
	if r.Sales.Count != 3 || r.Sales.Gross != 900 || r.Sales.Refunds != 150 || r.Sales.RefundCount != 1 || r.Sales.Net != 750 {
		t.Errorf("today: %+v", r.Sales)
	}
	methods := map[string]engine.MethodTotal{}
	for _, m := range r.ByMethod {
		methods[m.Method] = m
	}
	if methods["cash"].Amount != 300 || methods["card"].Amount != 600 || methods["card"].Count != 2 {
		t.Errorf("by method: %+v (cash net of change)", r.ByMethod)
	}
	if len(r.ByTill) != 2 {
		t.Errorf("by till: %+v", r.ByTill)
	}
	tillMe, _ := f.till.Me(ctx)
	for _, x := range r.ByTill {
		if x.TillID == tillMe.Token.ID && (x.Count != 1 || x.Refunds != 150 || x.Net != 150) {
			t.Errorf("the unbound till: %+v", x)
		}
	}
	if r.LastWeek.Day != "2026-11-13" || r.LastWeek.Count != 2 || r.LastWeek.Gross != 600 || r.LastWeekWholeDay.Count != 3 || r.LastWeekWholeDay.Gross != 900 {
		t.Errorf("last week: %+v whole %+v", r.LastWeek, r.LastWeekWholeDay)
	}
	negs := map[string]engine.Quantity{}
	for _, n := range r.NegativeStock {
		negs[n.Name+"@"+n.LocationID] = n.Quantity
	}
	if negs["Apple@"+f.loc] != engine.Q(-2*7+1) || negs["Cheese@"+f.loc2] != -500 || len(negs) != 2 {
		t.Errorf("negative stock: %+v", r.NegativeStock)
	}
	r2, err := f.manager.Today(ctx, f.loc2)
	must(t, err)
	if r2.Sales.Count != 0 || len(r2.NegativeStock) != 1 {
		t.Errorf("the store room: %+v", r2)
	}
	if _, err := f.till.Today(ctx, ""); !errors.Is(err, engine.ErrForbidden) {
		t.Errorf("a till reading today: %v", err)
	}
}
