package client

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"posd/engine"
)

// Line is a product and a quantity.
type Line struct {
	ProductID string          `json:"productId"`
	Quantity  engine.Quantity `json:"quantity"`
}

// SaleLine is one line of a sale request; UnitPrice overrides the product's
// price when set.
type SaleLine struct {
	ProductID string          `json:"productId"`
	Quantity  engine.Quantity `json:"quantity"`
	UnitPrice *engine.Money   `json:"unitPrice,omitempty"`
}

// SaleRequest is the body of POST /api/sales.
type SaleRequest struct {
	LocationID string           `json:"locationId"`
	Items      []SaleLine       `json:"items"`
	Payments   []engine.Payment `json:"payments"`
	// SoldAt is the till's clock when the cashier completed the sale;
	// CashierID who did (PUT /api/tills/current/cashier).
	SoldAt    *time.Time `json:"soldAt,omitempty"`
	CashierID *string    `json:"cashierId,omitempty"`
}

// RefundRequest is the body of POST /api/sales/{id}/refund.
type RefundRequest struct {
	Items   []Line `json:"items"`
	Restock *bool  `json:"restock,omitempty"`
	// Method is how the money goes back (default: the way the sale was
	// mostly paid); ApprovalID a manager's approval (Approve).
	Method     *string    `json:"method,omitempty"`
	SoldAt     *time.Time `json:"soldAt,omitempty"`
	CashierID  *string    `json:"cashierId,omitempty"`
	ApprovalID *string    `json:"approvalId,omitempty"`
}

// ProductRequest is the body of POST /api/products.
type ProductRequest struct {
	SKU     string          `json:"sku"`
	Name    string          `json:"name"`
	Price   engine.Money    `json:"price"`
	TaxRate *engine.TaxRate `json:"taxRate,omitempty"`
}

// ProductPatch is the body of PATCH /api/products/{id}.
type ProductPatch struct {
	SKU      *string         `json:"sku,omitempty"`
	Name     *string         `json:"name,omitempty"`
	Price    *engine.Money   `json:"price,omitempty"`
	TaxRate  *engine.TaxRate `json:"taxRate,omitempty"`
	Archived *bool           `json:"archived,omitempty"`
}

// AdjustmentRequest is the body of POST /api/stock/adjustments.
type AdjustmentRequest struct {
	LocationID string `json:"locationId"`
	Items      []Line `json:"items"`
	Reason     string `json:"reason"`
}

// ReceiptLine is one line of a purchase receipt request.
type ReceiptLine struct {
	ProductID string          `json:"productId"`
	Quantity  engine.Quantity `json:"quantity"`
	UnitCost  engine.Money    `json:"unitCost"`
}

// ReceiptRequest is the body of POST /api/purchases/receipts.
type ReceiptRequest struct {
	LocationID string        `json:"locationId"`
	Supplier   string        `json:"supplier"`
	Items      []ReceiptLine `json:"items"`
}

// TransferRequest is the body of POST /api/transfers.
type TransferRequest struct {
	FromLocationID string `json:"fromLocationId"`
	ToLocationID   string `json:"toLocationId"`
	Items          []Line `json:"items"`
}

// TokenRequest is the body of POST /api/tokens.
type TokenRequest struct {
	Role       engine.Role `json:"role"`
	Name       string      `json:"name"`
	LocationID *string     `json:"locationId,omitempty"`
}

// CreatedToken is the answer to POST /api/tokens. Secret is set only on
// the first answer, never on a replay.
type CreatedToken = engine.CreatedToken

// Me describes the client's token and business.
type Me struct {
	Business engine.Business `json:"business"`
	Token    struct {
		ID         string      `json:"id"`
		Role       engine.Role `json:"role"`
		LocationID *string     `json:"locationId"`
	} `json:"token"`
}

// SalePage is one page of GET /api/sales.
type SalePage struct {
	Sales      []*engine.Sale `json:"sales"`
	NextCursor *string        `json:"nextCursor"`
}

// SalesQuery selects a page of sales.
type SalesQuery struct {
	Limit      int
	Cursor     string
	LocationID string
	Newest     bool
}

var empty = struct{}{}

// Health checks that the server answers.
func (c *Client) Health(ctx context.Context) error {
	_, err := c.call(ctx, "GET", "/api/health", "", nil, nil)
	return err
}

