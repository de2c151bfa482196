package engine

import (
	"context"
	"sync"
	"time"
)

// DefaultIdempotencyTTL is how long full answers are kept for replay.
const DefaultIdempotencyTTL = 24 * time.Hour

// Service is the engine: every rule of posd, on top of a Store. It is safe
// for concurrent use.
type Service struct {
	store Store
	// Now is the clock. Tests replace it to cross month boundaries and
	// idempotency expiry; it must return increasing times.
	Now func() time.Time
	// IdempotencyTTL is how long full answers are replayed byte for byte.
	IdempotencyTTL time.Duration
	// PINs hashes cashiers' PINs (engine/pinhash's argon2id in posd).
	// Without it, every operation that needs a PIN fails.
	PINs PINHasher
	// replayFromView is the store's ReplayFromView.
	replayFromView bool

	// pinSlots bounds the PIN hashes computed at once; pinState counts
	// wrong PINs (cashier.go).
	pinSlots chan struct{}
	pinOnce  sync.Once
	pinState *pinGuard

	// tillState holds the tills' last reports (till.go), made once.
	tillsOnce sync.Once
	tillState *tills
}

// NewService returns a Service on store with the real clock.
func NewService(store Store) *Service {
	s := &Service{store: store, Now: time.Now, IdempotencyTTL: DefaultIdempotencyTTL, pinSlots: make(chan struct{}, pinConcurrency)}
	if r, ok := store.(ReplayFromView); ok {
		s.replayFromView = r.ReplayFromView()
	}
	return s
}

// Store returns the service's store.
func (s *Service) Store() Store { return s.store }

// now returns the current time in UTC, to the millisecond: documents carry
// RFC 3339 UTC times, and sub-millisecond digits only add noise.
func (s *Service) now() time.Time { return s.Now().UTC().Truncate(time.Millisecond) }

// CreateBusiness creates a business with one location named Main and one
// owner token, whose secret is returned; it is the only time it is shown.
func (s *Service) CreateBusiness(ctx context.Context, in BusinessInput) (*Business, *Location, string, error) {
	if err := in.validate(); err != nil {
		return nil, nil, "", err
	}
	var biz *Business
	var loc *Location
	secret, hash := newSecret()
	err := s.store.Update(ctx, func(tx Tx) error {
		now := s.now()
		biz = &Business{ID: NewID(now), Name: in.Name, Timezone: in.Timezone, Currency: in.Currency, CreatedAt: now}
		loc = &Location{ID: NewID(now), BusinessID: biz.ID, Name: "Main", CreatedAt: now}
		tok := &Token{ID: NewID(now), Role: RoleOwner, Name: "owner", CreatedAt: now, BusinessID: biz.ID, Hash: hash}
		if err := tx.PutBusiness(biz); err != nil {
			return err
		}
		if err := tx.PutLocation(loc); err != nil {
			return err
		}
		return tx.PutToken(tok)
	})
	if err != nil {
		return nil, nil, "", err
	}
	return biz, loc, secret, nil
}

// CreateOwnerToken adds an owner token to an existing business and returns
// its secret: the way back in for an owner who lost the token (posd token,
// run on the back-office PC itself).
func (s *Service) CreateOwnerToken(ctx context.Context, businessID, name string) (string, error) {
	secret, hash := newSecret()
	err := s.store.Update(ctx, func(tx Tx) error {
		if _, err := tx.Business(businessID); err != nil {
			return err
		}
		now := s.now()
		return tx.PutToken(&Token{ID: NewID(now), Role: RoleOwner, Name: name, CreatedAt: now, BusinessID: businessID, Hash: hash})
	})
	if err != nil {
		return "", err
	}
	return secret, nil
}

// Businesses lists every business in the store (for the command line).
func (s *Service) Businesses(ctx context.Context) ([]*Business, error) {
	var out []*Business
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		out, err = tx.Businesses()
		return err
	})
	return out, err
}

// Business returns the actor's business.
func (s *Service) Business(ctx context.Context, a *Actor) (*Business, error) {
	if err := a.Can(PermRead); err != nil {
		return nil, err
	}
	var b *Business
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		b, err = tx.Business(a.BusinessID)
		return err
	})
	return b, err
}

// view runs a read with the actor's permission checked first.
func (s *Service) view(ctx context.Context, a *Actor, p Permission, fn func(tx Tx) error) error {
	if err := a.Can(p); err != nil {
		return err
	}
	return s.store.View(ctx, fn)
}
