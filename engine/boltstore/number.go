package boltstore

import "posd/engine"

// NextNumber implements engine.Tx: a get and a put of the series counter in
// the operation's overlay. The single writer makes the pair atomic; a
// failed operation's overlay is dropped, and its number with it.
func (t *txn) NextNumber(biz string, s engine.Series) (uint64, error) {
	k := t.key(biz, string(s))
	n := u64(t.get(bCounters, k)) + 1
	return n, t.put(bCounters, k, t.u64bytes(n))
}

// ClaimNumber implements engine.Tx: the uniqueness of a number is checked
// here, inside the write transaction, whatever the caller believes.
func (t *txn) ClaimNumber(biz, number string, ref engine.DocRef) error {
	k := t.key(biz, number)
	if t.get(bNumbers, k) != nil {
		return engine.ErrDuplicateNumber
	}
	return t.put(bNumbers, k, encodeDocRef(ref))
}

// NumberOwner implements engine.Scanner.
func (t *txn) NumberOwner(biz, number string) (engine.DocRef, error) {
	b := t.get(bNumbers, key(biz, number))
	if b == nil {
		return engine.DocRef{}, notFound("document number")
	}
	ref, err := decodeDocRef(b)
	if err != nil {
		return engine.DocRef{}, corrupt(bNumbers, err)
	}
	return ref, nil
}

// Series implements engine.Scanner.
func (t *txn) Series(biz string) (map[engine.Series]uint64, error) {
	p := prefix(biz)
	out := map[engine.Series]uint64{}
	err := t.scan(bCounters, p, nil, false, func(k, v []byte) error {
		if name := string(k[len(p):]); len(name) > 0 && name[0] != '#' {
			out[engine.Series(name)] = u64(v)
		}
		return nil
	})
	return out, err
}

// Numbers implements engine.Scanner.
func (t *txn) Numbers(biz string, fn func(string, engine.DocRef) error) error {
	p := prefix(biz)
	return t.scan(bNumbers, p, nil, false, func(k, v []byte) error {
		ref, err := decodeDocRef(v)
		if err != nil {
			return corrupt(bNumbers, err)
		}
		return fn(string(k[len(p):]), ref)
	})
}

// ChainHead implements engine.Tx.
func (t *txn) ChainHead(biz string, s engine.Series) (engine.ChainHead, error) {
	b := t.get(bChains, t.key(biz, string(s)))
	if b == nil {
		return engine.ChainHead{}, nil
	}
	h, err := decodeChainHead(b)
	if err != nil {
		return engine.ChainHead{}, corrupt(bChains, err)
	}
	return h, nil
}

// SetChainHead implements engine.Tx.
func (t *txn) SetChainHead(biz string, s engine.Series, h engine.ChainHead) error {
	return t.put(bChains, t.key(biz, string(s)), encodeChainHead(h))
}
