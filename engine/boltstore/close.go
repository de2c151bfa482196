package boltstore

import (
	"encoding/binary"
	"encoding/json"
	"strconv"

	bolt "go.etcd.io/bbolt"

	"posd/engine"
)

// Buckets of the day's close (schema 5): cashiers, approvals, shifts, Z
// reports, and the refunds of each location in stored order. They are made
// when a file is opened for writing and may be missing from a file of an
// older posd that verify or backup opens read-only: they are not in
// allBuckets, and reads treat a missing bucket as empty (txn.get, scan).
const (
	bCashiers   = "cashiers"     // biz\0id → storedCashier (JSON)
	bCashierPIN = "cashier_pins" // biz\0PIN key (32 bytes) → cashier id
	bApprovals  = "approvals"    // biz\0id → Approval (JSON)
	bShifts     = "shifts"       // biz\0id → Shift (JSON)
	bShiftLoc   = "shift_loc"    // biz\0loc\0seq → shift id, in the order opened (seq from #shift)
	bShiftOpen  = "shift_open"   // biz\0till → shift id\0location id, while the shift is open
	bZReports   = "zreports"     // biz\0id → ZReport (JSON)
	bZLoc       = "z_loc"        // biz\0loc\0seq → Z id (seq from #z)
	bReturnLoc  = "ret_loc"      // biz\0loc\0seq → return id, in stored order (seq from #return)
)

var closeBuckets = []string{bCashiers, bCashierPIN, bApprovals, bShifts, bShiftLoc, bShiftOpen, bZReports, bZLoc, bReturnLoc}

func init() {
	fillPercent[bShiftLoc] = 1.0
	fillPercent[bZLoc] = 1.0
	fillPercent[bReturnLoc] = 1.0
}

// storedCashier is a cashier as kept on disk, with its PIN's key.
type storedCashier struct {
	engine.Cashier
	Business string `json:"businessId"`
	PIN      []byte `json:"pin,omitempty"`
	Scheme   string `json:"pinScheme,omitempty"`
}

func (t *txn) cashierAt(biz string, k []byte) (*engine.Cashier, error) {
	var sc storedCashier
	if err := t.getJSON(bCashiers, k, "cashier", &sc); err != nil {
		return nil, err
	}
	c := sc.Cashier
	c.BusinessID = biz
	copy(c.PIN[:], sc.PIN)
	c.PINScheme = sc.Scheme
	return &c, nil
}

// Cashier implements engine.Tx.
func (t *txn) Cashier(biz, id string) (*engine.Cashier, error) { return t.cashierAt(biz, key(biz, id)) }

// CashierByPIN implements engine.Tx.
func (t *txn) CashierByPIN(biz string, pin engine.PINKey) (*engine.Cashier, error) {
	id := t.get(bCashierPIN, key(biz, string(pin[:])))
	if id == nil {
		return nil, notFound("cashier")
	}
	return t.cashierAt(biz, key(biz, string(id)))
}

// Cashiers implements engine.Tx.
func (t *txn) Cashiers(biz string) ([]*engine.Cashier, error) {
	var out []*engine.Cashier
	err := t.scan(bCashiers, prefix(biz), nil, false, func(k, _ []byte) error {
		c, err := t.cashierAt(biz, k)
		if err != nil {
			return err
		}
		out = append(out, c)
		return nil
	})
	return out, err
}

