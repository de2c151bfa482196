package pgstore

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/jackc/pgx/v5"
)

// SchemaVersion returns the schema version recorded in the database.
func (s *Store) SchemaVersion() (int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return 0, storeError(err, false)
	}
	defer conn.Release()
	return currentVersion(ctx, conn.Conn())
}

// guarantees are the constraints that carry posd's storage-level
// guarantees: a database without one of them (dropped by hand, or a
// restore that left them out) would accept a second document for a
// number or a key.
var guarantees = map[string]string{
	"numbers_pkey":     "one document per business and number",
	"idempotency_pkey": "one record per business and idempotency key",
	"products_sku_key": "one product per business and SKU",
	"sales_pos_key":    "one sale per place in a business's list",
	"counters_pkey":    "one counter per series",
	"sales_pkey":       "one sale per ID",
	"cashiers_pin_key": "one cashier per business and PIN",
	"zreports_pkey":    "one Z report per ID, never replaced",
	"returns_pos_key":  "one refund per place in a business's order",
	"shifts_pos_key":   "one shift per place in a business's order",
	"zreports_pos_key": "one Z report per place in a business's order",
}

// uniqueIndexes are the guarantees carried by a unique index that is no
// constraint (a partial one).
var uniqueIndexes = map[string]string{
	"shifts_open_till": "one open shift per till",
}

// lists are the tables whose rows hold a place in their business's stored
// order, with the counter that hands the places out.
var lists = []struct{ table, counter, what string }{
	{"sales", "#sale", "sales"},
	{"returns", "#return", "refunds"},
	{"shifts", "#shift", "shifts"},
	{"zreports", "#z", "Z reports"},
}

// IntegrityDetail says what CheckIntegrity looks at, for verify's report.
func (s *Store) IntegrityDetail() string {
	return "PostgreSQL " + s.target + ": the uniqueness constraints and indexes are in place, every stock level equals its movements, the list positions of sales, refunds, shifts and Z reports run 1..N"
}

// CheckIntegrity implements the storage check of posd verify for
// PostgreSQL: the constraints that enforce the storage-level guarantees
// exist and are valid, every stock row equals the sum of its movements
// (and no movements lack a stock row), and each business's list of sales,
// refunds, shifts and Z reports runs 1..N with its counter ('#sale', …) at
// N. It reads one snapshot.
func (s *Store) CheckIntegrity(ctx context.Context) []error {
	var out []error
	fail := func(format string, args ...any) { out = append(out, fmt.Errorf(format, args...)) }
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, `SELECT conname FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace
			WHERE n.nspname = current_schema() AND c.convalidated AND c.contype IN ('p', 'u')`)
		if err != nil {
			return err
		}
		have, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		got := map[string]bool{}
		for _, c := range have {
			got[c] = true
		}
		for name, what := range guarantees {
			if !got[name] {
				fail("the constraint %s (%s) is missing: the database no longer enforces it", name, what)
			}
		}
		rows, err = tx.Query(ctx, `SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
			JOIN pg_namespace n ON n.oid = c.relnamespace
			WHERE n.nspname = current_schema() AND i.indisunique AND i.indisvalid`)
		if err != nil {
			return err
		}
		idx, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		gotIdx := map[string]bool{}
		for _, c := range idx {
			gotIdx[c] = true
		}
		for name, what := range uniqueIndexes {
			if !gotIdx[name] {
				fail("the unique index %s (%s) is missing: the database no longer enforces it", name, what)
			}
		}
		rows, err = tx.Query(ctx, `SELECT coalesce(s.business_id, m.business_id), coalesce(s.location_id, m.location_id), coalesce(s.product_id, m.product_id),
				coalesce(s.qty, 0), coalesce(m.qty, 0)
			FROM stock s FULL JOIN (SELECT business_id, location_id, product_id, sum(qty)::bigint AS qty FROM movements GROUP BY 1, 2, 3) m
			USING (business_id, location_id, product_id)
			WHERE coalesce(s.qty, 0) <> coalesce(m.qty, 0) OR s.qty IS NULL LIMIT 100`)
		if err != nil {
			return err
		}
		for rows.Next() {
			var biz, loc, product string
			var level, moves int64
			if err := rows.Scan(&biz, &loc, &product, &level, &moves); err != nil {
				return err
			}
			fail("business %s: stock of %s at %s is %d thousandths, its movements add up to %d", biz, product, loc, level, moves)
		}
		if err := rows.Err(); err != nil {
			return err
		}
		for _, l := range lists {
			rows, err = tx.Query(ctx, `SELECT s.business_id, count(*), min(s.pos), max(s.pos), coalesce(c.last, 0)
				FROM `+l.table+` s LEFT JOIN counters c ON c.business_id = s.business_id AND c.series = $1
				GROUP BY s.business_id, c.last HAVING min(s.pos) <> 1 OR max(s.pos) <> count(*) OR coalesce(c.last, 0) <> count(*)`, l.counter)
			if err != nil {
				return err
			}
			for rows.Next() {
				var biz string
				var n, lo, hi, last int64
				if err := rows.Scan(&biz, &n, &lo, &hi, &last); err != nil {
					return err
				}
				fail("business %s: %d %s hold list positions %d..%d and the list counter says %d; they must be 1..%d", biz, n, l.what, lo, hi, last, n)
			}
			if err := rows.Err(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		out = append(out, fmt.Errorf("reading the database failed: %v", storeError(err, false)))
	}
	return out
}

// DumpRows writes every row of every posd table to w as the server sends
// it (text as text, bytea as its bytes), for scans that look for what must
// never be stored, such as a token's secret.
func (s *Store) DumpRows(ctx context.Context, w io.Writer) error {
	for _, t := range posdTables {
		rows, err := s.pool.Query(ctx, "SELECT * FROM "+t)
		if err != nil {
			return err
		}
		for rows.Next() {
			for _, v := range rows.RawValues() {
				w.Write(v)
				w.Write([]byte{0})
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return nil
}
