package pgstore

import (
	"time"

	"github.com/jackc/pgx/v5"

	"posd/engine"
)

// Stock implements engine.Tx.
func (t *txn) Stock(biz, loc, product string) (engine.Quantity, error) {
	if err := t.touch(biz); err != nil {
		return 0, err
	}
	var q int64
	_, err := t.queryRow("SELECT qty FROM stock WHERE business_id = $1 AND location_id = $2 AND product_id = $3", []any{biz, loc, product}, &q)
	return engine.Quantity(q), err
}

// StockAt implements engine.Tx.
func (t *txn) StockAt(biz, loc string) ([]engine.StockLevel, error) {
	if err := t.touch(biz); err != nil {
		return nil, err
	}
	var out []engine.StockLevel
	err := t.query("SELECT product_id, qty FROM stock WHERE business_id = $1 AND location_id = $2 ORDER BY product_id", []any{biz, loc}, func(rows pgx.Rows) error {
		out = nil
		for rows.Next() {
			var l engine.StockLevel
			var q int64
			if err := rows.Scan(&l.ProductID, &q); err != nil {
				return err
			}
			l.Quantity = engine.Quantity(q)
			out = append(out, l)
		}
		return rows.Err()
	})
	return out, err
}

// AddMovement implements engine.Tx: the ledger row and the level's change
// go in the same transaction. A transaction's movements are sent together
// (see flushMovements): a sale's three lines cost two statements, not six.
func (t *txn) AddMovement(m *engine.Movement) error {
	if !t.writable {
		return errReadOnly
	}
	if err := t.touch(m.BusinessID); err != nil {
		return err
	}
	t.moves = append(t.moves, *m)
	t.wrote = true
	return nil
}

const (
	insertMovements = `INSERT INTO movements (business_id, location_id, product_id, qty, doc_kind, doc_id, at)
	SELECT $1, l, p, q, k, d, a FROM unnest($2::text[], $3::text[], $4::bigint[], $5::text[], $6::text[], $7::timestamptz[])
		WITH ORDINALITY AS m(l, p, q, k, d, a, n) ORDER BY n`
	// The levels are summed per product first: one multi-row upsert may
	// not touch a row twice, and a sale may have two lines of one product.
	addStock = `INSERT INTO stock (business_id, location_id, product_id, qty)
	SELECT $1, l, p, sum(q) FROM unnest($2::text[], $3::text[], $4::bigint[]) AS m(l, p, q) GROUP BY l, p
	ON CONFLICT (business_id, location_id, product_id) DO UPDATE SET qty = stock.qty + excluded.qty`
)

// flushMovements queues the statements of the movements added since the
// last round trip, in their order, per business.
func (t *txn) flushMovements(b *pgx.Batch) {
	for len(t.moves) > 0 {
		biz := t.moves[0].BusinessID
		var locs, products, kinds, docs []string
		var qty []int64
		var at []time.Time
		rest := t.moves[:0]
		for _, m := range t.moves {
			if m.BusinessID != biz {
				rest = append(rest, m)
				continue
			}
			locs, products, kinds, docs = append(locs, m.LocationID), append(products, m.ProductID), append(kinds, string(m.Doc.Kind)), append(docs, m.Doc.ID)
			qty, at = append(qty, int64(m.Quantity)), append(at, m.At)
		}
		b.Queue(insertMovements, biz, locs, products, qty, kinds, docs, at)
		b.Queue(addStock, biz, locs, products, qty)
		t.moves = rest
	}
}

// chunk is how many rows an iterator reads per query: pgx cannot run a
// query while another's rows are open, and an iterator's fn may read (the
// stock check's fn reads each movement's document).
const chunk = 2000

// Movements implements engine.Tx.
func (t *txn) Movements(biz string, fn func(*engine.Movement) error) error {
	if err := t.touch(biz); err != nil {
		return err
	}
	var after int64
	for {
		var page []*engine.Movement
		var last int64
		err := t.query(`SELECT seq, location_id, product_id, qty, doc_kind, doc_id, at FROM movements
			WHERE business_id = $1 AND seq > $2 ORDER BY seq LIMIT $3`, []any{biz, after, chunk}, func(rows pgx.Rows) error {
			page = page[:0]
			for rows.Next() {
				m := &engine.Movement{BusinessID: biz}
				var q int64
				var kind string
				var at time.Time
				if err := rows.Scan(&last, &m.LocationID, &m.ProductID, &q, &kind, &m.Doc.ID, &at); err != nil {
					return err
				}
				m.Quantity, m.Doc.Kind, m.At = engine.Quantity(q), engine.DocKind(kind), at.UTC()
				page = append(page, m)
			}
			return rows.Err()
		})
		if err != nil {
			return err
		}
		for _, m := range page {
			if err := fn(m); err != nil {
				return err
			}
		}
		if len(page) < chunk {
			return nil
		}
		after = last
	}
}
