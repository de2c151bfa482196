package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"posd/api/client"
	"posd/backup"
	"posd/cmd/internal/posdproc"
	"posd/engine"
	"posd/engine/boltstore"
)

// shopOn prepares a running posd for selling: a product and the location.
func shopOn(t *testing.T, s *server) (*client.Client, client.SaleRequest) {
	t.Helper()
	ctx := context.Background()
	c := client.New("http://"+s.addr, s.token)
	locs, err := c.Locations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p, err := c.CreateProduct(ctx, "", client.ProductRequest{SKU: "A", Name: "Apple", Price: 150})
	if err != nil {
		t.Fatal(err)
	}
	return c, client.SaleRequest{LocationID: locs[0].ID, Items: []client.SaleLine{{ProductID: p.ID, Quantity: engine.Q(1)}},
		Payments: []engine.Payment{{Method: "cash", Amount: 150}}}
}

// sellUntil rings up sales from n tills until stop is closed, and returns
// how many succeeded.
func sellUntil(t *testing.T, c *client.Client, req client.SaleRequest, n int, stop chan struct{}) func() int64 {
	var sold atomic.Int64
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if _, err := c.CreateSale(context.Background(), "", req); err != nil {
					t.Errorf("sale during backup: %v", err)
					return
				}
				sold.Add(1)
			}
		}()
	}
	return func() int64 { wg.Wait(); return sold.Load() }
}

