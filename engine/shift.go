package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// A shift is one till's cash drawer between opening and closing: the float
// put in at the start, what came in and went out in cash, and the count at
// the end. A till has at most one open shift. Every sale and refund a till
// sends while it has one belongs to it (Sale.ShiftID, fixed at commit); a
// sale from a till without an open shift is accepted all the same and
// reported as outside a shift. Shift events (open, pay-in, pay-out, close)
// are idempotent POSTs: a till queues them with its sales and sends them in
// order, each with the till's time of the event ("at") beside posd's
// ("receivedAt").
//
// The expected cash in the drawer is
//
//	float + cash sales − change + pay-ins − pay-outs − cash refunds
//
// where cash sales is the cash the customers handed over (the sales' cash
// payments as the till recorded them, e.g. a 50.00 note for a 32.50 sale)
// and change what the cashier gave back (17.50): posd keeps the two apart
// because that is what a till records. Their difference, 32.50, is the
// cash part of the takings.

// Shift states.
const (
	ShiftOpen   = "open"
	ShiftClosed = "closed"
)

// Cash movement types.
const (
	PayIn  = "pay_in"
	PayOut = "pay_out"
)

// Shift is one till's cash drawer session.
type Shift struct {
	ID         string `json:"id"`
	LocationID string `json:"locationId"`
	// TillID is the till token that opened it.
	TillID   string     `json:"tillId"`
	Status   string     `json:"status"`
	Float    Money      `json:"float"`
	Currency string     `json:"currency"`
	Opened   ShiftEvent `json:"opened"`
	// Movements are the pay-ins and pay-outs, in the order posd got them.
	Movements []CashMovement `json:"movements"`
	Closed    *ShiftClose    `json:"closed"`
	// Cash is the drawer's figures: fixed when the shift closed; for an
	// open shift, as of the answer.
	Cash ShiftCash `json:"cash"`
	// Since is where the location's documents stood when the shift opened:
	// every document of the shift was stored after these.
	Since      Marks  `json:"since"`
	BusinessID string `json:"-"`
}

// ShiftEvent is when and by whom something happened to a shift.
type ShiftEvent struct {
	// At is the till's time of the event; ReceivedAt is posd's.
	At         time.Time `json:"at"`
	ReceivedAt time.Time `json:"receivedAt"`
	CashierID  *string   `json:"cashierId"`
	// TokenID is the token that sent the event: the till's, or a
	// manager's closing a till's shift from the back office.
	TokenID string `json:"tokenId"`
	Note    string `json:"note,omitempty"`
}

// CashMovement is cash put into or taken out of the drawer other than by a
// sale: change brought from the bank, milk bought from the till.
type CashMovement struct {
	ID     string `json:"id"`
	Type   string `json:"type"`
	Amount Money  `json:"amount"`
	Reason string `json:"reason"`
	ShiftEvent
}

// ShiftClose is the count that closed a shift.
type ShiftClose struct {
	ShiftEvent
	// Denominations is the count by coin and note, when the till gave it.
	Denominations []Denomination `json:"denominations"`
	// ApprovedBy is the manager who approved the count, if one did.
	ApprovedBy *ApprovedBy `json:"approvedBy"`
	// NeedsApproval is true when the difference is over the shop's limit
	// and no manager approved it: the close is recorded all the same (the
	// money is what it is), and the Z report shows it.
	NeedsApproval bool `json:"needsApproval"`
}

// Denomination is how many coins or notes of one value were counted.
type Denomination struct {
	Value Money `json:"value"`
	Count int64 `json:"count"`
}

// ShiftCash are a drawer's figures.
type ShiftCash struct {
	Float Money `json:"float"`
	// CashSales is the cash customers handed over; Change what was given
	// back; CashRefunds the refunds paid out in cash.
	CashSales   Money `json:"cashSales"`
	Change      Money `json:"change"`
	CashRefunds Money `json:"cashRefunds"`
	PayIns      Money `json:"payIns"`
	PayOuts     Money `json:"payOuts"`
	// Expected = Float + CashSales − Change + PayIns − PayOuts − CashRefunds.
	Expected Money `json:"expected"`
	// Counted and Difference (Counted − Expected: negative is short) are
	// set once the shift is closed.
	Counted    *Money `json:"counted"`
	Difference *Money `json:"difference"`
	// Sales and Refunds count the shift's documents; Takings is their
	// total less the refunds, every payment method.
	Sales   int   `json:"sales"`
	Refunds int   `json:"refunds"`
	Takings Money `json:"takings"`
}

