package storetest

import (
	"bytes"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"

	"posd/engine"
)

// The hash chain's cases (engine/chain.go): every numbered document is
// linked in its own commit, through the store's Tx, so every backend must
// keep the links and the heads exactly.

// monthOn builds Month on a fresh store from open.
func monthOn(t testing.TB, open Opener) *Month {
	t.Helper()
	st := open(t)
	t.Cleanup(func() { st.Close() })
	return NewMonth(t, engine.NewService(st))
}

// testChainLinks: each document of the month, read back, carries the hash
// of its own values and links to the document before it in its series;
// the first of a series links to the kind's previous series (November's
// first sale to October's last), a kind's very first to the genesis value;
// a refund names its sale's hash; refunds do not change a sale's hash; the
// heads the store keeps are the series' last documents; the chains verify.
func testChainLinks(t testing.TB, open Opener) {
	m := monthOn(t, open)
	ctx := context.Background()
	byNumber := map[string]string{} // number → hash, as answered
	prevOf := func(number string) string {
		s, n, _ := engine.ParseNumber(number)
		if n > 1 {
			return byNumber[engine.FormatNumber(s, n-1)]
		}
		return ""
	}
	check := func(number string, doc any, link engine.ChainLink) {
		t.Helper()
		if len(link.Hash) != 64 || strings.ToLower(link.Hash) != link.Hash {
			t.Errorf("%s: hash %q is not lowercase hex SHA-256", number, link.Hash)
		}
		if h, _ := engine.ComputeHash(doc); h != link.Hash {
			t.Errorf("%s: answered with hash %s, its values give %s", number, link.Hash, h)
		}
		if p := prevOf(number); p != "" && link.PreviousHash != p {
			t.Errorf("%s: previous hash %s, want the hash of the document before it, %s", number, link.PreviousHash, p)
		}
		byNumber[number] = link.Hash
	}
	for _, s := range m.Sales {
		check(s.InvoiceNumber, s, s.ChainLink)
	}
	for _, r := range m.Returns {
		check(r.ReturnNumber, r, r.ChainLink)
	}
	check(*m.Receipts[0].ReceiptNumber, m.Receipts[0], m.Receipts[0].ChainLink)
	check(*m.Transfers[0].TransferNumber, m.Transfers[0], m.Transfers[0].ChainLink)

	first := m.Sales[0] // INV-202610-0001: the business's first sale
	if first.PreviousHash != engine.GenesisHash {
		t.Errorf("%s: previous hash %s, want the genesis value", first.InvoiceNumber, first.PreviousHash)
	}
	nov, dec := m.Sales[1], m.Sales[len(m.Sales)-1]
	if nov.InvoiceNumber != "INV-202611-0001" || nov.PreviousHash != first.Hash {
		t.Errorf("%s chains to %s, want October's last sale %s", nov.InvoiceNumber, nov.PreviousHash, first.Hash)
	}
	if last := m.Sales[len(m.Sales)-2]; dec.InvoiceNumber != "INV-202612-0001" || dec.PreviousHash != last.Hash {
		t.Errorf("%s chains to %s, want November's last sale %s", dec.InvoiceNumber, dec.PreviousHash, last.Hash)
	}
	for _, d := range []struct {
		number string
		link   engine.ChainLink
	}{{m.Returns[0].ReturnNumber, m.Returns[0].ChainLink}, {*m.Receipts[0].ReceiptNumber, m.Receipts[0].ChainLink}, {*m.Transfers[0].TransferNumber, m.Transfers[0].ChainLink}} {
		if d.link.PreviousHash != engine.GenesisHash {
			t.Errorf("%s, the first of its kind, chains to %s", d.number, d.link.PreviousHash)
		}
	}
	sales := map[string]*engine.Sale{}
	for _, s := range m.Sales {
		sales[s.ID] = s
	}
	for _, r := range m.Returns {
		if s := sales[r.SaleID]; r.SaleNumber != s.InvoiceNumber || r.SaleHash != s.Hash {
			t.Errorf("%s names sale %s %s, want %s %s", r.ReturnNumber, r.SaleNumber, r.SaleHash, s.InvoiceNumber, s.Hash)
		}
	}
	// Read back after all the refunds: the stored documents keep the
	// answered hashes, and the heads are the last documents.
	err := engine.Scan(ctx, m.Svc.Store(), func(tx engine.ScanTx) error {
		for _, s := range m.Sales {
			got, err := tx.Sale(m.Biz.ID, s.ID)
			if err != nil {
				return err
			}
			if got.ChainLink != s.ChainLink {
				t.Errorf("%s read back: %+v, answered %+v", s.InvoiceNumber, got.ChainLink, s.ChainLink)
			}
			if h, _ := engine.ComputeHash(got); h != got.Hash {
				t.Errorf("%s after its refunds: its values give %s, it carries %s", s.InvoiceNumber, h, got.Hash)
			}
		}
		counters, err := tx.Series(m.Biz.ID)
		if err != nil {
			return err
		}
		for s, last := range counters {
			h, err := tx.ChainHead(m.Biz.ID, s)
			if err != nil {
				return err
			}
			number := engine.FormatNumber(s, last)
			if h.Number != last || h.Hash != byNumber[number] {
				t.Errorf("head of %s: %+v, want %s with %s", s, h, number, byNumber[number])
			}
		}
		if h, err := tx.ChainHead(m.Biz.ID, "INV-209901"); err != nil || h != (engine.ChainHead{}) {
			t.Errorf("head of a series with no document: %+v %v", h, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	rep, err := m.Svc.VerifyChains(ctx, m.Biz.ID, nil)
	if err != nil || !rep.OK() || rep.Documents != len(m.Sales)+len(m.Returns)+2 {
		t.Errorf("verify: %v, %d documents, findings %v", err, rep.Documents, rep.Findings)
	}
}

// testChainSkipsFailedWrites: a refused sale, a refused refund and a
// refused transfer leave the heads where they were: the next document
// links to the last one that committed.
func testChainSkipsFailedWrites(t testing.TB, open Opener) {
	s := newShop(t, open, "UTC")
	ctx := context.Background()
	a := s.sale(t, s.key(), "1")
	in := s.saleInput("1")
	in.Payments[0].Amount = raw(1)
	_, err := s.svc.CreateSale(ctx, s.owner, s.key(), in)
	wantCode(t, err, engine.EINVALID)
	_, err = refund(s, s.key(), a.ID, nil, s.apple, "5")
	wantCode(t, err, engine.EREFUNDEXCEEDSSALE)
	b := s.sale(t, s.key(), "1")
	if b.InvoiceNumber != "INV-202611-0002" || b.PreviousHash != a.Hash || a.Hash == "" {
		t.Errorf("%s chains to %s, want %s's hash %s", b.InvoiceNumber, b.PreviousHash, a.InvoiceNumber, a.Hash)
	}
	rep, err := s.svc.VerifyChains(ctx, s.biz.ID, nil)
	if err != nil || !rep.OK() {
		t.Errorf("verify: %v %v", err, rep.Findings)
	}
}

// testConcurrentSalesChain: sales committed at once by many writers form
// one chain, each linked to the one numbered before it. A store whose
// updates are not serializable lets two sales read the same head, and the
// chain forks.
func testConcurrentSalesChain(t testing.TB, open Opener) {
	s := newShop(t, open, "Europe/Berlin")
	ctx := context.Background()
	var mu sync.Mutex
	got := map[string]*engine.Sale{}
	var failed tally
	concurrently(24, func(i int) {
		out, err := s.svc.CreateSale(ctx, s.owner, engine.IdempotencyKey(fmt.Sprintf("chain-%d", i)), s.saleInput("1"))
		failed.add(err)
		if err == nil {
			mu.Lock()
			got[out.Doc.InvoiceNumber] = out.Doc
			mu.Unlock()
		}
	})
	if len(got) != 24 {
		t.Fatalf("%d of 24 sales; errors %v", len(got), failed.errs)
	}
	for n := 2; n <= 24; n++ {
		prev, cur := got[fmt.Sprintf("INV-202611-%04d", n-1)], got[fmt.Sprintf("INV-202611-%04d", n)]
		if prev == nil || cur == nil {
			t.Fatalf("numbers: %d is missing", n)
		}
		if cur.PreviousHash != prev.Hash {
			t.Errorf("%s chains to %.16s…, but %s is %.16s…: two sales read the same head", cur.InvoiceNumber, cur.PreviousHash, prev.InvoiceNumber, prev.Hash)
		}
	}
	rep, err := s.svc.VerifyChains(ctx, s.biz.ID, nil)
	if err != nil || !rep.OK() {
		t.Errorf("verify: %v %v", err, rep.Findings)
	}
}

// testExportMonth exports November of the month from the store: the same
// files on a repeat, each series of the range complete and anchored by its
// head, and gross by tax rate equal in taxes.csv and lines.csv to the
// cent. (cmd/posd's TestExportMonth checks every figure of every file.)
func testExportMonth(t testing.TB, open Opener) {
	m := monthOn(t, open)
	export := func() (map[string][]byte, *engine.ExportManifest) {
		t.Helper()
		files := map[string][]byte{}
		man, err := m.Svc.Export(context.Background(), engine.ExportRequest{BusinessID: m.Biz.ID, From: "2026-11-01", To: "2026-11-30", Version: "test"},
			func(name string) (io.WriteCloser, error) { return &memFile{name: name, files: files}, nil })
		if err != nil {
			t.Fatal(err)
		}
		return files, man
	}
	files, man := export()
	again, _ := export()
	for name, b := range files {
		if !bytes.Equal(b, again[name]) {
			t.Errorf("%s differs on a repeat", name)
		}
	}
	for _, name := range []string{engine.ExportDocuments, engine.ExportLines, engine.ExportPayments, engine.ExportTaxes,
		engine.ExportStockLines, engine.ExportZReports, engine.ExportCashMovements, engine.ExportManifestName} {
		if _, ok := files[name]; !ok {
			t.Errorf("the export has no %s", name)
		}
	}
	sales, _ := m.November()
	heads := map[engine.Series]string{"INV-202611": sales[len(sales)-1].Hash, "RET-202611": m.Returns[len(m.Returns)-1].Hash,
		"RCV-202611": m.Receipts[0].Hash, "TRF-202611": m.Transfers[0].Hash}
	if len(man.Series) != len(heads) {
		t.Errorf("series %+v", man.Series)
	}
	for _, s := range man.Series {
		if s.First != 1 || s.Count != int(s.Last) || s.HeadHash != heads[s.Series] || s.HeadHash == "" {
			t.Errorf("series %+v, want 1..N complete with head %s", s, heads[s.Series])
		}
	}
	sum := func(name, rate, col string) map[string]string {
		t.Helper()
		recs, err := csv.NewReader(bytes.NewReader(files[name])).ReadAll()
		if err != nil || len(recs) == 0 {
			t.Fatalf("%s: %v", name, err)
		}
		ri, ci := index(recs[0], rate), index(recs[0], col)
		cents := map[string]int64{}
		for _, r := range recs[1:] {
			var w, f int64
			neg := strings.HasPrefix(r[ci], "-")
			fmt.Sscanf(strings.TrimPrefix(r[ci], "-"), "%d.%d", &w, &f)
			if neg {
				w, f = -w, -f
			}
			cents[r[ri]] += w*100 + f
		}
		out := map[string]string{}
		for k, v := range cents {
			out[k] = fmt.Sprint(v)
		}
		return out
	}
	lines, taxes := sum(engine.ExportLines, "tax_rate", "gross"), sum(engine.ExportTaxes, "tax_rate", "gross")
	if fmt.Sprint(lines) != fmt.Sprint(taxes) || len(lines) != 3 {
		t.Errorf("gross by tax rate: lines %v, taxes %v", lines, taxes)
	}
}

func index(header []string, col string) int {
	for i, h := range header {
		if h == col {
			return i
		}
	}
	panic("no column " + col)
}

type memFile struct {
	name  string
	files map[string][]byte
	buf   bytes.Buffer
}

func (f *memFile) Write(p []byte) (int, error) { return f.buf.Write(p) }
func (f *memFile) Close() error                { f.files[f.name] = f.buf.Bytes(); return nil }
