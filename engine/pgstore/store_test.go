package pgstore_test

import (
	"context"
	"testing"

	"posd/engine"
	"posd/engine/pgstore"
	"posd/engine/pgstore/pgtest"
	"posd/engine/storetest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// mustOpen opens a store on a fresh, empty database of the shared
// throwaway cluster.
func mustOpen(tb testing.TB) *pgstore.Store {
	tb.Helper()
	return openURL(tb, pgtest.NewDatabase(tb, ""))
}

func openURL(tb testing.TB, url string) *pgstore.Store {
	tb.Helper()
	s, err := pgstore.Open(context.Background(), url, pgstore.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) engine.Store { return mustOpen(t) })
}
