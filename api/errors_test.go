package api_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"posd/api"
	"posd/api/client"
	"posd/engine"
)

// TestErrorCodes triggers every error code of the contract's table over the
// wire and checks status, code, shape, and that nothing was written.
func TestErrorCodes(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	f := e.shop
	sale, err := f.owner.CreateSale(ctx, "", f.saleRequest("2"))
	must(t, err)
	rc, _ := f.owner.CreateReceipt(ctx, "", client.ReceiptRequest{LocationID: f.loc, Supplier: "S", Items: []client.ReceiptLine{{ProductID: f.apple.ID, Quantity: engine.Q(1), UnitCost: 1}}})
	f.owner.ApproveReceipt(ctx, "", rc.ID)
	tr, _ := f.owner.CreateTransfer(ctx, "", client.TransferRequest{FromLocationID: f.loc2, ToLocationID: f.loc, Items: []client.Line{{ProductID: f.apple.ID, Quantity: engine.Q(1)}}})
	owner, till := f.owner.Token, f.till.Token
	saleBody := func(extra string) string {
		return `{"locationId":"` + f.loc + `","items":[{"productId":"` + f.apple.ID + `","quantity":1}],"payments":[{"method":"cash","amount":150}]` + extra + `}`
	}
	lines := make([]string, 1001)
	for i := range lines {
		lines[i] = `{"productId":"` + f.apple.ID + `","quantity":1}`
	}
	tooManyLines := `{"locationId":"` + f.loc + `","items":[` + strings.Join(lines, ",") + `],"payments":[]}`
	big := `{"locationId":"` + strings.Repeat("x", 1<<20) + `"}`
	const json = "application/json"
	n := 0
	key := func() string { n++; return fmt.Sprintf("err-key-%d", n) }

	cases := []struct {
		name, method, path, token, key, ctype, body string
		status                                      int
		code, field                                 string
		hdr                                         []string
	}{
		{"bad JSON", "POST", "/api/sales", owner, key(), json, `{"locationId":`, 400, engine.EINVALID, "", nil},
		{"unknown field", "POST", "/api/sales", owner, key(), json, saleBody(`,"discount":5`), 400, engine.EINVALID, "discount", nil},
		{"server-owned total", "POST", "/api/sales", owner, key(), json, saleBody(`,"total":150`), 400, engine.EINVALID, "total", nil},
		{"server-owned number", "POST", "/api/sales", owner, key(), json, saleBody(`,"invoiceNumber":"INV-1"`), 400, engine.EINVALID, "invoiceNumber", nil},
		{"server-owned status", "POST", "/api/purchases/receipts", owner, key(), json, `{"locationId":"x","supplier":"s","items":[],"status":"approved"}`, 400, engine.EINVALID, "status", nil},
		{"server-owned business", "POST", "/api/products", owner, key(), json, `{"sku":"X","name":"X","price":1,"businessId":"b"}`, 400, engine.EINVALID, "businessId", nil},
		{"wrong type", "POST", "/api/sales", owner, key(), json, `{"locationId":5}`, 400, engine.EINVALID, "locationId", nil},
		{"quantity as string", "POST", "/api/sales", owner, key(), json, strings.Replace(saleBody(""), `"quantity":1`, `"quantity":"1"`, 1), 400, engine.EINVALID, "items[0].quantity", nil},
		{"four decimals", "POST", "/api/sales", owner, key(), json, strings.Replace(saleBody(""), `"quantity":1`, `"quantity":1.0001`, 1), 400, engine.EINVALID, "items[0].quantity", nil},
		{"zero quantity", "POST", "/api/sales", owner, key(), json, strings.Replace(saleBody(""), `"quantity":1`, `"quantity":0`, 1), 400, engine.EINVALID, "items[0].quantity", nil},
		{"negative quantity", "POST", "/api/sales", owner, key(), json, strings.Replace(saleBody(""), `"quantity":1`, `"quantity":-1`, 1), 400, engine.EINVALID, "items[0].quantity", nil},
		{"fractional money", "POST", "/api/sales", owner, key(), json, strings.Replace(saleBody(""), `"amount":150`, `"amount":1.5`, 1), 400, engine.EINVALID, "payments[0].amount", nil},
		{"money overflow", "POST", "/api/sales", owner, key(), json, strings.Replace(saleBody(""), `"amount":150`, `"amount":99999999999999999999`, 1), 400, engine.EINVALID, "payments[0].amount", nil},
		{"underpaid", "POST", "/api/sales", owner, key(), json, strings.Replace(saleBody(""), `"amount":150`, `"amount":149`, 1), 400, engine.EINVALID, "payments", nil},
		{"card overpays", "POST", "/api/sales", owner, key(), json, strings.Replace(saleBody(""), `"method":"cash","amount":150`, `"method":"card","amount":200`, 1), 400, engine.EINVALID, "payments", nil},
		{"no items", "POST", "/api/sales", owner, key(), json, `{"locationId":"` + f.loc + `","items":[],"payments":[]}`, 400, engine.EINVALID, "items", nil},
		{"two objects", "POST", "/api/sales", owner, key(), json, saleBody("") + "{}", 400, engine.EINVALID, "", nil},
		{"invalid UTF-8", "POST", "/api/locations", owner, key(), json, "{\"name\":\"\xff\xfe\"}", 400, engine.EINVALID, "", nil},
		{"key missing", "POST", "/api/sales", owner, "", json, saleBody(""), 400, engine.EIDEMPOTENCYMISSING, "", nil},
		{"key too long", "POST", "/api/sales", owner, strings.Repeat("k", 256), json, saleBody(""), 400, engine.EIDEMPOTENCYINVALID, "", nil},
		{"key with space", "POST", "/api/sales", owner, "a b", json, saleBody(""), 400, engine.EIDEMPOTENCYINVALID, "", nil},
		{"key twice", "POST", "/api/sales", owner, "k1", json, saleBody(""), 400, engine.EIDEMPOTENCYINVALID, "", []string{"Idempotency-Key", "k2"}},
		{"no token", "GET", "/api/products", "", "", "", "", 401, engine.EUNAUTHORIZED, "", nil},
		{"wrong token", "POST", "/api/sales", "posd_nope", key(), json, saleBody(""), 401, engine.EUNAUTHORIZED, "", nil},
		{"till makes product", "POST", "/api/products", till, key(), json, `{"sku":"X","name":"X","price":1}`, 403, engine.EFORBIDDEN, "", nil},
		{"bound till elsewhere", "POST", "/api/sales", f.boundTill.Token, key(), json, strings.Replace(saleBody(""), f.loc, f.loc2, 1), 403, engine.EFORBIDDEN, "", nil},
		{"missing sale", "GET", "/api/sales/nope", owner, "", "", "", 404, engine.ENOTFOUND, "", nil},
		{"missing product in sale", "POST", "/api/sales", owner, key(), json, strings.Replace(saleBody(""), f.apple.ID, "nope", 1), 404, engine.ENOTFOUND, "items[0].productId", nil},
		{"unknown route", "GET", "/api/nothing", owner, "", "", "", 404, engine.ENOTFOUND, "", nil},
		{"approve twice", "POST", "/api/purchases/receipts/" + rc.ID + "/approve", owner, key(), json, `{}`, 409, engine.EINVALIDSTATE, "", nil},
		{"send beyond stock", "POST", "/api/transfers/" + tr.ID + "/send", owner, key(), json, `{}`, 409, engine.EINSUFFICIENTSTOCK, "items[0].quantity", nil},
		{"refund beyond sale", "POST", "/api/sales/" + sale.ID + "/refund", till, key(), json, `{"items":[{"productId":"` + f.apple.ID + `","quantity":3}]}`, 409, engine.EREFUNDEXCEEDSSALE, "items[0].quantity", nil},
		{"body over 1 MiB", "POST", "/api/locations", owner, key(), json, big, 413, engine.ETOOLARGE, "", nil},
		{"over 1000 lines", "POST", "/api/sales", owner, key(), json, tooManyLines, 413, engine.ETOOLARGE, "", nil},
		{"text body", "POST", "/api/sales", owner, key(), "text/plain", saleBody(""), 415, api.EMEDIATYPE, "", nil},
		{"no content type", "POST", "/api/sales", owner, key(), "", saleBody(""), 415, api.EMEDIATYPE, "", nil},
		{"key reused", "POST", "/api/sales", owner, "reuse", json, saleBody(""), 0, "", "", nil}, // first use, succeeds
		{"key reused, other body", "POST", "/api/sales", owner, "reuse", json, strings.Replace(saleBody(""), `"amount":150`, `"amount":151`, 1), 422, engine.EIDEMPOTENCYREUSED, "", nil},
		{"key reused, other route", "POST", "/api/locations", owner, "reuse", json, `{"name":"x"}`, 422, engine.EIDEMPOTENCYREUSED, "", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			before := countSales(t, f.owner)
			res, b := e.raw(c.method, c.path, c.token, c.key, c.ctype, c.body, c.hdr...)
			if c.status == 0 {
				if res.StatusCode != 201 {
					t.Fatalf("setup request: %d %s", res.StatusCode, b)
				}
				return
			}
			if res.StatusCode != c.status {
				t.Fatalf("status: got %d, want %d (%s)", res.StatusCode, c.status, b)
			}
			if code := errorShape(t, b); code != c.code {
				t.Errorf("code: got %q, want %q (%s)", code, c.code, b)
			}
			if c.field != "" && !strings.Contains(string(b), `"field":"`+c.field+`"`) {
				t.Errorf("field: want %q in %s", c.field, b)
			}
			if after := countSales(t, f.owner); after != before {
				t.Errorf("a refused request changed the sales: %d → %d", before, after)
			}
		})
	}
}

