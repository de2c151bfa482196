package engine

import (
	"context"
	"fmt"
	"slices"
	"strings"
)

// ChainReport is what recomputing the hash chains of one business found:
// per series its range, head and first break, and every finding, each a
// sentence that names the document.
type ChainReport struct {
	BusinessID string         `json:"businessId"`
	Series     []SeriesReport `json:"series"`
	// Documents counts the documents whose hashes were recomputed.
	Documents int `json:"documents"`
	// Anchors lists the anchors checked and what each showed.
	Anchors  []AnchorResult `json:"anchors"`
	Findings []string       `json:"findings"`
}

// SeriesReport is one series' chain.
type SeriesReport struct {
	Series Series `json:"series"`
	// Last is the series' last number; Documents how many of 1..Last were
	// found.
	Last      uint64 `json:"last"`
	Documents int    `json:"documents"`
	// HeadHash is the hash of the series' last document.
	HeadHash string `json:"headHash"`
	// FirstBreak is the number of the first document at which the chain
	// does not hold, "" when it holds throughout.
	FirstBreak string `json:"firstBreak,omitempty"`
	// Problems counts the findings of this series.
	Problems int `json:"problems"`
}

// AnchorResult is one anchor and whether the chain still matches it.
type AnchorResult struct {
	Anchor
	OK bool `json:"ok"`
	// Found is the hash the document carries now ("" if it is missing).
	Found string `json:"found"`
}

// OK reports whether every chain held and matched every anchor.
func (r *ChainReport) OK() bool { return len(r.Findings) == 0 }

// maxChainFindings bounds the findings kept per business: a damaged file
// gives a readable report, and the first break of each series is always
// among them.
const maxChainFindings = 200

// chainVerifier recomputes one business's chains inside a read transaction.
type chainVerifier struct {
	tx      ScanTx
	biz     string
	rep     *ChainReport
	omitted int
	cur     *SeriesReport
	// zNames names the location of each Z series, for findings.
	zNames map[Series]string
}

func (v *chainVerifier) find(number, format string, args ...any) {
	number = v.label(number)
	if v.cur != nil {
		v.cur.Problems++
		if v.cur.FirstBreak == "" {
			v.cur.FirstBreak = number
		}
	}
	if len(v.rep.Findings) >= maxChainFindings {
		v.omitted++
		return
	}
	v.rep.Findings = append(v.rep.Findings, number+": "+fmt.Sprintf(format, args...))
}

// seriesOrder sorts series by kind (INV, RET, RCV, TRF, others) and name,
// which for monthly series is month order: a series' cross-series link is
// then the series before it of the same prefix.
func seriesOrder(a, b Series) int {
	pa, pb := seriesPrefix(a), seriesPrefix(b)
	ia, ib := prefixRank(pa), prefixRank(pb)
	if ia != ib {
		return ia - ib
	}
	return strings.Compare(string(a), string(b))
}

func prefixRank(p string) int {
	if i := slices.Index(exportPrefixes, p); i >= 0 {
		return i
	}
	return len(exportPrefixes)
}

// seriesPrefix is a series' document prefix: "INV" of "INV-202611".
func seriesPrefix(s Series) string {
	p, _, _ := strings.Cut(string(s), "-")
	return p
}

// monthly reports whether a prefix numbers in monthly series whose first
// document chains to the kind's previous series.
func monthly(prefix string) bool {
	switch prefix {
	case PrefixSale, PrefixReturn, PrefixReceipt, PrefixTransfer:
		return true
	}
	return false
}

// VerifyChains recomputes every hash chain of a business from the stored
// values, in number order, and checks it against anchors (an export's
// manifest, a Z report's printed heads) and against the anchors the
// database itself holds. It names each document whose values no longer
// match its hash, each link that does not point at the document before it,
// each refund whose sale's hash changed, and the first break of each series.
func (s *Service) VerifyChains(ctx context.Context, business string, anchors []Anchor) (*ChainReport, error) {
	var rep *ChainReport
	err := Scan(ctx, s.store, func(tx ScanTx) error {
		var err error
		rep, err = verifyChains(ctx, tx, business, VerifyOptions{Anchors: anchors})
		return err
	})
	return rep, err
}

