package pgstore

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"syscall"

	"github.com/jackc/pgx/v5/pgconn"

	"posd/engine"
)

// Errors of the store, in the engine's terms.
var (
	errClosed   = &engine.Error{Code: engine.EUNAVAILABLE, Message: "posd is shutting down; nothing was written, retry shortly"}
	errReadOnly = &engine.Error{Code: engine.EINTERNAL, Message: "write in a read-only transaction"}
)

// storeError turns an error of pgx or PostgreSQL into an engine error.
// committing tells whether COMMIT had been sent: a connection lost then
// leaves the outcome unknown, which the message says, and the client's
// retry with the same Idempotency-Key settles (it replays what committed,
// or writes it now).
func storeError(err error, committing bool) error {
	if err == nil {
		return nil
	}
	var ee *engine.Error
	if errors.As(err, &ee) {
		return err
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch {
		case pe.Code == "23505": // unique_violation
			switch pe.ConstraintName {
			case "numbers_pkey":
				return &engine.Error{Code: engine.ErrDuplicateNumber.Code, Message: engine.ErrDuplicateNumber.Message, Err: err}
			case "idempotency_pkey", "idempotency_answers_pkey":
				// Either row of a second record for a key: which of the
				// two statements of PutIdempotency fails first is the
				// server's choice.
				return &engine.Error{Code: engine.ErrDuplicateKey.Code, Message: engine.ErrDuplicateKey.Message, Err: err}
			case "cashiers_pin_key":
				return &engine.Error{Code: engine.ErrDuplicatePIN.Code, Field: engine.ErrDuplicatePIN.Field, Message: engine.ErrDuplicatePIN.Message, Err: err}
			case "shifts_open_till":
				return &engine.Error{Code: engine.ErrShiftOpen.Code, Message: engine.ErrShiftOpen.Message, Err: err}
			case "zreports_pkey":
				return &engine.Error{Code: engine.ErrZReportExists.Code, Message: engine.ErrZReportExists.Message, Err: err}
			case "products_sku_key":
				e := engine.FieldError("sku", "is already used by another product")
				e.Err = err
				return e
			}
		case pe.Code == "40001" || pe.Code == "40P01": // serialization_failure, deadlock_detected
			// The transaction was rolled back whole. The contract runs fn
			// once, so the retry is the client's, with the same key.
			return &engine.Error{Code: engine.EUNAVAILABLE, Message: "the database could not order this write with another one; nothing was written, retry shortly", Err: err}
		case unavailableCode(pe.Code):
			return unavailable(err, committing)
		}
		return &engine.Error{Code: engine.EINTERNAL, Err: err}
	}
	if errors.Is(err, context.Canceled) && !committing {
		return err
	}
	// Anything else is the way to the database: a refused or broken
	// connection, a timeout, a server that went away.
	return unavailable(err, committing)
}

// unavailableCode reports SQLSTATEs that say the server cannot serve now:
// connection exceptions (08), insufficient resources such as a full disk
// (53), operator intervention such as a shutdown or restart (57), system
// errors (58), and a read-only server (25006: a standby, as after a
// failover before the client found the new primary).
func unavailableCode(code string) bool {
	return strings.HasPrefix(code, "08") || strings.HasPrefix(code, "53") || strings.HasPrefix(code, "57") ||
		strings.HasPrefix(code, "58") || code == "25006"
}

func unavailable(err error, committing bool) error {
	if committing {
		return &engine.Error{Code: engine.EUNAVAILABLE, Err: err,
			Message: "the connection to the database broke while the write was committing; retry with the same Idempotency-Key: posd answers what was written, or writes it now"}
	}
	return &engine.Error{Code: engine.EUNAVAILABLE, Err: err, Message: "the database cannot be reached; nothing was written, retry shortly"}
}

// connectionLost reports an error of the way to the server (a refused,
// reset or closed connection; a server shutting down or starting up):
// the kind a fresh connection may not meet again.
func connectionLost(err error) bool {
	if err == nil || errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return false
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return strings.HasPrefix(pe.Code, "08") || pe.Code == "57P01" || pe.Code == "57P02" || pe.Code == "57P03"
	}
	var ce *pgconn.ConnectError
	var ne net.Error
	return errors.As(err, &ce) || errors.As(err, &ne) || errors.Is(err, pgconn.ErrConnClosed) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, syscall.ECONNRESET) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EPIPE) || pgconn.SafeToRetry(err)
}

func notFound(what string) error {
	return &engine.Error{Code: engine.ENOTFOUND, Message: what + " not found"}
}

func corrupt(table string, err error) error {
	return &engine.Error{Code: engine.EINTERNAL, Message: "stored data could not be read", Err: errors.New("pgstore: " + table + ": " + err.Error())}
}

// serializationFailure reports a transaction the server rolled back to
// order it with another (40001, 40P01): nothing of it was written.
func serializationFailure(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01")
}
