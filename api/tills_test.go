package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"posd/api"
	"posd/api/client"
	"posd/engine"
	"posd/engine/storetest/backends"
)

// pairOf sends POST /api/pair with key and code and returns the answer.
func (e *env) pairOf(key, code string) (*http.Response, []byte) {
	return e.raw("POST", "/api/pair", "", key, "application/json", `{"code":"`+code+`"}`)
}

func TestPairingCodeWorksOnce(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	f := e.shop
	pc, err := f.manager.CreatePairingCode(ctx, "", client.PairingRequest{Name: "Counter 2", LocationID: &f.loc})
	must(t, err)
	if pc.Code == nil || len(*pc.Code) != engine.PairingCodeLength || strings.Trim(*pc.Code, engine.PairingAlphabet) != "" {
		t.Fatalf("code %v: want 6 characters of %s", pc.Code, engine.PairingAlphabet)
	}
	code := *pc.Code
	if want := e.srv.URL + "/till/#pair=" + code; pc.URL == nil || *pc.URL != want {
		t.Errorf("url: got %v, want %s", pc.URL, want)
	}
	if d := pc.ExpiresAt.Sub(e.clock.Now()); d < 4*time.Minute+59*time.Second || d > 5*time.Minute {
		t.Errorf("expires in %s, want 5 minutes", d)
	}
	// The answer has exactly the contract's keys.
	res, b := e.raw("POST", "/api/pairing-codes", f.owner.Token, "pc-shape", "application/json", `{"name":"x"}`)
	var shape map[string]any
	json.Unmarshal(b, &shape)
	if res.StatusCode != 201 || len(shape) != 3 || shape["code"] == nil || shape["expiresAt"] == nil || shape["url"] == nil {
		t.Errorf("POST /api/pairing-codes: %d %s", res.StatusCode, b)
	}

	// Typed in lower case, it is the same code; no token is needed.
	anon := e.client("")
	p, err := anon.Pair(ctx, "", strings.ToLower(code))
	must(t, err)
	if p.Token == "" || p.TillID == "" || p.BusinessID == "" || p.LocationID == nil || *p.LocationID != f.loc || p.Replayed {
		t.Fatalf("pair: %+v", p)
	}
	till := e.client(p.Token)
	me, err := till.Me(ctx)
	must(t, err)
	if me.Token.Role != engine.RoleTill || me.Token.ID != p.TillID || me.Business.ID != p.BusinessID || *me.Token.LocationID != f.loc {
		t.Errorf("the paired token: %+v", me)
	}
	if _, err := till.CreateSale(ctx, "", f.saleRequest("1")); err != nil {
		t.Errorf("the paired till cannot sell: %v", err)
	}
	// Once: the same code again, by anyone, is unknown.
	if _, err := anon.Pair(ctx, "", code); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("the code a second time: got %v, want not_found", err)
	}
	tills, err := f.manager.Tills(ctx)
	must(t, err)
	n := 0
	for _, x := range tills {
		if x.Name == "Counter 2" {
			n++
			if x.ID != p.TillID || x.LastSeenAt != nil || x.Online || *x.LocationID != f.loc {
				t.Errorf("the new till before it reported: %+v", x)
			}
		}
	}
	if n != 1 {
		t.Errorf("%d tills named Counter 2, want 1", n)
	}
	// A till may not make codes.
	if _, err := f.till.CreatePairingCode(ctx, "", client.PairingRequest{Name: "x"}); !errors.Is(err, engine.ErrForbidden) {
		t.Errorf("till making a code: %v", err)
	}
	// Another business's location is a 404.
	if _, err := e.shopB.owner.CreatePairingCode(ctx, "", client.PairingRequest{Name: "x", LocationID: &f.loc}); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("code for another shop's location: %v", err)
	}
}

func TestPairingCodeExpiresAfterFiveMinutes(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	late, err := e.owner.CreatePairingCode(ctx, "", client.PairingRequest{Name: "Late"})
	must(t, err)
	onTime, err := e.owner.CreatePairingCode(ctx, "", client.PairingRequest{Name: "On time"})
	must(t, err)
	e.clock.Add(4*time.Minute + 58*time.Second)
	if _, err := e.client("").Pair(ctx, "", *onTime.Code); err != nil {
		t.Errorf("pairing at 4:58: %v", err)
	}
	e.clock.Add(2 * time.Second)
	res, b := e.pairOf("late-1", *late.Code)
	if res.StatusCode != 404 || errorShape(t, b) != engine.ENOTFOUND || !strings.Contains(string(b), "expired") {
		t.Errorf("pairing at 5:00: %d %s, want 404 not_found", res.StatusCode, b)
	}
}

