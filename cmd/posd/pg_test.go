package main

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"posd/api"
	"posd/api/client"
	"posd/engine"
	"posd/engine/pgstore/pgtest"
)

// TestPostgresCommands runs the commands a chain's IT person runs, on a
// throwaway PostgreSQL: init and two serve processes on one database (a
// key sent to both makes one sale), the health view, backup into the
// embedded format and its verification, verify of the database itself,
// and migrate both ways with its refusals.
func TestPostgresCommands(t *testing.T) {
	url := pgtest.NewDatabase(t, "")
	out, errOut, code := posd(t, "init", "--database", url, "--data-dir", t.TempDir(), "--business", "Chain", "--timezone", "UTC", "--json")
	if code != 0 {
		t.Fatalf("init --database: %d %s", code, errOut)
	}
	var shop struct{ BusinessID, LocationID, OwnerToken string }
	if err := json.Unmarshal([]byte(out), &shop); err != nil {
		t.Fatalf("init --json printed %q", out)
	}
	a := startServe(t, filepath.Join(t.TempDir(), "a"), "--database", url, "--backup-every", "0")
	b := startServe(t, filepath.Join(t.TempDir(), "b"), "--database", url, "--backup-every", "0")
	if a.token != "" || b.token != "" {
		t.Error("serve on an initialised PostgreSQL database printed a new owner token")
	}
	ctx := context.Background()
	ca, cb := client.New("http://"+a.addr, shop.OwnerToken), client.New("http://"+b.addr, shop.OwnerToken)
	p, err := ca.CreateProduct(ctx, "", client.ProductRequest{SKU: "A", Name: "Apple", Price: 150})
	if err != nil {
		t.Fatal(err)
	}
	req := client.SaleRequest{LocationID: shop.LocationID, Items: []client.SaleLine{{ProductID: p.ID, Quantity: engine.Q(1)}},
		Payments: []engine.Payment{{Method: "cash", Amount: 150}}}
	var wg sync.WaitGroup
	ids := make([]string, 10)
	for i := range ids {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			c := ca
			if i%2 == 1 {
				c = cb
			}
			s, err := c.CreateSale(ctx, "one-key", req)
			if err != nil {
				t.Errorf("sale: %v", err)
				return
			}
			ids[i] = s.ID
		}(i)
	}
	wg.Wait()
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("one key on two processes made two sales: %v", ids)
		}
	}
	for i := 0; i < 6; i++ {
		c := []*client.Client{ca, cb}[i%2]
		if _, err := c.CreateSale(ctx, fmt.Sprintf("k%d", i), req); err != nil {
			t.Fatal(err)
		}
	}
	var h api.HealthDetails
	res, err := ca.Do(ctx, "GET", "/api/health/details", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	json.Unmarshal(res.Body, &h)
	if h.Database.Backend != "postgresql" || h.Database.Server == nil || !h.Database.Server.Reachable || h.Status != "ok" {
		t.Errorf("health details on PostgreSQL: %s", res.Body)
	}
	if h.Database.Server != nil && strings.Contains(h.Database.Server.Target, "@") {
		t.Errorf("health details show credentials: %s", h.Database.Server.Target)
	}
	res, err = ca.Do(ctx, "GET", "/metrics", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"posd_database_up 1", "posd_database_connections{state=\"in_use\"}", "posd_database_round_trips_total"} {
		if !strings.Contains(string(res.Body), m) {
			t.Errorf("/metrics on PostgreSQL lacks %s", m)
		}
	}

	// Backup into the embedded format, while both serve.
	file := filepath.Join(t.TempDir(), "chain.db")
	out, errOut, code = posd(t, "backup", "--database", url, "--out", file)
	if code != 0 || !strings.Contains(out, "7 sales") {
		t.Fatalf("backup --database: %d %s %s", code, out, errOut)
	}
	if out, _, code = posd(t, "verify", file); code != 0 {
		t.Errorf("verify of the PostgreSQL backup: %d %s", code, out)
	}
	out, errOut, code = posd(t, "verify", "--database", url)
	if code != 0 || !strings.Contains(out, "All checks passed") || !strings.Contains(out, "uniqueness constraints") {
		t.Errorf("verify --database: %d %s %s", code, out, errOut)
	}

	// migrate --from refuses while posd serves the database.
	home := filepath.Join(t.TempDir(), "home")
	if out, errOut, code = posd(t, "migrate", "--from", url, "--data-dir", home); code == 0 || !strings.Contains(errOut, "stop every posd") {
		t.Errorf("migrate --from while serving: %d %s %s", code, out, errOut)
	}
	for _, s := range []*server{a, b} {
		if err := s.proc.Stop(10 * time.Second); err != nil {
			t.Errorf("SIGTERM: %v", err)
		}
	}
	out, errOut, code = posd(t, "migrate", "--from", url, "--data-dir", home)
	if code != 0 || !strings.Contains(out, "hold the same") {
		t.Fatalf("migrate --from: %d %s %s", code, out, errOut)
	}
	if _, errOut, code = posd(t, "migrate", "--from", url, "--data-dir", home); code == 0 || !strings.Contains(errOut, "already holds a database") {
		t.Errorf("migrate --from into a data dir with a database: %d %s", code, errOut)
	}
	if out, _, code = posd(t, "verify", "--data-dir", home); code != 0 {
		t.Errorf("verify of the migrated data dir: %s", out)
	}
	// And back, into a new database; the old one is not empty.
	if _, errOut, code = posd(t, "migrate", "--data-dir", home, "--to", url); code == 0 || !strings.Contains(errOut, "not empty") || !strings.Contains(errOut, "nothing was changed") {
		t.Errorf("migrate --to a database with data: %d %s", code, errOut)
	}
	url2 := pgtest.NewDatabase(t, "")
	out, errOut, code = posd(t, "migrate", "--data-dir", home, "--to", url2)
	if code != 0 || !strings.Contains(out, "hold the same") {
		t.Fatalf("migrate --to: %d %s %s", code, out, errOut)
	}
	s := startServe(t, filepath.Join(t.TempDir(), "c"), "--database", url2, "--backup-every", "0")
	c := client.New("http://"+s.addr, shop.OwnerToken)
	next, err := c.CreateSale(ctx, "after-migrate", req)
	if err != nil || !strings.HasSuffix(next.InvoiceNumber, "-0008") {
		t.Errorf("first sale after two migrations: %v %v, want number 8", next, err)
	}
	replay, err := c.Do(ctx, "POST", "/api/sales", "one-key", req)
	if err != nil || !replay.Replayed {
		t.Errorf("replay of a key from before the migrations: %v", err)
	}
	if _, errOut, code = posd(t, "serve", "--database", "mysql://x", "--listen", freePort(t)); code != 2 || !strings.Contains(errOut, "postgres://") {
		t.Errorf("serve --database mysql://: %d %s", code, errOut)
	}
}
