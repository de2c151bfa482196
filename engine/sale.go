package engine

import (
	"context"
	"encoding/json"
	"time"
)

// Sale is a completed sale: an invoice. Its number, lines, payments and
// stock movements are written in one transaction with its idempotency
// record; its lines keep the product's SKU, name and price at the time of
// sale.
type Sale struct {
	ID            string     `json:"id"`
	InvoiceNumber string     `json:"invoiceNumber"`
	LocationID    string     `json:"locationId"`
	Items         []SaleLine `json:"items"`
	Payments      []Payment  `json:"payments"`
	// Total is the sum of the line totals; prices include tax.
	Total Money `json:"total"`
	// TaxTotal is the tax contained in Total.
	TaxTotal Money `json:"taxTotal"`
	// Paid is the sum of the payments; Change is what the cashier hands
	// back (Paid - Total), which only cash can produce.
	Paid      Money     `json:"paid"`
	Change    Money     `json:"change"`
	Currency  string    `json:"currency"`
	CreatedAt time.Time `json:"createdAt"`
	// TokenID is the token that rang the sale up.
	TokenID string `json:"tokenId"`
	// Returns lists the IDs of the refunds made against this sale.
	Returns []string `json:"returns"`
	// SoldAt is the till's clock when the cashier completed the sale (it
	// may be long before CreatedAt for a sale queued offline); CashierID
	// who did. Both are the till's word, kept as sent.
	SoldAt    *time.Time `json:"soldAt,omitempty"`
	CashierID *string    `json:"cashierId,omitempty"`
	// ShiftID is the till's shift open when the sale reached posd; none
	// for a sale outside any shift.
	ShiftID string `json:"shiftId,omitempty"`
	// ChainLink is the sale's link in its series' hash chain (chain.go).
	ChainLink
	BusinessID string `json:"-"`
}

// SaleLine is one line of a sale.
type SaleLine struct {
	ProductID string   `json:"productId"`
	SKU       string   `json:"sku"`
	Name      string   `json:"name"`
	Quantity  Quantity `json:"quantity"`
	UnitPrice Money    `json:"unitPrice"`
	TaxRate   TaxRate  `json:"taxRate"`
	LineTotal Money    `json:"lineTotal"`
	TaxAmount Money    `json:"taxAmount"`
	// RefundedQuantity and RefundedAmount grow with each refund.
	RefundedQuantity Quantity `json:"refundedQuantity"`
	RefundedAmount   Money    `json:"refundedAmount"`
}

// Payment is one tender of a sale.
type Payment struct {
	Method string `json:"method"`
	Amount Money  `json:"amount"`
}

// Payment methods. Only cash may exceed what is due.
const (
	MethodCash    = "cash"
	MethodCard    = "card"
	MethodVoucher = "voucher"
	MethodOther   = "other"
)

// SaleInput is the body of POST /sales.
type SaleInput struct {
	LocationID string          `json:"locationId"`
	Items      []SaleItemInput `json:"items"`
	Payments   []PaymentInput  `json:"payments"`
	// SoldAt and CashierID (contract §6) are optional; left out, they are
	// left out of the request's fingerprint too, so a retry of a sale sent
	// before they existed still matches its record.
	SoldAt    *string `json:"soldAt,omitempty"`
	CashierID *string `json:"cashierId,omitempty"`
}

// SaleItemInput is one requested line. UnitPrice defaults to the product's
// price.
type SaleItemInput struct {
	ProductID string          `json:"productId"`
	Quantity  json.RawMessage `json:"quantity"`
	UnitPrice json.RawMessage `json:"unitPrice,omitempty"`
}

// PaymentInput is one requested tender.
type PaymentInput struct {
	Method string          `json:"method"`
	Amount json.RawMessage `json:"amount"`
}

// maxPayments bounds the tenders of one sale.
const maxPayments = 20

type saleLineSpec struct {
	productID string
	qty       Quantity
	price     *Money
}

