// Package backends opens the store a test suite runs on, chosen by the
// environment, so that the API's tests (and any others written over
// engine.Store) run unchanged on every backend: the embedded store by
// default, PostgreSQL on a throwaway cluster with POSD_TEST_BACKEND=postgres
// (make test runs the API tests both ways).
package backends

import (
	"bytes"
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"posd/engine"
	"posd/engine/boltstore"
	"posd/engine/pgstore"
	"posd/engine/pgstore/pgtest"
)

// Env names the environment variable that picks the backend.
const Env = "POSD_TEST_BACKEND"

// Postgres reports whether the tests run on PostgreSQL.
func Postgres() bool { return os.Getenv(Env) == "postgres" }

// Name is the backend's name, for test logs.
func Name() string {
	if Postgres() {
		return "postgres"
	}
	return "embedded"
}

// Main runs a test binary's tests and removes the PostgreSQL cluster, if
// one was started.
func Main(m *testing.M) { pgtest.Main(m) }

var (
	tmplOnce sync.Once
	tmplName string
	tmplErr  error
)

// Open returns a fresh, empty store of the chosen backend, closed at the
// end of the test.
func Open(tb testing.TB) engine.Store {
	tb.Helper()
	var st engine.Store
	if Postgres() {
		tmplOnce.Do(func() {
			u := pgtest.NewDatabase(tb, "")
			s, err := pgstore.Open(context.Background(), u, pgstore.Options{})
			if err != nil {
				tmplErr = err
				return
			}
			s.Close()
			p, _ := url.Parse(u)
			tmplName = strings.TrimPrefix(p.Path, "/")
		})
		if tmplErr != nil {
			tb.Fatal(tmplErr)
		}
		s, err := pgstore.Open(context.Background(), pgtest.NewDatabase(tb, tmplName), pgstore.Options{})
		if err != nil {
			tb.Fatal(err)
		}
		st = s
	} else {
		s, err := boltstore.Open(filepath.Join(tb.TempDir(), "posd.db"), boltstore.Options{})
		if err != nil {
			tb.Fatal(err)
		}
		st = s
	}
	tb.Cleanup(func() { st.Close() })
	return st
}

// Raw returns every byte the store keeps, as well as it can: the embedded
// database's file, or each row of every table of the PostgreSQL database
// as text (bytea in hex and as it is). For scans that look for what must
// never be stored, such as token secrets. The store is closed first.
func Raw(tb testing.TB, st engine.Store) []byte {
	tb.Helper()
	switch s := st.(type) {
	case *boltstore.Store:
		path := s.Path()
		s.Close()
		b, err := os.ReadFile(path)
		if err != nil {
			tb.Fatal(err)
		}
		return b
	case *pgstore.Store:
		var b bytes.Buffer
		if err := s.DumpRows(context.Background(), &b); err != nil {
			tb.Fatal(err)
		}
		s.Close()
		return b.Bytes()
	}
	tb.Fatalf("backends.Raw: unknown store %T", st)
	return nil
}

// Size returns the store's size function (both stores have one).
func Size(st engine.Store) func() (int64, error) {
	return st.(interface{ Size() (int64, error) }).Size
}

// Counts are a store's commit counters.
type Counts struct {
	Commits, Operations, Failed uint64
	MaxBatch                    int
}

// Commits returns the store's commit counters.
func Commits(st engine.Store) Counts {
	switch s := st.(type) {
	case *boltstore.Store:
		x := s.Stats()
		return Counts{x.Commits, x.Operations, x.Failed, x.MaxBatch}
	case *pgstore.Store:
		x := s.Stats()
		return Counts{x.Commits, x.Operations, x.Failed, 1}
	}
	return Counts{}
}
