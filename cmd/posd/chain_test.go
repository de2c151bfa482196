package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"posd/engine"
	"posd/engine/boltstore"
)

// alter changes a data directory's database through the store, with posd
// stopped, as someone with the file and posd's code could.
func alter(t *testing.T, dir string, fn func(tx engine.Tx) error) {
	t.Helper()
	st, err := boltstore.Open(filepath.Join(dir, dbFile), boltstore.Options{LockTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Update(context.Background(), fn); err != nil {
		t.Fatal(err)
	}
}

// TestVerifyChainsAndAnchors: posd verify recomputes the chains; a changed
// amount fails it and is named; a tail rewritten with posd's own hashing
// passes the chain's own checks but not the anchor of an export taken
// before, given with --anchor.
func TestVerifyChainsAndAnchors(t *testing.T) {
	dir, m := monthDir(t)
	exports := filepath.Join(t.TempDir(), "exports")
	nov := filepath.Join(exports, "2026-11")
	if _, stderr, code := posd(t, "export", "--data-dir", dir, "--from", "2026-11-01", "--to", "2026-11-30", "--out", nov); code != 0 {
		t.Fatal(stderr)
	}
	out, stderr, code := posd(t, "verify", "--data-dir", dir, "--anchor", filepath.Join(nov, "manifest.json"))
	if code != 0 || !strings.Contains(out, "ok    hash chains: 31 documents recomputed in 6 series; 6 of 6 anchors match") {
		t.Fatalf("verify of the untouched month: %d\n%s%s", code, out, stderr)
	}
	sales, _ := m.November()
	victim := sales[19] // INV-202611-0020

	// A tail rewritten with the chain's own code: INV-202611-0020 loses a
	// line, and it and every later sale are hashed again.
	alter(t, dir, func(tx engine.Tx) error {
		prev := sales[18].Hash
		for _, s := range append(sales[19:], m.Sales[len(m.Sales)-1]) {
			s, err := tx.Sale(m.Biz.ID, s.ID)
			if err != nil {
				return err
			}
			if s.ID == victim.ID {
				s.Items = s.Items[:1]
				s.Total, s.TaxTotal = s.Items[0].LineTotal, s.Items[0].TaxAmount
				s.Change = s.Paid - s.Total
			}
			s.PreviousHash = prev
			s.Hash, _ = engine.ComputeHash(s)
			prev = s.Hash
			if err := tx.PutSale(s); err != nil {
				return err
			}
			series, n, _ := engine.ParseNumber(s.InvoiceNumber)
			if err := tx.SetChainHead(m.Biz.ID, series, engine.ChainHead{Number: n, Hash: s.Hash}); err != nil {
				return err
			}
		}
		return nil
	})
	out, stderr, code = posd(t, "verify", "--data-dir", dir)
	if code != 0 {
		t.Fatalf("a consistent rewrite passes the chain's own checks; that is what anchors are for: %d\n%s%s", code, out, stderr)
	}
	out, _, code = posd(t, "verify", "--data-dir", dir, "--anchor", exports)
	if code != 1 || !strings.Contains(out, "FAIL  hash chains") || !strings.Contains(out, "INV-202611-0023: the manifest of the export of 2026-11-01 to 2026-11-30 ("+nov) ||
		!strings.Contains(out, "the chain was rewritten after the anchor was taken") {
		t.Errorf("verify with the export's manifest: %d\n%s", code, out)
	}

	// A changed amount, without hashing again: named by the chain alone.
	alter(t, dir, func(tx engine.Tx) error {
		s, err := tx.Sale(m.Biz.ID, sales[6].ID)
		if err != nil {
			return err
		}
		s.Payments[0].Amount += 100
		s.Paid += 100
		s.Change += 100
		return tx.PutSale(s)
	})
	out, _, code = posd(t, "verify", "--data-dir", dir)
	if code != 1 || !strings.Contains(out, "INV-202611-0007: its values no longer match its hash") {
		t.Errorf("verify after a changed payment: %d\n%s", code, out)
	}
}
