package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"posd/api/client"
	"posd/engine"
)

// TestConcurrentSameKey sends 50 identical requests with one key at once:
// one document, 50 identical bodies, exactly one first answer.
func TestConcurrentSameKey(t *testing.T) {
	e := newEnv(t)
	body := `{"locationId":"` + e.shop.loc + `","items":[{"productId":"` + e.shop.apple.ID + `","quantity":1}],"payments":[{"method":"cash","amount":150}]}`
	const n = 50
	type answer struct {
		status   int
		body     []byte
		replayed bool
	}
	answers := make([]answer, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			<-start
			req, _ := http.NewRequest("POST", e.srv.URL+"/api/sales", strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+e.ownerToken())
			req.Header.Set("Idempotency-Key", "storm")
			req.Header.Set("Content-Type", "application/json")
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			answers[i] = answer{res.StatusCode, readAll(t, res), res.Header.Get("X-Idempotent-Replay") == "true"}
			res.Body.Close()
		}(i)
	}
	close(start)
	wg.Wait()
	firsts := 0
	for i, a := range answers {
		if a.status != 201 || !bytes.Equal(a.body, answers[0].body) {
			t.Fatalf("answer %d: %d %s\nwant 201 %s", i, a.status, a.body, answers[0].body)
		}
		if !a.replayed {
			firsts++
		}
	}
	if firsts != 1 {
		t.Errorf("first answers: got %d, want 1", firsts)
	}
	if got := countSales(t, e.shop.owner); got != 1 {
		t.Errorf("sales: got %d, want 1", got)
	}
}

// TestReplayVariants: the same request with other key order and white space
// replays; the replay carries both headers and the first answer neither.
func TestReplayVariants(t *testing.T) {
	e := newEnv(t)
	f := e.shop
	a := `{"locationId":"` + f.loc + `","items":[{"productId":"` + f.apple.ID + `","quantity":1.5}],"payments":[{"method":"cash","amount":300}]}`
	b := "{\n  \"payments\" : [ { \"amount\" : 300 , \"method\" : \"cash\" } ],\n\t\"items\":[{\"quantity\":1.5,\"productId\":\"" + f.apple.ID + "\"}],  \"locationId\":\"" + f.loc + "\"\n}\n"
	res1, body1 := e.raw("POST", "/api/sales", e.ownerToken(), "variant", "application/json", a)
	if res1.StatusCode != 201 || res1.Header.Get("X-Idempotent-Replay") != "" || res1.Header.Get("Idempotent-Replayed") != "" {
		t.Fatalf("first: %d %v", res1.StatusCode, res1.Header)
	}
	res2, body2 := e.raw("POST", "/api/sales", e.ownerToken(), "variant", "application/json; charset=utf-8", b)
	if res2.StatusCode != 201 || res2.Header.Get("X-Idempotent-Replay") != "true" || res2.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("variant: %d %v %s", res2.StatusCode, res2.Header, body2)
	}
	if !bytes.Equal(body1, body2) {
		t.Errorf("bodies differ:\n%s\n%s", body1, body2)
	}
	// A quoted structured-header key is the same key.
	res3, body3 := e.raw("POST", "/api/sales", e.ownerToken(), `"variant"`, "application/json", a)
	if res3.StatusCode != 201 || !bytes.Equal(body1, body3) || res3.Header.Get("X-Idempotent-Replay") != "true" {
		t.Errorf("quoted key: %d %s", res3.StatusCode, body3)
	}
	if got := countSales(t, f.owner); got != 1 {
		t.Errorf("sales: got %d, want 1", got)
	}
}

