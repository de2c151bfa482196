//go:build windows

package boltstore

import (
	"syscall"

	"posd/engine"
)

// Windows error numbers: ERROR_DISK_FULL (112), ERROR_HANDLE_DISK_FULL
// (39), ERROR_WRITE_PROTECT (19), ERROR_CRC (23) and
// ERROR_IO_DEVICE (1117).
var osCauses = []osCause{
	{engine.CauseDiskFull, []error{syscall.Errno(112), syscall.Errno(39)}},
	{engine.CauseReadOnly, []error{syscall.Errno(19)}},
	{engine.CauseIO, []error{syscall.Errno(23), syscall.Errno(1117)}},
}
