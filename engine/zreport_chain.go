package engine

import (
	"fmt"
	"slices"
	"strconv"
	"time"
)

// A Z report is a link of its location's Z chain (chain.go): the series
// Z-<location ID>, which never resets, so its first Z chains to GenesisHash
// and every later one to the Z before it. The link is made in the Z's own
// transaction, after its figures and SeriesHeads are fixed.
//
// The canonical form of a Z, version 1 ("kind":"Z", "number" the Z's own
// number, "Z-0001"), holds besides the keys every form has: createdAt,
// locationId, tokenId, from (left out before the first Z), to, series
// [{count, first, last, series}], salesCount, refundsCount, gross, refunds,
// net, tax {net, refunds, sales}, byMethod [{method, net, refunds, sales}],
// byTaxRate {refunds, sales: [{base, gross, rate, tax}]}, cash
// {outsideShifts {cashRefunds, cashSales, change, net, refunds, sales},
// shifts [{counted, difference (left out while open), expected, id}]},
// lateArrivals [{number, soldAt, total}], grandTotal {gross, net,
// refunds}, seriesHeads [{hash, number, series}] and coverage {returnId,
// saleId, shiftId} (each left out when empty): every amount the Z prints,
// what it covers and the heads it anchors. The per-till and per-cashier
// parts and the list of tills not reported are derived or advisory, and
// left out.
//
// SeriesHeads are, for each kind of numbered document (INV, RET, RCV,
// TRF), the head of the kind's latest series when the Z was taken: the
// last document of the kind and its hash; then the head of every other
// series the Z covers (an earlier month's). Each kind's chain runs across
// its months, so that one hash fixes every document of the kind before it,
// of every location. A printed or mailed Z is thus an anchor kept outside
// the machine; storedAnchors makes each stored Z's heads anchors too, so
// that a chain rewritten without rewriting every later Z shows.

func (z *ZReport) chainNumber() string {
	if z.ZNumber == "" {
		return ""
	}
	return zReportClaim(z)
}

func (z *ZReport) chainLink() *ChainLink { return &z.ChainLink }