// Integrity is VerifyChains for an owner or a manager of the business: the
// office's integrity view.
func (s *Service) Integrity(ctx context.Context, a *Actor, anchors []Anchor) (*ChainReport, error) {
	if err := a.Can(PermManage); err != nil {
		return nil, err
	}
	return s.VerifyChains(ctx, a.BusinessID, anchors)
}

func verifyChains(ctx context.Context, tx ScanTx, business string, o VerifyOptions) (*ChainReport, error) {
	v := &chainVerifier{tx: tx, biz: business, rep: &ChainReport{BusinessID: business, Series: []SeriesReport{}, Anchors: []AnchorResult{}, Findings: []string{}}}
	counters, err := tx.Series(business)
	if err != nil {
		return nil, err
	}
	if v.zNames, err = zLabels(tx, business); err != nil {
		return nil, err
	}
	names := make([]Series, 0, len(counters))
	for s := range counters {
		names = append(names, s)
	}
	slices.SortFunc(names, seriesOrder)
	// prevOfKind is the hash the next series of a kind starts from.
	prevOfKind := map[string]string{}
	// refunds are what the refunds' check needs of each, kept small: a
	// database holds millions of documents, and the walk keeps none.
	type refundOf struct{ number, saleID, saleNumber, saleHash string }
	var refunds []refundOf
	for _, s := range names {
		unhashed, noHashAt := 0, -1
		prefix := seriesPrefix(s)
		v.rep.Series = append(v.rep.Series, SeriesReport{Series: s, Last: counters[s]})
		v.cur = &v.rep.Series[len(v.rep.Series)-1]
		prev := GenesisHash
		if h, ok := prevOfKind[prefix]; ok && monthly(prefix) {
			prev = h
		}
		prevNumber := "the start of the chain"
		if prev != GenesisHash {
			prevNumber = "the last document of the kind's previous series"
		}
		lastFound := false
		for n := uint64(1); n <= counters[s]; n++ {
			lastFound = false
			if n%1024 == 0 {
				if err := ctx.Err(); err != nil {
					return nil, err
				}
			}
			number := FormatNumber(s, n)
			d, err := loadNumbered(tx, business, number)
			if IsNotFound(err) {
				v.find(number, "is missing: the chain cannot be followed across it")
				continue
			}
			if err != nil {
				if ErrorCode(err) == EINTERNAL {
					v.find(number, "%v", strings.TrimPrefix(err.Error(), "engine: internal: "))
					continue
				}
				return nil, err
			}
			v.rep.Documents++
			v.cur.Documents++
			lastFound = true
			link := d.chainLink()
			if r, ok := d.(*Return); ok && r.SaleHash != "" && r.Hash != "" {
				refunds = append(refunds, refundOf{r.ReturnNumber, r.SaleID, r.SaleNumber, r.SaleHash})
			}
			if link.Hash == "" {
				if !o.Unchained && unhashed == 0 {
					v.find(number, "has no hash: a database with chains has no document without one (was it stripped?)")
					noHashAt = len(v.rep.Findings) - 1
				}
				unhashed++
				prev, prevNumber = "", v.label(number)
				continue
			}
			if got := chainHash(d); got != link.Hash {
				v.find(number, "its values no longer match its hash (it carries %s, its values give %s): it was changed after it was made", short(link.Hash), short(got))
			}
			if link.PreviousHash != prev && prev != "" {
				v.find(number, "does not chain to %s: it names %s as the previous hash, but that document's hash is %s (a document before it was removed, replaced or reordered)", prevNumber, short(link.PreviousHash), short(prev))
			}
			prev, prevNumber = link.Hash, v.label(number)
		}
		if unhashed > 1 && noHashAt >= 0 {
			v.rep.Findings[noHashAt] += fmt.Sprintf("; %d documents of %s have none", unhashed, s)
		}
		v.cur.HeadHash = prev
		prevOfKind[prefix] = prev
		if o.Unchained {
			continue // no heads before chains
		}
		last := ""
		if lastFound {
			last = prev
		}
		if err := v.head(s, counters[s], last); err != nil {
			return nil, err
		}
	}
	v.cur = nil
	// A refund names its sale's hash: a sale changed and hashed again
	// (with its whole tail) still shows in the refunds made against it.
	for _, r := range refunds {
		sale, err := tx.Sale(business, r.saleID)
		switch {
		case IsNotFound(err):
			v.findIn(r.number, "refunds sale %s, which was not found", r.saleNumber)
		case err != nil:
			return nil, err
		case sale.InvoiceNumber != r.saleNumber:
			v.findIn(r.number, "refunds sale %s, which now carries the number %s", r.saleNumber, sale.InvoiceNumber)
		case sale.Hash != r.saleHash:
			v.findIn(r.number, "was made against %s with hash %s, but that sale's hash is now %s: the sale was changed and its chain hashed again", r.saleNumber, short(r.saleHash), short(sale.Hash))
		}
	}
	stored, err := storedAnchors(tx, business)
	if err != nil {
		return nil, err
	}
	for _, a := range append(slices.Clone(o.Anchors), stored...) {
		if a.BusinessID != business {
			continue
		}
		v.anchor(a, counters)
	}
	if v.omitted > 0 {
		v.rep.Findings = append(v.rep.Findings, fmt.Sprintf("… and %d more findings", v.omitted))
	}
	return v.rep, nil
}

