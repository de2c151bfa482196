package api

import (
	"strings"
	"testing"
	"time"

	"posd/engine"
)

// answersV1 are documents of every kind an idempotent write answers and
// their rendering in answer version 1, byte for byte. A replay of an answer
// recorded in version 1 renders through renderAnswer(doc, 1) however posd
// changes later, so these bytes must never change: a new field or shape is
// a new engine.AnswerVersion, rendered beside this one.
var answersV1 = []struct {
	doc  any
	json string
}{
	{&engine.Sale{ID: "s1", InvoiceNumber: "INV-202611-0001", LocationID: "l1",
		Items:    []engine.SaleLine{{ProductID: "p1", SKU: "A&B", Name: "Käse <fein>", Quantity: 250, UnitPrice: 1999, TaxRate: 770, LineTotal: 500, TaxAmount: 36, RefundedQuantity: 0, RefundedAmount: 0}},
		Payments: []engine.Payment{{Method: "cash", Amount: 1000}}, Total: 500, TaxTotal: 36, Paid: 1000, Change: 500, Currency: "EUR",
		CreatedAt: at(0), TokenID: "t1", Returns: []string{}, BusinessID: "never shown"},
		`{"id":"s1","invoiceNumber":"INV-202611-0001","locationId":"l1","items":[{"productId":"p1","sku":"A\u0026B","name":"Käse \u003cfein\u003e","quantity":0.25,"unitPrice":1999,"taxRate":7.7,"lineTotal":500,"taxAmount":36,"refundedQuantity":0,"refundedAmount":0}],"payments":[{"method":"cash","amount":1000}],"total":500,"taxTotal":36,"paid":1000,"change":500,"currency":"EUR","createdAt":"2026-11-27T10:11:12.345Z","tokenId":"t1","returns":[]}`},
	{&engine.Return{ID: "r1", ReturnNumber: "RET-202611-0001", SaleID: "s1", LocationID: "l1",
		Items: []engine.ReturnLine{{ProductID: "p1", SKU: "A", Name: "Apple", Quantity: 1000, UnitPrice: 150, LineTotal: 150}},
		Total: 150, Currency: "EUR", Restock: true, CreatedAt: at(1), TokenID: "t1", BusinessID: "never shown"},
		`{"id":"r1","returnNumber":"RET-202611-0001","saleId":"s1","locationId":"l1","items":[{"productId":"p1","sku":"A","name":"Apple","quantity":1,"unitPrice":150,"lineTotal":150}],"total":150,"currency":"EUR","restock":true,"createdAt":"2026-11-27T10:11:13.345Z","tokenId":"t1"}`},
	{&engine.Receipt{ID: "c1", Status: engine.StatusApproved, ReceiptNumber: ptr("RCV-202611-0001"), LocationID: "l1", Supplier: "Farm",
		Items: []engine.ReceiptLine{{ProductID: "p1", Quantity: 10000, UnitCost: 80, LineTotal: 800}}, Total: 800, CreatedAt: at(2), ApprovedAt: ptrTime(at(3))},
		`{"id":"c1","status":"approved","receiptNumber":"RCV-202611-0001","locationId":"l1","supplier":"Farm","items":[{"productId":"p1","quantity":10,"unitCost":80,"lineTotal":800}],"total":800,"createdAt":"2026-11-27T10:11:14.345Z","approvedAt":"2026-11-27T10:11:15.345Z"}`},
	{&engine.Transfer{ID: "x1", Status: engine.StatusDraft, FromLocationID: "l1", ToLocationID: "l2",
		Items: []engine.AdjustmentItem{{ProductID: "p1", Quantity: 1500}}, CreatedAt: at(4)},
		`{"id":"x1","status":"draft","transferNumber":null,"fromLocationId":"l1","toLocationId":"l2","items":[{"productId":"p1","quantity":1.5}],"createdAt":"2026-11-27T10:11:16.345Z","sentAt":null,"receivedAt":null}`},
	{&engine.Adjustment{ID: "a1", LocationID: "l1", Items: []engine.AdjustmentItem{{ProductID: "p1", Quantity: -2000}}, Reason: "breakage", CreatedAt: at(5)},
		`{"id":"a1","locationId":"l1","items":[{"productId":"p1","quantity":-2}],"reason":"breakage","createdAt":"2026-11-27T10:11:17.345Z"}`},
	{&engine.Location{ID: "l2", Name: "Back room", CreatedAt: at(6)},
		`{"id":"l2","name":"Back room","createdAt":"2026-11-27T10:11:18.345Z"}`},
	{&engine.Product{ID: "p2", SKU: "PEAR", Name: "Pear", Price: 99, TaxRate: 2000, CreatedAt: at(7), UpdatedAt: at(7)},
		`{"id":"p2","sku":"PEAR","name":"Pear","price":99,"taxRate":20,"archived":false,"createdAt":"2026-11-27T10:11:19.345Z","updatedAt":"2026-11-27T10:11:19.345Z"}`},
	{&engine.CreatedToken{ID: "t2", Secret: ptr("posd_secret"), Role: engine.RoleTill, Name: "Till 2", LocationID: ptr("l1"), CreatedAt: at(8)},
		`{"id":"t2","token":"posd_secret","role":"till","name":"Till 2","locationId":"l1","createdAt":"2026-11-27T10:11:20.345Z"}`},
	{&engine.CreatedToken{ID: "t2", Role: engine.RoleTill, Name: "Till 2", CreatedAt: at(8)},
		`{"id":"t2","token":null,"role":"till","name":"Till 2","locationId":null,"createdAt":"2026-11-27T10:11:20.345Z"}`},
}

