package engine

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"strings"
	"time"
)

// Role is what a token may do.
type Role string

// The three roles of the contract.
const (
	RoleOwner   Role = "owner"   // everything
	RoleManager Role = "manager" // everything but tokens and backups
	RoleTill    Role = "till"    // sales, refunds, reading products, locations and stock
)

func (r Role) valid() bool { return r == RoleOwner || r == RoleManager || r == RoleTill }

// Token is an API credential. The secret itself is never stored: only its
// SHA-256, so a stolen database or backup does not hand out working tokens.
type Token struct {
	ID         string    `json:"id"`
	Role       Role      `json:"role"`
	Name       string    `json:"name"`
	LocationID *string   `json:"locationId"`
	CreatedAt  time.Time `json:"createdAt"`

	BusinessID string   `json:"-"`
	Hash       [32]byte `json:"-"`
}

// tokenPrefix marks posd secrets so that secret scanners and people can
// recognise one in a paste or a log.
const tokenPrefix = "posd_"

// newSecret returns a fresh random 256-bit token and its hash.
func newSecret() (string, [32]byte) {
	var b [32]byte
	_, _ = rand.Read(b[:])
	s := tokenPrefix + base64.RawURLEncoding.EncodeToString(b[:])
	return s, HashToken(s)
}

// HashToken returns the hash under which a token secret is stored.
func HashToken(secret string) [32]byte { return sha256.Sum256([]byte(secret)) }

// Actor is the authenticated caller of a service method: a token, its role and
// its business. Every method scopes what it reads and writes to Actor's
// business, which is how tenants are kept apart.
type Actor struct {
	TokenID    string
	BusinessID string
	Role       Role
	// LocationID, when set, binds a till token to one location: it may sell
	// only there.
	LocationID string
}

// Permission names what an operation needs. The API checks it per route
// before reading a body, and every service method checks it again.
type Permission int

// The permissions.
const (
	PermSell   Permission = iota // sales and refunds
	PermRead                     // products, locations, stock, sales
	PermManage                   // products, locations, stock, purchases, transfers
	PermOwner                    // tokens and backups
)

// Can reports whether the actor has permission p: owner has all, manager
// all but PermOwner, till only PermSell and PermRead.
func (a *Actor) Can(p Permission) error {
	if a == nil {
		return ErrUnauthorized
	}
	ok := false
	switch a.Role {
	case RoleOwner:
		ok = true
	case RoleManager:
		ok = p != PermOwner
	case RoleTill:
		ok = p == PermSell || p == PermRead
	}
	if !ok {
		return Errorf(EFORBIDDEN, "a %s token may not do this", a.Role)
	}
	return nil
}

// TokenInput is the body of POST /tokens.
type TokenInput struct {
	Role       string  `json:"role"`
	Name       string  `json:"name"`
	LocationID *string `json:"locationId,omitempty"`
}

// CreatedToken is the answer to CreateToken: the token, and in the first
// answer only its secret, the one time it is shown. A replay carries no
// secret ("token": null): posd never keeps one in clear, not even in an
// idempotency record.
type CreatedToken struct {
	ID         string    `json:"id"`
	Secret     *string   `json:"token"`
	Role       Role      `json:"role"`
	Name       string    `json:"name"`
	LocationID *string   `json:"locationId"`
	CreatedAt  time.Time `json:"createdAt"`
}

// withoutSecret is what an idempotency record keeps of the answer.
func (t *CreatedToken) withoutSecret() any {
	c := *t
	c.Secret = nil
	return &c
}

func createdToken(t *Token, secret *string) *CreatedToken {
	return &CreatedToken{ID: t.ID, Secret: secret, Role: t.Role, Name: t.Name, LocationID: t.LocationID, CreatedAt: t.CreatedAt}
}

