package boltstore

import (
	"errors"

	"posd/engine"
)

// storageCause tells why the operating system refused a commit, so that
// the health view can say it in words ("the disk is full").
func storageCause(err error) string {
	for _, c := range osCauses {
		for _, e := range c.errs {
			if errors.Is(err, e) {
				return c.cause
			}
		}
	}
	return engine.CauseOther
}

type osCause struct {
	cause string
	errs  []error
}
