package boltstore

import (
	"bytes"
	"errors"
	"fmt"
	"sort"
	"strings"
	"unsafe"

	bolt "go.etcd.io/bbolt"

	"posd/engine"
)

// txn is one engine operation's view of a bbolt transaction. Writes go to an
// overlay and reach bbolt only when the operation succeeds (apply), which is
// what lets many operations share one bbolt transaction and one fsync: an
// operation that fails leaves no trace, so the others in its group need not
// be rolled back or run again. Reads look at the overlay first, so an
// operation sees its own writes, and those of operations applied before it.
type txn struct {
	tx       *bolt.Tx
	writable bool
	// writes is the overlay, in the order of first write. A sale makes
	// about fifteen writes, for which a slice searched linearly costs less
	// than a map (and its allocation); index takes over past smallOverlay.
	writes []overlayWrite
	index  map[bucketKey]int
	// cache is the writer's object cache; nil in read transactions.
	cache *objCache
	// store is set for transactions of a Store, with the token cache's
	// generation at the start of a read transaction.
	store    *Store
	tokenGen uint64
	// absentIdem is the idempotency record key this operation last looked
	// up and did not find, until the operation writes it: PutIdempotency
	// need not look it up again.
	absentIdem string
	// arena is the chunk the operation's small keys and values are cut
	// from (alloc, keys.go).
	arena []byte
	// cursors are the writer's, one per bucket for the bbolt transaction
	// of the whole group (nil in read transactions): a lookup through a
	// cursor that has searched before reuses its path, where bbolt's
	// Bucket.Get makes a new cursor whose path grows by an allocation per
	// level of the tree, three or four for every lookup.
	cursors map[string]*bolt.Cursor
}

type bucketKey struct{ bucket, key string }

type overlayWrite struct {
	bucketKey
	// kb is the key as the caller gave it, for bbolt at apply (which copies
	// it): put and del own the keys they are given.
	kb []byte
	value
}

type value struct {
	v   []byte
	del bool
}

// smallOverlay is the overlay size up to which lookups scan the slice.
const smallOverlay = 32

var errReadOnly = &engine.Error{Code: engine.EINTERNAL, Message: "write in a read-only transaction"}

func newTxn(tx *bolt.Tx, writable bool) *txn {
	return &txn{tx: tx, writable: writable}
}

// find returns the overlay position of key in bucket, or -1.
func (t *txn) find(bucket string, key []byte) int {
	if t.index != nil {
		if i, ok := t.index[bucketKey{bucket, string(key)}]; ok {
			return i
		}
		return -1
	}
	for i := range t.writes {
		if w := &t.writes[i]; w.key == string(key) && w.bucket == bucket {
			return i
		}
	}
	return -1
}

// inOverlay reports whether the operation itself wrote key.
func (t *txn) inOverlay(bucket string, key []byte) bool { return t.find(bucket, key) >= 0 }

// get returns the value of key in bucket, or nil. The slice must not be
// kept past the transaction nor modified.
func (t *txn) get(bucket string, key []byte) []byte {
	if i := t.find(bucket, key); i >= 0 {
		if t.writes[i].del {
			return nil
		}
		return t.writes[i].v
	}
	if t.cache != nil && rawCached(bucket) {
		if v, ok := t.cache.rawGet(bucket, key); ok {
			return v
		}
	}
	v := t.lookup(bucket, key)
	if t.cache != nil && rawCached(bucket) {
		t.cache.rawPut(bucket, unsafe.String(unsafe.SliceData(key), len(key)), bytes.Clone(v))
	}
	return v
}

// lookup returns the value of key in bucket in the bbolt transaction, or
// nil, as Bucket.Get does.
func (t *txn) lookup(bucket string, key []byte) []byte {
	b := t.tx.Bucket([]byte(bucket))
	if b == nil { // a bucket of a newer schema, in a file opened read-only
		return nil
	}
	if t.cursors == nil {
		return b.Get(key)
	}
	c := t.cursors[bucket]
	if c == nil {
		c = b.Cursor()
		t.cursors[bucket] = c
	}
	// Seek positions the cursor afresh from the bucket's root, so writes
	// applied since its last use do not matter; a nested bucket's key
	// has a nil value, as Get gives.
	k, v := c.Seek(key)
	if !bytes.Equal(k, key) {
		return nil
	}
	return v
}

// put writes key in bucket, in the overlay; key and val must not change
// afterwards.
func (t *txn) put(bucket string, key, val []byte) error {
	if !t.writable {
		return errReadOnly
	}
	// Check here what bbolt would refuse at apply time, so that apply
	// cannot fail half way.
	if len(key) == 0 || len(key) > bolt.MaxKeySize {
		return &engine.Error{Code: engine.EINVALID, Message: fmt.Sprintf("storage key of %d bytes is out of range", len(key))}
	}
	if int64(len(val)) > bolt.MaxValueSize {
		return &engine.Error{Code: engine.ETOOLARGE, Message: "the document is too large to store"}
	}
	t.set(bucket, key, value{v: val})
	return nil
}

func (t *txn) del(bucket string, key []byte) error {
	if !t.writable {
		return errReadOnly
	}
	t.set(bucket, key, value{del: true})
	return nil
}

