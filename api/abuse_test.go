package api_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"posd/api"
	"posd/engine"
	"posd/engine/boltstore"
	"posd/engine/storecopy"
)

// dbHash is the content hash of the whole database: of every key and
// value of the embedded file, or of everything a PostgreSQL store holds as
// storecopy walks it.
func (e *env) dbHash() string {
	e.t.Helper()
	var h []byte
	var err error
	if b, ok := e.store.(*boltstore.Store); ok {
		h, err = b.ContentHash()
	} else {
		h, err = storecopy.Digest(context.Background(), e.store)
	}
	must(e.t, err)
	return fmt.Sprintf("%x", h)
}

// badInput is one malformed request: what to change in a valid one, and
// the contract's exact answer.
type badInput struct {
	name   string
	key    string // "" → a fresh key; "-" → no header
	hdr    []string
	ctype  string // "" → application/json; "-" → none
	body   func(valid string) string
	status int
	code   string
	field  string
}

// genericBadInputs apply to every POST route.
var genericBadInputs = []badInput{
	{name: "malformed JSON", body: func(v string) string { return v[:len(v)/2] }, status: 400, code: engine.EINVALID},
	{name: "not an object", body: func(string) string { return `[1,2]` }, status: 400, code: engine.EINVALID},
	{name: "a string", body: func(string) string { return `"{}"` }, status: 400, code: engine.EINVALID},
	{name: "unknown field", body: func(v string) string { return addField(v, `"zzz":1`) }, status: 400, code: engine.EINVALID, field: "zzz"},
	{name: "server-owned id", body: func(v string) string { return addField(v, `"id":"x"`) }, status: 400, code: engine.EINVALID, field: "id"},
	{name: "server-owned businessId", body: func(v string) string { return addField(v, `"businessId":"x"`) }, status: 400, code: engine.EINVALID, field: "businessId"},
	{name: "server-owned createdAt", body: func(v string) string { return addField(v, `"createdAt":"2026-01-01T00:00:00Z"`) }, status: 400, code: engine.EINVALID, field: "createdAt"},
	{name: "trailing data", body: func(v string) string { return v + ` {}` }, status: 400, code: engine.EINVALID},
	{name: "invalid UTF-8", body: func(v string) string { return addField(v, "\"x\":\"\xff\xfe\"") }, status: 400, code: engine.EINVALID},
	{name: "NUL byte", body: func(v string) string { return v + "\x00" }, status: 400, code: engine.EINVALID},
	{name: "body of 2 MiB", body: func(v string) string { return addField(v, `"pad":"`+strings.Repeat("x", 2<<20)+`"`) }, status: 413, code: engine.ETOOLARGE},
	{name: "text/plain", ctype: "text/plain", body: same, status: 415, code: api.EMEDIATYPE},
	{name: "form content type", ctype: "application/x-www-form-urlencoded", body: same, status: 415, code: api.EMEDIATYPE},
	{name: "latin-1 charset", ctype: "application/json; charset=iso-8859-1", body: same, status: 415, code: api.EMEDIATYPE},
	{name: "no content type", ctype: "-", body: same, status: 415, code: api.EMEDIATYPE},
	{name: "key missing", key: "-", body: same, status: 400, code: engine.EIDEMPOTENCYMISSING},
	{name: "key empty", key: `""`, body: same, status: 400, code: engine.EIDEMPOTENCYINVALID},
	{name: "key of 256 characters", key: strings.Repeat("k", 256), body: same, status: 400, code: engine.EIDEMPOTENCYINVALID},
	{name: "key with a space", key: "a b", body: same, status: 400, code: engine.EIDEMPOTENCYINVALID},
	{name: "key with non-ASCII", key: "clé", body: same, status: 400, code: engine.EIDEMPOTENCYINVALID},
	{name: "key with a bad quote", key: `"a"b"`, body: same, status: 400, code: engine.EIDEMPOTENCYINVALID},
	{name: "key twice", hdr: []string{"Idempotency-Key", "second"}, body: same, status: 400, code: engine.EIDEMPOTENCYINVALID},
}

func same(v string) string { return v }

// addField adds a member to a JSON object body ({} for routes without one).
func addField(v, member string) string {
	v = strings.TrimSpace(v)
	if v == "" || v == "{}" {
		return "{" + member + "}"
	}
	return "{" + member + "," + v[1:]
}

