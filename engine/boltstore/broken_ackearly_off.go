//go:build !posd_broken_ackearly

package boltstore

// brokenAckBeforeCommit is true only in the deliberately broken build the
// fault harness uses to show that its checks catch a posd that answers
// before its commit is durable (build tag posd_broken_ackearly).
const brokenAckBeforeCommit = false