// TestRateLimit answers a token-guessing address with 429 and Retry-After,
// while the right token from elsewhere keeps working.
func TestRateLimit(t *testing.T) {
	e := newEnv(t)
	var last *http.Response
	var body []byte
	for i := 0; i < 40; i++ {
		last, body = e.raw("GET", "/api/products", fmt.Sprintf("posd_guess%d", i), "", "", "")
		if last.StatusCode == http.StatusTooManyRequests {
			break
		}
		if last.StatusCode != http.StatusUnauthorized {
			t.Fatalf("guess %d: %d", i, last.StatusCode)
		}
	}
	if last.StatusCode != http.StatusTooManyRequests || last.Header.Get("Retry-After") == "" {
		t.Fatalf("after 40 wrong tokens: %d, Retry-After %q", last.StatusCode, last.Header.Get("Retry-After"))
	}
	if code := errorShape(t, body); code != api.ERATELIMITED {
		t.Errorf("code: %s", code)
	}
	// The 429 goes through the one error path: counted with the others.
	if n := e.api.Counters().Refused[api.ERATELIMITED]; n != 1 {
		t.Errorf("refused rate_limited: got %d, want 1", n)
	}
}

// TestMethodNotAllowed: a known route with another method is a 405 in the
// contract's shape with an Allow header; an unknown route stays a 404.
func TestMethodNotAllowed(t *testing.T) {
	e := newEnv(t)
	res, b := e.raw("DELETE", "/api/sales", e.ownerToken(), "", "", "")
	if res.StatusCode != http.StatusMethodNotAllowed || res.Header.Get("Allow") != "POST, GET" {
		t.Errorf("DELETE /api/sales: %d, Allow %q; want 405, Allow \"POST, GET\"", res.StatusCode, res.Header.Get("Allow"))
	}
	if code := errorShape(t, b); code != api.EMETHODNOTALLOWED {
		t.Errorf("code: got %s, want %s", code, api.EMETHODNOTALLOWED)
	}
	res, b = e.raw("GET", "/api/nonsense", e.ownerToken(), "", "", "")
	if res.StatusCode != http.StatusNotFound || errorShape(t, b) != engine.ENOTFOUND {
		t.Errorf("unknown route: %d %s", res.StatusCode, b)
	}
}

