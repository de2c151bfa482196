//go:build !windows

package boltstore

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"testing"

	"posd/engine"
)

// A commit refused by the operating system is reported by its cause, so
// the health view can say "the disk is full" instead of only "503".
func TestStorageCause(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{&os.PathError{Op: "write", Path: "posd.db", Err: syscall.EFBIG}, engine.CauseDiskFull},
		{fmt.Errorf("boltstore: apply: %w", &os.PathError{Op: "write", Err: syscall.ENOSPC}), engine.CauseDiskFull},
		{&os.PathError{Op: "fdatasync", Err: syscall.EIO}, engine.CauseIO},
		{&os.PathError{Op: "write", Err: syscall.EROFS}, engine.CauseReadOnly},
		{errors.New("page 4 checksum"), engine.CauseOther},
	} {
		got := storageCause(tc.err)
		if got != tc.want {
			t.Errorf("storageCause(%v) = %s, want %s", tc.err, got, tc.want)
		}
		e := engine.StorageError(got, tc.err)
		if engine.StorageCause(e) != tc.want || e.Code != engine.EUNAVAILABLE || !errors.Is(e, tc.err) {
			t.Errorf("StorageError(%s): %v", got, e)
		}
	}
}
