package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"posd/api/client"
	"posd/engine"
)

// TestStaticRoutes: the routes served straight from the route table
// (Server.ServeHTTP's exact-path lookup) behave as through the router: they
// count under their own name, while paths that are not exactly a route's
// still get the router's cleaning redirect, 404 and 405.
func TestStaticRoutes(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	sale, err := e.shop.till.CreateSale(ctx, "static-1", e.shop.saleRequest("1"))
	must(t, err)
	_, err = e.shop.till.Refund(ctx, "static-2", sale.ID, client.RefundRequest{Items: []client.Line{{ProductID: e.shop.apple.ID, Quantity: engine.Q(1)}}})
	must(t, err)
	w := e.api.Counters().Writes
	if w["sales.create"] != 1 || w["sales.refund"] != 1 {
		t.Errorf("writes by route: %v; want sales.create 1 (a static route) and sales.refund 1 (a routed one)", w)
	}
	body := `{"locationId":"` + e.shop.loc + `","items":[{"productId":"` + e.shop.apple.ID + `","quantity":1}],"payments":[{"method":"cash","amount":1000}]}`
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, c := range []struct {
		method, path string
		status       int
	}{
		{"POST", "/api//sales", http.StatusMovedPermanently},
		{"POST", "/api/sales/", http.StatusNotFound},
		{"POST", "/api/SALES", http.StatusNotFound},
		{"PUT", "/api/sales", http.StatusMethodNotAllowed},
		{"POST", "/api/sales?x=1", http.StatusCreated},
	} {
		req, err := http.NewRequest(c.method, e.srv.URL+c.path, strings.NewReader(body))
		must(t, err)
		req.Header.Set("Authorization", "Bearer "+e.shop.till.Token)
		req.Header.Set("Idempotency-Key", "static-"+c.method+c.path)
		req.Header.Set("Content-Type", "application/json")
		res, err := noFollow.Do(req)
		must(t, err)
		res.Body.Close()
		if res.StatusCode != c.status {
			t.Errorf("%s %s: %d, want %d", c.method, c.path, res.StatusCode, c.status)
		}
	}
	if n := e.api.Counters().Writes["sales.create"]; n != 2 {
		t.Errorf("sales.create counted %d times, want 2", n)
	}
}
