//go:build linux

package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"posd/api"
	"posd/api/client"
	"posd/engine"
	"posd/engine/boltstore"
	"posd/engine/storetest"
)

// TestMain lets the processes the suite starts run this test binary as
// posd-load (asMainEnv), and builds the posd binary for the suite's test.
func TestMain(m *testing.M) {
	if os.Getenv(asMainEnv) == "1" {
		os.Exit(dispatch(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// testPosd is the real API over a real store, on a real listener, with
// the test shop (storetest.NewShop); it returns the URL and the owner
// token.
func testPosd(t *testing.T) (string, string, *boltstore.Store) {
	t.Helper()
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "posd.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	svc := engine.NewService(st)
	srv := httptest.NewServer(api.NewServer(svc, api.Options{}))
	t.Cleanup(func() {
		srv.Close()
		st.Close()
	})
	return srv.URL, storetest.NewShop(t, svc, "UTC").OwnerToken, st
}

func TestRunMixVerified(t *testing.T) {
	url, token, _ := testPosd(t)
	r, err := Run(context.Background(), Config{URL: url, Token: token, Tills: 6, Count: 400, Products: 20, Verify: true,
		RetryRate: 0.15, DoubleRate: 0.1, RefundRate: 0.1, Seed: 7})
	if err != nil {
		t.Fatal(err)
	}
	if !r.ok() {
		var b strings.Builder
		r.print(&b)
		t.Fatalf("run not clean:\n%s", b.String())
	}
	for _, k := range kindNames {
		if r.Mix[k] == 0 {
			t.Errorf("mix has no %s requests: %v", k, r.Mix)
		}
	}
	// Double submits are two requests each.
	if got := r.Mix["sale"] + r.Mix["retry"] + r.Mix["double"]/2 + r.Mix["refund"]; got != 400 {
		t.Errorf("operations: got %d, want 400 (%v)", got, r.Mix)
	}
	v := r.Verify
	if v.Acknowledged != r.Mix["sale"]+r.Mix["double"]/2 || v.Stored != v.Acknowledged || v.Returns != r.Mix["refund"] {
		t.Errorf("verification counts: %+v for mix %v", v, r.Mix)
	}
	if len(v.Series) != 1 || !strings.HasSuffix(v.Series[0], fmt.Sprintf(" 1..%d", v.Stored)) {
		t.Errorf("series: %v, want one series 1..%d", v.Series, v.Stored)
	}
	if r.Latency.N != r.Requests || r.Latency.P50 <= 0 || r.Latency.Max < r.Latency.P99 {
		t.Errorf("latency: %+v for %d requests", r.Latency, r.Requests)
	}
	// A second run on the same shop verifies only its own sales, numbered
	// on from the first run's.
	r2, err := Run(context.Background(), Config{URL: url, Token: token, Tills: 2, Count: 50, Products: 20, Verify: true})
	if err != nil || !r2.ok() {
		t.Fatalf("second run: %v %+v", err, r2.Verify)
	}
	if want := fmt.Sprintf(" %d..%d", v.Stored+1, v.Stored+r2.Verify.Stored); !strings.HasSuffix(r2.Verify.Series[0], want) {
		t.Errorf("second run series: %v, want …%s", r2.Verify.Series, want)
	}
}

// TestVerifyFindsDiscrepancies: the verification fails when the stored
// sales and the acknowledgements differ.
func TestVerifyFindsDiscrepancies(t *testing.T) {
	url, token, _ := testPosd(t)
	ctx := context.Background()
	cfg := Config{URL: url, Token: token, Tills: 1, Products: 3}
	cfg.defaults()
	hc := newHTTPClient(1, time.Minute)
	s, err := setup(ctx, &cfg, hc)
	if err != nil {
		t.Fatal(err)
	}
	base, err := takeBaseline(ctx, &cfg, hc)
	if err != nil {
		t.Fatal(err)
	}
	tc := client.New(url, s.tills[0])
	var acks []ack
	for i := range 4 {
		key := fmt.Sprintf("k%d", i)
		sale, err := tc.CreateSale(ctx, key, client.SaleRequest{LocationID: s.location,
			Items: []client.SaleLine{{ProductID: s.products[0].id, Quantity: engine.Q(1)}}, Payments: []engine.Payment{{Method: "cash", Amount: 10000}}})
		if err != nil {
			t.Fatal(err)
		}
		acks = append(acks, ack{key: key, id: sale.ID, number: sale.InvoiceNumber})
	}
	tl := newTill(0, &cfg, s)
	tl.sales = append(tl.sales, acks[:3]...)                                                                              // the 4th: stored, never acknowledged
	tl.sales = append(tl.sales, ack{key: "ghost", id: "0190c0de-0000-7000-8000-00000000dead", number: "INV-202611-0099"}) // acknowledged, not stored
	tl.sales[0].number = "INV-209901-0001"                                                                                // acknowledged with another number
	v := verify(ctx, &cfg, hc, base, []*till{tl})
	if v.OK || v.Missing != 1 || v.Unacknowledged != 1 || v.WrongNumber != 1 || v.Stored != 4 {
		t.Errorf("verification: %+v", v)
	}
	if p, _ := checkRun([]uint64{3, 1, 2, 5}, 1); p == "" {
		t.Error("checkRun missed a gap")
	}
	if p, _ := checkRun([]uint64{1, 2, 2, 3}, 1); p == "" {
		t.Error("checkRun missed a duplicate")
	}
	if p, _ := checkRun([]uint64{4, 5, 6}, 4); p != "" {
		t.Errorf("checkRun: %s", p)
	}
}

func TestDrainExactlyOnce(t *testing.T) {
	url, token, _ := testPosd(t)
	r, err := Run(context.Background(), Config{URL: url, Token: token, Tills: 5, PerTill: 30, Products: 10, Verify: true, RetryRate: 0.5})
	if err != nil {
		t.Fatal(err)
	}
	if !r.ok() || r.Verify.Acknowledged != 150 || r.Verify.Stored != 150 || r.Mix["sale"] != 150 || len(r.Mix) != 1 || r.DrainSeconds <= 0 {
		t.Errorf("drain: %+v, verify %+v", r, r.Verify)
	}
}

func TestBareServer(t *testing.T) {
	srv := httptest.NewServer(&bareHandler{})
	defer srv.Close()
	r, err := Run(context.Background(), Config{URL: srv.URL, Bare: true, Tills: 4, Count: 300, RetryRate: 0.05, DoubleRate: 0.01, RefundRate: 0.02})
	if err != nil {
		t.Fatal(err)
	}
	if r.Non2xx != 0 || r.OK != r.Requests || r.Verify != nil || r.Mix["sale"] == 0 {
		t.Errorf("bare run: %+v", r)
	}
}

// TestFloorServer: the HTTP floor answers every sale 201 with posd's
// answer headers and a body of posd's size, having read the whole body.
func TestFloorServer(t *testing.T) {
	srv := httptest.NewServer(newFloorHandler())
	defer srv.Close()
	body := strings.Repeat("x", 20000) // longer than one read
	resp, err := http.Post(srv.URL+"/api/sales", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 201 || len(got) != floorAnswerSize || resp.Header.Get("Content-Type") != "application/json; charset=utf-8" ||
		resp.Header.Get("Cache-Control") != "no-store" || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("floor answer: %d, %d bytes, %v", resp.StatusCode, len(got), resp.Header)
	}
	r, err := Run(context.Background(), Config{URL: srv.URL, Bare: true, Tills: 4, Count: 200})
	if err != nil {
		t.Fatal(err)
	}
	if r.Non2xx != 0 || r.OK != r.Requests {
		t.Errorf("floor run: %+v", r)
	}
}

func TestSeed(t *testing.T) {
	dir := t.TempDir()
	info, err := seed(context.Background(), dir, 300, 10, 8, 30*24*time.Hour, os.Stderr)
	if err != nil {
		t.Fatal(err)
	}
	if info.Sales != 300 || info.OwnerToken == "" {
		t.Fatalf("seed: %+v", info)
	}
	read, err := readSeedInfo(dir)
	if err != nil || *read != *info {
		t.Fatalf("seed.json: %+v, %v", read, err)
	}
	st, err := boltstore.Open(filepath.Join(dir, "posd.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	svc := engine.NewService(st)
	a, err := svc.Authenticate(context.Background(), info.OwnerToken)
	if err != nil {
		t.Fatal(err)
	}
	sales, _, err := svc.Sales(context.Background(), a, engine.SaleFilter{Limit: 500})
	if err != nil || len(sales) != 300 {
		t.Fatalf("sales: %d, %v", len(sales), err)
	}
	if last := sales[len(sales)-1].CreatedAt; time.Since(last) < 47*time.Hour {
		t.Errorf("newest seeded sale at %v: the dates should end two days ago", last)
	}
	withAnswer := 0
	engine.Scan(context.Background(), st, func(tx engine.ScanTx) error {
		return tx.Idempotencies(info.BusinessID, func(r *engine.IdempotencyRecord) error {
			if r.Answer != nil {
				withAnswer++
			}
			return nil
		})
	})
	if withAnswer != 0 {
		t.Errorf("%d idempotency records still hold their answers after the seed's sweep", withAnswer)
	}
}

// TestSuiteSmoke runs the whole suite, briefly, against the real posd
// binary: every figure comes out and the targets table is printed.
func TestSuiteSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("builds posd and runs it several times")
	}
	bin := filepath.Join(t.TempDir(), "posd")
	if out, err := exec.Command("go", "build", "-o", bin, "posd/cmd/posd").CombinedOutput(); err != nil {
		t.Fatalf("build posd: %v\n%s", err, out)
	}
	out := filepath.Join(t.TempDir(), "figures.json")
	var stdout, stderr strings.Builder
	err := runSuite(context.Background(), []string{"--posd", bin, "--seconds", "1s", "--tills", "1,3", "--skip-pg",
		"--big-sales", "200", "--big-dir", filepath.Join(t.TempDir(), "big"), "--drain-tills", "4", "--drain-queue", "25", "--out", out}, &stdout, &stderr)
	if err != nil {
		t.Fatalf("suite: %v\n%s", err, stderr.String())
	}
	for _, want := range []string{"| 3 |", "drain 4 tills × 25 queued sales", "cold start with 200 sales", "PostgreSQL yardstick skipped: --skip-pg", "verify      OK"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("suite output lacks %q:\n%s", want, stdout.String())
		}
	}
	if _, err := os.Stat(out); err != nil {
		t.Error(err)
	}
}

// TestRawConnFraming: the tills' hand-written HTTP client reads
// Content-Length and chunked answers, honours Connection: close, and sends
// what net/http's server parses.
func TestRawConnFraming(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if r.Header.Get("Idempotency-Key") != "k" || string(b) != `{"a":1}` || r.Method != "POST" {
			w.WriteHeader(400)
			return
		}
		w.Header().Set("X-Idempotent-Replay", "true")
		switch r.URL.Path {
		case "/chunked":
			w.WriteHeader(201)
			for i := range 3 {
				fmt.Fprintf(w, "part%d;", i)
				w.(http.Flusher).Flush()
			}
		case "/close":
			w.Header().Set("Connection", "close")
			w.WriteHeader(202)
			io.WriteString(w, "bye")
		default:
			w.WriteHeader(201)
			io.WriteString(w, "plain")
		}
	}))
	defer srv.Close()
	c, err := newRawConn(srv.URL, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.close()
	hdr := [][2]string{{"Content-Type", "application/json"}, {"Idempotency-Key", "k"}}
	var body bytes.Buffer
	for _, tc := range []struct {
		path   string
		status int
		body   string
	}{{"/plain", 201, "plain"}, {"/chunked", 201, "part0;part1;part2;"}, {"/close", 202, "bye"}, {"/plain", 201, "plain"}, {"/chunked", 201, "part0;part1;part2;"}} {
		a, err := c.do("POST", tc.path, hdr, []byte(`{"a":1}`), &body)
		if err != nil || a.status != tc.status || !a.replay || body.String() != tc.body {
			t.Errorf("%s: got %+v %q %v, want %d %q", tc.path, a, body.String(), err, tc.status, tc.body)
		}
		if tc.path == "/close" && c.c != nil {
			t.Error("connection kept after Connection: close")
		}
	}
}
