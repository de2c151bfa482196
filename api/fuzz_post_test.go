package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"posd/api"
	"posd/engine"
	"posd/engine/boltstore"
	"posd/engine/storetest"
)

// fuzzShop is a business for the POST fuzz targets: in request bodies and
// paths the placeholders LOC, LOC2, APPLE, CHEESE, SALE, RECEIPT,
// TRANSFER, CASHIER and SHIFT stand for real IDs, so that the fuzzer reaches the engine's
// rules and not only the JSON decoder.
type fuzzShop struct {
	h      http.Handler
	st     *boltstore.Store
	secret string
	ids    map[string]string
	n      atomic.Int64
}

func newFuzzShop(f *testing.F) *fuzzShop {
	st, err := boltstore.Open(filepath.Join(f.TempDir(), "posd.db"), boltstore.Options{})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	svc := engine.NewService(st)
	svc.PINs = storetest.FastPINs{}
	shop := storetest.NewShop(f, svc, "UTC")
	s := &fuzzShop{h: api.NewServer(svc, api.Options{}), st: st, secret: shop.OwnerToken,
		ids: map[string]string{"LOC": shop.Location, "LOC2": shop.Location2, "APPLE": shop.Apple.ID, "CHEESE": shop.Cheese.ID}}
	ctx, owner := context.Background(), shop.Owner
	must := func(err error) {
		if err != nil {
			f.Fatal(err)
		}
	}
	raw := func(s string) json.RawMessage { return json.RawMessage(s) }
	_, err = svc.AdjustStock(ctx, owner, shop.Key(), engine.AdjustmentInput{LocationID: s.ids["LOC"], Reason: "opening",
		Items: []engine.ItemInput{{ProductID: s.ids["APPLE"], Quantity: raw("1000000")}, {ProductID: s.ids["CHEESE"], Quantity: raw("1000000")}}})
	must(err)
	sale, err := svc.CreateSale(ctx, owner, shop.Key(), engine.SaleInput{LocationID: s.ids["LOC"],
		Items:    []engine.SaleItemInput{{ProductID: s.ids["APPLE"], Quantity: raw("100000")}, {ProductID: s.ids["CHEESE"], Quantity: raw("100000")}},
		Payments: []engine.PaymentInput{{Method: "cash", Amount: raw("999999999999")}}})
	must(err)
	s.ids["SALE"] = sale.Doc.ID
	receipt, err := svc.CreateReceipt(ctx, owner, shop.Key(), engine.ReceiptInput{LocationID: s.ids["LOC"], Supplier: "S",
		Items: []engine.ReceiptItemInput{{ProductID: s.ids["APPLE"], Quantity: raw("1"), UnitCost: raw("1")}}})
	must(err)
	s.ids["RECEIPT"] = receipt.Doc.ID
	transfer, err := svc.CreateTransfer(ctx, owner, shop.Key(), engine.TransferInput{FromLocationID: s.ids["LOC"], ToLocationID: s.ids["LOC2"],
		Items: []engine.ItemInput{{ProductID: s.ids["APPLE"], Quantity: raw("1")}}})
	must(err)
	s.ids["TRANSFER"] = transfer.Doc.ID
	_, err = svc.CreateCashier(ctx, owner, "f-manager", engine.CashierInput{Name: "Max", Role: "manager", PIN: "1357"})
	must(err)
	cashier, err := svc.CreateCashier(ctx, owner, "f-cashier", engine.CashierInput{Name: "Anna", Role: "cashier", PIN: "4821"})
	must(err)
	s.ids["CASHIER"] = cashier.Doc.ID
	// The shift is the till's, so that the owner's own shift can be
	// opened by the fuzzer while this one takes its cash and its close.
	shift, err := svc.OpenShift(ctx, shop.Till, "f-shift", engine.ShiftInput{LocationID: shop.Location, Float: raw("10000")})
	must(err)
	s.ids["SHIFT"] = shift.Doc.ID
	return s
}

// expand puts the real IDs in for the placeholders.
func (s *fuzzShop) expand(b []byte) []byte {
	// SALE before the others: no placeholder is a prefix of another.
	for _, k := range []string{"LOC2", "LOC", "APPLE", "CHEESE", "SALE", "RECEIPT", "TRANSFER", "CASHIER", "SHIFT"} {
		b = bytes.ReplaceAll(b, []byte(k), []byte(s.ids[k]))
	}
	return b
}

