package boltstore

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"path/filepath"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"

	"posd/engine"
	"posd/engine/storetest"
)

// The tamper tests alter a real database file the way someone with the file
// and a bbolt tool would, with posd stopped, then open it again and require
// posd's verification to name what was done. Each starts from storetest's
// Month (a November of sales, refunds, a receipt and a transfer), closed
// cleanly, and checks that the untouched file verifies first.

// tamperMonth builds the month in a file and returns its path, the month
// and the manifest of November's export taken before any tampering: the
// anchor an owner would have kept.
func tamperMonth(t *testing.T) (string, *storetest.Month, *engine.ExportManifest) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "posd.db")
	st, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	m := storetest.NewMonth(t, engine.NewService(st))
	man, err := m.Svc.Export(context.Background(), engine.ExportRequest{BusinessID: m.Biz.ID, From: "2026-11-01", To: "2026-11-30"},
		func(string) (io.WriteCloser, error) { return nopCloser{io.Discard}, nil })
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	rep := verifyFile(t, path, m, man.Anchors("the November export's manifest"))
	if !rep.OK() || len(rep.Anchors) != 6 {
		t.Fatalf("the untouched file does not verify: %v, %d anchors", rep.Findings, len(rep.Anchors))
	}
	return path, m, man
}

type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// tamper opens the bbolt file directly and changes it in one transaction.
func tamper(t *testing.T, path string, fn func(tx *bolt.Tx) error) {
	t.Helper()
	db, err := bolt.Open(path, 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Update(fn); err != nil {
		db.Close()
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
}

// verifyFile opens the file as posd does and recomputes the business's
// chains against anchors.
func verifyFile(t *testing.T, path string, m *storetest.Month, anchors []engine.Anchor) *engine.ChainReport {
	t.Helper()
	st, err := Open(path, Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rep, err := engine.NewService(st).VerifyChains(context.Background(), m.Biz.ID, anchors)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// rawSale reads the sale carrying number straight from the file.
func rawSale(t *testing.T, tx *bolt.Tx, biz, number string) *engine.Sale {
	t.Helper()
	ref, err := decodeDocRef(tx.Bucket([]byte(bNumbers)).Get(key(biz, number)))
	if err != nil {
		t.Fatalf("%s: %v", number, err)
	}
	var s engine.Sale
	if err := decodeSale(tx.Bucket([]byte(bSales)).Get(key(biz, ref.ID)), &s); err != nil {
		t.Fatal(err)
	}
	s.BusinessID = biz
	return &s
}

func putRawSale(tx *bolt.Tx, s *engine.Sale) error {
	return tx.Bucket([]byte(bSales)).Put(key(s.BusinessID, s.ID), encodeSale(s))
}

// wantFindings requires a finding about each number, containing the words.
func wantFindings(t *testing.T, rep *engine.ChainReport, want map[string]string) {
	t.Helper()
	for number, words := range want {
		found := false
		for _, f := range rep.Findings {
			if strings.HasPrefix(f, number+": ") && strings.Contains(f, words) {
				found = true
			}
		}
		if !found {
			t.Errorf("no finding about %s saying %q; findings:\n%s", number, words, strings.Join(rep.Findings, "\n"))
		}
	}
}

func firstBreak(rep *engine.ChainReport, s engine.Series) string {
	for _, sr := range rep.Series {
		if sr.Series == s {
			return sr.FirstBreak
		}
	}
	return "series not reported"
}

// A sale deleted from the middle, with its number given to the next sale
// and every later number moved down by one, so that the series is 1..N
// again and the gap check has nothing to see: the renumbered sales no
// longer match their hashes.
func TestTamperDeleteFromTheMiddle(t *testing.T) {
	path, m, _ := tamperMonth(t)
	biz := m.Biz.ID
	tamper(t, path, func(tx *bolt.Tx) error {
		last := u64(tx.Bucket([]byte(bCounters)).Get(key(biz, "INV-202611")))
		victim := rawSale(t, tx, biz, "INV-202611-0005")
		if err := removeSale(tx, biz, victim.ID); err != nil {
			return err
		}
		for n := uint64(6); n <= last; n++ {
			s := rawSale(t, tx, biz, engine.FormatNumber("INV-202611", n))
			s.InvoiceNumber = engine.FormatNumber("INV-202611", n-1)
			if err := putRawSale(tx, s); err != nil {
				return err
			}
			if err := tx.Bucket([]byte(bNumbers)).Put(key(biz, s.InvoiceNumber), encodeDocRef(engine.DocRef{Kind: engine.KindSale, ID: s.ID})); err != nil {
				return err
			}
		}
		if err := tx.Bucket([]byte(bNumbers)).Delete(key(biz, engine.FormatNumber("INV-202611", last))); err != nil {
			return err
		}
		return tx.Bucket([]byte(bCounters)).Put(key(biz, "INV-202611"), u64bytes(last-1))
	})
	rep := verifyFile(t, path, m, nil)
	wantFindings(t, rep, map[string]string{
		"INV-202611-0005": "values no longer match its hash",
		"INV-202611-0006": "values no longer match its hash",
	})
	if got := firstBreak(rep, "INV-202611"); got != "INV-202611-0005" {
		t.Errorf("first break: got %s, want INV-202611-0005", got)
	}
	// The series is 1..N-1 without a gap: only the chain saw it.
	st, _ := Open(path, Options{ReadOnly: true})
	defer st.Close()
	vr, err := engine.NewService(st).Verify(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range vr.Checks {
		if c.Failed() != (c.Name == engine.CheckChains) {
			t.Errorf("check %q failed=%v: %v", c.Name, c.Failed(), c.Findings)
		}
	}
}

// A sale removed outright, its number left missing.
func TestTamperDeleteLeavingAGap(t *testing.T) {
	path, m, _ := tamperMonth(t)
	tamper(t, path, func(tx *bolt.Tx) error {
		s := rawSale(t, tx, m.Biz.ID, "INV-202611-0005")
		if err := tx.Bucket([]byte(bSales)).Delete(key(m.Biz.ID, s.ID)); err != nil {
			return err
		}
		return tx.Bucket([]byte(bNumbers)).Delete(key(m.Biz.ID, "INV-202611-0005"))
	})
	rep := verifyFile(t, path, m, nil)
	wantFindings(t, rep, map[string]string{
		"INV-202611-0005": "is missing",
		"INV-202611-0006": "does not chain to INV-202611-0004",
	})
	if got := firstBreak(rep, "INV-202611"); got != "INV-202611-0005" {
		t.Errorf("first break: got %s", got)
	}
}

// An amount changed: one line's quantity and total, and the sale's total
// and payment, kept consistent with each other.
func TestTamperChangedAmount(t *testing.T) {
	path, m, _ := tamperMonth(t)
	tamper(t, path, func(tx *bolt.Tx) error {
		s := rawSale(t, tx, m.Biz.ID, "INV-202611-0007")
		s.Items[0].Quantity -= engine.Q(1)
		s.Items[0].LineTotal -= s.Items[0].UnitPrice
		s.Total -= s.Items[0].UnitPrice
		s.Change += s.Items[0].UnitPrice
		return putRawSale(tx, s)
	})
	rep := verifyFile(t, path, m, nil)
	wantFindings(t, rep, map[string]string{"INV-202611-0007": "values no longer match its hash"})
	if got := firstBreak(rep, "INV-202611"); got != "INV-202611-0007" {
		t.Errorf("first break: got %s", got)
	}
	if len(rep.Findings) != 1 {
		t.Errorf("one changed sale should be one finding: %v", rep.Findings)
	}
}

// Two sales' order swapped: each takes the other's number.
func TestTamperSwappedOrder(t *testing.T) {
	path, m, _ := tamperMonth(t)
	biz := m.Biz.ID
	tamper(t, path, func(tx *bolt.Tx) error {
		a, b := rawSale(t, tx, biz, "INV-202611-0003"), rawSale(t, tx, biz, "INV-202611-0004")
		a.InvoiceNumber, b.InvoiceNumber = b.InvoiceNumber, a.InvoiceNumber
		for _, s := range []*engine.Sale{a, b} {
			if err := putRawSale(tx, s); err != nil {
				return err
			}
			if err := tx.Bucket([]byte(bNumbers)).Put(key(biz, s.InvoiceNumber), encodeDocRef(engine.DocRef{Kind: engine.KindSale, ID: s.ID})); err != nil {
				return err
			}
		}
		return nil
	})
	rep := verifyFile(t, path, m, nil)
	wantFindings(t, rep, map[string]string{
		"INV-202611-0003": "values no longer match its hash",
		"INV-202611-0004": "values no longer match its hash",
		"INV-202611-0005": "does not chain to INV-202611-0004",
	})
	if got := firstBreak(rep, "INV-202611"); got != "INV-202611-0003" {
		t.Errorf("first break: got %s", got)
	}
}

// A changed sale whose whole tail was hashed again with posd's own code, as
// someone with the file and the source can do: every link holds, so the
// chain alone cannot tell; the head no longer matches the manifest of the
// export taken before, and posd verify with that manifest says so.
func TestTamperRewrittenTail(t *testing.T) {
	path, m, man := tamperMonth(t)
	biz := m.Biz.ID
	tamper(t, path, func(tx *bolt.Tx) error {
		counters := tx.Bucket([]byte(bCounters))
		series := []engine.Series{"INV-202611", "INV-202612"}
		prev := ""
		for _, s := range series {
			last := u64(counters.Get(key(biz, string(s))))
			for n := uint64(1); n <= last; n++ {
				sale := rawSale(t, tx, biz, engine.FormatNumber(s, n))
				if s == "INV-202611" && n < 20 {
					prev = sale.Hash
					continue
				}
				if s == "INV-202611" && n == 20 { // the rewrite: a sale made smaller
					sale.Items = sale.Items[:1]
					sale.Total, sale.TaxTotal = sale.Items[0].LineTotal, sale.Items[0].TaxAmount
					sale.Change = sale.Paid - sale.Total
				}
				sale.PreviousHash = prev
				sale.Hash, _ = engine.ComputeHash(sale)
				prev = sale.Hash
				if err := putRawSale(tx, sale); err != nil {
					return err
				}
			}
			if err := putRawChainHead(tx, biz, s, engine.ChainHead{Number: last, Hash: prev}); err != nil {
				return err
			}
		}
		return nil
	})
	if rep := verifyFile(t, path, m, nil); !rep.OK() {
		t.Fatalf("a consistently rewritten tail should pass the chain's own checks (that is what anchors are for): %v", rep.Findings)
	}
	rep := verifyFile(t, path, m, man.Anchors("the November export's manifest"))
	wantFindings(t, rep, map[string]string{"INV-202611-0023": "the November export's manifest recorded hash"})
	for _, a := range rep.Anchors {
		if ok := !(a.Series == "INV-202611" && a.Number == 23); a.OK != ok {
			t.Errorf("anchor %s %d: ok=%v, want %v", a.Series, a.Number, a.OK, ok)
		}
	}
	// The manifest is the anchor as a file, too.
	b, _ := json.Marshal(man)
	var again engine.ExportManifest
	if json.Unmarshal(b, &again) != nil || !bytes.Equal(b, mustJSON(&again)) {
		t.Error("the manifest does not read back")
	}
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}

// putRawChainHead writes a series head the way the store keeps it.
func putRawChainHead(tx *bolt.Tx, biz string, s engine.Series, h engine.ChainHead) error {
	return tx.Bucket([]byte(bChains)).Put(key(biz, string(s)), encodeChainHead(h))
}

// removeSale deletes a sale and everything that points at it but its stock
// movements: the record, its idempotency record and answer, and its places
// in the sale lists, as a careful hand would.
func removeSale(tx *bolt.Tx, biz, id string) error {
	if err := tx.Bucket([]byte(bSales)).Delete(key(biz, id)); err != nil {
		return err
	}
	var dels [][2]string
	p := prefix(biz)
	c := tx.Bucket([]byte(bIdem)).Cursor()
	for k, v := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
		r, _, err := decodeIdempotency(v)
		if err != nil {
			return err
		}
		if r.Doc.ID == id {
			dels = append(dels, [2]string{bIdem, string(k)}, [2]string{bIdemExp, string(expKey(r.ExpiresAt, biz, r.Key))})
		}
	}
	for _, b := range []string{bSaleSeq, bSaleLoc} {
		c := tx.Bucket([]byte(b)).Cursor()
		for k, v := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
			if string(v) == id {
				dels = append(dels, [2]string{b, string(k)})
			}
		}
	}
	for _, d := range dels {
		if err := tx.Bucket([]byte(d[0])).Delete([]byte(d[1])); err != nil {
			return err
		}
	}
	return nil
}
