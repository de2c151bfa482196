package boltstore

import (
	"bytes"
	"encoding/json"
	"strings"

	"posd/engine"
)

// Return implements engine.Tx.
func (t *txn) Return(biz, id string) (*engine.Return, error) {
	r := new(engine.Return)
	if err := t.getJSON(bReturns, key(biz, id), "return", r); err != nil {
		return nil, err
	}
	r.BusinessID = biz
	return r, nil
}

// PutReturn implements engine.Tx. A new return is appended to its
// location's list (ReturnsAt).
func (t *txn) PutReturn(r *engine.Return) error {
	k := key(r.BusinessID, r.ID)
	if t.get(bReturns, k) == nil {
		if err := t.indexReturn(r); err != nil {
			return err
		}
	}
	return t.putJSON(bReturns, k, r)
}

// ListReturns implements engine.Tx. Refunds are keyed biz\0id and their
// IDs begin with the creation millisecond, so the bucket is already in the
// order they were made: a page is a range of it. The cursor is the ID of
// the next refund.
func (t *txn) ListReturns(biz string, f engine.ReturnFilter) ([]*engine.Return, string, error) {
	p := prefix(biz)
	var from []byte
	if f.Cursor != "" {
		if len(f.Cursor) > 64 || strings.IndexByte(f.Cursor, 0) >= 0 {
			return nil, "", engine.FieldError("cursor", "is not a cursor this server gave out")
		}
		from = append(bytes.Clone(p), f.Cursor...)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	var out []*engine.Return
	next := ""
	err := t.scan(bReturns, p, from, f.Newest, func(k, v []byte) error {
		if len(out) == limit {
			next = string(k[len(p):])
			return errStop
		}
		r := &engine.Return{}
		if err := json.Unmarshal(v, r); err != nil {
			return corrupt(bReturns, err)
		}
		r.BusinessID = biz
		out = append(out, r)
		return nil
	})
	return out, next, err
}

// Receipt implements engine.Tx.
func (t *txn) Receipt(biz, id string) (*engine.Receipt, error) {
	r := new(engine.Receipt)
	if err := t.getJSON(bReceipts, key(biz, id), "receipt", r); err != nil {
		return nil, err
	}
	r.BusinessID = biz
	return r, nil
}

// PutReceipt implements engine.Tx.
func (t *txn) PutReceipt(r *engine.Receipt) error {
	return t.putJSON(bReceipts, key(r.BusinessID, r.ID), r)
}

// Transfer implements engine.Tx.
func (t *txn) Transfer(biz, id string) (*engine.Transfer, error) {
	x := new(engine.Transfer)
	if err := t.getJSON(bTransfers, key(biz, id), "transfer", x); err != nil {
		return nil, err
	}
	x.BusinessID = biz
	return x, nil
}

// PutTransfer implements engine.Tx.
func (t *txn) PutTransfer(x *engine.Transfer) error {
	return t.putJSON(bTransfers, key(x.BusinessID, x.ID), x)
}

// Adjustment implements engine.Tx.
func (t *txn) Adjustment(biz, id string) (*engine.Adjustment, error) {
	a := new(engine.Adjustment)
	if err := t.getJSON(bAdjustments, key(biz, id), "adjustment", a); err != nil {
		return nil, err
	}
	a.BusinessID = biz
	return a, nil
}

// PutAdjustment implements engine.Tx.
func (t *txn) PutAdjustment(a *engine.Adjustment) error {
	return t.putJSON(bAdjustments, key(a.BusinessID, a.ID), a)
}

// AllSales implements engine.Scanner.
func (t *txn) AllSales(biz string, fn func(*engine.Sale) error) error {
	return t.scan(bSales, prefix(biz), nil, false, func(_, v []byte) error {
		s := &engine.Sale{BusinessID: biz}
		if err := decodeSale(v, s); err != nil {
			return corrupt(bSales, err)
		}
		return fn(s)
	})
}

// Returns implements engine.Scanner.
func (t *txn) Returns(biz string, fn func(*engine.Return) error) error {
	return each(t, bReturns, biz, func(r *engine.Return) error { r.BusinessID = biz; return fn(r) })
}

// Receipts implements engine.Scanner.
func (t *txn) Receipts(biz string, fn func(*engine.Receipt) error) error {
	return each(t, bReceipts, biz, func(r *engine.Receipt) error { r.BusinessID = biz; return fn(r) })
}

// Transfers implements engine.Scanner.
func (t *txn) Transfers(biz string, fn func(*engine.Transfer) error) error {
	return each(t, bTransfers, biz, func(x *engine.Transfer) error { x.BusinessID = biz; return fn(x) })
}