// post sends body to path with a fresh key and holds the answer to the
// rules every POST obeys, whatever the body: no panic and no 5xx; a
// success is the route's status and applied exactly one write; a refusal
// is in the contract's shape and wrote nothing at all. A success's answer
// also passes check, when there is one.
func (s *fuzzShop) post(t *testing.T, path string, okStatus int, check func(t *testing.T, answer []byte), body []byte) {
	s.postWant(t, path, want{status: okStatus, key: "id", writes: 1, check: check}, body)
}

// want is what a route's success looks like: its status, a member its
// answer must have, how many store operations it applies, and a check of
// its answer (nil: none).
type want struct {
	status int
	key    string
	writes uint64
	// writesIf names a member of the answer: only when it is true did the
	// request write (a product import: not a dry run, nor a bad file).
	writesIf string
	check    func(t *testing.T, answer []byte)
}

func (s *fuzzShop) postWant(t *testing.T, path string, w want, body []byte) {
	okStatus, check := w.status, w.check
	body = s.expand(body)
	before := s.st.Stats().Operations
	req := httptest.NewRequest("POST", string(s.expand([]byte(path))), bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+s.secret)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Idempotency-Key", fmt.Sprintf("fuzz-%d", s.n.Add(1)))
	rec := httptest.NewRecorder()
	s.h.ServeHTTP(rec, req)
	after := s.st.Stats().Operations
	switch {
	case rec.Code == okStatus:
		var v map[string]any
		if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil || v[w.key] == nil {
			t.Fatalf("%d without %q: %s", rec.Code, w.key, rec.Body.Bytes())
		}
		if w.writesIf != "" && v[w.writesIf] != true {
			w.writes = 0
		}
		if after != before+w.writes {
			t.Fatalf("%d applied %d operations", rec.Code, after-before)
		}
		if check != nil {
			check(t, rec.Body.Bytes())
		}
	case rec.Code >= 400 && rec.Code < 500:
		errorShape(t, rec.Body.Bytes())
		if after != before {
			t.Fatalf("refused request (%d) wrote: %s", rec.Code, rec.Body.Bytes())
		}
	default:
		t.Fatalf("status %d for %q: %s", rec.Code, body, rec.Body.Bytes())
	}
}

// fuzzPost is the whole of a POST fuzz target: seeds, a shop, the rules.
func fuzzPost(f *testing.F, path string, okStatus int, seeds ...string) {
	fuzzPostChecking(f, path, okStatus, nil, seeds...)
}

// fuzzPostChecking is fuzzPost for a route whose successes must also pass
// check.
func fuzzPostChecking(f *testing.F, path string, okStatus int, check func(t *testing.T, answer []byte), seeds ...string) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	s := newFuzzShop(f)
	f.Fuzz(func(t *testing.T, body []byte) { s.post(t, path, okStatus, check, body) })
}

// fuzzPostWant is fuzzPost for a route whose success looks otherwise.
func fuzzPostWant(f *testing.F, path string, w want, seeds ...string) {
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	s := newFuzzShop(f)
	f.Fuzz(func(t *testing.T, body []byte) { s.postWant(t, path, w, body) })
}

func FuzzCreatePairingCode(f *testing.F) {
	fuzzPostWant(f, "/api/pairing-codes", want{status: 201, key: "code", writes: 1}, `{"name":"Till 2","locationId":"LOC"}`)
}

// FuzzPair: without a valid code every body is refused (and guesses are
// soon answered 429), writing nothing.
func FuzzPair(f *testing.F) {
	fuzzPostWant(f, "/api/pair", want{status: 201, key: "token", writes: 1}, `{"code":"ABCDEF"}`)
}

// FuzzBackupNow: the fuzz shop has no backups, so the route refuses every
// body; a backup, when there is one, writes nothing to the store.
func FuzzBackupNow(f *testing.F) {
	fuzzPostWant(f, "/api/backups", want{status: 202, key: "id", writes: 0}, `{}`)
}

// FuzzImportProducts throws arbitrary bodies, and so arbitrary CSV files,
// at the product import: a report or a refusal, never a 5xx; only a clean
// file, not a dry run, writes (one operation).
func FuzzImportProducts(f *testing.F) {
	fuzzPostWant(f, "/api/products/import", want{status: 200, key: "rows", writes: 1, writesIf: "imported"},
		`{"csv":"sku,name,price,taxRate\nA1,Apple,1.50,20\n"}`)
}

func FuzzCreateToken(f *testing.F) {
	fuzzPost(f, "/api/tokens", 201, `{"role":"till","name":"Till 1","locationId":"LOC"}`)
}

func FuzzCreateLocation(f *testing.F) {
	fuzzPost(f, "/api/locations", 201, `{"name":"Shop floor"}`)
}

func FuzzCreateProduct(f *testing.F) {
	fuzzPost(f, "/api/products", 201, `{"sku":"4006381333931","name":"Apple","price":150,"taxRate":20}`)
}