// findIn records a finding in the report of the series a number belongs to.
func (v *chainVerifier) findIn(number, format string, args ...any) {
	s, _, _ := ParseNumber(number)
	for i := range v.rep.Series {
		if v.rep.Series[i].Series == s {
			v.cur = &v.rep.Series[i]
		}
	}
	v.find(number, format, args...)
	v.cur = nil
}

// head checks the series head the store keeps against the last document,
// whose hash is want ("" if it is missing).
func (v *chainVerifier) head(s Series, last uint64, want string) error {
	h, err := v.tx.ChainHead(v.biz, s)
	if err != nil {
		return err
	}
	number := FormatNumber(s, last)
	if h.Number != last || (want != "" && h.Hash != want) {
		v.find(number, "the series' head says number %d with hash %s, but its last document is %s with hash %s", h.Number, short(h.Hash), v.label(number), short(want))
	}
	return nil
}

// anchor checks one anchor: the document it names must carry the hash it
// recorded.
func (v *chainVerifier) anchor(a Anchor, counters map[Series]uint64) {
	number := FormatNumber(a.Series, a.Number)
	res := AnchorResult{Anchor: a}
	d, err := loadNumbered(v.tx, v.biz, number)
	ok := err == nil
	var got string
	if ok {
		got = d.chainLink().Hash
	}
	res.Found = got
	switch {
	case counters[a.Series] < a.Number:
		v.findIn(number, "%s recorded it with hash %s, but the series now ends at %d: documents were removed after the anchor was taken", a.Source, short(a.Hash), counters[a.Series])
	case !ok:
		v.findIn(number, "%s recorded it with hash %s, but it is missing", a.Source, short(a.Hash))
	case got != a.Hash:
		v.findIn(number, "%s recorded hash %s, but it carries %s now: the chain was rewritten after the anchor was taken", a.Source, short(a.Hash), short(got))
	default:
		res.OK = true
	}
	v.rep.Anchors = append(v.rep.Anchors, res)
}

// short abbreviates a hash for a finding meant for people; the full value
// is in the data.
func short(h string) string {
	if len(h) > 16 {
		return h[:16] + "…"
	}
	if h == "" {
		return "(none)"
	}
	return h
}
