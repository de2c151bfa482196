package engine

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// A Z report closes a location's business day. What it covers is decided
// by what reached posd, not by any clock: every sale and refund of the
// location stored after the previous Z of that location (its Coverage
// marks) and before this one, in the same transaction that gives the Z its
// number. So
//
//   - no document is in two Zs and none is left out, whatever tills, Z
//     requests and clocks do at once (Store.Update is serializable);
//   - a sale rung up offline before the close that reaches posd after it
//     is in the next Z, listed there as a late arrival with its own date
//     (its soldAt), never folded into a day already closed;
//   - the Z nets of a location add up to its documents, to the cent, and
//     Verify checks that they still do.
//
// Z numbers are Z-0001, Z-0002, … per location, never reset: the counter
// is the series "Z-<location ID>" (Tx.NextNumber, in the Z's transaction),
// and the claimed number is that series' number, so two locations' Z-0001
// are two claims. A Z is never changed (Tx.PutZReport refuses to). An X
// report is the same figures so far, in a read-only snapshot: not
// numbered, nothing closed.

// ZReport is a closed business day of a location.
type ZReport struct {
	ID string `json:"id"`
	// ZNumber is Z-NNNN: consecutive per location, never reset.
	ZNumber    string `json:"zNumber"`
	LocationID string `json:"locationId"`
	// CreatedAt is when posd closed the day; TokenID who asked.
	CreatedAt time.Time `json:"createdAt"`
	TokenID   string    `json:"tokenId"`
	// ChainLink is the Z's link in its location's Z chain
	// (zreport_chain.go).
	ChainLink
	ZFigures
	BusinessID string `json:"-"`
}

// XReport is the figures of a location's open day so far: a Z not taken.
type XReport struct {
	LocationID string    `json:"locationId"`
	At         time.Time `json:"at"`
	ZFigures
}

// ZFigures are what a Z (or an X) reports.
type ZFigures struct {
	Currency string `json:"currency"`
	Timezone string `json:"timezone"`
	// BusinessDay is the local date (YYYY-MM-DD) the report was taken.
	BusinessDay string `json:"businessDay"`
	// From is the previous Z's time (nil before the first Z); To is this
	// report's: the range of arrival times covered.
	From     *time.Time `json:"from"`
	To       time.Time  `json:"to"`
	Previous *ZRef      `json:"previous"`
	// Series lists each document series in the report with its first and
	// last number and how many of its documents are in it. Numbers of
	// other locations may lie between first and last.
	Series       []SeriesRange `json:"series"`
	SalesCount   int           `json:"salesCount"`
	RefundsCount int           `json:"refundsCount"`
	// Gross is the sales' total, Refunds the refunds', Net the difference;
	// all tax included.
	Gross   Money     `json:"gross"`
	Refunds Money     `json:"refunds"`
	Net     Money     `json:"net"`
	Tax     TaxTotals `json:"tax"`
	// ByMethod is what each payment method took in and paid back; cash
	// sales are net of change, so the sales column adds up to Gross.
	ByMethod  []MethodFigures `json:"byMethod"`
	ByTaxRate RateFigures     `json:"byTaxRate"`
	ByTill    []PartFigures   `json:"byTill"`
	ByCashier []PartFigures   `json:"byCashier"`
	Cash      CashFigures     `json:"cash"`
	// LateArrivals are the documents of this report whose soldAt lies
	// before the previous Z: sold before that day was closed, received
	// after.
	LateArrivals []LateArrival `json:"lateArrivals"`
	// TillsNotReported are the location's tills that, when the report was
	// taken, still had sales queued or had not been seen since the day
	// began: what they sold may still arrive, in a later Z.
	TillsNotReported []TillNotReported `json:"tillsNotReported"`
	// GrandTotal is every Z of the location so far, this one included
	// (for an X: as if it were taken now); it never resets.
	GrandTotal Totals `json:"grandTotal"`
	// SeriesHeads are the head of each kind's hash chain (INV, RET, RCV,
	// TRF) when the report was taken, then of every other series the
	// report covers (zreport_chain.go).
	SeriesHeads []SeriesHead `json:"seriesHeads"`
	// Coverage is where the location's documents stood: the newest sale,
	// refund and shift the report covers. The next Z starts after them.
	Coverage Marks `json:"coverage"`
}