// PutCashier implements engine.Tx: the PIN index follows the cashier, and
// refuses a PIN key another cashier of the business holds.
func (t *txn) PutCashier(c *engine.Cashier) error {
	k := key(c.BusinessID, c.ID)
	if old, err := t.cashierAt(c.BusinessID, k); err == nil && old.HasPIN && old.PIN != c.PIN {
		if err := t.del(bCashierPIN, key(c.BusinessID, string(old.PIN[:]))); err != nil {
			return err
		}
	} else if err != nil && !engine.IsNotFound(err) {
		return err
	}
	if c.HasPIN {
		pk := key(c.BusinessID, string(c.PIN[:]))
		if owner := t.get(bCashierPIN, pk); owner != nil && string(owner) != c.ID {
			return engine.ErrDuplicatePIN
		}
		if err := t.put(bCashierPIN, pk, []byte(c.ID)); err != nil {
			return err
		}
	}
	sc := storedCashier{Cashier: *c, Business: c.BusinessID}
	if c.HasPIN {
		sc.PIN, sc.Scheme = c.PIN[:], c.PINScheme
	}
	return t.putJSON(bCashiers, k, sc)
}

// Approval implements engine.Tx.
func (t *txn) Approval(biz, id string) (*engine.Approval, error) {
	a := new(engine.Approval)
	if err := t.getJSON(bApprovals, key(biz, id), "approval", a); err != nil {
		return nil, err
	}
	a.BusinessID = biz
	return a, nil
}

// PutApproval implements engine.Tx.
func (t *txn) PutApproval(a *engine.Approval) error {
	return t.putJSON(bApprovals, key(a.BusinessID, a.ID), a)
}

// Shift implements engine.Tx.
func (t *txn) Shift(biz, id string) (*engine.Shift, error) {
	s := new(engine.Shift)
	if err := t.getJSON(bShifts, key(biz, id), "shift", s); err != nil {
		return nil, err
	}
	s.BusinessID = biz
	return s, nil
}

// errNoOpenShift is the answer for most tills most of the time, made once:
// callers only read its code.
var errNoOpenShift = notFound("open shift")

// OpenShift implements engine.Tx: one small read, since every sale of a
// till asks it.
func (t *txn) OpenShift(biz, till string) (engine.ShiftRef, error) {
	v := t.get(bShiftOpen, t.key(biz, till))
	if v == nil {
		return engine.ShiftRef{}, errNoOpenShift
	}
	for i, c := range v {
		if c == 0 {
			return engine.ShiftRef{ID: string(v[:i]), LocationID: string(v[i+1:])}, nil
		}
	}
	return engine.ShiftRef{}, corrupt(bShiftOpen, errMissing(string(v)))
}

// PutShift implements engine.Tx: a new shift is appended to its location's
// list; the till's open-shift entry is set while it is open.
func (t *txn) PutShift(s *engine.Shift) error {
	k := key(s.BusinessID, s.ID)
	if t.get(bShifts, k) == nil {
		seq, err := t.nextSeq(s.BusinessID, "shift")
		if err != nil {
			return err
		}
		if err := t.put(bShiftLoc, seqKey(prefix(s.BusinessID, s.LocationID), seq), []byte(s.ID)); err != nil {
			return err
		}
	}
	ok := key(s.BusinessID, s.TillID)
	cur := t.get(bShiftOpen, ok)
	mine := cur != nil && len(cur) > len(s.ID) && string(cur[:len(s.ID)]) == s.ID && cur[len(s.ID)] == 0
	switch {
	case s.Status == engine.ShiftOpen && cur != nil && !mine:
		return engine.ErrShiftOpen
	case s.Status == engine.ShiftOpen:
		if err := t.put(bShiftOpen, ok, key(s.ID, s.LocationID)); err != nil {
			return err
		}
	case mine:
		if err := t.del(bShiftOpen, ok); err != nil {
			return err
		}
	}
	return t.putJSON(bShifts, k, s)
}

// Shifts implements engine.Tx.
func (t *txn) Shifts(biz string, f engine.SaleFilter) ([]*engine.Shift, string, error) {
	return listByLocation(t, bShiftLoc, biz, f, t.Shift)
}

// ZReport implements engine.Tx.
func (t *txn) ZReport(biz, id string) (*engine.ZReport, error) {
	z := new(engine.ZReport)
	if err := t.getJSON(bZReports, key(biz, id), "Z report", z); err != nil {
		return nil, err
	}
	z.BusinessID = biz
	return z, nil
}

