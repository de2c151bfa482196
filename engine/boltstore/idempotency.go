package boltstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"time"

	"posd/engine"
)

// Idempotency records are kept small, in the random-keyed idem bucket
// (the keys are the clients' UUIDs), while the answer they may replay lives
// in idem_exp under its expiry time: that bucket is written in time order,
// so answers pack full pages, and the sweeper drops expired answers by
// deleting from its front instead of rewriting records spread over the
// whole file. A schema-1 record (JSON) still carries its answer inline.
//
// An answer is kept as the document it answered, in the encoding its own
// bucket uses: a sale in the compact sale encoding, any other document (and
// a created token, without its secret) as JSON. The API renders it (in the
// record's answer version) on every replay, as it rendered the first
// answer. Before schema 4 idem_exp held the answer's bytes; they were those
// very encodings (schema 3: the compact sale; schemas 1 and 2: the sale's
// JSON, which decodeSale reads too), so old answers read back the same way.
//
// Since schema 7 the answer to a new sale is not a second copy of the sale
// (a third of the bytes a sale writes) when the operation that answered
// also stored it: idem_exp then holds tagSaleAnswer and a CRC-32C of the
// sale's compact encoding as answered. A sale changes after it is made
// only by its refunds (Returns and each line's refunded quantity and
// amount, all empty when it was answered), so the answer is the stored sale
// with those emptied, and the CRC proves it is: should anything else ever
// change a stored sale, its first answer is not given with other bytes but
// read as expired (saleAnswer). (An upgrade that rewrites sales must first
// turn these answers back into copies.)

// errNoIdempotency is the answer for a key never seen, which is every new
// write's (twice: the engine looks the key up in a View and again in the
// write transaction); one value serves them all, as nothing changes an
// error once made.
var errNoIdempotency = notFound("idempotency record")

// Idempotency implements engine.Tx.
func (t *txn) Idempotency(biz, k string) (*engine.IdempotencyRecord, error) {
	kk := t.key(biz, k)
	b := t.get(bIdem, kk)
	if b == nil {
		if t.writable {
			t.absentIdem = string(kk)
		}
		return nil, errNoIdempotency
	}
	return t.idempotency(biz, k, b)
}

// idempotency decodes a stored record and its answer.
func (t *txn) idempotency(biz, k string, b []byte) (*engine.IdempotencyRecord, error) {
	r, answer, err := decodeIdempotency(b)
	if err != nil {
		return nil, corrupt(bIdem, err)
	}
	r.BusinessID = biz
	if b[0] != '{' {
		answer = t.get(bIdemExp, expKey(r.ExpiresAt, biz, k))
	}
	if len(answer) > 0 && answer[0] == tagSaleAnswer {
		s, err := t.saleAnswer(biz, r.Doc, answer)
		if err != nil {
			return nil, err
		}
		if s != nil { // a nil *Sale in r.Answer would not be a nil answer
			r.Answer = s
		}
		return r, nil
	}
	if len(answer) > 0 {
		if r.Answer, err = decodeAnswer(biz, r.Doc.Kind, answer); err != nil {
			return nil, corrupt(bIdemExp, err)
		}
	}
	return r, nil
}

// saleAnswerSize is the size of a tagSaleAnswer value: the tag and the
// CRC-32C of the answered sale's compact encoding.
const saleAnswerSize = 1 + 4

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// saleAnswer returns the answer a tagSaleAnswer value names: the stored
// sale as it was answered, before any refund. If the stored sale has since
// changed otherwise (which only tampering with the file does; verify names
// the sale by its chain), the first answer cannot be given again: it is
// treated as expired, and a retry gets the sale as it is now, as the
// contract answers a retry after the TTL, rather than an error that would
// hold a till's queue forever.
func (t *txn) saleAnswer(biz string, doc engine.DocRef, v []byte) (*engine.Sale, error) {
	if len(v) != saleAnswerSize || doc.Kind != engine.KindSale {
		return nil, corrupt(bIdemExp, fmt.Errorf("a sale answer of %d bytes for a %s", len(v), doc.Kind))
	}
	s, err := t.Sale(biz, doc.ID)
	if err != nil {
		if engine.ErrorCode(err) == engine.ENOTFOUND {
			return nil, corrupt(bIdemExp, fmt.Errorf("the answer names sale %s, which is not stored", doc.ID))
		}
		return nil, err
	}
	s.Returns = []string{}
	for i := range s.Items {
		s.Items[i].RefundedQuantity, s.Items[i].RefundedAmount = 0, 0
	}
	if crc32.Checksum(encodeSale(s), castagnoli) != binary.BigEndian.Uint32(v[1:]) {
		if t.store != nil {
			t.store.log.Warn("a kept answer no longer matches its sale, which has changed since it was answered; a retry gets the sale as it is now", "sale", doc.ID, "number", s.InvoiceNumber)
		}
		return nil, nil
	}
	return s, nil
}

