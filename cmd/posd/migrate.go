package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"posd/engine"
	"posd/engine/boltstore"
	"posd/engine/pgstore"
	"posd/engine/storecopy"
)

// runMigrate moves a shop's whole database between the embedded store and
// PostgreSQL, in either direction, and proves the copy: both sides are
// walked again and compared object by object (documents with their hashes,
// list order, movements, stock, series, numbers, chain heads, idempotency
// records, the back office's pairings, till reports and imports). A difference is
// a failure (exit 1).
//
// It refuses rather than resumes. The target must be empty (an empty
// PostgreSQL database, or a data dir without a database), and the copy
// into it is all or nothing: into PostgreSQL one transaction, into a data
// dir a temporary file renamed into place only after it compared equal.
// An interrupted migration therefore leaves the target as empty as it was,
// and is simply run again. The source must be at rest (no posd serving
// it): sales written after the copy began would stay behind.
func runMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	flags := newFlags("migrate", "--data-dir DIR --to postgres://… | --from postgres://… --data-dir DIR", stdout)
	dir := flags.String("data-dir", defaultDataDir(), "the data directory: the source with --to, the (empty) target with --from")
	to := flags.String("to", "", "copy the data dir's embedded database into this empty PostgreSQL database")
	from := flags.String("from", "", "copy this PostgreSQL database into the data dir, which must hold no database")
	if err := parse(flags, args); err != nil {
		return err
	}
	if (*to == "") == (*from == "") {
		return usageError{"give either --to postgres://… (embedded → PostgreSQL) or --from postgres://… (PostgreSQL → embedded)"}
	}
	for _, u := range []string{*to, *from} {
		if err := checkDatabaseURL(u); err != nil {
			return err
		}
	}
	abs, err := filepath.Abs(*dir)
	if err != nil {
		return err
	}
	if *to != "" {
		return migrateTo(ctx, abs, *to, stdout)
	}
	return migrateFrom(ctx, *from, abs, stdout)
}

func migrateTo(ctx context.Context, dir, dbURL string, stdout io.Writer) error {
	path := filepath.Join(dir, dbFile)
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("no posd database in %s", dir)
	}
	src, err := boltstore.Open(path, boltstore.Options{ReadOnly: true, LockTimeout: 500 * time.Millisecond})
	if errors.Is(err, boltstore.ErrLocked) {
		return fmt.Errorf("posd is running on %s: stop it first (posd service stop, or Ctrl-C); migrate copies a database at rest, so that no sale is written after the copy began; nothing was changed", dir)
	}
	if err != nil {
		return fmt.Errorf("cannot open the database in %s: %v", dir, trimOrigin(err))
	}
	defer func() { src.Close() }()
	if err := pgstore.CheckEmpty(ctx, dbURL); err != nil {
		return fmt.Errorf("%s; nothing was changed", trimPG(err))
	}
	// A file of an older posd is upgraded first, as serve would upgrade it
	// at its next start (the file as it was is kept beside it): its
	// documents linked into hash chains, its refunds listed per location.
	// PostgreSQL's schema has both from its first version, and the copy
	// must be the source, hashes included.
	if v, err := src.SchemaVersion(); err != nil {
		return fmt.Errorf("cannot read the database in %s: %v", dir, trimOrigin(err))
	} else if v < boltstore.SchemaVersion {
		src.Close()
		if err := upgradeSource(ctx, path, stdout); err != nil {
			return err
		}
		if src, err = boltstore.Open(path, boltstore.Options{ReadOnly: true, LockTimeout: 500 * time.Millisecond}); err != nil {
			return fmt.Errorf("cannot open the database in %s: %v", dir, trimOrigin(err))
		}
	}
	dst, err := pgstore.Open(ctx, dbURL, pgstore.Options{})
	if err != nil {
		return fmt.Errorf("%s", trimPG(err))
	}
	defer dst.Close()
	fmt.Fprintf(stdout, "Copying %s into PostgreSQL database %s (one transaction) …\n", path, dst.Target())
	start := time.Now()
	figs, err := dst.Import(ctx, src, func(s string) { fmt.Fprintln(stdout, "  "+s) })
	if err != nil {
		return fmt.Errorf("copying failed, the PostgreSQL database was left empty: %s", trimPG(err))
	}
	copied := time.Since(start)
	fmt.Fprintf(stdout, "Copied %s in %s.\n", figs, copied.Round(time.Millisecond))
	if err := compareStores(ctx, src, dst, stdout); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "\nThe shop now runs on PostgreSQL: start posd with --database (the same URL) on every machine that serves it, e.g.\n\n    posd serve --data-dir %s --database 'postgres://…' --listen :8080\n\n", dir)
	fmt.Fprintf(stdout, "%s is left as it was: keep it until posd runs fine on PostgreSQL, and do not serve from it again (sales written there would not reach PostgreSQL).\n", path)
	return nil
}

