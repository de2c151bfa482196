package engine

import (
	"context"
	"fmt"
	"time"
)

// Return is a refund against a sale.
type Return struct {
	ID           string `json:"id"`
	ReturnNumber string `json:"returnNumber"`
	SaleID       string `json:"saleId"`
	// SaleNumber and SaleHash are the refunded sale's number and hash at
	// the time of the refund; the refund's own hash covers them.
	SaleNumber string       `json:"saleNumber,omitempty"`
	SaleHash   string       `json:"saleHash,omitempty"`
	LocationID string       `json:"locationId"`
	Items      []ReturnLine `json:"items"`
	// Total is what is paid back to the customer.
	Total Money `json:"total"`
	// TaxTotal is the tax contained in Total.
	TaxTotal Money  `json:"taxTotal,omitempty"`
	Currency string `json:"currency"`
	// Restock is true when the goods went back into stock at the sale's
	// location (false for damaged goods).
	Restock   bool      `json:"restock"`
	CreatedAt time.Time `json:"createdAt"`
	TokenID   string    `json:"tokenId"`
	// Method is how the money went back: cash, card, voucher or other.
	// Refunds made before refunds named one have none (returnMethod).
	Method string `json:"method,omitempty"`
	// SoldAt, CashierID and ShiftID are as on a sale.
	SoldAt    *time.Time `json:"soldAt,omitempty"`
	CashierID *string    `json:"cashierId,omitempty"`
	ShiftID   string     `json:"shiftId,omitempty"`
	// ApprovedBy is the manager who approved the refund by PIN, when the
	// shop asks for one.
	ApprovedBy *ApprovedBy `json:"approvedBy,omitempty"`
	// ChainLink is the refund's link in its series' hash chain (chain.go).
	ChainLink
	BusinessID string `json:"-"`
}

// ReturnLine is one refunded line.
type ReturnLine struct {
	ProductID string   `json:"productId"`
	SKU       string   `json:"sku"`
	Name      string   `json:"name"`
	Quantity  Quantity `json:"quantity"`
	UnitPrice Money    `json:"unitPrice"`
	LineTotal Money    `json:"lineTotal"`
	// TaxRate is the sale line's rate; TaxAmount is the part of the sale
	// line's tax this refund pays back (all of it, once the whole line is
	// refunded, in however many steps).
	TaxRate   TaxRate `json:"taxRate,omitempty"`
	TaxAmount Money   `json:"taxAmount,omitempty"`
}

// RefundInput is the body of POST /sales/{id}/refund. Method defaults to
// the way the sale was mostly paid; ApprovalID is a manager's approval
// (POST /approvals), needed from a till when the shop's settings ask for
// one. The optional fields are left out of the request's fingerprint when
// absent, as SaleInput's are.
type RefundInput struct {
	Items      []ItemInput `json:"items"`
	Restock    *bool       `json:"restock,omitempty"`
	Method     *string     `json:"method,omitempty"`
	SoldAt     *string     `json:"soldAt,omitempty"`
	CashierID  *string     `json:"cashierId,omitempty"`
	ApprovalID *string     `json:"approvalId,omitempty"`
}

// refundMethod is the way a sale was mostly paid (cash net of its change;
// the first of equal parts): where a refund goes back unless the till says
// otherwise.
func refundMethod(sl *Sale) string {
	parts := map[string]Money{}
	order := []string{}
	for _, p := range sl.Payments {
		if _, ok := parts[p.Method]; !ok {
			order = append(order, p.Method)
		}
		parts[p.Method] += p.Amount
	}
	parts[MethodCash] -= sl.Change
	best := MethodCash
	var most Money = -1
	for _, m := range order {
		if parts[m] > most {
			best, most = m, parts[m]
		}
	}
	return best
}

