package boltstore

import "posd/engine"

// Business implements engine.Tx.
func (t *txn) Business(id string) (*engine.Business, error) {
	return getCached(t, bBusinesses, t.key(id), "business", func(*engine.Business) {})
}

// Businesses implements engine.Tx.
func (t *txn) Businesses() ([]*engine.Business, error) {
	return listJSON(t, bBusinesses, nil, func(*engine.Business) {})
}

// PutBusiness implements engine.Tx.
func (t *txn) PutBusiness(b *engine.Business) error { return t.putJSON(bBusinesses, []byte(b.ID), b) }

// Location implements engine.Tx.
func (t *txn) Location(biz, id string) (*engine.Location, error) {
	return getCached(t, bLocations, t.key(biz, id), "location", func(l *engine.Location) { l.BusinessID = biz })
}

// Locations implements engine.Tx.
func (t *txn) Locations(biz string) ([]*engine.Location, error) {
	return listJSON(t, bLocations, prefix(biz), func(l *engine.Location) { l.BusinessID = biz })
}

// PutLocation implements engine.Tx.
func (t *txn) PutLocation(l *engine.Location) error {
	return t.putJSON(bLocations, key(l.BusinessID, l.ID), l)
}
