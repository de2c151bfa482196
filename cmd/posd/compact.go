package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"time"

	"posd/engine"
	"posd/engine/boltstore"
)

// runCompact rewrites the database without its free pages, offline. bbolt
// never gives freed pages back to the file system, so a database that once
// held much more (swept idempotency answers) keeps its size; compacting
// shrinks it. The new file is checked and compared with the old before it
// replaces it.
func runCompact(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("compact", "--data-dir DIR [--keep-old]", stdout)
	dir := fs.String("data-dir", defaultDataDir(), "data directory")
	keepOld := fs.Bool("keep-old", false, "keep the uncompacted file beside the new one as pre-compact-<time>.db")
	if err := parse(fs, args); err != nil {
		return err
	}
	abs, err := filepath.Abs(*dir)
	if err != nil {
		return err
	}
	path := filepath.Join(abs, dbFile)
	before, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("no posd database in %s", abs)
	}
	tmp := path + ".compact-tmp"
	os.Remove(tmp)
	start := time.Now()
	if err := boltstore.Compact(path, tmp, time.Second); err != nil {
		os.Remove(tmp)
		if errors.Is(err, boltstore.ErrLocked) {
			return fmt.Errorf("posd is running on data dir %s; compacting needs it stopped (posd service stop, or Ctrl-C)", abs)
		}
		return fmt.Errorf("%s", trimOrigin(err))
	}
	if err := sameContent(ctx, path, tmp); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("the compacted copy was not kept: %v; the database is unchanged", err)
	}
	old := filepath.Join(abs, "pre-compact-"+time.Now().UTC().Format("20060102T150405Z")+".db")
	if err := os.Rename(path, old); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Rename(old, path)
		return err
	}
	if err := syncDir(abs); err != nil {
		return err
	}
	after, _ := os.Stat(path)
	fmt.Fprintf(stdout, "Compacted %s: %d → %d bytes in %s.\n", path, before.Size(), after.Size(), time.Since(start).Round(time.Millisecond))
	if *keepOld {
		fmt.Fprintf(stdout, "The old file is kept as %s.\n", old)
	} else if err := os.Remove(old); err != nil {
		return err
	}
	return nil
}

// sameContent checks the compacted copy: sound structure, no findings, and
// the same documents and numbers as the original.
func sameContent(ctx context.Context, orig, copy string) error {
	figures := func(path string) ([]engine.BusinessFigures, error) {
		db, err := openReadOnly(path)
		if err != nil {
			return nil, err
		}
		defer db.Close()
		if errs := db.CheckIntegrity(ctx); len(errs) > 0 {
			return nil, fmt.Errorf("storage check of %s: %v", path, errors.Join(errs...))
		}
		rep, err := engine.NewService(db).Verify(ctx)
		if err != nil {
			return nil, err
		}
		return rep.Businesses, nil
	}
	a, err := figures(orig)
	if err != nil {
		return err
	}
	b, err := figures(copy)
	if err != nil {
		return err
	}
	if len(a) != len(b) {
		return fmt.Errorf("the copy has %d businesses, the original %d", len(b), len(a))
	}
	for i := range a {
		if a[i].ID != b[i].ID || a[i].Counts != b[i].Counts || !maps.Equal(a[i].Series, b[i].Series) {
			return fmt.Errorf("business %s differs in the copy", a[i].ID)
		}
	}
	return nil
}

// syncDir makes renames in dir durable (Windows journals them itself).
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
