//go:build posd_broken_ackearly

package boltstore

// brokenAckBeforeCommit: this build answers each operation as soon as it
// ran, before the group's commit: a crash then loses acknowledged sales.
const brokenAckBeforeCommit = true
