package engine

import (
	"math/rand/v2"
	"strings"
	"time"
)

// randomText and randomSale make values with every kind of text and number
// a document can hold, for the canonical form's tests.
func randomText(r *rand.Rand) string {
	pieces := []string{"a", "Käse", "<b>", "&", `"`, `\`, "\n", "\t", "\x00", "\x1f", "\x7f", "\u2028", "\u2029", "\xff", "\xe2\x82", "€", "😀", " ", "/"}
	var b strings.Builder
	for range r.IntN(6) {
		b.WriteString(pieces[r.IntN(len(pieces))])
	}
	return b.String()
}

func randomSale(r *rand.Rand) *Sale {
	zones := []*time.Location{time.UTC, time.FixedZone("x", 3600+1800), time.FixedZone("y", -7*3600)}
	at := time.Unix(r.Int64N(4e9), r.Int64N(1e9)*int64(r.IntN(2))).In(zones[r.IntN(len(zones))])
	if r.IntN(10) == 0 {
		at = time.Time{}
	}
	s := &Sale{ID: randomText(r), InvoiceNumber: randomText(r), LocationID: randomText(r), Total: Money(r.Int64() - r.Int64()),
		TaxTotal: Money(r.Int64N(1e6)), Paid: Money(r.Int64N(1e9)), Change: Money(-r.Int64N(5)), Currency: randomText(r), CreatedAt: at,
		TokenID: randomText(r), BusinessID: "never written"}
	if r.IntN(5) > 0 {
		s.Items = []SaleLine{}
		for range r.IntN(4) {
			s.Items = append(s.Items, SaleLine{ProductID: randomText(r), SKU: randomText(r), Name: randomText(r),
				Quantity: Quantity(r.Int64N(2e9) - 1e9), UnitPrice: Money(r.Int64N(1e7)), TaxRate: TaxRate(r.Int64N(10001)),
				LineTotal: Money(r.Int64N(1e9)), TaxAmount: Money(r.Int64N(1e6)), RefundedQuantity: Quantity(r.Int64N(5000)), RefundedAmount: Money(r.Int64N(100))})
		}
	}
	if r.IntN(5) > 0 {
		s.Payments = []Payment{}
		for range r.IntN(3) {
			s.Payments = append(s.Payments, Payment{Method: randomText(r), Amount: Money(r.Int64N(1e8))})
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
	return s
}
