package engine

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files in testdata")

// The golden vectors: one document of each kind, with every kind of value
// (a weighed line, a 7.7 % rate, text that needs escaping, a split
// payment). Their canonical forms and hashes are in testdata/chain; a
// change to the form breaks them, and must be a new ChainVersion instead.
func goldenDocuments() map[string]chained {
	at := time.Date(2026, 11, 15, 11, 30, 5, 120_000_000, time.UTC)
	later := at.Add(90 * time.Minute)
	rcv, trf := "RCV-202611-0001", "TRF-202611-0001"
	return map[string]chained{
		"sale": &Sale{ID: "019a8f6e-2f00-7abc-8def-0123456789ab", InvoiceNumber: "INV-202611-0001", LocationID: "019a8f6e-1000-7000-8000-000000000001",
			Items: []SaleLine{
				{ProductID: "p-apple", SKU: "4006381333931", Name: "Apple \"Elstar\"", Quantity: Q(2), UnitPrice: 150, TaxRate: 2000, LineTotal: 300, TaxAmount: 50, RefundedQuantity: Q(1), RefundedAmount: 150},
				{ProductID: "p-cheese", SKU: "CHEESE", Name: "Käse\tkg", Quantity: 250, UnitPrice: 1999, TaxRate: 770, LineTotal: 500, TaxAmount: 36},
			},
			Payments: []Payment{{Method: MethodCard, Amount: 300}, {Method: MethodCash, Amount: 1000}},
			Total:    800, TaxTotal: 86, Paid: 1300, Change: 500, Currency: "EUR", CreatedAt: at, TokenID: "019a8f6e-1000-7000-8000-00000000000t",
			Returns: []string{"r-1"}, BusinessID: "019a8f6e-0000-7000-8000-00000000000b",
			ChainLink: ChainLink{PreviousHash: GenesisHash}},
		"return": &Return{ID: "019a8f6e-3000-7abc-8def-0123456789ab", ReturnNumber: "RET-202611-0001", SaleID: "019a8f6e-2f00-7abc-8def-0123456789ab",
			SaleNumber: "INV-202611-0001", SaleHash: "5d9a1fcbe0e5bd4e0e5e7cf2f1a4b0c6b0d9e07a9e8c4f5a3d2b1c0e9f8a7b6c",
			LocationID: "019a8f6e-1000-7000-8000-000000000001",
			Items:      []ReturnLine{{ProductID: "p-apple", SKU: "4006381333931", Name: "Apple \"Elstar\"", Quantity: Q(1), UnitPrice: 150, LineTotal: 150, TaxRate: 2000, TaxAmount: 25}},
			Total:      150, TaxTotal: 25, Currency: "EUR", Restock: true, CreatedAt: later, TokenID: "019a8f6e-1000-7000-8000-00000000000t",
			BusinessID: "019a8f6e-0000-7000-8000-00000000000b",
			ChainLink:  ChainLink{PreviousHash: "a3f1c2e4b5d6978800112233445566778899aabbccddeeff0011223344556677"}},
		"receipt": &Receipt{ID: "019a8f6e-4000-7abc-8def-0123456789ab", Status: StatusApproved, ReceiptNumber: &rcv, LocationID: "019a8f6e-1000-7000-8000-000000000001",
			Supplier: "Müller & Söhne <GmbH>", Items: []ReceiptLine{{ProductID: "p-apple", Quantity: Q(100), UnitCost: 60, LineTotal: 6000}, {ProductID: "p-cheese", Quantity: 12_500, UnitCost: 1100, LineTotal: 13750}},
			Total: 19750, CreatedAt: at, ApprovedAt: &later, BusinessID: "019a8f6e-0000-7000-8000-00000000000b",
			ChainLink: ChainLink{PreviousHash: GenesisHash}},
		"sale_cashier": &Sale{ID: "019a8f6e-2f01-7abc-8def-0123456789ab", InvoiceNumber: "INV-202611-0002", LocationID: "019a8f6e-1000-7000-8000-000000000001",
			Items:    []SaleLine{{ProductID: "p-apple", SKU: "4006381333931", Name: "Apple", Quantity: Q(1), UnitPrice: 150, TaxRate: 2000, LineTotal: 150, TaxAmount: 25}},
			Payments: []Payment{{Method: MethodCash, Amount: 200}}, Total: 150, TaxTotal: 25, Paid: 200, Change: 50, Currency: "EUR",
			CreatedAt: later, SoldAt: &at, CashierID: ptrTo("019a8f6e-6000-7000-8000-0000000000ca"), ShiftID: "not-hashed",
			TokenID: "019a8f6e-1000-7000-8000-00000000000t", BusinessID: "019a8f6e-0000-7000-8000-00000000000b",
			ChainLink: ChainLink{PreviousHash: "a3f1c2e4b5d6978800112233445566778899aabbccddeeff0011223344556677"}},
		"zreport": goldenZ(at, later),
		"transfer": &Transfer{ID: "019a8f6e-5000-7abc-8def-0123456789ab", Status: StatusReceived, TransferNumber: &trf,
			FromLocationID: "019a8f6e-1000-7000-8000-000000000001", ToLocationID: "019a8f6e-1000-7000-8000-000000000002",
			Items: []AdjustmentItem{{ProductID: "p-apple", Quantity: Q(10)}}, CreatedAt: at, SentAt: &later, ReceivedAt: &later,
			BusinessID: "019a8f6e-0000-7000-8000-00000000000b", ChainLink: ChainLink{PreviousHash: GenesisHash}},
	}
}