// A code is 32^6 ≈ 10^9 possibilities and lives 5 minutes; guesses are
// counted like wrong tokens, so an address that guesses is stopped after
// 20 wrong ones.
func TestPairingGuessesAreRateLimited(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	pc, err := e.owner.CreatePairingCode(ctx, "", client.PairingRequest{Name: "Real"})
	must(t, err)
	limited := 0
	for i := 0; i < 25; i++ {
		guess := "AAAAA" + string(engine.PairingAlphabet[i%32])
		if guess == *pc.Code {
			continue
		}
		res, b := e.pairOf("guess-"+guess, guess)
		switch res.StatusCode {
		case 404:
			if limited > 0 {
				t.Errorf("guess %d answered 404 after a 429", i)
			}
		case 429:
			limited++
			if res.Header.Get("Retry-After") == "" || errorShape(t, b) != api.ERATELIMITED {
				t.Errorf("429 without Retry-After or code: %s", b)
			}
		default:
			t.Fatalf("guess %d: %d %s", i, res.StatusCode, b)
		}
	}
	if limited < 4 {
		t.Errorf("%d of 25 guesses were limited, want every one after the 20th", limited)
	}
	// While limited, even the right code waits: the address guessed.
	if res, _ := e.pairOf("right", *pc.Code); res.StatusCode != 429 {
		t.Errorf("the right code from a guessing address: %d, want 429", res.StatusCode)
	}
	// Malformed codes count too (they are guesses).
	if res, _ := e.pairOf("short", "ABC"); res.StatusCode != 429 {
		t.Errorf("a short code while limited: %d", res.StatusCode)
	}
}

// A till whose answer to POST /api/pair was lost retries with the same key
// and ends up with a working token, and the shop with one till: the replay
// carries the same till ID and a new secret; the lost one is revoked.
func TestPairingWithLostAnswerEndsWithOneTill(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	pc, err := e.owner.CreatePairingCode(ctx, "", client.PairingRequest{Name: "Lossy"})
	must(t, err)
	c, proxy := lossyClient(t, e, func(r *http.Request) bool { return r.URL.Path == "/api/pair" })
	c.Token = ""
	proxy.loseNext(1)
	p, err := c.Pair(ctx, "", *pc.Code)
	must(t, err)
	keys := proxy.seen()
	if len(keys) != 2 || keys[0] != keys[1] || !p.Replayed {
		t.Fatalf("attempts %v, replayed %v: want one lost answer and a replay with the same key", keys, p.Replayed)
	}
	if _, err := e.client(p.Token).CreateSale(ctx, "", e.shop.saleRequest("1")); err != nil {
		t.Errorf("the token of the replay does not sell: %v", err)
	}
	// By hand: a first answer, then a replay; the first secret stops working.
	pc2, err := e.owner.CreatePairingCode(ctx, "", client.PairingRequest{Name: "By hand"})
	must(t, err)
	res1, b1 := e.pairOf("hand-1", *pc2.Code)
	res2, b2 := e.pairOf("hand-1", *pc2.Code)
	var p1, p2 struct{ Token, TillID string }
	json.Unmarshal(b1, &p1)
	json.Unmarshal(b2, &p2)
	if res1.StatusCode != 201 || res2.StatusCode != 201 || res1.Header.Get("X-Idempotent-Replay") != "" || res2.Header.Get("X-Idempotent-Replay") != "true" || res2.Header.Get("Idempotent-Replayed") != "true" {
		t.Fatalf("first %d %v, replay %d %v", res1.StatusCode, res1.Header, res2.StatusCode, res2.Header)
	}
	if p1.TillID != p2.TillID || p1.Token == p2.Token || p2.Token == "" {
		t.Errorf("replay: till %s → %s, token changed %v", p1.TillID, p2.TillID, p1.Token != p2.Token)
	}
	if _, err := e.client(p1.Token).Me(ctx); !errors.Is(err, engine.ErrUnauthorized) {
		t.Errorf("the first secret after the replay: %v, want 401", err)
	}
	if _, err := e.client(p2.Token).Me(ctx); err != nil {
		t.Errorf("the replay's secret: %v", err)
	}
	// Another key with the used code is a guess like any other.
	if res, _ := e.pairOf("hand-2", *pc2.Code); res.StatusCode != 404 {
		t.Errorf("the used code with another key: %d", res.StatusCode)
	}
	tills, err := e.owner.Tills(ctx)
	must(t, err)
	names := map[string]int{}
	for _, x := range tills {
		names[x.Name]++
	}
	if names["Lossy"] != 1 || names["By hand"] != 1 {
		t.Errorf("tills: %v, want one Lossy and one By hand", names)
	}
}

