//go:build !posd_broken_nolookup

package boltstore

// brokenNoIdempotencyLookup is true only in the deliberately broken build
// (build tag posd_broken_nolookup) that never finds an idempotency record,
// so a retry makes a second document; the fault harness must catch it.
const brokenNoIdempotencyLookup = false
