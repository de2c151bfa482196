// Package storecopy moves a whole posd database from one engine.Store to
// another and proves the two hold the same: posd migrate (embedded ↔
// PostgreSQL) and the PostgreSQL backup into the embedded format use it.
// It works through engine.Tx only, so any pair of backends that pass
// engine/storetest can be copied and compared.
//
// Walk reads everything of a store inside one transaction (one snapshot)
// in an order every backend reproduces: businesses, locations, products,
// tokens and documents by ID, sales in list order, movements in ledger
// order, numbers by number, idempotency records by key. A Sink receives
// it in an order a store can write it in (a sale before the idempotency
// record whose answer it is, movements in order). Compare walks two stores
// side by side and names every difference.
package storecopy

import (
	"context"
	"sort"

	"posd/engine"
)

// Sink receives a store's content from Walk. Each method gets objects of
// one business, after Business was called for it.
type Sink interface {
	Business(b *engine.Business) error
	Location(l *engine.Location) error
	Product(p *engine.Product) error
	Token(t *engine.Token) error
	// Sale is called in the business's list order.
	Sale(s *engine.Sale) error
	// Return is called in each location's stored order (ReturnsAt).
	Return(r *engine.Return) error
	Receipt(r *engine.Receipt) error
	Transfer(t *engine.Transfer) error
	// Movement is called in ledger order.
	Movement(m *engine.Movement) error
	Adjustment(a *engine.Adjustment) error
	Stock(business, location string, l engine.StockLevel) error
	Counter(business string, s engine.Series, last uint64) error
	Number(business, number string, ref engine.DocRef) error
	Idempotency(r *engine.IdempotencyRecord) error
	// ChainHead is a series' hash-chain head (for series that have one).
	ChainHead(business string, s engine.Series, h engine.ChainHead) error
	// Pairing, TillStatus and ProductImport are the back office's records
	// (engine.PairingTx, TillStatusTx, ImportTx), when the store has them.
	Pairing(p *engine.Pairing) error
	TillStatus(s *engine.TillStatus) error
	ProductImport(r *engine.ImportReport) error
	// Cashier, Approval, Shift and ZReport are the day's close; shifts and
	// Z reports come in each location's stored order.
	Cashier(c *engine.Cashier) error
	Approval(a *engine.Approval) error
	Shift(s *engine.Shift) error
	ZReport(z *engine.ZReport) error
	// Done is called once at the end of a business.
	Done(business string) error
}

// salePage is how many sales Walk reads per listing call.
const salePage = 1000

// Walk calls sink with everything in tx, business by business.
func Walk(ctx context.Context, tx engine.ScanTx, sink Sink) error {
	bizs, err := tx.Businesses()
	if err != nil {
		return err
	}
	for _, b := range bizs {
		if err := walkBusiness(ctx, tx, b, sink); err != nil {
			return err
		}
	}
	return nil
}