// ShiftRef is what a sale needs of its till's open shift.
type ShiftRef struct {
	ID         string
	LocationID string
}

// Marks are a position in a location's documents in stored order: the
// newest sale, refund and shift at one moment ("" when there was none).
// Everything stored later comes after them, which is how a shift and a Z
// report know their documents without trusting any clock.
type Marks struct {
	Sale   string `json:"saleId"`
	Return string `json:"returnId"`
	Shift  string `json:"shiftId"`
}

// ShiftInput is the body of POST /shifts.
type ShiftInput struct {
	LocationID string          `json:"locationId,omitempty"`
	Float      json.RawMessage `json:"float"`
	CashierID  *string         `json:"cashierId,omitempty"`
	At         *string         `json:"at,omitempty"`
	Note       string          `json:"note,omitempty"`
}

// CashMovementInput is the body of POST /shifts/{id}/cash-movements.
type CashMovementInput struct {
	Type      string          `json:"type"`
	Amount    json.RawMessage `json:"amount"`
	Reason    string          `json:"reason"`
	CashierID *string         `json:"cashierId,omitempty"`
	At        *string         `json:"at,omitempty"`
}

// CloseShiftInput is the body of POST /shifts/{id}/close: the counted cash,
// as a sum, by denomination, or both (they must agree).
type CloseShiftInput struct {
	Counted       json.RawMessage     `json:"counted,omitempty"`
	Denominations []DenominationInput `json:"denominations,omitempty"`
	CashierID     *string             `json:"cashierId,omitempty"`
	ApprovalID    *string             `json:"approvalId,omitempty"`
	At            *string             `json:"at,omitempty"`
	Note          string              `json:"note,omitempty"`
}

// DenominationInput is one line of a count.
type DenominationInput struct {
	Value json.RawMessage `json:"value"`
	Count json.RawMessage `json:"count"`
}

// CurrentShift is the ID a till uses for its own open shift.
const CurrentShift = "current"

// parseAt reads the till's time of an event; without one, posd's is used.
func parseAt(at *string, field string) (*time.Time, error) {
	if at == nil {
		return nil, nil
	}
	t, err := time.Parse(time.RFC3339Nano, *at)
	if err != nil {
		return nil, fieldErr(field, "must be an RFC 3339 time such as 2026-11-27T10:42:00Z")
	}
	t = t.UTC().Truncate(time.Millisecond)
	if t.Year() < 2000 || t.Year() > 9999 {
		return nil, fieldErr(field, "must be a time between the years 2000 and 9999")
	}
	return &t, nil
}

func eventAt(at *time.Time, now time.Time) time.Time {
	if at != nil {
		return *at
	}
	return now
}

// checkCashier loads the named cashier (nil: none named).
func checkCashier(tx Tx, business string, id *string, field string) (*string, error) {
	if id == nil {
		return nil, nil
	}
	c, err := getCashier(tx, business, *id, field)
	if err != nil {
		return nil, err
	}
	return &c.ID, nil
}

func checkNote(note, field string) (string, error) {
	note = strings.TrimSpace(note)
	if note == "" {
		return "", nil
	}
	return note, checkText(note, field, 1, 500)
}

