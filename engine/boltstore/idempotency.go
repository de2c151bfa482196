package boltstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"time"

	"posd/engine"
)

// Idempotency implements engine.Tx.
func (t *txn) Idempotency(biz, k string) (*engine.IdempotencyRecord, error) {
	if brokenNoIdempotencyLookup {
		return nil, notFound("idempotency record")
	}
	r := new(engine.IdempotencyRecord)
	if err := t.getJSON(bIdem, key(biz, k), "idempotency record", r); err != nil {
		return nil, err
	}
	r.BusinessID = biz
	return r, nil
}

// PutIdempotency implements engine.Tx. It refuses a second record for a
// key: the storage-level guarantee of one document per key.
func (t *txn) PutIdempotency(r *engine.IdempotencyRecord) error {
	k := key(r.BusinessID, r.Key)
	if t.get(bIdem, k) != nil && !brokenNoIdempotencyLookup {
		return engine.ErrDuplicateKey
	}
	if err := t.putJSON(bIdem, k, r); err != nil {
		return err
	}
	if len(r.Body) == 0 {
		return nil
	}
	return t.put(bIdemExp, expKey(r.ExpiresAt, r.BusinessID, r.Key), []byte{})
}

// Idempotencies implements engine.Tx.
func (t *txn) Idempotencies(biz string, fn func(*engine.IdempotencyRecord) error) error {
	return t.scan(bIdem, prefix(biz), nil, false, func(_, v []byte) error {
		r := new(engine.IdempotencyRecord)
		if err := json.Unmarshal(v, r); err != nil {
			return corrupt(bIdem, err)
		}
		r.BusinessID = biz
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
			if r, err := t.Idempotency(biz, ik); err == nil {
				r.Body = nil
				if err := t.putJSON(bIdem, key(biz, ik), r); err != nil {
					return err
				}
			} else if !engine.IsNotFound(err) {
				return err
			}
			n++
			return t.del(bIdemExp, bytes.Clone(k))
		})
	})
	return n, err
}

// expiry returns the time encoded in an expiry key.
func expiry(k []byte) time.Time { return time.UnixMilli(int64(binary.BigEndian.Uint64(k[:8]))) }
