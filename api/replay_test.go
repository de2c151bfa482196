package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"regexp"
	"testing"
	"time"

	"posd/api"
	"posd/api/client"
	"posd/engine"
)

// TestEveryPostReplaysByteForByte sends every POST route twice with one key
// over HTTP: the second answer has the first's status and bytes (a token's
// with "token": null) and the replay headers, the first neither. The two
// pairing routes are contract §5's exception: a code and a till's token
// are kept only as hashes, so their replays carry a new secret for the
// same pairing and till, the unseen one revoked, and are otherwise the
// first answer. A sale's replay stays the first answer after a refund
// changed the sale; after the answer TTL it is the sale as it is now, 200,
// still marked as a replay.
func TestEveryPostReplaysByteForByte(t *testing.T) {
	backups := 0
	e := newEnvWith(t, func(engine.Store) api.Options {
		return api.Options{Ops: api.Ops{BackupNow: func() bool { backups++; return true }}}
	})
	f := e.shop
	tok := e.ownerToken()
	covered := map[string]bool{}
	ids := map[string]string{}
	post := func(route, path, body string, status int) []byte {
		t.Helper()
		covered[route] = true
		key := "replay-" + route
		res1, b1 := e.raw("POST", path, tok, key, "application/json", body)
		if res1.StatusCode != status || res1.Header.Get("X-Idempotent-Replay") != "" || res1.Header.Get("Idempotent-Replayed") != "" {
			t.Fatalf("%s: first answer %d %v %s, want %d without replay headers", route, res1.StatusCode, res1.Header, b1, status)
		}
		res2, b2 := e.raw("POST", path, tok, key, "application/json", body)
		if res2.StatusCode != status || res2.Header.Get("X-Idempotent-Replay") != "true" || res2.Header.Get("Idempotent-Replayed") != "true" {
			t.Errorf("%s: replay %d %v, want %d with replay headers", route, res2.StatusCode, res2.Header, status)
		}
		want := b1
		if route == "tokens.create" {
			want = regexp.MustCompile(`"token":"posd_[^"]+"`).ReplaceAll(b1, []byte(`"token":null`))
			if bytes.Equal(want, b1) {
				t.Errorf("%s: first answer has no secret: %s", route, b1)
			}
		}
		if !bytes.Equal(b2, want) {
			t.Errorf("%s: replay differs from the first answer:\n got %s\nwant %s", route, b2, want)
		}
		var v struct{ ID string }
		if err := json.Unmarshal(b1, &v); err != nil || v.ID == "" {
			t.Fatalf("%s: answer without id: %s", route, b1)
		}
		ids[route] = v.ID
		return b1
	}
	post("tokens.create", "/api/tokens", `{"role":"till","name":"Till 7","locationId":"`+f.loc+`"}`, 201)
	post("locations.create", "/api/locations", `{"name":"Cellar"}`, 201)
	post("products.create", "/api/products", `{"sku":"PEAR","name":"Pear <ripe> & \"sweet\"","price":99,"taxRate":7.7}`, 201)
	post("stock.adjust", "/api/stock/adjustments", `{"locationId":"`+f.loc+`","items":[{"productId":"`+f.apple.ID+`","quantity":20.5}],"reason":"count"}`, 201)
	sale := post("sales.create", "/api/sales", `{"locationId":"`+f.loc+`","items":[{"productId":"`+f.apple.ID+`","quantity":3},{"productId":"`+f.cheese.ID+`","quantity":0.125,"unitPrice":2000}],"payments":[{"method":"cash","amount":1000}]}`, 201)
	post("sales.refund", "/api/sales/"+ids["sales.create"]+"/refund", `{"items":[{"productId":"`+f.apple.ID+`","quantity":1}]}`, 201)
	post("receipts.create", "/api/purchases/receipts", `{"locationId":"`+f.loc+`","supplier":"Farm","items":[{"productId":"`+f.apple.ID+`","quantity":10,"unitCost":80}]}`, 201)
	post("receipts.approve", "/api/purchases/receipts/"+ids["receipts.create"]+"/approve", `{}`, 200)
	post("transfers.create", "/api/transfers", `{"fromLocationId":"`+f.loc+`","toLocationId":"`+f.loc2+`","items":[{"productId":"`+f.apple.ID+`","quantity":2}]}`, 201)
	post("transfers.send", "/api/transfers/"+ids["transfers.create"]+"/send", ``, 200)
	post("transfers.receive", "/api/transfers/"+ids["transfers.create"]+"/receive", `{}`, 200)
	post("cashiers.create", "/api/cashiers", `{"name":"Bea","role":"cashier","pin":"246810"}`, 201)
	post("approvals.create", "/api/approvals", `{"pin":"1357","action":"cash_difference"}`, 201)
	post("shifts.open", "/api/shifts", `{"locationId":"`+f.loc+`","float":10000,"cashierId":"`+f.anna.ID+`","at":"2026-11-20T08:59:00Z"}`, 201)
	post("shifts.cash", "/api/shifts/current/cash-movements", `{"type":"pay_out","amount":2000,"reason":"milk","at":"2026-11-20T09:30:00.5Z"}`, 201)
	post("shifts.close", "/api/shifts/current/close", `{"denominations":[{"value":5000,"count":1},{"value":2000,"count":1}],"approvalId":"`+ids["approvals.create"]+`"}`, 200)
	post("zreports.create", "/api/z-reports", `{"locationId":"`+f.loc+`"}`, 201)
	impBody := `{"csv":"sku,name,price,taxRate\nPLUM,\"Plum, \"\"red\"\"\",1.20,7.7\nFIG,Fig,0.99,7.7\n"}`
	imp := post("products.import", "/api/products/import", impBody, 200)
	post("backups.create", "/api/backups", `{}`, 202)
	if backups != 1 {
		t.Errorf("backups started: %d, want 1 (the replay starts none)", backups)
	}

	// Pairing: same status, headers and keys; the secrets are new.
	covered["pairing.create"], covered["pair"] = true, true
	twice := func(path, token, key, body string) (a, b map[string]any) {
		t.Helper()
		res1, b1 := e.raw("POST", path, token, key, "application/json", body)
		res2, b2 := e.raw("POST", path, token, key, "application/json", body)
		if res1.StatusCode != 201 || res1.Header.Get("X-Idempotent-Replay") != "" || res1.Header.Get("Idempotent-Replayed") != "" {
			t.Fatalf("%s: first answer %d %v %s, want 201 without replay headers", path, res1.StatusCode, res1.Header, b1)
		}
		if res2.StatusCode != 201 || res2.Header.Get("X-Idempotent-Replay") != "true" || res2.Header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("%s: replay %d %v %s, want 201 with replay headers", path, res2.StatusCode, res2.Header, b2)
		}
		if err := json.Unmarshal(b1, &a); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b2, &b); err != nil {
			t.Fatal(err)
		}
		if len(a) != len(b) {
			t.Fatalf("%s: replay %s has other keys than %s", path, b2, b1)
		}
		return a, b
	}
	pc1, pc2 := twice("/api/pairing-codes", tok, "replay-pairing.create", `{"name":"Till 8","locationId":"`+f.loc+`"}`)
	code1, _ := pc1["code"].(string)
	code2, _ := pc2["code"].(string)
	if code1 == "" || code2 == "" || code1 == code2 || pc2["url"] != e.srv.URL+"/till/#pair="+code2 {
		t.Fatalf("pairing.create: replay %v after %v, want a new code and its url", pc2, pc1)
	}
	if res, b := e.raw("POST", "/api/pair", "", "pair-old", "application/json", `{"code":"`+code1+`"}`); res.StatusCode != 404 {
		t.Errorf("the code the replay replaced: %d %s, want 404", res.StatusCode, b)
	}
	p1, p2 := twice("/api/pair", "", "replay-pair", `{"code":"`+code2+`"}`)
	tok1, _ := p1["token"].(string)
	tok2, _ := p2["token"].(string)
	if tok1 == "" || tok2 == "" || tok1 == tok2 {
		t.Fatalf("pair: replay token %q after %q, want a new one", tok2, tok1)
	}
	for _, k := range []string{"tillId", "businessId", "locationId"} {
		if p1[k] != p2[k] || p1[k] == nil {
			t.Errorf("pair: replay %s %v, first %v", k, p2[k], p1[k])
		}
	}
	if res, _ := e.raw("GET", "/api/me", tok1, "", "", ""); res.StatusCode != 401 {
		t.Errorf("the first token after the replay: %d, want 401", res.StatusCode)
	}
	if res, _ := e.raw("GET", "/api/me", tok2, "", "", ""); res.StatusCode != 200 {
		t.Errorf("the replay's token: %d, want 200", res.StatusCode)
	}
	for _, rt := range api.NewServer(engine.NewService(nil), api.Options{}).Routes() {
		if rt.Method == "POST" && !covered[rt.Name] {
			t.Errorf("POST route %s (%s) is not replayed here", rt.Name, rt.Path)
		}
	}

	// A second refund changes the sale; its replay is still the first answer.
	saleBody := `{"locationId":"` + f.loc + `","items":[{"productId":"` + f.apple.ID + `","quantity":3},{"productId":"` + f.cheese.ID + `","quantity":0.125,"unitPrice":2000}],"payments":[{"method":"cash","amount":1000}]}`
	if _, err := f.owner.Refund(context.Background(), "", ids["sales.create"], client.RefundRequest{Items: []client.Line{{ProductID: f.apple.ID, Quantity: engine.Q(1)}}}); err != nil {
		t.Fatal(err)
	}
	_, now := e.raw("GET", "/api/sales/"+ids["sales.create"], tok, "", "", "")
	if bytes.Equal(now, sale) {
		t.Fatal("the refunds did not change the sale")
	}
	res, b := e.raw("POST", "/api/sales", tok, "replay-sales.create", "application/json", saleBody)
	if res.StatusCode != 201 || !bytes.Equal(b, sale) {
		t.Errorf("replay after a refund: %d\n got %s\nwant %s", res.StatusCode, b, sale)
	}

	// After the TTL the full answer is gone: the replay is the sale as it
	// is now, 200, as GET answers it.
	e.clock.Add(25 * time.Hour)
	if _, err := e.svc.SweepIdempotency(context.Background(), 100); err != nil {
		t.Fatal(err)
	}
	res, b = e.raw("POST", "/api/sales", tok, "replay-sales.create", "application/json", saleBody)
	if res.StatusCode != 200 || res.Header.Get("X-Idempotent-Replay") != "true" || !bytes.Equal(b, now) {
		t.Errorf("replay after the TTL: %d %v\n got %s\nwant %s", res.StatusCode, res.Header, b, now)
	}
	// An import's report is its document: the replay after the TTL is
	// still the first answer.
	res, b = e.raw("POST", "/api/products/import", tok, "replay-products.import", "application/json", impBody)
	if res.StatusCode != 200 || res.Header.Get("X-Idempotent-Replay") != "true" || !bytes.Equal(b, imp) {
		t.Errorf("import replay after the TTL: %d %v\n got %s\nwant %s", res.StatusCode, res.Header, b, imp)
	}
}
