package pgstore_test

import (
	"context"
	"net/url"
	"strings"
	"sync"
	"testing"

	"posd/engine"
	"posd/engine/pgstore"
	"posd/engine/pgstore/pgtest"
	"posd/engine/storetest"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

var (
	tmplOnce sync.Once
	tmplName string
	tmplErr  error
)

// template returns a database with the schema already in place, made once
// per test binary: a database copied from it is ready in milliseconds.
func template(tb testing.TB) string {
	tb.Helper()
	tmplOnce.Do(func() {
		u := pgtest.NewDatabase(tb, "")
		s, err := pgstore.Open(context.Background(), u, pgstore.Options{})
		if err != nil {
			tmplErr = err
			return
		}
		s.Close()
		tmplName = dbName(u)
	})
	if tmplErr != nil {
		tb.Fatal(tmplErr)
	}
	return tmplName
}

func dbName(u string) string {
	p, _ := url.Parse(u)
	return strings.TrimPrefix(p.Path, "/")
}

// newDatabase returns the URL of a fresh posd database.
func newDatabase(tb testing.TB) string {
	tb.Helper()
	return pgtest.NewDatabase(tb, template(tb))
}

// mustOpen opens a store on a fresh posd database of the shared throwaway
// cluster, closed at the end of the test.
func mustOpen(tb testing.TB) *pgstore.Store {
	tb.Helper()
	return openURL(tb, newDatabase(tb))
}

func openURL(tb testing.TB, u string) *pgstore.Store {
	tb.Helper()
	s, err := pgstore.Open(context.Background(), u, pgstore.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t testing.TB) engine.Store { return mustOpen(t) })
}

// TestConformanceRerunning runs the suite with every update run twice, the
// first run's writes discarded, as pgstore itself may run an fn again
// after a lost connection (see Update).
func TestConformanceRerunning(t *testing.T) {
	storetest.Run(t, func(t testing.TB) engine.Store { return storetest.Rerunning(mustOpen(t)) })
}
