package pgstore

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The schema is versioned in the binary: migrations/NNNN_name.sql, applied
// in order, each in its own transaction, and recorded in
// schema_migrations. A database whose schema is newer than this posd knows
// is refused, as boltstore refuses a newer file.

//go:embed migrations/*.sql
var migrationFiles embed.FS

type migration struct {
	version int
	name    string
	sql     string
}

// migrations lists the embedded migrations in order.
func migrations() []migration {
	entries, err := fs.ReadDir(migrationFiles, "migrations")
	if err != nil {
		panic("pgstore: embedded migrations: " + err.Error())
	}
	var out []migration
	for _, e := range entries {
		v, err := strconv.Atoi(strings.SplitN(e.Name(), "_", 2)[0])
		if err != nil {
			panic("pgstore: migration without a version: " + e.Name())
		}
		b, _ := migrationFiles.ReadFile("migrations/" + e.Name())
		out = append(out, migration{version: v, name: e.Name(), sql: string(b)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	for i, m := range out {
		if m.version != i+1 {
			panic("pgstore: migrations are not numbered 1, 2, 3, …: " + m.name)
		}
	}
	return out
}

// SchemaVersion is the newest schema this code reads and writes.
var SchemaVersion = len(migrations())

// ErrNewerSchema is returned by Open for a database written by a newer posd.
var ErrNewerSchema = errors.New("pgstore: database schema is newer than this posd")

// ErrNotPosd is returned by a read-only Open of a database that holds no
// posd schema.
var ErrNotPosd = errors.New("pgstore: the database holds no posd data (run posd init --database first)")

// migrateLock is the session advisory lock key under which posd processes
// migrate one at a time (a random 64-bit constant: "posd migrate").
const migrateLock int64 = 0x706f73646d696772

// migrate brings the schema up to SchemaVersion and returns the version the
// database had. readOnly only checks: a database that is not posd's, or
// whose schema is older or newer than this posd's, is refused.
func migrate(ctx context.Context, pool *pgxpool.Pool, readOnly bool) (int, error) {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Release()
	if readOnly {
		v, err := currentVersion(ctx, conn.Conn())
		switch {
		case err != nil:
			return 0, err
		case v == 0:
			return 0, ErrNotPosd
		case v > SchemaVersion:
			return v, fmt.Errorf("%w: the database has schema %d, this posd knows up to %d; use a newer posd", ErrNewerSchema, v, SchemaVersion)
		case v < SchemaVersion:
			return v, fmt.Errorf("pgstore: the database has schema %d, older than this posd's %d; start posd serve on it once to upgrade it", v, SchemaVersion)
		}
		return v, nil
	}
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", migrateLock); err != nil {
		return 0, err
	}
	defer conn.Exec(context.WithoutCancel(ctx), "SELECT pg_advisory_unlock($1)", migrateLock)
	if _, err := conn.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return 0, err
	}
	had, err := currentVersion(ctx, conn.Conn())
	if err != nil {
		return 0, err
	}
	if had > SchemaVersion {
		return had, fmt.Errorf("%w: the database has schema %d, this posd knows up to %d; use a newer posd", ErrNewerSchema, had, SchemaVersion)
	}
	for _, m := range migrations()[had:] {
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, m.sql); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", m.version, m.name)
			return err
		})
		if err != nil {
			return had, fmt.Errorf("pgstore: migration %s: %w", m.name, err)
		}
	}
	return had, nil
}

// currentVersion reads the schema version, 0 for a database without one.
func currentVersion(ctx context.Context, conn *pgx.Conn) (int, error) {
	var v *int
	err := conn.QueryRow(ctx, "SELECT max(version) FROM schema_migrations").Scan(&v)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "42P01" { // undefined_table
		return 0, nil
	}
	if err != nil || v == nil {
		return 0, err
	}
	return *v, nil
}