// Me returns the token's identity and business.
func (c *Client) Me(ctx context.Context) (*Me, error) {
	var out Me
	_, err := c.call(ctx, "GET", "/api/me", "", nil, &out)
	return &out, err
}

// CreateToken creates a token (owner only).
//
// posd shows a token's secret in the first answer only; a replay carries
// "token": null (contract §3). When the caller passes its own key, a replay
// is returned as it is, with Secret nil: the caller may have seen the first
// answer. With key "" the client picks the key, so nobody can have seen an
// earlier answer: if its own retry comes back as a replay, the first answer
// was lost after posd committed it, and the token's secret is held by no
// one. CreateToken then revokes that token and makes another under a fresh
// key, so the caller always gets a usable secret (or an error).
func (c *Client) CreateToken(ctx context.Context, key string, in TokenRequest) (*CreatedToken, error) {
	for tries := 1; ; tries++ {
		k := key
		if k == "" {
			k = NewKey()
		}
		var out CreatedToken
		_, err := c.call(ctx, "POST", "/api/tokens", k, in, &out)
		if err != nil || out.Secret != nil || key != "" {
			return &out, err
		}
		if err := c.RevokeToken(ctx, out.ID); err != nil && !errors.Is(err, engine.ErrNotFound) {
			return nil, fmt.Errorf("client: token %s was created but its secret was lost on the way back, and revoking it failed (revoke it by hand): %w", out.ID, err)
		}
		if tries == 3 {
			return nil, fmt.Errorf("client: the answer to POST /api/tokens was lost %d times; the tokens made were revoked", tries)
		}
	}
}

// Tokens lists the business's tokens.
func (c *Client) Tokens(ctx context.Context) ([]*engine.Token, error) {
	var out struct {
		Tokens []*engine.Token `json:"tokens"`
	}
	_, err := c.call(ctx, "GET", "/api/tokens", "", nil, &out)
	return out.Tokens, err
}

// RevokeToken deletes a token.
func (c *Client) RevokeToken(ctx context.Context, id string) error {
	_, err := c.call(ctx, "DELETE", "/api/tokens/"+esc(id), "", nil, nil)
	return err
}

// CreateLocation adds a location.
func (c *Client) CreateLocation(ctx context.Context, key, name string) (*engine.Location, error) {
	var out engine.Location
	_, err := c.call(ctx, "POST", "/api/locations", key, map[string]string{"name": name}, &out)
	return &out, err
}

// Locations lists locations.
func (c *Client) Locations(ctx context.Context) ([]*engine.Location, error) {
	var out struct {
		Locations []*engine.Location `json:"locations"`
	}
	_, err := c.call(ctx, "GET", "/api/locations", "", nil, &out)
	return out.Locations, err
}

// CreateProduct adds a product.
func (c *Client) CreateProduct(ctx context.Context, key string, in ProductRequest) (*engine.Product, error) {
	var out engine.Product
	_, err := c.call(ctx, "POST", "/api/products", key, in, &out)
	return &out, err
}

// Products lists products.
func (c *Client) Products(ctx context.Context, includeArchived bool) ([]*engine.Product, error) {
	var out struct {
		Products []*engine.Product `json:"products"`
	}
	_, err := c.call(ctx, "GET", "/api/products?includeArchived="+strconv.FormatBool(includeArchived), "", nil, &out)
	return out.Products, err
}

// UpdateProduct changes a product.
func (c *Client) UpdateProduct(ctx context.Context, id string, in ProductPatch) (*engine.Product, error) {
	var out engine.Product
	_, err := c.call(ctx, "PATCH", "/api/products/"+esc(id), "", in, &out)
	return &out, err
}

// AdjustStock records a stock correction.
func (c *Client) AdjustStock(ctx context.Context, key string, in AdjustmentRequest) (*engine.Adjustment, error) {
	var out engine.Adjustment
	_, err := c.call(ctx, "POST", "/api/stock/adjustments", key, in, &out)
	return &out, err
}

// Stock lists the stock at a location.
func (c *Client) Stock(ctx context.Context, locationID string) ([]engine.StockLevel, error) {
	var out struct {
		Items []engine.StockLevel `json:"items"`
	}
	_, err := c.call(ctx, "GET", "/api/stock?locationId="+url.QueryEscape(locationID), "", nil, &out)
	return out.Items, err
}

