package client

import (
	"context"
	"net/url"
	"strconv"
	"time"

	"posd/engine"
)

// CashierRequest is the body of POST /api/cashiers.
type CashierRequest struct {
	Name string             `json:"name"`
	Role engine.CashierRole `json:"role"`
	PIN  string             `json:"pin"`
}

// CashierPatch is the body of PATCH /api/cashiers/{id}.
type CashierPatch struct {
	Name   *string             `json:"name,omitempty"`
	Role   *engine.CashierRole `json:"role,omitempty"`
	PIN    *string             `json:"pin,omitempty"`
	Active *bool               `json:"active,omitempty"`
}

// SettingsPatch is the body of PATCH /api/settings. Set
// ClearCashDifferenceLimit to turn the approval of cash differences off.
type SettingsPatch struct {
	RefundsNeedApproval *bool
	CashDifferenceLimit *engine.Money
	ClearLimit          bool
}

// ShiftRequest is the body of POST /api/shifts.
type ShiftRequest struct {
	LocationID string       `json:"locationId,omitempty"`
	Float      engine.Money `json:"float"`
	CashierID  *string      `json:"cashierId,omitempty"`
	At         *time.Time   `json:"at,omitempty"`
	Note       string       `json:"note,omitempty"`
}

// CashMovementRequest is the body of POST /api/shifts/{id}/cash-movements.
type CashMovementRequest struct {
	Type      string       `json:"type"`
	Amount    engine.Money `json:"amount"`
	Reason    string       `json:"reason"`
	CashierID *string      `json:"cashierId,omitempty"`
	At        *time.Time   `json:"at,omitempty"`
}

// CloseShiftRequest is the body of POST /api/shifts/{id}/close.
type CloseShiftRequest struct {
	Counted       *engine.Money         `json:"counted,omitempty"`
	Denominations []engine.Denomination `json:"denominations,omitempty"`
	CashierID     *string               `json:"cashierId,omitempty"`
	ApprovalID    *string               `json:"approvalId,omitempty"`
	At            *time.Time            `json:"at,omitempty"`
	Note          string                `json:"note,omitempty"`
}

// ApprovalRequest is the body of POST /api/approvals.
type ApprovalRequest struct {
	PIN       string  `json:"pin"`
	Action    string  `json:"action"`
	CashierID *string `json:"cashierId,omitempty"`
}

// Settings returns the shop's settings.
func (c *Client) Settings(ctx context.Context) (*engine.Settings, error) {
	var out engine.Settings
	_, err := c.call(ctx, "GET", "/api/settings", "", nil, &out)
	return &out, err
}

// UpdateSettings changes the shop's settings.
func (c *Client) UpdateSettings(ctx context.Context, in SettingsPatch) (*engine.Settings, error) {
	body := map[string]any{}
	if in.RefundsNeedApproval != nil {
		body["refundsNeedApproval"] = *in.RefundsNeedApproval
	}
	if in.CashDifferenceLimit != nil {
		body["cashDifferenceLimit"] = *in.CashDifferenceLimit
	} else if in.ClearLimit {
		body["cashDifferenceLimit"] = nil
	}
	var out engine.Settings
	_, err := c.call(ctx, "PATCH", "/api/settings", "", body, &out)
	return &out, err
}

// CreateCashier adds a cashier.
func (c *Client) CreateCashier(ctx context.Context, key string, in CashierRequest) (*engine.Cashier, error) {
	var out engine.Cashier
	_, err := c.call(ctx, "POST", "/api/cashiers", key, in, &out)
	return &out, err
}

// Cashiers lists the cashiers (active ones unless all).
func (c *Client) Cashiers(ctx context.Context, all bool) ([]*engine.Cashier, error) {
	var out struct {
		Cashiers []*engine.Cashier `json:"cashiers"`
	}
	_, err := c.call(ctx, "GET", "/api/cashiers?includeInactive="+strconv.FormatBool(all), "", nil, &out)
	return out.Cashiers, err
}

