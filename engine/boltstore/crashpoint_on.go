//go:build posd_crashpoints && unix

package boltstore

import (
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// crashOdds holds, per crash point, the chance of dying there, read from
// POSD_TEST_CRASH ("after-commit:0.02,before-commit:0.01"). Only the fault
// harness builds posd with the posd_crashpoints tag.
var crashOdds = func() map[string]float64 {
	m := map[string]float64{}
	for _, part := range strings.Split(os.Getenv("POSD_TEST_CRASH"), ",") {
		name, p, ok := strings.Cut(part, ":")
		if f, err := strconv.ParseFloat(p, 64); ok && err == nil {
			m[name] = f
		}
	}
	return m
}()

// crashPoint kills the process with SIGKILL, as a power cut or the OOM
// killer would, with the configured chance: "before-commit" after every
// operation of a group ran but before bbolt commits, "after-commit" after
// the commit and its fsync returned but before any caller is answered.
func crashPoint(name string) {
	if p := crashOdds[name]; p > 0 && rand.Float64() < p {
		syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {} // the signal is on its way
	}
}