func ptrTo[T any](v T) *T { return &v }

// goldenZ is a Z report with every part its form holds: a second Z (from,
// a late arrival), two tax rates, a closed shift, the series heads.
func goldenZ(at, later time.Time) *ZReport {
	counted, diff := Money(12350), Money(-500)
	return &ZReport{ID: "019a8f6e-7000-7abc-8def-0123456789ab", ZNumber: "Z-0002", LocationID: "019a8f6e-1000-7000-8000-000000000001",
		CreatedAt: later, TokenID: "019a8f6e-1000-7000-8000-00000000000o", BusinessID: "019a8f6e-0000-7000-8000-00000000000b",
		ChainLink: ChainLink{PreviousHash: "b7e2d3f4a5c6978800112233445566778899aabbccddeeff0011223344556677"},
		ZFigures: ZFigures{Currency: "EUR", Timezone: "Europe/Vienna", BusinessDay: "2026-11-15", From: &at, To: later,
			Series:     []SeriesRange{{Series: "INV-202611", First: "INV-202611-0003", Last: "INV-202611-0007", Count: 4}, {Series: "RET-202611", First: "RET-202611-0001", Last: "RET-202611-0001", Count: 1}},
			SalesCount: 4, RefundsCount: 1, Gross: 3449, Refunds: 650, Net: 2799,
			Tax:      TaxTotals{Sales: 296, Refunds: 58, Net: 238},
			ByMethod: []MethodFigures{{Method: MethodCash, Sales: 1449, Refunds: 150, Net: 1299}, {Method: MethodCard, Sales: 2000, Refunds: 500, Net: 1500}},
			ByTaxRate: RateFigures{Sales: []RateLine{{Rate: 700, Base: 2803, Tax: 196, Gross: 2999}, {Rate: 2000, Base: 375, Tax: 75, Gross: 450}},
				Refunds: []RateLine{{Rate: 700, Base: 467, Tax: 33, Gross: 500}, {Rate: 2000, Base: 125, Tax: 25, Gross: 150}}},
			Cash: CashFigures{Shifts: []*Shift{{ID: "019a8f6e-8000-7abc-8def-0123456789ab", Cash: ShiftCash{Float: 10000, Expected: 12850, Counted: &counted, Difference: &diff}}},
				OutsideShifts: OutsideCash{Sales: 1, CashSales: 150, Net: 150}},
			LateArrivals: []LateArrival{{Kind: KindSale, ID: "s-late", Number: "INV-202611-0003", SoldAt: at.Add(-time.Hour), Day: "2026-11-14", CreatedAt: at.Add(time.Minute), Total: 150}},
			GrandTotal:   Totals{Gross: 9000, Refunds: 650, Net: 8350},
			SeriesHeads: []SeriesHead{{Series: "INV-202611", Number: "INV-202611-0007", Hash: "5d9a1fcbe0e5bd4e0e5e7cf2f1a4b0c6b0d9e07a9e8c4f5a3d2b1c0e9f8a7b6c"},
				{Series: "RET-202611", Number: "RET-202611-0001", Hash: "a3f1c2e4b5d6978800112233445566778899aabbccddeeff0011223344556677"}},
			Coverage: Marks{Sale: "s-7", Return: "r-1", Shift: "019a8f6e-8000-7abc-8def-0123456789ab"}},
	}
}

