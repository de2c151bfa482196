package pgstore

import (
	"encoding/json"
	"strconv"

	"github.com/jackc/pgx/v5"

	"posd/engine"
)

// The day's close: cashiers (a row each, the PIN's key in a column of its
// own, unique per business), approvals, shifts and Z reports (rows with
// their JSON and, like sales, a place in their business's stored order
// from a counter advanced under the business's lock), and refunds listed
// per location. A till's open shift is asked by every sale of the till, so
// a write transaction reads its business's open shifts in the lock's round
// trip and answers OpenShift from them: the sale's round trips stay two.

// listed inserts a new row of a listed table at the next place of its
// business's order, or updates the row in place, in one statement: the
// counter advances only when no row was updated, as putSale's.
func listed(table, counter, cols, vals, set string) string {
	return `WITH upd AS (
	UPDATE ` + table + ` SET ` + set + ` WHERE business_id = $1 AND id = $2 RETURNING 1
), pos AS (
	INSERT INTO counters (business_id, series, last) SELECT $1, '` + counter + `', 1 WHERE NOT EXISTS (SELECT 1 FROM upd)
	ON CONFLICT (business_id, series) DO UPDATE SET last = counters.last + 1 RETURNING last
)
INSERT INTO ` + table + ` (business_id, id, pos, ` + cols + `) SELECT $1, $2, pos.last, ` + vals + ` FROM pos`
}

var (
	putReturn = listed("returns", "#return", "location_id, doc", "$3, $4", "doc = $4")
	putShift  = listed("shifts", "#shift", "location_id, till_id, open, doc", "$3, $4, $5, $6", "open = $5, doc = $6")
	// A Z is inserted only: a second row for its ID is refused by
	// zreports_pkey (ErrZReportExists).
	putZReport = `WITH pos AS (
	INSERT INTO counters (business_id, series, last) VALUES ($1, '#z', 1)
	ON CONFLICT (business_id, series) DO UPDATE SET last = counters.last + 1 RETURNING last
)
INSERT INTO zreports (business_id, id, pos, location_id, doc) SELECT $1, $2, pos.last, $3, $4 FROM pos`
)

// PutReturn implements engine.Tx: a new refund is appended to its
// business's order, which ReturnsAt lists per location.
func (t *txn) PutReturn(r *engine.Return) error {
	doc, err := encode(r)
	if err != nil {
		return err
	}
	return t.queue(r.BusinessID, putReturn, r.BusinessID, r.ID, r.LocationID, doc)
}

// ReturnsAt implements engine.Tx.
func (t *txn) ReturnsAt(biz string, f engine.SaleFilter) ([]*engine.Return, string, error) {
	return listAt(t, "returns", biz, f, func(doc []byte) (*engine.Return, error) {
		r := &engine.Return{}
		if err := json.Unmarshal(doc, r); err != nil {
			return nil, corrupt("returns", err)
		}
		r.BusinessID = biz
		return r, nil
	})
}

// listAt pages the rows of a location in a listed table by their place,
// as Sales pages sales: the cursor is the place to start at (inclusive).
func listAt[T any](t *txn, table, biz string, f engine.SaleFilter, decode func([]byte) (*T, error)) ([]*T, string, error) {
	if f.LocationID == "" {
		return nil, "", engine.FieldError("locationId", "is required")
	}
	if err := t.touch(biz); err != nil {
		return nil, "", err
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	args := []any{biz, f.LocationID}
	where := "business_id = $1 AND location_id = $2"
	if f.Cursor != "" {
		n, err := strconv.ParseUint(f.Cursor, 10, 63)
		if err != nil || n == 0 {
			return nil, "", engine.FieldError("cursor", "is not a cursor this server gave out")
		}
		args = append(args, int64(n))
		if f.Newest {
			where += " AND pos <= $3"
		} else {
			where += " AND pos >= $3"
		}
	}
	order := "ASC"
	if f.Newest {
		order = "DESC"
	}
	args = append(args, limit+1)
	sql := "SELECT pos, doc FROM " + table + " WHERE " + where + " ORDER BY pos " + order + " LIMIT $" + strconv.Itoa(len(args))
	var out []*T
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
			x, err := decode(doc)
			if err != nil {
				return err
			}
			out = append(out, x)
		}
		return rows.Err()
	})
	return out, next, err
}