func FuzzAdjustStock(f *testing.F) {
	fuzzPost(f, "/api/stock/adjustments", 201, `{"locationId":"LOC","items":[{"productId":"APPLE","quantity":-1.5}],"reason":"count"}`)
}

func FuzzRefundSale(f *testing.F) {
	fuzzPost(f, "/api/sales/SALE/refund", 201, `{"items":[{"productId":"APPLE","quantity":1}],"restock":false}`)
}

func FuzzCreateReceipt(f *testing.F) {
	fuzzPost(f, "/api/purchases/receipts", 201, `{"locationId":"LOC","supplier":"Acme","items":[{"productId":"CHEESE","quantity":2.5,"unitCost":900}]}`)
}

func FuzzApproveReceipt(f *testing.F) {
	fuzzPost(f, "/api/purchases/receipts/RECEIPT/approve", 200, `{}`)
}

func FuzzCreateTransfer(f *testing.F) {
	fuzzPost(f, "/api/transfers", 201, `{"fromLocationId":"LOC","toLocationId":"LOC2","items":[{"productId":"APPLE","quantity":1}]}`)
}

func FuzzSendTransfer(f *testing.F) {
	fuzzPost(f, "/api/transfers/TRANSFER/send", 200, `{}`)
}

func FuzzReceiveTransfer(f *testing.F) {
	fuzzPost(f, "/api/transfers/TRANSFER/receive", 200, ``)
}

func FuzzCreateCashier(f *testing.F) {
	fuzzPost(f, "/api/cashiers", 201, `{"name":"Bea","role":"cashier","pin":"2468"}`)
}

func FuzzApprove(f *testing.F) {
	fuzzPost(f, "/api/approvals", 201, `{"pin":"1357","action":"refund"}`)
}

func FuzzOpenShift(f *testing.F) {
	fuzzPost(f, "/api/shifts", 201, `{"locationId":"LOC","float":10000,"cashierId":"CASHIER","at":"2026-11-20T08:00:00Z"}`)
}

func FuzzCashMovement(f *testing.F) {
	fuzzPost(f, "/api/shifts/SHIFT/cash-movements", 201, `{"type":"pay_out","amount":2000,"reason":"milk","cashierId":"CASHIER"}`)
}

func FuzzCloseShift(f *testing.F) {
	fuzzPost(f, "/api/shifts/SHIFT/close", 200, `{"counted":9500,"denominations":[{"value":5000,"count":1},{"value":4500,"count":1}]}`)
}

func FuzzCreateZReport(f *testing.F) {
	fuzzPost(f, "/api/z-reports", 201, `{"locationId":"LOC"}`)
}

// TestFuzzTargetsCoverEveryPost keeps the list of fuzz targets in step with
// the router: a new POST route needs a fuzz target and a seed corpus.
func TestFuzzTargetsCoverEveryPost(t *testing.T) {
	targets := map[string]string{
		"tokens.create": "FuzzCreateToken", "locations.create": "FuzzCreateLocation", "products.create": "FuzzCreateProduct",
		"stock.adjust": "FuzzAdjustStock", "sales.create": "FuzzCreateSale", "sales.refund": "FuzzRefundSale",
		"receipts.create": "FuzzCreateReceipt", "receipts.approve": "FuzzApproveReceipt", "transfers.create": "FuzzCreateTransfer",
		"transfers.send": "FuzzSendTransfer", "transfers.receive": "FuzzReceiveTransfer",
		"cashiers.create": "FuzzCreateCashier", "approvals.create": "FuzzApprove", "shifts.open": "FuzzOpenShift",
		"shifts.cash": "FuzzCashMovement", "shifts.close": "FuzzCloseShift", "zreports.create": "FuzzCreateZReport",
		"pairing.create": "FuzzCreatePairingCode", "pair": "FuzzPair", "backups.create": "FuzzBackupNow", "products.import": "FuzzImportProducts",
	}
	for _, rt := range api.NewServer(engine.NewService(nil), api.Options{}).Routes() {
		if rt.Method != "POST" {
			continue
		}
		name, ok := targets[rt.Name]
		if !ok {
			t.Errorf("POST route %s (%s) has no fuzz target", rt.Name, rt.Path)
			continue
		}
		files, _ := filepath.Glob(filepath.Join("testdata", "fuzz", name, "*"))
		if len(files) < 5 {
			t.Errorf("%s has %d seed files in testdata/fuzz/%s, want at least 5", name, len(files), name)
		}
		if !strings.HasPrefix(name, "Fuzz") {
			t.Errorf("bad target name %s", name)
		}
	}
}
