package client_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"time"

	"posd/api"
	"posd/api/client"
	"posd/engine"
	"posd/engine/boltstore"
)

// A Go till keeps its sales in an outbox file next to it. A sale goes to
// disk first, then to posd; if posd cannot be reached, the till prints a
// provisional receipt and the outbox sends the sale later, with the same
// key, even after a restart of the till program.
func ExampleOutbox() {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	posdURL, tillToken, loc, apple, stop := examplePosd()
	defer stop()

	dir, _ := os.MkdirTemp("", "till")
	defer os.RemoveAll(dir)

	c := client.New(posdURL, tillToken)
	outbox, err := client.OpenOutbox(filepath.Join(dir, "outbox.jsonl"), c)
	if err != nil {
		fmt.Println("cannot open the outbox:", err)
		return
	}
	defer outbox.Close()
	// Send queued sales every 10 s while the till runs.
	go outbox.Run(ctx, 10*time.Second)

	sale, entry, err := outbox.CreateSale(ctx, client.SaleRequest{
		LocationID: loc,
		Items:      []client.SaleLine{{ProductID: apple, Quantity: engine.Q(2)}},
		Payments:   []engine.Payment{{Method: engine.MethodCash, Amount: 500}},
	})
	switch {
	case errors.Is(err, client.ErrQueued):
		fmt.Println("provisional receipt", entry.Key, "- number follows")
	case err != nil:
		fmt.Println("posd refused the sale:", err)
	default:
		fmt.Println("invoice", strings.HasPrefix(sale.InvoiceNumber, "INV-"), "change", sale.Change)
	}
	fmt.Println("queued:", len(outbox.Pending()))
	// Output:
	// invoice true change 200
	// queued: 0
}

// examplePosd runs a real posd in the process, with a till token, its
// location and a product priced 1.50.
func examplePosd() (url, token, loc, product string, stop func()) {
	dir, _ := os.MkdirTemp("", "posd")
	st, err := boltstore.Open(filepath.Join(dir, "posd.db"), boltstore.Options{})
	if err != nil {
		panic(err)
	}
	svc := engine.NewService(st)
	srv := httptest.NewServer(api.NewServer(svc, api.Options{}))
	stop = func() { srv.Close(); st.Close(); os.RemoveAll(dir) }
	ctx := context.Background()
	_, l, secret, err := svc.CreateBusiness(ctx, engine.BusinessInput{Name: "Corner Shop", Timezone: "UTC", Currency: "EUR"})
	if err != nil {
		panic(err)
	}
	owner := client.New(srv.URL, secret)
	tok, err := owner.CreateToken(ctx, "", client.TokenRequest{Role: engine.RoleTill, Name: "till 1"})
	if err != nil {
		panic(err)
	}
	p, err := owner.CreateProduct(ctx, "", client.ProductRequest{SKU: "APPLE", Name: "Apple", Price: 150})
	if err != nil {
		panic(err)
	}
	return srv.URL, *tok.Secret, l.ID, p.ID, stop
}
