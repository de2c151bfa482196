package boltstore

import "strings"

// objCache keeps the decoded businesses, locations and products the writer
// reads for nearly every operation (a sale reads its business, location and
// each line's product), so that the single writer goroutine, whose time is
// the ceiling of posd's throughput, does not decode the same JSON again for
// every sale.
//
// Only the writer goroutine uses it, so it needs no lock. It holds only
// committed state: a key written in the current group is dropped at apply
// and not cached again until the group has committed (dirty), and a failed
// commit empties the cache. Callers get copies, never the cached value.
type objCache struct {
	m     map[bucketKey]any
	dirty map[bucketKey]struct{}
	// raw keeps the values of the small records every sale reads and then
	// writes (its counters and the stock of its products), written through
	// by apply (rawWritten), so that the writer looks each of them up in
	// bbolt once rather than once per sale. A nil value is an absent key.
	// Unlike m it may hold what the current group wrote: every later read
	// in the group sees those writes anyway, and a failed commit empties it.
	// Its values are boxed so that a write to a key already cached (nearly
	// every write, once the shop's counters and stock are in) changes the
	// box and needs no copy of the key: assigning to a map copies the key
	// it is given in, even over an equal one.
	raw map[bucketKey]*rawValue
}

// rawValue is a value of objCache.raw.
type rawValue struct{ v []byte }

// rawCached reports whether bucket's raw values are cached.
func rawCached(bucket string) bool { return bucket == bCounters || bucket == bStock }

// maxCached bounds the cache; past it the cache starts over, which costs
// only decoding again.
const maxCached = 16384

// cached reports whether bucket's objects are cached.
func cached(bucket string) bool {
	return bucket == bBusinesses || bucket == bLocations || bucket == bProducts
}

func newObjCache() *objCache {
	return &objCache{m: map[bucketKey]any{}, dirty: map[bucketKey]struct{}{}, raw: map[bucketKey]*rawValue{}}
}

func (c *objCache) get(bucket string, key []byte) (any, bool) {
	v, ok := c.m[bucketKey{bucket, string(key)}]
	return v, ok
}

func (c *objCache) put(bucket string, key []byte, v any) {
	k := bucketKey{bucket, string(key)}
	if _, ok := c.dirty[k]; ok {
		return
	}
	if len(c.m) >= maxCached {
		clear(c.m)
	}
	c.m[k] = v
}

// written drops a key the current group writes.
func (c *objCache) written(k bucketKey) {
	delete(c.m, k)
	c.dirty[k] = struct{}{}
}

// rawGet returns the cached value of key in bucket, and whether there is
// one.
func (c *objCache) rawGet(bucket string, key []byte) ([]byte, bool) {
	if p, ok := c.raw[bucketKey{bucket, string(key)}]; ok {
		return p.v, true
	}
	return nil, false
}

// rawPut keeps v (nil: absent) as the value of key in bucket; v must not
// change afterwards. key may be the caller's: it is copied only when the
// cache does not hold it yet.
func (c *objCache) rawPut(bucket, key string, v []byte) {
	if p, ok := c.raw[bucketKey{bucket, key}]; ok {
		p.v = v
		return
	}
	if len(c.raw) >= maxCached {
		clear(c.raw)
	}
	c.raw[bucketKey{bucket, strings.Clone(key)}] = &rawValue{v}
}

// committed ends a group whose commit succeeded.
func (c *objCache) committed() { clear(c.dirty) }

// failed ends a group whose commit failed: what was read during it may
// have come from its discarded writes.
func (c *objCache) failed() {
	clear(c.m)
	clear(c.dirty)
	clear(c.raw)
}

// getCached decodes the object at key k of bucket into a new T, through
// the writer's cache when t has one. set fills the fields not stored in
// the value (the business ID of the key).
func getCached[T any](t *txn, bucket string, k []byte, what string, set func(*T)) (*T, error) {
	useCache := t.cache != nil && !t.inOverlay(bucket, k)
	if useCache {
		if v, ok := t.cache.get(bucket, k); ok {
			cp := *v.(*T)
			return &cp, nil
		}
	}
	x := new(T)
	if err := t.getJSON(bucket, k, what, x); err != nil {
		return nil, err
	}
	set(x)
	if useCache {
		cp := *x
		t.cache.put(bucket, k, &cp)
	}
	return x, nil
}
