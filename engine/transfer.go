package engine

import (
	"context"
	"fmt"
	"time"
)

// Transfer moves stock between two locations of a business: drafted, sent
// (numbered, stock leaves the source) and received (stock arrives).
type Transfer struct {
	ID             string           `json:"id"`
	Status         string           `json:"status"`
	TransferNumber *string          `json:"transferNumber"`
	FromLocationID string           `json:"fromLocationId"`
	ToLocationID   string           `json:"toLocationId"`
	Items          []AdjustmentItem `json:"items"`
	CreatedAt      time.Time        `json:"createdAt"`
	SentAt         *time.Time       `json:"sentAt"`
	ReceivedAt     *time.Time       `json:"receivedAt"`
	// ChainLink is set when the transfer is sent and numbered.
	ChainLink
	BusinessID string `json:"-"`
}

// TransferInput is the body of POST /transfers.
type TransferInput struct {
	FromLocationID string      `json:"fromLocationId"`
	ToLocationID   string      `json:"toLocationId"`
	Items          []ItemInput `json:"items"`
}

// CreateTransfer drafts a transfer.
func (s *Service) CreateTransfer(ctx context.Context, a *Actor, key IdempotencyKey, in TransferInput) (*Outcome[*Transfer], error) {
	if err := a.Can(PermManage); err != nil {
		return nil, err
	}
	if in.FromLocationID == "" {
		return nil, fieldErr("fromLocationId", "is required")
	}
	if in.ToLocationID == "" {
		return nil, fieldErr("toLocationId", "is required")
	}
	if in.FromLocationID == in.ToLocationID {
		return nil, fieldErr("toLocationId", "must differ from fromLocationId")
	}
	items, err := parseItems(in.Items, false)
	if err != nil {
		return nil, err
	}
	return write(s, ctx, a, key, opCreateTransfer, "", in, func(tx Tx, now time.Time) (*Transfer, DocRef, error) {
		if _, err := getLocation(tx, a.BusinessID, in.FromLocationID, "fromLocationId"); err != nil {
			return nil, DocRef{}, err
		}
		if _, err := getLocation(tx, a.BusinessID, in.ToLocationID, "toLocationId"); err != nil {
			return nil, DocRef{}, err
		}
		for i, it := range items {
			if _, err := getProduct(tx, a.BusinessID, it.ProductID, fmt.Sprintf("items[%d].productId", i), false); err != nil {
				return nil, DocRef{}, err
			}
		}
		t := &Transfer{ID: NewID(now), Status: StatusDraft, FromLocationID: in.FromLocationID, ToLocationID: in.ToLocationID, Items: items, CreatedAt: now, BusinessID: a.BusinessID}
		if err := tx.PutTransfer(t); err != nil {
			return nil, DocRef{}, err
		}
		return t, DocRef{Kind: KindTransfer, ID: t.ID}, nil
	})
}

// SendTransfer sends a draft transfer: it is numbered and its goods leave
// the source. Unlike a sale, a transfer is a plan that can wait, so it is
// refused (ErrInsufficientStock) if it would take the source below zero.
func (s *Service) SendTransfer(ctx context.Context, a *Actor, key IdempotencyKey, id string) (*Outcome[*Transfer], error) {
	if err := a.Can(PermManage); err != nil {
		return nil, err
	}
	return write(s, ctx, a, key, opSendTransfer, id, EmptyInput{}, func(tx Tx, now time.Time) (*Transfer, DocRef, error) {
		t, err := getTransfer(tx, a.BusinessID, id)
		if err != nil {
			return nil, DocRef{}, err
		}
		if t.Status != StatusDraft {
			return nil, DocRef{}, Errorf(EINVALIDSTATE, "the transfer is %s; only a draft can be sent", t.Status)
		}
		need := map[string]Quantity{}
		for _, it := range t.Items {
			need[it.ProductID] += it.Quantity
		}
		for i, it := range t.Items {
			have, err := tx.Stock(a.BusinessID, t.FromLocationID, it.ProductID)
			if err != nil {
				return nil, DocRef{}, err
			}
			if have < need[it.ProductID] {
				return nil, DocRef{}, &Error{Code: EINSUFFICIENTSTOCK, Field: fmt.Sprintf("items[%d].quantity", i),
					Message: fmt.Sprintf("the source location has %s of this product; the transfer needs %s", have, need[it.ProductID])}
			}
		}
		biz, err := tx.Business(a.BusinessID)
		if err != nil {
			return nil, DocRef{}, err
		}
		ref := DocRef{Kind: KindTransfer, ID: t.ID}
		t.Status, t.SentAt = StatusInTransit, &now
		if err := numberAndLink(tx, biz, PrefixTransfer, now, ref, t, func(n string) { t.TransferNumber = &n }); err != nil {
			return nil, DocRef{}, err
		}
		if err := move(tx, a.BusinessID, t.FromLocationID, ref, now, t.Items, -1); err != nil {
			return nil, DocRef{}, err
		}
		if err := tx.PutTransfer(t); err != nil {
			return nil, DocRef{}, err
		}
		return t, DocRef{Kind: KindTransfer, ID: t.ID}, nil
	})
}

// ReceiveTransfer receives a sent transfer: its goods arrive at the
// destination.
func (s *Service) ReceiveTransfer(ctx context.Context, a *Actor, key IdempotencyKey, id string) (*Outcome[*Transfer], error) {
	if err := a.Can(PermManage); err != nil {
		return nil, err
	}
	return write(s, ctx, a, key, opReceiveXfer, id, EmptyInput{}, func(tx Tx, now time.Time) (*Transfer, DocRef, error) {
		t, err := getTransfer(tx, a.BusinessID, id)
		if err != nil {
			return nil, DocRef{}, err
		}
		if t.Status != StatusInTransit {
			return nil, DocRef{}, Errorf(EINVALIDSTATE, "the transfer is %s; only a sent transfer can be received", t.Status)
		}
		ref := DocRef{Kind: KindTransfer, ID: t.ID}
		if err := move(tx, a.BusinessID, t.ToLocationID, ref, now, t.Items, 1); err != nil {
			return nil, DocRef{}, err
		}
		t.Status, t.ReceivedAt = StatusReceived, &now
		if err := tx.PutTransfer(t); err != nil {
			return nil, DocRef{}, err
		}
		return t, DocRef{Kind: KindTransfer, ID: t.ID}, nil
	})
}

// Transfer returns one transfer.
func (s *Service) Transfer(ctx context.Context, a *Actor, id string) (*Transfer, error) {
	var out *Transfer
	err := s.view(ctx, a, PermManage, func(tx Tx) error {
		var err error
		out, err = getTransfer(tx, a.BusinessID, id)
		return err
	})
	return out, err
}

func getTransfer(tx Tx, business, id string) (*Transfer, error) {
	if !validID(id) {
		return nil, notFound("transfer", "")
	}
	t, err := tx.Transfer(business, id)
	if IsNotFound(err) {
		return nil, notFound("transfer", "")
	}
	return t, err
}
