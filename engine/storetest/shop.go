package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"testing"

	"posd/engine"
)

// Shop is the test shop of posd's tests and benchmarks, made through the
// engine by NewShop: a business with two locations, two products and a
// token of each role. The API, store, command and load tests start from
// it, so that a change to the shop is made here once.
type Shop struct {
	Service  *engine.Service
	Business *engine.Business
	// Location is the business's first location ("Main"), Location2 a
	// second one ("Store room").
	Location, Location2 string
	// Apple sells at 1.50 with 20 % tax included, Cheese at 19.99 a kg
	// without tax.
	Apple, Cheese *engine.Product
	// The secrets of a token of each role (the bound till's is bound to
	// Location), and the actors they authenticate as.
	OwnerToken, ManagerToken, TillToken, BoundTillToken string
	Owner, Manager, Till, BoundTill                     *engine.Actor

	keys atomic.Int64
}

// NewShop makes the test shop in svc's store, in the IANA time zone tz
// (document numbers follow its months). Any error fails the test.
func NewShop(tb testing.TB, svc *engine.Service, tz string) *Shop {
	tb.Helper()
	s := newBusiness(tb, svc, tz)
	ctx := context.Background()
	s.Location2 = must(svc.CreateLocation(ctx, s.Owner, s.Key(), engine.LocationInput{Name: "Store room"})).doc(tb).ID
	token := func(role engine.Role, loc *string) (string, *engine.Actor) {
		tok := must(svc.CreateToken(ctx, s.Owner, s.Key(), engine.TokenInput{Role: string(role), Name: string(role), LocationID: loc})).doc(tb)
		if tok.Secret == nil {
			tb.Fatalf("CreateToken: the first answer has no secret")
		}
		return *tok.Secret, s.authenticate(tb, *tok.Secret)
	}
	s.ManagerToken, s.Manager = token(engine.RoleManager, nil)
	s.TillToken, s.Till = token(engine.RoleTill, nil)
	s.BoundTillToken, s.BoundTill = token(engine.RoleTill, &s.Location)
	return s
}

// newBusiness makes the part of the shop the conformance cases start from
// (they count every record they write): the business, its owner and the
// two products.
func newBusiness(tb testing.TB, svc *engine.Service, tz string) *Shop {
	tb.Helper()
	ctx := context.Background()
	biz, loc, secret, err := svc.CreateBusiness(ctx, engine.BusinessInput{Name: "Test shop", Timezone: tz, Currency: "EUR"})
	if err != nil {
		tb.Fatalf("CreateBusiness: %v", err)
	}
	s := &Shop{Service: svc, Business: biz, Location: loc.ID, OwnerToken: secret}
	s.Owner = s.authenticate(tb, secret)
	s.Apple = must(svc.CreateProduct(ctx, s.Owner, s.Key(), engine.ProductInput{SKU: "APPLE", Name: "Apple", Price: raw(150), TaxRate: raw(20)})).doc(tb)
	s.Cheese = must(svc.CreateProduct(ctx, s.Owner, s.Key(), engine.ProductInput{SKU: "CHEESE", Name: "Cheese", Price: raw(1999)})).doc(tb)
	return s
}

func (s *Shop) authenticate(tb testing.TB, secret string) *engine.Actor {
	tb.Helper()
	a, err := s.Service.Authenticate(context.Background(), secret)
	if err != nil {
		tb.Fatalf("Authenticate: %v", err)
	}
	return a
}

// Key returns an idempotency key no other write of the shop has used.
func (s *Shop) Key() engine.IdempotencyKey {
	return engine.IdempotencyKey(fmt.Sprintf("shop-%d", s.keys.Add(1)))
}

// OneApple is a sale of one apple at Location, paid 1.50 in cash.
func (s *Shop) OneApple() engine.SaleInput {
	return engine.SaleInput{LocationID: s.Location, Items: []engine.SaleItemInput{{ProductID: s.Apple.ID, Quantity: json.RawMessage("1")}},
		Payments: []engine.PaymentInput{{Method: engine.MethodCash, Amount: json.RawMessage("150")}}}
}
