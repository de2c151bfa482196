package pgstore

import (
	"encoding/json"

	"github.com/jackc/pgx/v5"

	"posd/engine"
)

func decodeToken(biz string, hash, doc []byte) (*engine.Token, error) {
	tok := &engine.Token{}
	if err := json.Unmarshal(doc, tok); err != nil {
		return nil, corrupt("tokens", err)
	}
	tok.BusinessID = biz
	copy(tok.Hash[:], hash)
	return tok, nil
}

// TokenByHash implements engine.Tx. It is not cached: a revoked token must
// fail at once on every posd process.
func (t *txn) TokenByHash(hash [32]byte) (*engine.Token, error) {
	var biz string
	var doc []byte
	found, err := t.queryRow("SELECT business_id, doc FROM tokens WHERE hash = $1", []any{hash[:]}, &biz, &doc)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, notFound("token")
	}
	return decodeToken(biz, hash[:], doc)
}

// Tokens implements engine.Tx, in ID order.
func (t *txn) Tokens(biz string) ([]*engine.Token, error) {
	if err := t.touch(biz); err != nil {
		return nil, err
	}
	var out []*engine.Token
	err := t.query("SELECT hash, doc FROM tokens WHERE business_id = $1 ORDER BY id", []any{biz}, func(rows pgx.Rows) error {
		out = nil
		for rows.Next() {
			var hash, doc []byte
			if err := rows.Scan(&hash, &doc); err != nil {
				return err
			}
			tok, err := decodeToken(biz, hash, doc)
			if err != nil {
				return err
			}
			out = append(out, tok)
		}
		return rows.Err()
	})
	return out, err
}

// PutToken implements engine.Tx.
func (t *txn) PutToken(tok *engine.Token) error {
	doc, err := encode(tok)
	if err != nil {
		return err
	}
	return t.queue(tok.BusinessID, `INSERT INTO tokens (hash, business_id, id, doc) VALUES ($1, $2, $3, $4)
		ON CONFLICT (business_id, id) DO UPDATE SET hash = excluded.hash, doc = excluded.doc`, tok.Hash[:], tok.BusinessID, tok.ID, doc)
}

// DeleteToken implements engine.Tx. It answers at once (not with the next
// round trip) because a missing token is the caller's not-found.
func (t *txn) DeleteToken(biz, id string) error {
	if !t.writable {
		return errReadOnly
	}
	if err := t.touch(biz); err != nil {
		return err
	}
	t.wrote = true
	var hash []byte
	found, err := t.queryRow("DELETE FROM tokens WHERE business_id = $1 AND id = $2 RETURNING hash", []any{biz, id}, &hash)
	if err != nil {
		return err
	}
	if !found {
		return notFound("token")
	}
	return nil
}
