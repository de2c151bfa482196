package boltstore

import "posd/engine"

// Return implements engine.Tx.
func (t *txn) Return(biz, id string) (*engine.Return, error) {
	r := new(engine.Return)
	if err := t.getJSON(bReturns, key(biz, id), "return", r); err != nil {
		return nil, err
	}
	r.BusinessID = biz
	return r, nil
}

// PutReturn implements engine.Tx.
func (t *txn) PutReturn(r *engine.Return) error {
	return t.putJSON(bReturns, key(r.BusinessID, r.ID), r)
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