// TestBackupWhileSellingThenRestore: a backup taken through the running
// posd while tills keep selling verifies; restored into a fresh data
// directory it holds exactly the sales it says, identical to the
// originals, and numbering goes on from there.
func TestBackupWhileSellingThenRestore(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	s := startServe(t, dir)
	c, req := shopOn(t, s)
	ctx := context.Background()
	for i := 0; i < 20; i++ {
		if _, err := c.CreateSale(ctx, "", req); err != nil {
			t.Fatal(err)
		}
	}
	stop := make(chan struct{})
	wait := sellUntil(t, c, req, 4, stop)
	time.Sleep(100 * time.Millisecond)
	file := filepath.Join(t.TempDir(), "shop.db")
	out, errOut, code := posd(t, "backup", "--data-dir", dir, "--out", file)
	time.Sleep(100 * time.Millisecond)
	close(stop)
	sold := wait()
	if code != 0 || !strings.Contains(out, "through the running posd") {
		t.Fatalf("backup: %d %s %s", code, out, errOut)
	}
	t.Logf("%d sales during the backup", sold)
	if st, err := os.Stat(file); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("backup file: %v %v", st, err)
	}
	m, err := backup.ReadManifest(file)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Businesses) != 1 || m.Businesses[0].Counts.Sales < 20 || m.SHA256 == "" || m.SchemaVersion != boltstore.SchemaVersion {
		t.Fatalf("manifest: %+v", m)
	}
	inBackup := m.Businesses[0].Counts.Sales
	if out, errOut, code := posd(t, "verify", file); code != 0 || !strings.Contains(out, "All checks passed") {
		t.Fatalf("verify: %d %s %s", code, out, errOut)
	}

	// Restore into a fresh data directory and compare with the original.
	fresh := filepath.Join(t.TempDir(), "restored")
	out, errOut, code = posd(t, "restore", "--data-dir", fresh, file)
	if code != 0 || !strings.Contains(out, "Restored") {
		t.Fatalf("restore: %d %s %s", code, out, errOut)
	}
	orig, err := c.AllSales(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s2 := startServe(t, fresh)
	if s2.token != "" {
		t.Error("the restored database was initialised anew")
	}
	c2 := client.New("http://"+s2.addr, s.token) // the owner token travels with the database
	restored, err := c2.AllSales(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(restored) != inBackup {
		t.Fatalf("restored sales: got %d, the manifest says %d", len(restored), inBackup)
	}
	if len(orig) < len(restored) {
		t.Fatalf("the original has %d sales, fewer than the backup's %d", len(orig), len(restored))
	}
	for i, r := range restored {
		if !reflect.DeepEqual(r, orig[i]) {
			t.Fatalf("sale %d differs:\nrestored %+v\noriginal %+v", i, r, orig[i])
		}
	}
	next, err := c2.CreateSale(ctx, "", req)
	if err != nil {
		t.Fatal(err)
	}
	last := restored[len(restored)-1].InvoiceNumber
	series, n, _ := engine.ParseNumber(last)
	if want := engine.FormatNumber(series, n+1); next.InvoiceNumber != want {
		t.Errorf("first sale after restore: got %s, want %s", next.InvoiceNumber, want)
	}
}

// TestVerifyDamagedBackup: a copy with a few bytes changed is refused with
// a finding, and restore will not use it.
func TestVerifyDamagedBackup(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	if _, e, code := posd(t, "init", "--data-dir", dir); code != 0 {
		t.Fatal(e)
	}
	file := filepath.Join(t.TempDir(), "good.db")
	if _, e, code := posd(t, "backup", "--data-dir", dir, "--out", file); code != 0 {
		t.Fatal(e)
	}
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(t.TempDir(), "bad.db")
	b[len(b)/2] ^= 0xff
	b[len(b)/2+1] ^= 0xff
	os.WriteFile(bad, b, 0o600)
	mb, _ := os.ReadFile(backup.ManifestPath(file))
	os.WriteFile(backup.ManifestPath(bad), mb, 0o600)

	out, errOut, code := posd(t, "verify", bad)
	if code == 0 || !strings.Contains(out, "FAIL  manifest") || !strings.Contains(out, "damaged") {
		t.Errorf("verify damaged copy: code %d\n%s%s", code, out, errOut)
	}
	if strings.Count(strings.TrimSpace(errOut), "\n") != 0 || !strings.Contains(errOut, "finding") {
		t.Errorf("stderr should be one line naming the findings: %q", errOut)
	}
	fresh := filepath.Join(t.TempDir(), "fresh")
	if _, errOut, code := posd(t, "restore", "--data-dir", fresh, bad); code == 0 || !strings.Contains(errOut, "nothing was changed") {
		t.Errorf("restore of a damaged backup: %d %q", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(fresh, "posd.db")); err == nil {
		t.Error("a refused restore left a database behind")
	}
	// A truncated copy is refused the same way.
	os.WriteFile(bad, b[:len(b)/2], 0o600)
	if out, _, code := posd(t, "verify", bad); code == 0 || !strings.Contains(out, "truncated") {
		t.Errorf("verify truncated copy: %d %s", code, out)
	}
}

// TestRestoreRefusals: restore refuses while posd serves the data
// directory and refuses a backup from a newer schema; in both cases the
// database is left as it was.
func TestRestoreRefusals(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	s := startServe(t, dir)
	c, req := shopOn(t, s)
	ctx := context.Background()
	sale, err := c.CreateSale(ctx, "", req)
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "b.db")
	if _, e, code := posd(t, "backup", "--data-dir", dir, "--out", file); code != 0 {
		t.Fatal(e)
	}
	if _, err := c.CreateSale(ctx, "", req); err != nil {
		t.Fatal(err)
	}
	_, errOut, code := posd(t, "restore", "--data-dir", dir, file)
	if code == 0 || !strings.Contains(errOut, "running") || !strings.Contains(errOut, "nothing was changed") {
		t.Errorf("restore while serving: %d %q", code, errOut)
	}
	if all, err := c.AllSales(ctx); err != nil || len(all) != 2 {
		t.Errorf("after refused restore: %d sales, %v", len(all), err)
	}

	// A backup from a newer posd.
	var m map[string]any
	mb, _ := os.ReadFile(backup.ManifestPath(file))
	json.Unmarshal(mb, &m)
	m["schemaVersion"] = 99
	mb, _ = json.Marshal(m)
	os.WriteFile(backup.ManifestPath(file), mb, 0o600)
	s.stop(t)
	_, errOut, code = posd(t, "restore", "--data-dir", dir, file)
	if code == 0 || !strings.Contains(errOut, "nothing was changed") {
		t.Errorf("restore of a newer schema: %d %q", code, errOut)
	}
	out, _, _ := posd(t, "verify", file)
	if !strings.Contains(out, "newer posd") {
		t.Errorf("verify does not say the schema is newer:\n%s", out)
	}
	// Stopped, with a good backup: the restore goes through and keeps the
	// replaced database beside it.
	m["schemaVersion"] = 1
	mb, _ = json.Marshal(m)
	os.WriteFile(backup.ManifestPath(file), mb, 0o600)
	out, errOut, code = posd(t, "restore", "--data-dir", dir, file)
	if code != 0 || !strings.Contains(out, "pre-restore-") {
		t.Fatalf("restore: %d %s %s", code, out, errOut)
	}
	kept, _ := filepath.Glob(filepath.Join(dir, "pre-restore-*.db"))
	if len(kept) != 1 {
		t.Errorf("previous database kept: %v", kept)
	}
	s2 := startServe(t, dir)
	c2 := client.New("http://"+s2.addr, s.token)
	all, err := c2.AllSales(ctx)
	if err != nil || len(all) != 1 || all[0].ID != sale.ID {
		t.Errorf("after restore: %v %v", all, err)
	}
}

// TestCompact: compacting keeps every document and number.
func TestCompact(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	s := startServe(t, dir)
	c, req := shopOn(t, s)
	for i := 0; i < 30; i++ {
		if _, err := c.CreateSale(context.Background(), "", req); err != nil {
			t.Fatal(err)
		}
	}
	if _, errOut, code := posd(t, "compact", "--data-dir", dir); code == 0 || !strings.Contains(errOut, "running") {
		t.Errorf("compact while serving: %d %q", code, errOut)
	}
	s.stop(t)
	out, errOut, code := posd(t, "compact", "--data-dir", dir)
	if code != 0 || !strings.Contains(out, "Compacted") {
		t.Fatalf("compact: %d %s %s", code, out, errOut)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "pre-compact-*")); len(left) != 0 {
		t.Errorf("old file left without --keep-old: %v", left)
	}
	if out, _, code := posd(t, "verify", "--data-dir", dir); code != 0 || !strings.Contains(out, "30 documents") {
		t.Errorf("verify after compact: %d\n%s", code, out)
	}
}

