package pgstore

import (
	"encoding/json"

	"github.com/jackc/pgx/v5"

	"posd/engine"
)

func decodeBusiness(doc []byte) (*engine.Business, error) {
	b := new(engine.Business)
	if err := json.Unmarshal(doc, b); err != nil {
		return nil, corrupt("businesses", err)
	}
	return b, nil
}

func encode(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, &engine.Error{Code: engine.EINTERNAL, Err: err}
	}
	return b, nil
}

// Business implements engine.Tx. A write transaction has it from its
// lock's round trip.
func (t *txn) Business(id string) (*engine.Business, error) {
	if t.writable && !t.catWritten[id] {
		st, err := t.state(id)
		if err != nil {
			return nil, err
		}
		if st.biz == nil {
			return nil, notFound("business")
		}
		b := *st.biz
		return &b, nil
	}
	var doc []byte
	found, err := t.queryRow("SELECT doc FROM businesses WHERE id = $1", []any{id}, &doc)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, notFound("business")
	}
	return decodeBusiness(doc)
}

// Businesses implements engine.Tx.
func (t *txn) Businesses() ([]*engine.Business, error) {
	var out []*engine.Business
	err := t.query("SELECT doc FROM businesses ORDER BY id", nil, func(rows pgx.Rows) error {
		out = nil
		for rows.Next() {
			var doc []byte
			if err := rows.Scan(&doc); err != nil {
				return err
			}
			b, err := decodeBusiness(doc)
			if err != nil {
				return err
			}
			out = append(out, b)
		}
		return rows.Err()
	})
	return out, err
}

// PutBusiness implements engine.Tx.
func (t *txn) PutBusiness(b *engine.Business) error {
	doc, err := encode(b)
	if err != nil {
		return err
	}
	if err := t.queue(b.ID, `INSERT INTO businesses (id, doc) VALUES ($1, $2)
		ON CONFLICT (id) DO UPDATE SET doc = excluded.doc`, b.ID, doc); err != nil {
		return err
	}
	return t.catalogueWritten(b.ID)
}

// Location implements engine.Tx.
func (t *txn) Location(biz, id string) (*engine.Location, error) {
	v, cache, err := t.cachedVersion(biz)
	if err != nil {
		return nil, err
	}
	if cache {
		if l, ok := t.s.catalogue.location(biz, v, id); ok {
			return l, nil
		}
	}
	var doc []byte
	found, err := t.queryRow("SELECT doc FROM locations WHERE business_id = $1 AND id = $2", []any{biz, id}, &doc)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, notFound("location")
	}
	l := &engine.Location{}
	if err := json.Unmarshal(doc, l); err != nil {
		return nil, corrupt("locations", err)
	}
	l.BusinessID = biz
	if cache {
		t.s.catalogue.putLocation(v, l)
	}
	return l, nil
}

// Locations implements engine.Tx.
func (t *txn) Locations(biz string) ([]*engine.Location, error) {
	if err := t.touch(biz); err != nil {
		return nil, err
	}
	var out []*engine.Location
	err := t.query("SELECT doc FROM locations WHERE business_id = $1 ORDER BY id", []any{biz}, func(rows pgx.Rows) error {
		out = nil
		for rows.Next() {
			l := &engine.Location{BusinessID: biz}
			if err := scanJSON(rows, "locations", l); err != nil {
				return err
			}
			l.BusinessID = biz
			out = append(out, l)
		}
		return rows.Err()
	})
	return out, err
}

// PutLocation implements engine.Tx.
func (t *txn) PutLocation(l *engine.Location) error {
	doc, err := encode(l)
	if err != nil {
		return err
	}
	if err := t.queue(l.BusinessID, `INSERT INTO locations (business_id, id, doc) VALUES ($1, $2, $3)
		ON CONFLICT (business_id, id) DO UPDATE SET doc = excluded.doc`, l.BusinessID, l.ID, doc); err != nil {
		return err
	}
	return t.catalogueWritten(l.BusinessID)
}

// Product implements engine.Tx.
func (t *txn) Product(biz, id string) (*engine.Product, error) {
	v, cache, err := t.cachedVersion(biz)
	if err != nil {
		return nil, err
	}
	if cache {
		if p, ok := t.s.catalogue.product(biz, v, id); ok {
			return p, nil
		}
	}
	p, err := t.productWhere("id", biz, id)
	if err == nil && cache {
		t.s.catalogue.putProduct(v, p)
	}
	return p, err
}

// ProductBySKU implements engine.Tx.
func (t *txn) ProductBySKU(biz, sku string) (*engine.Product, error) {
	return t.productWhere("sku", biz, sku)
}

func (t *txn) productWhere(col, biz, v string) (*engine.Product, error) {
	if err := t.touch(biz); err != nil {
		return nil, err
	}
	var doc []byte
	found, err := t.queryRow("SELECT doc FROM products WHERE business_id = $1 AND "+col+" = $2", []any{biz, v}, &doc)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, notFound("product")
	}
	p := &engine.Product{}
	if err := json.Unmarshal(doc, p); err != nil {
		return nil, corrupt("products", err)
	}
	p.BusinessID = biz
	return p, nil
}

// Products implements engine.Tx.
func (t *txn) Products(biz string) ([]*engine.Product, error) {
	if err := t.touch(biz); err != nil {
		return nil, err
	}
	var out []*engine.Product
	err := t.query("SELECT doc FROM products WHERE business_id = $1 ORDER BY id", []any{biz}, func(rows pgx.Rows) error {
		out = nil
		for rows.Next() {
			p := &engine.Product{}
			if err := scanJSON(rows, "products", p); err != nil {
				return err
			}
			p.BusinessID = biz
			out = append(out, p)
		}
		return rows.Err()
	})
	return out, err
}

// PutProduct implements engine.Tx. The SKU index is the products_sku_key
// constraint, in step with the row by construction: a SKU another product
// holds fails the transaction with the same field error as boltstore.
func (t *txn) PutProduct(p *engine.Product) error {
	doc, err := encode(p)
	if err != nil {
		return err
	}
	if err := t.queue(p.BusinessID, `INSERT INTO products (business_id, id, sku, doc) VALUES ($1, $2, $3, $4)
		ON CONFLICT (business_id, id) DO UPDATE SET sku = excluded.sku, doc = excluded.doc`, p.BusinessID, p.ID, p.SKU, doc); err != nil {
		return err
	}
	return t.catalogueWritten(p.BusinessID)
}

// scanJSON decodes a row's single jsonb column into v.
func scanJSON(rows pgx.Rows, table string, v any) error {
	var doc []byte
	if err := rows.Scan(&doc); err != nil {
		return err
	}
	if err := json.Unmarshal(doc, v); err != nil {
		return corrupt(table, err)
	}
	return nil
}
