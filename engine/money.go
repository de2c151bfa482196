package engine

import (
	"encoding/json"
	"math/bits"
	"strconv"
)

// Money is an amount in the currency's minor unit (cents). It is never a
// float: all arithmetic on it is integer arithmetic with explicit rounding.
type Money int64

// MaxMoney bounds any single amount a request may carry or a line may reach.
// It is far above any till's needs (ten trillion units) and low enough that
// the sum of 1000 lines cannot overflow an int64.
const MaxMoney Money = 1_000_000_000_000_000

// parseMoney parses a JSON number that must be a whole number of minor units.
func parseMoney(raw json.RawMessage, field string, allowNegative bool) (Money, error) {
	s, err := numberText(raw, field)
	if err != nil {
		return 0, err
	}
	neg := false
	if s[0] == '-' {
		neg, s = true, s[1:]
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, fieldErr(field, "must be a whole number of minor units (cents), e.g. 1250 for 12.50")
		}
	}
	if len(s) > 16 {
		return 0, fieldErr(field, "is too large")
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || Money(v) > MaxMoney {
		return 0, fieldErr(field, "is too large")
	}
	if neg {
		if !allowNegative && v != 0 {
			return 0, fieldErr(field, "must not be negative")
		}
		v = -v
	}
	return Money(v), nil
}

// numberText returns the text of a JSON number, refusing strings, null and
// other JSON types with a message that names the field.
func numberText(raw json.RawMessage, field string) (string, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", fieldErr(field, "is required")
	}
	c := raw[0]
	if c != '-' && (c < '0' || c > '9') {
		return "", fieldErr(field, "must be a number")
	}
	return string(raw), nil
}

// mulDivRound returns a*b/c rounded half away from zero for non-negative a,b
// and positive c, computed with 128-bit intermediates so it cannot overflow
// silently; ok is false when the result does not fit in MaxMoney.
func mulDivRound(a, b, c int64) (int64, bool) {
	if a < 0 || b < 0 || c <= 0 {
		return 0, false
	}
	hi, lo := bits.Mul64(uint64(a), uint64(b))
	if hi >= uint64(c) {
		return 0, false
	}
	q, r := bits.Div64(hi, lo, uint64(c))
	if r >= uint64(c)-r { // 2r >= c without overflow
		q++
	}
	if q > uint64(MaxMoney) {
		return 0, false
	}
	return int64(q), true
}

// addMoney adds with a bound check.
func addMoney(a, b Money) (Money, bool) {
	s := a + b
	if s > MaxMoney || s < -MaxMoney {
		return 0, false
	}
	return s, true
}
