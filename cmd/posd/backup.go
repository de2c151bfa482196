package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"posd/backup"
	"posd/engine"
	"posd/engine/boltstore"
)

// runBackup writes a verified backup of the database in --data-dir to
// --out: straight from the file when no posd is running, or through the
// running posd's local endpoint when it holds the database.
func runBackup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("backup", "--data-dir DIR | --database URL, --out FILE", stdout)
	dir := fs.String("data-dir", defaultDataDir(), "data directory")
	dbURL := addDatabaseFlag(fs)
	out := fs.String("out", "", "backup file to write (its manifest goes beside it as FILE.manifest.json)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *out == "" {
		return usageError{"--out FILE is required"}
	}
	if st, err := os.Stat(*out); err == nil && st.IsDir() {
		return usageError{fmt.Sprintf("--out %s is a folder; give a file name in it, e.g. %s", *out, filepath.Join(*out, "posd-"+time.Now().Format("2006-01-02")+".db"))}
	}
	var src backup.Source
	var how string
	var closeSrc func()
	var err error
	if *dbURL != "" {
		// One REPEATABLE READ transaction, copied into the embedded
		// format: the backup is a file any posd verifies and restores.
		if err := checkDatabaseURL(*dbURL); err != nil {
			return err
		}
		pg, err := openPG(ctx, *dbURL, true, "posd backup")
		if err != nil {
			return err
		}
		src, how, closeSrc = func(ctx context.Context, w io.Writer) (int64, error) { return pgSnapshot(ctx, pg, w) },
			"from PostgreSQL database "+pg.Target()+" (one snapshot, in the embedded format)", func() { pg.Close() }
	} else if src, how, closeSrc, err = snapshotSource(*dir); err != nil {
		return err
	}
	defer closeSrc()
	start := time.Now()
	m, err := backupConfig().Take(ctx, src, *out, false)
	if err != nil {
		return err
	}
	abs, _ := filepath.Abs(*out)
	fmt.Fprintf(stdout, "Backup written %s: %s (%d bytes, sha256 %s), verified, in %s.\n", how, abs, m.Size, m.SHA256, time.Since(start).Round(time.Millisecond))
	fmt.Fprintf(stdout, "Manifest: %s\n", backup.ManifestPath(abs))
	printFigures(stdout, m.Businesses)
	return nil
}

// snapshotSource returns where a snapshot of dir's database comes from:
// the file itself (opened read-only, so it is released at once for a
// starting serve) or the running posd.
func snapshotSource(dir string) (backup.Source, string, func(), error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, "", nil, err
	}
	path := filepath.Join(abs, dbFile)
	if _, err := os.Stat(path); err != nil {
		return nil, "", nil, fmt.Errorf("no posd database in %s", abs)
	}
	st, err := boltstore.Open(path, boltstore.Options{ReadOnly: true, LockTimeout: 500 * time.Millisecond})
	if errors.Is(err, boltstore.ErrLocked) {
		src, err := remoteSource(abs)
		if err != nil {
			return nil, "", nil, err
		}
		return src, "through the running posd", func() {}, nil
	}
	if err != nil {
		return nil, "", nil, fmt.Errorf("cannot open the database in %s: %v", abs, trimOrigin(err))
	}
	return st.Snapshot, "from " + path, func() { st.Close() }, nil
}

// printFigures prints what a backup holds, business by business.
func printFigures(w io.Writer, figs []engine.BusinessFigures) {
	for _, b := range figs {
		c := b.Counts
		fmt.Fprintf(w, "  %s (%s): %d sales, %d refunds, %d receipts, %d transfers", b.Name, b.ID, c.Sales, c.Returns, c.Receipts, c.Transfers)
		series := make([]string, 0, len(b.Series))
		for s := range b.Series {
			series = append(series, string(s))
		}
		slices.Sort(series)
		if n := len(series); n > 0 {
			// The newest month of each kind is what an owner compares
			// with the till.
			last := map[string]string{}
			for _, s := range series {
				kind, _, _ := strings.Cut(s, "-")
				last[kind] = fmt.Sprintf("%s-%04d", s, b.Series[engine.Series(s)])
			}
			var parts []string
			for _, k := range []string{"INV", "RET", "RCV", "TRF"} {
				if v, ok := last[k]; ok {
					parts = append(parts, v)
				}
			}
			fmt.Fprintf(w, "; last numbers %s", strings.Join(parts, ", "))
		}
		fmt.Fprintln(w)
	}
}

// trimOrigin drops a package prefix from an error meant for a person.
func trimOrigin(err error) string {
	s := err.Error()
	for _, p := range []string{"boltstore: ", "backup: "} {
		s = strings.TrimPrefix(s, p)
	}
	return s
}
