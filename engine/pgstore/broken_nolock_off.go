//go:build !posd_broken_nolock

package pgstore

// brokenNoAdvisoryLock is true only in the deliberately broken build (build
// tag posd_broken_nolock) that leaves out the advisory lock: one posd
// process still orders its own writers, two on one database race. The
// two-store test and the fault harness's two-process profile must catch
// it.
const brokenNoAdvisoryLock = false