// ZReports implements engine.Tx.
func (t *txn) ZReports(biz string, f engine.SaleFilter) ([]*engine.ZReport, string, error) {
	return listByLocation(t, bZLoc, biz, f, t.ZReport)
}

// PutZReport implements engine.Tx: a Z is written once.
func (t *txn) PutZReport(z *engine.ZReport) error {
	k := key(z.BusinessID, z.ID)
	if t.get(bZReports, k) != nil {
		return engine.ErrZReportExists
	}
	seq, err := t.nextSeq(z.BusinessID, "z")
	if err != nil {
		return err
	}
	if err := t.put(bZLoc, seqKey(prefix(z.BusinessID, z.LocationID), seq), []byte(z.ID)); err != nil {
		return err
	}
	return t.putJSON(bZReports, k, z)
}

// ReturnsAt implements engine.Tx.
func (t *txn) ReturnsAt(biz string, f engine.SaleFilter) ([]*engine.Return, string, error) {
	return listByLocation(t, bReturnLoc, biz, f, t.Return)
}

// indexReturn appends a new return to its location's list.
func (t *txn) indexReturn(r *engine.Return) error {
	seq, err := t.nextSeq(r.BusinessID, "return")
	if err != nil {
		return err
	}
	return t.put(bReturnLoc, seqKey(prefix(r.BusinessID, r.LocationID), seq), []byte(r.ID))
}

// listByLocation pages a per-location list (biz\0loc\0seq → id) as Sales
// pages sales: the cursor is the list position to start at.
func listByLocation[T any](t *txn, bucket, biz string, f engine.SaleFilter, get func(biz, id string) (*T, error)) ([]*T, string, error) {
	if f.LocationID == "" {
		return nil, "", engine.FieldError("locationId", "is required")
	}
	p := prefix(biz, f.LocationID)
	var from []byte
	if f.Cursor != "" {
		seq, err := strconv.ParseUint(f.Cursor, 10, 64)
		if err != nil || seq == 0 {
			return nil, "", engine.FieldError("cursor", "is not a cursor this server gave out")
		}
		from = seqKey(p, seq)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	var out []*T
	next := ""
	err := t.scan(bucket, p, from, f.Newest, func(k, v []byte) error {
		if len(out) == limit {
			next = strconv.FormatUint(binary.BigEndian.Uint64(k[len(k)-8:]), 10)
			return errStop
		}
		x, err := get(biz, string(v))
		if engine.IsNotFound(err) {
			return corrupt(bucket, errMissing(string(v)))
		}
		if err != nil {
			return err
		}
		out = append(out, x)
		return nil
	})
	return out, next, err
}

// indexOldReturns lists the returns of a file written before schema 5 in
// their locations' lists, in ID order: IDs are time-ordered (NewID), which
// is the order they were stored in up to a millisecond. It runs once, when
// such a file is first opened for writing.
func indexOldReturns(tx *bolt.Tx) error {
	rb, idx, ctr := tx.Bucket([]byte(bReturns)), tx.Bucket([]byte(bReturnLoc)), tx.Bucket([]byte(bCounters))
	if rb == nil || idx == nil || ctr == nil {
		return nil
	}
	idx.FillPercent = 1.0
	c := rb.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		var r engine.Return
		if err := json.Unmarshal(v, &r); err != nil {
			return corrupt(bReturns, err)
		}
		biz := string(k[:len(k)-len(r.ID)-1])
		ck := key(biz, "#return")
		seq := u64(ctr.Get(ck)) + 1
		if err := ctr.Put(ck, u64bytes(seq)); err != nil {
			return err
		}
		if err := idx.Put(seqKey(prefix(biz, r.LocationID), seq), []byte(r.ID)); err != nil {
			return err
		}
	}
	return nil
}
