package engine

import (
	"strconv"
	"strings"
)

// minorDigits lists the ISO 4217 currencies whose minor unit is not a
// hundredth: amounts in them have 0 or 3 decimals. Every other currency
// has 2.
var minorDigits = map[string]int{
	"BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0,
	"RWF": 0, "UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
	"BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
}

// MinorDigits returns how many decimals an amount in currency has: 2 for
// EUR (cents), 0 for JPY.
func MinorDigits(currency string) int {
	if d, ok := minorDigits[strings.ToUpper(currency)]; ok {
		return d
	}
	return 2
}

// FormatDecimal writes an amount of minor units as a decimal with a dot:
// 1250 → "12.50" in EUR, as accountants' files and the product CSV want it.
func FormatDecimal(m Money, currency string) string {
	d := MinorDigits(currency)
	neg := m < 0
	if neg {
		m = -m
	}
	s := strconv.FormatInt(int64(m), 10)
	if d > 0 {
		for len(s) <= d {
			s = "0" + s
		}
		s = s[:len(s)-d] + "." + s[len(s)-d:]
	}
	if neg {
		s = "-" + s
	}
	return s
}

// ParseDecimal reads an amount written as a decimal ("12.50", "12.5",
// "12"; with decimalComma also "12,50") into minor units of currency. It
// refuses currency signs, thousands separators and more decimals than the
// currency has, with ok false.
func ParseDecimal(text, currency string, decimalComma bool) (Money, bool) {
	s := strings.TrimSpace(text)
	if decimalComma && strings.Count(s, ",") == 1 && !strings.Contains(s, ".") {
		s = strings.Replace(s, ",", ".", 1)
	}
	whole, frac, hasDot := strings.Cut(s, ".")
	d := MinorDigits(currency)
	if whole == "" || !allDigits(whole) || (hasDot && (frac == "" || !allDigits(frac) || len(frac) > d)) || len(whole) > 13 {
		return 0, false
	}
	v, err := strconv.ParseInt(whole+(frac + strings.Repeat("0", d))[:d], 10, 64)
	if err != nil || Money(v) > MaxMoney {
		return 0, false
	}
	return Money(v), true
}
