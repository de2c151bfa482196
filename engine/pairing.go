package engine

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"
)

// Pairing is a one-time code that gives a new till its token: the owner
// makes it in the back office, the till types it (or reads it from a QR
// code) and gets a till token back, so nobody copies a secret by hand.
// Only the code's hash is stored. A code is valid PairingTTL and can be
// used once; the pairing is kept after that (it is how a till's retry of
// POST /pair finds its business).
//
// Both routes are idempotent writes like every other (Service.commit): one
// record per key, committed with the pairing or the till token. Their
// answers carry a secret that is never kept, not even in the record, so a
// replay within the answer TTL makes a new one for the same pairing or
// till and revokes the one nobody heard (contract §5): a new code for a
// pairing not used yet, a new token for the same till. A request whose
// answer was lost thus still ends with one working code, or one till with
// a working token. After the answer TTL a replay is the pairing or the
// till as it is now, without a secret, as for a created token.
type Pairing struct {
	ID string `json:"id"`
	// Hash is the SHA-256 of the code, upper case. A replay of the request
	// that made the pairing gives it a new code, and so a new hash.
	Hash       [32]byte `json:"-"`
	BusinessID string   `json:"-"`
	// Name and LocationID are the till's, once paired.
	Name       string    `json:"name"`
	LocationID *string   `json:"locationId"`
	CreatedAt  time.Time `json:"createdAt"`
	ExpiresAt  time.Time `json:"expiresAt"`
	// UsedAt and TillID are set when a till used the code.
	UsedAt *time.Time `json:"usedAt,omitempty"`
	TillID string     `json:"tillId,omitempty"`
}

// PairingTx is what a Store's transactions offer to keep pairings. It is
// an interface of its own, beside Tx, so that pairing adds nothing to the
// write path of sales; with a store whose transactions lack it, pairing
// fails with an internal error that says so. A pairing is small and a
// shop makes one per till, so none is ever deleted.
type PairingTx interface {
	// Pairing returns a pairing of a business by its ID.
	Pairing(business, id string) (*Pairing, error)
	// PairingByHash returns the pairing whose code has this hash, in any
	// business: the till that types a code has no token yet.
	PairingByHash(hash [32]byte) (*Pairing, error)
	// PutPairing stores p under its ID and keeps the index of code hashes
	// in step with it: a pairing given a new code is no longer found by
	// the old one. Hashes are unique: one pairing per code.
	PutPairing(p *Pairing) error
}

// PairingTTL is how long a pairing code is valid.
const PairingTTL = 5 * time.Minute

// PairingAlphabet is the alphabet of pairing codes: no 0/O, 1/I/L, so a
// code read off a screen is typed right.
const PairingAlphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"

// PairingCodeLength is the length of a pairing code.
const PairingCodeLength = 6

// PairingInput is the body of POST /pairing-codes.
type PairingInput struct {
	Name       string  `json:"name"`
	LocationID *string `json:"locationId,omitempty"`
}

// PairingCode is the answer to POST /pairing-codes. The API adds the till
// page's address with the code in its fragment.
type PairingCode struct {
	// Code is the code in clear, in the answer that made it only: nil in a
	// record, and in a replay once the code was used or the answer TTL has
	// passed.
	Code       *string   `json:"code"`
	ExpiresAt  time.Time `json:"expiresAt"`
	Name       string    `json:"name"`
	LocationID *string   `json:"locationId"`
	// TillID is the till that used the code, once one did.
	TillID string `json:"tillId,omitempty"`
}

func (c *PairingCode) withoutSecret() any {
	x := *c
	x.Code = nil
	return &x
}

// answer is the PairingCode of p, with code (nil: none).
func (p *Pairing) answer(code *string) *PairingCode {
	return &PairingCode{Code: code, ExpiresAt: p.ExpiresAt, Name: p.Name, LocationID: p.LocationID, TillID: p.TillID}
}

// PairInput is the body of POST /pair.
type PairInput struct {
	Code string `json:"code"`
}

// Paired is the answer to POST /pair: the till's token, shown in this
// answer (and in a replay of it within the answer TTL, as a new secret)
// only.
type Paired struct {
	Token      *string `json:"token"`
	TillID     string  `json:"tillId"`
	BusinessID string  `json:"businessId"`
	LocationID *string `json:"locationId"`
}

func (p *Paired) withoutSecret() any {
	x := *p
	x.Token = nil
	return &x
}

func paired(t *Token, secret *string) *Paired {
	return &Paired{Token: secret, TillID: t.ID, BusinessID: t.BusinessID, LocationID: t.LocationID}
}