// OpenShift opens a shift on the actor's till with a float. A till has one
// open shift at a time. The till is the token: normally a till's, though an
// owner ringing sales up with the owner token has shifts of its own too.
func (s *Service) OpenShift(ctx context.Context, a *Actor, key IdempotencyKey, in ShiftInput) (*Outcome[*Shift], error) {
	if err := a.Can(PermSell); err != nil {
		return nil, err
	}
	loc := in.LocationID
	switch {
	case a.LocationID != "" && loc == "":
		loc = a.LocationID
	case a.LocationID != "" && loc != a.LocationID:
		return nil, Errorf(EFORBIDDEN, "this till token may only open shifts at its own location")
	case loc == "":
		return nil, fieldErr("locationId", "is required for a till not bound to a location")
	}
	float, err := parseMoney(in.Float, "float", false)
	if err != nil {
		return nil, err
	}
	at, err := parseAt(in.At, "at")
	if err != nil {
		return nil, err
	}
	note, err := checkNote(in.Note, "note")
	if err != nil {
		return nil, err
	}
	return write(s, ctx, a, key, opOpenShift, "", in, func(tx Tx, now time.Time) (*Shift, DocRef, error) {
		biz, err := tx.Business(a.BusinessID)
		if err != nil {
			return nil, DocRef{}, err
		}
		if _, err := getLocation(tx, a.BusinessID, loc, "locationId"); err != nil {
			return nil, DocRef{}, err
		}
		cashier, err := checkCashier(tx, a.BusinessID, in.CashierID, "cashierId")
		if err != nil {
			return nil, DocRef{}, err
		}
		if open, err := tx.OpenShift(a.BusinessID, a.TokenID); err == nil {
			return nil, DocRef{}, &Error{Code: EINVALIDSTATE, Message: fmt.Sprintf("this till has an open shift already (%s); close it first", open.ID)}
		} else if !IsNotFound(err) {
			return nil, DocRef{}, err
		}
		since, err := marksNow(tx, a.BusinessID, loc)
		if err != nil {
			return nil, DocRef{}, err
		}
		sh := &Shift{ID: NewID(now), LocationID: loc, TillID: a.TokenID, Status: ShiftOpen, Float: float, Currency: biz.Currency,
			Opened:    ShiftEvent{At: eventAt(at, now), ReceivedAt: now, CashierID: cashier, TokenID: a.TokenID, Note: note},
			Movements: []CashMovement{}, Since: since, BusinessID: a.BusinessID}
		sh.Cash = ShiftCash{Float: float, Expected: float}
		if err := tx.PutShift(sh); err != nil {
			return nil, DocRef{}, err
		}
		return sh, DocRef{Kind: KindShift, ID: sh.ID}, nil
	})
}

// shiftFor loads the shift an event names: the till's own open one for
// CurrentShift.
func shiftFor(tx Tx, a *Actor, id string) (*Shift, error) {
	if id == CurrentShift {
		ref, err := tx.OpenShift(a.BusinessID, a.TokenID)
		if IsNotFound(err) {
			return nil, Errorf(EINVALIDSTATE, "this till has no open shift; open one first")
		}
		if err != nil {
			return nil, err
		}
		id = ref.ID
	}
	sh, err := getShift(tx, a.BusinessID, id)
	if err != nil {
		return nil, err
	}
	// A till sees its own shifts only; managers see all.
	if a.Role == RoleTill && sh.TillID != a.TokenID {
		return nil, notFound("shift", "")
	}
	return sh, nil
}

func getShift(tx Tx, business, id string) (*Shift, error) {
	if !validID(id) {
		return nil, notFound("shift", "")
	}
	sh, err := tx.Shift(business, id)
	if IsNotFound(err) {
		return nil, notFound("shift", "")
	}
	return sh, err
}

// AddCashMovement records a pay-in or pay-out on an open shift.
func (s *Service) AddCashMovement(ctx context.Context, a *Actor, key IdempotencyKey, shiftID string, in CashMovementInput) (*Outcome[*Shift], error) {
	if err := a.Can(PermSell); err != nil {
		return nil, err
	}
	switch in.Type {
	case PayIn, PayOut:
	case "":
		return nil, fieldErr("type", "is required")
	default:
		return nil, fieldErr("type", "must be pay_in or pay_out")
	}
	amount, err := parseMoney(in.Amount, "amount", false)
	if err != nil {
		return nil, err
	}
	if amount <= 0 {
		return nil, fieldErr("amount", "must be positive")
	}
	reason := strings.TrimSpace(in.Reason)
	if err := checkText(reason, "reason", 1, 200); err != nil {
		return nil, err
	}
	at, err := parseAt(in.At, "at")
	if err != nil {
		return nil, err
	}
	return write(s, ctx, a, key, opCashMovement, shiftID, in, func(tx Tx, now time.Time) (*Shift, DocRef, error) {
		sh, err := shiftFor(tx, a, shiftID)
		if err != nil {
			return nil, DocRef{}, err
		}
		if sh.Status != ShiftOpen {
			return nil, DocRef{}, Errorf(EINVALIDSTATE, "the shift is closed; cash can move only in an open shift")
		}
		cashier, err := checkCashier(tx, a.BusinessID, in.CashierID, "cashierId")
		if err != nil {
			return nil, DocRef{}, err
		}
		sh.Movements = append(sh.Movements, CashMovement{ID: NewID(now), Type: in.Type, Amount: amount, Reason: reason,
			ShiftEvent: ShiftEvent{At: eventAt(at, now), ReceivedAt: now, CashierID: cashier, TokenID: a.TokenID}})
		if err := s.shiftCash(tx, sh); err != nil {
			return nil, DocRef{}, err
		}
		if err := tx.PutShift(sh); err != nil {
			return nil, DocRef{}, err
		}
		return sh, DocRef{Kind: KindShift, ID: sh.ID}, nil
	})
}