// UpdateCashier changes a cashier.
func (c *Client) UpdateCashier(ctx context.Context, id string, in CashierPatch) (*engine.Cashier, error) {
	var out engine.Cashier
	_, err := c.call(ctx, "PATCH", "/api/cashiers/"+esc(id), "", in, &out)
	return &out, err
}

// SignIn checks a PIN at the till and returns whose it is.
func (c *Client) SignIn(ctx context.Context, pin string, cashierID *string) (*engine.Cashier, error) {
	var out engine.Cashier
	_, err := c.call(ctx, "PUT", "/api/tills/current/cashier", "", engine.SignInInput{PIN: pin, CashierID: cashierID}, &out)
	return &out, err
}

// Approve asks for a manager's approval by PIN.
func (c *Client) Approve(ctx context.Context, key string, in ApprovalRequest) (*engine.Approval, error) {
	var out engine.Approval
	_, err := c.call(ctx, "POST", "/api/approvals", key, in, &out)
	return &out, err
}

// OpenShift opens a shift on this till.
func (c *Client) OpenShift(ctx context.Context, key string, in ShiftRequest) (*engine.Shift, error) {
	var out engine.Shift
	_, err := c.call(ctx, "POST", "/api/shifts", key, in, &out)
	return &out, err
}

// CashMovement records a pay-in or pay-out; id is a shift's ID, or
// engine.CurrentShift for this till's open shift.
func (c *Client) CashMovement(ctx context.Context, key, id string, in CashMovementRequest) (*engine.Shift, error) {
	var out engine.Shift
	_, err := c.call(ctx, "POST", "/api/shifts/"+esc(id)+"/cash-movements", key, in, &out)
	return &out, err
}

// CloseShift closes a shift with the counted cash.
func (c *Client) CloseShift(ctx context.Context, key, id string, in CloseShiftRequest) (*engine.Shift, error) {
	var out engine.Shift
	_, err := c.call(ctx, "POST", "/api/shifts/"+esc(id)+"/close", key, in, &out)
	return &out, err
}

// Shift returns a shift (engine.CurrentShift: this till's open one).
func (c *Client) Shift(ctx context.Context, id string) (*engine.Shift, error) {
	var out engine.Shift
	_, err := c.call(ctx, "GET", "/api/shifts/"+esc(id), "", nil, &out)
	return &out, err
}

// Shifts lists a location's shifts, newest first; status "" for all.
func (c *Client) Shifts(ctx context.Context, locationID, status string) ([]*engine.Shift, error) {
	v := url.Values{"locationId": {locationID}}
	if status != "" {
		v.Set("status", status)
	}
	var out struct {
		Shifts []*engine.Shift `json:"shifts"`
	}
	_, err := c.call(ctx, "GET", "/api/shifts?"+v.Encode(), "", nil, &out)
	return out.Shifts, err
}

// CreateZReport closes a location's business day.
func (c *Client) CreateZReport(ctx context.Context, key, locationID string) (*engine.ZReport, error) {
	var out engine.ZReport
	_, err := c.call(ctx, "POST", "/api/z-reports", key, engine.ZReportInput{LocationID: locationID}, &out)
	return &out, err
}

// ZReports lists a location's Z reports, newest first (the first page).
func (c *Client) ZReports(ctx context.Context, locationID string) ([]*engine.ZReport, error) {
	var out struct {
		ZReports []*engine.ZReport `json:"zReports"`
	}
	_, err := c.call(ctx, "GET", "/api/z-reports?locationId="+url.QueryEscape(locationID), "", nil, &out)
	return out.ZReports, err
}

// ZReport returns one Z report.
func (c *Client) ZReport(ctx context.Context, id string) (*engine.ZReport, error) {
	var out engine.ZReport
	_, err := c.call(ctx, "GET", "/api/z-reports/"+esc(id), "", nil, &out)
	return &out, err
}

// XReport returns a location's open day so far.
func (c *Client) XReport(ctx context.Context, locationID string) (*engine.XReport, error) {
	var out engine.XReport
	_, err := c.call(ctx, "GET", "/api/x-report?locationId="+url.QueryEscape(locationID), "", nil, &out)
	return &out, err
}