// ErrPairingCode is the answer to a code that is unknown, used or expired:
// one message for all three, so a guesser learns nothing.
var ErrPairingCode = &Error{Code: ENOTFOUND, Field: "code", Message: "this pairing code is unknown, already used or expired; make a new one in the back office (Tills → Add a till)"}

// newPairingCode draws a code uniformly from PairingAlphabet (32 letters:
// a byte's low five bits are uniform).
func newPairingCode() string {
	var b [PairingCodeLength]byte
	_, _ = rand.Read(b[:])
	for i := range b {
		b[i] = PairingAlphabet[b[i]&31]
	}
	return string(b[:])
}

// normalPairingCode is a code as it is stored and hashed: typed in lower
// case, with spaces or dashes, it is the same code. ok is false for text
// that cannot be a code.
func normalPairingCode(code string) (string, bool) {
	c := strings.ToUpper(strings.NewReplacer(" ", "", "-", "").Replace(strings.TrimSpace(code)))
	if len(c) != PairingCodeLength {
		return "", false
	}
	for i := 0; i < len(c); i++ {
		if strings.IndexByte(PairingAlphabet, c[i]) < 0 {
			return "", false
		}
	}
	return c, true
}

func pairingHash(code string) [32]byte { return sha256.Sum256([]byte(code)) }

func pairingTx(tx Tx) (PairingTx, error) {
	p, ok := tx.(PairingTx)
	if !ok {
		return nil, Errorf(EINTERNAL, "the store's transactions (%T) do not keep pairing codes", tx)
	}
	return p, nil
}

// newCode gives p a fresh code that no other pairing has, and returns it.
func newCode(ptx PairingTx) (string, [32]byte, error) {
	// A code already taken (one chance in a billion per pairing ever
	// made) is drawn again.
	for tries := 0; tries < 10; tries++ {
		code := newPairingCode()
		h := pairingHash(code)
		if _, err := ptx.PairingByHash(h); IsNotFound(err) {
			return code, h, nil
		} else if err != nil {
			return "", h, err
		}
	}
	return "", [32]byte{}, Errorf(EUNAVAILABLE, "no free pairing code could be drawn; retry")
}

// CreatePairingCode makes a one-time code for a new till (owner or
// manager). A replay within the answer TTL gives the same pairing a new
// code, valid PairingTTL from then, and the first code (never seen) no
// longer works; once the code was used, the replay says which till used
// it, without a code.
func (s *Service) CreatePairingCode(ctx context.Context, a *Actor, key IdempotencyKey, in PairingInput) (*Outcome[*PairingCode], error) {
	if err := a.Can(PermManage); err != nil {
		return nil, err
	}
	if key == "" {
		return nil, ErrIdempotencyMissing
	}
	name := strings.TrimSpace(in.Name)
	if err := checkText(name, "name", 1, 100); err != nil {
		return nil, err
	}
	o, err := s.commit(ctx, request{business: a.BusinessID, key: string(key), op: opCreatePairing, hash: requestHash(opCreatePairing, "", in),
		fn: func(tx Tx, now time.Time) (any, DocRef, error) {
			ptx, err := pairingTx(tx)
			if err != nil {
				return nil, DocRef{}, err
			}
			if in.LocationID != nil {
				if _, err := getLocation(tx, a.BusinessID, *in.LocationID, "locationId"); err != nil {
					return nil, DocRef{}, err
				}
			}
			code, h, err := newCode(ptx)
			if err != nil {
				return nil, DocRef{}, err
			}
			p := &Pairing{ID: NewID(now), Hash: h, BusinessID: a.BusinessID, Name: name, LocationID: in.LocationID, CreatedAt: now, ExpiresAt: now.Add(PairingTTL)}
			if err := ptx.PutPairing(p); err != nil {
				return nil, DocRef{}, err
			}
			return p.answer(&code), DocRef{Kind: KindPairing, ID: p.ID}, nil
		},
		reissue: func(tx Tx, rec *IdempotencyRecord, now time.Time) (any, error) {
			ptx, err := pairingTx(tx)
			if err != nil {
				return nil, err
			}
			p, err := ptx.Pairing(rec.BusinessID, rec.Doc.ID)
			if err != nil {
				return nil, err
			}
			if p.UsedAt != nil {
				return p.answer(nil), nil
			}
			code, h, err := newCode(ptx)
			if err != nil {
				return nil, err
			}
			p.Hash, p.ExpiresAt = h, now.Add(PairingTTL)
			if err := ptx.PutPairing(p); err != nil {
				return nil, err
			}
			return p.answer(&code), nil
		},
	})
	if err != nil {
		return nil, err
	}
	return typed[*PairingCode](o, opCreatePairing)
}

