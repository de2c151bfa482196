package boltstore_test

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"posd/engine"
	"posd/engine/storetest"
)

// TestRevokedTokenStopsAtOnce: tokens are cached for authentication, yet a
// revoked token is refused by every authentication that starts after the
// revocation was answered, even while other requests keep authenticating
// (and filling the cache) with it right up to the revocation.
func TestRevokedTokenStopsAtOnce(t *testing.T) {
	s := mustOpen(t)
	defer s.Close()
	shop := storetest.NewShop(t, engine.NewService(s), "UTC")
	svc, owner := shop.Service, shop.Owner
	ctx := context.Background()
	for round := range 20 {
		out, err := svc.CreateToken(ctx, owner, engine.IdempotencyKey("tok"+string(rune('a'+round))), engine.TokenInput{Role: "till", Name: "till"})
		if err != nil {
			t.Fatal(err)
		}
		tok := out.Doc
		if _, err := svc.Authenticate(ctx, *tok.Secret); err != nil {
			t.Fatalf("new token: %v", err)
		}
		var revoked atomic.Bool
		var wg sync.WaitGroup
		stop := make(chan struct{})
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					select {
					case <-stop:
						return
					default:
					}
					after := revoked.Load() // read before authenticating
					a, err := svc.Authenticate(ctx, *tok.Secret)
					if after && err == nil {
						t.Errorf("round %d: a revoked token authenticated as %s", round, a.TokenID)
						return
					}
				}
			}()
		}
		if err := svc.RevokeToken(ctx, owner, tok.ID); err != nil {
			t.Fatal(err)
		}
		revoked.Store(true)
		if _, err := svc.Authenticate(ctx, *tok.Secret); engine.ErrorCode(err) != engine.EUNAUTHORIZED {
			t.Fatalf("round %d: revoked token: got %v, want unauthorized", round, err)
		}
		close(stop)
		wg.Wait()
	}
	// The owner token is still served (from the cache or not).
	if _, err := svc.Authenticate(ctx, shop.OwnerToken); err != nil {
		t.Fatal(err)
	}
}
