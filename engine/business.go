package engine

import (
	"context"
	"encoding/json"
	"strings"
	"sync"
	"time"
	"unicode/utf8"
)

// Business is a shop: the unit of tenancy. Every other object belongs to
// exactly one business and is invisible to the tokens of any other.
type Business struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Timezone string `json:"timezone"`
	Currency string `json:"currency"`
	// CreatedAt is when the business was created, in UTC.
	CreatedAt time.Time `json:"createdAt"`
	// Settings are the shop's rules for refunds and cash (PATCH /settings).
	Settings Settings `json:"settings"`
}

// Settings are what the shop says needs a manager's approval by PIN.
type Settings struct {
	// RefundsNeedApproval makes a till's refund wait for a manager's PIN
	// (POST /approvals, action "refund"). Owner and manager tokens refund
	// without one: they are the managers.
	RefundsNeedApproval bool `json:"refundsNeedApproval"`
	// CashDifferenceLimit is the largest difference between counted and
	// expected cash, either way, that closes a shift without a manager's
	// approval (action "cash_difference"); nil: no approval is ever needed.
	CashDifferenceLimit *Money `json:"cashDifferenceLimit"`
}

// SettingsPatch is the body of PATCH /settings: the settings to change.
// cashDifferenceLimit null turns the approval of cash differences off.
type SettingsPatch struct {
	RefundsNeedApproval *bool           `json:"refundsNeedApproval,omitempty"`
	CashDifferenceLimit json.RawMessage `json:"cashDifferenceLimit,omitempty"`
}

// UpdateSettings changes the business's settings (owner or manager) and
// returns the business.
func (s *Service) UpdateSettings(ctx context.Context, a *Actor, in SettingsPatch) (*Business, error) {
	if err := a.Can(PermManage); err != nil {
		return nil, err
	}
	var limit *Money
	setLimit := len(in.CashDifferenceLimit) > 0
	if setLimit && string(in.CashDifferenceLimit) != "null" {
		m, err := parseMoney(in.CashDifferenceLimit, "cashDifferenceLimit", false)
		if err != nil {
			return nil, err
		}
		limit = &m
	}
	var out *Business
	err := s.store.Update(ctx, func(tx Tx) error {
		b, err := tx.Business(a.BusinessID)
		if err != nil {
			return err
		}
		if in.RefundsNeedApproval != nil {
			b.Settings.RefundsNeedApproval = *in.RefundsNeedApproval
		}
		if setLimit {
			b.Settings.CashDifferenceLimit = limit
		}
		if err := tx.PutBusiness(b); err != nil {
			return err
		}
		out = b
		return nil
	})
	return out, err
}

// Location returns the business's time zone. Document numbers use the month
// in this zone, so a sale at 00:30 on the 1st is numbered in the new month
// even when the server's clock runs in UTC.
func (b *Business) Location() *time.Location {
	if loc, ok := zones.Load(b.Timezone); ok {
		return loc.(*time.Location)
	}
	loc, err := time.LoadLocation(b.Timezone)
	if err != nil {
		return time.UTC
	}
	zones.Store(b.Timezone, loc)
	return loc
}

// zones caches loaded time zones: loading one reads the zone database, which
// is too slow to do for every sale.
var zones sync.Map

// BusinessInput describes a new business (posd init).
type BusinessInput struct {
	Name     string
	Timezone string
	Currency string
}

func (in *BusinessInput) validate() error {
	in.Name = strings.TrimSpace(in.Name)
	if err := checkText(in.Name, "name", 1, 200); err != nil {
		return err
	}
	if in.Timezone == "" {
		in.Timezone = "UTC"
	}
	if _, err := time.LoadLocation(in.Timezone); err != nil || in.Timezone == "Local" {
		return fieldErr("timezone", "%q is not a known IANA time zone such as Europe/Berlin", in.Timezone)
	}
	if in.Currency == "" {
		in.Currency = "EUR"
	}
	in.Currency = strings.ToUpper(in.Currency)
	if len(in.Currency) != 3 || strings.Trim(in.Currency, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != "" {
		return fieldErr("currency", "%q is not a three-letter ISO 4217 code such as EUR", in.Currency)
	}
	return nil
}

// checkText validates a required or optional human text field.
func checkText(s, field string, min, max int) error {
	n := utf8.RuneCountInString(s)
	switch {
	case n < min && n == 0:
		return fieldErr(field, "is required")
	case n < min:
		return fieldErr(field, "must have at least %d characters", min)
	case n > max:
		return fieldErr(field, "must have at most %d characters", max)
	}
	for _, r := range s {
		if r < ' ' || r == 0x7f {
			return fieldErr(field, "must not contain control characters")
		}
	}
	return nil
}
