//go:build !posd_broken_notenant

package boltstore

// brokenNoTenantFilter is true only in the deliberately broken build (build
// tag posd_broken_notenant) whose sale listing forgets the business filter;
// the fault harness must catch it.
const brokenNoTenantFilter = false
