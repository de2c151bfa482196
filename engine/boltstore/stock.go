package boltstore

import "posd/engine"

// Stock implements engine.Tx.
func (t *txn) Stock(biz, loc, product string) (engine.Quantity, error) {
	return engine.Quantity(int64(u64(t.get(bStock, key(biz, loc, product))))), nil
}

// StockAt implements engine.Tx.
func (t *txn) StockAt(biz, loc string) ([]engine.StockLevel, error) {
	p := prefix(biz, loc)
	var out []engine.StockLevel
	err := t.scan(bStock, p, nil, false, func(k, v []byte) error {
		out = append(out, engine.StockLevel{ProductID: string(k[len(p):]), Quantity: engine.Quantity(int64(u64(v)))})
		return nil
	})
	return out, err
}

// AddMovement implements engine.Tx: the ledger entry and the stock change
// are written together.
func (t *txn) AddMovement(m *engine.Movement) error {
	seq, err := t.nextSeq(m.BusinessID, "move")
	if err != nil {
		return err
	}
	if err := t.put(bMoves, t.seqKey(seq, m.BusinessID), encodeMovement(m)); err != nil {
		return err
	}
	k := t.key(m.BusinessID, m.LocationID, m.ProductID)
	q := engine.Quantity(int64(u64(t.get(bStock, k)))) + m.Quantity
	return t.put(bStock, k, t.u64bytes(uint64(int64(q))))
}

// Movements implements engine.Scanner.
func (t *txn) Movements(biz string, fn func(*engine.Movement) error) error {
	return t.scan(bMoves, prefix(biz), nil, false, func(_, v []byte) error {
		m, err := decodeMovement(v)
		if err != nil {
			return corrupt(bMoves, err)
		}
		m.BusinessID = biz
		return fn(m)
	})
}
