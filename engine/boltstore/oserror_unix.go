//go:build !windows

package boltstore

import (
	"syscall"

	"posd/engine"
)

// EFBIG is what a write past RLIMIT_FSIZE (or a file system's file size
// limit) gets: for posd it is a full disk all the same.
var osCauses = []osCause{
	{engine.CauseDiskFull, []error{syscall.ENOSPC, syscall.EFBIG, syscall.EDQUOT}},
	{engine.CauseReadOnly, []error{syscall.EROFS}},
	{engine.CauseIO, []error{syscall.EIO}},
}