// ZRef names a Z report.
type ZRef struct {
	ID        string    `json:"id"`
	ZNumber   string    `json:"zNumber"`
	CreatedAt time.Time `json:"createdAt"`
}

// SeriesRange is one series' part of a report.
type SeriesRange struct {
	Series Series `json:"series"`
	First  string `json:"first"`
	Last   string `json:"last"`
	Count  int    `json:"count"`
}

// TaxTotals is the tax in the sales, in the refunds, and the difference.
type TaxTotals struct {
	Sales   Money `json:"sales"`
	Refunds Money `json:"refunds"`
	Net     Money `json:"net"`
}

// MethodFigures is one payment method's part.
type MethodFigures struct {
	Method  string `json:"method"`
	Sales   Money  `json:"sales"`
	Refunds Money  `json:"refunds"`
	Net     Money  `json:"net"`
}

// RateFigures is the tax by rate, sales and refunds apart.
type RateFigures struct {
	Sales   []RateLine `json:"sales"`
	Refunds []RateLine `json:"refunds"`
}

// RateLine is one tax rate's base, tax and gross (base + tax).
type RateLine struct {
	Rate  TaxRate `json:"rate"`
	Base  Money   `json:"base"`
	Tax   Money   `json:"tax"`
	Gross Money   `json:"gross"`
}

// PartFigures is one till's or one cashier's part.
type PartFigures struct {
	ID           *string `json:"id"`
	Name         string  `json:"name"`
	SalesCount   int     `json:"salesCount"`
	RefundsCount int     `json:"refundsCount"`
	Gross        Money   `json:"gross"`
	Refunds      Money   `json:"refunds"`
	Net          Money   `json:"net"`
}

// CashFigures are the drawers: the shifts that closed since the previous Z
// and those still open (with their cash so far), and the cash of documents
// sold outside any shift.
type CashFigures struct {
	Shifts        []*Shift    `json:"shifts"`
	OutsideShifts OutsideCash `json:"outsideShifts"`
}

// OutsideCash is the cash of the sales and refunds made without an open
// shift.
type OutsideCash struct {
	Sales       int   `json:"sales"`
	Refunds     int   `json:"refunds"`
	CashSales   Money `json:"cashSales"`
	Change      Money `json:"change"`
	CashRefunds Money `json:"cashRefunds"`
	// Net is CashSales − Change − CashRefunds: the cash these documents
	// left in some drawer.
	Net Money `json:"net"`
}

// LateArrival is a document sold before the previous Z, received after it.
type LateArrival struct {
	Kind   DocKind `json:"kind"`
	ID     string  `json:"id"`
	Number string  `json:"number"`
	// SoldAt is the till's time of the sale or refund, Day its local date.
	SoldAt    time.Time `json:"soldAt"`
	Day       string    `json:"day"`
	CreatedAt time.Time `json:"createdAt"`
	// Total is the document's total: positive for a sale, negative for a
	// refund.
	Total     Money   `json:"total"`
	TillID    string  `json:"tillId"`
	CashierID *string `json:"cashierId"`
}

// TillNotReported is a till that may still hold documents.
type TillNotReported struct {
	TillID     string     `json:"tillId"`
	Name       string     `json:"name"`
	LastSeenAt *time.Time `json:"lastSeenAt"`
	Queued     int        `json:"queued"`
	// Reason says why, in words ("3 sales queued", "not seen today").
	Reason string `json:"reason"`
}

// Totals are gross, refunds and net.
type Totals struct {
	Gross   Money `json:"gross"`
	Refunds Money `json:"refunds"`
	Net     Money `json:"net"`
}

// SeriesHead is the head of one series' hash chain.
type SeriesHead struct {
	Series Series `json:"series"`
	Number string `json:"number"`
	Hash   string `json:"hash"`
}