func (z *ZReport) appendCanonical(b []byte, _ int) []byte {
	b = append(b, `{"business":`...)
	b = appendCanonString(b, z.BusinessID)
	b = append(b, `,"byMethod":[`...)
	for i, m := range z.ByMethod {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"method":`...)
		b = appendCanonString(b, m.Method)
		b = appendCanonInt(b, "net", m.Net)
		b = appendCanonInt(b, "refunds", m.Refunds)
		b = appendCanonInt(b, "sales", m.Sales)
		b = append(b, '}')
	}
	b = append(b, `],"byTaxRate":{"refunds":`...)
	b = appendCanonRates(b, z.ByTaxRate.Refunds)
	b = append(b, `,"sales":`...)
	b = appendCanonRates(b, z.ByTaxRate.Sales)
	o := z.Cash.OutsideShifts
	b = append(b, `},"cash":{"outsideShifts":{"cashRefunds":`...)
	b = strconv.AppendInt(b, int64(o.CashRefunds), 10)
	b = appendCanonInt(b, "cashSales", o.CashSales)
	b = appendCanonInt(b, "change", o.Change)
	b = appendCanonInt(b, "net", o.Net)
	b = appendCanonInt(b, "refunds", Money(o.Refunds))
	b = appendCanonInt(b, "sales", Money(o.Sales))
	b = append(b, `},"shifts":[`...)
	for i, sh := range z.Cash.Shifts {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '{')
		if sh.Cash.Counted != nil {
			b = append(b, `"counted":`...)
			b = strconv.AppendInt(b, int64(*sh.Cash.Counted), 10)
			b = append(b, ',')
		}
		if sh.Cash.Difference != nil {
			b = append(b, `"difference":`...)
			b = strconv.AppendInt(b, int64(*sh.Cash.Difference), 10)
			b = append(b, ',')
		}
		b = append(b, `"expected":`...)
		b = strconv.AppendInt(b, int64(sh.Cash.Expected), 10)
		b = append(b, `,"id":`...)
		b = appendCanonString(b, sh.ID)
		b = append(b, '}')
	}
	b = append(b, `]},"coverage":{`...)
	first := true
	for _, kv := range [][2]string{{"returnId", z.Coverage.Return}, {"saleId", z.Coverage.Sale}, {"shiftId", z.Coverage.Shift}} {
		if kv[1] == "" {
			continue
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = appendCanonString(b, kv[0])
		b = append(b, ':')
		b = appendCanonString(b, kv[1])
	}
	b = append(b, `},"createdAt":`...)
	b = appendCanonTime(b, z.CreatedAt)
	if z.From != nil {
		b = append(b, `,"from":`...)
		b = appendCanonTime(b, *z.From)
	}
	b = append(b, `,"grandTotal":{"gross":`...)
	b = strconv.AppendInt(b, int64(z.GrandTotal.Gross), 10)
	b = appendCanonInt(b, "net", z.GrandTotal.Net)
	b = appendCanonInt(b, "refunds", z.GrandTotal.Refunds)
	b = append(b, '}')
	b = appendCanonInt(b, "gross", z.Gross)
	b = append(b, `,"id":`...)
	b = appendCanonString(b, z.ID)
	b = append(b, `,"kind":"Z","lateArrivals":[`...)
	for i, l := range z.LateArrivals {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"number":`...)
		b = appendCanonString(b, l.Number)
		b = append(b, `,"soldAt":`...)
		b = appendCanonTime(b, l.SoldAt)
		b = appendCanonInt(b, "total", l.Total)
		b = append(b, '}')
	}
	b = append(b, `],"locationId":`...)
	b = appendCanonString(b, z.LocationID)
	b = appendCanonInt(b, "net", z.Net)
	b = append(b, `,"number":`...)
	b = appendCanonString(b, z.ZNumber)
	b = append(b, `,"previousHash":`...)
	b = appendCanonString(b, z.PreviousHash)
	b = appendCanonInt(b, "refunds", z.Refunds)
	b = appendCanonInt(b, "refundsCount", Money(z.RefundsCount))
	b = appendCanonInt(b, "salesCount", Money(z.SalesCount))
	b = append(b, `,"series":[`...)
	for i, r := range z.Series {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"count":`...)
		b = strconv.AppendInt(b, int64(r.Count), 10)
		b = append(b, `,"first":`...)
		b = appendCanonString(b, r.First)
		b = append(b, `,"last":`...)
		b = appendCanonString(b, r.Last)
		b = append(b, `,"series":`...)
		b = appendCanonString(b, string(r.Series))
		b = append(b, '}')
	}
	b = append(b, `],"seriesHeads":[`...)
	for i, h := range z.SeriesHeads {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"hash":`...)
		b = appendCanonString(b, h.Hash)
		b = append(b, `,"number":`...)
		b = appendCanonString(b, h.Number)
		b = append(b, `,"series":`...)
		b = appendCanonString(b, string(h.Series))
		b = append(b, '}')
	}
	b = append(b, `],"tax":{"net":`...)
	b = strconv.AppendInt(b, int64(z.Tax.Net), 10)
	b = appendCanonInt(b, "refunds", z.Tax.Refunds)
	b = appendCanonInt(b, "sales", z.Tax.Sales)
	b = append(b, `},"to":`...)
	b = appendCanonTime(b, z.To)
	b = append(b, `,"tokenId":`...)
	b = appendCanonString(b, z.TokenID)
	return append(b, `,"v":1}`...)
}

// appendCanonInt writes ,"key":v.
func appendCanonInt(b []byte, key string, v Money) []byte {
	b = append(b, ',', '"')
	b = append(b, key...)
	b = append(b, '"', ':')
	return strconv.AppendInt(b, int64(v), 10)
}

func appendCanonRates(b []byte, rs []RateLine) []byte {
	b = append(b, '[')
	for i, r := range rs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"base":`...)
		b = strconv.AppendInt(b, int64(r.Base), 10)
		b = appendCanonInt(b, "gross", r.Gross)
		b = append(b, `,"rate":"`...)
		b = r.Rate.Append(b)
		b = append(b, '"')
		b = appendCanonInt(b, "tax", r.Tax)
		b = append(b, '}')
	}
	return append(b, ']')
}