// parseCount reads the counted cash of a close.
func parseCount(in CloseShiftInput) (Money, []Denomination, error) {
	var counted Money
	var denoms []Denomination
	if len(in.Denominations) > 100 {
		return 0, nil, fieldErr("denominations", "may have at most 100 lines")
	}
	seen := map[Money]bool{}
	for i, d := range in.Denominations {
		f := fmt.Sprintf("denominations[%d]", i)
		v, err := parseMoney(d.Value, f+".value", false)
		if err != nil {
			return 0, nil, err
		}
		if v <= 0 {
			return 0, nil, fieldErr(f+".value", "must be positive")
		}
		if seen[v] {
			return 0, nil, fieldErr(f+".value", "lists a value twice")
		}
		seen[v] = true
		n, err := parseQuantity(d.Count, f+".count", false)
		if err != nil {
			return 0, nil, err
		}
		if n%QuantityScale != 0 || n > 1_000_000*QuantityScale {
			return 0, nil, fieldErr(f+".count", "must be a whole number up to 1000000")
		}
		c := int64(n / QuantityScale)
		line, ok := mulDivRound(int64(v), c, 1)
		if !ok {
			return 0, nil, fieldErr(f, "is too large")
		}
		if counted, ok = addMoney(counted, Money(line)); !ok {
			return 0, nil, fieldErr("denominations", "add up to too much")
		}
		denoms = append(denoms, Denomination{Value: v, Count: c})
	}
	if len(in.Counted) > 0 && string(in.Counted) != "null" {
		c, err := parseMoney(in.Counted, "counted", false)
		if err != nil {
			return 0, nil, err
		}
		if denoms != nil && c != counted {
			return 0, nil, fieldErr("counted", "is %d but the denominations add up to %d", c, counted)
		}
		counted = c
	} else if denoms == nil {
		return 0, nil, fieldErr("counted", "is required (or denominations)")
	}
	return counted, denoms, nil
}

// CloseShift closes a shift with the counted cash and answers expected,
// counted and difference. A difference over the shop's limit needs a
// manager's approval; without one the shift still closes, marked
// NeedsApproval. Owner and manager tokens may close any till's shift (a
// till that broke).
func (s *Service) CloseShift(ctx context.Context, a *Actor, key IdempotencyKey, shiftID string, in CloseShiftInput) (*Outcome[*Shift], error) {
	if err := a.Can(PermSell); err != nil {
		return nil, err
	}
	counted, denoms, err := parseCount(in)
	if err != nil {
		return nil, err
	}
	at, err := parseAt(in.At, "at")
	if err != nil {
		return nil, err
	}
	note, err := checkNote(in.Note, "note")
	if err != nil {
		return nil, err
	}
	return write(s, ctx, a, key, opCloseShift, shiftID, in, func(tx Tx, now time.Time) (*Shift, DocRef, error) {
		biz, err := tx.Business(a.BusinessID)
		if err != nil {
			return nil, DocRef{}, err
		}
		sh, err := shiftFor(tx, a, shiftID)
		if err != nil {
			return nil, DocRef{}, err
		}
		if sh.Status != ShiftOpen {
			return nil, DocRef{}, Errorf(EINVALIDSTATE, "the shift is closed already")
		}
		cashier, err := checkCashier(tx, a.BusinessID, in.CashierID, "cashierId")
		if err != nil {
			return nil, DocRef{}, err
		}
		if err := s.shiftCash(tx, sh); err != nil {
			return nil, DocRef{}, err
		}
		diff := counted - sh.Cash.Expected
		sh.Cash.Counted, sh.Cash.Difference = &counted, &diff
		cl := &ShiftClose{ShiftEvent: ShiftEvent{At: eventAt(at, now), ReceivedAt: now, CashierID: cashier, TokenID: a.TokenID, Note: note},
			Denominations: denoms}
		ref := DocRef{Kind: KindShift, ID: sh.ID}
		if in.ApprovalID != nil {
			if cl.ApprovedBy, err = useApproval(tx, a, *in.ApprovalID, ApproveCashDifference, ref); err != nil {
				return nil, DocRef{}, err
			}
		}
		if lim := biz.Settings.CashDifferenceLimit; lim != nil && abs(diff) > *lim && cl.ApprovedBy == nil && a.Role == RoleTill {
			cl.NeedsApproval = true
		}
		sh.Status, sh.Closed = ShiftClosed, cl
		if err := tx.PutShift(sh); err != nil {
			return nil, DocRef{}, err
		}
		return sh, ref, nil
	})
}

