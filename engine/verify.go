package engine

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// VerifyReport is what Service.Verify found: one entry per invariant, with
// what was looked at and every finding, and the figures of each business
// that a backup manifest records.
type VerifyReport struct {
	Checks     []*Check
	Businesses []BusinessFigures
	// Duplicates counts documents that carry a number another document of
	// the same business also carries. It must be 0.
	Duplicates int
	// Chains is each business's chain report, in full.
	Chains []*ChainReport
}

// CheckChains is the name of the hash chain check in a VerifyReport.
const CheckChains = "hash chains"

// Check is one invariant and what was found against it.
type Check struct {
	Name string
	// Detail says what was checked, for people ("1204 numbers in 3 series").
	Detail string
	// Findings lists violations, each a sentence naming the objects; empty
	// when the invariant holds. At most maxFindings are listed per check;
	// Omitted counts the rest.
	Findings []string
	Omitted  int
}

// Failed reports whether the check found anything.
func (c *Check) Failed() bool { return len(c.Findings) > 0 || c.Omitted > 0 }

// BusinessFigures are the document counts and series of one business.
type BusinessFigures struct {
	ID     string            `json:"id"`
	Name   string            `json:"name"`
	Counts DocumentCounts    `json:"counts"`
	Series map[Series]uint64 `json:"series"`
}

// DocumentCounts counts what a business holds.
type DocumentCounts struct {
	Sales       int `json:"sales"`
	Returns     int `json:"returns"`
	Receipts    int `json:"receipts"`
	Transfers   int `json:"transfers"`
	ZReports    int `json:"zReports,omitempty"`
	Numbers     int `json:"numbers"`
	Idempotency int `json:"idempotencyRecords"`
	Movements   int `json:"movements"`
}

// Findings returns the number of findings of all checks.
func (r *VerifyReport) Findings() int {
	n := 0
	for _, c := range r.Checks {
		n += len(c.Findings) + c.Omitted
	}
	return n
}

// maxFindings bounds the findings listed per check, so that a badly
// damaged file gives a readable report rather than a million lines.
const maxFindings = 50

func (c *Check) add(format string, args ...any) {
	if len(c.Findings) >= maxFindings {
		c.Omitted++
		return
	}
	c.Findings = append(c.Findings, fmt.Sprintf(format, args...))
}

// Verify checks the domain invariants of the whole store, every business,
// in one consistent snapshot: it is the shop's daily monitoring queries made
// into one call, and what posd verify runs after the storage check.
//
//   - duplicate numbers: no two documents carry the same number;
//   - gapless series: every series is exactly 1..last, each number claimed
//     once, and the document it is claimed for exists and carries it;
//   - idempotency: every idempotency record points at an existing document
//     (the record of a token or a paired till may point at one revoked
//     since: revoking deletes);
//   - stock: every stock level equals the sum of its movements;
//   - Z reports: each location's Zs are Z-0001..N, each covers what its
//     marks say, its gross, refunds and net are its documents' to the
//     cent, its grand total is the sum of the nets so far, and the nets of
//     all Zs add up to the documents they cover (verify_z.go).
//   - hash chains: every numbered document's values still give its hash,
//     each links to the one before it, and the chains match the anchors
//     given and those the Z reports hold (VerifyChains).
//
// Findings are reported, not returned as errors; the error is for a store
// that could not be read at all.
func (s *Service) Verify(ctx context.Context) (*VerifyReport, error) {
	return s.VerifyWith(ctx, VerifyOptions{})
}

// VerifyOptions add to what Verify checks.
type VerifyOptions struct {
	// Anchors are series heads kept outside the database (export
	// manifests, printed Z reports) that the chains must still match.
	Anchors []Anchor
	// Unchained says the database predates hash chains (an old backup):
	// documents without a hash are then expected, not findings.
	Unchained bool
}