// TestTokenReplayHasNoSecret: POST /tokens replays with "token": null.
func TestTokenReplayHasNoSecret(t *testing.T) {
	e := newEnv(t)
	body := `{"role":"till","name":"Till 2"}`
	res, b1 := e.raw("POST", "/api/tokens", e.ownerToken(), "tok", "application/json", body)
	if res.StatusCode != 201 || !strings.Contains(string(b1), `"token":"posd_`) {
		t.Fatalf("first: %d %s", res.StatusCode, b1)
	}
	res, b2 := e.raw("POST", "/api/tokens", e.ownerToken(), "tok", "application/json", body)
	if res.StatusCode != 201 || res.Header.Get("X-Idempotent-Replay") != "true" || !strings.Contains(string(b2), `"token":null`) {
		t.Fatalf("replay: %d %s", res.StatusCode, b2)
	}
	var v1, v2 map[string]any
	json.Unmarshal(b1, &v1)
	json.Unmarshal(b2, &v2)
	if v1["id"] != v2["id"] {
		t.Errorf("replay is another token: %v vs %v", v1["id"], v2["id"])
	}
}

// TestSameKeyTwoBusinesses: keys are scoped to the business.
func TestSameKeyTwoBusinesses(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	a, err := e.shop.till.CreateSale(ctx, "shared", e.shop.saleRequest("1"))
	must(t, err)
	b, err := e.shopB.till.CreateSale(ctx, "shared", e.shopB.saleRequest("1"))
	must(t, err)
	if a.ID == b.ID || a.InvoiceNumber != "INV-202611-0001" || b.InvoiceNumber != "INV-202611-0001" {
		t.Errorf("two businesses: %s %s / %s %s", a.ID, a.InvoiceNumber, b.ID, b.InvoiceNumber)
	}
}

// TestRetryAfterTTL: a retry after the 24 h window still gets the original
// sale (200, replay headers), not a second one.
func TestRetryAfterTTL(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	f := e.shop
	first, err := f.till.CreateSale(ctx, "late-key", f.saleRequest("1"))
	must(t, err)
	e.clock.Add(25 * time.Hour)
	if _, err := e.svc.SweepIdempotency(ctx, 100); err != nil {
		t.Fatal(err)
	}
	resp, err := f.till.Do(ctx, "POST", "/api/sales", "late-key", f.saleRequest("1"))
	must(t, err)
	if resp.Status != 200 || !resp.Replayed || resp.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("late retry: %d replayed=%v", resp.Status, resp.Replayed)
	}
	var got engine.Sale
	json.Unmarshal(resp.Body, &got)
	if got.ID != first.ID || got.InvoiceNumber != first.InvoiceNumber {
		t.Errorf("late retry: got %s %s, want %s %s", got.ID, got.InvoiceNumber, first.ID, first.InvoiceNumber)
	}
	if n := countSales(t, f.owner); n != 1 {
		t.Errorf("sales: got %d, want 1", n)
	}
	_, err = f.till.CreateSale(ctx, "late-key", f.saleRequest("2"))
	if engine.ErrorCode(err) != engine.EIDEMPOTENCYREUSED {
		t.Errorf("late retry with other body: %v", err)
	}
}

// TestClientRetriesWithSameKey: the Go client retries a 5xx with the same
// key, and the write happens once.
func TestClientRetriesWithSameKey(t *testing.T) {
	e := newEnv(t)
	c, p := lossyClient(t, e, func(*http.Request) bool { return true })
	p.loseNext(2)
	sale, err := c.CreateSale(context.Background(), "", e.shop.saleRequest("1"))
	must(t, err)
	if keys := p.seen(); len(keys) != 3 || keys[0] == "" || keys[0] != keys[1] || keys[1] != keys[2] {
		t.Errorf("keys sent: %q", keys)
	}
	if sale.InvoiceNumber != "INV-202611-0001" || countSales(t, e.shop.owner) != 1 {
		t.Errorf("sale %s, %d sales", sale.InvoiceNumber, countSales(t, e.shop.owner))
	}
	// 4xx is never retried.
	p.loseNext(0)
	bad := e.shop.saleRequest("1")
	bad.Payments[0].Amount = 1
	_, err = c.CreateSale(context.Background(), "", bad)
	if engine.ErrorCode(err) != engine.EINVALID || len(p.seen()) != 1 {
		t.Errorf("4xx: %v after %d attempts", err, len(p.seen()))
	}
}

