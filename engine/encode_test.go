package engine

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"
)

// saleByReflection has Sale's fields without its methods, so json.Marshal
// encodes it by reflection: the reference the hand-written encoder must
// match byte for byte.
type saleByReflection Sale

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

func TestSaleJSONMatchesEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 20000 {
		s := randomSale(r)
		want, err := json.Marshal((*saleByReflection)(s))
		if err != nil {
			t.Fatal(err)
		}
		if got := s.AppendJSON(nil); !bytes.Equal(got, want) {
			t.Fatalf("sale %d:\n got %s\nwant %s", i, got, want)
		}
		if got := mustJSON(s); !bytes.Equal(got, want) {
			t.Fatalf("mustJSON, sale %d:\n got %s\nwant %s", i, got, want)
		}
		if got, _ := json.Marshal(s); !bytes.Equal(got, want) {
			t.Fatalf("json.Marshal, sale %d:\n got %s\nwant %s", i, got, want)
		}
	}
}

// The number formats as they were before they got append forms.
func oldQuantity(q Quantity) string {
	neg := q < 0
	if neg {
		q = -q
	}
	s := strconv.FormatInt(int64(q/QuantityScale), 10)
	if frac := int64(q % QuantityScale); frac != 0 {
		s += "." + strings.TrimRight(strconv.FormatInt(frac+QuantityScale, 10)[1:], "0")
	}
	if neg {
		s = "-" + s
	}
	return s
}

func oldTaxRate(r TaxRate) string {
	s := strconv.FormatInt(int64(r/100), 10)
	if f := int64(r % 100); f != 0 {
		s += "." + strings.TrimRight(strconv.FormatInt(f+100, 10)[1:], "0")
	}
	return s
}

func TestNumberFormatsUnchanged(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := range 100000 {
		q := Quantity(r.Int64N(4e12) - 2e12)
		if i < 3000 {
			q = Quantity(i - 1500)
		}
		if got, want := q.String(), oldQuantity(q); got != want {
			t.Fatalf("Quantity(%d): got %q, want %q", int64(q), got, want)
		}
		tr := TaxRate(r.Int64N(10001))
		if got, _ := tr.MarshalJSON(); string(got) != oldTaxRate(tr) {
			t.Fatalf("TaxRate(%d): got %q, want %q", int64(tr), got, oldTaxRate(tr))
		}
	}
}
