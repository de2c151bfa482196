package boltstore

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"posd/engine"
)

func TestCompactEncodingsRoundTrip(t *testing.T) {
	at := time.Date(2026, 11, 27, 10, 11, 12, 345_000_000, time.UTC)
	recs := []*engine.IdempotencyRecord{
		{Key: "k-1", Op: "sale.create", Hash: []byte{1, 2, 3}, Version: 1,
			Doc: engine.DocRef{Kind: engine.KindSale, ID: "0190-…"}, CreatedAt: at, ExpiresAt: at.Add(24 * time.Hour)},
		{Key: "k-2", Op: "sale.refund", Target: "sale-id", Hash: make([]byte, 32), Version: 7, Doc: engine.DocRef{Kind: engine.KindReturn, ID: "r"}},
		{Key: "", Op: ""},
	}
	for _, r := range recs {
		got, inline, err := decodeIdempotency(encodeIdempotency(r))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(*got, *r) || inline != nil {
			t.Errorf("idempotency record:\n got %+v\nwant %+v", got, r)
		}
		// A truncated or extended value is an error, never a record.
		b := encodeIdempotency(r)
		for n := 1; n < len(b); n++ {
			if _, _, err := decodeIdempotency(b[:n]); err == nil {
				t.Errorf("truncated to %d bytes: no error", n)
			}
		}
		if _, _, err := decodeIdempotency(append(b, 0)); err == nil {
			t.Error("trailing byte: no error")
		}
		// Schemas 2 and 3 wrote the answer's HTTP status where the version
		// is now: such a record reads as answered in version 1.
		old, _, err := decodeIdempotency(encodeIdempotencySchema3(r, 201))
		want := *r
		want.Version = 1
		if err != nil || !reflect.DeepEqual(*old, want) {
			t.Errorf("schema 3 record:\n got %+v, %v\nwant %+v", old, err, want)
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
		if _, _, err := decodeIdempotency(bad); err == nil {
			t.Errorf("decodeIdempotency(%q): no error", bad)
		}
		if _, err := decodeDocRef(bad); err == nil {
			t.Errorf("decodeDocRef(%q): no error", bad)
		}
	}
}

// encodeIdempotencySchema3 is the record encoding of schemas 2 and 3, with
// the answer's HTTP status.
func encodeIdempotencySchema3(r *engine.IdempotencyRecord, status int) []byte {
	e := encoder{}
	e.b = append(e.b, tagIdempotency1)
	e.str(r.Key)
	e.str(r.Op)
	e.str(r.Target)
	e.bytes(r.Hash)
	e.int(int64(status))
	e.str(string(r.Doc.Kind))
	e.str(r.Doc.ID)
	e.time(r.CreatedAt)
	e.time(r.ExpiresAt)
	return e.b
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
	answer := `{"id":"l1","name":"Back room","createdAt":"2026-11-01T09:00:00Z"}`
	rec := map[string]any{"key": "old", "op": "location.create", "hash": []byte{9, 9}, "status": 201, "body": []byte(answer),
		"doc": engine.DocRef{Kind: engine.KindLocation, ID: "l1"}, "createdAt": at, "expiresAt": at.Add(time.Hour)}
	move := engine.Movement{LocationID: "l", ProductID: "p", Quantity: -1000, Doc: engine.DocRef{Kind: engine.KindSale, ID: "s1"}, At: at}
	err = s.DB().Update(func(tx *bolt.Tx) error {
		put := func(bucket string, k []byte, v any) {
			b, _ := json.Marshal(v)
			if err := tx.Bucket([]byte(bucket)).Put(k, b); err != nil {
				t.Fatal(err)
			}
		}
		put(bIdem, key("b", "old"), rec)
		put(bMoves, seqKey(prefix("b"), 1), move)
		put(bNumbers, key("b", "INV-202611-0001"), move.Doc)
		if err := tx.Bucket([]byte(bIdemExp)).Put(expKey(at.Add(time.Hour), "b", "old"), []byte{}); err != nil {
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
	wantRec := engine.IdempotencyRecord{BusinessID: "b", Key: "old", Op: "location.create", Hash: []byte{9, 9}, Version: 1,
		Doc: engine.DocRef{Kind: engine.KindLocation, ID: "l1"}, CreatedAt: at, ExpiresAt: at.Add(time.Hour)}
	err = engine.Scan(context.Background(), s, func(tx engine.ScanTx) error {
		got, err := tx.Idempotency("b", "old")
		if err != nil {
			return err
		}
		// The answer, rendered as the API renders version 1, is the
		// stored answer byte for byte.
		if b, err := json.Marshal(got.Answer); err != nil || string(b) != answer {
			t.Errorf("schema 1 answer: got %s (%v), want %s", b, err, answer)
		}
		got.Answer = nil
		if !reflect.DeepEqual(*got, wantRec) {
			t.Errorf("schema 1 idempotency record:\n got %+v\nwant %+v", *got, wantRec)
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
		if ref, err := tx.NumberOwner("b", "INV-202611-0001"); err != nil || ref != move.Doc {
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
		if err != nil || got.Answer != nil || got.Doc != wantRec.Doc || !bytes.Equal(got.Hash, wantRec.Hash) {
			t.Errorf("swept schema 1 record: got %+v, %v", got, err)
		}
		return nil
	})
	s.DB().View(func(tx *bolt.Tx) error {
		if v := string(tx.Bucket([]byte(bMeta)).Get([]byte("schema"))); v != strconv.Itoa(SchemaVersion) {
			t.Errorf("schema after opening for writing: got %q, want %d", v, SchemaVersion)
		}
		return nil
	})
}

// TestReadsSchema3Answers: the answers a schema-3 posd kept (a compact
// sale, any other document's JSON bytes, under a record with an HTTP
// status) read back as documents whose version-1 rendering is those very
// bytes, so a replay across the upgrade is byte for byte the first answer.
func TestReadsSchema3Answers(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "posd.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	at := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	sale := testSales()[0]
	saleJSON, _ := json.Marshal(sale)
	answers := map[engine.DocKind]string{
		engine.KindSale:       string(saleJSON),
		engine.KindReturn:     `{"id":"r1","returnNumber":"RET-202611-0001","saleId":"s1","locationId":"l1","items":[{"productId":"p1","sku":"A","name":"Äpfel \u003c\u0026\u003e","quantity":0.25,"unitPrice":150,"lineTotal":38}],"total":38,"currency":"EUR","restock":true,"createdAt":"2026-11-27T08:00:00.123Z","tokenId":"t1"}`,
		engine.KindReceipt:    `{"id":"c1","status":"approved","receiptNumber":"RCV-202611-0001","locationId":"l1","supplier":"Farm","items":[{"productId":"p1","quantity":10,"unitCost":80,"lineTotal":800}],"total":800,"createdAt":"2026-11-27T08:00:00Z","approvedAt":"2026-11-27T08:01:00Z"}`,
		engine.KindTransfer:   `{"id":"x1","status":"draft","transferNumber":null,"fromLocationId":"l1","toLocationId":"l2","items":[{"productId":"p1","quantity":1.5}],"createdAt":"2026-11-27T08:00:00Z","sentAt":null,"receivedAt":null}`,
		engine.KindAdjustment: `{"id":"a1","locationId":"l1","items":[{"productId":"p1","quantity":-2}],"reason":"count","createdAt":"2026-11-27T08:00:00Z"}`,
		engine.KindLocation:   `{"id":"l2","name":"Branch","createdAt":"2026-11-27T08:00:00Z"}`,
		engine.KindProduct:    `{"id":"p1","sku":"A","name":"Apple","price":150,"taxRate":7.7,"archived":false,"createdAt":"2026-11-27T08:00:00Z","updatedAt":"2026-11-27T08:00:00Z"}`,
		engine.KindToken:      `{"id":"t2","token":null,"role":"till","name":"Till 2","locationId":"l1","createdAt":"2026-11-27T08:00:00Z"}`,
	}
	err = s.DB().Update(func(tx *bolt.Tx) error {
		for kind, answer := range answers {
			r := &engine.IdempotencyRecord{Key: string(kind), Op: "x", Hash: []byte{1}, Doc: engine.DocRef{Kind: kind, ID: "id"}, CreatedAt: at, ExpiresAt: at.Add(time.Hour)}
			v := []byte(answer)
			if kind == engine.KindSale {
				v = encodeSale(sale)
			}
			if err := tx.Bucket([]byte(bIdem)).Put(key("b", r.Key), encodeIdempotencySchema3(r, 201)); err != nil {
				return err
			}
			if err := tx.Bucket([]byte(bIdemExp)).Put(expKey(r.ExpiresAt, "b", r.Key), v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	s.View(context.Background(), func(tx engine.Tx) error {
		for kind, answer := range answers {
			r, err := tx.Idempotency("b", string(kind))
			if err != nil {
				t.Fatalf("%s: %v", kind, err)
			}
			if b, err := json.Marshal(r.Answer); err != nil || string(b) != answer || r.Version != 1 {
				t.Errorf("%s answer (version %d):\n got %s (%v)\nwant %s", kind, r.Version, b, err, answer)
			}
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
	loc := func(id string) *engine.Location { return &engine.Location{ID: id, Name: "L" + id, CreatedAt: at} }
	recs := []engine.IdempotencyRecord{
		{BusinessID: "b", Key: "k1", Op: "location.create", Hash: []byte{1}, Version: 1, Answer: loc("1"), Doc: engine.DocRef{Kind: engine.KindLocation, ID: "1"}, CreatedAt: at, ExpiresAt: at.Add(time.Hour)},
		{BusinessID: "b", Key: "k2", Op: "location.create", Hash: []byte{2}, Version: 1, Answer: loc("2"), Doc: engine.DocRef{Kind: engine.KindLocation, ID: "2"}, CreatedAt: at, ExpiresAt: at.Add(3 * time.Hour)},
		{BusinessID: "c", Key: "k1", Op: "token.create", Hash: []byte{3}, Version: 1, Doc: engine.DocRef{Kind: engine.KindToken, ID: "3"}, CreatedAt: at, ExpiresAt: at.Add(time.Hour)},
	}
	answerOf := func(r *engine.IdempotencyRecord) string {
		if r.Answer == nil {
			return ""
		}
		return r.Answer.(*engine.Location).ID
	}
	err = s.Update(ctx, func(tx engine.Tx) error {
		for i := range recs {
			if err := tx.PutIdempotency(&recs[i]); err != nil {
				return err
			}
		}
		// Within the transaction, the answer is already there.
		got, err := tx.Idempotency("b", "k1")
		if err != nil || answerOf(got) != "1" {
			t.Errorf("read own write: %+v %v", got, err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	check := func(when string, want map[string]string) {
		t.Helper()
		engine.Scan(ctx, s, func(tx engine.ScanTx) error {
			for _, r := range recs {
				got, err := tx.Idempotency(r.BusinessID, r.Key)
				if err != nil {
					t.Fatalf("%s: %s/%s: %v", when, r.BusinessID, r.Key, err)
				}
				if w := want[r.BusinessID+"/"+r.Key]; answerOf(got) != w || got.Doc != r.Doc || got.Version != r.Version {
					t.Errorf("%s: %s/%s: answer %q doc %v, want answer %q doc %v", when, r.BusinessID, r.Key, answerOf(got), got.Doc, w, r.Doc)
				}
			}
			n := 0
			tx.Idempotencies("b", func(r *engine.IdempotencyRecord) error {
				n++
				if w := want["b/"+r.Key]; answerOf(r) != w {
					t.Errorf("%s: scan b/%s: answer %q, want %q", when, r.Key, answerOf(r), w)
				}
				return nil
			})
			if n != 2 {
				t.Errorf("%s: scan of b: %d records, want 2", when, n)
			}
			return nil
		})
	}
	check("before the sweep", map[string]string{"b/k1": "1", "b/k2": "2"})
	if n, err := s.SweepIdempotency(ctx, at.Add(2*time.Hour), 10); err != nil || n != 1 {
		t.Fatalf("sweep: %d, %v; want 1", n, err)
	}
	check("after the sweep", map[string]string{"b/k2": "2"})
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
		wantJSON, _ := json.Marshal(want)
		fromJSON := new(engine.Sale)
		if err := decodeSale(wantJSON, fromJSON); err != nil {
			t.Fatalf("%s as JSON: %v", want.ID, err)
		}
		a, _ := json.Marshal(got)
		j, _ := json.Marshal(fromJSON)
		if !bytes.Equal(a, j) || !bytes.Equal(a, wantJSON) {
			t.Errorf("%s: JSON of the compact sale\n%s\ndiffers from JSON of the JSON sale\n%s", want.ID, a, j)
		}
		if len(b) >= len(wantJSON) {
			t.Errorf("%s: compact %d bytes, JSON %d", want.ID, len(b), len(wantJSON))
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
		v, _ := json.Marshal(sales[0])
		return tx.Bucket([]byte(bSales)).Put(key("b", sales[0].ID), v)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Update(ctx, func(tx engine.Tx) error { return tx.PutSale(sales[1]) }); err != nil {
		t.Fatal(err)
	}
	engine.Scan(ctx, s, func(tx engine.ScanTx) error {
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

// TestSaleAnswerKeptCompact: the answer to a sale is kept as the compact
// sale, or (schema 7) as a 5-byte reference to the sale its operation
// stored when that is the sale as answered, and read back as the sale it
// was, also after a refund changed the sale. A sale changed otherwise (the
// file tampered with) makes its referenced answer read as expired, not as
// other bytes and not as an error.
func TestSaleAnswerKeptCompact(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "posd.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	refunded := testSales()[0] // answered with refunds already in it: not a new sale
	fresh := *refunded         // as a new sale is answered: no refunds yet
	fresh.ID, fresh.Returns = "s-new", []string{}
	fresh.Items = slices.Clone(refunded.Items)
	for i := range fresh.Items {
		fresh.Items[i].RefundedQuantity, fresh.Items[i].RefundedAmount = 0, 0
	}
	apart := fresh // stored by another operation than the one that answered
	apart.ID = "s-apart"
	cases := []struct {
		name    string
		sale    *engine.Sale
		same    bool // the answering operation stores the sale
		wantTag byte
		wantLen int
	}{
		{"refunded", refunded, true, tagSale, -1},
		{"new", &fresh, true, tagSaleAnswer, saleAnswerSize},
		{"apart", &apart, false, tagSale, -1},
	}
	for _, c := range cases {
		c.sale.BusinessID = "b"
		want, _ := json.Marshal(c.sale)
		at := c.sale.CreatedAt
		rec := &engine.IdempotencyRecord{BusinessID: "b", Key: c.name, Op: "sale.create", Hash: []byte{1}, Version: 1, Answer: c.sale,
			Doc: engine.DocRef{Kind: engine.KindSale, ID: c.sale.ID}, CreatedAt: at, ExpiresAt: at.Add(time.Hour)}
		if !c.same {
			if err := s.Update(ctx, func(tx engine.Tx) error { return tx.PutSale(c.sale) }); err != nil {
				t.Fatal(err)
			}
		}
		err = s.Update(ctx, func(tx engine.Tx) error {
			if c.same {
				if err := tx.PutSale(c.sale); err != nil {
					return err
				}
			}
			return tx.PutIdempotency(rec)
		})
		if err != nil {
			t.Fatal(err)
		}
		s.DB().View(func(tx *bolt.Tx) error {
			v := tx.Bucket([]byte(bIdemExp)).Get(expKey(rec.ExpiresAt, "b", c.name))
			if len(v) == 0 || v[0] != c.wantTag || (c.wantLen > 0 && len(v) != c.wantLen) || len(v)*2 > len(want) {
				t.Errorf("%s: sale answer stored as %d bytes starting %q; want tag %#x (JSON is %d bytes)", c.name, len(v), v[:min(len(v), 1)], c.wantTag, len(want))
			}
			return nil
		})
		// A refund changes the sale; the answer to replay does not change.
		changed := *c.sale
		changed.Returns = append(slices.Clone(c.sale.Returns), "r9")
		changed.Items = slices.Clone(c.sale.Items)
		changed.Items[1].RefundedQuantity += 1000
		changed.Items[1].RefundedAmount += 150
		if err := s.Update(ctx, func(tx engine.Tx) error { return tx.PutSale(&changed) }); err != nil {
			t.Fatal(err)
		}
		answer := func() any {
			var a any
			s.View(ctx, func(tx engine.Tx) error {
				got, err := tx.Idempotency("b", c.name)
				if err != nil {
					t.Fatalf("%s: %v", c.name, err)
				}
				a = got.Answer
				return nil
			})
			return a
		}
		if b, _ := json.Marshal(answer()); !bytes.Equal(b, want) {
			t.Errorf("%s: replayed answer\n%s\nwant\n%s", c.name, b, want)
		}
		// Tampering: the total changed in the file.
		tampered := changed
		tampered.Total++
		if err := s.Update(ctx, func(tx engine.Tx) error { return tx.PutSale(&tampered) }); err != nil {
			t.Fatal(err)
		}
		got := answer()
		if c.wantTag == tagSaleAnswer {
			if got != nil {
				t.Errorf("%s: the answer of a tampered sale: %+v, want none (expired)", c.name, got)
			}
		} else if b, _ := json.Marshal(got); !bytes.Equal(b, want) {
			t.Errorf("%s: a copied answer after tampering\n%s\nwant\n%s", c.name, b, want)
		}
	}
}

// TestHexHash: hexHash reads exactly the lowercase hex of 32 bytes (what
// encoding/hex writes) and refuses anything that would not read back as
// it was written: an uppercase or non-hex digit, another length.
func TestHexHash(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 1000 {
		var want [32]byte
		for i := range want {
			want[i] = byte(r.Uint32())
		}
		h := hex.EncodeToString(want[:])
		if got, ok := hexHash(h); !ok || got != want {
			t.Fatalf("hexHash(%s) = %x, %v", h, got, ok)
		}
		i := r.IntN(64)
		for _, c := range []byte{'A', 'F', 'g', 'z', '/', ':', '`', 0, 0xff, ' '} {
			bad := []byte(h)
			bad[i] = c
			if _, ok := hexHash(string(bad)); ok {
				t.Fatalf("hexHash accepted %q", bad)
			}
		}
	}
	for _, h := range []string{"", "00", strings.Repeat("0", 63), strings.Repeat("0", 65)} {
		if _, ok := hexHash(h); ok {
			t.Errorf("hexHash accepted %d digits", len(h))
		}
	}
}
