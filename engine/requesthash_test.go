package engine

import (
	"bytes"
	"crypto/sha256"
	"encoding/json"
	"testing"
)

// encodeJSON is what requestHash hashed before appendSaleInputJSON, and
// still hashes for what it declines.
func encodeJSON(t testing.TB, v any) []byte {
	var b bytes.Buffer
	if err := json.NewEncoder(&b).Encode(v); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func TestSaleInputHashJSON(t *testing.T) {
	raw := func(s string) json.RawMessage { return json.RawMessage(s) }
	till := SaleInput{LocationID: "0190c0de-0000-7000-8000-000000000001",
		Items:    []SaleItemInput{{ProductID: "p1", Quantity: raw("2")}, {ProductID: "p2", Quantity: raw("0.25"), UnitPrice: raw("1250")}},
		Payments: []PaymentInput{{Method: "cash", Amount: raw("5000")}}}
	for name, c := range map[string]struct {
		in   SaleInput
		fast bool
	}{
		"a till's sale":                  {till, true},
		"empty":                          {SaleInput{}, true},
		"empty lists":                    {SaleInput{Items: []SaleItemInput{}, Payments: []PaymentInput{}}, true},
		"line without quantity":          {SaleInput{Items: []SaleItemInput{{ProductID: "p"}}}, true},
		"numbers of every shape":         {SaleInput{Items: []SaleItemInput{{Quantity: raw("-0.5e+3"), UnitPrice: raw("1E9")}}, Payments: []PaymentInput{{Amount: raw("0")}}}, true},
		"HTML characters":                {SaleInput{LocationID: "a<b>&c"}, false},
		"quote and backslash":            {SaleInput{Items: []SaleItemInput{{ProductID: `a"b\c`}}}, false},
		"non-ASCII":                      {SaleInput{Payments: []PaymentInput{{Method: "café"}}}, false},
		"control character":              {SaleInput{LocationID: "a\tb"}, false},
		"quantity as a string":           {SaleInput{Items: []SaleItemInput{{Quantity: raw(`"2"`)}}}, false},
		"quantity with white space":      {SaleInput{Items: []SaleItemInput{{Quantity: raw(" 2")}}}, false},
		"amount as an object":            {SaleInput{Payments: []PaymentInput{{Amount: raw(`{"a": 1}`)}}}, false},
		"unit price null (not omitted)":  {SaleInput{Items: []SaleItemInput{{UnitPrice: raw("null")}}}, false},
		"number with a leading zero":     {SaleInput{Items: []SaleItemInput{{Quantity: raw("01")}}}, false},
		"number ending in a dot":         {SaleInput{Items: []SaleItemInput{{Quantity: raw("1.")}}}, false},
		"number with an empty exponent":  {SaleInput{Items: []SaleItemInput{{Quantity: raw("1e")}}}, false},
		"number that is only a minus":    {SaleInput{Items: []SaleItemInput{{Quantity: raw("-")}}}, false},
		"number followed by another one": {SaleInput{Items: []SaleItemInput{{Quantity: raw("1 2")}}}, false},
		"a cashier's sale (issue 10)":    {SaleInput{LocationID: "L", SoldAt: ptr("2026-12-01T10:11:12.345Z"), CashierID: ptr("0190c0de-0000-7000-8000-000000000002"), Payments: []PaymentInput{{Method: "card", Amount: raw("1")}}}, true},
		"sold at without a cashier":      {SaleInput{SoldAt: ptr("2026-12-01T10:11:12Z")}, true},
		"an empty cashier":               {SaleInput{CashierID: ptr("")}, true},
		"cashier with an HTML character": {SaleInput{CashierID: ptr("a&b")}, false},
	} {
		got, ok := appendSaleInputJSON([]byte("prefix"), &c.in)
		if ok != c.fast {
			t.Errorf("%s: fast path %v, want %v", name, ok, c.fast)
		}
		if !ok {
			if string(got) != "prefix" {
				t.Errorf("%s: declined but appended %q", name, got)
			}
			continue
		}
		if want := append([]byte("prefix"), encodeJSON(t, c.in)...); !bytes.Equal(got, want) {
			t.Errorf("%s:\n got %s\nwant %s", name, got, want)
		}
	}
}

// TestRequestHashOfSales: requestHash gives a sale the fingerprint it got
// from encoding/json, whether the fast path writes its JSON or not.
func TestRequestHashOfSales(t *testing.T) {
	byJSON := func(op, target string, in any) []byte {
		h := sha256.New()
		h.Write([]byte(op))
		h.Write([]byte{0})
		h.Write([]byte(target))
		h.Write([]byte{0})
		_ = json.NewEncoder(h).Encode(in)
		return h.Sum(nil)
	}
	raw := func(s string) json.RawMessage { return json.RawMessage(s) }
	for _, in := range []SaleInput{
		{LocationID: "L", Items: []SaleItemInput{{ProductID: "p1", Quantity: raw("2")}}, Payments: []PaymentInput{{Method: "cash", Amount: raw("5000")}}},
		{LocationID: "L<&>", Items: []SaleItemInput{{ProductID: "p1", Quantity: raw(`"2"`)}}},
		{LocationID: "L", SoldAt: ptr("2026-12-01T10:11:12.345Z"), CashierID: ptr("c1"), Payments: []PaymentInput{{Method: "cash", Amount: raw("5000")}}},
		{},
	} {
		if got, want := requestHash(opCreateSale, "", in), byJSON(opCreateSale, "", in); !bytes.Equal(got, want) {
			t.Errorf("%+v: requestHash %x, by encoding/json %x", in, got, want)
		}
	}
	if a, b := requestHash(opCreateSale, "", SaleInput{LocationID: "L"}), requestHash(opCreateSale, "", SaleInput{LocationID: "M"}); bytes.Equal(a, b) {
		t.Error("two different sales hash the same")
	}
	// A key reused with another cashier or time is another request.
	for _, other := range []SaleInput{{LocationID: "L", CashierID: ptr("c1")}, {LocationID: "L", SoldAt: ptr("2026-12-01T10:00:00Z")}} {
		if a, b := requestHash(opCreateSale, "", SaleInput{LocationID: "L"}), requestHash(opCreateSale, "", other); bytes.Equal(a, b) {
			t.Errorf("%+v hashes as the same sale without its cashier and time", other)
		}
	}
	// Other inputs keep going through encoding/json.
	in := LocationInput{Name: "Shop"}
	if got, want := requestHash(opCreateLocation, "", in), byJSON(opCreateLocation, "", in); !bytes.Equal(got, want) {
		t.Errorf("location: requestHash %x, by encoding/json %x", got, want)
	}
}

// FuzzSaleInputHashJSON: whatever the fast encoder writes is what
// encoding/json writes, byte for byte.
func FuzzSaleInputHashJSON(f *testing.F) {
	f.Add("0190c0de-0000-7000-8000-000000000001", "p1", []byte("2"), []byte(""), "cash", []byte("5000"), uint8(0))
	f.Add("loc", "p<1>", []byte("0.25"), []byte("1250"), "card", []byte("-1e3"), uint8(1))
	f.Add("", "", []byte(`"2"`), []byte("null"), "café", []byte(" 1"), uint8(2))
	f.Fuzz(func(t *testing.T, loc, product string, qty, price []byte, method string, amount []byte, shape uint8) {
		in := SaleInput{LocationID: loc}
		if shape&8 != 0 {
			in.SoldAt = &product
		}
		if shape&16 != 0 {
			in.CashierID = &method
		}
		if shape&1 == 0 {
			in.Items = []SaleItemInput{{ProductID: product, Quantity: nilIfEmpty(qty), UnitPrice: nilIfEmpty(price)}, {ProductID: loc, Quantity: nilIfEmpty(amount)}}
		} else if shape&2 == 0 {
			in.Items = []SaleItemInput{}
		}
		if shape&4 == 0 {
			in.Payments = []PaymentInput{{Method: method, Amount: nilIfEmpty(amount)}}
		}
		var want bytes.Buffer
		if err := json.NewEncoder(&want).Encode(in); err != nil {
			// Invalid raw JSON: encoding/json refuses it, and so must
			// the fast path (the hash then covers the prefix only, as
			// before).
			if _, ok := appendSaleInputJSON(nil, &in); ok {
				t.Fatalf("fast path wrote what encoding/json refuses (%v)", err)
			}
			return
		}
		got, ok := appendSaleInputJSON(nil, &in)
		if ok && !bytes.Equal(got, want.Bytes()) {
			t.Fatalf("\n got %s\nwant %s", got, want.Bytes())
		}
	})
}

func ptr(s string) *string { return &s }

func nilIfEmpty(b []byte) json.RawMessage {
	if len(b) == 0 {
		return nil
	}
	return json.RawMessage(b)
}
