package storetest

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"posd/engine"
)

// mixed fills a shop with one of every numbered document and the states
// around them: sales, a refund, an approved and a draft receipt, a sent and
// a draft transfer, an adjustment, and a token that was revoked.
type mixed struct {
	sales, returns, receipts, transfers []string
	z                                   string
}

func (s *shop) mix(t testing.TB) mixed {
	t.Helper()
	ctx := context.Background()
	var m mixed
	for i := 0; i < 3; i++ {
		m.sales = append(m.sales, s.sale(t, s.key(), "2").ID)
	}
	ret := must(s.svc.RefundSale(ctx, s.owner, s.key(), m.sales[0], engine.RefundInput{Items: []engine.ItemInput{{ProductID: s.apple, Quantity: json.RawMessage("1")}}})).doc(t)
	m.returns = append(m.returns, ret.ID)
	for i := 0; i < 2; i++ {
		r := must(s.svc.CreateReceipt(ctx, s.owner, s.key(), engine.ReceiptInput{LocationID: s.loc, Supplier: "Farm",
			Items: []engine.ReceiptItemInput{{ProductID: s.apple, Quantity: json.RawMessage("10"), UnitCost: raw(80)}}})).doc(t)
		m.receipts = append(m.receipts, r.ID)
	}
	if _, err := s.svc.ApproveReceipt(ctx, s.owner, s.key(), m.receipts[0]); err != nil {
		t.Fatal(err)
	}
	branch := must(s.svc.CreateLocation(ctx, s.owner, s.key(), engine.LocationInput{Name: "Branch"})).doc(t)
	items := []engine.ItemInput{{ProductID: s.apple, Quantity: json.RawMessage("1")}}
	for i := 0; i < 2; i++ {
		tr := must(s.svc.CreateTransfer(ctx, s.owner, s.key(), engine.TransferInput{FromLocationID: s.loc, ToLocationID: branch.ID, Items: items})).doc(t)
		m.transfers = append(m.transfers, tr.ID)
	}
	if _, err := s.svc.SendTransfer(ctx, s.owner, s.key(), m.transfers[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := s.svc.AdjustStock(ctx, s.owner, s.key(), engine.AdjustmentInput{LocationID: s.loc, Items: items, Reason: "count"}); err != nil {
		t.Fatal(err)
	}
	tok := must(s.svc.CreateToken(ctx, s.owner, s.key(), engine.TokenInput{Role: "till", Name: "temp"})).doc(t)
	if err := s.svc.RevokeToken(ctx, s.owner, tok.ID); err != nil {
		t.Fatal(err)
	}
	// The day is closed, and a sale comes after the Z.
	m.z = must(s.svc.CreateZReport(ctx, s.owner, s.key(), engine.ZReportInput{LocationID: s.loc})).doc(t).ID
	m.sales = append(m.sales, s.sale(t, s.key(), "1").ID)
	return m
}

// testDocumentIterators: AllSales, Returns, Receipts and Transfers list
// exactly the business's documents, and nothing of another business.
func testDocumentIterators(t testing.TB, open Opener) {
	s := newShop(t, open, "UTC")
	m := s.mix(t)
	other := addShop(t, s.svc, s.clock, "UTC")
	other.mix(t)
	var got mixed
	err := engine.Scan(context.Background(), s.svc.Store(), func(tx engine.ScanTx) error {
		if err := tx.AllSales(s.biz.ID, func(x *engine.Sale) error {
			if x.BusinessID != s.biz.ID || x.InvoiceNumber == "" {
				t.Errorf("AllSales gave %+v", x)
			}
			got.sales = append(got.sales, x.ID)
			return nil
		}); err != nil {
			return err
		}
		if err := tx.Returns(s.biz.ID, func(x *engine.Return) error { got.returns = append(got.returns, x.ID); return nil }); err != nil {
			return err
		}
		if err := tx.Receipts(s.biz.ID, func(x *engine.Receipt) error { got.receipts = append(got.receipts, x.ID); return nil }); err != nil {
			return err
		}
		return tx.Transfers(s.biz.ID, func(x *engine.Transfer) error {
			if x.BusinessID != s.biz.ID {
				t.Errorf("Transfers gave business %q", x.BusinessID)
			}
			got.transfers = append(got.transfers, x.ID)
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name      string
		got, want []string
	}{{"sales", got.sales, m.sales}, {"returns", got.returns, m.returns}, {"receipts", got.receipts, m.receipts}, {"transfers", got.transfers, m.transfers}} {
		slices.Sort(c.got)
		slices.Sort(c.want)
		if !slices.Equal(c.got, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
		}
	}
}

// testVerifyClean: a store written only through the engine has no
// findings, and the report's figures are the business's real counts.
func testVerifyClean(t testing.TB, open Opener) {
	s := newShop(t, open, "UTC")
	s.mix(t)
	addShop(t, s.svc, s.clock, "Europe/Vienna").mix(t)
	rep, err := s.svc.Verify(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range rep.Checks {
		if c.Failed() {
			t.Errorf("check %q: findings on a clean store: %v", c.Name, c.Findings)
		}
		if c.Detail == "" {
			t.Errorf("check %q says nothing about what it checked", c.Name)
		}
	}
	if len(rep.Checks) != 6 || len(rep.Businesses) != 2 || rep.Duplicates != 0 {
		t.Fatalf("report: %d checks, %d businesses, %d duplicates", len(rep.Checks), len(rep.Businesses), rep.Duplicates)
	}
	var fig engine.BusinessFigures
	for _, b := range rep.Businesses {
		if b.ID == s.biz.ID {
			fig = b
		}
	}
	// Movements: 4 sales, 1 restocking refund, 1 approval, 1 send, 1 adjustment.
	want := engine.DocumentCounts{Sales: 4, Returns: 1, Receipts: 2, Transfers: 2, ZReports: 1, Numbers: 8, Movements: 8}
	want.Idempotency = fig.Counts.Idempotency // counted below
	if fig.Counts != want {
		t.Errorf("counts: got %+v, want %+v", fig.Counts, want)
	}
	// 2 products, 4 sales, 1 refund, 2 receipts + 1 approval, 1 location,
	// 2 transfers + 1 send, 1 adjustment, 1 token, 1 Z.
	if fig.Counts.Idempotency != 17 {
		t.Errorf("idempotency records: got %d, want 17", fig.Counts.Idempotency)
	}
	wantSeries := map[engine.Series]uint64{"INV-202611": 4, "RET-202611": 1, "RCV-202611": 1, "TRF-202611": 1, engine.ZSeries(s.loc): 1}
	if len(fig.Series) != len(wantSeries) {
		t.Errorf("series: got %v, want %v", fig.Series, wantSeries)
	}
	for k, v := range wantSeries {
		if fig.Series[k] != v {
			t.Errorf("series %s: got %d, want %d", k, fig.Series[k], v)
		}
	}
}

// testVerifyFindings breaks one invariant at a time, through the Tx a buggy
// engine or a damaged file could have written, and checks that Verify names
// it in the right check.
func testVerifyFindings(t *testing.T, open Opener) {
	cases := []struct {
		name   string
		check  string // prefix of the check's name
		want   string // part of the finding
		dups   int
		break_ func(t *testing.T, s *shop, m mixed, tx engine.Tx) error
		// chain is a finding the hash chain check must make as well
		// (a missing document breaks its chain); "" if that check must
		// pass.
		chain string
	}{
		{"GapInSeries", "no gaps", "INV-202611-0005 to INV-202611-0006 are missing", 0, func(t *testing.T, s *shop, m mixed, tx engine.Tx) error {
			return advance(tx, s.biz.ID, "INV-202611", 2)
		}, "INV-202611-0005: is missing"},
		{"ClaimForMissingDocument", "no gaps", "INV-202611-0005 is claimed for sale nope", 0, func(t *testing.T, s *shop, m mixed, tx engine.Tx) error {
			if err := advance(tx, s.biz.ID, "INV-202611", 1); err != nil {
				return err
			}
			return tx.ClaimNumber(s.biz.ID, "INV-202611-0005", engine.DocRef{Kind: engine.KindSale, ID: "nope"})
		}, "INV-202611-0005: is missing"},
		{"DuplicateNumber", "no duplicate", "INV-202611-0002 is carried by", 1, func(t *testing.T, s *shop, m mixed, tx engine.Tx) error {
			sale, err := tx.Sale(s.biz.ID, m.sales[1])
			if err != nil {
				return err
			}
			sale.ID = engine.NewID(s.clock.Now())
			return tx.PutSale(sale)
		}, ""},
		{"NumberBeyondCounter", "no gaps", "beyond the series' last number", 0, func(t *testing.T, s *shop, m mixed, tx engine.Tx) error {
			sale, err := tx.Sale(s.biz.ID, m.sales[2])
			if err != nil {
				return err
			}
			sale.ID = engine.NewID(s.clock.Now())
			sale.InvoiceNumber = "INV-202611-0009"
			if err := tx.ClaimNumber(s.biz.ID, sale.InvoiceNumber, engine.DocRef{Kind: engine.KindSale, ID: sale.ID}); err != nil {
				return err
			}
			return tx.PutSale(sale)
		}, ""},
		{"DraftWithNumber", "no gaps", "draft receipt", 0, func(t *testing.T, s *shop, m mixed, tx engine.Tx) error {
			r, err := tx.Receipt(s.biz.ID, m.receipts[1])
			if err != nil {
				return err
			}
			n := "RCV-202611-0002"
			r.ReceiptNumber = &n
			return tx.PutReceipt(r)
		}, ""},
		{"SaleChangedAfterItsZ", "Z reports", "Z-0001 says gross 9.00, refunds 1.50, net 7.50; its documents add up to gross 10.00, refunds 1.50, net 8.50", 0, func(t *testing.T, s *shop, m mixed, tx engine.Tx) error {
			sale, err := tx.Sale(s.biz.ID, m.sales[1])
			if err != nil {
				return err
			}
			sale.Total += 100
			return tx.PutSale(sale)
		}, "INV-202611-0002: its values no longer match its hash"},
		{"RefundChangedAfterItsZ", "Z reports", "net 7.50; its documents add up to gross 9.00, refunds 2.50, net 6.50", 0, func(t *testing.T, s *shop, m mixed, tx engine.Tx) error {
			r, err := tx.Return(s.biz.ID, m.returns[0])
			if err != nil {
				return err
			}
			r.Total += 100
			return tx.PutReturn(r)
		}, "RET-202611-0001: its values no longer match its hash"},
		{"ForgedZ", "Z reports", "Z-0002 says gross 0.00, refunds 0.00, net 9.99; its documents add up to gross 1.50", 0, func(t *testing.T, s *shop, m mixed, tx engine.Tx) error {
			z, err := tx.ZReport(s.biz.ID, m.z)
			if err != nil {
				return err
			}
			if _, err := tx.NextNumber(s.biz.ID, engine.ZSeries(s.loc)); err != nil {
				return err
			}
			f := *z
			f.ID, f.ZNumber, f.Net = engine.NewID(s.clock.Now()), "Z-0002", 999
			f.Gross, f.Refunds, f.SalesCount, f.RefundsCount = 0, 0, 0, 0
			f.GrandTotal.Net += 999
			f.Coverage.Sale = m.sales[3]
			if err := tx.ClaimNumber(s.biz.ID, engine.FormatNumber(engine.ZSeries(s.loc), 2), engine.DocRef{Kind: engine.KindZReport, ID: f.ID}); err != nil {
				return err
			}
			return tx.PutZReport(&f)
		}, "Z-0002 of Main: its values no longer match its hash"},
		{"OrphanIdempotencyRecord", "idempotency", `key "orphan" points at sale`, 0, func(t *testing.T, s *shop, m mixed, tx engine.Tx) error {
			return tx.PutIdempotency(&engine.IdempotencyRecord{BusinessID: s.biz.ID, Key: "orphan", Op: "sale.create", Version: engine.AnswerVersion,
				Doc: engine.DocRef{Kind: engine.KindSale, ID: "gone"}, CreatedAt: s.clock.Now(), ExpiresAt: s.clock.Now()})
		}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := newShop(t, open, "UTC")
			m := s.mix(t)
			if err := s.svc.Store().Update(context.Background(), func(tx engine.Tx) error { return tc.break_(t, s, m, tx) }); err != nil {
				t.Fatal(err)
			}
			rep, err := s.svc.Verify(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			found, chained := false, false
			for _, c := range rep.Checks {
				for _, f := range c.Findings {
					if strings.HasPrefix(c.Name, tc.check) && strings.Contains(f, tc.want) {
						found = true
					}
					if c.Name == engine.CheckChains && tc.chain != "" && strings.Contains(f, tc.chain) {
						chained = true
					}
				}
				if c.Failed() && !strings.HasPrefix(c.Name, tc.check) && (c.Name != engine.CheckChains || tc.chain == "") {
					t.Errorf("check %q also failed: %v", c.Name, c.Findings)
				}
			}
			if tc.chain != "" && !chained {
				t.Errorf("no finding containing %q in check %q; report: %s", tc.chain, engine.CheckChains, dump(rep))
			}
			if !found {
				t.Errorf("no finding containing %q in check %q; report: %s", tc.want, tc.check, dump(rep))
			}
			if rep.Findings() == 0 {
				t.Error("Findings() = 0")
			}
			if rep.Duplicates != tc.dups {
				t.Errorf("duplicates: got %d, want %d", rep.Duplicates, tc.dups)
			}
		})
	}
}

// advance takes n numbers of a series, as a buggy engine that spends
// numbers without documents would.
func advance(tx engine.Tx, biz string, s engine.Series, n int) error {
	for range n {
		if _, err := tx.NextNumber(biz, s); err != nil {
			return err
		}
	}
	return nil
}

func dump(rep *engine.VerifyReport) string {
	var b strings.Builder
	for _, c := range rep.Checks {
		b.WriteString(c.Name + ": " + strings.Join(c.Findings, "; ") + "\n")
	}
	return b.String()
}
