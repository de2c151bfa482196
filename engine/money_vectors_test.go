package engine_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"posd/engine"
	"posd/engine/boltstore"
)

// moneyVectors is testdata/money.json: the golden vectors of line amounts,
// included tax and refund rounding. The till's money.js is checked against
// the same file (api/till/e2e/unit/money.test.mjs), so the two
// implementations of these rules cannot drift apart.
type moneyVectors struct {
	LineAmount []struct {
		UnitPrice engine.Money    `json:"unitPrice"`
		Quantity  engine.Quantity `json:"quantity"`
		Amount    engine.Money    `json:"amount"`
	} `json:"lineAmount"`
	IncludedTax []struct {
		Amount  engine.Money   `json:"amount"`
		TaxRate engine.TaxRate `json:"taxRate"`
		Tax     engine.Money   `json:"tax"`
	} `json:"includedTax"`
	Refunds []struct {
		Name  string `json:"name"`
		Lines []struct {
			Product   string          `json:"product"`
			UnitPrice engine.Money    `json:"unitPrice"`
			Quantity  json.RawMessage `json:"quantity"`
			LineTotal engine.Money    `json:"lineTotal"`
		} `json:"lines"`
		Steps []struct {
			Items []struct {
				Product  string          `json:"product"`
				Quantity json.RawMessage `json:"quantity"`
			} `json:"items"`
			Total engine.Money `json:"total"`
		} `json:"steps"`
	} `json:"refunds"`
}

func readMoneyVectors(t *testing.T) moneyVectors {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "money.json"))
	if err != nil {
		t.Fatal(err)
	}
	var v moneyVectors
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("testdata/money.json: %v", err)
	}
	if len(v.LineAmount) == 0 || len(v.IncludedTax) == 0 || len(v.Refunds) == 0 {
		t.Fatal("testdata/money.json lacks a section")
	}
	return v
}

func TestMoneyVectorsLineAmount(t *testing.T) {
	for _, c := range readMoneyVectors(t).LineAmount {
		got, err := engine.LineAmount(c.UnitPrice, c.Quantity, "quantity")
		if err != nil || got != c.Amount {
			t.Errorf("lineAmount(%d, %s) = %d, %v; want %d", c.UnitPrice, c.Quantity, got, err, c.Amount)
		}
	}
}

func TestMoneyVectorsIncludedTax(t *testing.T) {
	for _, c := range readMoneyVectors(t).IncludedTax {
		if got := engine.IncludedTax(c.Amount, c.TaxRate); got != c.Tax {
			t.Errorf("includedTax(%d, %d‱) = %d, want %d", c.Amount, c.TaxRate, got, c.Tax)
		}
	}
}

// TestMoneyVectorsRefunds rings each case up as a real sale (the line
// totals must match too) and refunds it step by step through RefundSale:
// the refund plan is the engine's, not a copy of it.
func TestMoneyVectorsRefunds(t *testing.T) {
	for _, c := range readMoneyVectors(t).Refunds {
		t.Run(c.Name, func(t *testing.T) {
			ctx := context.Background()
			st, err := boltstore.Open(filepath.Join(t.TempDir(), "posd.db"), boltstore.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			svc := engine.NewService(st)
			_, loc, secret, err := svc.CreateBusiness(ctx, engine.BusinessInput{Name: "Vectors", Timezone: "UTC", Currency: "EUR"})
			if err != nil {
				t.Fatal(err)
			}
			owner, err := svc.Authenticate(ctx, secret)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			key := func() engine.IdempotencyKey { n++; return engine.IdempotencyKey(fmt.Sprintf("k%d", n)) }
			ids := map[string]string{}
			in := engine.SaleInput{LocationID: loc.ID}
			var total engine.Money
			for _, l := range c.Lines {
				if ids[l.Product] == "" {
					if _, err := svc.CreateProduct(ctx, owner, key(), engine.ProductInput{SKU: l.Product, Name: l.Product, Price: json.RawMessage("1")}); err != nil {
						t.Fatal(err)
					}
					ps, err := svc.Products(ctx, owner, false)
					if err != nil {
						t.Fatal(err)
					}
					for _, p := range ps {
						if p.SKU == l.Product {
							ids[l.Product] = p.ID
						}
					}
				}
				in.Items = append(in.Items, engine.SaleItemInput{ProductID: ids[l.Product], Quantity: l.Quantity, UnitPrice: json.RawMessage(strconv.FormatInt(int64(l.UnitPrice), 10))})
				total += l.LineTotal
			}
			in.Payments = []engine.PaymentInput{{Method: engine.MethodCash, Amount: json.RawMessage(strconv.FormatInt(int64(total), 10))}}
			if _, err := svc.CreateSale(ctx, owner, key(), in); err != nil {
				t.Fatal(err)
			}
			sales, _, err := svc.Sales(ctx, owner, engine.SaleFilter{})
			if err != nil || len(sales) != 1 {
				t.Fatalf("sales: %d, %v", len(sales), err)
			}
			saleID := sales[0].ID
			for i, l := range sales[0].Items {
				if l.LineTotal != c.Lines[i].LineTotal {
					t.Errorf("line %d: lineTotal %d, want %d", i, l.LineTotal, c.Lines[i].LineTotal)
				}
			}
			for i, step := range c.Steps {
				var rin engine.RefundInput
				for _, it := range step.Items {
					rin.Items = append(rin.Items, engine.ItemInput{ProductID: ids[it.Product], Quantity: it.Quantity})
				}
				if _, err := svc.RefundSale(ctx, owner, key(), saleID, rin); err != nil {
					t.Fatalf("step %d: %v", i, err)
				}
				sale, err := svc.Sale(ctx, owner, saleID)
				if err != nil {
					t.Fatal(err)
				}
				ret, err := svc.Return(ctx, owner, sale.Returns[len(sale.Returns)-1])
				if err != nil {
					t.Fatal(err)
				}
				if ret.Total != step.Total {
					t.Errorf("step %d: refund total %d, want %d", i, ret.Total, step.Total)
				}
			}
		})
	}
}