func at(s int) time.Time             { return time.Date(2026, 11, 27, 10, 11, 12+s, 345_000_000, time.UTC) }
func ptr(s string) *string           { return &s }
func ptrTime(t time.Time) *time.Time { return &t }

// TestAnswersVersion1 pins the rendering of answer version 1.
func TestAnswersVersion1(t *testing.T) {
	for _, c := range answersV1 {
		got, err := renderAnswer(c.doc, 1)
		if err != nil || string(got) != c.json {
			t.Errorf("%T:\n got %s (%v)\nwant %s", c.doc, got, err, c.json)
		}
	}
	if _, err := renderAnswer(answersV1[0].doc, engine.AnswerVersion+1); err == nil {
		t.Error("an unknown answer version rendered without error")
	}
	for v := 1; v <= engine.AnswerVersion; v++ {
		if _, err := renderAnswer(answersV1[0].doc, v); err != nil {
			t.Errorf("answer version %d, which the engine records, does not render: %v", v, err)
		}
	}
}

// TestAnswersVersion2 pins what version 2 added: the chain link of every
// numbered document and a refund's sale and tax, shown in version 2 and
// never in a replay of a version-1 answer, even if the document it renders
// from carries them.
func TestAnswersVersion2(t *testing.T) {
	link := engine.ChainLink{Hash: strings.Repeat("a", 64), PreviousHash: strings.Repeat("0", 64)}
	for _, c := range answersV1 {
		var doc any
		switch d := c.doc.(type) {
		case *engine.Sale:
			v := *d
			v.ChainLink = link
			doc = &v
		case *engine.Return:
			v := *d
			v.ChainLink, v.SaleNumber, v.SaleHash, v.TaxTotal = link, "INV-202611-0001", strings.Repeat("b", 64), 25
			v.Items = []engine.ReturnLine{d.Items[0]}
			v.Items[0].TaxRate, v.Items[0].TaxAmount = 2000, 25
			doc = &v
		case *engine.Receipt:
			v := *d
			v.ChainLink = link
			doc = &v
		default:
			continue
		}
		got, err := renderAnswer(doc, 1)
		if err != nil || string(got) != c.json {
			t.Errorf("%T in version 1:\n got %s (%v)\nwant %s", doc, got, err, c.json)
		}
		got, err = renderAnswer(doc, 2)
		want := strings.TrimSuffix(c.json, "}") + `,"hash":"` + link.Hash + `","previousHash":"` + link.PreviousHash + `"}`
		if _, ok := doc.(*engine.Return); ok {
			want = `{"id":"r1","returnNumber":"RET-202611-0001","saleId":"s1","saleNumber":"INV-202611-0001","saleHash":"` + strings.Repeat("b", 64) +
				`","locationId":"l1","items":[{"productId":"p1","sku":"A","name":"Apple","quantity":1,"unitPrice":150,"lineTotal":150,"taxRate":20,"taxAmount":25}],"total":150,"taxTotal":25,"currency":"EUR","restock":true,"createdAt":"2026-11-27T10:11:13.345Z","tokenId":"t1","hash":"` +
				link.Hash + `","previousHash":"` + link.PreviousHash + `"}`
		}
		if err != nil || string(got) != want {
			t.Errorf("%T in version 2:\n got %s (%v)\nwant %s", doc, got, err, want)
		}
	}
}