// cashierRow is what a cashier's row holds.
func scanCashier(biz string, pin []byte, scheme string, doc []byte) (*engine.Cashier, error) {
	c := &engine.Cashier{}
	if err := json.Unmarshal(doc, c); err != nil {
		return nil, corrupt("cashiers", err)
	}
	c.BusinessID = biz
	if pin != nil {
		copy(c.PIN[:], pin)
		c.PINScheme = scheme
	}
	return c, nil
}

func (t *txn) cashierWhere(what, where string, args ...any) (*engine.Cashier, error) {
	if err := t.touch(args[0].(string)); err != nil {
		return nil, err
	}
	var pin []byte
	var scheme string
	var doc []byte
	found, err := t.queryRow("SELECT pin, pin_scheme, doc FROM cashiers WHERE "+where, args, &pin, &scheme, &doc)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, notFound(what)
	}
	return scanCashier(args[0].(string), pin, scheme, doc)
}

// Cashier implements engine.Tx.
func (t *txn) Cashier(biz, id string) (*engine.Cashier, error) {
	return t.cashierWhere("cashier", "business_id = $1 AND id = $2", biz, id)
}

// CashierByPIN implements engine.Tx.
func (t *txn) CashierByPIN(biz string, pin engine.PINKey) (*engine.Cashier, error) {
	return t.cashierWhere("cashier", "business_id = $1 AND pin = $2", biz, pin[:])
}

// Cashiers implements engine.Tx, in ID order.
func (t *txn) Cashiers(biz string) ([]*engine.Cashier, error) {
	if err := t.touch(biz); err != nil {
		return nil, err
	}
	var out []*engine.Cashier
	err := t.query("SELECT pin, pin_scheme, doc FROM cashiers WHERE business_id = $1 ORDER BY id", []any{biz}, func(rows pgx.Rows) error {
		out = nil
		for rows.Next() {
			var pin []byte
			var scheme string
			var doc []byte
			if err := rows.Scan(&pin, &scheme, &doc); err != nil {
				return err
			}
			c, err := scanCashier(biz, pin, scheme, doc)
			if err != nil {
				return err
			}
			out = append(out, c)
		}
		return rows.Err()
	})
	return out, err
}

// PutCashier implements engine.Tx: the PIN's key is the row's pin column,
// so the index follows the cashier by itself, and cashiers_pin_key
// refuses a key another cashier of the business holds (ErrDuplicatePIN).
func (t *txn) PutCashier(c *engine.Cashier) error {
	doc, err := encode(c)
	if err != nil {
		return err
	}
	var pin []byte
	scheme := ""
	if c.HasPIN {
		pin, scheme = c.PIN[:], c.PINScheme
	}
	return t.queue(c.BusinessID, `INSERT INTO cashiers (business_id, id, pin, pin_scheme, doc) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (business_id, id) DO UPDATE SET pin = excluded.pin, pin_scheme = excluded.pin_scheme, doc = excluded.doc`,
		c.BusinessID, c.ID, pin, scheme, doc)
}

// Approval implements engine.Tx.
func (t *txn) Approval(biz, id string) (*engine.Approval, error) {
	a := &engine.Approval{}
	if err := t.getDoc("approvals", "approval", biz, id, a); err != nil {
		return nil, err
	}
	a.BusinessID = biz
	return a, nil
}

// PutApproval implements engine.Tx.
func (t *txn) PutApproval(a *engine.Approval) error {
	return t.putDoc("approvals", a.BusinessID, a.ID, a)
}

// Shift implements engine.Tx.
func (t *txn) Shift(biz, id string) (*engine.Shift, error) {
	s := &engine.Shift{}
	if err := t.getDoc("shifts", "shift", biz, id, s); err != nil {
		return nil, err
	}
	s.BusinessID = biz
	return s, nil
}

// errNoOpenShift is the answer for most tills most of the time.
var errNoOpenShift = notFound("open shift")