func TestCanonicalFormGolden(t *testing.T) {
	for name, d := range goldenDocuments() {
		t.Run(name, func(t *testing.T) {
			got := d.appendCanonical(nil, ChainVersion)
			sum := sha256.Sum256(got)
			hash := hex.EncodeToString(sum[:])
			if h := chainHash(d); h != hash {
				t.Fatalf("chainHash: got %s, want %s", h, hash)
			}
			canonPath := filepath.Join("testdata", "chain", name+".canonical.json")
			hashPath := filepath.Join("testdata", "chain", name+".sha256")
			if *updateGolden {
				os.MkdirAll(filepath.Dir(canonPath), 0o755)
				os.WriteFile(canonPath, got, 0o644)
				os.WriteFile(hashPath, []byte(hash+"\n"), 0o644)
			}
			want, err := os.ReadFile(canonPath)
			if err != nil {
				t.Fatalf("%v (run go test -run TestCanonicalFormGolden -update once)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("canonical form changed; a change must be a new ChainVersion:\n got %s\nwant %s", got, want)
			}
			wantHash, _ := os.ReadFile(hashPath)
			if strings.TrimSpace(string(wantHash)) != hash {
				t.Errorf("hash: got %s, want %s", hash, wantHash)
			}
		})
	}
}

// TestCanonicalFormIsRFC8785 decodes every form and encodes it again with
// a generic RFC 8785 encoder (keys sorted at run time): the hand-written
// forms must be exactly that, so anyone can recompute them from the values.
func TestCanonicalFormIsRFC8785(t *testing.T) {
	check := func(t *testing.T, form []byte) {
		t.Helper()
		if !utf8.Valid(form) {
			t.Fatalf("not UTF-8: %q", form)
		}
		dec := json.NewDecoder(bytes.NewReader(form))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("not JSON: %v\n%s", err, form)
		}
		if want := jcs(nil, v); !bytes.Equal(form, want) {
			t.Fatalf("not canonical:\n got %s\nwant %s", form, want)
		}
	}
	for name, d := range goldenDocuments() {
		t.Run(name, func(t *testing.T) { check(t, d.appendCanonical(nil, ChainVersion)) })
	}
	r := rand.New(rand.NewPCG(3, 4))
	for range 5000 {
		s := randomSale(r)
		s.BusinessID = randomText(r)
		check(t, s.appendCanonical(nil, ChainVersion))
		ret := &Return{ID: randomText(r), ReturnNumber: randomText(r), SaleID: randomText(r), SaleNumber: randomText(r), SaleHash: randomText(r),
			LocationID: randomText(r), Total: Money(r.Int64()), TaxTotal: Money(-r.Int64N(9)), Currency: randomText(r), Restock: r.IntN(2) == 0,
			CreatedAt: s.CreatedAt, TokenID: randomText(r), BusinessID: randomText(r), ChainLink: ChainLink{PreviousHash: randomText(r)}}
		for _, l := range s.Items {
			ret.Items = append(ret.Items, ReturnLine{ProductID: l.ProductID, SKU: l.SKU, Name: l.Name, Quantity: l.Quantity, UnitPrice: l.UnitPrice, LineTotal: l.LineTotal, TaxRate: l.TaxRate, TaxAmount: l.TaxAmount})
		}
		check(t, ret.appendCanonical(nil, ChainVersion))
		num := randomText(r)
		rc := &Receipt{ID: randomText(r), ReceiptNumber: &num, LocationID: randomText(r), Supplier: randomText(r), Total: Money(r.Int64()), CreatedAt: s.CreatedAt, ApprovedAt: &s.CreatedAt, BusinessID: randomText(r)}
		tr := &Transfer{ID: randomText(r), TransferNumber: &num, FromLocationID: randomText(r), ToLocationID: randomText(r), CreatedAt: s.CreatedAt, SentAt: &s.CreatedAt, BusinessID: randomText(r)}
		for _, l := range s.Items {
			rc.Items = append(rc.Items, ReceiptLine{ProductID: l.ProductID, Quantity: l.Quantity, UnitCost: l.UnitPrice, LineTotal: l.LineTotal})
			tr.Items = append(tr.Items, AdjustmentItem{ProductID: l.ProductID, Quantity: l.Quantity})
		}
		check(t, rc.appendCanonical(nil, ChainVersion))
		check(t, tr.appendCanonical(nil, ChainVersion))
	}
}

