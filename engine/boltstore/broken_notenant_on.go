//go:build posd_broken_notenant

package boltstore

// brokenNoTenantFilter: this build lists every business's sales to anyone.
const brokenNoTenantFilter = true