// The office retrying POST /api/pairing-codes with its key gets a new code
// for the same pairing (a code is never stored in clear, so the first one
// cannot be shown again), and the first code no longer works.
func TestPairingCodeReplay(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	a, err := e.owner.CreatePairingCode(ctx, "pc-1", client.PairingRequest{Name: "Twice"})
	must(t, err)
	b, err := e.owner.CreatePairingCode(ctx, "pc-1", client.PairingRequest{Name: "Twice"})
	must(t, err)
	if !b.Replayed || a.Replayed || b.Code == nil || *a.Code == *b.Code {
		t.Fatalf("replay: %+v after %+v", b, a)
	}
	if res, _ := e.pairOf("old", *a.Code); res.StatusCode != 404 {
		t.Errorf("the replaced code: %d, want 404", res.StatusCode)
	}
	if _, err := e.owner.CreatePairingCode(ctx, "pc-1", client.PairingRequest{Name: "Other"}); !errors.Is(err, engine.ErrIdempotencyReused) {
		t.Errorf("the key with another body: %v, want 422", err)
	}
	p, err := e.client("").Pair(ctx, "", *b.Code)
	must(t, err)
	c, err := e.owner.CreatePairingCode(ctx, "pc-1", client.PairingRequest{Name: "Twice"})
	must(t, err)
	if !c.Replayed || c.Code != nil || c.URL != nil {
		t.Errorf("replay after the till paired: %+v, want no code", c)
	}
	_ = p
}

