package boltstore

import (
	"context"
	"encoding/json"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"posd/engine"
)

func TestCompactEncodingsRoundTrip(t *testing.T) {
	at := time.Date(2026, 11, 27, 10, 11, 12, 345_000_000, time.UTC)
	recs := []*engine.IdempotencyRecord{
		{Key: "k-1", Op: "sale.create", Hash: []byte{1, 2, 3}, Status: 201, Body: []byte(`{"id":"x","name":"Käse <&>"}`),
			Doc: engine.DocRef{Kind: engine.KindSale, ID: "0190-…"}, CreatedAt: at, ExpiresAt: at.Add(24 * time.Hour)},
		{Key: "k-2", Op: "sale.refund", Target: "sale-id", Hash: make([]byte, 32), Status: 201, Doc: engine.DocRef{Kind: engine.KindReturn, ID: "r"}},
		{Key: "", Op: "", Status: 0},
	}
	for _, r := range recs {
		got, err := decodeIdempotency(encodeIdempotency(r))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, r) {
			t.Errorf("idempotency record:\n got %+v\nwant %+v", got, r)
		}
		// A truncated value is an error, never a wrong record.
		b := encodeIdempotency(r)
		for n := 1; n < len(b)-len(r.Body); n++ {
			if got, err := decodeIdempotency(b[:n]); err == nil && reflect.DeepEqual(got, r) {
				t.Errorf("truncated to %d bytes: decoded as the full record", n)
			}
		}
	}
	moves := []*engine.Movement{
		{LocationID: "l", ProductID: "p", Quantity: -2500, Doc: engine.DocRef{Kind: engine.KindSale, ID: "s"}, At: at},
		{LocationID: "l", ProductID: "p", Quantity: engine.MaxQuantity, At: time.Time{}},
	}
	for _, m := range moves {
		got, err := decodeMovement(encodeMovement(m))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, m) {
			t.Errorf("movement:\n got %+v\nwant %+v", got, m)
		}
		if _, err := decodeMovement(encodeMovement(m)[:5]); err == nil {
			t.Error("truncated movement decoded without error")
		}
	}
	ref := engine.DocRef{Kind: engine.KindTransfer, ID: "t-1"}
	if got, err := decodeDocRef(encodeDocRef(ref)); err != nil || got != ref {
		t.Errorf("doc ref: got %+v, %v; want %+v", got, err, ref)
	}
	for _, bad := range [][]byte{nil, {}, {0x7f}, {tagMovement}} {
		if _, err := decodeIdempotency(bad); err == nil {
			t.Errorf("decodeIdempotency(%q): no error", bad)
		}
		if _, err := decodeDocRef(bad); err == nil {
			t.Errorf("decodeDocRef(%q): no error", bad)
		}
	}
}

// TestReadsSchema1Values: a database written by schema 1 (JSON values) is
// read as before, and opening it for writing marks it schema 2.
func TestReadsSchema1Values(t *testing.T) {
	path := filepath.Join(t.TempDir(), "posd.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	rec := engine.IdempotencyRecord{Key: "old", Op: "sale.create", Hash: []byte{9, 9}, Status: 201, Body: []byte(`{"id":"s1"}`),
		Doc: engine.DocRef{Kind: engine.KindSale, ID: "s1"}, CreatedAt: at, ExpiresAt: at.Add(time.Hour)}
	move := engine.Movement{LocationID: "l", ProductID: "p", Quantity: -1000, Doc: rec.Doc, At: at}
	err = s.DB().Update(func(tx *bolt.Tx) error {
		put := func(bucket string, k []byte, v any) {
			b, _ := json.Marshal(v)
			if err := tx.Bucket([]byte(bucket)).Put(k, b); err != nil {
				t.Fatal(err)
			}
		}
		put(bIdem, key("b", "old"), rec)
		put(bMoves, seqKey(prefix("b"), 1), move)
		put(bNumbers, key("b", "INV-202611-0001"), rec.Doc)
		return tx.Bucket([]byte(bMeta)).Put([]byte("schema"), []byte("1"))
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s, err = Open(path, Options{}); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	err = s.View(context.Background(), func(tx engine.Tx) error {
		got, err := tx.Idempotency("b", "old")
		if err != nil {
			return err
		}
		want := rec
		want.BusinessID = "b"
		if !reflect.DeepEqual(*got, want) {
			t.Errorf("schema 1 idempotency record:\n got %+v\nwant %+v", *got, want)
		}
		n := 0
		tx.Movements("b", func(m *engine.Movement) error {
			n++
			want := move
			want.BusinessID = "b"
			if !reflect.DeepEqual(*m, want) {
				t.Errorf("schema 1 movement:\n got %+v\nwant %+v", *m, want)
			}
			return nil
		})
		if n != 1 {
			t.Errorf("movements: got %d, want 1", n)
		}
		if ref, err := tx.NumberOwner("b", "INV-202611-0001"); err != nil || ref != rec.Doc {
			t.Errorf("schema 1 number owner: got %+v, %v", ref, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	s.DB().View(func(tx *bolt.Tx) error {
		if v := string(tx.Bucket([]byte(bMeta)).Get([]byte("schema"))); v != "2" {
			t.Errorf("schema after opening for writing: got %q, want 2", v)
		}
		return nil
	})
}