// answerValue is what idem_exp keeps of r's answer: tagSaleAnswer when the
// answer is a new sale this operation stored exactly as answered, else the
// document (encodeAnswer).
func (t *txn) answerValue(r *engine.IdempotencyRecord) ([]byte, error) {
	s, ok := r.Answer.(*engine.Sale)
	if !ok || r.Doc.Kind != engine.KindSale || s.ID != r.Doc.ID || s.Returns == nil || len(s.Returns) > 0 {
		return encodeAnswer(r.Answer)
	}
	enc := encodeSale(s)
	i := t.find(bSales, t.key(r.BusinessID, s.ID))
	if i < 0 || t.writes[i].del || !bytes.Equal(t.writes[i].v, enc) {
		return enc, nil
	}
	for _, l := range s.Items {
		if l.RefundedQuantity != 0 || l.RefundedAmount != 0 {
			return enc, nil
		}
	}
	v := t.alloc(saleAnswerSize)
	v[0] = tagSaleAnswer
	binary.BigEndian.PutUint32(v[1:], crc32.Checksum(enc, castagnoli))
	return v, nil
}

// encodeAnswer is what idem_exp keeps of an answered document.
func encodeAnswer(doc any) ([]byte, error) {
	if s, ok := doc.(*engine.Sale); ok {
		return encodeSale(s), nil
	}
	b, err := json.Marshal(doc)
	if err != nil {
		return nil, &engine.Error{Code: engine.EINTERNAL, Err: err}
	}
	return b, nil
}

// decodeAnswer reads a kept answer back into the document of its kind: a
// sale from its compact encoding (or a schema-2 sale's JSON), anything else
// from JSON.
func decodeAnswer(biz string, kind engine.DocKind, v []byte) (any, error) {
	doc, ok := engine.NewAnswer(kind, biz)
	if !ok {
		return nil, fmt.Errorf("answer of unknown kind %q", kind)
	}
	if s, ok := doc.(*engine.Sale); ok {
		if err := decodeSale(v, s); err != nil {
			return nil, err
		}
		s.BusinessID = biz
		return s, nil
	}
	if err := json.Unmarshal(v, doc); err != nil {
		return nil, err
	}
	return doc, nil
}

// PutIdempotency implements engine.Tx. It refuses a second record for a
// key: the storage-level guarantee of one document per key.
func (t *txn) PutIdempotency(r *engine.IdempotencyRecord) error {
	k := t.key(r.BusinessID, r.Key)
	// The engine has just looked the key up in this transaction (and
	// found nothing) before running the operation: no need to seek it in
	// the B+tree twice.
	known := t.absentIdem == string(k)
	if !known && t.get(bIdem, k) != nil {
		return engine.ErrDuplicateKey
	}
	if err := t.put(bIdem, k, encodeIdempotency(r)); err != nil {
		return err
	}
	t.absentIdem = ""
	if r.Answer == nil {
		return nil
	}
	v, err := t.answerValue(r)
	if err != nil {
		return err
	}
	return t.put(bIdemExp, t.expKey(r.ExpiresAt, r.BusinessID, r.Key), v)
}

// Idempotencies implements engine.Scanner.
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

// expKey is the package's expKey, from the arena.
func (t *txn) expKey(at time.Time, biz, k string) []byte {
	b := binary.BigEndian.AppendUint64(t.alloc(8 + 2 + len(biz) + len(k))[:0], uint64(at.UnixMilli()))
	return append(append(append(append(b, 0), biz...), 0), k...)
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
				r, _, err := decodeIdempotency(b)
				if err != nil {
					return corrupt(bIdem, err)
				}
				r.BusinessID = biz
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
