package engine

import (
	"encoding/json"
	"strconv"
	"strings"
)

// Quantity is a count in thousandths, so that 0.25 kg of cheese is exact:
// the contract allows at most three decimals. It is written to JSON as a
// plain decimal number (2, 0.25, -1.5).
type Quantity int64

// QuantityScale is the number of Quantity units in one item.
const QuantityScale = 1000

// MaxQuantity bounds a single quantity (one million items).
const MaxQuantity Quantity = 1_000_000 * QuantityScale

// Q returns n whole items as a Quantity.
func Q(n int64) Quantity { return Quantity(n * QuantityScale) }

// String formats q as a decimal without trailing zeros.
func (q Quantity) String() string { return string(q.Append(nil)) }

// Append appends q to b as a decimal without trailing zeros: its text and
// JSON form.
func (q Quantity) Append(b []byte) []byte {
	if q < 0 {
		b = append(b, '-')
		q = -q
	}
	b = strconv.AppendInt(b, int64(q/QuantityScale), 10)
	if frac := int64(q % QuantityScale); frac != 0 {
		b = append(b, '.', byte('0'+frac/100), byte('0'+frac/10%10), byte('0'+frac%10))
		for b[len(b)-1] == '0' {
			b = b[:len(b)-1]
		}
	}
	return b
}

// MarshalJSON writes q as a JSON number.
func (q Quantity) MarshalJSON() ([]byte, error) { return q.Append(nil), nil }

// UnmarshalJSON reads a JSON number with at most three decimals. It serves
// stored documents and the Go client; requests are parsed by parseQuantity,
// which can name the offending field.
func (q *Quantity) UnmarshalJSON(b []byte) error {
	v, err := parseQuantity(b, "quantity", true)
	if err != nil {
		return err
	}
	*q = v
	return nil
}

// ParseQuantity parses a decimal such as "2" or "0.25" (for tools and tests).
func ParseQuantity(s string) (Quantity, error) {
	return parseQuantity(json.RawMessage(s), "quantity", true)
}

// parseQuantity parses a JSON number with at most three decimals. Exponents
// are refused: a cashier's scale never writes 1e3, and accepting them would
// let tiny or huge values slip past the decimal rule.
func parseQuantity(raw json.RawMessage, field string, allowNegative bool) (Quantity, error) {
	s, err := numberText(raw, field)
	if err != nil {
		return 0, err
	}
	neg := false
	if s[0] == '-' {
		neg, s = true, s[1:]
	}
	whole, frac, hasDot := strings.Cut(s, ".")
	if whole == "" || !allDigits(whole) || (hasDot && (frac == "" || !allDigits(frac))) {
		return 0, fieldErr(field, "must be a plain decimal number such as 2 or 0.25")
	}
	if len(frac) > 3 {
		return 0, fieldErr(field, "may have at most 3 decimals")
	}
	if len(whole) > 7 {
		return 0, fieldErr(field, "is too large (at most %s)", MaxQuantity)
	}
	w, _ := strconv.ParseInt(whole, 10, 64)
	f := int64(0)
	if frac != "" {
		f, _ = strconv.ParseInt((frac + "00")[:3], 10, 64)
	}
	v := Quantity(w*QuantityScale + f)
	if v > MaxQuantity {
		return 0, fieldErr(field, "is too large (at most %s)", MaxQuantity)
	}
	if neg {
		if !allowNegative && v != 0 {
			return 0, fieldErr(field, "must be positive")
		}
		v = -v
	}
	return v, nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// TaxRate is a tax rate in hundredths of a percent (2000 = 20%). It is written
// to JSON as a percentage with up to two decimals (20, 7.7).
type TaxRate int64

// MarshalJSON writes r as a percentage.
func (r TaxRate) MarshalJSON() ([]byte, error) { return r.Append(nil), nil }

// Append appends r to b as a percentage with up to two decimals: its JSON
// form.
func (r TaxRate) Append(b []byte) []byte {
	if r < 0 { // never stored: rates are 0 to 100%
		b = append(b, '-')
		r = -r
	}
	b = strconv.AppendInt(b, int64(r/100), 10)
	if f := int64(r % 100); f != 0 {
		b = append(b, '.', byte('0'+f/10), byte('0'+f%10))
		if b[len(b)-1] == '0' {
			b = b[:len(b)-1]
		}
	}
	return b
}

// UnmarshalJSON reads a percentage.
func (r *TaxRate) UnmarshalJSON(b []byte) error {
	v, err := parseTaxRate(b, "taxRate")
	if err != nil {
		return err
	}
	*r = v
	return nil
}

// parseTaxRate parses a percentage between 0 and 100 with at most 2 decimals.
func parseTaxRate(raw json.RawMessage, field string) (TaxRate, error) {
	s, err := numberText(raw, field)
	if err != nil {
		return 0, err
	}
	whole, frac, hasDot := strings.Cut(s, ".")
	if whole == "" || !allDigits(whole) || (hasDot && (frac == "" || !allDigits(frac))) || len(frac) > 2 {
		return 0, fieldErr(field, "must be a percentage between 0 and 100 with at most 2 decimals, e.g. 20 or 7.7")
	}
	if len(whole) > 3 {
		return 0, fieldErr(field, "must be at most 100")
	}
	w, _ := strconv.ParseInt(whole, 10, 64)
	f := int64(0)
	if frac != "" {
		f, _ = strconv.ParseInt((frac + "0")[:2], 10, 64)
	}
	v := TaxRate(w*100 + f)
	if v > 10000 {
		return 0, fieldErr(field, "must be at most 100")
	}
	return v, nil
}

// lineAmount returns price × quantity rounded half away from zero to the
// minor unit, for a non-negative price and positive quantity.
func lineAmount(price Money, q Quantity, field string) (Money, error) {
	v, ok := mulDivRound(int64(price), int64(q), QuantityScale)
	if !ok {
		return 0, fieldErr(field, "amount (price × quantity) is too large")
	}
	return Money(v), nil
}

// includedTax returns the tax contained in a tax-inclusive amount.
func includedTax(amount Money, r TaxRate) Money {
	if r == 0 || amount <= 0 {
		return 0
	}
	v, _ := mulDivRound(int64(amount), int64(r), 10000+int64(r))
	return Money(v)
}
