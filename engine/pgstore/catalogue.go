package pgstore

import (
	"sync"

	"posd/engine"
)

// catalogue keeps each business's locations and products in this process's
// memory, so that a sale reads none of them from PostgreSQL (a sale reads
// its location and every line's product).
//
// Several posd processes may write one business, so a copy is valid only
// for one catalogue version: businesses.catalogue_version, which every
// write of the business row, a location or a product increments in the
// same transaction. A write transaction reads the version in its lock's
// round trip, under the business's advisory lock, so no other transaction
// can change the catalogue until it ends: the version it saw is exact for
// its whole length, and so are entries cached under that version. An entry
// of another version is thrown away. A transaction that writes the
// catalogue reads it from PostgreSQL (its own writes are not in the cache)
// and drops the business's entry after it commits. Views read PostgreSQL,
// never the cache: they have no lock, so no version they could trust.
type catalogue struct {
	mu sync.Mutex
	m  map[string]*catEntry
}

type catEntry struct {
	version   int64
	locations map[string]engine.Location
	products  map[string]engine.Product
}

// maxCachedPerBusiness bounds an entry; past it the entry starts over.
const maxCachedPerBusiness = 20000

// entry returns the business's entry for version, replacing one of another
// version. Called with c.mu held.
func (c *catalogue) entry(biz string, version int64) *catEntry {
	e := c.m[biz]
	if e == nil || e.version != version || len(e.products)+len(e.locations) > maxCachedPerBusiness {
		if len(c.m) > 1000 {
			clear(c.m)
		}
		e = &catEntry{version: version, locations: map[string]engine.Location{}, products: map[string]engine.Product{}}
		c.m[biz] = e
	}
	return e
}

func (c *catalogue) location(biz string, version int64, id string) (*engine.Location, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	l, ok := c.entry(biz, version).locations[id]
	return &l, ok
}

func (c *catalogue) putLocation(version int64, l *engine.Location) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entry(l.BusinessID, version).locations[l.ID] = *l
}

func (c *catalogue) product(biz string, version int64, id string) (*engine.Product, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	p, ok := c.entry(biz, version).products[id]
	return &p, ok
}

func (c *catalogue) putProduct(version int64, p *engine.Product) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.entry(p.BusinessID, version).products[p.ID] = *p
}

// drop forgets a business's entry (its catalogue changed).
func (c *catalogue) drop(biz string) {
	c.mu.Lock()
	delete(c.m, biz)
	c.mu.Unlock()
}

// cachedVersion returns the catalogue version under which t may use the
// cache for biz, or false.
func (t *txn) cachedVersion(biz string) (int64, bool, error) {
	if !t.writable || t.catWritten[biz] {
		return 0, false, nil
	}
	st, err := t.state(biz)
	if err != nil {
		return 0, false, err
	}
	if st.version < 0 {
		return 0, false, nil
	}
	return st.version, true, nil
}
