package storetest

import (
	"context"
	"errors"

	"posd/engine"
)

// Rerunning wraps a store so that every fn given to Update first runs once
// with its writes discarded, then runs again for real: what a store that
// retries after a serialization failure may do (engine.Store.Update allows
// it). Run over Rerunning(store) shows that the engine's fns are safe for
// it: they give the same answers and leave the same data as on the store
// itself, because a discarded run leaves no trace.
func Rerunning(s engine.Store) engine.Store { return rerunning{s} }

type rerunning struct{ engine.Store }

// errDiscard makes the store drop a first run's writes.
var errDiscard = errors.New("storetest: the first run's writes are discarded")

func (r rerunning) Update(ctx context.Context, fn func(engine.Tx) error) error {
	// The first run's outcome, whatever it is, is thrown away with its
	// writes, as a serialization failure would throw it away.
	_ = r.Store.Update(ctx, func(tx engine.Tx) error {
		if err := fn(tx); err != nil {
			return err
		}
		return errDiscard
	})
	return r.Store.Update(ctx, fn)
}

// ReplayFromView passes on the store's own choice.
func (r rerunning) ReplayFromView() bool {
	v, ok := r.Store.(engine.ReplayFromView)
	return ok && v.ReplayFromView()
}
