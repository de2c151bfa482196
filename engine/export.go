package engine

import (
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"hash"
	"io"
	"slices"
	"strconv"
	"time"
)

// The accountant's export: every numbered document of a range of days, as
// CSV files an accountant opens in a spreadsheet and a manifest that anchors
// the chains (contract §7). It is built from values fixed when each
// document was numbered, never from what changes later (a sale's refunded
// quantities, a transfer's status), so the same range exported twice gives
// the same bytes, and it reads through the Store alone, so it is the same on
// every backend.
//
// The files (UTF-8, comma-separated, a header row, amounts as decimals with
// a dot in the currency's minor unit, refunds negative):
//
//	documents.csv       one row per INV, RET, RCV and TRF (Z reports are in
//	                    z_reports.csv)
//	lines.csv           one row per sale and refund line (INV, RET)
//	payments.csv        one row per payment of a sale, one per refund
//	taxes.csv           one row per business day and tax rate
//	stock_lines.csv     one row per purchase receipt and transfer line
//	z_reports.csv       one row per Z report taken in the range (any location)
//	cash_movements.csv  one row per cash paid in or out of a drawer in the
//	                    range (pay-outs negative), by the till's time
//	manifest.json       the files' SHA-256, each series' first and last number
//	                    and head hash, posd's version
//
// Σ gross by tax rate in taxes.csv equals Σ gross of lines.csv by tax rate
// and Σ gross of documents.csv's INV and RET rows, to the cent, because all
// three are sums of the same integer line amounts.

// Export file names.
const (
	ExportDocuments     = "documents.csv"
	ExportLines         = "lines.csv"
	ExportPayments      = "payments.csv"
	ExportTaxes         = "taxes.csv"
	ExportStockLines    = "stock_lines.csv"
	ExportZReports      = "z_reports.csv"
	ExportCashMovements = "cash_movements.csv"
	ExportManifestName  = "manifest.json"
)

// ExportFormat and ExportFormatVersion name the layout of an export's files
// in its manifest.
const (
	ExportFormat        = "posd-export"
	ExportFormatVersion = 1
)

// The header row of each file.
var (
	documentsHeader = []string{"business_date", "doc_type", "doc_number", "doc_id", "local_time", "utc_time", "sold_at",
		"location_id", "location", "to_location_id", "to_location", "till_id", "cashier_id", "supplier",
		"refund_of", "refund_of_id", "restock", "line_count", "gross", "tax", "net", "paid", "change", "cost",
		"currency", "previous_hash", "hash"}
	linesHeader = []string{"business_date", "doc_type", "doc_number", "line_no", "location_id", "product_id", "sku",
		"product_name", "quantity", "unit_price", "gross", "tax_rate", "tax", "net", "refund_of", "currency", "doc_hash"}
	paymentsHeader   = []string{"business_date", "doc_type", "doc_number", "payment_no", "method", "tendered", "change", "amount", "currency"}
	taxesHeader      = []string{"business_date", "tax_rate", "sales_gross", "sales_tax", "sales_net", "refunds_gross", "refunds_tax", "refunds_net", "gross", "tax", "net", "currency"}
	stockLinesHeader = []string{"business_date", "doc_type", "doc_number", "line_no", "location_id", "to_location_id", "product_id",
		"quantity", "unit_cost", "cost", "currency", "doc_hash"}
	// z_reports.csv: series lists the Z's ranges ("INV-202611-0001..
	// INV-202611-0004 (4)"; "; " between series), documents counts its
	// sales and refunds, refunds is negative, tax is the net tax, the cash
	// columns add up the shifts in the Z (counted and difference of the
	// closed ones), grand_total is the location's net since its first Z.
	zReportsHeader = []string{"z_number", "location_id", "business_date", "opened_at", "closed_at", "series",
		"documents", "gross", "refunds", "net", "tax", "cash_expected", "cash_counted", "cash_difference",
		"grand_total", "currency", "previous_hash", "hash"}
	cashMovementsHeader = []string{"business_date", "local_time", "location_id", "till_id", "shift_id", "kind",
		"amount", "reason", "cashier_id", "currency"}
)

