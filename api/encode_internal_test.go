package api

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"posd/engine"
)

// saleByReflection has Sale's fields without their methods, so json.Marshal
// encodes it by reflection: the reference the hand-written encoder must
// match byte for byte.
type saleByReflection engine.Sale

func randomText(r *rand.Rand) string {
	pieces := []string{"a", "Käse", "<b>", "&", `"`, `\`, "\n", "\t", "\x00", "\x1f", "\x7f", "\u2028", "\u2029", "\xff", "\xe2\x82", "€", "😀", " ", "/"}
	var b strings.Builder
	for range r.IntN(6) {
		b.WriteString(pieces[r.IntN(len(pieces))])
	}
	return b.String()
}

func randomSale(r *rand.Rand) *engine.Sale {
	zones := []*time.Location{time.UTC, time.FixedZone("x", 3600+1800), time.FixedZone("y", -7*3600)}
	at := time.Unix(r.Int64N(4e9), r.Int64N(1e9)*int64(r.IntN(2))).In(zones[r.IntN(len(zones))])
	if r.IntN(10) == 0 {
		at = time.Time{}
	}
	s := &engine.Sale{ID: randomText(r), InvoiceNumber: randomText(r), LocationID: randomText(r), Total: engine.Money(r.Int64() - r.Int64()),
		TaxTotal: engine.Money(r.Int64N(1e6)), Paid: engine.Money(r.Int64N(1e9)), Change: engine.Money(-r.Int64N(5)), Currency: randomText(r), CreatedAt: at,
		TokenID: randomText(r), BusinessID: "never written"}
	if r.IntN(5) > 0 {
		s.Items = []engine.SaleLine{}
		for range r.IntN(4) {
			s.Items = append(s.Items, engine.SaleLine{ProductID: randomText(r), SKU: randomText(r), Name: randomText(r),
				Quantity: engine.Quantity(r.Int64N(2e9) - 1e9), UnitPrice: engine.Money(r.Int64N(1e7)), TaxRate: engine.TaxRate(r.Int64N(10001)),
				LineTotal: engine.Money(r.Int64N(1e9)), TaxAmount: engine.Money(r.Int64N(1e6)), RefundedQuantity: engine.Quantity(r.Int64N(5000)), RefundedAmount: engine.Money(r.Int64N(100))})
		}
	}
	if r.IntN(5) > 0 {
		s.Payments = []engine.Payment{}
		for range r.IntN(3) {
			s.Payments = append(s.Payments, engine.Payment{Method: randomText(r), Amount: engine.Money(r.Int64N(1e8))})
		}
	}
	if r.IntN(3) > 0 {
		s.Hash = randomText(r)
	}
	if r.IntN(3) > 0 {
		s.PreviousHash = randomText(r)
	}
	if r.IntN(5) > 0 {
		s.Returns = []string{}
		for range r.IntN(3) {
			s.Returns = append(s.Returns, randomText(r))
		}
	}
	// The fields of contract §6, each present or not.
	if r.IntN(2) == 0 {
		sold := time.Unix(r.Int64N(4e9), r.Int64N(1e9)).In(zones[r.IntN(len(zones))])
		s.SoldAt = &sold
	}
	if r.IntN(2) == 0 {
		c := randomText(r)
		s.CashierID = &c
	}
	if r.IntN(2) == 0 {
		s.ShiftID = randomText(r)
	}
	return s
}

func TestSaleJSONMatchesEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 20000 {
		s := randomSale(r)
		want, err := json.Marshal((*saleByReflection)(s))
		if err != nil {
			t.Fatal(err)
		}
		if got := appendSaleJSON(nil, s); !bytes.Equal(got, want) {
			t.Fatalf("sale %d:\n got %s\nwant %s", i, got, want)
		}
		if got, err := renderAnswer(s, engine.AnswerVersion); err != nil || !bytes.Equal(got, want) {
			t.Fatalf("renderAnswer, sale %d:\n got %s (%v)\nwant %s", i, got, err, want)
		}
	}
}

// benchSale is a sale of the load's mix: three lines, paid in cash.
func benchSale() *engine.Sale {
	at := time.Date(2026, 11, 27, 10, 11, 12, 345_000_000, time.UTC)
	s := &engine.Sale{ID: "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b", InvoiceNumber: "INV-202611-0042", LocationID: "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5c",
		Payments: []engine.Payment{{Method: engine.MethodCash, Amount: 100_000}}, Total: 1234, TaxTotal: 206, Paid: 100_000, Change: 98_766,
		Currency: "EUR", CreatedAt: at, TokenID: "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5d", Returns: []string{}}
	for i := range 3 {
		s.Items = append(s.Items, engine.SaleLine{ProductID: "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a6" + strconv.Itoa(i), SKU: "SKU000" + strconv.Itoa(i),
			Name: "Product " + strconv.Itoa(i), Quantity: engine.Q(int64(i + 1)), UnitPrice: 150, TaxRate: 2000, LineTotal: 150 * engine.Money(i+1), TaxAmount: 25})
	}
	return s
}

// BenchmarkSaleJSON compares the hand-written sale encoder with
// encoding/json's reflection, for the answer of every sale.
func BenchmarkSaleJSON(b *testing.B) {
	s := benchSale()
	b.Run("appendSaleJSON", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			appendSaleJSON(make([]byte, 0, 1024), s)
		}
	})
	b.Run("encoding/json", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			if _, err := json.Marshal(s); err != nil {
				b.Fatal(err)
			}
		}
	})
}
