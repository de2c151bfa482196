package engine

import (
	"context"
	"crypto/subtle"
	"strconv"
	"strings"
	"sync"
	"time"
)

// A cashier is a person at the tills: staff with a name, a role and a PIN.
// The till token says which device is selling; the PIN says who. A till
// asks for a PIN before the first sale and whenever the cashier changes,
// and puts the cashier's ID on every sale and refund it sends, queued ones
// too.
//
// # How a PIN is kept
//
// A PIN is 4 to 6 digits: at most a million values. No hash makes so few
// values secret from someone holding the database: every candidate can be
// tried. So posd keeps PINs in a form that makes trying slow and the till's
// question fast:
//
//   - the stored form of a PIN is its key, PINHasher.Key(pin, business):
//     argon2id (engine/pinhash) salted with the business's ID, so the key
//     of a PIN is the same for every cashier of one business and differs
//     between businesses;
//   - that key is also the index a till looks a cashier up by
//     (Tx.CashierByPIN), and what makes a PIN unique in its business
//     (Tx.PutCashier refuses a second cashier with the same key);
//   - so a sign-in or an approval costs one argon2id (tens of
//     milliseconds, outside any transaction), not one per cashier, and an
//     attacker with the file pays one argon2id per candidate PIN for the
//     whole business: a 4-digit PIN falls in minutes of one core, a 6-digit
//     one in hours. A PIN protects a shared till from a colleague, not a
//     vault from a thief; the README says so.
//
// No PIN, hashed fast or slow, is ever written anywhere else: an
// idempotency record fingerprints the PIN's key, never the PIN.
//
// # Wrong PINs
//
// After PINTries wrong PINs in a row on one till, or for one named cashier,
// that till's (or cashier's) PIN entry is locked for PINLockout. The count
// is kept in memory (pinGuard): a restart forgets it, and several posd
// processes on one database count apart. Both are acceptable for what a PIN
// guards: the till token, a device credential, is the real gate.

// CashierRole is what a cashier may approve.
type CashierRole string

// The roles of cashiers.
const (
	// RoleCashier sells and refunds.
	RoleCashier CashierRole = "cashier"
	// RoleStaffManager also approves, by PIN, what the shop's settings say
	// needs a manager: a refund, a cash difference over the limit.
	RoleStaffManager CashierRole = "manager"
)

// PINKey is the stored form of a PIN: PINHasher.Key of it.
type PINKey [32]byte

// PINHasher makes the key of a PIN. It must be deterministic (the key is an
// index) and slow (the key is all a thief of the file gets). The engine
// holds no hashing of its own: the standard library has no password hash,
// so engine/pinhash supplies argon2id and cmd/posd sets it.
type PINHasher interface {
	// Scheme names the algorithm and its parameters; it is stored with
	// every key, so that a change of parameters is seen.
	Scheme() string
	// Key returns the key of pin for a business.
	Key(pin, business string) PINKey
}

