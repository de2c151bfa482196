package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"posd/engine"
	"posd/engine/pgstore"
	"posd/engine/pgstore/pgtest"
)

// TestPostgresChainsAndExport: a month migrated into PostgreSQL keeps its
// chains; posd export --database gives the same files, byte for byte, as
// the export of the embedded database it came from; verify --database
// recomputes the chains against that export's manifest, and names a
// document whose values were changed in PostgreSQL behind posd's back.
func TestPostgresChainsAndExport(t *testing.T) {
	dir, m := monthDir(t)
	url := pgtest.NewDatabase(t, "")
	out, errOut, code := posd(t, "migrate", "--data-dir", dir, "--to", url)
	if code != 0 || !strings.Contains(out, "with their hashes") {
		t.Fatalf("migrate --to: %d %s %s", code, out, errOut)
	}
	heads := 0
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "  chain head") {
			heads++
			if !strings.HasSuffix(line, "6 in the target  same") {
				t.Errorf("migrate's chain heads: %q", line)
			}
		}
	}
	if heads != 1 {
		t.Errorf("migrate compared no chain heads:\n%s", out)
	}

	exports := t.TempDir()
	embedded, onPG := filepath.Join(exports, "embedded"), filepath.Join(exports, "postgres")
	if _, errOut, code := posd(t, "export", "--data-dir", dir, "--from", "2026-11-01", "--to", "2026-11-30", "--out", embedded); code != 0 {
		t.Fatal(errOut)
	}
	if out, errOut, code := posd(t, "export", "--database", url, "--from", "2026-11-01", "--to", "2026-11-30", "--out", onPG); code != 0 || !strings.Contains(out, "from PostgreSQL database") {
		t.Fatalf("export --database: %d %s %s", code, out, errOut)
	}
	for _, name := range append(slices.Clone(exportFiles), "manifest.json") {
		a, err := os.ReadFile(filepath.Join(embedded, name))
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(onPG, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) || len(a) == 0 {
			t.Errorf("%s exported from PostgreSQL differs from the embedded database's (%d and %d bytes)", name, len(b), len(a))
		}
	}

	out, errOut, code = posd(t, "verify", "--database", url, "--anchor", filepath.Join(onPG, "manifest.json"))
	if code != 0 || !strings.Contains(out, "ok    hash chains: 31 documents recomputed in 6 series; 6 of 6 anchors match") {
		t.Fatalf("verify --database --anchor of the migrated month: %d\n%s%s", code, out, errOut)
	}

	// A payment changed in PostgreSQL, without hashing again.
	sales, _ := m.November()
	st, err := pgstore.Open(context.Background(), url, pgstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = st.Update(context.Background(), func(tx engine.Tx) error {
		s, err := tx.Sale(m.Biz.ID, sales[6].ID)
		if err != nil {
			return err
		}
		s.Payments[0].Amount += 100
		s.Paid += 100
		s.Change += 100
		return tx.PutSale(s)
	})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	out, _, code = posd(t, "verify", "--database", url)
	if code != 1 || !strings.Contains(out, "FAIL  hash chains") || !strings.Contains(out, "INV-202611-0007: its values no longer match its hash") {
		t.Errorf("verify --database after a changed payment: %d\n%s", code, out)
	}
}

// TestMigrateBeforeChains: a data dir of the posd before hash chains
// (engine/boltstore/testdata/schema3.db.gz) is linked first, as serve
// would, its file as it was kept, and arrives in PostgreSQL chained: verify
// --database finds nothing to report.
func TestMigrateBeforeChains(t *testing.T) {
	gz, err := os.Open(filepath.Join("..", "..", "engine", "boltstore", "testdata", "schema3.db.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer gz.Close()
	zr, err := gzip.NewReader(gz)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	f, err := os.Create(filepath.Join(dir, dbFile))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(f, zr); err != nil {
		t.Fatal(err)
	}
	f.Close()
	url := pgtest.NewDatabase(t, "")
	out, errOut, code := posd(t, "migrate", "--data-dir", dir, "--to", url)
	if code != 0 || !strings.Contains(out, "written by an older posd: upgraded it first, as posd serve does (its 10 documents in 7 series linked into hash chains in ") || !strings.Contains(out, "hold the same") {
		t.Fatalf("migrate --to of a schema-3 file: %d %s %s", code, out, errOut)
	}
	kept, _ := filepath.Glob(filepath.Join(dir, "pre-chains-*.db"))
	if len(kept) != 1 || !strings.Contains(out, kept[0]) {
		t.Errorf("the file as it was: %v, output %s", kept, out)
	}
	out, errOut, code = posd(t, "verify", "--database", url)
	if code != 0 || !strings.Contains(out, "ok    hash chains: 10 documents recomputed") {
		t.Errorf("verify --database after migrating a schema-3 file: %d\n%s%s", code, out, errOut)
	}
}