// VerifyWith is Verify with options.
func (s *Service) VerifyWith(ctx context.Context, o VerifyOptions) (*VerifyReport, error) {
	anchors := o.Anchors
	rep := &VerifyReport{}
	dup := &Check{Name: "no duplicate document numbers"}
	gaps := &Check{Name: "no gaps in any series"}
	idem := &Check{Name: "idempotency records point at documents"}
	stock := &Check{Name: "stock equals the sum of its movements"}
	zs := &Check{Name: "Z reports add up to their documents"}
	chains := &Check{Name: CheckChains}
	rep.Checks = []*Check{dup, gaps, idem, stock, zs, chains}
	var docs, series, claims, records, revoked, levels, moves int
	var zt zTotals
	var chained, chainSeries, anchorsOK int
	known := map[string]bool{}
	err := Scan(ctx, s.store, func(tx ScanTx) error {
		bizs, err := tx.Businesses()
		if err != nil {
			return err
		}
		for _, b := range bizs {
			if err := ctx.Err(); err != nil {
				return err
			}
			v := &verifier{tx: tx, biz: b, dup: dup, gaps: gaps, idem: idem, stock: stock, zs: zs, zt: &zt,
				ids: map[DocKind]map[string]struct{}{}, fig: BusinessFigures{ID: b.ID, Name: b.Name}}
			if err := v.run(); err != nil {
				return fmt.Errorf("business %s: %w", b.ID, err)
			}
			cr, err := verifyChains(ctx, tx, b.ID, o)
			if err != nil {
				return fmt.Errorf("business %s: %w", b.ID, err)
			}
			known[b.ID] = true
			rep.Chains = append(rep.Chains, cr)
			chained += cr.Documents
			chainSeries += len(cr.Series)
			for _, a := range cr.Anchors {
				if a.OK {
					anchorsOK++
				}
			}
			for _, f := range cr.Findings {
				chains.add("business %s: %s", b.ID, f)
			}
			rep.Duplicates += v.duplicates
			rep.Businesses = append(rep.Businesses, v.fig)
			c := v.fig.Counts
			docs += c.Sales + c.Returns + c.Receipts + c.Transfers + c.ZReports
			series += len(v.fig.Series)
			claims += c.Numbers
			records += c.Idempotency
			revoked += v.revoked
			levels += v.levels
			moves += c.Movements
		}
		dup.Detail = fmt.Sprintf("%d documents of %d business(es)", docs, len(bizs))
		gaps.Detail = fmt.Sprintf("%d numbers in %d series", claims, series)
		idem.Detail = fmt.Sprintf("%d records", records)
		if revoked > 0 {
			idem.Detail += fmt.Sprintf(" (%d of revoked tokens)", revoked)
		}
		stock.Detail = fmt.Sprintf("%d stock levels, %d movements", levels, moves)
		zs.Detail = zt.detail()
		chains.Detail = fmt.Sprintf("%d documents recomputed in %d series", chained, chainSeries)
		if o.Unchained {
			chains.Detail = "the file predates hash chains: posd adds them when it next opens it for writing"
		}
		if len(anchors) > 0 {
			chains.Detail += fmt.Sprintf("; %d of %d anchors match", anchorsOK, len(anchors))
		}
		for _, a := range anchors {
			if !known[a.BusinessID] {
				chains.add("%s names business %s, which is not in this database", a.Source, a.BusinessID)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return rep, nil
}

// verifier checks one business.
type verifier struct {
	tx                         ScanTx
	biz                        *Business
	dup, gaps, idem, stock, zs *Check
	zt                         *zTotals
	fig                        BusinessFigures
	// ids holds the IDs of the numbered documents seen, for the idempotency
	// check, so that it needs no second read of each document.
	ids        map[DocKind]map[string]struct{}
	matched    int // documents whose number is claimed for them
	mismatched []carried
	duplicates int
	revoked    int
	levels     int
}

// carried is a document and the number it carries.
type carried struct {
	ref    DocRef
	number string
}

// kindOfPrefix says which kind of document each series prefix numbers.
var kindOfPrefix = map[string]DocKind{PrefixSale: KindSale, PrefixReturn: KindReturn, PrefixReceipt: KindReceipt, PrefixTransfer: KindTransfer, PrefixZReport: KindZReport}

func (v *verifier) run() error {
	if err := v.documents(); err != nil {
		return err
	}
	if err := v.numbers(); err != nil {
		return err
	}
	if err := v.idempotency(); err != nil {
		return err
	}
	if err := v.stockLedger(); err != nil {
		return err
	}
	return v.zReports()
}

func (v *verifier) seen(kind DocKind, id string) {
	m := v.ids[kind]
	if m == nil {
		m = map[string]struct{}{}
		v.ids[kind] = m
	}
	m[id] = struct{}{}
}

// documents walks every numbered document and checks that its number is
// claimed for it.
func (v *verifier) documents() error {
	tx, biz := v.tx, v.biz.ID
	err := tx.AllSales(biz, func(s *Sale) error {
		v.fig.Counts.Sales++
		v.seen(KindSale, s.ID)
		return v.carries(DocRef{Kind: KindSale, ID: s.ID}, PrefixSale, &s.InvoiceNumber, true)
	})
	if err != nil {
		return err
	}
	err = tx.Returns(biz, func(r *Return) error {
		v.fig.Counts.Returns++
		v.seen(KindReturn, r.ID)
		return v.carries(DocRef{Kind: KindReturn, ID: r.ID}, PrefixReturn, &r.ReturnNumber, true)
	})
	if err != nil {
		return err
	}
	err = tx.Receipts(biz, func(r *Receipt) error {
		v.fig.Counts.Receipts++
		v.seen(KindReceipt, r.ID)
		return v.carries(DocRef{Kind: KindReceipt, ID: r.ID}, PrefixReceipt, r.ReceiptNumber, r.Status != StatusDraft)
	})
	if err != nil {
		return err
	}
	err = tx.Transfers(biz, func(t *Transfer) error {
		v.fig.Counts.Transfers++
		v.seen(KindTransfer, t.ID)
		return v.carries(DocRef{Kind: KindTransfer, ID: t.ID}, PrefixTransfer, t.TransferNumber, t.Status != StatusDraft)
	})
	if err != nil {
		return err
	}
	// A Z carries Z-NNNN, unique in its location; its claim is the number
	// of its location's series, unique in the business.
	return v.eachZ(func(z *ZReport) error {
		v.fig.Counts.ZReports++
		v.seen(KindZReport, z.ID)
		claim := zReportClaim(z)
		return v.carries(DocRef{Kind: KindZReport, ID: z.ID}, PrefixZReport, &claim, true)
	})
}

// carries checks one document's number: present exactly when the document's
// state says it was numbered, of the right prefix, and claimed for it.
func (v *verifier) carries(ref DocRef, prefix string, number *string, numbered bool) error {
	has := number != nil && *number != ""
	switch {
	case numbered && !has:
		v.gaps.add("business %s: %s %s has no number", v.biz.ID, ref.Kind, ref.ID)
		return nil
	case !numbered && has:
		v.gaps.add("business %s: draft %s %s carries number %s", v.biz.ID, ref.Kind, ref.ID, *number)
		return nil
	case !has:
		return nil
	}
	if s, _, ok := ParseNumber(*number); !ok || !strings.HasPrefix(string(s), prefix+"-") {
		v.gaps.add("business %s: %s %s carries %q, which is not a %s number", v.biz.ID, ref.Kind, ref.ID, *number, prefix)
		return nil
	}
	owner, err := v.tx.NumberOwner(v.biz.ID, *number)
	if IsNotFound(err) {
		v.gaps.add("business %s: %s %s carries %s, but that number was never claimed", v.biz.ID, ref.Kind, ref.ID, *number)
		return nil
	}
	if err != nil {
		return err
	}
	if owner == ref {
		v.matched++
	} else {
		v.mismatched = append(v.mismatched, carried{ref, *number})
	}
	return nil
}

// numbers walks the claimed numbers and the series counters.
func (v *verifier) numbers() error {
	tx, biz := v.tx, v.biz.ID
	counters, err := tx.Series(biz)
	if err != nil {
		return err
	}
	v.fig.Series = counters
	perSeries := map[Series][]uint64{}
	err = tx.Numbers(biz, func(number string, ref DocRef) error {
		v.fig.Counts.Numbers++
		s, n, ok := ParseNumber(number)
		if !ok {
			v.gaps.add("business %s: claimed number %q cannot be read", biz, number)
			return nil
		}
		prefix, _, _ := strings.Cut(string(s), "-")
		if kindOfPrefix[prefix] != ref.Kind {
			v.gaps.add("business %s: number %s is claimed for %s %s", biz, number, ref.Kind, ref.ID)
		}
		perSeries[s] = append(perSeries[s], n)
		return nil
	})
	if err != nil {
		return err
	}
	// Two documents carrying one number, or a document carrying a number
	// claimed for another.
	for _, m := range v.mismatched {
		owner, _ := tx.NumberOwner(biz, m.number)
		if v.carriedBy(owner, m.number) {
			v.duplicates++
			v.dup.add("business %s: %s is carried by %s %s and by %s %s", biz, m.number, owner.Kind, owner.ID, m.ref.Kind, m.ref.ID)
		} else {
			v.gaps.add("business %s: %s %s carries %s, which is claimed for %s %s", biz, m.ref.Kind, m.ref.ID, m.number, owner.Kind, owner.ID)
		}
	}
	// Every claim was matched by the document it names, unless some claim
	// points at a document that is missing or carries another number: only
	// then are the claims looked at one by one.
	if v.fig.Counts.Numbers != v.matched {
		err := tx.Numbers(biz, func(number string, ref DocRef) error {
			if !v.carriedBy(ref, number) {
				v.gaps.add("business %s: %s is claimed for %s %s, which does not exist or does not carry it", biz, number, ref.Kind, ref.ID)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	names := make([]Series, 0, len(counters)+len(perSeries))
	for s := range counters {
		names = append(names, s)
	}
	for s := range perSeries {
		if _, ok := counters[s]; !ok {
			names = append(names, s)
		}
	}
	slices.Sort(names)
	for _, s := range names {
		last, ok := counters[s]
		ns := perSeries[s]
		if !ok {
			v.gaps.add("business %s: series %s has %d claimed numbers but no counter", biz, s, len(ns))
		}
		v.series(s, last, ns)
	}
	return nil
}

// series checks that ns is exactly 1..last.
func (v *verifier) series(s Series, last uint64, ns []uint64) {
	slices.Sort(ns)
	var want uint64 = 1
	for i, n := range ns {
		if i > 0 && n == ns[i-1] {
			v.duplicates++
			v.dup.add("business %s: %s is claimed twice (two spellings of one number)", v.biz.ID, FormatNumber(s, n))
			continue
		}
		if n > last {
			v.gaps.add("business %s: %s is beyond the series' last number %d", v.biz.ID, FormatNumber(s, n), last)
			continue
		}
		if n > want {
			v.missing(s, want, n-1)
		}
		want = n + 1
	}
	if want <= last {
		v.missing(s, want, last)
	}
}

func (v *verifier) missing(s Series, from, to uint64) {
	if from == to {
		v.gaps.add("business %s: %s is missing", v.biz.ID, FormatNumber(s, from))
		return
	}
	v.gaps.add("business %s: %s to %s are missing (%d numbers)", v.biz.ID, FormatNumber(s, from), FormatNumber(s, to), to-from+1)
}

// carriedBy reports whether the document ref exists and carries number.
func (v *verifier) carriedBy(ref DocRef, number string) bool {
	tx, biz := v.tx, v.biz.ID
	var got *string
	switch ref.Kind {
	case KindSale:
		if d, err := tx.Sale(biz, ref.ID); err == nil {
			got = &d.InvoiceNumber
		}
	case KindReturn:
		if d, err := tx.Return(biz, ref.ID); err == nil {
			got = &d.ReturnNumber
		}
	case KindReceipt:
		if d, err := tx.Receipt(biz, ref.ID); err == nil {
			got = d.ReceiptNumber
		}
	case KindTransfer:
		if d, err := tx.Transfer(biz, ref.ID); err == nil {
			got = d.TransferNumber
		}
	case KindZReport:
		if d, err := tx.ZReport(biz, ref.ID); err == nil {
			c := zReportClaim(d)
			got = &c
		}
	}
	return got != nil && *got == number
}

// idempotency checks that every record points at a document that exists.
func (v *verifier) idempotency() error {
	tx, biz := v.tx, v.biz.ID
	var tokens map[string]bool
	return tx.Idempotencies(biz, func(r *IdempotencyRecord) error {
		v.fig.Counts.Idempotency++
		var err error
		switch r.Doc.Kind {
		case KindSale, KindReturn, KindReceipt, KindTransfer, KindZReport:
			if _, ok := v.ids[r.Doc.Kind][r.Doc.ID]; !ok {
				err = notFound(string(r.Doc.Kind), "")
			}
		case KindCashier:
			_, err = tx.Cashier(biz, r.Doc.ID)
		case KindApproval:
			_, err = tx.Approval(biz, r.Doc.ID)
		case KindShift:
			_, err = tx.Shift(biz, r.Doc.ID)
		case KindAdjustment:
			_, err = tx.Adjustment(biz, r.Doc.ID)
		case KindLocation:
			_, err = tx.Location(biz, r.Doc.ID)
		case KindProduct:
			_, err = tx.Product(biz, r.Doc.ID)
		case KindPairing:
			var ptx PairingTx
			if ptx, err = pairingTx(tx); err == nil {
				_, err = ptx.Pairing(biz, r.Doc.ID)
			}
		case KindImport:
			var itx ImportTx
			if itx, err = importTx(tx); err == nil {
				_, err = itx.ProductImport(biz, r.Doc.ID)
			}
		case KindToken, KindTill:
			// Revoking a token deletes it, so its record may point at
			// nothing; that is by design, and counted apart.
			if tokens == nil {
				ts, err := tx.Tokens(biz)
				if err != nil {
					return err
				}
				tokens = map[string]bool{}
				for _, t := range ts {
					tokens[t.ID] = true
				}
			}
			if !tokens[r.Doc.ID] {
				v.revoked++
			}
			return nil
		default:
			v.idem.add("business %s: key %q points at a %q, which is not a kind of document", biz, r.Key, r.Doc.Kind)
			return nil
		}
		if IsNotFound(err) {
			v.idem.add("business %s: key %q points at %s %s, which does not exist", biz, r.Key, r.Doc.Kind, r.Doc.ID)
			return nil
		}
		return err
	})
}

// stockLedger checks every stock level against the sum of its movements.
func (v *verifier) stockLedger() error {
	tx, biz := v.tx, v.biz.ID
	type at struct{ loc, product string }
	sums := map[at]Quantity{}
	locs := map[string]bool{}
	err := tx.Movements(biz, func(m *Movement) error {
		v.fig.Counts.Movements++
		sums[at{m.LocationID, m.ProductID}] += m.Quantity
		locs[m.LocationID] = true
		return nil
	})
	if err != nil {
		return err
	}
	ls, err := tx.Locations(biz)
	if err != nil {
		return err
	}
	for _, l := range ls {
		locs[l.ID] = true
	}
	ids := make([]string, 0, len(locs))
	for id := range locs {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, loc := range ids {
		levels, err := tx.StockAt(biz, loc)
		if err != nil {
			return err
		}
		have := map[string]bool{}
		for _, l := range levels {
			v.levels++
			have[l.ProductID] = true
			if sum := sums[at{loc, l.ProductID}]; sum != l.Quantity {
				v.stock.add("business %s: product %s at location %s: stock %s, movements add up to %s", biz, l.ProductID, loc, l.Quantity, sum)
			}
		}
		for k, sum := range sums {
			if k.loc == loc && !have[k.product] && sum != 0 {
				v.stock.add("business %s: product %s at location %s: no stock level, movements add up to %s", biz, k.product, loc, sum)
			}
		}
	}
	return nil
}
