package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"posd/api"
	"posd/backup"
	"posd/engine"
	"posd/engine/boltstore"
	"posd/engine/pgstore"
	"posd/engine/storecopy"
)

// databaseEnv is the environment variable that gives --database its
// default, so that a service's unit or a shell can name the database once.
const databaseEnv = "POSD_DATABASE"

// addDatabaseFlag adds --database to a command.
func addDatabaseFlag(fs *flag.FlagSet) *string {
	return fs.String("database", os.Getenv(databaseEnv), "PostgreSQL database URL (postgres://user:password@host:5432/posd); default $"+databaseEnv+", else the embedded database in the data dir")
}

// database is the store a command works on: the embedded one of a data
// dir, or a PostgreSQL database.
type database struct {
	engine.Store
	bolt *boltstore.Store
	pg   *pgstore.Store
	// name is the file or the database (without credentials), for people.
	name string
}

// checkDatabaseURL refuses what is not a PostgreSQL URL, with the form to
// use.
func checkDatabaseURL(u string) error {
	if u == "" || strings.HasPrefix(u, "postgres://") || strings.HasPrefix(u, "postgresql://") {
		return nil
	}
	return usageError{fmt.Sprintf("--database %q: give a PostgreSQL URL, postgres://user:password@host:5432/database", redactURL(u))}
}

// redactURL hides a password in a URL someone typed.
func redactURL(u string) string {
	if at := strings.LastIndexByte(u, '@'); at > 0 {
		if c := strings.Index(u, "://"); c >= 0 {
			if colon := strings.IndexByte(u[c+3:at], ':'); colon >= 0 {
				return u[:c+3+colon+1] + "xxxxx" + u[at:]
			}
		}
	}
	return u
}

// openDatabase opens the database a command names: PostgreSQL when dbURL
// is set, else the data dir's file (created with dir when create).
func openDatabase(ctx context.Context, dir, dbURL string, create bool) (*database, error) {
	if err := checkDatabaseURL(dbURL); err != nil {
		return nil, err
	}
	if dbURL == "" {
		st, err := openStore(dir, create)
		if err != nil {
			return nil, err
		}
		return &database{Store: st, bolt: st, name: st.Path()}, nil
	}
	st, err := openPG(ctx, dbURL, false, "posd")
	if err != nil {
		return nil, err
	}
	return &database{Store: st, pg: st, name: "PostgreSQL database " + st.Target()}, nil
}

// openPG opens a PostgreSQL database with messages a person can act on;
// app names the connections in pg_stat_activity ("posd" for the processes
// that write: migrate --from waits for those to be gone).
func openPG(ctx context.Context, dbURL string, readOnly bool, app string) (*pgstore.Store, error) {
	st, err := pgstore.Open(ctx, dbURL, pgstore.Options{ReadOnly: readOnly, ConnectTimeout: 15 * time.Second, ApplicationName: app})
	if err != nil {
		return nil, fmt.Errorf("%s", strings.TrimPrefix(err.Error(), "pgstore: "))
	}
	return st, nil
}

// Size is the database's size in bytes.
func (d *database) Size() (int64, error) {
	if d.pg != nil {
		return d.pg.Size()
	}
	return d.bolt.Size()
}

// Snapshot is a backup.Source of the database: bbolt's own consistent
// copy of the file, or for PostgreSQL a copy into the embedded format,
// read in one REPEATABLE READ transaction, so that a backup of a chain's
// database is a file any posd can verify, restore or serve from.
func (d *database) Snapshot(ctx context.Context, w io.Writer) (int64, error) {
	if d.bolt != nil {
		return d.bolt.Snapshot(ctx, w)
	}
	return pgSnapshot(ctx, d.pg, w)
}

// pgSnapshot copies a PostgreSQL database into a temporary embedded
// database and writes that file to w.
func pgSnapshot(ctx context.Context, pg *pgstore.Store, w io.Writer) (int64, error) {
	tmp, err := os.MkdirTemp("", "posd-snapshot-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(tmp)
	path := filepath.Join(tmp, dbFile)
	dst, err := boltstore.Open(path, boltstore.Options{})
	if err != nil {
		return 0, err
	}
	if _, err := storecopy.Copy(ctx, pg, dst, 5000, nil); err != nil {
		dst.Close()
		return 0, err
	}
	n, err := dst.Snapshot(ctx, w)
	if cerr := dst.Close(); err == nil {
		err = cerr
	}
	return n, err
}

// commitStats are the store's counters as the health view shows them.
func (d *database) commitStats() api.CommitStats {
	if d.pg != nil {
		s := d.pg.Stats()
		return api.CommitStats{Commits: s.Commits, Operations: s.Operations, Failed: s.Failed}
	}
	s := d.bolt.Stats()
	return api.CommitStats{Commits: s.Commits, Operations: s.Operations, Failed: s.Failed, MaxBatch: s.MaxBatch}
}

// status is the database's state for the health view and /metrics; nil
// for the embedded database (its state is the process's).
func (d *database) status() *api.DatabaseStatus {
	if d.pg == nil {
		return nil
	}
	h := d.pg.Health(context.Background())
	s := d.pg.Stats()
	st := &api.DatabaseStatus{Backend: "postgresql", Target: h.Target, Reachable: h.Reachable, LastError: h.Error,
		Connections: int(h.Connections), ConnectionsInUse: int(h.InUse), MaxConnections: int(h.MaxConnections), Schema: h.Schema,
		Unavailable: s.Unavailable, RoundTrips: s.RoundTrips,
		QueueWaitSeconds: s.QueueWait.Seconds(), LockWaitSeconds: s.LockWait.Seconds(), InTurnSeconds: s.InTurn.Seconds()}
	if !h.ErrorAt.IsZero() {
		t := h.ErrorAt.UTC()
		st.LastErrorAt = &t
	}
	if !h.LastOK.IsZero() {
		t := h.LastOK.UTC()
		st.LastOK = &t
	}
	return st
}

// verifyPG checks a PostgreSQL database: its storage guarantees and every
// domain check, in one snapshot each.
func verifyPG(ctx context.Context, cfg backup.Config, dbURL string) (*backup.Report, error) {
	st, err := openPG(ctx, dbURL, true, "posd verify")
	if errors.Is(err, pgstore.ErrNewerSchema) || errors.Is(err, pgstore.ErrNotPosd) {
		return nil, err
	}
	if err != nil {
		return nil, err
	}
	defer st.Close()
	// The PostgreSQL schema has chained documents from its first version.
	cfg.Schema, cfg.ChainsSince = pgstore.SchemaVersion, 1
	return cfg.VerifyDatabase(ctx, st, "PostgreSQL database "+st.Target()), nil
}
