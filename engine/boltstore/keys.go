package boltstore

import (
	"encoding/binary"
	"encoding/json"
	"fmt"

	"posd/engine"
)

// Buckets. The layout is flat: every key of a business-owned object starts
// with the business ID and a NUL, so a prefix scan lists one business and no
// key of one business can be built from another's.
const (
	bMeta        = "meta"
	bBusinesses  = "businesses"  // id → Business
	bLocations   = "locations"   // biz\0id → Location
	bProducts    = "products"    // biz\0id → Product
	bSKUs        = "skus"        // biz\0sku → product id
	bStock       = "stock"       // biz\0loc\0product → int64 quantity
	bMoves       = "moves"       // biz\0seq → Movement
	bSales       = "sales"       // biz\0id → Sale
	bSaleSeq     = "sale_seq"    // biz\0seq → sale id
	bSaleLoc     = "sale_loc"    // biz\0loc\0seq → sale id
	bReturns     = "returns"     // biz\0id → Return
	bReceipts    = "receipts"    // biz\0id → Receipt
	bTransfers   = "transfers"   // biz\0id → Transfer
	bAdjustments = "adjustments" // biz\0id → Adjustment
	bCounters    = "counters"    // biz\0series → uint64 last number; biz\0#name → uint64 sequence
	bNumbers     = "numbers"     // biz\0number → DocRef
	bIdem        = "idem"        // biz\0key → IdempotencyRecord
	bIdemExp     = "idem_exp"    // expiry ms\0biz\0key → the full answer until it expires (schema 1: empty; schema 7: a new sale's names the sale)
	bTokens      = "tokens"      // sha256 → token
	bTokenIDs    = "token_ids"   // biz\0id → sha256
	bChains      = "chains"      // biz\0series → ChainHead (schema 5)
)

var allBuckets = []string{bMeta, bBusinesses, bLocations, bProducts, bSKUs, bStock, bMoves, bSales, bSaleSeq, bSaleLoc,
	bReturns, bReceipts, bTransfers, bAdjustments, bCounters, bNumbers, bIdem, bIdemExp, bTokens, bTokenIDs, bChains}

// fillPercent is how full bbolt packs the pages of a bucket when it splits
// them. bbolt's default, half full, suits random inserts; these buckets get
// their keys in (nearly) ascending order, so half-full pages would only
// double the pages each commit writes and the file's size.
var fillPercent = map[string]float64{
	bMoves:   1.0, // biz, sequence
	bSaleSeq: 1.0, // biz, sequence
	bSaleLoc: 1.0, // biz, location, sequence
	bSales:   0.9, // biz, time-ordered ID (random within a millisecond)
	bNumbers: 0.9, // biz, number (in order up to 9999, then 10000 sorts near 1000)
	bIdemExp: 0.9, // expiry millisecond, biz, key
}

// key joins parts with NUL separators.
func key(parts ...string) []byte {
	n := len(parts) - 1
	for _, p := range parts {
		n += len(p)
	}
	b := make([]byte, 0, n)
	for i, p := range parts {
		if i > 0 {
			b = append(b, 0)
		}
		b = append(b, p...)
	}
	return b
}

// prefix returns the scan prefix of parts: the key with a trailing NUL.
func prefix(parts ...string) []byte { return append(key(parts...), 0) }

// seqKey returns prefix followed by a big-endian sequence number, so keys
// sort in sequence order.
func seqKey(prefix []byte, seq uint64) []byte {
	b := make([]byte, len(prefix)+8)
	copy(b, prefix)
	binary.BigEndian.PutUint64(b[len(prefix):], seq)
	return b
}

// An operation's keys and small values come from its arena (txn.alloc)
// on the write path: a sale writes about sixteen small slices, which one
// chunk holds, instead of one allocation each. A slice handed out is never
// written again (put's contract), so every slice of a chunk stays valid as
// long as anything points into it: the overlay, bbolt until the commit,
// the writer's raw cache after.

// arenaChunk is the size of an arena chunk; a sale's keys and counters
// take about 700 bytes.
const arenaChunk = 1024

