//go:build !posd_broken_nosync

package boltstore

// brokenNoSync is true only in the deliberately broken build (build tag
// posd_broken_nosync) that commits without fsync: kill -9 cannot tell, a
// power cut can, and the fault harness's power-loss profile must.
const brokenNoSync = false