// ZReportInput is the body of POST /z-reports.
type ZReportInput struct {
	LocationID string `json:"locationId"`
}

// PrefixZReport prefixes Z numbers.
const PrefixZReport = "Z"

// ZSeries is the counter of a location's Z numbers.
func ZSeries(location string) Series { return Series(PrefixZReport + "-" + location) }

// zClaim is the number claimed for a location's n-th Z: unique in the
// business, where the Z number itself is unique in the location.
func zClaim(location string, n uint64) string { return FormatNumber(ZSeries(location), n) }

// CreateZReport closes a location's business day (owner or manager).
func (s *Service) CreateZReport(ctx context.Context, a *Actor, key IdempotencyKey, in ZReportInput) (*Outcome[*ZReport], error) {
	if err := a.Can(PermManage); err != nil {
		return nil, err
	}
	if in.LocationID == "" {
		return nil, fieldErr("locationId", "is required")
	}
	return write(s, ctx, a, key, opCreateZReport, "", in, func(tx Tx, now time.Time) (*ZReport, DocRef, error) {
		biz, err := tx.Business(a.BusinessID)
		if err != nil {
			return nil, DocRef{}, err
		}
		if _, err := getLocation(tx, a.BusinessID, in.LocationID, "locationId"); err != nil {
			return nil, DocRef{}, err
		}
		prev, err := lastZ(tx, a.BusinessID, in.LocationID)
		if err != nil {
			return nil, DocRef{}, err
		}
		n, err := tx.NextNumber(a.BusinessID, ZSeries(in.LocationID))
		if err != nil {
			return nil, DocRef{}, err
		}
		if want := zSeq(prev) + 1; n != want {
			return nil, DocRef{}, Errorf(EINTERNAL, "the Z counter of location %s gives %d, but the last Z is number %d", in.LocationID, n, want-1)
		}
		z := &ZReport{ID: NewID(now), ZNumber: FormatNumber(PrefixZReport, n), LocationID: in.LocationID, CreatedAt: now, TokenID: a.TokenID, BusinessID: a.BusinessID}
		ref := DocRef{Kind: KindZReport, ID: z.ID}
		if err := tx.ClaimNumber(a.BusinessID, zClaim(in.LocationID, n), ref); err != nil {
			return nil, DocRef{}, err
		}
		f, err := s.figures(tx, biz, in.LocationID, prev, now)
		if err != nil {
			return nil, DocRef{}, err
		}
		z.ZFigures = *f
		if err := link(tx, biz, ZSeries(in.LocationID), n, z); err != nil {
			return nil, DocRef{}, err
		}
		if err := tx.PutZReport(z); err != nil {
			return nil, DocRef{}, err
		}
		return z, ref, nil
	})
}

// XReport works out the location's open day so far (owner or manager).
func (s *Service) XReport(ctx context.Context, a *Actor, locationID string) (*XReport, error) {
	var out *XReport
	err := s.view(ctx, a, PermManage, func(tx Tx) error {
		biz, err := tx.Business(a.BusinessID)
		if err != nil {
			return err
		}
		if _, err := getLocation(tx, a.BusinessID, locationID, "locationId"); err != nil {
			return err
		}
		prev, err := lastZ(tx, a.BusinessID, locationID)
		if err != nil {
			return err
		}
		now := s.now()
		f, err := s.figures(tx, biz, locationID, prev, now)
		if err != nil {
			return err
		}
		out = &XReport{LocationID: locationID, At: now, ZFigures: *f}
		return nil
	})
	return out, err
}

// ZReport returns one Z report.
func (s *Service) ZReport(ctx context.Context, a *Actor, id string) (*ZReport, error) {
	var out *ZReport
	err := s.view(ctx, a, PermManage, func(tx Tx) error {
		if !validID(id) {
			return notFound("Z report", "")
		}
		var err error
		out, err = tx.ZReport(a.BusinessID, id)
		if IsNotFound(err) {
			return notFound("Z report", "")
		}
		return err
	})
	return out, err
}