// TestServiceRunForeground: posd service run serves like serve, logs its
// lifecycle to the rotating log file in the data directory, and stops
// cleanly on SIGTERM within the service stop timeout.
func TestServiceRunForeground(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "svc data")
	addr := freePort(t)
	proc, err := posdproc.Start(posdproc.Options{Bin: posdBin, Args: []string{"service", "run", "--data-dir", dir, "--listen", addr}, Addr: addr, Poll: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(proc.Kill)
	if err := proc.WaitHealthy(10 * time.Second); err != nil {
		t.Fatalf("service run did not answer: %v", err)
	}
	start := time.Now()
	err = proc.Stop(15 * time.Second)
	if err != nil || time.Since(start) > 15*time.Second {
		t.Errorf("stop: %v after %v", err, time.Since(start))
	}
	log, err := os.ReadFile(filepath.Join(dir, "posd.log"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"service starting", "posd serving", "service stopping", "service stopped", "Owner token"} {
		if !strings.Contains(string(log), want) {
			t.Errorf("log file lacks %q:\n%s", want, log)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "posd.db")); err != nil {
		t.Errorf("no database: %v", err)
	}
	_, errOut, code := posd(t, "service", "explode")
	if code == 0 || !strings.Contains(errOut, "unknown service action") {
		t.Errorf("unknown action: %d %q", code, errOut)
	}
}

func TestVerifyUsage(t *testing.T) {
	_, errOut, code := posd(t, "verify")
	if code != 2 || !strings.Contains(errOut, "FILE") {
		t.Errorf("verify without arguments: %d %q", code, errOut)
	}
	_, errOut, code = posd(t, "verify", filepath.Join(t.TempDir(), "nope.db"))
	if code == 0 || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
		t.Errorf("verify of a missing file: %d %q", code, errOut)
	}
	_, errOut, code = posd(t, "restore", "--data-dir", t.TempDir())
	if code != 2 || !strings.Contains(errOut, "FILE") {
		t.Errorf("restore without FILE: %d %q", code, errOut)
	}
	_, errOut, code = posd(t, "backup", "--data-dir", t.TempDir())
	if code != 2 || !strings.Contains(errOut, "--out") {
		t.Errorf("backup without --out: %d %q", code, errOut)
	}
	_, errOut, code = posd(t, "backup", "--data-dir", filepath.Join(t.TempDir(), "none"), "--out", filepath.Join(t.TempDir(), "x.db"))
	if code == 0 || !strings.Contains(errOut, "no posd database") {
		t.Errorf("backup of an empty dir: %d %q", code, errOut)
	}
}