func (t *txn) set(bucket string, key []byte, v value) {
	if i := t.find(bucket, key); i >= 0 {
		t.writes[i].value = v
		return
	}
	if t.writes == nil {
		t.writes = make([]overlayWrite, 0, 16)
	}
	// The overlay's string of the key shares the key's bytes, which put's
	// caller never changes again; what outlives the operation (the
	// writer's caches, apply) gets its own copy.
	k := bucketKey{bucket, unsafe.String(unsafe.SliceData(key), len(key))}
	t.writes = append(t.writes, overlayWrite{k, key, v})
	if t.index != nil {
		t.index[k] = len(t.writes) - 1
	} else if len(t.writes) > smallOverlay {
		t.index = make(map[bucketKey]int, 2*len(t.writes))
		for i, w := range t.writes {
			t.index[w.bucketKey] = i
		}
	}
}

// apply writes the overlay into the bbolt transaction.
func (t *txn) apply() error {
	for _, w := range t.writes {
		k, v := w.bucketKey, w.value
		if t.cache != nil && cached(k.bucket) {
			t.cache.written(bucketKey{k.bucket, strings.Clone(k.key)})
		}
		if t.cache != nil && rawCached(k.bucket) {
			if v.del {
				t.cache.rawPut(k.bucket, k.key, nil)
			} else {
				t.cache.rawPut(k.bucket, k.key, v.v)
			}
		}
		if t.store != nil && (k.bucket == bTokens || k.bucket == bTokenIDs) {
			t.store.tokensWritten = true
		}
		b := t.tx.Bucket([]byte(k.bucket))
		if f, ok := fillPercent[k.bucket]; ok {
			b.FillPercent = f
		}
		if recordApply != nil {
			recordApply(k.bucket, w.kb, v.v, v.del)
		}
		var err error
		if v.del {
			err = b.Delete(w.kb)
		} else {
			err = b.Put(w.kb, v.v)
		}
		if err != nil {
			return fmt.Errorf("boltstore: apply %s: %w", k.bucket, err)
		}
	}
	if recordApply != nil {
		recordApply("", nil, nil, false)
	}
	t.writes, t.index = nil, nil
	return nil
}

// recordApply, when set, sees every write of an operation as it reaches
// bbolt, then an empty bucket name when the operation is applied. Only
// BenchmarkStorageFloor sets it (export_test.go), to replay posd's writes
// with bbolt alone; the writer is its only caller, so it needs no lock.
var recordApply func(bucket string, key, val []byte, del bool)

// errStop ends an iteration early without error.
var errStop = errors.New("stop")

// scan calls fn for each key of bucket that starts with prefix, in key order
// (reverse order if reverse), starting at from when it is not nil. It merges
// the overlay. Returning errStop from fn ends the scan.
func (t *txn) scan(bucket string, prefix, from []byte, reverse bool, fn func(k, v []byte) error) error {
	var over [][2][]byte // overlay entries in range, sorted in scan order; v nil = deleted
	if len(t.writes) > 0 {
		for _, w := range t.writes {
			k, v := w.bucketKey, w.value
			kb := []byte(k.key)
			if k.bucket != bucket || !bytes.HasPrefix(kb, prefix) {
				continue
			}
			if from != nil && ((!reverse && bytes.Compare(kb, from) < 0) || (reverse && bytes.Compare(kb, from) > 0)) {
				continue
			}
			val := v.v
			if v.del {
				val = nil
			} else if val == nil {
				val = []byte{}
			}
			over = append(over, [2][]byte{kb, val})
		}
		sort.Slice(over, func(i, j int) bool {
			c := bytes.Compare(over[i][0], over[j][0])
			if reverse {
				return c > 0
			}
			return c < 0
		})
	}
	before := func(a, b []byte) bool { // a comes before b in scan order
		if reverse {
			return bytes.Compare(a, b) > 0
		}
		return bytes.Compare(a, b) < 0
	}
	emit := func(k, v []byte) error {
		if v == nil {
			return nil
		}
		return fn(k, v)
	}
	bk := t.tx.Bucket([]byte(bucket))
	if bk == nil {
		for _, o := range over {
			if err := emit(o[0], o[1]); err != nil {
				return stopOK(err)
			}
		}
		return nil
	}
	c := bk.Cursor()
	var k, v []byte
	if !reverse {
		start := prefix
		if from != nil && bytes.Compare(from, prefix) > 0 {
			start = from
		}
		k, v = c.Seek(start)
	} else {
		end := from
		if end == nil {
			end = prefixEnd(prefix)
		}
		if end == nil {
			k, v = c.Last()
		} else {
			k, v = c.Seek(end)
			if k == nil {
				k, v = c.Last()
			} else if bytes.Compare(k, end) > 0 || (from == nil && bytes.Equal(k, end)) {
				k, v = c.Prev()
			}
		}
	}
	next := c.Next
	if reverse {
		next = c.Prev
	}
	for ; k != nil && bytes.HasPrefix(k, prefix); k, v = next() {
		for len(over) > 0 && before(over[0][0], k) {
			if err := emit(over[0][0], over[0][1]); err != nil {
				return stopOK(err)
			}
			over = over[1:]
		}
		if len(over) > 0 && bytes.Equal(over[0][0], k) {
			if err := emit(over[0][0], over[0][1]); err != nil {
				return stopOK(err)
			}
			over = over[1:]
			continue
		}
		if err := fn(k, v); err != nil {
			return stopOK(err)
		}
	}
	for _, o := range over {
		if err := emit(o[0], o[1]); err != nil {
			return stopOK(err)
		}
	}
	return nil
}

func stopOK(err error) error {
	if err == errStop {
		return nil
	}
	return err
}

// prefixEnd returns the first key after every key with prefix, or nil if
// there is none.
func prefixEnd(prefix []byte) []byte {
	end := bytes.Clone(prefix)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}
