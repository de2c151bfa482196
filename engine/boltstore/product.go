package boltstore

import "posd/engine"

// Product implements engine.Tx.
func (t *txn) Product(biz, id string) (*engine.Product, error) {
	return getCached(t, bProducts, t.key(biz, id), "product", func(p *engine.Product) { p.BusinessID = biz })
}

// ProductBySKU implements engine.Tx.
func (t *txn) ProductBySKU(biz, sku string) (*engine.Product, error) {
	id := t.get(bSKUs, key(biz, sku))
	if id == nil {
		return nil, notFound("product")
	}
	return t.Product(biz, string(id))
}

// Products implements engine.Tx.
func (t *txn) Products(biz string) ([]*engine.Product, error) {
	return listJSON(t, bProducts, prefix(biz), func(p *engine.Product) { p.BusinessID = biz })
}

// PutProduct implements engine.Tx.
func (t *txn) PutProduct(p *engine.Product) error {
	if old, err := t.Product(p.BusinessID, p.ID); err == nil && old.SKU != p.SKU {
		if err := t.del(bSKUs, key(p.BusinessID, old.SKU)); err != nil {
			return err
		}
	}
	if id := t.get(bSKUs, key(p.BusinessID, p.SKU)); id != nil && string(id) != p.ID {
		return engine.FieldError("sku", "is already used by another product")
	}
	if err := t.put(bSKUs, key(p.BusinessID, p.SKU), []byte(p.ID)); err != nil {
		return err
	}
	return t.putJSON(bProducts, key(p.BusinessID, p.ID), p)
}