// alloc returns n bytes of the operation's arena.
func (t *txn) alloc(n int) []byte {
	if n > arenaChunk/4 {
		return make([]byte, n)
	}
	if len(t.arena)+n > cap(t.arena) {
		t.arena = make([]byte, 0, arenaChunk)
	}
	i := len(t.arena)
	t.arena = t.arena[:i+n]
	return t.arena[i : i+n : i+n]
}

// key is the package's key, from the arena.
func (t *txn) key(parts ...string) []byte {
	n := len(parts) - 1
	for _, p := range parts {
		n += len(p)
	}
	b := t.alloc(n)[:0]
	for i, p := range parts {
		if i > 0 {
			b = append(b, 0)
		}
		b = append(b, p...)
	}
	return b
}

// seqKey is the package's seqKey of prefix(parts...), from the arena.
func (t *txn) seqKey(seq uint64, parts ...string) []byte {
	n := len(parts) + 8
	for _, p := range parts {
		n += len(p)
	}
	b := t.alloc(n)[:0]
	for _, p := range parts {
		b = append(b, p...)
		b = append(b, 0)
	}
	return binary.BigEndian.AppendUint64(b, seq)
}

// seqName is key(biz, "#"+name), the counter of an internal sequence,
// from the arena.
func (t *txn) seqName(biz, name string) []byte {
	return append(append(append(t.alloc(len(biz) + 2 + len(name))[:0], biz...), 0, '#'), name...)
}

// u64bytes is the package's u64bytes, from the arena.
func (t *txn) u64bytes(v uint64) []byte {
	b := t.alloc(8)
	binary.BigEndian.PutUint64(b, v)
	return b
}

func u64(b []byte) uint64 {
	if len(b) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(b)
}

func u64bytes(v uint64) []byte {
	b := make([]byte, 8)
	binary.BigEndian.PutUint64(b, v)
	return b
}

// corrupt wraps a decoding failure: the file holds something this code did
// not write.
func corrupt(bucket string, err error) error {
	return &engine.Error{Code: engine.EINTERNAL, Message: "stored data could not be read", Err: fmt.Errorf("boltstore: %s: %w", bucket, err)}
}

func notFound(what string) error {
	return &engine.Error{Code: engine.ENOTFOUND, Message: what + " not found"}
}

// getJSON decodes the value at key into v; it reports ENOTFOUND if absent.
func (t *txn) getJSON(bucket string, k []byte, what string, v any) error {
	b := t.get(bucket, k)
	if b == nil {
		return notFound(what)
	}
	if err := json.Unmarshal(b, v); err != nil {
		return corrupt(bucket, err)
	}
	return nil
}

func (t *txn) putJSON(bucket string, k []byte, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return &engine.Error{Code: engine.EINTERNAL, Err: err}
	}
	return t.put(bucket, k, b)
}

// nextSeq advances a per-business sequence kept in the counters bucket.
// Overlay-backed, so a failed operation gives its number back.
func (t *txn) nextSeq(biz, name string) (uint64, error) {
	k := t.seqName(biz, name)
	n := u64(t.get(bCounters, k)) + 1
	return n, t.put(bCounters, k, t.u64bytes(n))
}

// listJSON decodes every value under prefix p, in key order.
func listJSON[T any](t *txn, bucket string, p []byte, set func(*T)) ([]*T, error) {
	var out []*T
	err := t.scan(bucket, p, nil, false, func(_, v []byte) error {
		x := new(T)
		if err := json.Unmarshal(v, x); err != nil {
			return corrupt(bucket, err)
		}
		set(x)
		out = append(out, x)
		return nil
	})
	return out, err
}

// each decodes every value of a business in bucket and calls fn with it,
// one at a time, so that walking a large bucket needs no more memory than
// one document.
func each[T any](t *txn, bucket, biz string, fn func(*T) error) error {
	return t.scan(bucket, prefix(biz), nil, false, func(_, v []byte) error {
		x := new(T)
		if err := json.Unmarshal(v, x); err != nil {
			return corrupt(bucket, err)
		}
		return fn(x)
	})
}
