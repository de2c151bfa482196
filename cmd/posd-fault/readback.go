//go:build linux

package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"posd/api/client"
	"posd/engine"
	"posd/engine/boltstore"
	"posd/engine/pgstore"
)

// apiState is one shop as its owner reads it back over the API.
type apiState struct {
	sales     map[string]*engine.Sale
	listed    []string // sale IDs in list order
	returns   map[string]*engine.Return
	receipts  map[string]*engine.Receipt
	transfers map[string]*engine.Transfer
	stock     map[stockKey]engine.Quantity
	errs      []string
}

// fileState is one business as the database file holds it, read through
// the store after posd stopped.
type fileState struct {
	series  map[engine.Series]uint64
	numbers map[string]engine.DocRef
	idem    map[string]*engine.IdempotencyRecord
	moves   map[stockKey]engine.Quantity
	stock   map[stockKey]engine.Quantity
	sales   map[string]bool
	docs    map[string]engine.DocKind // every document a movement or number names
}

// readAPI reads everything of a shop through the API: every sale (by
// listing), the refunds they name, every receipt and transfer any answer
// or record mentions, and the stock at each location.
func readAPI(ctx context.Context, f *shopFixture, ids map[string]engine.DocKind) *apiState {
	s := &apiState{sales: map[string]*engine.Sale{}, returns: map[string]*engine.Return{}, receipts: map[string]*engine.Receipt{},
		transfers: map[string]*engine.Transfer{}, stock: map[stockKey]engine.Quantity{}}
	fail := func(format string, args ...any) { s.errs = append(s.errs, fmt.Sprintf(format, args...)) }
	// The owner's token no longer working means the business is gone (or
	// the address is locked out for it): nothing more can be read.
	gone := func(err error) bool {
		switch engine.ErrorCode(err) {
		case engine.EUNAUTHORIZED, client.ERATELIMITED:
			fail("the owner's token no longer works: %v", err)
			return true
		}
		return false
	}
	q := client.SalesQuery{Limit: 500}
	seen := map[string]bool{}
	for page := 0; ; page++ {
		p, err := f.owner.Sales(ctx, q)
		if gone(err) {
			return s
		}
		if err != nil {
			fail("GET /api/sales: %v", err)
			break
		}
		for _, sale := range p.Sales {
			if seen[sale.ID] {
				fail("GET /api/sales lists sale %s twice", sale.ID)
				continue
			}
			seen[sale.ID] = true
			s.sales[sale.ID] = sale
			s.listed = append(s.listed, sale.ID)
		}
		if p.NextCursor == nil {
			break
		}
		if *p.NextCursor == q.Cursor || page > 10000 {
			fail("GET /api/sales pages do not end (cursor %q repeats)", q.Cursor)
			break
		}
		q.Cursor = *p.NextCursor
	}
	for _, sale := range s.sales {
		for _, id := range sale.Returns {
			ids[id] = engine.KindReturn
		}
	}
	for id, kind := range ids {
		var err error
		switch kind {
		case engine.KindSale:
			if _, ok := s.sales[id]; !ok {
				if _, err2 := f.owner.Sale(ctx, id); err2 == nil {
					fail("sale %s is readable by id but missing from GET /api/sales", id)
				}
			}
		case engine.KindReturn:
			var r *engine.Return
			if r, err = f.owner.Return(ctx, id); err == nil {
				s.returns[id] = r
			}
		case engine.KindReceipt:
			var r *engine.Receipt
			if r, err = f.owner.Receipt(ctx, id); err == nil {
				s.receipts[id] = r
			}
		case engine.KindTransfer:
			var t *engine.Transfer
			if t, err = f.owner.Transfer(ctx, id); err == nil {
				s.transfers[id] = t
			}
		}
		if gone(err) {
			return s
		}
		if err != nil && engine.ErrorCode(err) != engine.ENOTFOUND {
			fail("reading %s %s: %v", kind, id, err)
		}
	}
	for _, loc := range f.locs {
		levels, err := f.owner.Stock(ctx, loc)
		if err != nil {
			fail("GET /api/stock?locationId=%s: %v", loc, err)
			continue
		}
		for _, l := range levels {
			s.stock[stockKey{loc, l.ProductID}] = l.Quantity
		}
	}
	return s
}

// dbPath is where posd keeps its database inside the data dir.
func dbPath(dir string) string { return filepath.Join(dir, "posd.db") }

// openAtRest opens the database at loc read-only: the data dir's file, or
// a PostgreSQL URL (which may be read while posd serves it).
func openAtRest(loc string) (engine.Store, error) {
	if strings.HasPrefix(loc, "postgres://") {
		return pgstore.Open(context.Background(), loc, pgstore.Options{ReadOnly: true, ApplicationName: "posd-fault"})
	}
	return boltstore.Open(dbPath(loc), boltstore.Options{ReadOnly: true})
}

// readFile reads every business of the database at loc, read-only.
func readFile(loc string) (map[string]*fileState, error) {
	st, err := openAtRest(loc)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	out := map[string]*fileState{}
	err = engine.Scan(context.Background(), st, func(tx engine.ScanTx) error {
		bizs, err := tx.Businesses()
		if err != nil {
			return err
		}
		for _, b := range bizs {
			fs := &fileState{numbers: map[string]engine.DocRef{}, idem: map[string]*engine.IdempotencyRecord{},
				sales: map[string]bool{}, docs: map[string]engine.DocKind{}}
			out[b.ID] = fs
			if fs.series, err = tx.Series(b.ID); err != nil {
				return err
			}
			if err := tx.Numbers(b.ID, func(n string, ref engine.DocRef) error {
				fs.numbers[n] = ref
				fs.docs[ref.ID] = ref.Kind
				return nil
			}); err != nil {
				return err
			}
			if err := tx.Idempotencies(b.ID, func(r *engine.IdempotencyRecord) error {
				fs.idem[r.Key] = r
				return nil
			}); err != nil {
				return err
			}
			if fs.moves, fs.stock, err = ledger(tx, b.ID, fs.docs); err != nil {
				return err
			}
			cursor := ""
			for {
				page, next, err := tx.Sales(b.ID, engine.SaleFilter{Cursor: cursor, Limit: 500})
				if err != nil {
					return err
				}
				for _, s := range page {
					fs.sales[s.ID] = true
				}
				if next == "" || next == cursor {
					break
				}
				cursor = next
			}
		}
		return nil
	})
	return out, err
}

// ledger reads a business's stock ledger from the file: what its movements
// add up to and what its stock records say, per location and product. When
// docs is not nil it also notes the document of each movement.
func ledger(tx engine.ScanTx, biz string, docs map[string]engine.DocKind) (moves, stock map[stockKey]engine.Quantity, err error) {
	moves, stock = map[stockKey]engine.Quantity{}, map[stockKey]engine.Quantity{}
	if err := tx.Movements(biz, func(m *engine.Movement) error {
		moves[stockKey{m.LocationID, m.ProductID}] += m.Quantity
		if docs != nil {
			docs[m.Doc.ID] = m.Doc.Kind
		}
		return nil
	}); err != nil {
		return nil, nil, err
	}
	locs, err := tx.Locations(biz)
	if err != nil {
		return nil, nil, err
	}
	for _, l := range locs {
		levels, err := tx.StockAt(biz, l.ID)
		if err != nil {
			return nil, nil, err
		}
		for _, lv := range levels {
			stock[stockKey{l.ID, lv.ProductID}] = lv.Quantity
		}
	}
	return moves, stock, nil
}
