package boltstore

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// TestOverlayLargeAndSmall: the overlay behaves the same below and above
// smallOverlay writes (slice, then index): reads see the latest write,
// deletes hide values, scans merge in key order, apply writes it all.
func TestOverlayLargeAndSmall(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "posd.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, n := range []int{5, smallOverlay, smallOverlay + 1, 300} {
		err := s.db.Update(func(tx *bolt.Tx) error {
			b := tx.Bucket([]byte(bCounters))
			for i := 0; i < n; i += 2 { // stored before: even keys
				b.Put(fmt.Appendf(nil, "n%d-%04d", n, i), []byte("old"))
			}
			o := newTxn(tx, true)
			for i := range n {
				o.put(bCounters, fmt.Appendf(nil, "n%d-%04d", n, i), []byte("new"))
			}
			for i := 0; i < n; i += 3 {
				o.del(bCounters, fmt.Appendf(nil, "n%d-%04d", n, i))
			}
			o.put(bCounters, fmt.Appendf(nil, "n%d-%04d", n, 1), []byte("newer"))
			want := func(i int) string {
				switch {
				case i == 1:
					return "newer"
				case i%3 == 0:
					return ""
				}
				return "new"
			}
			for i := range n {
				if got := string(o.get(bCounters, fmt.Appendf(nil, "n%d-%04d", n, i))); got != want(i) {
					t.Errorf("n=%d key %d: got %q, want %q", n, i, got, want(i))
				}
			}
			var seen []string
			o.scan(bCounters, fmt.Appendf(nil, "n%d-", n), nil, false, func(k, v []byte) error {
				seen = append(seen, string(k)+"="+string(v))
				return nil
			})
			var wantScan []string
			for i := range n {
				if w := want(i); w != "" {
					wantScan = append(wantScan, fmt.Sprintf("n%d-%04d=%s", n, i, w))
				}
			}
			if fmt.Sprint(seen) != fmt.Sprint(wantScan) {
				t.Errorf("n=%d scan:\n got %v\nwant %v", n, seen, wantScan)
			}
			if err := o.apply(); err != nil {
				return err
			}
			for i := range n {
				if got := string(b.Get(fmt.Appendf(nil, "n%d-%04d", n, i))); got != want(i) {
					t.Errorf("n=%d after apply, key %d: got %q, want %q", n, i, got, want(i))
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
}

// TestArenaKeys: the write path's keys from the operation's arena are the
// package's keys, byte for byte, and slices handed out never overlap.
func TestArenaKeys(t *testing.T) {
	tx := newTxn(nil, true)
	at := time.UnixMilli(1764547200123)
	var all [][]byte
	for i := range 200 { // several chunks
		biz, id := "biz-"+strconv.Itoa(i), strings.Repeat("x", i%40)
		cases := []struct{ got, want []byte }{
			{tx.key(biz, id), key(biz, id)},
			{tx.key(biz, "loc", id), key(biz, "loc", id)},
			{tx.seqKey(uint64(i)<<40|7, biz), seqKey(prefix(biz), uint64(i)<<40|7)},
			{tx.seqKey(uint64(i), biz, id), seqKey(prefix(biz, id), uint64(i))},
			{tx.u64bytes(uint64(i) * 977), u64bytes(uint64(i) * 977)},
			{tx.expKey(at, biz, id), expKey(at, biz, id)},
			{tx.seqName(biz, id), key(biz, "#"+id)},
		}
		for j, c := range cases {
			if !bytes.Equal(c.got, c.want) || cap(c.got) != len(c.got) {
				t.Fatalf("%d/%d: %q (cap %d), want %q", i, j, c.got, cap(c.got), c.want)
			}
			all = append(all, c.got)
		}
	}
	// Writing every slice to its full capacity must leave the others
	// as they were: no two share bytes.
	want := make([][]byte, len(all))
	for i, b := range all {
		want[i] = bytes.Clone(b)
	}
	for i, b := range all {
		for j := range b {
			b[j] ^= 0xff
		}
		for j := range all {
			if j != i && !bytes.Equal(all[j], want[j]) {
				t.Fatalf("slice %d overlaps slice %d", i, j)
			}
		}
		copy(b, want[i])
	}
}