// Cashier is a person who sells at the tills.
type Cashier struct {
	ID   string      `json:"id"`
	Name string      `json:"name"`
	Role CashierRole `json:"role"`
	// Active cashiers can sign in. A cashier who left is made inactive
	// (never deleted: sales name them), which frees the PIN.
	Active    bool      `json:"active"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
	// HasPIN is true while the cashier has a PIN (every active cashier).
	HasPIN bool `json:"hasPin"`

	BusinessID string `json:"-"`
	// PIN is the key of the cashier's PIN; zero when HasPIN is false.
	PIN PINKey `json:"-"`
	// PINScheme is the PINHasher scheme that made PIN.
	PINScheme string `json:"-"`
}

// CashierInput is the body of POST /cashiers.
type CashierInput struct {
	Name string `json:"name"`
	Role string `json:"role"`
	PIN  string `json:"pin"`
}

// CashierPatch is the body of PATCH /cashiers/{id}: the fields to change.
// Making a cashier inactive removes the PIN; making one active again needs
// a new PIN in the same patch.
type CashierPatch struct {
	Name   *string `json:"name,omitempty"`
	Role   *string `json:"role,omitempty"`
	PIN    *string `json:"pin,omitempty"`
	Active *bool   `json:"active,omitempty"`
}

// SignInInput is the body of PUT /tills/current/cashier: a PIN, and
// optionally whose it should be (a till that shows names to tap).
type SignInInput struct {
	PIN       string  `json:"pin"`
	CashierID *string `json:"cashierId,omitempty"`
}

// Lockout of PIN entry.
const (
	// PINTries wrong PINs in a row lock a till's or a cashier's PIN entry.
	PINTries = 5
	// PINLockout is how long it stays locked.
	PINLockout = 5 * time.Minute
)

// pinConcurrency bounds the PIN hashes computed at once: each argon2id
// takes its memory (19 MiB) and a core for tens of milliseconds.
const pinConcurrency = 2

func parseRole(r, field string) (CashierRole, error) {
	switch CashierRole(r) {
	case RoleCashier, RoleStaffManager:
		return CashierRole(r), nil
	case "":
		return "", fieldErr(field, "is required")
	}
	return "", fieldErr(field, "must be cashier or manager")
}

// checkPIN enforces the form of a PIN: 4 to 6 digits.
func checkPIN(pin, field string) error {
	if pin == "" {
		return fieldErr(field, "is required")
	}
	if len(pin) < 4 || len(pin) > 6 || !allDigits(pin) {
		return fieldErr(field, "must be 4 to 6 digits")
	}
	return nil
}

// pinKey hashes a PIN for the actor's business, at most pinConcurrency at a
// time. It runs before any transaction: a store's writer never waits for a
// hash.
func (s *Service) pinKey(ctx context.Context, pin, business string) (PINKey, string, error) {
	if s.PINs == nil {
		return PINKey{}, "", Errorf(EINTERNAL, "posd was started without a PIN hasher")
	}
	select {
	case s.pinSlots <- struct{}{}:
	case <-ctx.Done():
		return PINKey{}, "", Errorf(EUNAVAILABLE, "posd is busy; try the PIN again")
	}
	defer func() { <-s.pinSlots }()
	return s.PINs.Key(pin, business), s.PINs.Scheme(), nil
}

// cashierFingerprint is what an idempotency record hashes of a request
// that carries a PIN: the PIN's key in place of the PIN, so that the record
// is no faster to brute-force than the cashier's own key.
type cashierFingerprint struct {
	Name   *string `json:"name,omitempty"`
	Role   *string `json:"role,omitempty"`
	PINKey []byte  `json:"pinKey,omitempty"`
	Action string  `json:"action,omitempty"`
	For    *string `json:"cashierId,omitempty"`
}

// CreateCashier adds a cashier with a PIN no other cashier of the business
// has (owner or manager).
func (s *Service) CreateCashier(ctx context.Context, a *Actor, key IdempotencyKey, in CashierInput) (*Outcome[*Cashier], error) {
	if err := a.Can(PermManage); err != nil {
		return nil, err
	}
	name := strings.TrimSpace(in.Name)
	if err := checkText(name, "name", 1, 100); err != nil {
		return nil, err
	}
	role, err := parseRole(in.Role, "role")
	if err != nil {
		return nil, err
	}
	if err := checkPIN(in.PIN, "pin"); err != nil {
		return nil, err
	}
	if key == "" {
		return nil, ErrIdempotencyMissing
	}
	pk, scheme, err := s.pinKey(ctx, in.PIN, a.BusinessID)
	if err != nil {
		return nil, err
	}
	r := string(role)
	fp := cashierFingerprint{Name: &name, Role: &r, PINKey: pk[:]}
	return write(s, ctx, a, key, opCreateCashier, "", fp, func(tx Tx, now time.Time) (*Cashier, DocRef, error) {
		if err := pinFree(tx, a.BusinessID, pk, ""); err != nil {
			return nil, DocRef{}, err
		}
		c := &Cashier{ID: NewID(now), Name: name, Role: role, Active: true, HasPIN: true, CreatedAt: now, UpdatedAt: now,
			BusinessID: a.BusinessID, PIN: pk, PINScheme: scheme}
		if err := tx.PutCashier(c); err != nil {
			return nil, DocRef{}, err
		}
		return c, DocRef{Kind: KindCashier, ID: c.ID}, nil
	})
}

// pinFree fails unless no cashier but self has the PIN key.
func pinFree(tx Tx, business string, pk PINKey, self string) error {
	other, err := tx.CashierByPIN(business, pk)
	switch {
	case err == nil && other.ID != self:
		return ErrDuplicatePIN
	case err != nil && !IsNotFound(err):
		return err
	}
	return nil
}

// UpdateCashier changes a cashier (owner or manager).
func (s *Service) UpdateCashier(ctx context.Context, a *Actor, id string, in CashierPatch) (*Cashier, error) {
	if err := a.Can(PermManage); err != nil {
		return nil, err
	}
	var name string
	if in.Name != nil {
		name = strings.TrimSpace(*in.Name)
		if err := checkText(name, "name", 1, 100); err != nil {
			return nil, err
		}
	}
	var role CashierRole
	if in.Role != nil {
		var err error
		if role, err = parseRole(*in.Role, "role"); err != nil {
			return nil, err
		}
	}
	var pk PINKey
	var scheme string
	if in.PIN != nil {
		if err := checkPIN(*in.PIN, "pin"); err != nil {
			return nil, err
		}
		if in.Active != nil && !*in.Active {
			return nil, fieldErr("pin", "cannot be set on a cashier being made inactive")
		}
		var err error
		if pk, scheme, err = s.pinKey(ctx, *in.PIN, a.BusinessID); err != nil {
			return nil, err
		}
	}
	var out *Cashier
	err := s.store.Update(ctx, func(tx Tx) error {
		c, err := getCashier(tx, a.BusinessID, id, "")
		if err != nil {
			return err
		}
		now := s.now()
		if in.Name != nil {
			c.Name = name
		}
		if in.Role != nil {
			c.Role = role
		}
		if in.Active != nil {
			c.Active = *in.Active
		}
		if in.PIN != nil {
			if err := pinFree(tx, a.BusinessID, pk, c.ID); err != nil {
				return err
			}
			c.PIN, c.PINScheme, c.HasPIN = pk, scheme, true
		}
		if !c.Active {
			// A cashier who left gives the PIN back to the shop.
			c.PIN, c.PINScheme, c.HasPIN = PINKey{}, "", false
		} else if !c.HasPIN {
			return fieldErr("pin", "is required to make a cashier active again")
		}
		c.UpdatedAt = now
		if err := tx.PutCashier(c); err != nil {
			return err
		}
		out = c
		return nil
	})
	if err == nil {
		s.pins().forget(a.BusinessID, "cashier:"+id)
	}
	return out, err
}

// Cashiers lists the business's cashiers (any token: a till may show the
// names), active ones unless all.
func (s *Service) Cashiers(ctx context.Context, a *Actor, all bool) ([]*Cashier, error) {
	out := []*Cashier{}
	err := s.view(ctx, a, PermRead, func(tx Tx) error {
		cs, err := tx.Cashiers(a.BusinessID)
		if err != nil {
			return err
		}
		for _, c := range cs {
			if all || c.Active {
				out = append(out, c)
			}
		}
		return nil
	})
	return out, err
}

// Cashier returns one cashier.
func (s *Service) Cashier(ctx context.Context, a *Actor, id string) (*Cashier, error) {
	var out *Cashier
	err := s.view(ctx, a, PermRead, func(tx Tx) error {
		var err error
		out, err = getCashier(tx, a.BusinessID, id, "")
		return err
	})
	return out, err
}

func getCashier(tx Tx, business, id, field string) (*Cashier, error) {
	if !validID(id) {
		return nil, notFound("cashier", field)
	}
	c, err := tx.Cashier(business, id)
	if IsNotFound(err) {
		return nil, notFound("cashier", field)
	}
	return c, err
}

// SignIn checks a PIN typed at a till and says whose it is: the till puts
// that cashier's ID on what it sends next. With CashierID, the PIN must be
// that cashier's. Wrong PINs lock the till's PIN entry, and a named
// cashier's, after PINTries.
func (s *Service) SignIn(ctx context.Context, a *Actor, in SignInInput) (*Cashier, error) {
	if err := a.Can(PermSell); err != nil {
		return nil, err
	}
	return s.checkPIN(ctx, a, in.PIN, in.CashierID, false)
}

// checkPIN finds the active cashier whose PIN pin is (a manager if
// manager), counting a wrong one against the till and the named cashier.
func (s *Service) checkPIN(ctx context.Context, a *Actor, pin string, named *string, manager bool) (*Cashier, error) {
	if err := checkPIN(pin, "pin"); err != nil {
		return nil, err
	}
	if named != nil && !validID(*named) {
		return nil, notFound("cashier", "cashierId")
	}
	g := s.pins()
	subjects := []string{"till:" + a.TokenID}
	if named != nil {
		subjects = append(subjects, "cashier:"+*named)
	}
	now := s.Now()
	for _, sub := range subjects {
		if wait := g.locked(a.BusinessID, sub, now); wait > 0 {
			return nil, lockedErr(sub, wait)
		}
	}
	pk, scheme, err := s.pinKey(ctx, pin, a.BusinessID)
	if err != nil {
		return nil, err
	}
	var c *Cashier
	err = s.store.View(ctx, func(tx Tx) error {
		var err error
		c, err = tx.CashierByPIN(a.BusinessID, pk)
		return err
	})
	if err != nil && !IsNotFound(err) {
		return nil, err
	}
	ok := c != nil && c.Active && c.PINScheme == scheme && subtle.ConstantTimeCompare(c.PIN[:], pk[:]) == 1
	if ok && named != nil && c.ID != *named {
		ok = false
	}
	if !ok {
		left := PINTries
		for _, sub := range subjects {
			left = min(left, g.fail(a.BusinessID, sub, now))
		}
		if left <= 0 {
			return nil, lockedErr(subjects[0], PINLockout)
		}
		return nil, &Error{Code: EFORBIDDEN, Field: "pin", Message: pinTriesMessage(left)}
	}
	for _, sub := range subjects {
		g.forget(a.BusinessID, sub)
	}
	g.forget(a.BusinessID, "cashier:"+c.ID)
	if manager && c.Role != RoleStaffManager {
		return nil, &Error{Code: EFORBIDDEN, Field: "pin", Message: "this PIN is not a manager's; a manager must type their own PIN"}
	}
	return c, nil
}

func pinTriesMessage(left int) string {
	if left == 1 {
		return "wrong PIN; one more wrong PIN locks PIN entry on this till for 5 minutes"
	}
	return "wrong PIN; " + itoa(left) + " more tries before PIN entry on this till is locked for 5 minutes"
}

func lockedErr(subject string, wait time.Duration) *Error {
	what := "on this till"
	if strings.HasPrefix(subject, "cashier:") {
		what = "for this cashier"
	}
	mins := int((wait + time.Minute - 1) / time.Minute)
	return &Error{Code: ERATELIMITED, RetryAfter: wait,
		Message: "PIN entry " + what + " is locked after " + itoa(PINTries) + " wrong PINs; try again in " + itoa(mins) + " minute(s) or ask a manager"}
}

func itoa(n int) string { return strconv.Itoa(n) }

// pinGuard counts wrong PINs per till and per cashier, in memory.
type pinGuard struct {
	mu sync.Mutex
	m  map[string]*pinFails
}

type pinFails struct {
	n           int
	last        time.Time
	lockedUntil time.Time
}

// pinForgetAfter is how long a run of wrong PINs is remembered without a
// new one.
const pinForgetAfter = 15 * time.Minute

func (s *Service) pins() *pinGuard {
	s.pinOnce.Do(func() { s.pinState = &pinGuard{m: map[string]*pinFails{}} })
	return s.pinState
}

// locked returns how long subject's PIN entry stays locked, or 0.
func (g *pinGuard) locked(biz, subject string, now time.Time) time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	f := g.m[biz+"\x00"+subject]
	if f == nil || !now.Before(f.lockedUntil) {
		return 0
	}
	return f.lockedUntil.Sub(now)
}

// fail counts a wrong PIN and returns how many tries are left (0: locked
// now).
func (g *pinGuard) fail(biz, subject string, now time.Time) int {
	g.mu.Lock()
	defer g.mu.Unlock()
	k := biz + "\x00" + subject
	f := g.m[k]
	if f == nil || now.Sub(f.last) > pinForgetAfter || (!f.lockedUntil.IsZero() && !now.Before(f.lockedUntil)) {
		f = &pinFails{}
		g.m[k] = f
	}
	f.n++
	f.last = now
	if f.n >= PINTries {
		f.lockedUntil = now.Add(PINLockout)
		return 0
	}
	return PINTries - f.n
}

func (g *pinGuard) forget(biz, subject string) {
	g.mu.Lock()
	delete(g.m, biz+"\x00"+subject)
	g.mu.Unlock()
}
