package api_test

import (
	"encoding/json"
	"testing"

	"posd/engine"
)

// FuzzCreateSale throws arbitrary bodies at POST /api/sales, with the rules
// of every POST target (fuzzPost); a sale it creates must also have a
// number, no negative total, and be paid in full.
func FuzzCreateSale(f *testing.F) {
	fuzzPostChecking(f, "/api/sales", 201, saneSale,
		`{"locationId":"LOC","items":[{"productId":"APPLE","quantity":1}],"payments":[{"method":"cash","amount":150}]}`,
		`{"locationId":"LOC","items":[{"productId":"CHEESE","quantity":0.125,"unitPrice":999}],"payments":[{"method":"card","amount":125}]}`,
		`{"locationId":"LOC","items":[{"productId":"APPLE","quantity":2},{"productId":"CHEESE","quantity":1.5}],"payments":[{"method":"card","amount":100},{"method":"cash","amount":5000}]}`,
		`{"locationId":"LOC","items":[{"productId":"APPLE","quantity":1e3}],"payments":[]}`,
		`{"locationId":"LOC","items":[{"productId":"APPLE","quantity":9223372036854775807}],"payments":[{"method":"cash","amount":-1}]}`,
		`{"locationId":"LOC","items":[],"payments":[],"total":0}`,
		`{"locationId":null,"items":null}`,
		`[]`,
		`{"locationId":"LOC","items":[{"productId":"APPLE","quantity":"1"}]}`,
	)
}

// saneSale fails unless a created sale has a number, no negative total, and
// is paid in full.
func saneSale(t *testing.T, answer []byte) {
	var s engine.Sale
	if err := json.Unmarshal(answer, &s); err != nil || s.InvoiceNumber == "" || s.Total < 0 || s.Paid < s.Total {
		t.Fatalf("201 with a bad sale: %s", answer)
	}
}
