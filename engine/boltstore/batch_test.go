package boltstore_test

import (
	"context"
	"sync"
	"testing"

	"posd/engine"
)

// TestGroupCommit: many concurrent writers share commits, and every one of
// their writes lands.
func TestGroupCommit(t *testing.T) {
	s := mustOpen(t)
	defer s.Close()
	const writers, each = 64, 20
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				err := s.Update(context.Background(), func(tx engine.Tx) error {
					return tx.AddMovement(&engine.Movement{BusinessID: "b", LocationID: "l", ProductID: "p", Quantity: 1})
				})
				if err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	st := s.Stats()
	t.Logf("%d operations in %d commits, largest group %d", st.Operations, st.Commits, st.MaxBatch)
	if st.Operations < writers*each {
		t.Fatalf("operations: got %d, want %d", st.Operations, writers*each)
	}
	if st.MaxBatch < 2 || st.Commits >= st.Operations {
		t.Errorf("no commit was shared: %d operations in %d commits", st.Operations, st.Commits)
	}
	s.View(context.Background(), func(tx engine.Tx) error {
		if q, _ := tx.Stock("b", "l", "p"); q != writers*each {
			t.Errorf("stock: got %d, want %d", q, writers*each)
		}
		return nil
	})
}