// ZReports lists a location's Z reports, newest first (owner or manager).
func (s *Service) ZReports(ctx context.Context, a *Actor, locationID, cursor string, limit int) ([]*ZReport, string, error) {
	if limit == 0 {
		limit = 50
	}
	if limit < 1 || limit > 200 {
		return nil, "", fieldErr("limit", "must be between 1 and 200")
	}
	out := []*ZReport{}
	var next string
	err := s.view(ctx, a, PermManage, func(tx Tx) error {
		if _, err := getLocation(tx, a.BusinessID, locationID, "locationId"); err != nil {
			return err
		}
		zs, n, err := tx.ZReports(a.BusinessID, SaleFilter{LocationID: locationID, Cursor: cursor, Limit: limit, Newest: true})
		if err != nil {
			return err
		}
		out, next = append(out, zs...), n
		return nil
	})
	return out, next, err
}

// lastZ returns the location's newest Z report, or nil.
func lastZ(tx Tx, business, location string) (*ZReport, error) {
	zs, _, err := tx.ZReports(business, SaleFilter{LocationID: location, Limit: 1, Newest: true})
	if err != nil || len(zs) == 0 {
		return nil, err
	}
	return zs[0], nil
}

// zSeq is the sequence number of a Z (0 for none).
func zSeq(z *ZReport) uint64 {
	if z == nil {
		return 0
	}
	_, n, _ := ParseNumber(z.ZNumber)
	return n
}

// figures works out a report of a location's documents since prev.
func (s *Service) figures(tx Tx, biz *Business, location string, prev *ZReport, now time.Time) (*ZFigures, error) {
	zone := biz.Location()
	f := &ZFigures{Currency: biz.Currency, Timezone: biz.Timezone, BusinessDay: now.In(zone).Format("2006-01-02"), To: now,
		Series: []SeriesRange{}, ByMethod: []MethodFigures{}, ByTaxRate: RateFigures{Sales: []RateLine{}, Refunds: []RateLine{}},
		ByTill: []PartFigures{}, ByCashier: []PartFigures{}, Cash: CashFigures{Shifts: []*Shift{}},
		LateArrivals: []LateArrival{}, TillsNotReported: []TillNotReported{}, SeriesHeads: []SeriesHead{}}
	var since Marks
	if prev != nil {
		since = prev.Coverage
		f.From = &prev.CreatedAt
		f.Previous = &ZRef{ID: prev.ID, ZNumber: prev.ZNumber, CreatedAt: prev.CreatedAt}
		f.GrandTotal = prev.GrandTotal
	}
	f.Coverage = since
	t := newTally(tx, biz.ID)
	// walkSince gives documents newest first: the first one seen is where
	// the next report starts.
	newSale, newReturn := false, false
	err := walkSince(tx, biz.ID, location, since, func(sl *Sale) error {
		if !newSale {
			f.Coverage.Sale, newSale = sl.ID, true
		}
		return t.sale(f, sl, prev, zone)
	}, func(r *Return) error {
		if !newReturn {
			f.Coverage.Return, newReturn = r.ID, true
		}
		return t.refund(f, r, prev, zone)
	})
	if err != nil {
		return nil, err
	}
	// Late arrivals in the order they reached posd.
	slices.Reverse(f.LateArrivals)
	slices.SortStableFunc(f.LateArrivals, func(a, b LateArrival) int { return a.CreatedAt.Compare(b.CreatedAt) })
	t.finish(f)
	if err := s.zShifts(tx, biz.ID, location, prev, f); err != nil {
		return nil, err
	}
	f.GrandTotal.Gross += f.Gross
	f.GrandTotal.Refunds += f.Refunds
	f.GrandTotal.Net += f.Net
	if f.TillsNotReported, err = s.tillsNotReported(tx, biz, location, prev, f, now); err != nil {
		return nil, err
	}
	if f.SeriesHeads, err = seriesHeads(tx, biz, now, f.Series); err != nil {
		return nil, err
	}
	return f, nil
}

