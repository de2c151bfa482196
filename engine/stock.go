package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// StockLevel is the quantity of one product at one location. It may be
// negative: a sale is never refused for lack of stock, because what was sold
// at the counter happened, and the owner needs to see the shortfall.
type StockLevel struct {
	ProductID string   `json:"productId"`
	Quantity  Quantity `json:"quantity"`
}

// Movement is one entry of the stock ledger. Stock at a location always
// equals the sum of its movements; every document that changes stock writes
// its movements in the same transaction as itself.
type Movement struct {
	BusinessID string    `json:"-"`
	LocationID string    `json:"locationId"`
	ProductID  string    `json:"productId"`
	Quantity   Quantity  `json:"quantity"`
	Doc        DocRef    `json:"doc"`
	At         time.Time `json:"at"`
}

// Adjustment is a manual stock correction (a count, breakage, an opening
// balance). Quantities may be negative.
type Adjustment struct {
	ID         string           `json:"id"`
	LocationID string           `json:"locationId"`
	Items      []AdjustmentItem `json:"items"`
	Reason     string           `json:"reason"`
	CreatedAt  time.Time        `json:"createdAt"`
	BusinessID string           `json:"-"`
}

// AdjustmentItem is one line of an adjustment.
type AdjustmentItem struct {
	ProductID string   `json:"productId"`
	Quantity  Quantity `json:"quantity"`
}

// AdjustmentInput is the body of POST /stock/adjustments.
type AdjustmentInput struct {
	LocationID string      `json:"locationId"`
	Items      []ItemInput `json:"items"`
	Reason     string      `json:"reason"`
}

// ItemInput is a product and a quantity, as sent by clients.
type ItemInput struct {
	ProductID string          `json:"productId"`
	Quantity  json.RawMessage `json:"quantity"`
}

// MaxLines is the most lines a document may have.
const MaxLines = 1000

// ErrTooManyLines is returned for documents with more than MaxLines lines.
var ErrTooManyLines = &Error{Code: ETOOLARGE, Message: fmt.Sprintf("a document may have at most %d lines", MaxLines)}

// parseItems validates product/quantity lines. Negative quantities are
// allowed only for adjustments.
func parseItems(items []ItemInput, allowNegative bool) ([]AdjustmentItem, error) {
	if len(items) == 0 {
		return nil, fieldErr("items", "needs at least one line")
	}
	if len(items) > MaxLines {
		return nil, ErrTooManyLines
	}
	out := make([]AdjustmentItem, len(items))
	for i, it := range items {
		f := fmt.Sprintf("items[%d]", i)
		if it.ProductID == "" {
			return nil, fieldErr(f+".productId", "is required")
		}
		q, err := parseQuantity(it.Quantity, f+".quantity", allowNegative)
		if err != nil {
			return nil, err
		}
		if q == 0 {
			return nil, fieldErr(f+".quantity", "must not be zero")
		}
		out[i] = AdjustmentItem{ProductID: it.ProductID, Quantity: q}
	}
	return out, nil
}

// AdjustStock records a stock correction.
func (s *Service) AdjustStock(ctx context.Context, a *Actor, key IdempotencyKey, in AdjustmentInput) (*Outcome[*Adjustment], error) {
	if err := a.Can(PermManage); err != nil {
		return nil, err
	}
	items, err := parseItems(in.Items, true)
	if err != nil {
		return nil, err
	}
	reason := strings.TrimSpace(in.Reason)
	if err := checkText(reason, "reason", 1, 200); err != nil {
		return nil, err
	}
	return write(s, ctx, a, key, opAdjustStock, "", in, func(tx Tx, now time.Time) (*Adjustment, DocRef, error) {
		if _, err := getLocation(tx, a.BusinessID, in.LocationID, "locationId"); err != nil {
			return nil, DocRef{}, err
		}
		adj := &Adjustment{ID: NewID(now), LocationID: in.LocationID, Items: items, Reason: reason, CreatedAt: now, BusinessID: a.BusinessID}
		ref := DocRef{Kind: KindAdjustment, ID: adj.ID}
		for i, it := range items {
			if _, err := getProduct(tx, a.BusinessID, it.ProductID, fmt.Sprintf("items[%d].productId", i), false); err != nil {
				return nil, DocRef{}, err
			}
			if err := tx.AddMovement(&Movement{BusinessID: a.BusinessID, LocationID: in.LocationID, ProductID: it.ProductID, Quantity: it.Quantity, Doc: ref, At: now}); err != nil {
				return nil, DocRef{}, err
			}
		}
		if err := tx.PutAdjustment(adj); err != nil {
			return nil, DocRef{}, err
		}
		return adj, DocRef{Kind: KindAdjustment, ID: adj.ID}, nil
	})
}

// StockLevels lists the stock at a location.
func (s *Service) StockLevels(ctx context.Context, a *Actor, locationID string) ([]StockLevel, error) {
	var out []StockLevel
	err := s.view(ctx, a, PermRead, func(tx Tx) error {
		if _, err := getLocation(tx, a.BusinessID, locationID, "locationId"); err != nil {
			return err
		}
		var err error
		out, err = tx.StockAt(a.BusinessID, locationID)
		return err
	})
	if out == nil && err == nil {
		out = []StockLevel{}
	}
	return out, err
}

// move writes the movements of one document: each line's quantity times
// sign, at one location.
func move(tx Tx, business, location string, ref DocRef, now time.Time, lines []AdjustmentItem, sign Quantity) error {
	for _, l := range lines {
		if err := tx.AddMovement(&Movement{BusinessID: business, LocationID: location, ProductID: l.ProductID, Quantity: sign * l.Quantity, Doc: ref, At: now}); err != nil {
			return err
		}
	}
	return nil
}