// jcs is a generic RFC 8785 encoder for what encoding/json decodes with
// UseNumber (numbers here are integers, written as they came).
func jcs(b []byte, v any) []byte {
	switch v := v.(type) {
	case nil:
		return append(b, "null"...)
	case bool:
		return strconv.AppendBool(b, v)
	case json.Number:
		return append(b, v...)
	case string:
		b = append(b, '"')
		for _, r := range v {
			switch {
			case r == '"' || r == '\\':
				b = append(b, '\\', byte(r))
			case r == '\b':
				b = append(b, `\b`...)
			case r == '\t':
				b = append(b, `\t`...)
			case r == '\n':
				b = append(b, `\n`...)
			case r == '\f':
				b = append(b, `\f`...)
			case r == '\r':
				b = append(b, `\r`...)
			case r < 0x20:
				b = append(b, `\u00`...)
				b = append(b, "0123456789abcdef"[r>>4], "0123456789abcdef"[r&15])
			default:
				b = utf8.AppendRune(b, r)
			}
		}
		return append(b, '"')
	case []any:
		b = append(b, '[')
		for i, e := range v {
			if i > 0 {
				b = append(b, ',')
			}
			b = jcs(b, e)
		}
		return append(b, ']')
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		// RFC 8785 sorts by UTF-16 code units; the forms' keys are ASCII,
		// where that is byte order.
		slices.Sort(keys)
		b = append(b, '{')
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = jcs(b, k)
			b = append(b, ':')
			b = jcs(b, v[k])
		}
		return append(b, '}')
	}
	panic("jcs: unexpected value")
}

// TestCanonicalFormCoversTheValues changes each hashed value of a sale in
// turn: every change must change the hash, and the values that change
// after the sale (refunds) must not.
func TestCanonicalFormCoversTheValues(t *testing.T) {
	base := goldenDocuments()["sale"].(*Sale)
	clone := func() *Sale {
		s := *base
		s.Items = slices.Clone(base.Items)
		s.Payments = slices.Clone(base.Payments)
		s.Returns = slices.Clone(base.Returns)
		return &s
	}
	want := chainHash(base)
	changes := map[string]func(*Sale){
		"number":       func(s *Sale) { s.InvoiceNumber = "INV-202611-0002" },
		"id":           func(s *Sale) { s.ID += "x" },
		"business":     func(s *Sale) { s.BusinessID += "x" },
		"location":     func(s *Sale) { s.LocationID += "x" },
		"token":        func(s *Sale) { s.TokenID += "x" },
		"createdAt":    func(s *Sale) { s.CreatedAt = s.CreatedAt.Add(time.Millisecond) },
		"currency":     func(s *Sale) { s.Currency = "CHF" },
		"total":        func(s *Sale) { s.Total++ },
		"taxTotal":     func(s *Sale) { s.TaxTotal++ },
		"paid":         func(s *Sale) { s.Paid++ },
		"change":       func(s *Sale) { s.Change++ },
		"previousHash": func(s *Sale) { s.PreviousHash = strings.Repeat("1", 64) },
		"line qty":     func(s *Sale) { s.Items[1].Quantity++ },
		"line price":   func(s *Sale) { s.Items[0].UnitPrice++ },
		"line rate":    func(s *Sale) { s.Items[0].TaxRate++ },
		"line total":   func(s *Sale) { s.Items[0].LineTotal++ },
		"line tax":     func(s *Sale) { s.Items[0].TaxAmount++ },
		"line name":    func(s *Sale) { s.Items[0].Name += " " },
		"line sku":     func(s *Sale) { s.Items[0].SKU += "1" },
		"line product": func(s *Sale) { s.Items[0].ProductID += "1" },
		"line order":   func(s *Sale) { s.Items[0], s.Items[1] = s.Items[1], s.Items[0] },
		"line removed": func(s *Sale) { s.Items = s.Items[:1] },
		"pay amount":   func(s *Sale) { s.Payments[0].Amount-- },
		"pay method":   func(s *Sale) { s.Payments[0].Method = MethodVoucher },
		"pay order":    func(s *Sale) { s.Payments[0], s.Payments[1] = s.Payments[1], s.Payments[0] },
	}
	for name, change := range changes {
		s := clone()
		change(s)
		if chainHash(s) == want {
			t.Errorf("%s: changing it left the hash unchanged", name)
		}
	}
	s := clone()
	s.Items[0].RefundedQuantity, s.Items[0].RefundedAmount = Q(2), 300
	s.Returns = append(s.Returns, "r-2")
	s.Hash = "anything"
	if chainHash(s) != want {
		t.Error("a refund's changes to the sale changed its hash")
	}
}

