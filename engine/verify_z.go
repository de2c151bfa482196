package engine

import "fmt"

// The Z check of Verify: for every location with Z reports, the reports
// and the documents they cover must still agree, to the cent. It walks the
// location's sales and refunds in stored order, hands each to the Z whose
// marks cover it, and compares each Z's gross, refunds and net, and its
// grand total, with what its documents add up to now. A document changed,
// removed or slipped in after its day was closed, and a Z changed
// afterwards, all show; so does a Z number missing from 1..N.

// zTotals sums what the Z check saw, for its detail line.
type zTotals struct {
	reports, locations, covered, open int
	nets, docs                        Money
}

func (z *zTotals) detail() string {
	if z.reports == 0 {
		return "no Z reports"
	}
	return fmt.Sprintf("%d Z reports of %d location(s): their nets add up to %s, the %d documents they cover to %s; %d documents since the last Z",
		z.reports, z.locations, moneyText(z.nets), z.covered, moneyText(z.docs), z.open)
}

// moneyText writes minor units as a decimal (1234 → "12.34") for people.
func moneyText(m Money) string {
	sign := ""
	if m < 0 {
		sign, m = "-", -m
	}
	return fmt.Sprintf("%s%d.%02d", sign, m/100, m%100)
}

// zReportClaim is the number a Z's claim carries.
func zReportClaim(z *ZReport) string {
	_, n, _ := ParseNumber(z.ZNumber)
	return zClaim(z.LocationID, n)
}

// eachZ calls fn for every Z report of the business, location by location,
// oldest first.
func (v *verifier) eachZ(fn func(*ZReport) error) error {
	locs, err := v.tx.Locations(v.biz.ID)
	if err != nil {
		return err
	}
	for _, l := range locs {
		zs, err := v.locationZs(l.ID)
		if err != nil {
			return err
		}
		for _, z := range zs {
			if err := fn(z); err != nil {
				return err
			}
		}
	}
	return nil
}

// locationZs lists a location's Zs oldest first.
func (v *verifier) locationZs(loc string) ([]*ZReport, error) {
	var out []*ZReport
	for cursor := ""; ; {
		page, next, err := v.tx.ZReports(v.biz.ID, SaleFilter{LocationID: loc, Cursor: cursor, Limit: 200})
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if next == "" {
			return out, nil
		}
		cursor = next
	}
}

// zReports runs the Z check on every location of the business.
func (v *verifier) zReports() error {
	locs, err := v.tx.Locations(v.biz.ID)
	if err != nil {
		return err
	}
	labels := locationLabels(locs)
	for _, l := range locs {
		zs, err := v.locationZs(l.ID)
		if err != nil {
			return err
		}
		if len(zs) == 0 {
			continue
		}
		v.zt.locations++
		if err := v.locationZ(l, labels[l.ID], zs); err != nil {
			return err
		}
	}
	return nil
}

// zPart is what a Z's documents add up to now.
type zPart struct {
	gross, refunds Money
	docs           int
}

func (v *verifier) locationZ(l *Location, label string, zs []*ZReport) error {
	biz := v.biz.ID
	where := fmt.Sprintf("business %s, location %q", biz, label)
	for i, z := range zs {
		if want := FormatNumber(PrefixZReport, uint64(i+1)); z.ZNumber != want {
			v.zs.add("%s: the %d. Z report is numbered %s, not %s", where, i+1, z.ZNumber, want)
		}
	}
	parts := make([]zPart, len(zs))
	// The documents are walked once, in stored order, one page at a time:
	// each goes to the first Z whose mark is at or after it, the rest are
	// the open day.
	open := 0
	saleMark := func(z *ZReport) string { return z.Coverage.Sale }
	retMark := func(z *ZReport) string { return z.Coverage.Return }
	sales := newZCursor(zs, saleMark)
	err := eachPage(func(cursor string) ([]*Sale, string, error) {
		return v.tx.Sales(biz, SaleFilter{LocationID: l.ID, Cursor: cursor, Limit: walkPage})
	}, func(s *Sale) (bool, error) {
		if k := sales.take(s.ID); k >= 0 {
			parts[k].gross += s.Total
			parts[k].docs++
		} else {
			open++
		}
		return false, nil
	})
	if err != nil {
		return err
	}
	rets := newZCursor(zs, retMark)
	err = eachPage(func(cursor string) ([]*Return, string, error) {
		return v.tx.ReturnsAt(biz, SaleFilter{LocationID: l.ID, Cursor: cursor, Limit: walkPage})
	}, func(r *Return) (bool, error) {
		if k := rets.take(r.ID); k >= 0 {
			parts[k].refunds += r.Total
			parts[k].docs++
		} else {
			open++
		}
		return false, nil
	})
	if err != nil {
		return err
	}
	for _, c := range []struct {
		cur  *zCursor
		what string
		mark func(*ZReport) string
	}{{sales, "sale", saleMark}, {rets, "refund", retMark}} {
		for k := c.cur.k; k < len(zs); k++ {
			if m := c.mark(zs[k]); m != "" && (k == 0 || m != c.mark(zs[k-1])) {
				v.zs.add("%s: %s covers the %ss up to %s, which is not a %s of this location (or comes before the previous Z's)", where, zs[k].ZNumber, c.what, m, c.what)
			}
		}
	}
	var grand, nets, docs Money
	for i, z := range zs {
		p := parts[i]
		v.zt.reports++
		v.zt.covered += p.docs
		net := p.gross - p.refunds
		if z.Gross != p.gross || z.Refunds != p.refunds || z.Net != z.Gross-z.Refunds {
			v.zs.add("%s: %s says gross %s, refunds %s, net %s; its documents add up to gross %s, refunds %s, net %s",
				where, z.ZNumber, moneyText(z.Gross), moneyText(z.Refunds), moneyText(z.Net), moneyText(p.gross), moneyText(p.refunds), moneyText(net))
		}
		grand += z.Net
		if z.GrandTotal.Net != grand {
			v.zs.add("%s: %s's grand total is %s, but the nets of Z-0001 to %s add up to %s", where, z.ZNumber, moneyText(z.GrandTotal.Net), z.ZNumber, moneyText(grand))
		}
		nets += z.Net
		docs += net
	}
	if nets != docs {
		v.zs.add("%s: the nets of its %d Z reports add up to %s, the documents they cover to %s", where, len(zs), moneyText(nets), moneyText(docs))
	}
	v.zt.nets += nets
	v.zt.docs += docs
	v.zt.open += open
	return nil
}

// zCursor hands the documents of a location, in stored order, to the Zs
// whose marks cover them.
type zCursor struct {
	zs   []*ZReport
	mark func(*ZReport) string
	k    int // the Z the next document belongs to; len(zs): the open day
}

func newZCursor(zs []*ZReport, mark func(*ZReport) string) *zCursor {
	c := &zCursor{zs: zs, mark: mark}
	c.skip("")
	return c
}

// skip moves past the Zs whose mark is m: they cover nothing more.
func (c *zCursor) skip(m string) {
	for c.k < len(c.zs) && c.mark(c.zs[c.k]) == m {
		c.k++
	}
}

// take returns the index of the Z that covers document id, or -1 if it is
// after the last Z.
func (c *zCursor) take(id string) int {
	if c.k >= len(c.zs) {
		return -1
	}
	k := c.k
	if id == c.mark(c.zs[k]) {
		c.k++
		c.skip(id)
	}
	return k
}
