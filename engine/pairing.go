package engine

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"strings"
	"time"
)

// Pairing is a one-time code that gives a new till its token: the owner
// makes it in the back office, the till types it (or reads it from a QR
// code) and gets a till token back, so nobody copies a secret by hand.
// Only the code's hash is stored. A code is valid PairingTTL and can be
// used once.
//
// Both routes of pairing are idempotent through the pairing itself rather
// than through an idempotency record, because neither answer can be kept:
// a code, like a token, exists in clear only in its first answer. The
// record keeps the Idempotency-Key that made it and the one that used it,
// and a retry with the same key is answered as a replay with a fresh
// secret for the same pairing: a new code for an unused pairing, a new
// token for the same till (the earlier secret revoked). A request whose
// answer was lost thus still ends with one working code, one till.
type Pairing struct {
	// Hash is the SHA-256 of the code, upper case.
	Hash       [32]byte `json:"-"`
	BusinessID string   `json:"-"`
	// Name and LocationID are the till's, once paired.
	Name       string    `json:"name"`
	LocationID *string   `json:"locationId"`
	CreatedAt  time.Time `json:"createdAt"`
	ExpiresAt  time.Time `json:"expiresAt"`
	// CreatedKey and CreatedHash are the key and request fingerprint of
	// the POST /pairing-codes that made it.
	CreatedKey  string `json:"createdKey"`
	CreatedHash []byte `json:"createdHash"`
	// UsedAt, UsedKey and TillID are set when a till used the code.
	UsedAt  *time.Time `json:"usedAt,omitempty"`
	UsedKey string     `json:"usedKey,omitempty"`
	TillID  string     `json:"tillId,omitempty"`
}

// PairingTx is what a Store's transactions offer to keep pairings. It is
// an interface of its own, beside Tx, so that pairing adds nothing to the
// write path of sales; with a store whose transactions lack it, pairing
// fails with an internal error that says so.
type PairingTx interface {
	// PairingByHash returns the pairing of a code's hash, in any business.
	PairingByHash(hash [32]byte) (*Pairing, error)
	// PairingByKey returns the pairing made by a key of a business.
	PairingByKey(business, key string) (*Pairing, error)
	// PutPairing stores p under its hash and its CreatedKey.
	PutPairing(p *Pairing) error
	// DeletePairing removes a pairing (and its key index).
	DeletePairing(p *Pairing) error
	// Pairings lists a business's pairings.
	Pairings(business string) ([]*Pairing, error)
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
	// Code is nil only in the replay of a pairing already used.
	Code       *string   `json:"code"`
	ExpiresAt  time.Time `json:"expiresAt"`
	Name       string    `json:"name"`
	LocationID *string   `json:"locationId"`
	// TillID is the till that used the code, in a replay after it did.
	TillID string `json:"tillId,omitempty"`
}

// PairInput is the body of POST /pair.
type PairInput struct {
	Code string `json:"code"`
}

