package boltstore

import (
	"bytes"
	"encoding/json"

	"posd/engine"
)

// storedToken is a token as kept on disk: the public fields, its business
// and the hash of its secret. The secret itself is never stored.
type storedToken struct {
	engine.Token
	Business string `json:"businessId"`
	Hash     []byte `json:"hash"`
}

func decodeToken(b []byte) (*engine.Token, error) {
	var st storedToken
	if err := json.Unmarshal(b, &st); err != nil {
		return nil, corrupt(bTokens, err)
	}
	t := st.Token
	t.BusinessID = st.Business
	copy(t.Hash[:], st.Hash)
	return &t, nil
}

// TokenByHash implements engine.Tx.
func (t *txn) TokenByHash(hash [32]byte) (*engine.Token, error) {
	cache := t.store != nil && !t.writable
	if cache {
		if tok, ok := t.store.tokens.get(hash); ok {
			return tok, nil
		}
	}
	b := t.get(bTokens, hash[:])
	if b == nil {
		return nil, notFound("token")
	}
	tok, err := decodeToken(b)
	if err == nil && cache {
		t.store.tokens.add(t.tokenGen, tok)
	}
	return tok, err
}

// Tokens implements engine.Tx.
func (t *txn) Tokens(biz string) ([]*engine.Token, error) {
	var out []*engine.Token
	err := t.scan(bTokenIDs, prefix(biz), nil, false, func(_, h []byte) error {
		b := t.get(bTokens, h)
		if b == nil {
			return corrupt(bTokens, errMissing("token"))
		}
		tok, err := decodeToken(b)
		if err != nil {
			return err
		}
		out = append(out, tok)
		return nil
	})
	return out, err
}

// PutToken implements engine.Tx.
func (t *txn) PutToken(tok *engine.Token) error {
	h := bytes.Clone(tok.Hash[:]) // the overlay keeps the slices it is given
	if err := t.putJSON(bTokens, h, storedToken{Token: *tok, Business: tok.BusinessID, Hash: h}); err != nil {
		return err
	}
	return t.put(bTokenIDs, key(tok.BusinessID, tok.ID), h)
}

// DeleteToken implements engine.Tx.
func (t *txn) DeleteToken(biz, id string) error {
	k := key(biz, id)
	h := t.get(bTokenIDs, k)
	if h == nil {
		return notFound("token")
	}
	if err := t.del(bTokens, bytes.Clone(h)); err != nil {
		return err
	}
	return t.del(bTokenIDs, k)
}
