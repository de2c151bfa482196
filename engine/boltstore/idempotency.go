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
// inline.

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
			r.Body = bytes.Clone(body)
		}
	}
	return r, nil
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
	return t.put(bIdemExp, expKey(r.ExpiresAt, r.BusinessID, r.Key), r.Body)
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
