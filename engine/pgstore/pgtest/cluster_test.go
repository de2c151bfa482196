package pgtest_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"posd/engine/pgstore/pgtest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestCluster starts a cluster of its own, uses it, crashes and restarts
// it, and checks that Remove leaves nothing behind.
func TestCluster(t *testing.T) {
	c := pgtest.StartCluster(t, pgtest.Options{Durable: true})
	ctx := context.Background()
	url, err := c.CreateDatabase(ctx, "x", "")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(url, "postgres://postgres@127.0.0.1:") {
		t.Errorf("URL %q is not on 127.0.0.1", url)
	}
	if err := c.Exec(ctx, "x", "CREATE TABLE a (n int); INSERT INTO a VALUES (1)"); err != nil {
		t.Fatal(err)
	}
	if err := c.Crash(); err != nil {
		t.Fatal(err)
	}
	if c.Running() {
		t.Fatal("running after Crash")
	}
	if err := c.Exec(ctx, "x", "SELECT 1"); err == nil {
		t.Fatal("a query succeeded on a crashed server")
	}
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	if err := c.Exec(ctx, "x", "DO $$ BEGIN IF (SELECT count(*) FROM a) <> 1 THEN RAISE 'row lost'; END IF; END $$"); err != nil {
		t.Fatal(err)
	}
	dir := c.Dir
	if err := c.Remove(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("%s still exists after Remove", dir)
	}
}

// TestNewDatabase gives every caller its own database on one cluster.
func TestNewDatabase(t *testing.T) {
	a, b := pgtest.NewDatabase(t, ""), pgtest.NewDatabase(t, "")
	if a == b {
		t.Fatalf("two databases with one URL %s", a)
	}
}
