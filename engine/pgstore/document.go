package pgstore

import (
	"encoding/json"

	"posd/engine"
)

// getDoc reads one document of a business's documents table into v.
func (t *txn) getDoc(table, what, biz, id string, v any) error {
	if err := t.touch(biz); err != nil {
		return err
	}
	var doc []byte
	found, err := t.queryRow("SELECT doc FROM "+table+" WHERE business_id = $1 AND id = $2", []any{biz, id}, &doc)
	if err != nil {
		return err
	}
	if !found {
		return notFound(what)
	}
	if err := json.Unmarshal(doc, v); err != nil {
		return corrupt(table, err)
	}
	return nil
}

// putDoc stores a document in a business's documents table.
func (t *txn) putDoc(table, biz, id string, v any) error {
	doc, err := encode(v)
	if err != nil {
		return err
	}
	return t.queue(biz, "INSERT INTO "+table+" (business_id, id, doc) VALUES ($1, $2, $3) ON CONFLICT (business_id, id) DO UPDATE SET doc = excluded.doc", biz, id, doc)
}

// Return implements engine.Tx.
func (t *txn) Return(biz, id string) (*engine.Return, error) {
	r := &engine.Return{}
	if err := t.getDoc("returns", "return", biz, id, r); err != nil {
		return nil, err
	}
	r.BusinessID = biz
	return r, nil
}

// Receipt implements engine.Tx.
func (t *txn) Receipt(biz, id string) (*engine.Receipt, error) {
	r := &engine.Receipt{}
	if err := t.getDoc("receipts", "receipt", biz, id, r); err != nil {
		return nil, err
	}
	r.BusinessID = biz
	return r, nil
}

// PutReceipt implements engine.Tx.
func (t *txn) PutReceipt(r *engine.Receipt) error { return t.putDoc("receipts", r.BusinessID, r.ID, r) }

// Transfer implements engine.Tx.
func (t *txn) Transfer(biz, id string) (*engine.Transfer, error) {
	x := &engine.Transfer{}
	if err := t.getDoc("transfers", "transfer", biz, id, x); err != nil {
		return nil, err
	}
	x.BusinessID = biz
	return x, nil
}

// PutTransfer implements engine.Tx.
func (t *txn) PutTransfer(x *engine.Transfer) error {
	return t.putDoc("transfers", x.BusinessID, x.ID, x)
}

// Adjustment implements engine.Tx.
func (t *txn) Adjustment(biz, id string) (*engine.Adjustment, error) {
	a := &engine.Adjustment{}
	if err := t.getDoc("adjustments", "adjustment", biz, id, a); err != nil {
		return nil, err
	}
	a.BusinessID = biz
	return a, nil
}

// PutAdjustment implements engine.Tx.
func (t *txn) PutAdjustment(a *engine.Adjustment) error {
	return t.putDoc("adjustments", a.BusinessID, a.ID, a)
}

// Returns implements engine.Tx, in ID order.
func (t *txn) Returns(biz string, fn func(*engine.Return) error) error {
	return eachDoc(t, "returns", biz, func(doc []byte) error {
		r := &engine.Return{}
		if err := json.Unmarshal(doc, r); err != nil {
			return corrupt("returns", err)
		}
		r.BusinessID = biz
		return fn(r)
	})
}

// Receipts implements engine.Tx, in ID order.
func (t *txn) Receipts(biz string, fn func(*engine.Receipt) error) error {
	return eachDoc(t, "receipts", biz, func(doc []byte) error {
		r := &engine.Receipt{}
		if err := json.Unmarshal(doc, r); err != nil {
			return corrupt("receipts", err)
		}
		r.BusinessID = biz
		return fn(r)
	})
}

// Transfers implements engine.Tx, in ID order.
func (t *txn) Transfers(biz string, fn func(*engine.Transfer) error) error {
	return eachDoc(t, "transfers", biz, func(doc []byte) error {
		x := &engine.Transfer{}
		if err := json.Unmarshal(doc, x); err != nil {
			return corrupt("transfers", err)
		}
		x.BusinessID = biz
		return fn(x)
	})
}

// adjustments calls fn for every adjustment (for the store's own tools:
// engine.Tx has no iterator of them).
func (t *txn) adjustments(biz string, fn func(*engine.Adjustment) error) error {
	return eachDoc(t, "adjustments", biz, func(doc []byte) error {
		a := &engine.Adjustment{}
		if err := json.Unmarshal(doc, a); err != nil {
			return corrupt("adjustments", err)
		}
		a.BusinessID = biz
		return fn(a)
	})
}