// zShifts adds the shifts a report shows: those open at the previous Z and
// those opened since, each as it is now (an open one with its cash so far).
func (s *Service) zShifts(tx Tx, business, location string, prev *ZReport, f *ZFigures) error {
	ids := []string{}
	if prev != nil {
		for _, sh := range prev.Cash.Shifts {
			if sh.Status == ShiftOpen {
				ids = append(ids, sh.ID)
			}
		}
	}
	var newer []string
	mark := ""
	if prev != nil {
		mark = prev.Coverage.Shift
	}
	cursor := ""
	for done := false; !done; {
		page, next, err := tx.Shifts(business, SaleFilter{LocationID: location, Cursor: cursor, Limit: 200, Newest: true})
		if err != nil {
			return err
		}
		for _, sh := range page {
			if sh.ID == mark {
				done = true
				break
			}
			newer = append(newer, sh.ID)
		}
		if next == "" {
			done = true
		}
		cursor = next
	}
	if len(newer) > 0 {
		f.Coverage.Shift = newer[0]
	}
	slices.Reverse(newer)
	for _, id := range append(ids, newer...) {
		sh, err := tx.Shift(business, id)
		if err != nil {
			return err
		}
		if sh.Status == ShiftOpen {
			if err := s.shiftCash(tx, sh); err != nil {
				return err
			}
		}
		f.Cash.Shifts = append(f.Cash.Shifts, sh)
	}
	return nil
}