// TestZCanonicalFormCoversTheValues: every figure a Z prints, what it
// covers and the heads it anchors change its hash; the advisory parts
// (tills not reported, per till and cashier) do not.
func TestZCanonicalFormCoversTheValues(t *testing.T) {
	at := time.Date(2026, 11, 15, 11, 30, 5, 120_000_000, time.UTC)
	want := chainHash(goldenZ(at, at.Add(time.Hour)))
	changes := map[string]func(*ZReport){
		"number":       func(z *ZReport) { z.ZNumber = "Z-0003" },
		"location":     func(z *ZReport) { z.LocationID += "x" },
		"createdAt":    func(z *ZReport) { z.CreatedAt = z.CreatedAt.Add(time.Millisecond) },
		"from":         func(z *ZReport) { z.From = nil },
		"to":           func(z *ZReport) { z.To = z.To.Add(time.Millisecond) },
		"previousHash": func(z *ZReport) { z.PreviousHash = GenesisHash },
		"gross":        func(z *ZReport) { z.Gross++ },
		"refunds":      func(z *ZReport) { z.Refunds++ },
		"net":          func(z *ZReport) { z.Net++ },
		"salesCount":   func(z *ZReport) { z.SalesCount++ },
		"refundsCount": func(z *ZReport) { z.RefundsCount++ },
		"tax":          func(z *ZReport) { z.Tax.Net++ },
		"method":       func(z *ZReport) { z.ByMethod[1].Refunds++ },
		"rate base":    func(z *ZReport) { z.ByTaxRate.Refunds[0].Base++ },
		"rate":         func(z *ZReport) { z.ByTaxRate.Sales[1].Rate = 1900 },
		"series last":  func(z *ZReport) { z.Series[0].Last = "INV-202611-0008" },
		"series count": func(z *ZReport) { z.Series[1].Count++ },
		"head hash":    func(z *ZReport) { z.SeriesHeads[0].Hash = strings.Repeat("1", 64) },
		"head number":  func(z *ZReport) { z.SeriesHeads[1].Number = "RET-202611-0002" },
		"grand total":  func(z *ZReport) { z.GrandTotal.Net++ },
		"counted":      func(z *ZReport) { c := Money(1); z.Cash.Shifts[0].Cash.Counted = &c },
		"expected":     func(z *ZReport) { z.Cash.Shifts[0].Cash.Expected++ },
		"outside":      func(z *ZReport) { z.Cash.OutsideShifts.Net++ },
		"late arrival": func(z *ZReport) { z.LateArrivals[0].Total++ },
		"late soldAt":  func(z *ZReport) { z.LateArrivals = nil },
		"coverage":     func(z *ZReport) { z.Coverage.Sale = "s-8" },
	}
	for name, change := range changes {
		z := goldenZ(at, at.Add(time.Hour))
		change(z)
		if chainHash(z) == want {
			t.Errorf("%s: changing it left the hash unchanged", name)
		}
	}
	z := goldenZ(at, at.Add(time.Hour))
	z.TillsNotReported = []TillNotReported{{TillID: "t", Reason: "offline"}}
	z.ByTill = []PartFigures{{Name: "Till 1"}}
	z.Hash = "anything"
	if chainHash(z) != want {
		t.Error("an advisory part changed the Z's hash")
	}
}

// BenchmarkChainHashSale is the chain's work per sale on the writer: the
// canonical form of a three-line sale and its SHA-256.
func BenchmarkChainHashSale(b *testing.B) {
	s := goldenDocuments()["sale"].(*Sale)
	s.Items = append(s.Items, s.Items[0])
	b.ReportAllocs()
	for b.Loop() {
		s.Hash = chainHash(s)
	}
}

// BenchmarkChainHashZ is a Z's hash in its commit: the canonical form of a
// day with two series, two rates, a shift and a late arrival, and its
// SHA-256 (once a day per location, against a sale's on every sale).
func BenchmarkChainHashZ(b *testing.B) {
	at := time.Date(2026, 11, 15, 11, 30, 5, 120_000_000, time.UTC)
	z := goldenZ(at, at.Add(time.Hour))
	b.ReportAllocs()
	for b.Loop() {
		z.Hash = chainHash(z)
	}
}

// BenchmarkChainHashSaleCashier is BenchmarkChainHashSale with a cashier
// and the till's soldAt, the two values a sale of a signed-in cashier adds
// to its form.
func BenchmarkChainHashSaleCashier(b *testing.B) {
	s := goldenDocuments()["sale"].(*Sale)
	s.Items = append(s.Items, s.Items[0])
	at := s.CreatedAt.Add(-time.Minute)
	s.SoldAt, s.CashierID = &at, ptrTo("019a8f6e-6000-7000-8000-0000000000ca")
	b.ReportAllocs()
	for b.Loop() {
		s.Hash = chainHash(s)
	}
}