// RefundSale refunds part or all of a sale. No product may be refunded
// beyond what the sale still holds (ErrRefundExceedsSale). Amounts follow the
// sale's own prices, and a line refunded in several steps pays back exactly
// its line total in the end: each step pays the difference between the
// rounded amounts for the quantities refunded after and before it.
func (s *Service) RefundSale(ctx context.Context, a *Actor, key IdempotencyKey, saleID string, in RefundInput) (*Outcome[*Return], error) {
	if err := a.Can(PermSell); err != nil {
		return nil, err
	}
	items, err := parseItems(in.Items, false)
	if err != nil {
		return nil, err
	}
	seen := make(map[string]bool, len(items))
	for i, it := range items {
		if seen[it.ProductID] {
			return nil, fieldErr(fmt.Sprintf("items[%d].productId", i), "lists a product twice; put the whole quantity on one line")
		}
		seen[it.ProductID] = true
	}
	restock := in.Restock == nil || *in.Restock
	if in.Method != nil {
		switch *in.Method {
		case MethodCash, MethodCard, MethodVoucher, MethodOther:
		default:
			return nil, fieldErr("method", "must be cash, card, voucher or other")
		}
	}
	soldAt, err := parseAt(in.SoldAt, "soldAt")
	if err != nil {
		return nil, err
	}
	return write(s, ctx, a, key, opRefundSale, saleID, in, func(tx Tx, now time.Time) (*Return, DocRef, error) {
		sale, err := getSale(tx, a.BusinessID, saleID)
		if err != nil {
			return nil, DocRef{}, err
		}
		biz, err := tx.Business(a.BusinessID)
		if err != nil {
			return nil, DocRef{}, err
		}
		ret := &Return{ID: NewID(now), SaleID: sale.ID, SaleNumber: sale.InvoiceNumber, SaleHash: sale.Hash, LocationID: sale.LocationID,
			Currency: sale.Currency, Restock: restock, CreatedAt: now, TokenID: a.TokenID, BusinessID: a.BusinessID,
			Method: refundMethod(sale), SoldAt: soldAt}
		if in.Method != nil {
			ret.Method = *in.Method
		}
		if ret.CashierID, err = checkCashier(tx, a.BusinessID, in.CashierID, "cashierId"); err != nil {
			return nil, DocRef{}, err
		}
		if ret.ShiftID, err = shiftOf(tx, a, sale.LocationID); err != nil {
			return nil, DocRef{}, err
		}
		ref := DocRef{Kind: KindReturn, ID: ret.ID}
		if in.ApprovalID != nil {
			if ret.ApprovedBy, err = useApproval(tx, a, *in.ApprovalID, ApproveRefund, ref); err != nil {
				return nil, DocRef{}, err
			}
		} else if biz.Settings.RefundsNeedApproval && a.Role == RoleTill {
			return nil, DocRef{}, &Error{Code: EFORBIDDEN, Field: "approvalId",
				Message: "a manager must approve refunds in this shop: ask for their PIN (POST /api/approvals) and send its approvalId"}
		}
		for i, it := range items {
			want := it.Quantity
			var left Quantity
			for _, l := range sale.Items {
				if l.ProductID == it.ProductID {
					left += l.Quantity - l.RefundedQuantity
				}
			}
			if want > left {
				return nil, DocRef{}, &Error{Code: EREFUNDEXCEEDSSALE, Field: fmt.Sprintf("items[%d].quantity", i),
					Message: fmt.Sprintf("the sale holds %s of this product that can still be refunded; %s was asked", left, want)}
			}
			for j := range sale.Items {
				l := &sale.Items[j]
				if l.ProductID != it.ProductID || want == 0 || l.RefundedQuantity == l.Quantity {
					continue
				}
				take := min(want, l.Quantity-l.RefundedQuantity)
				after, _ := mulDivRound(int64(l.LineTotal), int64(l.RefundedQuantity+take), int64(l.Quantity))
				amount := Money(after) - l.RefundedAmount
				tax := refundShare(l.TaxAmount, l.RefundedQuantity, take, l.Quantity)
				l.RefundedQuantity += take
				l.RefundedAmount += amount
				want -= take
				ret.Items = append(ret.Items, ReturnLine{ProductID: l.ProductID, SKU: l.SKU, Name: l.Name, Quantity: take, UnitPrice: l.UnitPrice, LineTotal: amount,
					TaxRate: l.TaxRate, TaxAmount: tax})
				ret.Total += amount
				ret.TaxTotal += tax
			}
		}
		if err := numberAndLink(tx, biz, PrefixReturn, now, ref, ret, func(n string) { ret.ReturnNumber = n }); err != nil {
			return nil, DocRef{}, err
		}
		if restock {
			for _, l := range ret.Items {
				if err := tx.AddMovement(&Movement{BusinessID: a.BusinessID, LocationID: sale.LocationID, ProductID: l.ProductID, Quantity: l.Quantity, Doc: ref, At: now}); err != nil {
					return nil, DocRef{}, err
				}
			}
		}
		sale.Returns = append(sale.Returns, ret.ID)
		if err := tx.PutSale(sale); err != nil {
			return nil, DocRef{}, err
		}
		if err := tx.PutReturn(ret); err != nil {
			return nil, DocRef{}, err
		}
		return ret, ref, nil
	})
}

// Return returns one refund of the actor's business.
func (s *Service) Return(ctx context.Context, a *Actor, id string) (*Return, error) {
	var out *Return
	err := s.view(ctx, a, PermRead, func(tx Tx) error {
		if !validID(id) {
			return notFound("return", "")
		}
		var err error
		out, err = tx.Return(a.BusinessID, id)
		return err
	})
	return out, err
}

// refundShare is the part of a sale line's tax that refunding take more of
// it pays back, when before was refunded already: the difference between
// the rounded shares after and before, as for the line's amount, so that a
// line refunded in any number of steps pays back exactly its tax in the
// end.
func refundShare(amount Money, before, take, qty Quantity) Money {
	after, _ := mulDivRound(int64(amount), int64(before+take), int64(qty))
	prior, _ := mulDivRound(int64(amount), int64(before), int64(qty))
	return Money(after - prior)
}