// CreateToken creates an API token and returns its secret once.
func (s *Service) CreateToken(ctx context.Context, a *Actor, key IdempotencyKey, in TokenInput) (*Outcome[*CreatedToken], error) {
	if err := a.Can(PermOwner); err != nil {
		return nil, err
	}
	role := Role(in.Role)
	if !role.valid() {
		return nil, fieldErr("role", "must be owner, manager or till")
	}
	name := strings.TrimSpace(in.Name)
	if err := checkText(name, "name", 1, 100); err != nil {
		return nil, err
	}
	if in.LocationID != nil && role != RoleTill {
		return nil, fieldErr("locationId", "only till tokens can be bound to a location")
	}
	return write(s, ctx, a, key, opCreateToken, "", in, func(tx Tx, now time.Time) (*CreatedToken, DocRef, error) {
		if in.LocationID != nil {
			if _, err := getLocation(tx, a.BusinessID, *in.LocationID, "locationId"); err != nil {
				return nil, DocRef{}, err
			}
		}
		// A second run of this fn makes another secret; only the last
		// run's token is stored and answered.
		secret, hash := newSecret()
		t := &Token{ID: NewID(now), Role: role, Name: name, LocationID: in.LocationID, CreatedAt: now, BusinessID: a.BusinessID, Hash: hash}
		if err := tx.PutToken(t); err != nil {
			return nil, DocRef{}, err
		}
		return createdToken(t, &secret), DocRef{Kind: KindToken, ID: t.ID}, nil
	})
}

// Authenticate returns the Actor of a token secret, or ErrUnauthorized.
func (s *Service) Authenticate(ctx context.Context, secret string) (*Actor, error) {
	if secret == "" || len(secret) > 200 {
		return nil, Errorf(EUNAUTHORIZED, "a valid token is needed: send Authorization: Bearer TOKEN")
	}
	h := HashToken(secret)
	if c, ok := s.store.(CachedTokens); ok {
		if t, ok := c.CachedToken(h); ok {
			return actorOf(&t, h)
		}
	}
	var t *Token
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		t, err = tx.TokenByHash(h)
		return err
	})
	if err != nil && !IsNotFound(err) {
		return nil, err
	}
	return actorOf(t, h)
}

// actorOf returns the Actor of token t, looked up by h, the hash of the
// secret presented; a nil t is an unknown secret.
func actorOf(t *Token, h [32]byte) (*Actor, error) {
	// The lookup is by hash; the final comparison is still constant-time so
	// that no code path ever compares secrets byte by byte.
	if t == nil || subtle.ConstantTimeCompare(t.Hash[:], h[:]) != 1 {
		return nil, Errorf(EUNAUTHORIZED, "the token is not valid (revoked or mistyped)")
	}
	a := &Actor{TokenID: t.ID, BusinessID: t.BusinessID, Role: t.Role}
	if t.LocationID != nil {
		a.LocationID = *t.LocationID
	}
	return a, nil
}

// Tokens lists the business's tokens (without secrets).
func (s *Service) Tokens(ctx context.Context, a *Actor) ([]*Token, error) {
	if err := a.Can(PermOwner); err != nil {
		return nil, err
	}
	var out []*Token
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		out, err = tx.Tokens(a.BusinessID)
		return err
	})
	return out, err
}

// RevokeToken deletes a token. The last owner token of a business cannot be
// revoked: nobody could manage the shop afterwards. A till's last report
// goes with it.
func (s *Service) RevokeToken(ctx context.Context, a *Actor, id string) error {
	if err := a.Can(PermOwner); err != nil {
		return err
	}
	err := s.store.Update(ctx, func(tx Tx) error {
		ts, err := tx.Tokens(a.BusinessID)
		if err != nil {
			return err
		}
		owners := 0
		var target *Token
		for _, t := range ts {
			if t.Role == RoleOwner {
				owners++
			}
			if t.ID == id {
				target = t
			}
		}
		if target == nil {
			return notFound("token", "")
		}
		if target.Role == RoleOwner && owners <= 1 {
			return Errorf(EINVALIDSTATE, "the last owner token cannot be revoked; create another owner token first")
		}
		if err := tx.DeleteToken(a.BusinessID, id); err != nil {
			return err
		}
		return deleteTillStatus(tx, a.BusinessID, id)
	})
	if err != nil {
		return err
	}
	s.forgetTill(a.BusinessID, id)
	return nil
}
