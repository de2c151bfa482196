package pgtest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"testing"
)

// RequireEnv names the environment variable that turns a missing
// PostgreSQL into a test failure instead of a skip. make test sets it (and
// installs PostgreSQL first), and so does CI (CI=true): the PostgreSQL
// suites can never be silently skipped there.
const RequireEnv = "POSD_REQUIRE_PG"

var (
	sharedMu  sync.Mutex
	shared    *Cluster
	sharedErr error
	dbCount   atomic.Int64
)

// Main runs a test binary's tests and then removes the shared cluster, if
// one was started. Packages that use Shared or NewDatabase call it from
// TestMain:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
func Main(m *testing.M) {
	code := m.Run()
	Cleanup()
	os.Exit(code)
}

// Cleanup removes the shared cluster, if one was started; for a TestMain
// that does more than Main.
func Cleanup() {
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if shared != nil {
		shared.Remove()
		shared = nil
	}
}

// Required reports whether a missing PostgreSQL must fail the tests.
func Required() bool { return os.Getenv(RequireEnv) != "" || os.Getenv("CI") != "" }

// Shared returns the test binary's cluster, starting it on first use. A
// machine without PostgreSQL skips the test, unless Required.
func Shared(tb testing.TB) *Cluster {
	tb.Helper()
	sharedMu.Lock()
	defer sharedMu.Unlock()
	if shared == nil && sharedErr == nil {
		shared, sharedErr = Start(Options{})
	}
	if sharedErr != nil {
		if errors.Is(sharedErr, ErrNoPostgres) && !Required() {
			tb.Skipf("%v; skipping (set %s=1 to make this a failure)", sharedErr, RequireEnv)
		}
		tb.Fatalf("starting the test cluster: %v", sharedErr)
	}
	return shared
}

// NewDatabase creates a fresh database on the shared cluster, from
// template (template1 when empty), and returns its URL. Databases are not
// dropped one by one: the cluster goes at the end of the test binary.
func NewDatabase(tb testing.TB, template string) string {
	tb.Helper()
	c := Shared(tb)
	name := fmt.Sprintf("t%d_%d", os.Getpid(), dbCount.Add(1))
	url, err := c.CreateDatabase(context.Background(), name, template)
	if err != nil {
		tb.Fatal(err)
	}
	return url
}

// StartCluster starts a cluster of the test's own (for tests that stop or
// crash the server), removed at the end of the test.
func StartCluster(tb testing.TB, opts Options) *Cluster {
	tb.Helper()
	c, err := Start(opts)
	if err != nil {
		if errors.Is(err, ErrNoPostgres) && !Required() {
			tb.Skipf("%v; skipping (set %s=1 to make this a failure)", err, RequireEnv)
		}
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Remove() })
	return c
}
