package boltstore

import (
	"bytes"
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
		want := *r
		want.Body = nil // kept apart, under the expiry key
		if !reflect.DeepEqual(*got, want) {
			t.Errorf("idempotency record:\n got %+v\nwant %+v", got, want)
		}
		// A truncated or extended value is an error, never a record.
		b := encodeIdempotency(r)
		for n := 1; n < len(b); n++ {
			if _, err := decodeIdempotency(b[:n]); err == nil {
				t.Errorf("truncated to %d bytes: no error", n)
			}
		}
		if _, err := decodeIdempotency(append(b, 0)); err == nil {
			t.Error("trailing byte: no error")
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
// read as before, and opening it for writing marks it with the current
// schema.
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
		if err := tx.Bucket([]byte(bIdemExp)).Put(expKey(rec.ExpiresAt, "b", "old"), []byte{}); err != nil {
			t.Fatal(err)
		}
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
	// The sweeper drops the inline answer of a schema-1 record and keeps
	// the record.
	if n, err := s.SweepIdempotency(context.Background(), at.Add(2*time.Hour), 10); err != nil || n != 1 {
		t.Fatalf("sweep: %d, %v; want 1", n, err)
	}
	s.View(context.Background(), func(tx engine.Tx) error {
		got, err := tx.Idempotency("b", "old")
		if err != nil || got.Body != nil || got.Doc != rec.Doc || !bytes.Equal(got.Hash, rec.Hash) {
			t.Errorf("swept schema 1 record: got %+v, %v", got, err)
		}
		return nil
	})
	s.DB().View(func(tx *bolt.Tx) error {
		if v := string(tx.Bucket([]byte(bMeta)).Get([]byte("schema"))); v != "3" {
			t.Errorf("schema after opening for writing: got %q, want 3", v)
		}
		return nil
	})
}

// TestIdempotencyAnswerKeptApart: a record's answer is stored under its
// expiry key, read back with the record (alone and in a scan) and dropped by
// the sweeper, which keeps the record.
func TestIdempotencyAnswerKeptApart(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "posd.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	at := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	recs := []engine.IdempotencyRecord{
		{BusinessID: "b", Key: "k1", Op: "sale.create", Hash: []byte{1}, Status: 201, Body: []byte(`{"id":"1"}`), Doc: engine.DocRef{Kind: engine.KindSale, ID: "1"}, CreatedAt: at, ExpiresAt: at.Add(time.Hour)},
		{BusinessID: "b", Key: "k2", Op: "sale.create", Hash: []byte{2}, Status: 201, Body: []byte(`{"id":"2"}`), Doc: engine.DocRef{Kind: engine.KindSale, ID: "2"}, CreatedAt: at, ExpiresAt: at.Add(3 * time.Hour)},
		{BusinessID: "c", Key: "k1", Op: "token.create", Hash: []byte{3}, Status: 201, Doc: engine.DocRef{Kind: engine.KindToken, ID: "3"}, CreatedAt: at, ExpiresAt: at.Add(time.Hour)},
	}
	err = s.Update(ctx, func(tx engine.Tx) error {
		for i := range recs {
			if err := tx.PutIdempotency(&recs[i]); err != nil {
				return err
			}
		}
		// Within the transaction, the answer is already there.
		got, err := tx.Idempotency("b", "k1")
		if err != nil || string(got.Body) != `{"id":"1"}` {
			t.Errorf("read own write: %+v %v", got, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	check := func(when string, want map[string]string) {
		t.Helper()
		s.View(ctx, func(tx engine.Tx) error {
			for _, r := range recs {
				got, err := tx.Idempotency(r.BusinessID, r.Key)
				if err != nil {
					t.Fatalf("%s: %s/%s: %v", when, r.BusinessID, r.Key, err)
				}
				if w := want[r.BusinessID+"/"+r.Key]; string(got.Body) != w || got.Doc != r.Doc || got.Status != r.Status {
					t.Errorf("%s: %s/%s: body %q doc %v, want body %q doc %v", when, r.BusinessID, r.Key, got.Body, got.Doc, w, r.Doc)
				}
			}
			n := 0
			tx.Idempotencies("b", func(r *engine.IdempotencyRecord) error {
				n++
				if w := want["b/"+r.Key]; string(r.Body) != w {
					t.Errorf("%s: scan b/%s: body %q, want %q", when, r.Key, r.Body, w)
				}
				return nil
			})
			if n != 2 {
				t.Errorf("%s: scan of b: %d records, want 2", when, n)
			}
			return nil
		})
	}
	check("before the sweep", map[string]string{"b/k1": `{"id":"1"}`, "b/k2": `{"id":"2"}`})
	if n, err := s.SweepIdempotency(ctx, at.Add(2*time.Hour), 10); err != nil || n != 1 {
		t.Fatalf("sweep: %d, %v; want 1", n, err)
	}
	check("after the sweep", map[string]string{"b/k2": `{"id":"2"}`})
}

// testSales are sales with every field set, with nil and empty lists, and
// with text that JSON escapes.
func testSales() []*engine.Sale {
	at := time.Date(2026, 11, 27, 10, 11, 12, 345_678_901, time.UTC)
	return []*engine.Sale{
		{ID: "0193a1b2-sale", InvoiceNumber: "INV-202611-0001", LocationID: "loc-1",
			Items: []engine.SaleLine{
				{ProductID: "p1", SKU: "APPLE", Name: "Äpfel \"Boskoop\" <&>", Quantity: 2500, UnitPrice: 150, TaxRate: 700, LineTotal: 375, TaxAmount: 25, RefundedQuantity: 1000, RefundedAmount: 150},
				{ProductID: "p2", SKU: "BREAD", Name: "Brot\n", Quantity: engine.MaxQuantity, UnitPrice: -1, TaxRate: 0, LineTotal: 0},
			},
			Payments: []engine.Payment{{Method: engine.MethodCash, Amount: 500}, {Method: engine.MethodCard, Amount: 1}},
			Total:    375, TaxTotal: 25, Paid: 501, Change: 126, Currency: "EUR", CreatedAt: at, TokenID: "tok-1",
			Returns: []string{"r1", "r2"}},
		{ID: "s2", Items: []engine.SaleLine{}, Payments: []engine.Payment{}, Returns: []string{}, CreatedAt: at},
		{ID: "s3"},
	}
}

// TestSaleEncodingRoundTrip: a sale stored compactly reads back equal to
// the one written, and answers with the same JSON bytes as a sale stored as
// JSON (schema 2) does; damaged values are errors, never sales.
func TestSaleEncodingRoundTrip(t *testing.T) {
	for _, want := range testSales() {
		b := encodeSale(want)
		got := new(engine.Sale)
		if err := decodeSale(b, got); err != nil {
			t.Fatalf("%s: %v", want.ID, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n got %+v\nwant %+v", want.ID, got, want)
		}
		fromJSON := new(engine.Sale)
		if err := decodeSale(want.AppendJSON(nil), fromJSON); err != nil {
			t.Fatalf("%s as JSON: %v", want.ID, err)
		}
		if a, j := got.AppendJSON(nil), fromJSON.AppendJSON(nil); !bytes.Equal(a, j) {
			t.Errorf("%s: JSON of the compact sale\n%s\ndiffers from JSON of the JSON sale\n%s", want.ID, a, j)
		}
		if len(b) >= len(want.AppendJSON(nil)) {
			t.Errorf("%s: compact %d bytes, JSON %d", want.ID, len(b), len(want.AppendJSON(nil)))
		}
		for n := 0; n < len(b); n++ {
			if err := decodeSale(b[:n], new(engine.Sale)); err == nil {
				t.Errorf("%s truncated to %d bytes: no error", want.ID, n)
			}
		}
		if err := decodeSale(append(b, 0), new(engine.Sale)); err == nil {
			t.Errorf("%s with a trailing byte: no error", want.ID)
		}
	}
	// A list length larger than the value is refused before allocating.
	if err := decodeSale([]byte{tagSale, 1, 'x', 0, 0, 0xff, 0xff, 0xff, 0xff, 0x0f}, new(engine.Sale)); err == nil {
		t.Error("huge item count: no error")
	}
}

// FuzzDecodeSale: no input makes decodeSale panic or allocate without
// bound, and whatever it accepts encodes back into a value that decodes to
// the same sale.
func FuzzDecodeSale(f *testing.F) {
	for _, s := range testSales() {
		f.Add(encodeSale(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		s := new(engine.Sale)
		if decodeSale(b, s) != nil || len(b) == 0 || b[0] != tagSale {
			return
		}
		again := new(engine.Sale)
		if err := decodeSale(encodeSale(s), again); err != nil || !reflect.DeepEqual(again, s) {
			t.Errorf("decoded %x into %+v; encoded again it reads %+v, %v", b, s, again, err)
		}
	})
}

// TestReadsSchema2Sales: sales written as JSON by schema 2 are read by
// Sale, Sales and AllSales, beside compact ones, and a refund rewrites an
// old sale compactly.
func TestReadsSchema2Sales(t *testing.T) {
	path := filepath.Join(t.TempDir(), "posd.db")
	s, err := Open(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	sales := testSales()[:2]
	for _, x := range sales {
		x.BusinessID = "b"
		x.LocationID = "loc-1"
	}
	// The first as schema 2 wrote it, the second through the store.
	err = s.DB().Update(func(tx *bolt.Tx) error {
		return tx.Bucket([]byte(bSales)).Put(key("b", sales[0].ID), sales[0].AppendJSON(nil))
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Update(ctx, func(tx engine.Tx) error { return tx.PutSale(sales[1]) }); err != nil {
		t.Fatal(err)
	}
	s.View(ctx, func(tx engine.Tx) error {
		for _, want := range sales {
			got, err := tx.Sale("b", want.ID)
			if err != nil || !reflect.DeepEqual(got, want) {
				t.Errorf("Sale(%s): got %+v, %v\nwant %+v", want.ID, got, err, want)
			}
		}
		var all []string
		tx.AllSales("b", func(x *engine.Sale) error {
			if x.BusinessID != "b" {
				t.Errorf("AllSales: %s has business %q", x.ID, x.BusinessID)
			}
			all = append(all, x.ID)
			return nil
		})
		if len(all) != 2 {
			t.Errorf("AllSales: %v, want both", all)
		}
		list, _, err := tx.Sales("b", engine.SaleFilter{})
		if err != nil || len(list) != 1 || !reflect.DeepEqual(list[0], sales[1]) {
			t.Errorf("Sales: %v, %v; want the one listed sale", list, err)
		}
		return nil
	})
	sales[0].Returns = append(sales[0].Returns, "r3")
	if err := s.Update(ctx, func(tx engine.Tx) error { return tx.PutSale(sales[0]) }); err != nil {
		t.Fatal(err)
	}
	s.DB().View(func(tx *bolt.Tx) error {
		if v := tx.Bucket([]byte(bSales)).Get(key("b", sales[0].ID)); len(v) == 0 || v[0] != tagSale {
			t.Errorf("an old sale rewritten: %q..., want the compact encoding", v[:min(len(v), 10)])
		}
		return nil
	})
}

// TestSaleAnswerKeptCompact: the answer to a new sale is kept as the
// compact sale and replayed byte for byte, also after a refund changed the
// sale; an answer that is not exactly the sale's JSON is kept as it is.
func TestSaleAnswerKeptCompact(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "posd.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	sale := testSales()[0]
	sale.BusinessID = "b"
	want := sale.AppendJSON(nil)
	at := sale.CreatedAt
	recs := []*engine.IdempotencyRecord{
		{BusinessID: "b", Key: "k1", Op: "sale.create", Hash: []byte{1}, Status: 201, Body: want,
			Doc: engine.DocRef{Kind: engine.KindSale, ID: sale.ID}, CreatedAt: at, ExpiresAt: at.Add(time.Hour)},
		// Same sale, an answer that is not its JSON: kept verbatim.
		{BusinessID: "b", Key: "k2", Op: "sale.create", Hash: []byte{2}, Status: 201, Body: append(bytes.Clone(want[:len(want)-1]), ` }`...),
			Doc: engine.DocRef{Kind: engine.KindSale, ID: sale.ID}, CreatedAt: at, ExpiresAt: at.Add(time.Hour)},
	}
	err = s.Update(ctx, func(tx engine.Tx) error {
		if err := tx.PutSale(sale); err != nil {
			return err
		}
		for _, r := range recs {
			if err := tx.PutIdempotency(r); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	s.DB().View(func(tx *bolt.Tx) error {
		b := tx.Bucket([]byte(bIdemExp))
		v1, v2 := b.Get(expKey(recs[0].ExpiresAt, "b", "k1")), b.Get(expKey(recs[1].ExpiresAt, "b", "k2"))
		if len(v1) == 0 || v1[0] != tagSale || len(v1)*2 > len(want) {
			t.Errorf("sale answer stored as %d bytes starting %q; want the compact sale (JSON is %d bytes)", len(v1), v1[:min(len(v1), 1)], len(want))
		}
		if !bytes.Equal(v2, recs[1].Body) {
			t.Errorf("an answer that is not the sale's JSON was stored as %q", v2)
		}
		return nil
	})
	// A refund changes the sale; the answer to replay does not change.
	sale.Returns = append(sale.Returns, "r9")
	sale.Items[1].RefundedQuantity = 1000
	if err := s.Update(ctx, func(tx engine.Tx) error { return tx.PutSale(sale) }); err != nil {
		t.Fatal(err)
	}
	s.View(ctx, func(tx engine.Tx) error {
		for _, r := range recs {
			got, err := tx.Idempotency("b", r.Key)
			if err != nil || !bytes.Equal(got.Body, r.Body) {
				t.Errorf("%s: replay body\n%s\nwant\n%s (%v)", r.Key, got.Body, r.Body, err)
			}
		}
		return nil
	})
}
