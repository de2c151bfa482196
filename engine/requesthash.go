package engine

// A sale's request fingerprint is the SHA-256 of what
// json.NewEncoder(h).Encode(in) writes for its parsed SaleInput, and records
// keep it for as long as their sale: a retry after an upgrade must hash
// exactly as the first request did, so the bytes can never change.
// encoding/json finds them by reflection, which on the busiest route cost
// more than the hashing. appendSaleInputJSON writes the very same bytes
// directly for the inputs a till sends (plain ASCII strings and numbers),
// and declines anything else, which then goes through encoding/json as
// before. FuzzSaleInputHashJSON holds the two byte for byte.

// appendSaleInputJSON appends the bytes json.NewEncoder(w).Encode(in)
// writes, newline included, and reports true; or appends nothing and
// reports false when in holds something it does not write itself: a string
// with a byte encoding/json escapes or any non-ASCII byte, a raw value that
// is not a plain JSON number.
func appendSaleInputJSON(b []byte, in *SaleInput) ([]byte, bool) {
	start := len(b)
	ok := true
	str := func(s string) {
		if !plainString(s) {
			ok = false
			return
		}
		b = append(b, '"')
		b = append(b, s...)
		b = append(b, '"')
	}
	raw := func(v []byte) {
		switch {
		case v == nil:
			b = append(b, "null"...)
		case isJSONNumber(v):
			b = append(b, v...)
		default:
			ok = false
		}
	}
	b = append(b, `{"locationId":`...)
	str(in.LocationID)
	b = append(b, `,"items":`...)
	if in.Items == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, it := range in.Items {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"productId":`...)
			str(it.ProductID)
			b = append(b, `,"quantity":`...)
			raw(it.Quantity)
			if len(it.UnitPrice) > 0 { // omitempty
				b = append(b, `,"unitPrice":`...)
				raw(it.UnitPrice)
			}
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = append(b, `,"payments":`...)
	if in.Payments == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, p := range in.Payments {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"method":`...)
			str(p.Method)
			b = append(b, `,"amount":`...)
			raw(p.Amount)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	// omitempty pointers: written when set, in the struct's order.
	if in.SoldAt != nil {
		b = append(b, `,"soldAt":`...)
		str(*in.SoldAt)
	}
	if in.CashierID != nil {
		b = append(b, `,"cashierId":`...)
		str(*in.CashierID)
	}
	b = append(b, "}\n"...)
	if !ok {
		return b[:start], false
	}
	return b, true
}

// plainString reports whether encoding/json writes s as it is between
// quotes: printable ASCII without the quote, the backslash and the three
// characters it escapes for HTML (<, >, &).
func plainString(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c < 0x20 || c > 0x7e, c == '"', c == '\\', c == '<', c == '>', c == '&':
			return false
		}
	}
	return true
}

// isJSONNumber reports whether b is exactly one JSON number (RFC 8259),
// with nothing around it: such a raw value is written unchanged.
func isJSONNumber(b []byte) bool {
	i := 0
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case i < len(b) && b[i] >= '1' && b[i] <= '9':
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
	default:
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		d := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		if i == d {
			return false
		}
	}
	return i == len(b)
}
