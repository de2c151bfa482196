package boltstore

import (
	"bytes"
	"context"
	"time"

	"posd/engine"
)

// Idempotency records are kept small, in the random-keyed idem bucket
// (the keys are the clients' UUIDs), while the full first answer they may
// replay lives in idem_exp under its expiry time: that bucket is written in
// time order, so answers pack full pages, and the sweeper drops expired
// answers by deleting from its front instead of rewriting records spread
// over the whole file. A schema-1 record (JSON) still carries its answer
// inline. Since schema 3 the answer to a new sale is kept as the compact
// sale it renders from (answerValue).

// Idempotency implements engine.Tx.
func (t *txn) Idempotency(biz, k string) (*engine.IdempotencyRecord, error) {
	b := t.get(bIdem, key(biz, k))
	if b == nil || brokenNoIdempotencyLookup {
		return nil, notFound("idempotency record")
	}
	return t.idempotency(biz, k, b)
}

// idempotency decodes a stored record and finds its answer.
func (t *txn) idempotency(biz, k string, b []byte) (*engine.IdempotencyRecord, error) {
	r, err := decodeIdempotency(b)
	if err != nil {
		return nil, corrupt(bIdem, err)
	}
	r.BusinessID = biz
	if b[0] == tagIdempotency {
		if body := t.get(bIdemExp, expKey(r.ExpiresAt, biz, k)); len(body) > 0 {
			if r.Body, err = answer(body); err != nil {
				return nil, corrupt(bIdemExp, err)
			}
		}
	}
	return r, nil
}

// answerValue is what idem_exp keeps of a record's answer. The answer to a
// new sale is the JSON of the sale just written in this transaction; it is
// kept in the sale's compact encoding (less than half the bytes, and the
// largest value a sale writes) when that provably renders back to the very
// same bytes, and as it is otherwise.
func (t *txn) answerValue(r *engine.IdempotencyRecord) []byte {
	if r.Doc.Kind != engine.KindSale || len(r.Body) == 0 || r.Body[0] != '{' {
		return r.Body
	}
	v := t.get(bSales, key(r.BusinessID, r.Doc.ID))
	if len(v) == 0 || v[0] != tagSale {
		return r.Body
	}
	var s engine.Sale
	if decodeSale(v, &s) != nil || !bytes.Equal(s.AppendJSON(make([]byte, 0, len(r.Body))), r.Body) {
		return r.Body
	}
	return bytes.Clone(v)
}

// answer turns an idem_exp value back into the answer's bytes.
func answer(v []byte) ([]byte, error) {
	if v[0] != tagSale {
		return bytes.Clone(v), nil
	}
	var s engine.Sale
	if err := decodeSale(v, &s); err != nil {
		return nil, err
	}
	return s.AppendJSON(make([]byte, 0, 1024)), nil
}

// PutIdempotency implements engine.Tx. It refuses a second record for a
// key: the storage-level guarantee of one document per key.
func (t *txn) PutIdempotency(r *engine.IdempotencyRecord) error {
	k := key(r.BusinessID, r.Key)
	if t.get(bIdem, k) != nil && !brokenNoIdempotencyLookup {
		return engine.ErrDuplicateKey
	}
	if err := t.put(bIdem, k, encodeIdempotency(r)); err != nil {
		return err
	}
	if len(r.Body) == 0 {
		return nil
	}
	return t.put(bIdemExp, expKey(r.ExpiresAt, r.BusinessID, r.Key), t.answerValue(r))
}

// Idempotencies implements engine.Tx.
func (t *txn) Idempotencies(biz string, fn func(*engine.IdempotencyRecord) error) error {
	p := prefix(biz)
	return t.scan(bIdem, p, nil, false, func(k, v []byte) error {
		r, err := t.idempotency(biz, string(k[len(p):]), v)
		if err != nil {
			return err
		}
		return fn(r)
	})
}

func expKey(at time.Time, biz, k string) []byte {
	return append(seqKey(nil, uint64(at.UnixMilli())), key("", biz, k)...)
}

// SweepIdempotency implements engine.Store. It walks the expiry index from
// the oldest entry, so each call touches only records that are due.
func (s *Store) SweepIdempotency(ctx context.Context, before time.Time, limit int) (int, error) {
	n := 0
	err := s.update(ctx, func(t *txn) error {
		n = 0
		limitKey := seqKey(nil, uint64(before.UnixMilli()))
		return t.scan(bIdemExp, nil, nil, false, func(k, _ []byte) error {
			if n == limit || bytes.Compare(k[:8], limitKey) >= 0 {
				return errStop
			}
			parts := bytes.SplitN(k[9:], []byte{0}, 2)
			if len(parts) != 2 {
				return corrupt(bIdemExp, errMissing(string(k)))
			}
			biz, ik := string(parts[0]), string(parts[1])
			// A schema-1 record holds its answer inline: rewrite it
			// without. A compact one loses its answer with this entry.
			if b := t.get(bIdem, key(biz, ik)); len(b) > 0 && b[0] == '{' {
				r, err := decodeIdempotency(b)
				if err != nil {
					return corrupt(bIdem, err)
				}
				r.BusinessID, r.Body = biz, nil
				if err := t.put(bIdem, key(biz, ik), encodeIdempotency(r)); err != nil {
					return err
				}
			}
			n++
			return t.del(bIdemExp, bytes.Clone(k))
		})
	})
	return n, err
}