func walkBusiness(ctx context.Context, tx engine.ScanTx, b *engine.Business, sink Sink) error {
	id := b.ID
	if err := sink.Business(b); err != nil {
		return err
	}
	locs, err := tx.Locations(id)
	if err != nil {
		return err
	}
	for _, l := range locs {
		if err := sink.Location(l); err != nil {
			return err
		}
	}
	ps, err := tx.Products(id)
	if err != nil {
		return err
	}
	for _, p := range ps {
		if err := sink.Product(p); err != nil {
			return err
		}
	}
	toks, err := tx.Tokens(id)
	if err != nil {
		return err
	}
	for _, t := range toks {
		if err := sink.Token(t); err != nil {
			return err
		}
	}
	cursor := ""
	for {
		page, next, err := tx.Sales(id, engine.SaleFilter{Cursor: cursor, Limit: salePage})
		if err != nil {
			return err
		}
		for _, s := range page {
			if err := sink.Sale(s); err != nil {
				return err
			}
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if next == "" {
			break
		}
		cursor = next
	}
	if err := walkReturns(ctx, tx, id, locs, sink); err != nil {
		return err
	}
	if err := tx.Receipts(id, sink.Receipt); err != nil {
		return err
	}
	if err := tx.Transfers(id, sink.Transfer); err != nil {
		return err
	}
	// Adjustments have no iterator of their own: every one is named by
	// its movements (an adjustment has at least one line) or by the
	// idempotency record of the request that made it.
	adj := map[string]bool{}
	named := map[engine.DocKind]map[string]bool{engine.KindPairing: {}, engine.KindImport: {}, engine.KindApproval: {}}
	n := 0
	if err := tx.Movements(id, func(m *engine.Movement) error {
		if m.Doc.Kind == engine.KindAdjustment {
			adj[m.Doc.ID] = true
		}
		if n++; n%10000 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		return sink.Movement(m)
	}); err != nil {
		return err
	}
	var recs []*engine.IdempotencyRecord
	if err := tx.Idempotencies(id, func(r *engine.IdempotencyRecord) error {
		if r.Doc.Kind == engine.KindAdjustment {
			adj[r.Doc.ID] = true
		}
		if m := named[r.Doc.Kind]; m != nil {
			m[r.Doc.ID] = true
		}
		recs = append(recs, r)
		if len(recs) == 1000 {
			for _, r := range recs {
				if err := sink.Idempotency(r); err != nil {
					return err
				}
			}
			recs = recs[:0]
		}
		return nil
	}); err != nil {
		return err
	}
	for _, r := range recs {
		if err := sink.Idempotency(r); err != nil {
			return err
		}
	}
	ids := make([]string, 0, len(adj))
	for a := range adj {
		ids = append(ids, a)
	}
	sort.Strings(ids)
	for _, a := range ids {
		x, err := tx.Adjustment(id, a)
		if engine.IsNotFound(err) {
			continue // named by a record whose document is gone: verify reports it
		}
		if err != nil {
			return err
		}
		if err := sink.Adjustment(x); err != nil {
			return err
		}
	}
	for _, l := range locs {
		levels, err := tx.StockAt(id, l.ID)
		if err != nil {
			return err
		}
		for _, lv := range levels {
			if err := sink.Stock(id, l.ID, lv); err != nil {
				return err
			}
		}
	}
	series, err := tx.Series(id)
	if err != nil {
		return err
	}
	names := make([]string, 0, len(series))
	for s := range series {
		names = append(names, string(s))
	}
	sort.Strings(names)
	for _, s := range names {
		if err := sink.Counter(id, engine.Series(s), series[engine.Series(s)]); err != nil {
			return err
		}
	}
	if err := tx.Numbers(id, func(number string, ref engine.DocRef) error { return sink.Number(id, number, ref) }); err != nil {
		return err
	}
	if err := walkChains(tx, id, names, sink); err != nil {
		return err
	}
	if err := walkOffice(tx, id, named, sink); err != nil {
		return err
	}
	if err := walkClose(ctx, tx, id, locs, named[engine.KindApproval], sink); err != nil {
		return err
	}
	return sink.Done(id)
}

// walkOffice walks the back office's records: the pairings and product
// imports the idempotency records name (a pairing or an import is made by
// an idempotent request and never deleted), and the tills' last reports.
func walkOffice(tx engine.ScanTx, business string, named map[engine.DocKind]map[string]bool, sink Sink) error {
	if ptx, ok := tx.(engine.PairingTx); ok {
		for _, pid := range sorted(named[engine.KindPairing]) {
			p, err := ptx.Pairing(business, pid)
			if engine.IsNotFound(err) {
				continue
			}
			if err != nil {
				return err
			}
			if err := sink.Pairing(p); err != nil {
				return err
			}
		}
	}
	if stx, ok := tx.(engine.TillStatusTx); ok {
		ss, err := stx.TillStatuses(business)
		if err != nil {
			return err
		}
		for _, st := range ss {
			if err := sink.TillStatus(st); err != nil {
				return err
			}
		}
	}
	if itx, ok := tx.(engine.ImportTx); ok {
		for _, iid := range sorted(named[engine.KindImport]) {
			r, err := itx.ProductImport(business, iid)
			if engine.IsNotFound(err) {
				continue
			}
			if err != nil {
				return err
			}
			if err := sink.ProductImport(r); err != nil {
				return err
			}
		}
	}
	return nil
}

func sorted(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// walkChains walks the heads of the business's hash chains, one per
// series that has one. The documents' own hash and previousHash are in
// the documents, which are copied and compared whole.
func walkChains(tx engine.ScanTx, business string, series []string, sink Sink) error {
	for _, s := range series {
		h, err := tx.ChainHead(business, engine.Series(s))
		if err != nil {
			return err
		}
		if h == (engine.ChainHead{}) {
			continue
		}
		if err := sink.ChainHead(business, engine.Series(s), h); err != nil {
			return err
		}
	}
	return nil
}

// walkReturns gives the refunds location by location in their stored
// order, which a Z report relies on (it walks a location's refunds back
// to the last one it covered), and checks that the lists hold every
// refund.
func walkReturns(ctx context.Context, tx engine.ScanTx, biz string, locs []*engine.Location, sink Sink) error {
	listed := 0
	for _, l := range locs {
		if err := eachAt(ctx, tx.ReturnsAt, biz, l.ID, func(r *engine.Return) error {
			listed++
			return sink.Return(r)
		}); err != nil {
			return err
		}
	}
	all := 0
	if err := tx.Returns(biz, func(*engine.Return) error { all++; return nil }); err != nil {
		return err
	}
	if all != listed {
		return engine.Errorf(engine.EINTERNAL, "business %s has %d refunds, of them %d in their locations' lists: the store's refund lists are incomplete", biz, all, listed)
	}
	return nil
}

// walkClose walks the day's close: the cashiers, the approvals the
// idempotency records name (an approval is made by an idempotent request
// and never deleted), and each location's shifts and Z reports in their
// stored order.
func walkClose(ctx context.Context, tx engine.ScanTx, biz string, locs []*engine.Location, approvals map[string]bool, sink Sink) error {
	cs, err := tx.Cashiers(biz)
	if err != nil {
		return err
	}
	for _, c := range cs {
		if err := sink.Cashier(c); err != nil {
			return err
		}
	}
	for _, aid := range sorted(approvals) {
		a, err := tx.Approval(biz, aid)
		if engine.IsNotFound(err) {
			continue // named by a record whose document is gone: verify reports it
		}
		if err != nil {
			return err
		}
		if err := sink.Approval(a); err != nil {
			return err
		}
	}
	for _, l := range locs {
		if err := eachAt(ctx, tx.Shifts, biz, l.ID, sink.Shift); err != nil {
			return err
		}
	}
	for _, l := range locs {
		if err := eachAt(ctx, tx.ZReports, biz, l.ID, sink.ZReport); err != nil {
			return err
		}
	}
	return nil
}

// eachAt pages a per-location list, oldest first.
func eachAt[T any](ctx context.Context, list func(string, engine.SaleFilter) ([]*T, string, error), biz, loc string, fn func(*T) error) error {
	cursor := ""
	for {
		page, next, err := list(biz, engine.SaleFilter{LocationID: loc, Cursor: cursor, Limit: salePage})
		if err != nil {
			return err
		}
		for _, x := range page {
			if err := fn(x); err != nil {
				return err
			}
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if next == "" {
			return nil
		}
		cursor = next
	}
}
