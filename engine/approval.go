package engine

import (
	"context"
	"time"
)

// An approval is a manager's PIN typed at a till for one thing the shop's
// settings say needs a manager: a refund, or closing a shift whose count is
// off by more than the limit. The till asks posd for it (POST /approvals)
// while the manager stands there, and sends the approval's ID with the
// refund or the close, which may then wait in the till's queue like any
// other write: the PIN itself is never queued or stored. An approval is
// used once, by one document of the till that asked for it.

// Approval actions.
const (
	ApproveRefund         = "refund"
	ApproveCashDifference = "cash_difference"
)

// Approval is a manager's approval by PIN.
type Approval struct {
	ID     string `json:"id"`
	Action string `json:"action"`
	// ManagerID and ManagerName are the approving manager's.
	ManagerID   string    `json:"managerId"`
	ManagerName string    `json:"managerName"`
	TillID      string    `json:"tillId"`
	CreatedAt   time.Time `json:"createdAt"`
	// UsedBy is the document the approval was used for, once it was.
	UsedBy     *DocRef `json:"usedBy"`
	BusinessID string  `json:"-"`
}

// ApprovedBy is what a document keeps of the approval it used.
type ApprovedBy struct {
	ApprovalID string `json:"approvalId"`
	ManagerID  string `json:"managerId"`
	Name       string `json:"name"`
}

// ApprovalInput is the body of POST /approvals.
type ApprovalInput struct {
	PIN    string `json:"pin"`
	Action string `json:"action"`
	// CashierID, if given, names the manager whose PIN it must be.
	CashierID *string `json:"cashierId,omitempty"`
}

// Approve checks a manager's PIN and records an approval for action.
func (s *Service) Approve(ctx context.Context, a *Actor, key IdempotencyKey, in ApprovalInput) (*Outcome[*Approval], error) {
	if err := a.Can(PermSell); err != nil {
		return nil, err
	}
	switch in.Action {
	case ApproveRefund, ApproveCashDifference:
	case "":
		return nil, fieldErr("action", "is required")
	default:
		return nil, fieldErr("action", "must be refund or cash_difference")
	}
	if key == "" {
		return nil, ErrIdempotencyMissing
	}
	if err := checkPIN(in.PIN, "pin"); err != nil {
		return nil, err
	}
	// The PIN is checked before the write, outside any transaction; a
	// retry checks it again (it is right, so nothing is counted) and is
	// answered from the record, whose fingerprint holds the PIN's key.
	m, err := s.checkPIN(ctx, a, in.PIN, in.CashierID, true)
	if err != nil {
		return nil, err
	}
	fp := cashierFingerprint{PINKey: m.PIN[:], Action: in.Action, For: in.CashierID}
	return write(s, ctx, a, key, opApprove, "", fp, func(tx Tx, now time.Time) (*Approval, DocRef, error) {
		// The manager as they are now: made inactive since the PIN check,
		// they approve nothing.
		cur, err := getCashier(tx, a.BusinessID, m.ID, "pin")
		if err != nil {
			return nil, DocRef{}, err
		}
		if !cur.Active || cur.Role != RoleStaffManager {
			return nil, DocRef{}, &Error{Code: EFORBIDDEN, Field: "pin", Message: "this PIN is no longer an active manager's"}
		}
		ap := &Approval{ID: NewID(now), Action: in.Action, ManagerID: cur.ID, ManagerName: cur.Name, TillID: a.TokenID, CreatedAt: now, BusinessID: a.BusinessID}
		if err := tx.PutApproval(ap); err != nil {
			return nil, DocRef{}, err
		}
		return ap, DocRef{Kind: KindApproval, ID: ap.ID}, nil
	})
}

// useApproval marks an approval used by ref, inside ref's transaction: it
// must be the actor's, for action, and not used before.
func useApproval(tx Tx, a *Actor, id, action string, ref DocRef) (*ApprovedBy, error) {
	if !validID(id) {
		return nil, notFound("approval", "approvalId")
	}
	ap, err := tx.Approval(a.BusinessID, id)
	if IsNotFound(err) {
		return nil, notFound("approval", "approvalId")
	}
	if err != nil {
		return nil, err
	}
	switch {
	case ap.Action != action:
		return nil, fieldErr("approvalId", "is an approval of a %s, not of a %s", ap.Action, action)
	case ap.TillID != a.TokenID && a.Role == RoleTill:
		return nil, fieldErr("approvalId", "was given at another till")
	case ap.UsedBy != nil && *ap.UsedBy != ref:
		return nil, &Error{Code: EINVALIDSTATE, Field: "approvalId", Message: "this approval was used already; ask the manager again"}
	}
	ap.UsedBy = &ref
	if err := tx.PutApproval(ap); err != nil {
		return nil, err
	}
	return &ApprovedBy{ApprovalID: ap.ID, ManagerID: ap.ManagerID, Name: ap.ManagerName}, nil
}
