package main

import (
	"os"
	"runtime/debug"
)

// gcPercent and memoryLimit tune the garbage collector for serve (and only
// for serve: the other commands are short-lived, or, like verify, read a
// large file they do not keep). posd
// allocates for every request but keeps little (its live heap is a few MiB),
// so at Go's default GOGC=100 the collector ran often and took about a tenth
// of the CPU under load. Collecting at 5× the live heap instead cuts that
// to a few percent; the soft limit makes the collector work harder before
// the heap could approach the memory budget of a back-office PC. GOGC and
// GOMEMLIMIT in the environment still win.
const (
	gcPercent   = 400
	memoryLimit = 128 << 20
)

// tuneGC sets them, unless the environment sets its own.
func tuneGC() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
	}
}