// saleBadInputs are the boundary values of a sale's fields.
func saleBadInputs(e *env) []badInput {
	f := e.shop
	sale := func(items, payments string) string {
		return `{"locationId":"` + f.loc + `","items":` + items + `,"payments":` + payments + `}`
	}
	line := func(q string) string { return `[{"productId":"` + f.apple.ID + `","quantity":` + q + `}]` }
	cash := `[{"method":"cash","amount":100000}]`
	pay := func(a string) string { return `[{"method":"cash","amount":` + a + `}]` }
	lines := func(n int) string {
		l := make([]string, n)
		for i := range l {
			l[i] = `{"productId":"` + f.apple.ID + `","quantity":1}`
		}
		return "[" + strings.Join(l, ",") + "]"
	}
	fixed := func(s string) func(string) string { return func(string) string { return s } }
	return []badInput{
		{name: "quantity 0", body: fixed(sale(line("0"), cash)), status: 400, code: engine.EINVALID, field: "items[0].quantity"},
		{name: "quantity negative", body: fixed(sale(line("-1"), cash)), status: 400, code: engine.EINVALID, field: "items[0].quantity"},
		{name: "quantity with 4 decimals", body: fixed(sale(line("0.0001"), cash)), status: 400, code: engine.EINVALID, field: "items[0].quantity"},
		{name: "quantity past int64", body: fixed(sale(line("9223372036854775808"), cash)), status: 400, code: engine.EINVALID, field: "items[0].quantity"},
		{name: "quantity as exponent overflow", body: fixed(sale(line("1e400"), cash)), status: 400, code: engine.EINVALID, field: "items[0].quantity"},
		{name: "quantity as string", body: fixed(sale(line(`"1"`), cash)), status: 400, code: engine.EINVALID, field: "items[0].quantity"},
		{name: "quantity null", body: fixed(sale(line("null"), cash)), status: 400, code: engine.EINVALID, field: "items[0].quantity"},
		{name: "amount 0", body: fixed(sale(line("1"), pay("0"))), status: 400, code: engine.EINVALID, field: "payments[0].amount"},
		{name: "amount negative", body: fixed(sale(line("1"), pay("-150"))), status: 400, code: engine.EINVALID, field: "payments[0].amount"},
		{name: "amount with decimals", body: fixed(sale(line("1"), pay("150.5"))), status: 400, code: engine.EINVALID, field: "payments[0].amount"},
		{name: "amount past int64", body: fixed(sale(line("1"), pay("9223372036854775808"))), status: 400, code: engine.EINVALID, field: "payments[0].amount"},
		{name: "unit price past int64", body: fixed(sale(`[{"productId":"`+f.apple.ID+`","quantity":1,"unitPrice":9223372036854775808}]`, cash)), status: 400, code: engine.EINVALID, field: "items[0].unitPrice"},
		{name: "total past int64", body: fixed(sale(`[{"productId":"`+f.apple.ID+`","quantity":1000000,"unitPrice":9223372036854775}]`, cash)), status: 400, code: engine.EINVALID},
		{name: "unknown payment method", body: fixed(sale(line("1"), `[{"method":"bitcoin","amount":150}]`)), status: 400, code: engine.EINVALID, field: "payments[0].method"},
		{name: "underpaid", body: fixed(sale(line("1"), pay("149"))), status: 400, code: engine.EINVALID, field: "payments"},
		{name: "no lines", body: fixed(sale(`[]`, cash)), status: 400, code: engine.EINVALID, field: "items"},
		{name: "items not an array", body: fixed(sale(`{}`, cash)), status: 400, code: engine.EINVALID, field: "items"},
		{name: "1001 lines", body: fixed(sale(lines(1001), cash)), status: 413, code: engine.ETOOLARGE},
		{name: "10k lines", body: fixed(sale(lines(10000), cash)), status: 413, code: engine.ETOOLARGE},
		{name: "unknown product", body: fixed(sale(`[{"productId":"nope","quantity":1}]`, cash)), status: 404, code: engine.ENOTFOUND, field: "items[0].productId"},
		{name: "other shop's product", body: fixed(sale(`[{"productId":"`+e.shopB.apple.ID+`","quantity":1}]`, cash)), status: 404, code: engine.ENOTFOUND, field: "items[0].productId"},
		{name: "other shop's location", body: fixed(strings.Replace(sale(line("1"), cash), f.loc, e.shopB.loc, 1)), status: 404, code: engine.ENOTFOUND, field: "locationId"},
	}
}

// TestBadInputChangesNothing sends every malformed request to every POST
// route of the router, over a real listener, and requires the contract's
// exact status and code, and a database byte-for-byte unchanged.
func TestBadInputChangesNothing(t *testing.T) {
	e := newEnv(t)
	o := makeObjects(t, e)
	n := 0
	for _, rt := range e.api.Routes() {
		if rt.Method != "POST" {
			continue
		}
		method, path, valid := request(e, o, rt.Name)
		if method != "POST" {
			t.Errorf("route %s: no valid request to start from", rt.Name)
			continue
		}
		cases := genericBadInputs
		if rt.Name == "sales.create" {
			cases = append(append([]badInput(nil), cases...), saleBadInputs(e)...)
		}
		for _, c := range cases {
			t.Run(rt.Name+"/"+c.name, func(t *testing.T) {
				n++
				key := fmt.Sprintf("bad-%d", n)
				switch c.key {
				case "":
				case "-":
					key = ""
				default:
					key = c.key
				}
				ctype := "application/json"
				switch c.ctype {
				case "":
				case "-":
					ctype = ""
				default:
					ctype = c.ctype
				}
				body := c.body(expandBody(valid, key, n))
				before := e.dbHash()
				res, b := e.raw(method, path, e.shop.owner.Token, key, ctype, body, c.hdr...)
				if res.StatusCode != c.status {
					t.Fatalf("status: got %d, want %d (%.300s)", res.StatusCode, c.status, b)
				}
				if code := errorShape(t, b); code != c.code {
					t.Errorf("code: got %q, want %q (%s)", code, c.code, b)
				}
				if c.field != "" && !bytes.Contains(b, []byte(`"field":"`+c.field+`"`)) {
					t.Errorf("field: want %q in %s", c.field, b)
				}
				if after := e.dbHash(); after != before {
					t.Errorf("the database changed")
				}
			})
		}
	}
	// The same key as a refused request is still free: nothing was kept.
	res, b := e.raw("POST", "/api/locations", e.shop.owner.Token, "bad-1", "application/json", `{"name":"after"}`)
	if res.StatusCode != 201 {
		t.Errorf("a key used only by refused requests: got %d %s, want 201", res.StatusCode, b)
	}
}
