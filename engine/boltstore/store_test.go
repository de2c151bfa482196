package boltstore_test

import (
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

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
	storetest.Run(t, func(t testing.TB) engine.Store { return mustOpen(t) })
}

// TestConformanceRerunning runs the suite with every update run twice, the
// first run's writes discarded: the engine is safe for a store that retries.
func TestConformanceRerunning(t *testing.T) {
	storetest.Run(t, func(t testing.TB) engine.Store { return storetest.Rerunning(mustOpen(t)) })
}

func TestRefusesNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "posd.db")
	s, err := boltstore.Open(path, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	err = s.DB().Update(func(tx *bolt.Tx) error { return tx.Bucket([]byte("meta")).Put([]byte("schema"), []byte("99")) })
	s.Close()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := boltstore.Open(path, boltstore.Options{}); !errors.Is(err, boltstore.ErrNewerSchema) {
		t.Errorf("open newer schema: got %v, want ErrNewerSchema", err)
	}
}

func TestSecondOpenFailsFast(t *testing.T) {
	path := filepath.Join(t.TempDir(), "posd.db")
	s, err := boltstore.Open(path, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_, err = boltstore.Open(path, boltstore.Options{LockTimeout: 100 * time.Millisecond})
	if !errors.Is(err, boltstore.ErrLocked) {
		t.Errorf("second open: got %v, want ErrLocked", err)
	}
}

func TestInitialMmapSize(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("no reserve on Windows")
	}
	dir := t.TempDir()
	small := filepath.Join(dir, "small.db")
	if got := boltstore.InitialMmapSize(small); got != 1<<30 {
		t.Errorf("missing file: got %d, want 1 GiB", got)
	}
	big := filepath.Join(dir, "big.db")
	f, _ := os.Create(big)
	f.Truncate(1536 << 20) // 1.5 GiB, sparse
	f.Close()
	if got := boltstore.InitialMmapSize(big); got != 3<<30 {
		t.Errorf("1.5 GiB file: got %d, want 3 GiB", got)
	}
}