// CreateSale records a sale. It is never refused for lack of stock.
func (s *Service) CreateSale(ctx context.Context, a *Actor, key IdempotencyKey, in SaleInput) (*Outcome[*Sale], error) {
	if err := a.Can(PermSell); err != nil {
		return nil, err
	}
	if in.LocationID == "" {
		return nil, fieldErr("locationId", "is required")
	}
	if a.LocationID != "" && in.LocationID != a.LocationID {
		return nil, Errorf(EFORBIDDEN, "this till token may only sell at its own location")
	}
	if len(in.Items) == 0 {
		return nil, fieldErr("items", "needs at least one line")
	}
	if len(in.Items) > MaxLines {
		return nil, ErrTooManyLines
	}
	lines := make([]saleLineSpec, len(in.Items))
	for i, it := range in.Items {
		f := itemPaths(i)
		if it.ProductID == "" {
			return nil, fieldErr(f.productID, "is required")
		}
		q, err := parseQuantity(it.Quantity, f.quantity, false)
		if err != nil {
			return nil, err
		}
		if q <= 0 {
			return nil, fieldErr(f.quantity, "must be positive")
		}
		lines[i] = saleLineSpec{productID: it.ProductID, qty: q}
		if len(it.UnitPrice) > 0 && string(it.UnitPrice) != "null" {
			p, err := parseMoney(it.UnitPrice, f.unitPrice, false)
			if err != nil {
				return nil, err
			}
			lines[i].price = &p
		}
	}
	if len(in.Payments) > maxPayments {
		return nil, fieldErr("payments", "may have at most %d payments", maxPayments)
	}
	payments := make([]Payment, len(in.Payments))
	var paid, cash Money
	for i, p := range in.Payments {
		f := paymentPaths(i)
		switch p.Method {
		case MethodCash, MethodCard, MethodVoucher, MethodOther:
		case "":
			return nil, fieldErr(f.method, "is required")
		default:
			return nil, fieldErr(f.method, "must be cash, card, voucher or other")
		}
		amt, err := parseMoney(p.Amount, f.amount, false)
		if err != nil {
			return nil, err
		}
		if amt <= 0 {
			return nil, fieldErr(f.amount, "must be positive")
		}
		payments[i] = Payment{Method: p.Method, Amount: amt}
		paid += amt // bounded: 20 × MaxMoney fits in int64
		if p.Method == MethodCash {
			cash += amt
		}
	}
	soldAt, err := parseAt(in.SoldAt, "soldAt")
	if err != nil {
		return nil, err
	}
	return write(s, ctx, a, key, opCreateSale, "", in, func(tx Tx, now time.Time) (*Sale, DocRef, error) {
		biz, err := tx.Business(a.BusinessID)
		if err != nil {
			return nil, DocRef{}, err
		}
		if _, err := getLocation(tx, a.BusinessID, in.LocationID, "locationId"); err != nil {
			return nil, DocRef{}, err
		}
		sale := &Sale{ID: NewID(now), LocationID: in.LocationID, Items: make([]SaleLine, len(lines)), Payments: payments,
			Paid: paid, Currency: biz.Currency, CreatedAt: now, TokenID: a.TokenID, Returns: []string{}, BusinessID: a.BusinessID, SoldAt: soldAt}
		if sale.CashierID, err = checkCashier(tx, a.BusinessID, in.CashierID, "cashierId"); err != nil {
			return nil, DocRef{}, err
		}
		if sale.ShiftID, err = shiftOf(tx, a, in.LocationID); err != nil {
			return nil, DocRef{}, err
		}
		for i, l := range lines {
			f := itemPaths(i)
			p, err := getProduct(tx, a.BusinessID, l.productID, f.productID, false)
			if err != nil {
				return nil, DocRef{}, err
			}
			price := p.Price
			if l.price != nil {
				price = *l.price
			}
			amount, err := lineAmount(price, l.qty, f.line)
			if err != nil {
				return nil, DocRef{}, err
			}
			tax := includedTax(amount, p.TaxRate)
			sale.Items[i] = SaleLine{ProductID: p.ID, SKU: p.SKU, Name: p.Name, Quantity: l.qty, UnitPrice: price, TaxRate: p.TaxRate, LineTotal: amount, TaxAmount: tax}
			var ok bool
			if sale.Total, ok = addMoney(sale.Total, amount); !ok {
				return nil, DocRef{}, fieldErr("items", "add up to a total that is too large")
			}
			sale.TaxTotal += tax
		}
		if paid < sale.Total {
			return nil, DocRef{}, fieldErr("payments", "add up to %d, less than the total of %d", paid, sale.Total)
		}
		sale.Change = paid - sale.Total
		if sale.Change > cash {
			return nil, DocRef{}, fieldErr("payments", "may exceed the total only in cash; card, voucher and other payments may add up to at most the total")
		}
		ref := DocRef{Kind: KindSale, ID: sale.ID}
		if err := numberAndLink(tx, biz, PrefixSale, now, ref, sale, func(n string) { sale.InvoiceNumber = n }); err != nil {
			return nil, DocRef{}, err
		}
		for _, l := range sale.Items {
			if err := tx.AddMovement(&Movement{BusinessID: a.BusinessID, LocationID: sale.LocationID, ProductID: l.ProductID, Quantity: -l.Quantity, Doc: ref, At: now}); err != nil {
				return nil, DocRef{}, err
			}
		}
		if err := tx.PutSale(sale); err != nil {
			return nil, DocRef{}, err
		}
		return sale, ref, nil
	})
}

// Sale returns one sale of the actor's business.
func (s *Service) Sale(ctx context.Context, a *Actor, id string) (*Sale, error) {
	var out *Sale
	err := s.view(ctx, a, PermRead, func(tx Tx) error {
		var err error
		out, err = getSale(tx, a.BusinessID, id)
		return err
	})
	return out, err
}

// Sales lists sales, oldest first unless f.Newest, at most f.Limit (1..500,
// default 50) per page.
func (s *Service) Sales(ctx context.Context, a *Actor, f SaleFilter) ([]*Sale, string, error) {
	if f.Limit == 0 {
		f.Limit = 50
	}
	if f.Limit < 1 || f.Limit > 500 {
		return nil, "", fieldErr("limit", "must be between 1 and 500")
	}
	var out []*Sale
	var next string
	err := s.view(ctx, a, PermRead, func(tx Tx) error {
		if f.LocationID != "" {
			if _, err := getLocation(tx, a.BusinessID, f.LocationID, "locationId"); err != nil {
				return err
			}
		}
		var err error
		out, next, err = tx.Sales(a.BusinessID, f)
		return err
	})
	if out == nil {
		out = []*Sale{}
	}
	return out, next, err
}

// shiftOf returns the ID of the actor's open shift at location, "" if it
// has none there.
func shiftOf(tx Tx, a *Actor, location string) (string, error) {
	ref, err := tx.OpenShift(a.BusinessID, a.TokenID)
	if IsNotFound(err) || (err == nil && ref.LocationID != location) {
		return "", nil
	}
	return ref.ID, err
}

func getSale(tx Tx, business, id string) (*Sale, error) {
	if !validID(id) {
		return nil, notFound("sale", "")
	}
	s, err := tx.Sale(business, id)
	if IsNotFound(err) {
		return nil, notFound("sale", "")
	}
	return s, err
}
