//go:build !posd_broken_numbertx

package engine

import "context"

// numberFirst is a hook for the deliberately broken build (build tag
// posd_broken_numbertx) that takes document numbers in a transaction of
// their own; the fault harness must catch the gaps that makes. In a normal
// build it returns fn as it is and compiles away.
func (s *Service) numberFirst(_ context.Context, _ *Actor, _ string, fn opFunc) opFunc {
	return fn
}