// TestClientTokenLostAnswer: the first answer to POST /api/tokens, the only
// one that carries the secret, is lost after the commit. With a key of its
// own the client revokes the token nobody can use and makes another, so
// the caller gets a working secret and no orphan is left; with the
// caller's key the replay comes back as it is, secret null.
func TestClientTokenLostAnswer(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	c, p := lossyClient(t, e, func(r *http.Request) bool { return r.Method == "POST" })
	before, err := c.Tokens(ctx)
	must(t, err)

	p.loseNext(1)
	tok, err := c.CreateToken(ctx, "", client.TokenRequest{Role: engine.RoleTill, Name: "Till 9"})
	must(t, err)
	if tok.Secret == nil {
		t.Fatal("CreateToken with the client's own key returned no secret after a lost answer")
	}
	me, err := client.New(c.BaseURL, *tok.Secret).Me(ctx)
	must(t, err)
	if me.Token.ID != tok.ID {
		t.Errorf("the secret belongs to token %s, the answer names %s", me.Token.ID, tok.ID)
	}
	after, err := c.Tokens(ctx)
	must(t, err)
	if len(after) != len(before)+1 {
		t.Errorf("tokens: %d before, %d after; want exactly one more (the orphan revoked)", len(before), len(after))
	}

	p.loseNext(1)
	tok, err = c.CreateToken(ctx, "mine", client.TokenRequest{Role: engine.RoleTill, Name: "Till 10"})
	must(t, err)
	if tok.Secret != nil || tok.ID == "" {
		t.Errorf("caller's key: replay gave secret=%v id=%q, want the token with no secret", tok.Secret, tok.ID)
	}
}

// TestKeyReusedWithAnotherSoldAt: a sale's soldAt (issue 10) is part of
// what its key stands for, on the fast path that decodes and fingerprints
// a till's sale as much as through encoding/json: the same body again is a
// replay, another soldAt or none is a reused key.
func TestKeyReusedWithAnotherSoldAt(t *testing.T) {
	e := newEnv(t)
	f := e.shop
	body := func(tail string) string {
		return `{"locationId":"` + f.loc + `","items":[{"productId":"` + f.apple.ID + `","quantity":1}],"payments":[{"method":"cash","amount":300}]` + tail + `}`
	}
	first := body(`,"soldAt":"2026-12-01T10:11:12.345Z"`)
	res, b1 := e.raw("POST", "/api/sales", e.ownerToken(), "sold-at", "application/json", first)
	if res.StatusCode != 201 {
		t.Fatalf("first: %d %s", res.StatusCode, b1)
	}
	res, b2 := e.raw("POST", "/api/sales", e.ownerToken(), "sold-at", "application/json", first)
	if res.StatusCode != 201 || res.Header.Get("Idempotent-Replayed") != "true" || !bytes.Equal(b1, b2) {
		t.Errorf("same body again: %d %v %s", res.StatusCode, res.Header.Get("Idempotent-Replayed"), b2)
	}
	for name, other := range map[string]string{
		"another soldAt": body(`,"soldAt":"2026-12-01T10:11:13.345Z"`),
		"no soldAt":      body(``),
	} {
		res, b := e.raw("POST", "/api/sales", e.ownerToken(), "sold-at", "application/json", other)
		if res.StatusCode != 422 || codeOf(b) != engine.EIDEMPOTENCYREUSED {
			t.Errorf("%s: %d %s, want 422 %s", name, res.StatusCode, b, engine.EIDEMPOTENCYREUSED)
		}
	}
	if got := countSales(t, f.owner); got != 1 {
		t.Errorf("sales: got %d, want 1", got)
	}
}