// ExportRequest says what to export.
type ExportRequest struct {
	BusinessID string
	// From and To are days (YYYY-MM-DD) in the business's time zone, both
	// included.
	From, To string
	// Version is posd's version, recorded in the manifest.
	Version string
}

// ExportManifest is manifest.json.
type ExportManifest struct {
	Format        string           `json:"format"`
	FormatVersion int              `json:"formatVersion"`
	PosdVersion   string           `json:"posdVersion"`
	ChainVersion  int              `json:"chainVersion"`
	Business      ExportBusiness   `json:"business"`
	From          string           `json:"from"`
	To            string           `json:"to"`
	Start         string           `json:"start"`
	End           string           `json:"end"`
	Files         []ExportFile     `json:"files"`
	Series        []ExportSeries   `json:"series"`
	Totals        []ExportTaxTotal `json:"totals"`
}

// ExportBusiness names the business an export is of.
type ExportBusiness struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Timezone string `json:"timezone"`
	Currency string `json:"currency"`
}

// ExportFile is one file of an export.
type ExportFile struct {
	Name   string `json:"name"`
	SHA256 string `json:"sha256"`
	Bytes  int64  `json:"bytes"`
	// Rows counts the data rows, without the header.
	Rows int `json:"rows"`
}

// ExportSeries is the part of one series an export holds: numbers First to
// Last (Count of them: Last-First+1 when nothing is missing), the hash the
// first chains to, and the hashes of the first and the last. Each is an
// Anchor for posd verify --anchor.
type ExportSeries struct {
	Series       Series `json:"series"`
	First        uint64 `json:"first"`
	Last         uint64 `json:"last"`
	Count        int    `json:"count"`
	PreviousHash string `json:"previousHash"`
	FirstHash    string `json:"firstHash"`
	HeadHash     string `json:"headHash"`
}

// ExportTaxTotal is the range's total for one tax rate, in the currency's
// decimal form, as in taxes.csv.
type ExportTaxTotal struct {
	TaxRate string `json:"taxRate"`
	Gross   string `json:"gross"`
	Tax     string `json:"tax"`
	Net     string `json:"net"`
}

// Anchors returns the anchors an export's manifest records: the first and
// the last document of each series in it.
func (m *ExportManifest) Anchors(source string) []Anchor {
	var out []Anchor
	for _, s := range m.Series {
		out = append(out, Anchor{BusinessID: m.Business.ID, Series: s.Series, Number: s.First, Hash: s.FirstHash, Source: source})
		if s.Last != s.First {
			out = append(out, Anchor{BusinessID: m.Business.ID, Series: s.Series, Number: s.Last, Hash: s.HeadHash, Source: source})
		}
	}
	return out
}

// ExportCreate opens the next file of an export; the export writes it whole
// and closes it before it opens the next.
type ExportCreate func(name string) (io.WriteCloser, error)

// ExportFor is Export for an owner or a manager of the business.
func (s *Service) ExportFor(ctx context.Context, a *Actor, from, to, version string, create ExportCreate) (*ExportManifest, error) {
	if err := a.Can(PermManage); err != nil {
		return nil, err
	}
	return s.Export(ctx, ExportRequest{BusinessID: a.BusinessID, From: from, To: to, Version: version}, create)
}

// maxExportDays bounds a range: ten years of documents is already more than
// any accountant asks for at once.
const maxExportDays = 3700

