package boltstore

import "posd/engine"

// Business implements engine.Tx.
func (t *txn) Business(id string) (*engine.Business, error) {
	b := new(engine.Business)
	if err := t.getJSON(bBusinesses, []byte(id), "business", b); err != nil {
		return nil, err
	}
	return b, nil
}

// Businesses implements engine.Tx.
func (t *txn) Businesses() ([]*engine.Business, error) {
	return listJSON(t, bBusinesses, nil, func(*engine.Business) {})
}

// PutBusiness implements engine.Tx.
func (t *txn) PutBusiness(b *engine.Business) error { return t.putJSON(bBusinesses, []byte(b.ID), b) }

// Location implements engine.Tx.
func (t *txn) Location(biz, id string) (*engine.Location, error) {
	l := new(engine.Location)
	if err := t.getJSON(bLocations, key(biz, id), "location", l); err != nil {
		return nil, err
	}
	l.BusinessID = biz
	return l, nil
}

// Locations implements engine.Tx.
func (t *txn) Locations(biz string) ([]*engine.Location, error) {
	return listJSON(t, bLocations, prefix(biz), func(l *engine.Location) { l.BusinessID = biz })
}

// PutLocation implements engine.Tx.
func (t *txn) PutLocation(l *engine.Location) error {
	return t.putJSON(bLocations, key(l.BusinessID, l.ID), l)
}
