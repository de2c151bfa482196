package client

import (
	"context"
	"net/url"
	"strconv"

	"posd/engine"
)

// ListQuery selects a page of a listing: sales, refunds, receipts,
// transfers or a product's movements.
type ListQuery struct {
	Limit      int
	Cursor     string
	LocationID string
	TillID     string
	// Day is YYYY-MM-DD in the business's time zone.
	Day      string
	Status   string
	Numbered bool
	Newest   bool
}

func (q ListQuery) values() url.Values {
	v := url.Values{}
	set := func(k, s string) {
		if s != "" {
			v.Set(k, s)
		}
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	set("cursor", q.Cursor)
	set("locationId", q.LocationID)
	set("tillId", q.TillID)
	set("day", q.Day)
	set("status", q.Status)
	if q.Numbered {
		v.Set("numbered", "true")
	}
	if q.Newest {
		v.Set("order", "newest")
	}
	return v
}

func path(p string, q ListQuery) string {
	if v := q.values().Encode(); v != "" {
		return p + "?" + v
	}
	return p
}

// ListSales pages the sales with the journal's filters.
func (c *Client) ListSales(ctx context.Context, q ListQuery) ([]*engine.Sale, *string, error) {
	var out SalePage
	_, err := c.call(ctx, "GET", path("/api/sales", q), "", nil, &out)
	return out.Sales, out.NextCursor, err
}

// Returns pages the refunds.
func (c *Client) Returns(ctx context.Context, q ListQuery) ([]*engine.ReturnEntry, *string, error) {
	var out struct {
		Returns    []*engine.ReturnEntry `json:"returns"`
		NextCursor *string               `json:"nextCursor"`
	}
	_, err := c.call(ctx, "GET", path("/api/returns", q), "", nil, &out)
	return out.Returns, out.NextCursor, err
}

// Receipts pages the purchase receipts.
func (c *Client) Receipts(ctx context.Context, q ListQuery) ([]*engine.Receipt, *string, error) {
	var out struct {
		Receipts   []*engine.Receipt `json:"receipts"`
		NextCursor *string           `json:"nextCursor"`
	}
	_, err := c.call(ctx, "GET", path("/api/purchases/receipts", q), "", nil, &out)
	return out.Receipts, out.NextCursor, err
}

// Transfers pages the transfers.
func (c *Client) Transfers(ctx context.Context, q ListQuery) ([]*engine.Transfer, *string, error) {
	var out struct {
		Transfers  []*engine.Transfer `json:"transfers"`
		NextCursor *string            `json:"nextCursor"`
	}
	_, err := c.call(ctx, "GET", path("/api/transfers", q), "", nil, &out)
	return out.Transfers, out.NextCursor, err
}

// NumberedDocument is the answer to GET /api/documents/{number}; Document
// is the raw JSON of the sale, refund, receipt or transfer.
type NumberedDocument struct {
	Kind     engine.DocKind `json:"kind"`
	Number   string         `json:"number"`
	Document rawJSON        `json:"document"`
}

type rawJSON []byte

func (r *rawJSON) UnmarshalJSON(b []byte) error { *r = append((*r)[:0], b...); return nil }

// Document finds the document carrying a number.
func (c *Client) Document(ctx context.Context, number string) (*NumberedDocument, error) {
	var out NumberedDocument
	_, err := c.call(ctx, "GET", "/api/documents/"+esc(number), "", nil, &out)
	return &out, err
}

// Movements pages a product's stock movements at a location, with the
// stock after each.
func (c *Client) Movements(ctx context.Context, productID, locationID string, q ListQuery) ([]*engine.MovementEntry, *string, error) {
	var out struct {
		Movements  []*engine.MovementEntry `json:"movements"`
		NextCursor *string                 `json:"nextCursor"`
	}
	p := path("/api/stock/movements", q)
	sep := "?"
	if len(p) > len("/api/stock/movements") {
		sep = "&"
	}
	p += sep + "productId=" + url.QueryEscape(productID) + "&locationId=" + url.QueryEscape(locationID)
	_, err := c.call(ctx, "GET", p, "", nil, &out)
	return out.Movements, out.NextCursor, err
}

// Today reads today's figures; locationID "" for every location.
func (c *Client) Today(ctx context.Context, locationID string) (*engine.DayReport, error) {
	var out engine.DayReport
	p := "/api/reports/today"
	if locationID != "" {
		p += "?locationId=" + url.QueryEscape(locationID)
	}
	_, err := c.call(ctx, "GET", p, "", nil, &out)
	return &out, err
}

// ImportRequest is the body of POST /api/products/import.
type ImportRequest struct {
	CSV    string             `json:"csv"`
	DryRun bool               `json:"dryRun,omitempty"`
	Part   *engine.ImportPart `json:"part,omitempty"`
}

// ImportProducts checks (DryRun) or imports a product CSV file and returns
// posd's report.
func (c *Client) ImportProducts(ctx context.Context, key string, in ImportRequest) (*engine.ImportReport, bool, error) {
	var out engine.ImportReport
	resp, err := c.call(ctx, "POST", "/api/products/import", key, in, &out)
	return &out, resp != nil && resp.Replayed, err
}

// ExportProducts returns the product CSV file.
func (c *Client) ExportProducts(ctx context.Context) (string, error) {
	resp, err := c.Do(ctx, "GET", "/api/products/export", "", nil)
	if err != nil {
		return "", err
	}
	return string(resp.Body), nil
}
