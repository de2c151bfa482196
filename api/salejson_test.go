package api

import (
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"posd/engine"
)

const tillSale = `{"locationId":"0190c0de-0000-7000-8000-000000000001","items":[{"productId":"0190c0de-0000-7000-8000-000000000002","quantity":2},` +
	`{"productId":"0190c0de-0000-7000-8000-000000000003","quantity":0.25,"unitPrice":1250}],"payments":[{"method":"cash","amount":5000},{"method":"card","amount":1}]}`

// TestDecodeSaleInput: the bodies tills send are decoded by the fast path
// to what decodeStrict makes of them; anything unusual is left to
// decodeStrict.
func TestDecodeSaleInput(t *testing.T) {
	for name, c := range map[string]struct {
		body string
		fast bool
	}{
		"a till's sale":               {tillSale, true},
		"white space everywhere":      {" \n{ \"locationId\" : \"L\" ,\t\"items\" : [ { \"productId\" : \"P\" , \"quantity\" : 1 } ] ,\"payments\":[ ] }\r\n", true},
		"fields in another order":     {`{"payments":[{"amount":5,"method":"card"}],"items":[{"quantity":1,"productId":"P"}],"locationId":"L"}`, true},
		"empty object":                {`{}`, true},
		"empty lists":                 {`{"items":[],"payments":[]}`, true},
		"empty line":                  {`{"items":[{}]}`, true},
		"non-ASCII name":              {`{"locationId":"Café"}`, true},
		"numbers of every shape":      {`{"items":[{"quantity":-0.5e+3,"unitPrice":1E9}],"payments":[{"amount":0}]}`, true},
		"a cashier's sale (issue 10)": {`{"locationId":"L","items":[{"productId":"P","quantity":1}],"payments":[{"method":"cash","amount":5}],"soldAt":"2026-12-01T10:11:12.345Z","cashierId":"C"}`, true},
		"cashier first, empty":        {`{"cashierId":"","locationId":"L"}`, true},
		"sold at null":                {`{"soldAt":null}`, false},
		"cashier as a number":         {`{"cashierId":5}`, false},
		"duplicated cashier":          {`{"cashierId":"a","cashierId":"b"}`, false},
		"unknown field":               {`{"locationId":"L","total":5}`, false},
		"unknown line field":          {`{"items":[{"productId":"P","sku":"x"}]}`, false},
		"field in another case":       {`{"LocationId":"L"}`, false},
		"duplicated field":            {`{"locationId":"L","locationId":"M"}`, false},
		"duplicated line field":       {`{"items":[{"quantity":1,"quantity":2}]}`, false},
		"escape in a string":          {`{"locationId":"L\u0041"}`, false},
		"null":                        {`{"locationId":null}`, false},
		"null line":                   {`{"items":[null]}`, false},
		"unit price null":             {`{"items":[{"unitPrice":null}]}`, false},
		"quantity as a string":        {`{"items":[{"quantity":"2"}]}`, false},
		"number with a leading zero":  {`{"items":[{"quantity":01}]}`, false},
		"number with a plus":          {`{"items":[{"quantity":+1}]}`, false},
		"trailing data":               {`{"locationId":"L"} {}`, false},
		"trailing comma":              {`{"locationId":"L",}`, false},
		"not an object":               {`["L"]`, false},
		"truncated":                   {`{"locationId":"L"`, false},
		"control character":           {"{\"locationId\":\"a\tb\"}", false},
	} {
		var in engine.SaleInput
		ok := decodeSaleInput([]byte(c.body), &in)
		if ok != c.fast {
			t.Errorf("%s: fast path %v, want %v", name, ok, c.fast)
		}
		if !ok {
			if !reflect.DeepEqual(in, engine.SaleInput{}) {
				t.Errorf("%s: declined but changed the input: %+v", name, in)
			}
			continue
		}
		var want engine.SaleInput
		if err := decodeStrict([]byte(c.body), &want); err != nil {
			t.Errorf("%s: fast path accepted what decodeStrict refuses: %v", name, err)
		} else if !reflect.DeepEqual(in, want) {
			t.Errorf("%s:\n got %#v\nwant %#v", name, in, want)
		}
	}
}

// FuzzDecodeSaleInput: whatever the fast path accepts, decodeStrict
// accepts too, and decodes to the same value.
func FuzzDecodeSaleInput(f *testing.F) {
	f.Add(tillSale)
	f.Add(`{"items":[{"quantity":-0.5e+3,"unitPrice":1E9}],"payments":[{"amount":0}]}`)
	f.Add(`{"locationId":"L","items":[],"payments":[{"method":"café","amount":1.25}]}`)
	f.Add(`{"locationId":null,"LocationId":"x","items":[{"quantity":"2"}]} `)
	f.Add(`{"locationId":"L","soldAt":"2026-12-01T10:11:12Z","cashierId":"C","items":[]}`)
	f.Fuzz(func(t *testing.T, body string) {
		if !utf8.ValidString(body) || strings.TrimSpace(body) == "" {
			return // readBody refuses these before any decoding
		}
		var got engine.SaleInput
		if !decodeSaleInput([]byte(body), &got) {
			return
		}
		var want engine.SaleInput
		if err := decodeStrict([]byte(body), &want); err != nil {
			t.Fatalf("fast path accepted %q, decodeStrict refuses it: %v", body, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q:\n got %#v\nwant %#v", body, got, want)
		}
	})
}

func BenchmarkDecodeSaleInput(b *testing.B) {
	body := []byte(tillSale)
	b.Run("fast", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			var in engine.SaleInput
			if !decodeSaleInput(body, &in) {
				b.Fatal("declined")
			}
		}
	})
	b.Run("encoding/json", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			var in engine.SaleInput
			if err := decodeStrict(body, &in); err != nil {
				b.Fatal(err)
			}
		}
	})
}
