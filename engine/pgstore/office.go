package pgstore

import (
	"encoding/json"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"posd/engine"
)

// The back office's records: pairings (engine.PairingTx), the tills' last
// reports (engine.TillStatusTx) and product imports' reports
// (engine.ImportTx), each a row per object with its JSON. They are written
// under the business's lock like everything else of a business.

var (
	_ engine.PairingTx    = (*txn)(nil)
	_ engine.TillStatusTx = (*txn)(nil)
	_ engine.ImportTx     = (*txn)(nil)
)

func scanPairing(biz string, hash, doc []byte) (*engine.Pairing, error) {
	p := &engine.Pairing{}
	if err := json.Unmarshal(doc, p); err != nil {
		return nil, corrupt("pairings", err)
	}
	p.BusinessID = biz
	copy(p.Hash[:], hash)
	return p, nil
}

// Pairing implements engine.PairingTx.
func (t *txn) Pairing(biz, id string) (*engine.Pairing, error) {
	if err := t.touch(biz); err != nil {
		return nil, err
	}
	var hash, doc []byte
	found, err := t.queryRow("SELECT hash, doc FROM pairings WHERE business_id = $1 AND id = $2", []any{biz, id}, &hash, &doc)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, notFound("pairing")
	}
	return scanPairing(biz, hash, doc)
}

// PairingByHash implements engine.PairingTx: the till that types a code
// has no token yet, so this looks in every business.
func (t *txn) PairingByHash(hash [32]byte) (*engine.Pairing, error) {
	var biz string
	var doc []byte
	found, err := t.queryRow("SELECT business_id, doc FROM pairings WHERE hash = $1", []any{hash[:]}, &biz, &doc)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, notFound("pairing")
	}
	return scanPairing(biz, hash[:], doc)
}

// PutPairing implements engine.PairingTx: the row carries the code's
// hash, so a pairing given a new code is no longer found by the old one;
// pairings_hash_key refuses a hash another pairing holds.
func (t *txn) PutPairing(p *engine.Pairing) error {
	doc, err := encode(p)
	if err != nil {
		return err
	}
	return t.queue(p.BusinessID, `INSERT INTO pairings (business_id, id, hash, doc) VALUES ($1, $2, $3, $4)
		ON CONFLICT (business_id, id) DO UPDATE SET hash = excluded.hash, doc = excluded.doc`, p.BusinessID, p.ID, p.Hash[:], doc)
}

// pairings calls fn for every pairing of a business (for the store's
// tools).
func (t *txn) pairings(biz string, fn func(*engine.Pairing) error) error {
	var out []*engine.Pairing
	err := t.query("SELECT hash, doc FROM pairings WHERE business_id = $1 ORDER BY id", []any{biz}, func(rows pgx.Rows) error {
		out = nil
		for rows.Next() {
			var hash, doc []byte
			if err := rows.Scan(&hash, &doc); err != nil {
				return err
			}
			p, err := scanPairing(biz, hash, doc)
			if err != nil {
				return err
			}
			out = append(out, p)
		}
		return rows.Err()
	})
	for _, p := range out {
		if err == nil {
			err = fn(p)
		}
	}
	return err
}

// PutTillStatus implements engine.TillStatusTx.
func (t *txn) PutTillStatus(s *engine.TillStatus) error {
	doc, err := encode(s)
	if err != nil {
		return err
	}
	return t.queue(s.BusinessID, `INSERT INTO till_statuses (business_id, till_id, doc) VALUES ($1, $2, $3)
		ON CONFLICT (business_id, till_id) DO UPDATE SET doc = excluded.doc`, s.BusinessID, s.TillID, doc)
}

// TillStatuses implements engine.TillStatusTx, in till ID order.
func (t *txn) TillStatuses(biz string) ([]*engine.TillStatus, error) {
	if err := t.touch(biz); err != nil {
		return nil, err
	}
	var out []*engine.TillStatus
	err := t.query("SELECT doc FROM till_statuses WHERE business_id = $1 ORDER BY till_id", []any{biz}, func(rows pgx.Rows) error {
		out = nil
		for rows.Next() {
			s := &engine.TillStatus{}
			if err := scanJSON(rows, "till_statuses", s); err != nil {
				return err
			}
			s.BusinessID = biz
			out = append(out, s)
		}
		return rows.Err()
	})
	return out, err
}

// DeleteTillStatus implements engine.TillStatusTx.
func (t *txn) DeleteTillStatus(biz, till string) error {
	return t.queue(biz, "DELETE FROM till_statuses WHERE business_id = $1 AND till_id = $2", biz, till)
}

// ProductImport implements engine.ImportTx.
func (t *txn) ProductImport(biz, id string) (*engine.ImportReport, error) {
	r := &engine.ImportReport{}
	if err := t.getDoc("product_imports", "import", biz, id, r); err != nil {
		return nil, err
	}
	r.BusinessID = biz
	return r, nil
}

// PutProductImport implements engine.ImportTx.
func (t *txn) PutProductImport(r *engine.ImportReport) error {
	return t.putDoc("product_imports", r.BusinessID, r.ID, r)
}

// ListReturns implements engine.Tx: refunds in ID order (an ID begins with
// its creation millisecond), from the cursor on (inclusive), as boltstore.
func (t *txn) ListReturns(biz string, f engine.ReturnFilter) ([]*engine.Return, string, error) {
	if err := t.touch(biz); err != nil {
		return nil, "", err
	}
	if f.Cursor != "" && (len(f.Cursor) > 64 || strings.IndexByte(f.Cursor, 0) >= 0) {
		return nil, "", engine.FieldError("cursor", "is not a cursor this server gave out")
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	sql := "SELECT id, doc FROM returns WHERE business_id = $1"
	args := []any{biz}
	order := "ASC"
	if f.Newest {
		order = "DESC"
	}
	if f.Cursor != "" {
		args = append(args, f.Cursor)
		if f.Newest {
			sql += " AND id <= $2"
		} else {
			sql += " AND id >= $2"
		}
	}
	args = append(args, limit+1)
	sql += " ORDER BY id " + order + " LIMIT $" + strconv.Itoa(len(args))
	var out []*engine.Return
	next := ""
	err := t.query(sql, args, func(rows pgx.Rows) error {
		out, next = nil, ""
		for rows.Next() {
			var id string
			var doc []byte
			if err := rows.Scan(&id, &doc); err != nil {
				return err
			}
			if len(out) == limit {
				next = id
				break
			}
			r := &engine.Return{}
			if err := json.Unmarshal(doc, r); err != nil {
				return corrupt("returns", err)
			}
			r.BusinessID = biz
			out = append(out, r)
		}
		return rows.Err()
	})
	return out, next, err
}