// Export writes the export of a business's range of days through create, in
// one consistent snapshot, and returns its manifest (also written, last, as
// manifest.json). It fails, writing nothing more, if a number of a series in
// the range has no document: such a database needs posd verify first.
func (s *Service) Export(ctx context.Context, req ExportRequest, create ExportCreate) (*ExportManifest, error) {
	var m *ExportManifest
	err := Scan(ctx, s.store, func(tx ScanTx) error {
		biz, err := tx.Business(req.BusinessID)
		if IsNotFound(err) {
			return notFound("business", "")
		}
		if err != nil {
			return err
		}
		x, err := newExporter(tx, biz, req)
		if err != nil {
			return err
		}
		if err := x.collect(ctx); err != nil {
			return err
		}
		m, err = x.write(ctx, create)
		return err
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// exporter builds one export inside a read transaction.
type exporter struct {
	tx         ScanTx
	counters   map[Series]uint64
	biz        *Business
	zone       *time.Location
	req        ExportRequest
	start, end time.Time
	locations  map[string]string
	// docs are the numbers in the range, series by series in kind order
	// (INV, RET, RCV, TRF) and month order, each series in number order.
	series []*exportSeries
	taxes  map[taxKey]*taxSums
	m      *ExportManifest
}

type exportSeries struct {
	series  Series
	prefix  string
	numbers []uint64
	first   chained
	last    chained
}

type taxKey struct {
	day  string
	rate TaxRate
}

type taxSums struct{ salesGross, salesTax, refundsGross, refundsTax Money }

var exportPrefixes = []string{PrefixSale, PrefixReturn, PrefixReceipt, PrefixTransfer}

func newExporter(tx ScanTx, biz *Business, req ExportRequest) (*exporter, error) {
	zone := biz.Location()
	from, err := time.ParseInLocation(time.DateOnly, req.From, zone)
	if err != nil {
		return nil, fieldErr("from", "must be a day such as 2026-11-01")
	}
	to, err := time.ParseInLocation(time.DateOnly, req.To, zone)
	if err != nil {
		return nil, fieldErr("to", "must be a day such as 2026-11-30")
	}
	if to.Before(from) {
		return nil, fieldErr("to", "must not be before from")
	}
	end := time.Date(to.Year(), to.Month(), to.Day()+1, 0, 0, 0, 0, zone)
	if end.Sub(from) > maxExportDays*24*time.Hour {
		return nil, fieldErr("to", "the range may cover at most %d days", maxExportDays)
	}
	x := &exporter{tx: tx, biz: biz, zone: zone, req: req, start: from, end: end,
		locations: map[string]string{}, taxes: map[taxKey]*taxSums{}}
	locs, err := tx.Locations(biz.ID)
	if err != nil {
		return nil, err
	}
	if x.counters, err = tx.Series(biz.ID); err != nil {
		return nil, err
	}
	for _, l := range locs {
		x.locations[l.ID] = l.Name
	}
	return x, nil
}

// numberedAt is the moment a document got its number: the time that
// decides its series' month, and the day it belongs to in an export.
func numberedAt(d chained) time.Time {
	switch d := d.(type) {
	case *Sale:
		return d.CreatedAt
	case *Return:
		return d.CreatedAt
	case *Receipt:
		if d.ApprovedAt != nil {
			return *d.ApprovedAt
		}
	case *Transfer:
		if d.SentAt != nil {
			return *d.SentAt
		}
	case *ZReport:
		return d.CreatedAt
	}
	return time.Time{}
}

// document loads the document a number is claimed for.
func loadNumbered(tx ScanTx, business, number string) (chained, error) {
	ref, err := tx.NumberOwner(business, number)
	if err != nil {
		return nil, err
	}
	var d chained
	switch ref.Kind {
	case KindSale:
		d, err = tx.Sale(business, ref.ID)
	case KindReturn:
		d, err = tx.Return(business, ref.ID)
	case KindReceipt:
		d, err = tx.Receipt(business, ref.ID)
	case KindTransfer:
		d, err = tx.Transfer(business, ref.ID)
	case KindZReport:
		d, err = tx.ZReport(business, ref.ID)
	default:
		return nil, Errorf(EINTERNAL, "number %s is claimed for a %s", number, ref.Kind)
	}
	if err != nil {
		return nil, err
	}
	if d.chainNumber() != number {
		return nil, Errorf(EINTERNAL, "number %s is claimed for %s %s, which carries %q", number, ref.Kind, ref.ID, d.chainNumber())
	}
	return d, nil
}

// collect finds the numbers of every series whose documents were numbered
// in the range. A series is a month, so only the months the range touches
// are read.
func (x *exporter) collect(ctx context.Context) error {
	var months []time.Time
	for m := time.Date(x.start.Year(), x.start.Month(), 1, 0, 0, 0, 0, x.zone); m.Before(x.end); m = m.AddDate(0, 1, 0) {
		months = append(months, m)
	}
	for _, prefix := range exportPrefixes {
		for _, month := range months {
			s := SeriesOf(prefix, month, x.zone)
			last := x.counters[s]
			es := &exportSeries{series: s, prefix: prefix}
			for n := uint64(1); n <= last; n++ {
				if n%1024 == 0 {
					if err := ctx.Err(); err != nil {
						return err
					}
				}
				d, err := x.load(s, n)
				if err != nil {
					return err
				}
				if at := numberedAt(d); at.Before(x.start) || !at.Before(x.end) {
					continue
				}
				if es.first == nil {
					es.first = d
				}
				es.last = d
				es.numbers = append(es.numbers, n)
			}
			if len(es.numbers) > 0 {
				x.series = append(x.series, es)
			}
		}
	}
	// Each location's Z series, which never resets: its Zs taken in the
	// range.
	locs, err := x.tx.Locations(x.biz.ID)
	if err != nil {
		return err
	}
	for _, l := range locs {
		s := ZSeries(l.ID)
		es := &exportSeries{series: s, prefix: PrefixZReport}
		for n := uint64(1); n <= x.counters[s]; n++ {
			d, err := x.load(s, n)
			if err != nil {
				return err
			}
			if at := numberedAt(d); at.Before(x.start) || !at.Before(x.end) {
				continue
			}
			if es.first == nil {
				es.first = d
			}
			es.last = d
			es.numbers = append(es.numbers, n)
		}
		if len(es.numbers) > 0 {
			x.series = append(x.series, es)
		}
	}
	return nil
}

func (x *exporter) load(s Series, n uint64) (chained, error) {
	number := FormatNumber(s, n)
	d, err := loadNumbered(x.tx, x.biz.ID, number)
	if IsNotFound(err) {
		return nil, Errorf(EINTERNAL, "%s has no document: the database is damaged; run posd verify before exporting", number)
	}
	return d, err
}

// each calls fn for every document of the range, in the export's order.
func (x *exporter) each(ctx context.Context, fn func(d chained) error) error {
	for _, es := range x.series {
		for i, n := range es.numbers {
			if i%1024 == 1023 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			d, err := x.load(es.series, n)
			if err != nil {
				return err
			}
			if err := fn(d); err != nil {
				return err
			}
		}
	}
	return nil
}

// exportFile is one file being written, hashed and counted as it goes.
type exportFile struct {
	w io.WriteCloser
	h hash.Hash
	n int64
}

func (f *exportFile) Write(p []byte) (int, error) {
	n, err := f.w.Write(p)
	f.h.Write(p[:n])
	f.n += int64(n)
	return n, err
}

func (x *exporter) csvFile(ctx context.Context, create ExportCreate, name string, header []string, rows func(row func(...string) error) error) error {
	w, err := create(name)
	if err != nil {
		return err
	}
	f := &exportFile{w: w, h: sha256.New()}
	cw := csv.NewWriter(f)
	n := 0
	err = cw.Write(header)
	if err == nil {
		err = rows(func(cols ...string) error {
			if len(cols) != len(header) {
				return Errorf(EINTERNAL, "%s: a row of %d columns under %d headers", name, len(cols), len(header))
			}
			n++
			return cw.Write(cols)
		})
	}
	if err == nil {
		cw.Flush()
		err = cw.Error()
	}
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("engine: writing %s: %w", name, err)
	}
	x.m.Files = append(x.m.Files, ExportFile{Name: name, SHA256: hex.EncodeToString(f.h.Sum(nil)), Bytes: f.n, Rows: n})
	return ctx.Err()
}

func (x *exporter) money(m Money) string { return FormatDecimal(m, x.biz.Currency) }

func (x *exporter) day(t time.Time) string { return t.In(x.zone).Format(time.DateOnly) }

func localTime(t time.Time, zone *time.Location) string {
	return t.In(zone).Format("2006-01-02T15:04:05.000Z07:00")
}

func utcTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func (x *exporter) write(ctx context.Context, create ExportCreate) (*ExportManifest, error) {
	b := x.biz
	x.m = &ExportManifest{Format: ExportFormat, FormatVersion: ExportFormatVersion, PosdVersion: x.req.Version, ChainVersion: ChainVersion,
		Business: ExportBusiness{ID: b.ID, Name: b.Name, Timezone: b.Timezone, Currency: b.Currency},
		From:     x.req.From, To: x.req.To, Start: localTime(x.start, x.zone), End: localTime(x.end, x.zone),
		Files: []ExportFile{}, Series: []ExportSeries{}, Totals: []ExportTaxTotal{}}
	for _, es := range x.series {
		x.m.Series = append(x.m.Series, ExportSeries{Series: es.series, First: es.numbers[0], Last: es.numbers[len(es.numbers)-1],
			Count: len(es.numbers), PreviousHash: es.first.chainLink().PreviousHash, FirstHash: es.first.chainLink().Hash, HeadHash: es.last.chainLink().Hash})
	}
	steps := []struct {
		name   string
		header []string
		rows   func(row func(...string) error) error
	}{
		{ExportDocuments, documentsHeader, func(row func(...string) error) error {
			return x.each(ctx, func(d chained) error { return x.documentRow(d, row) })
		}},
		{ExportLines, linesHeader, func(row func(...string) error) error {
			return x.each(ctx, func(d chained) error { return x.lineRows(d, row) })
		}},
		{ExportPayments, paymentsHeader, func(row func(...string) error) error {
			return x.each(ctx, func(d chained) error { return x.paymentRows(d, row) })
		}},
		{ExportTaxes, taxesHeader, x.taxRows},
		{ExportStockLines, stockLinesHeader, func(row func(...string) error) error {
			return x.each(ctx, func(d chained) error { return x.stockRows(d, row) })
		}},
		{ExportZReports, zReportsHeader, func(row func(...string) error) error {
			return x.each(ctx, func(d chained) error { return x.zRow(d, row) })
		}},
		{ExportCashMovements, cashMovementsHeader, x.cashRows},
	}
	for _, st := range steps {
		if err := x.csvFile(ctx, create, st.name, st.header, st.rows); err != nil {
			return nil, err
		}
	}
	w, err := create(ExportManifestName)
	if err != nil {
		return nil, err
	}
	out, _ := json.MarshalIndent(x.m, "", "  ")
	_, err = w.Write(append(out, '\n'))
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, fmt.Errorf("engine: writing %s: %w", ExportManifestName, err)
	}
	return x.m, nil
}

func (x *exporter) documentRow(d chained, row func(...string) error) error {
	at := numberedAt(d)
	link := d.chainLink()
	cur := x.biz.Currency
	switch d := d.(type) {
	case *Sale:
		return row(x.day(at), PrefixSale, d.InvoiceNumber, d.ID, localTime(at, x.zone), utcTime(at), soldAtText(d.SoldAt, x.zone),
			d.LocationID, x.locations[d.LocationID], "", "", d.TokenID, deref(d.CashierID), "",
			"", "", "", strconv.Itoa(len(d.Items)), x.money(d.Total), x.money(d.TaxTotal), x.money(d.Total-d.TaxTotal),
			x.money(d.Paid), x.money(d.Change), "", cur, link.PreviousHash, link.Hash)
	case *Return:
		restock := "false"
		if d.Restock {
			restock = "true"
		}
		return row(x.day(at), PrefixReturn, d.ReturnNumber, d.ID, localTime(at, x.zone), utcTime(at), soldAtText(d.SoldAt, x.zone),
			d.LocationID, x.locations[d.LocationID], "", "", d.TokenID, deref(d.CashierID), "",
			d.SaleNumber, d.SaleID, restock, strconv.Itoa(len(d.Items)), x.money(-d.Total), x.money(-d.TaxTotal), x.money(-(d.Total - d.TaxTotal)),
			"", "", "", cur, link.PreviousHash, link.Hash)
	case *Receipt:
		return row(x.day(at), PrefixReceipt, d.chainNumber(), d.ID, localTime(at, x.zone), utcTime(at), "",
			d.LocationID, x.locations[d.LocationID], "", "", "", "", d.Supplier,
			"", "", "", strconv.Itoa(len(d.Items)), "", "", "", "", "", x.money(d.Total), cur, link.PreviousHash, link.Hash)
	case *Transfer:
		return row(x.day(at), PrefixTransfer, d.chainNumber(), d.ID, localTime(at, x.zone), utcTime(at), "",
			d.FromLocationID, x.locations[d.FromLocationID], d.ToLocationID, x.locations[d.ToLocationID], "", "", "",
			"", "", "", strconv.Itoa(len(d.Items)), "", "", "", "", "", "", cur, link.PreviousHash, link.Hash)
	}
	return nil
}

func (x *exporter) tax(day string, rate TaxRate) *taxSums {
	k := taxKey{day, rate}
	t := x.taxes[k]
	if t == nil {
		t = &taxSums{}
		x.taxes[k] = t
	}
	return t
}

// lineRows writes a sale's or a refund's lines and adds them to the tax
// sums, so that taxes.csv is the sum of exactly these rows.
func (x *exporter) lineRows(d chained, row func(...string) error) error {
	at := numberedAt(d)
	day, cur := x.day(at), x.biz.Currency
	switch d := d.(type) {
	case *Sale:
		for i, l := range d.Items {
			t := x.tax(day, l.TaxRate)
			t.salesGross += l.LineTotal
			t.salesTax += l.TaxAmount
			err := row(day, PrefixSale, d.InvoiceNumber, strconv.Itoa(i+1), d.LocationID, l.ProductID, l.SKU, l.Name,
				l.Quantity.String(), x.money(l.UnitPrice), x.money(l.LineTotal), rateText(l.TaxRate), x.money(l.TaxAmount),
				x.money(l.LineTotal-l.TaxAmount), "", cur, d.Hash)
			if err != nil {
				return err
			}
		}
	case *Return:
		for i, l := range d.Items {
			t := x.tax(day, l.TaxRate)
			t.refundsGross -= l.LineTotal
			t.refundsTax -= l.TaxAmount
			err := row(day, PrefixReturn, d.ReturnNumber, strconv.Itoa(i+1), d.LocationID, l.ProductID, l.SKU, l.Name,
				(-l.Quantity).String(), x.money(l.UnitPrice), x.money(-l.LineTotal), rateText(l.TaxRate), x.money(-l.TaxAmount),
				x.money(-(l.LineTotal - l.TaxAmount)), d.SaleNumber, cur, d.Hash)
			if err != nil {
				return err
			}
		}
	}
	return nil
}

func rateText(r TaxRate) string { return string(r.Append(nil)) }

// paymentRows writes a sale's payments, the change taken from its cash
// payments in order, so that the amounts add up to the total; and one row
// per refund, with how the money went back (none for refunds made before
// posd recorded it).
func (x *exporter) paymentRows(d chained, row func(...string) error) error {
	day, cur := x.day(numberedAt(d)), x.biz.Currency
	switch d := d.(type) {
	case *Sale:
		change := d.Change
		for i, p := range d.Payments {
			var c Money
			if p.Method == MethodCash && change > 0 {
				c = min(change, p.Amount)
				change -= c
			}
			if err := row(day, PrefixSale, d.InvoiceNumber, strconv.Itoa(i+1), p.Method, x.money(p.Amount), x.money(c), x.money(p.Amount-c), cur); err != nil {
				return err
			}
		}
	case *Return:
		return row(day, PrefixReturn, d.ReturnNumber, "1", d.Method, "", "", x.money(-d.Total), cur)
	}
	return nil
}

func (x *exporter) taxRows(row func(...string) error) error {
	keys := make([]taxKey, 0, len(x.taxes))
	for k := range x.taxes {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b taxKey) int {
		if a.day != b.day {
			if a.day < b.day {
				return -1
			}
			return 1
		}
		return int(a.rate - b.rate)
	})
	totals := map[TaxRate]*taxSums{}
	var rates []TaxRate
	for _, k := range keys {
		t := x.taxes[k]
		g, tx := t.salesGross+t.refundsGross, t.salesTax+t.refundsTax
		err := row(k.day, rateText(k.rate), x.money(t.salesGross), x.money(t.salesTax), x.money(t.salesGross-t.salesTax),
			x.money(t.refundsGross), x.money(t.refundsTax), x.money(t.refundsGross-t.refundsTax),
			x.money(g), x.money(tx), x.money(g-tx), x.biz.Currency)
		if err != nil {
			return err
		}
		tot := totals[k.rate]
		if tot == nil {
			tot = &taxSums{}
			totals[k.rate] = tot
			rates = append(rates, k.rate)
		}
		tot.salesGross += g
		tot.salesTax += tx
	}
	slices.Sort(rates)
	for _, r := range rates {
		t := totals[r]
		x.m.Totals = append(x.m.Totals, ExportTaxTotal{TaxRate: rateText(r), Gross: x.money(t.salesGross), Tax: x.money(t.salesTax), Net: x.money(t.salesGross - t.salesTax)})
	}
	return nil
}

