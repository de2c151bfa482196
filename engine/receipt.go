package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Receipt statuses. A receipt is drafted when goods arrive and approved once
// checked; only approval numbers it and adds the stock.
const (
	StatusDraft     = "draft"
	StatusApproved  = "approved"
	StatusInTransit = "in_transit"
	StatusReceived  = "received"
)

// Receipt is a purchase receipt: goods received from a supplier.
type Receipt struct {
	ID            string        `json:"id"`
	Status        string        `json:"status"`
	ReceiptNumber *string       `json:"receiptNumber"`
	LocationID    string        `json:"locationId"`
	Supplier      string        `json:"supplier"`
	Items         []ReceiptLine `json:"items"`
	// Total is the cost of the goods.
	Total      Money      `json:"total"`
	CreatedAt  time.Time  `json:"createdAt"`
	ApprovedAt *time.Time `json:"approvedAt"`
	// ChainLink is set when the receipt is approved and numbered.
	ChainLink
	BusinessID string `json:"-"`
}

// ReceiptLine is one received product.
type ReceiptLine struct {
	ProductID string   `json:"productId"`
	Quantity  Quantity `json:"quantity"`
	UnitCost  Money    `json:"unitCost"`
	LineTotal Money    `json:"lineTotal"`
}

// ReceiptInput is the body of POST /purchases/receipts.
type ReceiptInput struct {
	LocationID string             `json:"locationId"`
	Supplier   string             `json:"supplier"`
	Items      []ReceiptItemInput `json:"items"`
}

// ReceiptItemInput is one requested receipt line.
type ReceiptItemInput struct {
	ProductID string          `json:"productId"`
	Quantity  json.RawMessage `json:"quantity"`
	UnitCost  json.RawMessage `json:"unitCost"`
}

// EmptyInput is the body of the state-changing POSTs: {}.
type EmptyInput struct{}

// CreateReceipt drafts a purchase receipt.
func (s *Service) CreateReceipt(ctx context.Context, a *Actor, key IdempotencyKey, in ReceiptInput) (*Outcome[*Receipt], error) {
	if err := a.Can(PermManage); err != nil {
		return nil, err
	}
	supplier := strings.TrimSpace(in.Supplier)
	if err := checkText(supplier, "supplier", 1, 200); err != nil {
		return nil, err
	}
	if len(in.Items) == 0 {
		return nil, fieldErr("items", "needs at least one line")
	}
	if len(in.Items) > MaxLines {
		return nil, ErrTooManyLines
	}
	lines := make([]ReceiptLine, len(in.Items))
	var total Money
	for i, it := range in.Items {
		f := fmt.Sprintf("items[%d]", i)
		if it.ProductID == "" {
			return nil, fieldErr(f+".productId", "is required")
		}
		q, err := parseQuantity(it.Quantity, f+".quantity", false)
		if err != nil {
			return nil, err
		}
		if q <= 0 {
			return nil, fieldErr(f+".quantity", "must be positive")
		}
		cost, err := parseMoney(it.UnitCost, f+".unitCost", false)
		if err != nil {
			return nil, err
		}
		amount, err := lineAmount(cost, q, f)
		if err != nil {
			return nil, err
		}
		var ok bool
		if total, ok = addMoney(total, amount); !ok {
			return nil, fieldErr("items", "add up to a total that is too large")
		}
		lines[i] = ReceiptLine{ProductID: it.ProductID, Quantity: q, UnitCost: cost, LineTotal: amount}
	}
	return write(s, ctx, a, key, opCreateReceipt, "", in, func(tx Tx, now time.Time) (*Receipt, DocRef, error) {
		if _, err := getLocation(tx, a.BusinessID, in.LocationID, "locationId"); err != nil {
			return nil, DocRef{}, err
		}
		for i, l := range lines {
			if _, err := getProduct(tx, a.BusinessID, l.ProductID, fmt.Sprintf("items[%d].productId", i), false); err != nil {
				return nil, DocRef{}, err
			}
		}
		r := &Receipt{ID: NewID(now), Status: StatusDraft, LocationID: in.LocationID, Supplier: supplier, Items: lines, Total: total, CreatedAt: now, BusinessID: a.BusinessID}
		if err := tx.PutReceipt(r); err != nil {
			return nil, DocRef{}, err
		}
		return r, DocRef{Kind: KindReceipt, ID: r.ID}, nil
	})
}

// ApproveReceipt approves a draft receipt: it is numbered and its goods are
// added to stock, in one transaction.
func (s *Service) ApproveReceipt(ctx context.Context, a *Actor, key IdempotencyKey, id string) (*Outcome[*Receipt], error) {
	if err := a.Can(PermManage); err != nil {
		return nil, err
	}
	return write(s, ctx, a, key, opApproveReceipt, id, EmptyInput{}, func(tx Tx, now time.Time) (*Receipt, DocRef, error) {
		r, err := getReceipt(tx, a.BusinessID, id)
		if err != nil {
			return nil, DocRef{}, err
		}
		if r.Status != StatusDraft {
			return nil, DocRef{}, Errorf(EINVALIDSTATE, "the receipt is %s; only a draft can be approved", r.Status)
		}
		biz, err := tx.Business(a.BusinessID)
		if err != nil {
			return nil, DocRef{}, err
		}
		ref := DocRef{Kind: KindReceipt, ID: r.ID}
		r.Status, r.ApprovedAt = StatusApproved, &now
		if err := numberAndLink(tx, biz, PrefixReceipt, now, ref, r, func(n string) { r.ReceiptNumber = &n }); err != nil {
			return nil, DocRef{}, err
		}
		for _, l := range r.Items {
			if err := tx.AddMovement(&Movement{BusinessID: a.BusinessID, LocationID: r.LocationID, ProductID: l.ProductID, Quantity: l.Quantity, Doc: ref, At: now}); err != nil {
				return nil, DocRef{}, err
			}
		}
		if err := tx.PutReceipt(r); err != nil {
			return nil, DocRef{}, err
		}
		return r, DocRef{Kind: KindReceipt, ID: r.ID}, nil
	})
}

// Receipt returns one purchase receipt.
func (s *Service) Receipt(ctx context.Context, a *Actor, id string) (*Receipt, error) {
	var out *Receipt
	err := s.view(ctx, a, PermManage, func(tx Tx) error {
		var err error
		out, err = getReceipt(tx, a.BusinessID, id)
		return err
	})
	return out, err
}

func getReceipt(tx Tx, business, id string) (*Receipt, error) {
	if !validID(id) {
		return nil, notFound("receipt", "")
	}
	r, err := tx.Receipt(business, id)
	if IsNotFound(err) {
		return nil, notFound("receipt", "")
	}
	return r, err
}
