package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"posd/api"
	"posd/engine"
	"posd/engine/boltstore"
)

// FuzzCreateSale throws arbitrary bodies at POST /api/sales. In the body,
// LOC, APPLE and CHEESE stand for real IDs so that the fuzzer can reach the
// engine's rules, not only the JSON decoder. Whatever the body: no panic, no
// 5xx, every refusal in the contract's shape, and a refused request writes
// nothing at all.
func FuzzCreateSale(f *testing.F) {
	for _, s := range []string{
		`{"locationId":"LOC","items":[{"productId":"APPLE","quantity":1}],"payments":[{"method":"cash","amount":150}]}`,
		`{"locationId":"LOC","items":[{"productId":"CHEESE","quantity":0.125,"unitPrice":999}],"payments":[{"method":"card","amount":125}]}`,
		`{"locationId":"LOC","items":[{"productId":"APPLE","quantity":2},{"productId":"CHEESE","quantity":1.5}],"payments":[{"method":"card","amount":100},{"method":"cash","amount":5000}]}`,
		`{"locationId":"LOC","items":[{"productId":"APPLE","quantity":1e3}],"payments":[]}`,
		`{"locationId":"LOC","items":[{"productId":"APPLE","quantity":9223372036854775807}],"payments":[{"method":"cash","amount":-1}]}`,
		`{"locationId":"LOC","items":[],"payments":[],"total":0}`,
		`{"locationId":null,"items":null}`,
		`[]`,
		`{"locationId":"LOC","items":[{"productId":"APPLE","quantity":"1"}]}`,
	} {
		f.Add([]byte(s))
	}
	st, err := boltstore.Open(filepath.Join(f.TempDir(), "posd.db"), boltstore.Options{})
	if err != nil {
		f.Fatal(err)
	}
	defer st.Close()
	svc := engine.NewService(st)
	ctx := context.Background()
	_, loc, secret, err := svc.CreateBusiness(ctx, engine.BusinessInput{Name: "Fuzz", Timezone: "UTC"})
	if err != nil {
		f.Fatal(err)
	}
	h := api.NewServer(svc, api.Options{})
	owner, _ := svc.Authenticate(ctx, secret)
	ids := map[string]string{"LOC": loc.ID}
	for _, p := range []struct{ sku, price string }{{"APPLE", "150"}, {"CHEESE", "1999"}} {
		out, err := svc.CreateProduct(ctx, owner, engine.IdempotencyKey("p-"+p.sku), engine.ProductInput{SKU: p.sku, Name: p.sku, Price: json.RawMessage(p.price)})
		if err != nil {
			f.Fatal(err)
		}
		ids[p.sku] = out.Doc.ID
	}
	n := 0
	f.Fuzz(func(t *testing.T, body []byte) {
		for k, v := range ids {
			body = bytes.ReplaceAll(body, []byte(k), []byte(v))
		}
		n++
		before := st.Stats().Operations
		req := httptest.NewRequest("POST", "/api/sales", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+secret)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", fmt.Sprintf("fuzz-%d", n))
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		after := st.Stats().Operations
		switch {
		case rec.Code == http.StatusCreated:
			var s engine.Sale
			if err := json.Unmarshal(rec.Body.Bytes(), &s); err != nil || s.InvoiceNumber == "" || s.Total < 0 || s.Paid < s.Total {
				t.Fatalf("201 with a bad sale: %s", rec.Body.Bytes())
			}
			if after != before+1 {
				t.Fatalf("201 applied %d operations", after-before)
			}
		case rec.Code >= 400 && rec.Code < 500:
			errorShape(t, rec.Body.Bytes())
			if after != before {
				t.Fatalf("refused request (%d) wrote: %s", rec.Code, rec.Body.Bytes())
			}
		default:
			t.Fatalf("status %d for %q: %s", rec.Code, body, rec.Body.Bytes())
		}
	})
}
