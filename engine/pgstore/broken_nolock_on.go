//go:build posd_broken_nolock

package pgstore

// brokenNoAdvisoryLock: this build orders a business's writers only within
// its own process.
const brokenNoAdvisoryLock = true