// seriesHeads lists, for each kind of numbered document, the head of the
// kind's latest series with a chained document at now: what a Z anchors.
// Months are looked at from now back, as previousSeriesHash does.
func seriesHeads(tx Tx, biz *Business, now time.Time, covered []SeriesRange) ([]SeriesHead, error) {
	zone := biz.Location()
	c := biz.CreatedAt.In(zone)
	start := time.Date(c.Year(), c.Month(), 1, 0, 0, 0, 0, zone)
	n := now.In(zone)
	heads := []SeriesHead{}
	for _, p := range exportPrefixes {
		m := time.Date(n.Year(), n.Month(), 1, 0, 0, 0, 0, zone)
		for range maxMonthsBack {
			if m.Before(start) {
				break
			}
			s := SeriesOf(p, m, zone)
			h, err := tx.ChainHead(biz.ID, s)
			if err != nil {
				return nil, err
			}
			if h.Number > 0 {
				heads = append(heads, SeriesHead{Series: s, Number: FormatNumber(s, h.Number), Hash: h.Hash})
				break
			}
			m = m.AddDate(0, -1, 0)
		}
	}
	// Every other series the report covers (an earlier month's, when the
	// day ran across a month's end or late arrivals were numbered in
	// it): its head too, so that the Z names the head of every series it
	// counts, as the contract (§6) asks.
	for _, r := range covered {
		if slices.ContainsFunc(heads, func(h SeriesHead) bool { return h.Series == r.Series }) {
			continue
		}
		h, err := tx.ChainHead(biz.ID, r.Series)
		if err != nil {
			return nil, err
		}
		if h.Number > 0 {
			heads = append(heads, SeriesHead{Series: r.Series, Number: FormatNumber(r.Series, h.Number), Hash: h.Hash})
		}
	}
	return heads, nil
}

// storedAnchors returns the anchors the database itself holds: the series
// heads every Z recorded when it closed a day, each named after its Z
// ("Z-0012 of Main"). A tail rewritten without rewriting the Zs after it
// shows here; the printed Z catches the rest.
func storedAnchors(tx ScanTx, business string) ([]Anchor, error) {
	locs, err := tx.Locations(business)
	if err != nil {
		return nil, err
	}
	labels := locationLabels(locs)
	var out []Anchor
	for _, l := range locs {
		cursor := ""
		for {
			page, next, err := tx.ZReports(business, SaleFilter{LocationID: l.ID, Cursor: cursor, Limit: 200})
			if err != nil {
				return nil, err
			}
			for _, z := range page {
				for _, h := range z.SeriesHeads {
					s, n, ok := ParseNumber(h.Number)
					if !ok {
						continue
					}
					out = append(out, Anchor{BusinessID: business, Series: s, Number: n, Hash: h.Hash,
						Source: fmt.Sprintf("%s of %s", z.ZNumber, labels[l.ID])})
				}
			}
			if next == "" {
				break
			}
			cursor = next
		}
	}
	slices.SortStableFunc(out, func(a, b Anchor) int { return seriesOrder(a.Series, b.Series) })
	return out, nil
}

// zLabels names each location's Z series for findings meant for people:
// "Z-0002 of Main" rather than the series' key, Z-<location ID>-0002 (two
// locations of one name: "Z-0002 of Main (2nd)", locationLabels).
func zLabels(tx ScanTx, business string) (map[Series]string, error) {
	locs, err := tx.Locations(business)
	if err != nil {
		return nil, err
	}
	labels := locationLabels(locs)
	m := make(map[Series]string, len(locs))
	for _, l := range locs {
		m[ZSeries(l.ID)] = labels[l.ID]
	}
	return m, nil
}

// label is how a finding names number: a Z by its own number and its
// location's name.
func (v *chainVerifier) label(number string) string {
	s, n, ok := ParseNumber(number)
	if !ok || seriesPrefix(s) != PrefixZReport {
		return number
	}
	if name, ok := v.zNames[s]; ok {
		return fmt.Sprintf("%s of %s", FormatNumber(PrefixZReport, n), name)
	}
	return number
}
