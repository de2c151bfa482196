package pgstore

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"posd/engine"
)

const idemColumns = `i.key, i.op, i.target, i.hash, i.version, i.doc_kind, i.doc_id, i.created_at, i.expires_at, a.body
	FROM idempotency i LEFT JOIN idempotency_answers a ON a.business_id = i.business_id AND a.key = i.key`

func scanIdempotency(rows pgx.Rows, biz string) (*engine.IdempotencyRecord, error) {
	r := &engine.IdempotencyRecord{BusinessID: biz}
	var kind string
	var version int32
	var created, expires time.Time
	var answer []byte
	if err := rows.Scan(&r.Key, &r.Op, &r.Target, &r.Hash, &version, &kind, &r.Doc.ID, &created, &expires, &answer); err != nil {
		return nil, err
	}
	r.Version, r.Doc.Kind, r.CreatedAt, r.ExpiresAt = int(version), engine.DocKind(kind), created.UTC(), expires.UTC()
	if len(answer) > 0 {
		var err error
		if r.Answer, err = decodeAnswer(biz, r.Doc.Kind, answer); err != nil {
			return nil, corrupt("idempotency_answers", err)
		}
	}
	return r, nil
}

// decodeAnswer reads a kept answer (JSON) back into the document of its
// kind.
func decodeAnswer(biz string, kind engine.DocKind, b []byte) (any, error) {
	doc, ok := engine.NewAnswer(kind, biz)
	if !ok {
		return nil, fmt.Errorf("answer of unknown kind %q", kind)
	}
	if err := json.Unmarshal(b, doc); err != nil {
		return nil, err
	}
	return doc, nil
}

// Idempotency implements engine.Tx. In a write transaction this is
// usually the first statement, so it travels with the business's lock: a
// second request with the same key waits for the first to commit and then
// finds its record.
func (t *txn) Idempotency(biz, key string) (*engine.IdempotencyRecord, error) {
	if err := t.touch(biz); err != nil {
		return nil, err
	}
	var rec *engine.IdempotencyRecord
	err := t.query("SELECT "+idemColumns+" WHERE i.business_id = $1 AND i.key = $2", []any{biz, key}, func(rows pgx.Rows) error {
		rec = nil
		if !rows.Next() {
			return rows.Err()
		}
		var err error
		rec, err = scanIdempotency(rows, biz)
		return err
	})
	if err != nil {
		return nil, err
	}
	if rec == nil {
		return nil, notFound("idempotency record")
	}
	return rec, nil
}

// PutIdempotency implements engine.Tx: idempotency_pkey refuses a second
// record for a key (ErrDuplicateKey, with the next round trip).
func (t *txn) PutIdempotency(r *engine.IdempotencyRecord) error {
	args := []any{r.BusinessID, r.Key, r.Op, r.Target, nonNil(r.Hash), int32(r.Version), string(r.Doc.Kind), r.Doc.ID, r.CreatedAt, r.ExpiresAt}
	if r.Answer == nil {
		return t.queue(r.BusinessID, insertRecord, args...)
	}
	answer, err := encode(r.Answer)
	if err != nil {
		return err
	}
	return t.queue(r.BusinessID, insertRecordAndAnswer, append(args, answer)...)
}

const (
	insertRecord = `INSERT INTO idempotency (business_id, key, op, target, hash, version, doc_kind, doc_id, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`
	insertRecordAndAnswer = `WITH rec AS (` + insertRecord + `)
		INSERT INTO idempotency_answers (business_id, key, expires_at, body) VALUES ($1, $2, $10, $11)`
)

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// Idempotencies implements engine.Tx, in key order.
func (t *txn) Idempotencies(biz string, fn func(*engine.IdempotencyRecord) error) error {
	if err := t.touch(biz); err != nil {
		return err
	}
	after := ""
	for {
		var page []*engine.IdempotencyRecord
		err := t.query("SELECT "+idemColumns+" WHERE i.business_id = $1 AND i.key > $2 ORDER BY i.key LIMIT $3", []any{biz, after, chunk}, func(rows pgx.Rows) error {
			page = page[:0]
			for rows.Next() {
				r, err := scanIdempotency(rows, biz)
				if err != nil {
					return err
				}
				page = append(page, r)
			}
			return rows.Err()
		})
		if err != nil {
			return err
		}
		for _, r := range page {
			if err := fn(r); err != nil {
				return err
			}
		}
		if len(page) < chunk {
			return nil
		}
		after = page[len(page)-1].Key
	}
}
