package engine

import (
	"context"
	"encoding/json"
	"strings"
	"time"
)

// Product is something the shop sells or stocks. Prices include tax, as a
// shelf label does; TaxRate is used to show the tax contained in a sale.
type Product struct {
	ID      string  `json:"id"`
	SKU     string  `json:"sku"`
	Name    string  `json:"name"`
	Price   Money   `json:"price"`
	TaxRate TaxRate `json:"taxRate"`
	// Archived products are no longer sold; past documents keep them.
	Archived   bool      `json:"archived"`
	CreatedAt  time.Time `json:"createdAt"`
	UpdatedAt  time.Time `json:"updatedAt"`
	BusinessID string    `json:"-"`
}

// ProductInput is the body of POST /products.
type ProductInput struct {
	SKU     string          `json:"sku"`
	Name    string          `json:"name"`
	Price   json.RawMessage `json:"price"`
	TaxRate json.RawMessage `json:"taxRate,omitempty"`
}

// ProductPatch is the body of PATCH /products/{id}: the fields to change.
type ProductPatch struct {
	SKU      *string         `json:"sku,omitempty"`
	Name     *string         `json:"name,omitempty"`
	Price    json.RawMessage `json:"price,omitempty"`
	TaxRate  json.RawMessage `json:"taxRate,omitempty"`
	Archived *bool           `json:"archived,omitempty"`
}

func checkSKU(sku string) error {
	if err := checkText(sku, "sku", 1, 64); err != nil {
		return err
	}
	if strings.TrimSpace(sku) != sku {
		return fieldErr("sku", "must not start or end with spaces")
	}
	return nil
}

// CreateProduct adds a product. SKUs are unique within a business, so that
// a barcode scan finds exactly one product.
func (s *Service) CreateProduct(ctx context.Context, a *Actor, key IdempotencyKey, in ProductInput) (*Outcome[*Product], error) {
	if err := a.Can(PermManage); err != nil {
		return nil, err
	}
	name := strings.TrimSpace(in.Name)
	if err := checkSKU(in.SKU); err != nil {
		return nil, err
	}
	if err := checkText(name, "name", 1, 200); err != nil {
		return nil, err
	}
	price, err := parseMoney(in.Price, "price", false)
	if err != nil {
		return nil, err
	}
	var rate TaxRate
	if len(in.TaxRate) > 0 && string(in.TaxRate) != "null" {
		if rate, err = parseTaxRate(in.TaxRate, "taxRate"); err != nil {
			return nil, err
		}
	}
	return write(s, ctx, a, key, opCreateProduct, "", in, func(tx Tx, now time.Time) (*Product, DocRef, error) {
		if _, err := tx.ProductBySKU(a.BusinessID, in.SKU); err == nil {
			return nil, DocRef{}, fieldErr("sku", "%q is already used by another product", in.SKU)
		} else if !IsNotFound(err) {
			return nil, DocRef{}, err
		}
		p := &Product{ID: NewID(now), SKU: in.SKU, Name: name, Price: price, TaxRate: rate, CreatedAt: now, UpdatedAt: now, BusinessID: a.BusinessID}
		if err := tx.PutProduct(p); err != nil {
			return nil, DocRef{}, err
		}
		return p, DocRef{Kind: KindProduct, ID: p.ID}, nil
	})
}

// UpdateProduct changes a product's SKU, name, price, tax rate or archived
// flag. Past sales keep the price and name they were sold with.
func (s *Service) UpdateProduct(ctx context.Context, a *Actor, id string, in ProductPatch) (*Product, error) {
	if err := a.Can(PermManage); err != nil {
		return nil, err
	}
	if in.SKU != nil {
		if err := checkSKU(*in.SKU); err != nil {
			return nil, err
		}
	}
	if in.Name != nil {
		*in.Name = strings.TrimSpace(*in.Name)
		if err := checkText(*in.Name, "name", 1, 200); err != nil {
			return nil, err
		}
	}
	var price *Money
	if len(in.Price) > 0 {
		p, err := parseMoney(in.Price, "price", false)
		if err != nil {
			return nil, err
		}
		price = &p
	}
	var rate *TaxRate
	if len(in.TaxRate) > 0 {
		r, err := parseTaxRate(in.TaxRate, "taxRate")
		if err != nil {
			return nil, err
		}
		rate = &r
	}
	var out *Product
	err := s.store.Update(ctx, func(tx Tx) error {
		p, err := getProduct(tx, a.BusinessID, id, "", true)
		if err != nil {
			return err
		}
		if in.SKU != nil && *in.SKU != p.SKU {
			if _, err := tx.ProductBySKU(a.BusinessID, *in.SKU); err == nil {
				return fieldErr("sku", "%q is already used by another product", *in.SKU)
			} else if !IsNotFound(err) {
				return err
			}
			p.SKU = *in.SKU
		}
		if in.Name != nil {
			p.Name = *in.Name
		}
		if price != nil {
			p.Price = *price
		}
		if rate != nil {
			p.TaxRate = *rate
		}
		if in.Archived != nil {
			p.Archived = *in.Archived
		}
		p.UpdatedAt = s.now()
		out = p
		return tx.PutProduct(p)
	})
	return out, err
}

// Products lists the business's products; archived ones only on request.
func (s *Service) Products(ctx context.Context, a *Actor, withArchived bool) ([]*Product, error) {
	var out []*Product
	err := s.view(ctx, a, PermRead, func(tx Tx) error {
		all, err := tx.Products(a.BusinessID)
		for _, p := range all {
			if withArchived || !p.Archived {
				out = append(out, p)
			}
		}
		return err
	})
	if out == nil {
		out = []*Product{}
	}
	return out, err
}

// getProduct loads a product of the business. Archived products count as
// missing unless archivedOK: they can no longer be sold or stocked.
func getProduct(tx Tx, business, id, field string, archivedOK bool) (*Product, error) {
	if !validID(id) {
		if id == "" {
			return nil, fieldErr(field, "is required")
		}
		return nil, notFound("product", field)
	}
	p, err := tx.Product(business, id)
	if IsNotFound(err) || (err == nil && p.Archived && !archivedOK) {
		return nil, notFound("product", field)
	}
	return p, err
}
