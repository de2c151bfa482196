package engine

import (
	"strconv"
	"strings"
	"time"
)

// Series names one numbering series of a business: a document prefix and a
// month, "INV-202611". Numbers run 1, 2, 3, … within a series, with no gap
// and no duplicate, because the counter is advanced in the same transaction
// that stores the document: a transaction that fails takes its number with
// it.
type Series string

// Document number prefixes.
const (
	PrefixSale     = "INV"
	PrefixReturn   = "RET"
	PrefixReceipt  = "RCV"
	PrefixTransfer = "TRF"
)

// SeriesOf returns the series of a prefix at time t in the business's zone.
func SeriesOf(prefix string, t time.Time, zone *time.Location) Series {
	y, m, _ := t.In(zone).Date()
	if y < 0 || y > 9999 {
		return Series(prefix + "-" + t.In(zone).Format("200601"))
	}
	b := make([]byte, 0, len(prefix)+7)
	b = append(b, prefix...)
	b = append(b, '-', byte('0'+y/1000), byte('0'+y/100%10), byte('0'+y/10%10), byte('0'+y%10), byte('0'+int(m)/10), byte('0'+int(m)%10))
	return Series(b)
}

// FormatNumber renders the n-th number of a series: at least four digits,
// more past 9999, never truncated.
func FormatNumber(s Series, n uint64) string {
	b := make([]byte, 0, len(s)+8)
	b = append(b, s...)
	b = append(b, '-')
	for d := uint64(1000); d > 1 && n < d; d /= 10 {
		b = append(b, '0')
	}
	return string(strconv.AppendUint(b, n, 10))
}

// ParseNumber splits a document number into its series and sequence.
func ParseNumber(number string) (Series, uint64, bool) {
	i := strings.LastIndexByte(number, '-')
	if i < 0 {
		return "", 0, false
	}
	n, err := strconv.ParseUint(number[i+1:], 10, 64)
	if err != nil || n == 0 || len(number[i+1:]) < 4 {
		return "", 0, false
	}
	return Series(number[:i]), n, true
}

// nextNumber takes the next number of a series for ref, inside tx: the
// counter advances in the document's own transaction (Tx.NextNumber), so a
// failed transaction gives its number back, and Tx.ClaimNumber refuses a
// number that is somehow taken already.
func nextNumber(tx Tx, biz *Business, prefix string, now time.Time, ref DocRef) (string, error) {
	s := SeriesOf(prefix, now, biz.Location())
	n, err := tx.NextNumber(biz.ID, s)
	if err != nil {
		return "", err
	}
	number := FormatNumber(s, n)
	if err := tx.ClaimNumber(biz.ID, number, ref); err != nil {
		return "", err
	}
	return number, nil
}
