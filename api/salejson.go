package api

import (
	"encoding/json"

	"posd/engine"
)

// POST /api/sales is the route every till calls for every sale, and
// decoding its body with encoding/json (reflection, a scanner state machine,
// an allocation per value) was the largest cost of the request goroutine.
// decodeSaleInput parses the body a till sends directly: one object with the
// three fields and the optional soldAt and cashierId, each line and payment an object of its fields, plain
// strings, numbers. Anything else — an unknown or duplicated field, a
// differently cased name, an escape in a string, null, a quantity written
// as a string, trailing data, broken JSON — it declines without judging, and
// decodeStrict decodes the body as before, with its exact answers to every
// mistake. What it accepts it decodes to the very value decodeStrict gives
// (FuzzDecodeSaleInput holds the two together), so the request fingerprint
// and every later check see no difference.

// decodeSaleInput decodes body into in and reports true, or reports false
// and leaves in as it was. body is valid UTF-8 (readBody checked it).
func decodeSaleInput(body []byte, in *engine.SaleInput) bool {
	p := saleParser{b: body, s: string(body)}
	var out engine.SaleInput
	if !p.sale(&out) {
		return false
	}
	// Raw values are copied out of body into one buffer, as encoding/json
	// copies each of them.
	arena := make([]byte, 0, p.rawBytes)
	cp := func(r json.RawMessage) json.RawMessage {
		if r == nil {
			return nil
		}
		arena = append(arena, r...)
		return arena[len(arena)-len(r) : len(arena) : len(arena)]
	}
	for i := range out.Items {
		out.Items[i].Quantity = cp(out.Items[i].Quantity)
		out.Items[i].UnitPrice = cp(out.Items[i].UnitPrice)
	}
	for i := range out.Payments {
		out.Payments[i].Amount = cp(out.Payments[i].Amount)
	}
	*in = out
	return true
}

// saleParser reads b; s is b as one string, so that the strings it
// returns share one allocation.
type saleParser struct {
	b        []byte
	s        string
	i        int
	rawBytes int
}

func (p *saleParser) ws() {
	for p.i < len(p.b) {
		switch p.b[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// byte consumes c after white space.
func (p *saleParser) byte(c byte) bool {
	p.ws()
	if p.i < len(p.b) && p.b[p.i] == c {
		p.i++
		return true
	}
	return false
}

// peek reports whether the next byte after white space is c, without
// consuming it.
func (p *saleParser) peek(c byte) bool {
	p.ws()
	return p.i < len(p.b) && p.b[p.i] == c
}

// str reads a string without escapes or control characters (bytes from
// 0x80 up are part of valid UTF-8: readBody checked the body).
func (p *saleParser) str() (string, bool) {
	if !p.byte('"') {
		return "", false
	}
	start := p.i
	for p.i < len(p.b) {
		switch c := p.b[p.i]; {
		case c == '"':
			p.i++
			return p.s[start : p.i-1], true
		case c == '\\' || c < 0x20:
			return "", false
		}
		p.i++
	}
	return "", false
}

// number reads one JSON number and returns its bytes.
func (p *saleParser) number() (json.RawMessage, bool) {
	p.ws()
	start := p.i
	for p.i < len(p.b) {
		c := p.b[p.i]
		if (c < '0' || c > '9') && c != '-' && c != '+' && c != '.' && c != 'e' && c != 'E' {
			break
		}
		p.i++
	}
	n := p.b[start:p.i:p.i]
	if !jsonNumber(n) {
		return nil, false
	}
	p.rawBytes += len(n)
	return json.RawMessage(n), true
}

// object reads {"name": value, ...}, calling field for each name; field
// reads the value. Every name may come once.
func (p *saleParser) object(field func(name string) bool) bool {
	if !p.byte('{') {
		return false
	}
	if p.byte('}') {
		return true
	}
	var seenBuf [5]string
	seen := seenBuf[:0]
	for {
		name, ok := p.str()
		if !ok || !p.byte(':') {
			return false
		}
		for _, s := range seen {
			if s == name {
				return false
			}
		}
		seen = append(seen, name)
		if !field(name) {
			return false
		}
		if p.byte(',') {
			continue
		}
		return p.byte('}')
	}
}

// array reads [elem, ...]; elem reads one element.
func (p *saleParser) array(elem func() bool) bool {
	if !p.byte('[') {
		return false
	}
	if p.byte(']') {
		return true
	}
	for {
		if !elem() {
			return false
		}
		if p.byte(',') {
			continue
		}
		return p.byte(']')
	}
}

func (p *saleParser) sale(in *engine.SaleInput) bool {
	ok := p.object(func(name string) bool {
		var ok bool
		switch name {
		case "locationId":
			in.LocationID, ok = p.str()
		case "items":
			in.Items = make([]engine.SaleItemInput, 0, 4)
			ok = p.array(func() bool {
				var it engine.SaleItemInput
				ok := p.object(func(name string) bool {
					var ok bool
					switch name {
					case "productId":
						it.ProductID, ok = p.str()
					case "quantity":
						it.Quantity, ok = p.number()
					case "unitPrice":
						it.UnitPrice, ok = p.number()
					}
					return ok
				})
				in.Items = append(in.Items, it)
				return ok
			})
		case "payments":
			in.Payments = make([]engine.PaymentInput, 0, 2)
			ok = p.array(func() bool {
				var pay engine.PaymentInput
				ok := p.object(func(name string) bool {
					var ok bool
					switch name {
					case "method":
						pay.Method, ok = p.str()
					case "amount":
						pay.Amount, ok = p.number()
					}
					return ok
				})
				in.Payments = append(in.Payments, pay)
				return ok
			})
		case "soldAt":
			// A till's cashier and time (issue 10) come with most of its
			// sales now: strings, or left out (null goes to decodeStrict).
			var v string
			if v, ok = p.str(); ok {
				in.SoldAt = &v
			}
		case "cashierId":
			var v string
			if v, ok = p.str(); ok {
				in.CashierID = &v
			}
		}
		return ok
	})
	p.ws()
	return ok && p.i == len(p.b)
}

// jsonNumber reports whether b is exactly one JSON number (RFC 8259).
func jsonNumber(b []byte) bool {
	i := 0
	digits := func() int {
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		return i - d
	}
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case digits() == 0:
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(b)
}