func (x *exporter) stockRows(d chained, row func(...string) error) error {
	day, cur := x.day(numberedAt(d)), x.biz.Currency
	switch d := d.(type) {
	case *Receipt:
		for i, l := range d.Items {
			if err := row(day, PrefixReceipt, d.chainNumber(), strconv.Itoa(i+1), d.LocationID, "", l.ProductID,
				l.Quantity.String(), x.money(l.UnitCost), x.money(l.LineTotal), cur, d.Hash); err != nil {
				return err
			}
		}
	case *Transfer:
		for i, l := range d.Items {
			if err := row(day, PrefixTransfer, d.chainNumber(), strconv.Itoa(i+1), d.FromLocationID, d.ToLocationID, l.ProductID,
				l.Quantity.String(), "", "", cur, d.Hash); err != nil {
				return err
			}
		}
	}
	return nil
}

func soldAtText(t *time.Time, zone *time.Location) string {
	if t == nil {
		return ""
	}
	return localTime(*t, zone)
}

// zRow writes a Z report's row.
func (x *exporter) zRow(d chained, row func(...string) error) error {
	z, ok := d.(*ZReport)
	if !ok {
		return nil
	}
	opened := ""
	if z.From != nil {
		opened = localTime(*z.From, x.zone)
	}
	var ranges []byte
	for i, r := range z.Series {
		if i > 0 {
			ranges = append(ranges, "; "...)
		}
		ranges = fmt.Appendf(ranges, "%s..%s (%d)", r.First, r.Last, r.Count)
	}
	var expected, counted, diff Money
	anyCounted := false
	for _, sh := range z.Cash.Shifts {
		expected += sh.Cash.Expected
		if sh.Cash.Counted != nil {
			anyCounted = true
			counted += *sh.Cash.Counted
			if sh.Cash.Difference != nil {
				diff += *sh.Cash.Difference
			}
		}
	}
	cashCounted, cashDiff := "", ""
	if anyCounted {
		cashCounted, cashDiff = x.money(counted), x.money(diff)
	}
	cashExpected := ""
	if len(z.Cash.Shifts) > 0 {
		cashExpected = x.money(expected)
	}
	return row(z.ZNumber, z.LocationID, z.BusinessDay, opened, localTime(z.CreatedAt, x.zone), string(ranges),
		strconv.Itoa(z.SalesCount+z.RefundsCount), x.money(z.Gross), x.money(-z.Refunds), x.money(z.Net), x.money(z.Tax.Net),
		cashExpected, cashCounted, cashDiff, x.money(z.GrandTotal.Net), x.biz.Currency, z.PreviousHash, z.Hash)
}

