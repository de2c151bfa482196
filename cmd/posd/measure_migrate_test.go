package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"posd/engine/pgstore/pgtest"
)

// TestMeasureMigrate times posd migrate both ways on a large database and
// checks that both directions verify the same: the slow suite behind
// "make measure-migrate", run only when POSD_MEASURE_MIGRATE names a data
// dir holding the database (posd-load seed --data-dir DIR --sales 1000000
// makes one):
//
//	POSD_MEASURE_MIGRATE=/tmp/big go test -run TestMeasureMigrate -v -timeout 2h ./cmd/posd
//
// The PostgreSQL server is a throwaway one as a chain would run it (fsync
// and synchronous commit on). It migrates DIR into it, runs posd verify on
// the database, migrates it back into a new data dir and runs posd verify
// there; each migrate compares source and target object by object and
// fails on any difference.
func TestMeasureMigrate(t *testing.T) {
	src := os.Getenv("POSD_MEASURE_MIGRATE")
	if src == "" {
		t.Skip("set POSD_MEASURE_MIGRATE to a data dir (make measure-migrate) to run")
	}
	pg := pgtest.StartCluster(t, pgtest.Options{Durable: true, Settings: map[string]string{"max_wal_size": "4GB", "shared_buffers": "512MB"}})
	url, err := pg.CreateDatabase(context.Background(), "chain", "")
	if err != nil {
		t.Fatal(err)
	}
	db, _ := os.Stat(filepath.Join(src, dbFile))
	t.Logf("source: %s, %d MiB", src, db.Size()>>20)
	timed := func(args ...string) (string, time.Duration) {
		start := time.Now()
		stdout, stderr, code := posd(t, args...)
		d := time.Since(start)
		if code != 0 {
			t.Fatalf("posd %v: %d\n%s%s", args, code, stdout, stderr)
		}
		return stdout, d
	}
	out, to := timed("migrate", "--data-dir", src, "--to", url)
	t.Logf("migrate --to: %s\n%s", to.Round(time.Millisecond), out)
	var size int64
	if b, err := pgSize(url); err == nil {
		size = b
	}
	t.Logf("PostgreSQL database size after the import: %d MiB", size>>20)
	out, v := timed("verify", "--database", url)
	t.Logf("verify --database: %s\n%s", v.Round(time.Millisecond), lastLinesOf(out, 12))
	back := filepath.Join(t.TempDir(), "back")
	out, from := timed("migrate", "--from", url, "--data-dir", back)
	t.Logf("migrate --from: %s\n%s", from.Round(time.Millisecond), out)
	out, v2 := timed("verify", "--data-dir", back)
	t.Logf("verify --data-dir of the copy back: %s\n%s", v2.Round(time.Millisecond), lastLinesOf(out, 12))
	t.Logf("MEASURE migrate --to %s, verify --database %s, migrate --from %s, verify %s", to.Round(time.Second), v.Round(time.Second), from.Round(time.Second), v2.Round(time.Second))
}

func lastLinesOf(s string, n int) string {
	ls := strings.Split(strings.TrimSpace(s), "\n")
	if len(ls) > n {
		ls = ls[len(ls)-n:]
	}
	return strings.Join(ls, "\n")
}

// pgSize is the size of the database at url.
func pgSize(url string) (int64, error) {
	st, err := openPG(context.Background(), url, true, "posd measure")
	if err != nil {
		return 0, err
	}
	defer st.Close()
	return st.Size()
}
