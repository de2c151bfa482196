package pgstore_test

import (
	"context"
	"testing"
	"time"

	"posd/engine"
	"posd/engine/pgstore"
	"posd/engine/pgstore/pgtest"
)

// TestServerRestart: a write whose server goes away in the middle answers
// unavailable and leaves nothing behind; writes while the server is down
// answer unavailable at once; after the restart the same store works again
// without being reopened, for a fast shutdown and for a crash (immediate)
// alike.
func TestServerRestart(t *testing.T) {
	c := pgtest.StartCluster(t, pgtest.Options{Durable: true})
	ctx := context.Background()
	u, err := c.CreateDatabase(ctx, "posd", "")
	if err != nil {
		t.Fatal(err)
	}
	st := openURL(t, u)
	put := func(id string) error {
		return st.Update(ctx, func(tx engine.Tx) error {
			return tx.PutLocation(&engine.Location{ID: id, BusinessID: "b", Name: id})
		})
	}
	if err := put("before"); err != nil {
		t.Fatal(err)
	}
	for _, stop := range []struct {
		name string
		fn   func() error
	}{{"fast", c.Stop}, {"immediate", c.Crash}} {
		t.Run(stop.name, func(t *testing.T) {
			// A transaction that has begun when the server goes.
			started, resume := make(chan struct{}), make(chan struct{})
			done := make(chan error, 1)
			go func() {
				done <- st.Update(ctx, func(tx engine.Tx) error {
					if _, err := tx.Locations("b"); err != nil {
						return err
					}
					close(started)
					<-resume
					if err := tx.PutLocation(&engine.Location{ID: "half-" + stop.name, BusinessID: "b", Name: "x"}); err != nil {
						return err
					}
					_, err := tx.NextNumber("b", "INV-202611")
					return err
				})
			}()
			<-started
			if err := stop.fn(); err != nil {
				t.Fatal(err)
			}
			close(resume)
			if err := <-done; engine.ErrorCode(err) != engine.EUNAVAILABLE {
				t.Fatalf("write across a %s stop: got %v, want unavailable", stop.name, err)
			}
			begin := time.Now()
			if err := put("while-down"); engine.ErrorCode(err) != engine.EUNAVAILABLE {
				t.Errorf("write while the server is down: got %v, want unavailable", err)
			}
			if d := time.Since(begin); d > 5*time.Second {
				t.Errorf("write while the server is down took %s to fail", d)
			}
			if err := c.Start(); err != nil {
				t.Fatal(err)
			}
			// The pool still holds connections the restart broke; the
			// first write must not be the one that finds out.
			if err := put("after-" + stop.name); err != nil {
				t.Fatalf("first write after the restart: %v", err)
			}
			err := engine.Scan(ctx, st, func(tx engine.ScanTx) error {
				if _, err := tx.Location("b", "half-"+stop.name); !engine.IsNotFound(err) {
					t.Errorf("half of the interrupted write is there: %v", err)
				}
				if s, _ := tx.Series("b"); s["INV-202611"] != 0 {
					t.Errorf("counter of the interrupted write: %d, want 0", s["INV-202611"])
				}
				for _, id := range []string{"before", "after-" + stop.name} {
					if _, err := tx.Location("b", id); err != nil {
						t.Errorf("location %s: %v", id, err)
					}
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		})
	}
	if h := st.Health(ctx); !h.Reachable || h.Error == "" {
		t.Errorf("health after the outages: %+v (want reachable, with the last error kept)", h)
	}
	t.Logf("stats: %+v", st.Stats())
	_ = pgstore.Stats{}
}