// pairKey is the record key of a POST /pair: the request has no token, so
// its key is scoped to the pairing the code belongs to (two tills that
// happen to send one key with two codes are two requests), and it is kept
// hashed, so that a stolen database, whose code hashes are easily undone
// (a code has 30 bits), does not also give the key that would replay the
// pairing into a new till token. The space cannot occur in a client's key,
// so no other record's key can look like one.
func pairKey(pairingID string, key IdempotencyKey) string {
	h := sha256.Sum256([]byte(pairingID + "\x00" + string(key)))
	return "pair " + hex.EncodeToString(h[:])
}

// Pair turns a pairing code into a till token. It needs no token: the code
// is the credential. An unknown, used or expired code is ErrPairingCode
// (the API rate-limits those like wrong tokens). A replay within the
// answer TTL (a till that did not hear the first answer) gives the same
// till a new secret and revokes the earlier one, so the shop still has one
// till and the till a working token.
func (s *Service) Pair(ctx context.Context, key IdempotencyKey, in PairInput) (*Outcome[*Paired], error) {
	if key == "" {
		return nil, ErrIdempotencyMissing
	}
	if strings.TrimSpace(in.Code) == "" {
		return nil, fieldErr("code", "is required: the 6 characters shown in the back office")
	}
	code, ok := normalPairingCode(in.Code)
	if !ok {
		return nil, ErrPairingCode
	}
	h := pairingHash(code)
	// The code names the business, and the pairing the key's scope. Both
	// are fixed for the life of a pairing, so reading them before the
	// write transaction is safe; the transaction checks the code again.
	var p *Pairing
	err := s.store.View(ctx, func(tx Tx) error {
		ptx, err := pairingTx(tx)
		if err != nil {
			return err
		}
		p, err = ptx.PairingByHash(h)
		return err
	})
	if IsNotFound(err) {
		return nil, ErrPairingCode
	} else if err != nil {
		return nil, err
	}
	biz, pid := p.BusinessID, p.ID
	o, err := s.commit(ctx, request{business: biz, key: pairKey(pid, key), op: opPair, hash: requestHash(opPair, "", PairInput{Code: code}),
		fn: func(tx Tx, now time.Time) (any, DocRef, error) {
			ptx, err := pairingTx(tx)
			if err != nil {
				return nil, DocRef{}, err
			}
			p, err := ptx.Pairing(biz, pid)
			if err != nil {
				return nil, DocRef{}, err
			}
			// A code replaced since (a replay of its POST /pairing-codes),
			// used by another till, or expired is no code.
			if p.Hash != h || p.UsedAt != nil || !now.Before(p.ExpiresAt) {
				return nil, DocRef{}, ErrPairingCode
			}
			if p.LocationID != nil {
				if _, err := tx.Location(biz, *p.LocationID); IsNotFound(err) {
					return nil, DocRef{}, ErrPairingCode // the location is gone
				} else if err != nil {
					return nil, DocRef{}, err
				}
			}
			secret, th := newSecret()
			tok := &Token{ID: NewID(now), Role: RoleTill, Name: p.Name, LocationID: p.LocationID, CreatedAt: now, BusinessID: biz, Hash: th}
			if err := tx.PutToken(tok); err != nil {
				return nil, DocRef{}, err
			}
			p.UsedAt, p.TillID = &now, tok.ID
			if err := ptx.PutPairing(p); err != nil {
				return nil, DocRef{}, err
			}
			return paired(tok, &secret), DocRef{Kind: KindTill, ID: tok.ID}, nil
		},
		reissue: func(tx Tx, rec *IdempotencyRecord, now time.Time) (any, error) {
			tok, err := tokenByID(tx, biz, rec.Doc.ID)
			if IsNotFound(err) {
				return nil, ErrPairingCode // the till was revoked since
			} else if err != nil {
				return nil, err
			}
			// The till did not hear the first answer: same till, new
			// secret; the old one stops working in this transaction.
			if err := tx.DeleteToken(biz, tok.ID); err != nil {
				return nil, err
			}
			secret, th := newSecret()
			tok.Hash = th
			if err := tx.PutToken(tok); err != nil {
				return nil, err
			}
			return paired(tok, &secret), nil
		},
	})
	if err != nil {
		return nil, err
	}
	return typed[*Paired](o, opPair)
}

// tokenByID finds a token of a business by its ID.
func tokenByID(tx Tx, business, id string) (*Token, error) {
	ts, err := tx.Tokens(business)
	if err != nil {
		return nil, err
	}
	for _, t := range ts {
		if t.ID == id {
			return t, nil
		}
	}
	return nil, notFound("till", "")
}