func abs(m Money) Money {
	if m < 0 {
		return -m
	}
	return m
}

// Shift returns a shift; an open one with its cash so far. A till sees its
// own shifts; CurrentShift is its open one.
func (s *Service) Shift(ctx context.Context, a *Actor, id string) (*Shift, error) {
	var out *Shift
	err := s.view(ctx, a, PermRead, func(tx Tx) error {
		sh, err := shiftFor(tx, a, id)
		if err != nil {
			if id == CurrentShift && ErrorCode(err) == EINVALIDSTATE {
				return notFound("open shift", "")
			}
			return err
		}
		if sh.Status == ShiftOpen {
			if err := s.shiftCash(tx, sh); err != nil {
				return err
			}
		}
		out = sh
		return nil
	})
	return out, err
}

// ShiftFilter narrows a listing of shifts.
type ShiftFilter struct {
	LocationID string
	// Status keeps open or closed shifts only.
	Status string
	Cursor string
	Limit  int
}

// Shifts lists a location's shifts, newest first (owner or manager); open
// ones with their cash so far.
func (s *Service) Shifts(ctx context.Context, a *Actor, f ShiftFilter) ([]*Shift, string, error) {
	if f.Limit == 0 {
		f.Limit = 50
	}
	if f.Limit < 1 || f.Limit > 200 {
		return nil, "", fieldErr("limit", "must be between 1 and 200")
	}
	switch f.Status {
	case "", ShiftOpen, ShiftClosed:
	default:
		return nil, "", fieldErr("status", "must be open or closed")
	}
	out := []*Shift{}
	var next string
	err := s.view(ctx, a, PermManage, func(tx Tx) error {
		if _, err := getLocation(tx, a.BusinessID, f.LocationID, "locationId"); err != nil {
			return err
		}
		cur := f.Cursor
		for {
			page, n, err := tx.Shifts(a.BusinessID, SaleFilter{LocationID: f.LocationID, Cursor: cur, Limit: f.Limit, Newest: true})
			if err != nil {
				return err
			}
			for _, sh := range page {
				if f.Status != "" && sh.Status != f.Status {
					continue
				}
				if sh.Status == ShiftOpen {
					if err := s.shiftCash(tx, sh); err != nil {
						return err
					}
				}
				out = append(out, sh)
			}
			// A filtered page may come up short; the cursor still moves on.
			if n == "" || len(out) >= f.Limit || f.Status == "" {
				next = n
				return nil
			}
			cur = n
		}
	})
	return out, next, err
}

// shiftCash works out a shift's cash from its documents and movements.
func (s *Service) shiftCash(tx Tx, sh *Shift) error {
	c := ShiftCash{Float: sh.Float}
	for _, m := range sh.Movements {
		if m.Type == PayIn {
			c.PayIns += m.Amount
		} else {
			c.PayOuts += m.Amount
		}
	}
	err := walkSince(tx, sh.BusinessID, sh.LocationID, sh.Since, func(sl *Sale) error {
		if sl.ShiftID != sh.ID {
			return nil
		}
		c.Sales++
		c.Takings += sl.Total
		c.CashSales += cashTendered(sl)
		c.Change += sl.Change
		return nil
	}, func(r *Return) error {
		if r.ShiftID != sh.ID {
			return nil
		}
		c.Refunds++
		c.Takings -= r.Total
		if m, err := returnMethod(tx, r); err != nil {
			return err
		} else if m == MethodCash {
			c.CashRefunds += r.Total
		}
		return nil
	})
	if err != nil {
		return err
	}
	c.Expected = c.Float + c.CashSales - c.Change + c.PayIns - c.PayOuts - c.CashRefunds
	if sh.Cash.Counted != nil {
		c.Counted, c.Difference = sh.Cash.Counted, sh.Cash.Difference
	}
	sh.Cash = c
	return nil
}

// cashTendered is the cash a sale's customer handed over.
func cashTendered(sl *Sale) Money {
	var m Money
	for _, p := range sl.Payments {
		if p.Method == MethodCash {
			m += p.Amount
		}
	}
	return m
}
