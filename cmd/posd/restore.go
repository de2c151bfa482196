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

	"posd/backup"
	"posd/engine/boltstore"
)

// runRestore replaces the database of --data-dir with a verified backup,
// keeping the current one beside it. It refuses while a posd serves the
// data directory: a running posd would go on writing into the old file.
func runRestore(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	flags := newFlags("restore", "--data-dir DIR FILE", stdout)
	dir := flags.String("data-dir", defaultDataDir(), "data directory whose database is replaced")
	file, err := parseWithFile(flags, args, true)
	if err != nil {
		return err
	}
	abs, err := filepath.Abs(*dir)
	if err != nil {
		return err
	}
	path := filepath.Join(abs, dbFile)
	inUse := func() error {
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			return nil // a fresh data directory
		}
		st, err := boltstore.Open(path, boltstore.Options{LockTimeout: time.Second})
		switch {
		case errors.Is(err, boltstore.ErrLocked):
			return fmt.Errorf("%w: posd is running on data dir %s; stop it first (posd service stop, or Ctrl-C), then restore; nothing was changed", backup.ErrInUse, abs)
		case errors.Is(err, boltstore.ErrNewerSchema):
			return nil // not in use: the lock was free when the schema was read
		case err != nil:
			return nil // a damaged current database is no reason to refuse its replacement
		}
		return st.Close()
	}
	res, err := backupConfig().Restore(ctx, file, path, inUse)
	if res != nil && res.Report != nil {
		printReport(stdout, res.Report)
	}
	if err != nil {
		return fmt.Errorf("%s", trimOrigin(err))
	}
	fmt.Fprintf(stdout, "Restored %s into %s.\n", file, path)
	if res.Previous != "" {
		fmt.Fprintf(stdout, "The previous database is kept as %s (delete it once posd runs fine).\n", res.Previous)
	}
	printFigures(stdout, res.Report.Businesses)
	fmt.Fprintf(stdout, "Start posd again; numbering goes on from the restored state.\n")
	return nil
}