// tillsNotReported lists the location's tills that may still hold
// documents of it: those that, by their last report (PUT
// /tills/current/status, kept by till.go), had sales queued, had not been
// seen since the business day began (midnight in the business's zone), or
// are offline now (no report for TillOnlineFor: a till that lost the
// network cannot say what it queued since). The location's tills are the till tokens bound to it, and the
// unbound ones that sold here since the previous Z or in the Z before it:
// an unbound till with nothing here would only be noise.
func (s *Service) tillsNotReported(tx Tx, biz *Business, location string, prev *ZReport, f *ZFigures, now time.Time) ([]TillNotReported, error) {
	toks, err := tx.Tokens(biz.ID)
	if err != nil {
		return nil, err
	}
	soldHere := map[string]bool{}
	for _, p := range f.ByTill {
		soldHere[deref(p.ID)] = true
	}
	if prev != nil {
		for _, p := range prev.ByTill {
			soldHere[deref(p.ID)] = true
		}
	}
	var tills []*Token
	for _, t := range toks {
		if t.Role != RoleTill {
			continue
		}
		if (t.LocationID != nil && *t.LocationID == location) || (t.LocationID == nil && soldHere[t.ID]) {
			tills = append(tills, t)
		}
	}
	reports, err := s.latestReports(tx, biz.ID, tills)
	if err != nil {
		return nil, err
	}
	local := now.In(biz.Location())
	dayBegan := time.Date(local.Year(), local.Month(), local.Day(), 0, 0, 0, 0, local.Location())
	out := []TillNotReported{}
	for _, t := range tills {
		r := reports[t.ID]
		n := TillNotReported{TillID: t.ID, Name: t.Name}
		switch {
		case r == nil:
			n.Reason = "never reported to posd"
		case r.Queued > 0:
			n.Queued = r.Queued
			n.Reason = fmt.Sprintf("%d %s still queued on the till", r.Queued, plural(r.Queued, "write", "writes"))
		case r.LastSeenAt.Before(dayBegan):
			n.Reason = "not seen since the day began"
		case now.Sub(r.LastSeenAt) > TillOnlineFor:
			// Its last report had nothing queued, but it has not been
			// heard from since: what it sold meanwhile is on it.
			n.Reason = "offline: not heard from since its last report, and may hold sales"
		default:
			continue
		}
		if r != nil {
			seen := r.LastSeenAt
			n.LastSeenAt = &seen
		}
		out = append(out, n)
	}
	slices.SortFunc(out, func(a, b TillNotReported) int {
		if c := strings.Compare(a.Name, b.Name); c != 0 {
			return c
		}
		return strings.Compare(a.TillID, b.TillID)
	})
	return out, nil
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// tally accumulates a report's figures.
type tally struct {
	tx       Tx
	business string
	series   map[Series]*seriesAcc
	methods  map[string]*MethodFigures
	rates    [2]map[TaxRate]*RateLine
	tills    map[string]*PartFigures
	cashiers map[string]*PartFigures
	names    map[string]string // token ID → name
}

type seriesAcc struct {
	first, last uint64
	count       int
}

func newTally(tx Tx, business string) *tally {
	return &tally{tx: tx, business: business, series: map[Series]*seriesAcc{}, methods: map[string]*MethodFigures{},
		rates: [2]map[TaxRate]*RateLine{{}, {}}, tills: map[string]*PartFigures{}, cashiers: map[string]*PartFigures{}}
}

func (t *tally) number(n string) {
	sr, seq, ok := ParseNumber(n)
	if !ok {
		return
	}
	a := t.series[sr]
	if a == nil {
		a = &seriesAcc{first: seq, last: seq}
		t.series[sr] = a
	}
	a.first, a.last = min(a.first, seq), max(a.last, seq)
	a.count++
}

func (t *tally) method(m string) *MethodFigures {
	x := t.methods[m]
	if x == nil {
		x = &MethodFigures{Method: m}
		t.methods[m] = x
	}
	return x
}

func (t *tally) rate(refund bool, r TaxRate) *RateLine {
	i := 0
	if refund {
		i = 1
	}
	x := t.rates[i][r]
	if x == nil {
		x = &RateLine{Rate: r}
		t.rates[i][r] = x
	}
	return x
}

func part(m map[string]*PartFigures, id string) *PartFigures {
	x := m[id]
	if x == nil {
		x = &PartFigures{}
		if id != "" {
			x.ID = &id
		}
		m[id] = x
	}
	return x
}

func late(soldAt *time.Time, prev *ZReport) bool {
	return soldAt != nil && prev != nil && soldAt.Before(prev.CreatedAt)
}

func (t *tally) sale(f *ZFigures, sl *Sale, prev *ZReport, zone *time.Location) error {
	f.SalesCount++
	f.Gross += sl.Total
	f.Tax.Sales += sl.TaxTotal
	t.number(sl.InvoiceNumber)
	for _, p := range sl.Payments {
		m := t.method(p.Method)
		m.Sales += p.Amount
	}
	if sl.Change != 0 {
		t.method(MethodCash).Sales -= sl.Change
	}
	for _, l := range sl.Items {
		r := t.rate(false, l.TaxRate)
		r.Gross += l.LineTotal
		r.Tax += l.TaxAmount
	}
	for _, p := range []*PartFigures{part(t.tills, sl.TokenID), part(t.cashiers, deref(sl.CashierID))} {
		p.SalesCount++
		p.Gross += sl.Total
	}
	o := &f.Cash.OutsideShifts
	if sl.ShiftID == "" {
		o.Sales++
		o.CashSales += cashTendered(sl)
		o.Change += sl.Change
	}
	if late(sl.SoldAt, prev) {
		f.LateArrivals = append(f.LateArrivals, LateArrival{Kind: KindSale, ID: sl.ID, Number: sl.InvoiceNumber, SoldAt: *sl.SoldAt,
			Day: sl.SoldAt.In(zone).Format("2006-01-02"), CreatedAt: sl.CreatedAt, Total: sl.Total, TillID: sl.TokenID, CashierID: sl.CashierID})
	}
	return nil
}

func (t *tally) refund(f *ZFigures, r *Return, prev *ZReport, zone *time.Location) error {
	f.RefundsCount++
	f.Refunds += r.Total
	t.number(r.ReturnNumber)
	method, err := returnMethod(t.tx, r)
	if err != nil {
		return err
	}
	t.method(method).Refunds += r.Total
	lines, err := returnTaxLines(t.tx, r)
	if err != nil {
		return err
	}
	for _, l := range lines {
		x := t.rate(true, l.TaxRate)
		x.Gross += l.LineTotal
		x.Tax += l.TaxAmount
		f.Tax.Refunds += l.TaxAmount
	}
	for _, p := range []*PartFigures{part(t.tills, r.TokenID), part(t.cashiers, deref(r.CashierID))} {
		p.RefundsCount++
		p.Refunds += r.Total
	}
	o := &f.Cash.OutsideShifts
	if r.ShiftID == "" {
		o.Refunds++
		if method == MethodCash {
			o.CashRefunds += r.Total
		}
	}
	if late(r.SoldAt, prev) {
		f.LateArrivals = append(f.LateArrivals, LateArrival{Kind: KindReturn, ID: r.ID, Number: r.ReturnNumber, SoldAt: *r.SoldAt,
			Day: r.SoldAt.In(zone).Format("2006-01-02"), CreatedAt: r.CreatedAt, Total: -r.Total, TillID: r.TokenID, CashierID: r.CashierID})
	}
	return nil
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// methodOrder lists payment methods in the order reports show them.
var methodOrder = map[string]int{MethodCash: 0, MethodCard: 1, MethodVoucher: 2, MethodOther: 3}

func (t *tally) finish(f *ZFigures) {
	f.Net = f.Gross - f.Refunds
	f.Tax.Net = f.Tax.Sales - f.Tax.Refunds
	o := &f.Cash.OutsideShifts
	o.Net = o.CashSales - o.Change - o.CashRefunds
	for s, a := range t.series {
		f.Series = append(f.Series, SeriesRange{Series: s, First: FormatNumber(s, a.first), Last: FormatNumber(s, a.last), Count: a.count})
	}
	slices.SortFunc(f.Series, func(a, b SeriesRange) int { return strings.Compare(string(a.Series), string(b.Series)) })
	for _, m := range t.methods {
		m.Net = m.Sales - m.Refunds
		f.ByMethod = append(f.ByMethod, *m)
	}
	slices.SortFunc(f.ByMethod, func(a, b MethodFigures) int { return methodOrder[a.Method] - methodOrder[b.Method] })
	for i, dst := range []*[]RateLine{&f.ByTaxRate.Sales, &f.ByTaxRate.Refunds} {
		for _, r := range t.rates[i] {
			r.Base = r.Gross - r.Tax
			*dst = append(*dst, *r)
		}
		slices.SortFunc(*dst, func(a, b RateLine) int { return int(a.Rate - b.Rate) })
	}
	names := t.tokenNames()
	cashiers := t.cashierNames()
	for _, set := range []struct {
		m     map[string]*PartFigures
		dst   *[]PartFigures
		names map[string]string
		none  string
	}{{t.tills, &f.ByTill, names, "(no till)"}, {t.cashiers, &f.ByCashier, cashiers, "(no cashier)"}} {
		for id, p := range set.m {
			p.Net = p.Gross - p.Refunds
			switch n, ok := set.names[id]; {
			case id == "":
				p.Name = set.none
			case ok:
				p.Name = n
			default:
				p.Name = "(removed)"
			}
			*set.dst = append(*set.dst, *p)
		}
		slices.SortFunc(*set.dst, func(a, b PartFigures) int {
			if c := strings.Compare(a.Name, b.Name); c != 0 {
				return c
			}
			return strings.Compare(deref(a.ID), deref(b.ID))
		})
	}
}

func (t *tally) tokenNames() map[string]string {
	out := map[string]string{}
	if len(t.tills) == 0 {
		return out
	}
	ts, err := t.tx.Tokens(t.business)
	if err != nil {
		return out
	}
	for _, k := range ts {
		out[k.ID] = k.Name
	}
	return out
}

func (t *tally) cashierNames() map[string]string {
	out := map[string]string{}
	if len(t.cashiers) == 0 || (len(t.cashiers) == 1 && t.cashiers[""] != nil) {
		return out
	}
	cs, err := t.tx.Cashiers(t.business)
	if err != nil {
		return out
	}
	for _, c := range cs {
		out[c.ID] = c.Name
	}
	return out
}

// marksNow returns where a location's documents stand: its newest sale,
// refund and shift.
func marksNow(tx Tx, business, location string) (Marks, error) {
	var m Marks
	f := SaleFilter{LocationID: location, Limit: 1, Newest: true}
	sales, _, err := tx.Sales(business, f)
	if err != nil {
		return m, err
	}
	if len(sales) > 0 {
		m.Sale = sales[0].ID
	}
	rets, _, err := tx.ReturnsAt(business, f)
	if err != nil {
		return m, err
	}
	if len(rets) > 0 {
		m.Return = rets[0].ID
	}
	shifts, _, err := tx.Shifts(business, f)
	if err != nil {
		return m, err
	}
	if len(shifts) > 0 {
		m.Shift = shifts[0].ID
	}
	return m, nil
}

// walkPage is how many documents walkSince reads at a time.
const walkPage = 500

// walkSince calls onSale for every sale and onReturn for every refund of a
// location stored after since, newest first, a page at a time: a report
// over a long open day holds one page of documents, not the day.
func walkSince(tx Tx, business, location string, since Marks, onSale func(*Sale) error, onReturn func(*Return) error) error {
	err := eachPage(func(cursor string) ([]*Sale, string, error) {
		return tx.Sales(business, SaleFilter{LocationID: location, Cursor: cursor, Limit: walkPage, Newest: true})
	}, func(sl *Sale) (bool, error) {
		if sl.ID == since.Sale {
			return true, nil
		}
		return false, onSale(sl)
	})
	if err != nil {
		return err
	}
	return eachPage(func(cursor string) ([]*Return, string, error) {
		return tx.ReturnsAt(business, SaleFilter{LocationID: location, Cursor: cursor, Limit: walkPage, Newest: true})
	}, func(r *Return) (bool, error) {
		if r.ID == since.Return {
			return true, nil
		}
		return false, onReturn(r)
	})
}

// eachPage calls fn for every item list gives, page after page (list
// takes the cursor of the page and returns the next one, "" after the
// last), until fn says stop, fails, or the pages end.
func eachPage[T any](list func(cursor string) ([]T, string, error), fn func(T) (stop bool, err error)) error {
	for cursor := ""; ; {
		page, next, err := list(cursor)
		if err != nil {
			return err
		}
		for _, x := range page {
			stop, err := fn(x)
			if err != nil || stop {
				return err
			}
		}
		if next == "" {
			return nil
		}
		cursor = next
	}
}

// returnMethod is how a refund was paid back. Refunds made before refunds
// named a method went back the way their sale was mostly paid, which is
// what refundMethod would have chosen.
func returnMethod(tx Tx, r *Return) (string, error) {
	if r.Method != "" {
		return r.Method, nil
	}
	sl, err := tx.Sale(r.BusinessID, r.SaleID)
	if IsNotFound(err) {
		return MethodOther, nil
	}
	if err != nil {
		return "", err
	}
	return refundMethod(sl), nil
}

// returnTaxLines gives a refund's lines with their tax. Refunds made before
// their lines carried tax get it from their sale's lines, as RefundSale
// now works it out.
func returnTaxLines(tx Tx, r *Return) ([]ReturnLine, error) {
	if r.Method != "" || len(r.Items) == 0 {
		return r.Items, nil
	}
	sl, err := tx.Sale(r.BusinessID, r.SaleID)
	if IsNotFound(err) {
		return r.Items, nil
	}
	if err != nil {
		return nil, err
	}
	out := make([]ReturnLine, len(r.Items))
	for i, l := range r.Items {
		out[i] = l
		for _, sl := range sl.Items {
			if sl.ProductID == l.ProductID {
				out[i].TaxRate = sl.TaxRate
				out[i].TaxAmount = includedTax(l.LineTotal, sl.TaxRate)
				break
			}
		}
	}
	return out, nil
}

// zNumberLocation splits a claimed Z number into its location and sequence.
func zNumberLocation(claim string) (string, uint64, bool) {
	sr, n, ok := ParseNumber(claim)
	if !ok || !strings.HasPrefix(string(sr), PrefixZReport+"-") {
		return "", 0, false
	}
	return strings.TrimPrefix(string(sr), PrefixZReport+"-"), n, true
}