// upgradeSource upgrades the embedded database at path to this posd's
// schema and links its documents into hash chains, as serve does when it
// starts on a file of an older posd.
func upgradeSource(ctx context.Context, path string, stdout io.Writer) error {
	st, err := boltstore.Open(path, boltstore.Options{LockTimeout: 500 * time.Millisecond})
	if errors.Is(err, boltstore.ErrLocked) {
		return fmt.Errorf("posd is running on %s: stop it first; nothing was changed", filepath.Dir(path))
	}
	if err != nil {
		return fmt.Errorf("cannot open %s to upgrade it: %v", path, trimOrigin(err))
	}
	up, err := engine.NewService(st).UpgradeChains(ctx)
	if err != nil {
		st.Close()
		return fmt.Errorf("cannot link the documents of %s into hash chains (the PostgreSQL database was not changed): %v", path, trimOrigin(err))
	}
	fmt.Fprintf(stdout, "%s was written by an older posd: upgraded it first, as posd serve does", path)
	if up.Documents > 0 {
		fmt.Fprintf(stdout, " (its %d documents in %d series linked into hash chains in %s)", up.Documents, up.Series, up.Took.Round(time.Millisecond))
	}
	fmt.Fprintln(stdout, ".")
	if b := st.UpgradeBackup(); b != "" {
		fmt.Fprintf(stdout, "The database as it was before is kept as %s.\n", b)
	}
	return st.Close()
}

func migrateFrom(ctx context.Context, dbURL, dir string, stdout io.Writer) error {
	path := filepath.Join(dir, dbFile)
	if _, err := os.Stat(path); err == nil {
		return fmt.Errorf("%s already holds a database (%s): migrate copies only into a data dir without one; give another --data-dir, nothing was changed", dir, path)
	} else if !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	src, err := pgstore.Open(ctx, dbURL, pgstore.Options{ReadOnly: true, ApplicationName: "posd migrate"})
	if err != nil {
		return fmt.Errorf("%s", trimPG(err))
	}
	defer src.Close()
	// A posd that just stopped leaves its connections for a moment (the
	// server ends a session after its client has gone).
	n, err := src.OtherPosdConnections(ctx)
	for wait := time.Now().Add(3 * time.Second); err == nil && n > 0 && time.Now().Before(wait); n, err = src.OtherPosdConnections(ctx) {
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil {
		return fmt.Errorf("%s", trimPG(err))
	} else if n > 0 {
		return fmt.Errorf("%d connection(s) of a posd serving %s are open: stop every posd on it first, so that no sale is written after the copy began; nothing was changed", n, src.Target())
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("cannot create data directory %s: %v", dir, err)
	}
	tmp := filepath.Join(dir, fmt.Sprintf(".%s.migrating-%d", dbFile, os.Getpid()))
	os.Remove(tmp)
	defer os.Remove(tmp)
	dst, err := boltstore.Open(tmp, boltstore.Options{})
	if err != nil {
		return err
	}
	closed := false
	defer func() {
		if !closed {
			dst.Close()
		}
	}()
	fmt.Fprintf(stdout, "Copying PostgreSQL database %s (one snapshot) into %s …\n", src.Target(), path)
	start := time.Now()
	figs, err := storecopy.Copy(ctx, src, dst, 5000, func(s string) { fmt.Fprintln(stdout, "  "+s) })
	if err != nil {
		return fmt.Errorf("copying failed, %s was not written: %s", path, trimPG(err))
	}
	fmt.Fprintf(stdout, "Copied %s in %s.\n", figs, time.Since(start).Round(time.Millisecond))
	if err := compareStores(ctx, src, dst, stdout); err != nil {
		return err
	}
	closed = true
	if err := dst.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
	fmt.Fprintf(stdout, "\nThe shop's database is now %s: start posd without --database, e.g.\n\n    posd serve --data-dir %s --listen :8080\n\n", path, dir)
	fmt.Fprintf(stdout, "The PostgreSQL database is left as it was; do not serve from it again (sales written there would not reach %s).\n", path)
	return nil
}

// compareStores walks both stores again and reports whether they hold the
// same; any difference is the command's failure.
func compareStores(ctx context.Context, src, dst engine.Store, stdout io.Writer) error {
	start := time.Now()
	rep, err := storecopy.Compare(ctx, src, dst)
	if err != nil {
		return fmt.Errorf("comparing the copy with its source failed: %s", trimPG(err))
	}
	fmt.Fprintf(stdout, "Compared source and target object by object in %s:\n", time.Since(start).Round(time.Millisecond))
	for _, k := range rep.Kinds() {
		c := rep.Counts[k]
		mark := "same"
		if c[0] != c[1] {
			mark = "DIFFERENT"
		}
		fmt.Fprintf(stdout, "  %-20s %10d in the source, %10d in the target  %s\n", k, c[0], c[1], mark)
	}
	if rep.Same() {
		fmt.Fprintln(stdout, "Source and target hold the same documents (with their hashes), numbers, chain heads, movements, stock, series and idempotency records.")
		return nil
	}
	for _, f := range rep.Findings {
		fmt.Fprintf(stdout, "  - %s\n", f)
	}
	if rep.Omitted > 0 {
		fmt.Fprintf(stdout, "  - … and %d more\n", rep.Omitted)
	}
	return fmt.Errorf("the copy differs from its source in %d place(s); see above", len(rep.Findings)+rep.Omitted)
}

// trimPG drops the package prefix from an error meant for a person.
func trimPG(err error) string {
	s := err.Error()
	for _, p := range []string{"pgstore: ", "boltstore: "} {
		if len(s) > len(p) && s[:len(p)] == p {
			s = s[len(p):]
		}
	}
	return s
}
