//go:build !posd_crashpoints || !unix

package boltstore

// crashPoint is a test hook (build tag posd_crashpoints) that can kill the
// process at a named point of the commit path. In a normal build it is
// empty and compiles away.
func crashPoint(string) {}