// queueOpenShifts queues, with a business's lock, the read of its open
// shifts (one per till at most, a few per business).
func queueOpenShifts(b *pgx.Batch, biz string, st *bizState) {
	b.Queue("SELECT till_id, id, location_id FROM shifts WHERE business_id = $1 AND open", biz).Query(func(rows pgx.Rows) error {
		st.openShifts = map[string]engine.ShiftRef{}
		for rows.Next() {
			var till string
			var ref engine.ShiftRef
			if err := rows.Scan(&till, &ref.ID, &ref.LocationID); err != nil {
				return err
			}
			st.openShifts[till] = ref
		}
		return rows.Err()
	})
}

// OpenShift implements engine.Tx: in a write transaction from what the
// lock's round trip read (and the transaction's own PutShift since).
func (t *txn) OpenShift(biz, till string) (engine.ShiftRef, error) {
	if t.writable {
		st, err := t.state(biz)
		if err != nil {
			return engine.ShiftRef{}, err
		}
		if ref, ok := st.openShifts[till]; ok {
			return ref, nil
		}
		return engine.ShiftRef{}, errNoOpenShift
	}
	var ref engine.ShiftRef
	found, err := t.queryRow("SELECT id, location_id FROM shifts WHERE business_id = $1 AND till_id = $2 AND open", []any{biz, till}, &ref.ID, &ref.LocationID)
	if err != nil {
		return engine.ShiftRef{}, err
	}
	if !found {
		return engine.ShiftRef{}, errNoOpenShift
	}
	return ref, nil
}

// Shifts implements engine.Tx.
func (t *txn) Shifts(biz string, f engine.SaleFilter) ([]*engine.Shift, string, error) {
	return listAt(t, "shifts", biz, f, func(doc []byte) (*engine.Shift, error) {
		s := &engine.Shift{}
		if err := json.Unmarshal(doc, s); err != nil {
			return nil, corrupt("shifts", err)
		}
		s.BusinessID = biz
		return s, nil
	})
}

// PutShift implements engine.Tx: a new shift is appended to its business's
// order; the row's open flag is the till's open-shift index, which
// shifts_open_till keeps to one per till. A second open shift of a till is
// refused at once from the lock's read, as the embedded store refuses it.
func (t *txn) PutShift(s *engine.Shift) error {
	st, err := t.state(s.BusinessID)
	if err != nil {
		return err
	}
	open := s.Status == engine.ShiftOpen
	cur, has := st.openShifts[s.TillID]
	if open && has && cur.ID != s.ID {
		return engine.ErrShiftOpen
	}
	doc, err := encode(s)
	if err != nil {
		return err
	}
	if err := t.queue(s.BusinessID, putShift, s.BusinessID, s.ID, s.LocationID, s.TillID, open, doc); err != nil {
		return err
	}
	if open {
		st.openShifts[s.TillID] = engine.ShiftRef{ID: s.ID, LocationID: s.LocationID}
	} else if has && cur.ID == s.ID {
		delete(st.openShifts, s.TillID)
	}
	return nil
}

// ZReport implements engine.Tx.
func (t *txn) ZReport(biz, id string) (*engine.ZReport, error) {
	z := &engine.ZReport{}
	if err := t.getDoc("zreports", "Z report", biz, id, z); err != nil {
		return nil, err
	}
	z.BusinessID = biz
	return z, nil
}

// ZReports implements engine.Tx.
func (t *txn) ZReports(biz string, f engine.SaleFilter) ([]*engine.ZReport, string, error) {
	return listAt(t, "zreports", biz, f, func(doc []byte) (*engine.ZReport, error) {
		z := &engine.ZReport{}
		if err := json.Unmarshal(doc, z); err != nil {
			return nil, corrupt("zreports", err)
		}
		z.BusinessID = biz
		return z, nil
	})
}

// PutZReport implements engine.Tx: a Z is written once.
func (t *txn) PutZReport(z *engine.ZReport) error {
	doc, err := encode(z)
	if err != nil {
		return err
	}
	return t.queue(z.BusinessID, putZReport, z.BusinessID, z.ID, z.LocationID, doc)
}
