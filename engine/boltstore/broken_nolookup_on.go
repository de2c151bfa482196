//go:build posd_broken_nolookup

package boltstore

// brokenNoIdempotencyLookup: this build skips the idempotency lookup (and
// the storage guard behind it), so every retry runs again.
const brokenNoIdempotencyLookup = true
