package boltstore_test

import (
	"path/filepath"
	"testing"

	"posd/engine"
	"posd/engine/boltstore"
	"posd/engine/storetest"
)

func mustOpen(tb testing.TB) *boltstore.Store {
	tb.Helper()
	s, err := boltstore.Open(filepath.Join(tb.TempDir(), "posd.db"), boltstore.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) engine.Store { return mustOpen(t) })
}
