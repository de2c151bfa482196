package api_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"posd/api"
	"posd/api/client"
	"posd/engine"
	"posd/engine/storetest"
	"posd/engine/storetest/backends"
)

// TestMain removes the PostgreSQL cluster the tests ran on, when they ran
// on PostgreSQL (POSD_TEST_BACKEND=postgres; make test runs them both ways).
func TestMain(m *testing.M) { backends.Main(m) }

// env is a real posd API on a real listener, over a real store on disk.
type env struct {
	t     *testing.T
	srv   *httptest.Server
	api   *api.Server
	svc   *engine.Service
	store engine.Store
	clock *storetest.Clock
	owner *client.Client
	shop  *shopFixture
	shopB *shopFixture
}

// shopFixture is a business with clients for each role and some objects.
type shopFixture struct {
	owner, manager, till, boundTill *client.Client
	loc, loc2                       string
	apple, cheese                   *engine.Product
	// anna is a cashier (PIN 4821), max a manager (PIN 1357).
	anna, max *engine.Cashier
}

func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvWith(t, func(engine.Store) api.Options { return api.Options{} })
}

// newEnvWith is newEnv with the server's options made for its store (the
// backend POSD_TEST_BACKEND picks: storetest/backends).
func newEnvWith(t *testing.T, options func(engine.Store) api.Options) *env {
	t.Helper()
	st := backends.Open(t)
	svc := engine.NewService(st)
	clk := storetest.NewClock(time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC))
	svc.Now = clk.Now
	// argon2id takes half a second per PIN under the race detector; what
	// these tests check of PINs does not depend on the hash. The PIN tests
	// that do (close_test.go) run posd's own hasher.
	svc.PINs = storetest.FastPINs{}
	a := api.NewServer(svc, options(st))
	srv := httptest.NewServer(a)
	e := &env{t: t, srv: srv, api: a, svc: svc, store: st, clock: clk}
	t.Cleanup(func() {
		srv.Close()
		st.Close()
	})
	e.shop = e.newShop()
	e.shopB = e.newShop()
	e.owner = e.shop.owner
	return e
}

func (e *env) client(token string) *client.Client {
	c := client.New(e.srv.URL, token)
	c.Retry = &client.NoRetry
	return c
}

// newShop makes the test shop (storetest.NewShop), with a client of each
// of its tokens.
func (e *env) newShop() *shopFixture {
	s := storetest.NewShop(e.t, e.svc, "Europe/Berlin")
	f := &shopFixture{owner: e.client(s.OwnerToken), manager: e.client(s.ManagerToken), till: e.client(s.TillToken), boundTill: e.client(s.BoundTillToken),
		loc: s.Location, loc2: s.Location2, apple: s.Apple, cheese: s.Cheese}
	ctx := context.Background()
	var err error
	f.anna, err = f.owner.CreateCashier(ctx, "", client.CashierRequest{Name: "Anna", Role: engine.RoleCashier, PIN: "4821"})
	must(e.t, err)
	f.max, err = f.owner.CreateCashier(ctx, "", client.CashierRequest{Name: "Max", Role: engine.RoleStaffManager, PIN: "1357"})
	must(e.t, err)
	return f
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func (f *shopFixture) saleRequest(qty string) client.SaleRequest {
	q, _ := engine.ParseQuantity(qty)
	return client.SaleRequest{LocationID: f.loc, Items: []client.SaleLine{{ProductID: f.apple.ID, Quantity: q}},
		Payments: []engine.Payment{{Method: "cash", Amount: 100000}}}
}

// countSales returns how many sales the business holds.
func countSales(t *testing.T, c *client.Client) int {
	t.Helper()
	all, err := c.AllSales(context.Background())
	must(t, err)
	return len(all)
}

// raw sends a request by hand, for what the typed client cannot express.
func (e *env) raw(method, path, token, key, contentType, body string, hdr ...string) (*http.Response, []byte) {
	e.t.Helper()
	req, err := http.NewRequest(method, e.srv.URL+path, stringsReader(body))
	must(e.t, err)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Add(hdr[i], hdr[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	must(e.t, err)
	defer res.Body.Close()
	b := readAll(e.t, res)
	return res, b
}
