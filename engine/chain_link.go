package engine

import (
	"strings"
	"time"
)

// link makes d, numbered n in series s, the next link of the series'
// chain, in the document's own transaction: it sets d's PreviousHash and
// Hash and advances the series head. d must already carry every value its
// canonical form holds.
//
// It never refuses a document: a sale that happened is recorded whatever
// the chain's state. A head that does not stand at n-1 (a database damaged
// or altered between two commits) is chained to as it is, and
// verification reports the break.
func link(tx Tx, biz *Business, s Series, n uint64, d chained) error {
	prev, err := previousHash(tx, biz, s, n)
	if err != nil {
		return err
	}
	l := d.chainLink()
	l.PreviousHash = prev
	l.Hash = chainHash(d)
	return tx.SetChainHead(biz.ID, s, ChainHead{Number: n, Hash: l.Hash})
}

// previousHash is what document n of series s chains to: the series' head,
// or for the first of a series the head of the kind's previous series.
func previousHash(tx Tx, biz *Business, s Series, n uint64) (string, error) {
	if n > 1 {
		h, err := tx.ChainHead(biz.ID, s)
		return h.Hash, err
	}
	return previousSeriesHash(tx, biz, s)
}

// maxMonthsBack bounds the look for a kind's previous series: fifty years.
const maxMonthsBack = 600

// previousSeriesHash returns the head hash of the latest series of s's kind
// before s (the latest earlier month with documents of the kind), or
// GenesisHash if there is none: months are looked at one by one, back to
// the business's creation, which a commit does once per kind and month.
func previousSeriesHash(tx Tx, biz *Business, s Series) (string, error) {
	prefix, month, ok := seriesMonth(s, biz.Location())
	if !ok || !monthly(prefix) {
		return GenesisHash, nil
	}
	zone := biz.Location()
	c := biz.CreatedAt.In(zone)
	start := time.Date(c.Year(), c.Month(), 1, 0, 0, 0, 0, zone)
	m := month
	for range maxMonthsBack {
		m = m.AddDate(0, -1, 0)
		if m.Before(start) {
			break
		}
		h, err := tx.ChainHead(biz.ID, SeriesOf(prefix, m, zone))
		if err != nil {
			return "", err
		}
		if h.Number > 0 {
			return h.Hash, nil
		}
	}
	return GenesisHash, nil
}

// seriesMonth splits a monthly series, "INV-202611", into its prefix and
// the first instant of its month in zone.
func seriesMonth(s Series, zone *time.Location) (string, time.Time, bool) {
	prefix, ym, ok := strings.Cut(string(s), "-")
	if !ok || len(ym) != 6 {
		return "", time.Time{}, false
	}
	t, err := time.ParseInLocation("200601", ym, zone)
	if err != nil {
		return "", time.Time{}, false
	}
	return prefix, t, true
}

// numberAndLink takes the next number of prefix's series for ref
// (nextNumber), gives it to d with setNumber and links d into the chain:
// what every numbered document's commit does once d holds all its other
// values.
func numberAndLink(tx Tx, biz *Business, prefix string, now time.Time, ref DocRef, d chained, setNumber func(string)) error {
	number, err := nextNumber(tx, biz, prefix, now, ref)
	if err != nil {
		return err
	}
	s, n, _ := ParseNumber(number)
	setNumber(number)
	return link(tx, biz, s, n, d)
}
