package engine

import (
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

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
