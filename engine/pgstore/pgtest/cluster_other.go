//go:build !linux

package pgtest

import (
	"fmt"
	"syscall"
)

// Throwaway clusters are made the way Debian's packages and the tests' CI
// machines allow: as another OS user through process credentials, killed
// with the test process through Pdeathsig. Elsewhere the package builds,
// so that `go build ./...` and `go vet ./...` work on a developer's
// Windows or macOS machine, and its clusters count as a missing
// PostgreSQL: the tests that need one skip, unless POSD_REQUIRE_PG.

type runAs struct{ Uid, Gid uint32 }

var errNotLinux = fmt.Errorf("%w: throwaway clusters run on Linux only", ErrNoPostgres)

func supported() error { return errNotLinux }

func initdbAttr(*runAs) *syscall.SysProcAttr { return nil }

func serverAttr(*runAs) *syscall.SysProcAttr { return nil }

func alive(int) bool { return false }