// cashRows writes every pay-in and pay-out of the range, by the till's time
// of it (then by shift and order in the shift, so a repeat is identical).
func (x *exporter) cashRows(row func(...string) error) error {
	type mv struct {
		sh *Shift
		m  CashMovement
	}
	var all []mv
	locs, err := x.tx.Locations(x.biz.ID)
	if err != nil {
		return err
	}
	for _, l := range locs {
		cursor := ""
		for {
			page, next, err := x.tx.Shifts(x.biz.ID, SaleFilter{LocationID: l.ID, Cursor: cursor, Limit: 200})
			if err != nil {
				return err
			}
			for _, sh := range page {
				for _, m := range sh.Movements {
					if m.At.Before(x.start) || !m.At.Before(x.end) {
						continue
					}
					all = append(all, mv{sh, m})
				}
			}
			if next == "" {
				break
			}
			cursor = next
		}
	}
	slices.SortStableFunc(all, func(a, b mv) int { return a.m.At.Compare(b.m.At) })
	for _, e := range all {
		amount := e.m.Amount
		if e.m.Type == PayOut {
			amount = -amount
		}
		if err := row(x.day(e.m.At), localTime(e.m.At, x.zone), e.sh.LocationID, e.sh.TillID, e.sh.ID, e.m.Type,
			x.money(amount), e.m.Reason, deref(e.m.CashierID), x.biz.Currency); err != nil {
			return err
		}
	}
	return nil
}