// TestTransportCodesAgree: the Go client knows the codes only HTTP gives by
// the values the server sends.
func TestTransportCodesAgree(t *testing.T) {
	for _, c := range [][2]string{{api.ERATELIMITED, client.ERATELIMITED}, {api.EMEDIATYPE, client.EMEDIATYPE}, {api.EMETHODNOTALLOWED, client.EMETHODNOTALLOWED}} {
		if c[0] != c[1] {
			t.Errorf("api says %q, client says %q", c[0], c[1])
		}
	}
}

// TestUnavailableWhenStoreClosed: once the store has stopped, requests are
// answered 503 with Retry-After, in the contract's shape, not 500.
func TestUnavailableWhenStoreClosed(t *testing.T) {
	e := newEnv(t)
	e.store.Close()
	for _, c := range []struct{ method, path, body string }{
		{"POST", "/api/locations", `{"name":"x"}`},
		{"GET", "/api/products", ""},
	} {
		res, b := e.raw(c.method, c.path, e.ownerToken(), "k-503", "application/json", c.body)
		if res.StatusCode != 503 || res.Header.Get("Retry-After") == "" {
			t.Errorf("%s %s: got %d (Retry-After %q), want 503", c.method, c.path, res.StatusCode, res.Header.Get("Retry-After"))
		}
		if code := errorShape(t, b); code != engine.EUNAVAILABLE {
			t.Errorf("code: %s", code)
		}
	}
}

// failingStore answers every read with an error that is not the engine's:
// a storage fault the API must not leak.
type failingStore struct{ engine.Store }

func (failingStore) View(context.Context, func(engine.Tx) error) error {
	return fmt.Errorf("boltstore: page 4711 checksum mismatch at /secret/path")
}

// TestInternalError: an unexpected failure is a 500 in the contract's
// shape, with a generic message and no detail.
func TestInternalError(t *testing.T) {
	e := newEnv(t)
	srv := newTestServer(t, api.NewServer(engine.NewService(failingStore{e.store}), api.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}))
	req, _ := http.NewRequest("GET", srv.URL+"/api/products", nil)
	req.Header.Set("Authorization", "Bearer "+e.ownerToken())
	res, err := http.DefaultClient.Do(req)
	must(t, err)
	defer res.Body.Close()
	b := readAll(t, res)
	if res.StatusCode != 500 || errorShape(t, b) != engine.EINTERNAL || strings.Contains(string(b), "secret") || strings.Contains(string(b), "4711") {
		t.Errorf("internal error: %d %s", res.StatusCode, b)
	}
}
