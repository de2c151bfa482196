package engine

import "errors"

// Storage failures: why a store could not make a write durable. A store
// returns a copy of one of these, with the operating system's error in Err,
// so that the owner is told in words what is wrong (the health view says
// "the disk is full", not only "503") while a client sees the contract's
// 503 unavailable and retries. errors.Is matches them by code and message.
var (
	ErrDiskFull        = &Error{Code: EUNAVAILABLE, Message: "the database could not be written because the disk is full; nothing was written, retry once there is space"}
	ErrStorageReadOnly = &Error{Code: EUNAVAILABLE, Message: "the database could not be written because the disk has become read-only; nothing was written"}
	ErrStorageIO       = &Error{Code: EUNAVAILABLE, Message: "the database could not be written because the disk reported an error; nothing was written, retry shortly"}
	ErrShuttingDown    = &Error{Code: EUNAVAILABLE, Message: "posd is shutting down; nothing was written, retry shortly"}
	ErrStorage         = &Error{Code: EUNAVAILABLE, Message: "the database could not be written (is the disk full or failing?); nothing was written, retry shortly"}
)

// Storage failure causes, as StorageCause names them.
const (
	CauseDiskFull     = "disk_full"
	CauseReadOnly     = "read_only"
	CauseIO           = "io_error"
	CauseShuttingDown = "shutting_down"
	CauseOther        = "other"
)

// StorageCause names the storage failure behind err: one of the Cause
// constants (CauseOther for any other error).
func StorageCause(err error) string {
	switch {
	case errors.Is(err, ErrDiskFull):
		return CauseDiskFull
	case errors.Is(err, ErrStorageReadOnly):
		return CauseReadOnly
	case errors.Is(err, ErrStorageIO):
		return CauseIO
	case errors.Is(err, ErrShuttingDown):
		return CauseShuttingDown
	}
	return CauseOther
}

// StorageError returns the storage failure sentinel for cause, carrying err.
func StorageError(cause string, err error) *Error {
	base := ErrStorage
	switch cause {
	case CauseDiskFull:
		base = ErrDiskFull
	case CauseReadOnly:
		base = ErrStorageReadOnly
	case CauseIO:
		base = ErrStorageIO
	case CauseShuttingDown:
		base = ErrShuttingDown
	}
	return &Error{Code: base.Code, Message: base.Message, Err: err}
}
