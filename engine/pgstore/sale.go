package pgstore

import (
	"encoding/json"
	"strconv"

	"github.com/jackc/pgx/v5"

	"posd/engine"
)

func decodeSale(doc []byte, biz string) (*engine.Sale, error) {
	s := &engine.Sale{}
	if err := json.Unmarshal(doc, s); err != nil {
		return nil, corrupt("sales", err)
	}
	s.BusinessID = biz
	return s, nil
}

// Sale implements engine.Tx.
func (t *txn) Sale(biz, id string) (*engine.Sale, error) {
	if err := t.touch(biz); err != nil {
		return nil, err
	}
	var doc []byte
	found, err := t.queryRow("SELECT doc FROM sales WHERE business_id = $1 AND id = $2", []any{biz, id}, &doc)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, notFound("sale")
	}
	return decodeSale(doc, biz)
}

// putSale updates a stored sale in place, or inserts a new one at the next
// position of its business's list, in one statement: the '#sale' counter
// advances only when no row was updated. The business's lock orders the
// statements of all its writers, so positions are 1, 2, 3, … in commit
// order.
const putSale = `WITH upd AS (
	UPDATE sales SET doc = $4 WHERE business_id = $1 AND id = $2 RETURNING 1
), pos AS (
	INSERT INTO counters (business_id, series, last) SELECT $1, '#sale', 1 WHERE NOT EXISTS (SELECT 1 FROM upd)
	ON CONFLICT (business_id, series) DO UPDATE SET last = counters.last + 1 RETURNING last
)
INSERT INTO sales (business_id, id, pos, location_id, doc) SELECT $1, $2, pos.last, $3, $4 FROM pos`

// PutSale implements engine.Tx.
func (t *txn) PutSale(s *engine.Sale) error {
	doc, err := encode(s)
	if err != nil {
		return err
	}
	return t.queue(s.BusinessID, putSale, s.BusinessID, s.ID, s.LocationID, doc)
}

// Sales implements engine.Tx. The cursor is the list position to start at
// (inclusive), as in boltstore.
func (t *txn) Sales(biz string, f engine.SaleFilter) ([]*engine.Sale, string, error) {
	if err := t.touch(biz); err != nil {
		return nil, "", err
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	var from int64
	if f.Cursor != "" {
		n, err := strconv.ParseUint(f.Cursor, 10, 63)
		if err != nil || n == 0 {
			return nil, "", engine.FieldError("cursor", "is not a cursor this server gave out")
		}
		from = int64(n)
	}
	where, args := "business_id = $1", []any{biz}
	if f.LocationID != "" {
		where += " AND location_id = $2"
		args = append(args, f.LocationID)
	}
	order := "ASC"
	if f.Newest {
		order = "DESC"
		if from > 0 {
			args = append(args, from)
			where += " AND pos <= $" + strconv.Itoa(len(args))
		}
	} else if from > 0 {
		args = append(args, from)
		where += " AND pos >= $" + strconv.Itoa(len(args))
	}
	args = append(args, limit+1)
	sql := "SELECT pos, doc FROM sales WHERE " + where + " ORDER BY pos " + order + " LIMIT $" + strconv.Itoa(len(args))
	var out []*engine.Sale
	next := ""
	err := t.query(sql, args, func(rows pgx.Rows) error {
		out, next = nil, ""
		for rows.Next() {
			var pos int64
			var doc []byte
			if err := rows.Scan(&pos, &doc); err != nil {
				return err
			}
			if len(out) == limit {
				next = strconv.FormatInt(pos, 10)
				break
			}
			s, err := decodeSale(doc, biz)
			if err != nil {
				return err
			}
			out = append(out, s)
		}
		return rows.Err()
	})
	return out, next, err
}

// AllSales implements engine.Tx, in ID order.
func (t *txn) AllSales(biz string, fn func(*engine.Sale) error) error {
	return eachDoc(t, "sales", biz, func(doc []byte) error {
		s, err := decodeSale(doc, biz)
		if err != nil {
			return err
		}
		return fn(s)
	})
}

// eachDoc calls fn with the doc of every row of a business's documents
// table, in ID order, reading chunk rows per query.
func eachDoc(t *txn, table, biz string, fn func(doc []byte) error) error {
	if err := t.touch(biz); err != nil {
		return err
	}
	after := ""
	for {
		var ids []string
		var docs [][]byte
		err := t.query("SELECT id, doc FROM "+table+" WHERE business_id = $1 AND id > $2 ORDER BY id LIMIT $3", []any{biz, after, chunk}, func(rows pgx.Rows) error {
			ids, docs = ids[:0], docs[:0]
			for rows.Next() {
				var id string
				var doc []byte
				if err := rows.Scan(&id, &doc); err != nil {
					return err
				}
				ids, docs = append(ids, id), append(docs, doc)
			}
			return rows.Err()
		})
		if err != nil {
			return err
		}
		for _, d := range docs {
			if err := fn(d); err != nil {
				return err
			}
		}
		if len(ids) < chunk {
			return nil
		}
		after = ids[len(ids)-1]
	}
}