func TestTillStatus(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	f := e.shop
	me, err := f.boundTill.Me(ctx)
	must(t, err)
	oldest := e.clock.Now().Add(-90 * time.Second).UTC().Truncate(time.Second)
	report := client.TillReport{Queued: 3, Parked: 1, OldestQueuedAt: &oldest, Version: "till-1.2", Clock: e.clock.Now().Add(42 * time.Second),
		Counters: &engine.TillCounters{Sent: 1000, Retried: 40, QueuedAfterRetries: 1}}
	ops := func() uint64 { return backends.Commits(e.store).Operations }
	before := ops()
	must(t, f.boundTill.ReportTillStatus(ctx, report))
	if got := ops() - before; got != 1 {
		t.Errorf("the first report wrote %d operations, want 1", got)
	}
	find := func() *engine.Till {
		t.Helper()
		tills, err := f.manager.Tills(ctx)
		must(t, err)
		for _, x := range tills {
			if x.ID == me.Token.ID {
				return x
			}
		}
		t.Fatalf("till %s not listed", me.Token.ID)
		return nil
	}
	x := find()
	if !x.Online || x.LastSeenAt == nil || x.Queued != 3 || x.Parked != 1 || x.OldestQueuedAt == nil || !x.OldestQueuedAt.Equal(oldest) ||
		*x.Version != "till-1.2" || *x.ClockSkewSeconds < 41.9 || *x.ClockSkewSeconds > 42.1 {
		t.Errorf("listed: %+v", x)
	}
	if r := x.Indicators.RetrySuccessRate; r == nil || *r != 39.0/40 || x.Indicators.FailedAfterRetriesRate == nil || *x.Indicators.FailedAfterRetriesRate != 0.001 {
		t.Errorf("indicators: %+v", x.Indicators)
	}
	// Reports every 10 s with an unchanged queue are kept in memory; the
	// store is written when the queue changes, or after a minute.
	before = ops()
	for i := 0; i < 5; i++ {
		e.clock.Add(10 * time.Second)
		report.Clock = e.clock.Now()
		must(t, f.boundTill.ReportTillStatus(ctx, report))
	}
	if got := ops() - before; got != 0 {
		t.Errorf("five unchanged reports in 50 s wrote %d operations, want 0", got)
	}
	report.Queued = 0
	must(t, f.boundTill.ReportTillStatus(ctx, report))
	if got := ops() - before; got != 1 {
		t.Errorf("a changed queue wrote %d operations, want 1", got)
	}
	if x := find(); x.Queued != 0 || *x.ClockSkewSeconds > 0.1 || *x.ClockSkewSeconds < -0.1 {
		t.Errorf("after the change: queued %d skew %v", x.Queued, *x.ClockSkewSeconds)
	}
	// The till's figures are in /metrics, and its business's indicators in
	// the health view.
	_, mb := e.raw("GET", "/metrics", f.manager.Token, "", "", "")
	for _, want := range []string{`posd_till_queued{business="`, `till="` + me.Token.ID + `"} 0`, `posd_till_writes_retried_total{`, `} 40`, `posd_till_writes_queued_after_retries_total{`} {
		if !strings.Contains(string(mb), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	hd, err := f.manager.HealthDetails(ctx)
	must(t, err)
	ind := map[string]client.Indicator{}
	for _, i := range hd.Indicators {
		ind[i.ID] = i
	}
	if r := ind[api.IndRetrySuccess]; r.Value == nil || *r.Value != 39.0/40 || r.OK == nil || !*r.OK {
		t.Errorf("retry success indicator: %+v", r)
	}
	if r := ind[api.IndFailedAfterRetries]; r.Value == nil || *r.Value != 0.001 || r.OK == nil || *r.OK {
		t.Errorf("failed-after-retries indicator (0.1 %% is not under 0.1 %%): %+v", r)
	}
	if r := ind[api.IndOfflineQueue]; r.Value == nil || *r.Value != 0 || !*r.OK {
		t.Errorf("offline queue indicator: %+v", r)
	}
	if len(hd.Indicators) != 6 {
		t.Errorf("%d indicators, want 6", len(hd.Indicators))
	}
	// A till that stops reporting is offline within 30 s.
	e.clock.Add(29 * time.Second)
	if !find().Online {
		t.Error("offline after 29 s")
	}
	e.clock.Add(2 * time.Second)
	if find().Online {
		t.Error("online 31 s after its last report")
	}
	// The last report survives a restart (a new server on the same store).
	srv2 := newTestServer(t, api.NewServer(engine.NewService(e.store), api.Options{}))
	tills, err := client.New(srv2.URL, f.manager.Token).Tills(ctx)
	must(t, err)
	var got *engine.Till
	for _, y := range tills {
		if y.ID == me.Token.ID {
			got = y
		}
	}
	if got == nil || got.LastSeenAt == nil || got.Queued != 0 || *got.Version != "till-1.2" {
		t.Errorf("after a restart: %+v", got)
	}
	// Bad reports are refused with the contract's errors.
	for _, body := range []string{`{"queued":-1,"parked":0,"version":"x","clock":"2026-11-20T10:00:00Z"}`, `{"queued":1.5,"parked":0,"version":"x","clock":"2026-11-20T10:00:00Z"}`,
		`{"queued":1,"parked":0,"version":"x"}`, `{"queued":1,"parked":0,"version":"x","clock":"yesterday"}`, `{"queued":1,"parked":0,"version":"x","clock":"2026-11-20T10:00:00Z","extra":1}`} {
		res, b := e.raw("PUT", "/api/tills/current/status", f.till.Token, "", "application/json", body)
		if res.StatusCode != 400 || errorShape(t, b) != engine.EINVALID {
			t.Errorf("report %s: %d %s", body, res.StatusCode, b)
		}
	}
	res, _ := e.raw("PUT", "/api/tills/current/status", f.till.Token, "", "application/json", `{"queued":0,"parked":0,"oldestQueuedAt":null,"version":"1","clock":"2026-11-20T10:00:00Z"}`)
	if res.StatusCode != 204 {
		t.Errorf("a report without counters: %d", res.StatusCode)
	}
}

// Rename and revoke: a revoked till's next request is a 401, and every
// sale it sent is still there.
func TestRenameAndRevokeTill(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	f := e.shop
	me, err := f.boundTill.Me(ctx)
	must(t, err)
	for i := 0; i < 3; i++ {
		_, err := f.boundTill.CreateSale(ctx, "", f.saleRequest("1"))
		must(t, err)
	}
	x, err := f.manager.RenameTill(ctx, me.Token.ID, "Front counter")
	must(t, err)
	if x.Name != "Front counter" {
		t.Errorf("renamed: %+v", x)
	}
	if _, err := f.manager.RenameTill(ctx, me.Token.ID, " "); !errors.Is(err, engine.ErrInvalid) {
		t.Errorf("an empty name: %v", err)
	}
	// Owner and manager tokens are not tills.
	ownerMe, _ := f.owner.Me(ctx)
	if err := f.manager.RevokeTill(ctx, ownerMe.Token.ID); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("revoking the owner as a till: %v, want not_found", err)
	}
	if err := e.shopB.owner.RevokeTill(ctx, me.Token.ID); !errors.Is(err, engine.ErrNotFound) {
		t.Errorf("another shop revoking the till: %v, want not_found", err)
	}
	must(t, f.manager.RevokeTill(ctx, me.Token.ID))
	if _, err := f.boundTill.CreateSale(ctx, "", f.saleRequest("1")); !errors.Is(err, engine.ErrUnauthorized) {
		t.Errorf("a sale after the revocation: %v, want 401", err)
	}
	n := 0
	all, err := f.owner.AllSales(ctx)
	must(t, err)
	for _, s := range all {
		if s.TokenID == me.Token.ID {
			n++
		}
	}
	if n != 3 {
		t.Errorf("the revoked till's sales: %d, want 3", n)
	}
	tills, err := f.owner.Tills(ctx)
	must(t, err)
	for _, x := range tills {
		if x.ID == me.Token.ID {
			t.Error("the revoked till is still listed")
		}
	}
}