// Paired is the answer to POST /pair: the till's token, shown in this
// answer only.
type Paired struct {
	Token      string  `json:"token"`
	TillID     string  `json:"tillId"`
	BusinessID string  `json:"businessId"`
	LocationID *string `json:"locationId"`
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

// pairingHash is the stored form of a code: typed in lower case, with
// spaces or dashes, it is the same code.
func pairingHash(code string) ([32]byte, bool) {
	c := strings.ToUpper(strings.NewReplacer(" ", "", "-", "").Replace(strings.TrimSpace(code)))
	if len(c) != PairingCodeLength {
		return [32]byte{}, false
	}
	for i := 0; i < len(c); i++ {
		if strings.IndexByte(PairingAlphabet, c[i]) < 0 {
			return [32]byte{}, false
		}
	}
	return sha256.Sum256([]byte(c)), true
}

func pairingTx(tx Tx) (PairingTx, error) {
	p, ok := tx.(PairingTx)
	if !ok {
		return nil, Errorf(EINTERNAL, "the store's transactions (%T) do not keep pairing codes", tx)
	}
	return p, nil
}

// CreatePairingCode makes a one-time code for a new till (owner or
// manager). A retry with the same key and request answers with a fresh
// code for the same pairing (replayed true): the first code was never
// seen, and is no longer valid.
func (s *Service) CreatePairingCode(ctx context.Context, a *Actor, key IdempotencyKey, in PairingInput) (*PairingCode, bool, error) {
	if err := a.Can(PermManage); err != nil {
		return nil, false, err
	}
	if key == "" {
		return nil, false, ErrIdempotencyMissing
	}
	name := strings.TrimSpace(in.Name)
	if err := checkText(name, "name", 1, 100); err != nil {
		return nil, false, err
	}
	hash := requestHash("pairing.create", "", in)
	var out *PairingCode
	replayed := false
	err := s.store.Update(ctx, func(tx Tx) error {
		ptx, err := pairingTx(tx)
		if err != nil {
			return err
		}
		now := s.now()
		prev, err := ptx.PairingByKey(a.BusinessID, string(key))
		if err != nil && !IsNotFound(err) {
			return err
		}
		if prev != nil {
			if string(prev.CreatedHash) != string(hash) {
				return ErrIdempotencyReused
			}
			replayed = true
			if prev.UsedAt != nil {
				out = &PairingCode{ExpiresAt: prev.ExpiresAt, Name: prev.Name, LocationID: prev.LocationID, TillID: prev.TillID}
				return nil
			}
			if err := ptx.DeletePairing(prev); err != nil {
				return err
			}
		} else if in.LocationID != nil {
			if _, err := getLocation(tx, a.BusinessID, *in.LocationID, "locationId"); err != nil {
				return err
			}
		}
		if err := sweepPairings(ptx, a.BusinessID, now); err != nil {
			return err
		}
		code := newPairingCode()
		h, _ := pairingHash(code)
		// A code already in use (one chance in a billion) is drawn again.
		for tries := 0; ; tries++ {
			if _, err := ptx.PairingByHash(h); IsNotFound(err) {
				break
			} else if err != nil {
				return err
			}
			if tries == 10 {
				return Errorf(EUNAVAILABLE, "no free pairing code could be drawn; retry")
			}
			code = newPairingCode()
			h, _ = pairingHash(code)
		}
		p := &Pairing{Hash: h, BusinessID: a.BusinessID, Name: name, LocationID: in.LocationID, CreatedAt: now, ExpiresAt: now.Add(PairingTTL),
			CreatedKey: string(key), CreatedHash: hash}
		if err := ptx.PutPairing(p); err != nil {
			return err
		}
		out = &PairingCode{Code: &code, ExpiresAt: p.ExpiresAt, Name: p.Name, LocationID: p.LocationID}
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	return out, replayed, nil
}

// sweepPairings drops a business's codes that expired unused more than a
// day ago. Used ones stay: they let a till's retry of POST /pair replay.
func sweepPairings(ptx PairingTx, business string, now time.Time) error {
	ps, err := ptx.Pairings(business)
	if err != nil {
		return err
	}
	for _, p := range ps {
		if p.UsedAt == nil && now.Sub(p.ExpiresAt) > 24*time.Hour {
			if err := ptx.DeletePairing(p); err != nil {
				return err
			}
		}
	}
	return nil
}

// Pair turns a pairing code into a till token. It needs no token: the code
// is the credential. An unknown, used or expired code is ErrPairingCode
// (the API rate-limits those like wrong tokens). A retry with the key that
// used the code replays (replayed true): the same till, a new secret, the
// earlier one revoked, so the shop still has one till.
func (s *Service) Pair(ctx context.Context, key IdempotencyKey, in PairInput) (*Paired, bool, error) {
	if key == "" {
		return nil, false, ErrIdempotencyMissing
	}
	if strings.TrimSpace(in.Code) == "" {
		return nil, false, fieldErr("code", "is required: the 6 characters shown in the back office")
	}
	h, ok := pairingHash(in.Code)
	if !ok {
		return nil, false, ErrPairingCode
	}
	var out *Paired
	replayed := false
	err := s.store.Update(ctx, func(tx Tx) error {
		ptx, err := pairingTx(tx)
		if err != nil {
			return err
		}
		p, err := ptx.PairingByHash(h)
		if IsNotFound(err) {
			return ErrPairingCode
		} else if err != nil {
			return err
		}
		now := s.now()
		secret, th := newSecret()
		if p.UsedAt != nil {
			if p.UsedKey != string(key) {
				return ErrPairingCode
			}
			// The till did not hear the first answer: same till, new secret.
			tok, err := tokenByID(tx, p.BusinessID, p.TillID)
			if IsNotFound(err) {
				return ErrPairingCode // revoked since
			} else if err != nil {
				return err
			}
			if err := tx.DeleteToken(p.BusinessID, tok.ID); err != nil {
				return err
			}
			tok.Hash = th
			if err := tx.PutToken(tok); err != nil {
				return err
			}
			replayed = true
			out = &Paired{Token: secret, TillID: tok.ID, BusinessID: tok.BusinessID, LocationID: tok.LocationID}
			return nil
		}
		if !now.Before(p.ExpiresAt) {
			return ErrPairingCode
		}
		if p.LocationID != nil {
			if _, err := tx.Location(p.BusinessID, *p.LocationID); IsNotFound(err) {
				return ErrPairingCode // the location is gone
			} else if err != nil {
				return err
			}
		}
		tok := &Token{ID: NewID(now), Role: RoleTill, Name: p.Name, LocationID: p.LocationID, CreatedAt: now, BusinessID: p.BusinessID, Hash: th}
		if err := tx.PutToken(tok); err != nil {
			return err
		}
		p.UsedAt, p.UsedKey, p.TillID = &now, string(key), tok.ID
		if err := ptx.PutPairing(p); err != nil {
			return err
		}
		out = &Paired{Token: secret, TillID: tok.ID, BusinessID: tok.BusinessID, LocationID: tok.LocationID}
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	return out, replayed, nil
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
