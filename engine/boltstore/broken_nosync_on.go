//go:build posd_broken_nosync

package boltstore

// brokenNoSync: this build never fsyncs its commits.
const brokenNoSync = true
