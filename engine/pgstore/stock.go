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
// go in the same transaction, as two statements (one multi-row upsert may
// not touch a row twice, and a sale may have two lines of one product).
func (t *txn) AddMovement(m *engine.Movement) error {
	if err := t.queue(m.BusinessID, `INSERT INTO movements (business_id, location_id, product_id, qty, doc_kind, doc_id, at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, m.BusinessID, m.LocationID, m.ProductID, int64(m.Quantity), string(m.Doc.Kind), m.Doc.ID, m.At); err != nil {
		return err
	}
	return t.queue(m.BusinessID, `INSERT INTO stock (business_id, location_id, product_id, qty) VALUES ($1, $2, $3, $4)
		ON CONFLICT (business_id, location_id, product_id) DO UPDATE SET qty = stock.qty + excluded.qty`, m.BusinessID, m.LocationID, m.ProductID, int64(m.Quantity))
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