// CreateSale records a sale. Use one key per sale (per completed cart) and
// the same key for every retry of it; "" makes one for this call.
func (c *Client) CreateSale(ctx context.Context, key string, in SaleRequest) (*engine.Sale, error) {
	var out engine.Sale
	_, err := c.call(ctx, "POST", "/api/sales", key, in, &out)
	return &out, err
}

// Sale returns one sale.
func (c *Client) Sale(ctx context.Context, id string) (*engine.Sale, error) {
	var out engine.Sale
	_, err := c.call(ctx, "GET", "/api/sales/"+esc(id), "", nil, &out)
	return &out, err
}

// Sales returns one page of sales.
func (c *Client) Sales(ctx context.Context, q SalesQuery) (*SalePage, error) {
	v := url.Values{}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	if q.Cursor != "" {
		v.Set("cursor", q.Cursor)
	}
	if q.LocationID != "" {
		v.Set("locationId", q.LocationID)
	}
	if q.Newest {
		v.Set("order", "newest")
	}
	var out SalePage
	_, err := c.call(ctx, "GET", "/api/sales?"+v.Encode(), "", nil, &out)
	return &out, err
}

// AllSales pages through every sale, oldest first.
func (c *Client) AllSales(ctx context.Context) ([]*engine.Sale, error) {
	var all []*engine.Sale
	q := SalesQuery{Limit: 500}
	for {
		p, err := c.Sales(ctx, q)
		if err != nil {
			return all, err
		}
		all = append(all, p.Sales...)
		if p.NextCursor == nil {
			return all, nil
		}
		q.Cursor = *p.NextCursor
	}
}

// Refund refunds part or all of a sale.
func (c *Client) Refund(ctx context.Context, key, saleID string, in RefundRequest) (*engine.Return, error) {
	var out engine.Return
	_, err := c.call(ctx, "POST", "/api/sales/"+esc(saleID)+"/refund", key, in, &out)
	return &out, err
}

// Return returns one refund.
func (c *Client) Return(ctx context.Context, id string) (*engine.Return, error) {
	var out engine.Return
	_, err := c.call(ctx, "GET", "/api/returns/"+esc(id), "", nil, &out)
	return &out, err
}

// CreateReceipt drafts a purchase receipt.
func (c *Client) CreateReceipt(ctx context.Context, key string, in ReceiptRequest) (*engine.Receipt, error) {
	var out engine.Receipt
	_, err := c.call(ctx, "POST", "/api/purchases/receipts", key, in, &out)
	return &out, err
}

// ApproveReceipt approves a draft receipt.
func (c *Client) ApproveReceipt(ctx context.Context, key, id string) (*engine.Receipt, error) {
	var out engine.Receipt
	_, err := c.call(ctx, "POST", "/api/purchases/receipts/"+esc(id)+"/approve", key, empty, &out)
	return &out, err
}

// Receipt returns one purchase receipt.
func (c *Client) Receipt(ctx context.Context, id string) (*engine.Receipt, error) {
	var out engine.Receipt
	_, err := c.call(ctx, "GET", "/api/purchases/receipts/"+esc(id), "", nil, &out)
	return &out, err
}

// CreateTransfer drafts a transfer.
func (c *Client) CreateTransfer(ctx context.Context, key string, in TransferRequest) (*engine.Transfer, error) {
	var out engine.Transfer
	_, err := c.call(ctx, "POST", "/api/transfers", key, in, &out)
	return &out, err
}

// SendTransfer sends a draft transfer.
func (c *Client) SendTransfer(ctx context.Context, key, id string) (*engine.Transfer, error) {
	var out engine.Transfer
	_, err := c.call(ctx, "POST", "/api/transfers/"+esc(id)+"/send", key, empty, &out)
	return &out, err
}

// ReceiveTransfer receives a sent transfer.
func (c *Client) ReceiveTransfer(ctx context.Context, key, id string) (*engine.Transfer, error) {
	var out engine.Transfer
	_, err := c.call(ctx, "POST", "/api/transfers/"+esc(id)+"/receive", key, empty, &out)
	return &out, err
}

// Transfer returns one transfer.
func (c *Client) Transfer(ctx context.Context, id string) (*engine.Transfer, error) {
	var out engine.Transfer
	_, err := c.call(ctx, "GET", "/api/transfers/"+esc(id), "", nil, &out)
	return &out, err
}
