package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"time"

	"posd/backup"
	"posd/engine"
	"posd/engine/boltstore"
)

// runVerify checks a backup file or the database of a data directory and
// prints every check and every finding; any finding is a failure.
func runVerify(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("verify", "FILE | --data-dir DIR | --database URL [--anchor MANIFEST]...", stdout)
	dir := fs.String("data-dir", "", "verify the database of this data directory (through the running posd if it holds it)")
	dbURL := fs.String("database", "", "verify this PostgreSQL database (postgres://…), while posd serves on it or not")
	var anchorFiles []string
	fs.Func("anchor", "an export's manifest.json (or a folder holding some) whose series heads the chains must still match; repeatable", func(v string) error {
		anchorFiles = append(anchorFiles, v)
		return nil
	})
	file, err := parseWithFile(fs, args, false)
	if err != nil {
		return err
	}
	if n := btoi(file != "") + btoi(*dir != "") + btoi(*dbURL != ""); n != 1 {
		return usageError{"give one of a backup FILE, --data-dir DIR or --database URL"}
	}
	if err := checkDatabaseURL(*dbURL); err != nil {
		return err
	}
	cfg := backupConfig()
	for _, f := range anchorFiles {
		as, err := loadAnchors(f)
		if err != nil {
			return err
		}
		cfg.Anchors = append(cfg.Anchors, as...)
	}
	start := time.Now()
	var rep *backup.Report
	if file != "" {
		if rep, err = cfg.VerifyFile(ctx, file); err != nil {
			return fmt.Errorf("cannot read %s: %v", file, err)
		}
	} else if *dbURL != "" {
		if rep, err = verifyPG(ctx, cfg, *dbURL); err != nil {
			return err
		}
	} else if rep, err = verifyDataDir(ctx, cfg, *dir, stdout); err != nil {
		return err
	}
	printReport(stdout, rep)
	if n := rep.Findings(); n > 0 {
		return fmt.Errorf("%d finding(s) in %s; see above", n, rep.File)
	}
	fmt.Fprintf(stdout, "All checks passed (%s).\n", time.Since(start).Round(time.Millisecond))
	return nil
}

// verifyDataDir checks the database of dir: opened read-only when no posd
// runs there, or a snapshot taken through the running posd.
func verifyDataDir(ctx context.Context, cfg backup.Config, dir string, stdout io.Writer) (*backup.Report, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(abs, dbFile)
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("no posd database in %s", abs)
	}
	st, err := boltstore.Open(path, boltstore.Options{ReadOnly: true, LockTimeout: 500 * time.Millisecond})
	if err == nil {
		defer st.Close()
		return cfg.VerifyDatabase(ctx, st, path), nil
	}
	if !errors.Is(err, boltstore.ErrLocked) {
		rep := &backup.Report{File: path}
		rep.Checks = append(rep.Checks, storageFinding("the database cannot be opened: "+trimOrigin(err)))
		return rep, nil
	}
	src, err := remoteSource(abs)
	if err != nil {
		return nil, err
	}
	tmp, err := os.CreateTemp(abs, ".verify-*.db")
	if err != nil {
		return nil, err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	fmt.Fprintf(stdout, "posd is running on %s: checking a snapshot taken through it.\n", abs)
	bw := bufio.NewWriterSize(backup.SyncWriter(tmp), 1<<20)
	if _, err := src(ctx, bw); err != nil {
		return nil, err
	}
	if err := bw.Flush(); err != nil {
		return nil, err
	}
	if err := tmp.Close(); err != nil {
		return nil, err
	}
	rep, err := cfg.VerifyFile(ctx, tmp.Name())
	if err != nil {
		return nil, err
	}
	// A snapshot has no manifest; saying so would only confuse.
	rep.Checks = slices.DeleteFunc(rep.Checks, func(c *engine.Check) bool { return c.Name == backup.CheckManifest })
	rep.File = path + " (snapshot)"
	return rep, nil
}

// storageFinding is a failed storage check with one finding.
func storageFinding(msg string) *engine.Check {
	return &engine.Check{Name: backup.CheckStorage, Findings: []string{msg}}
}

// printReport prints each check and each finding.
func printReport(w io.Writer, rep *backup.Report) {
	fmt.Fprintf(w, "Verifying %s\n", rep.File)
	for _, c := range rep.Checks {
		mark := "ok  "
		if c.Failed() {
			mark = "FAIL"
		}
		line := "  " + mark + "  " + c.Name
		if c.Detail != "" {
			line += ": " + c.Detail
		}
		fmt.Fprintln(w, line)
		for _, f := range c.Findings {
			fmt.Fprintf(w, "          - %s\n", f)
		}
		if c.Omitted > 0 {
			fmt.Fprintf(w, "          - … and %d more\n", c.Omitted)
		}
	}
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// loadAnchors reads the anchors of an export's manifest, or of every
// manifest.json in a folder and the folders below it.
func loadAnchors(path string) ([]engine.Anchor, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("--anchor: %v", err)
	}
	var files []string
	if st.IsDir() {
		err = filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && d.Name() == engine.ExportManifestName {
				files = append(files, p)
			}
			return err
		})
		if err != nil {
			return nil, fmt.Errorf("--anchor: %v", err)
		}
		if len(files) == 0 {
			return nil, fmt.Errorf("--anchor: no %s in %s or below it", engine.ExportManifestName, path)
		}
	} else {
		files = []string{path}
	}
	var out []engine.Anchor
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("--anchor: %v", err)
		}
		var m engine.ExportManifest
		if err := json.Unmarshal(b, &m); err != nil || m.Format != engine.ExportFormat || m.Business.ID == "" {
			return nil, fmt.Errorf("--anchor: %s is not the manifest.json of a posd export", f)
		}
		abs, _ := filepath.Abs(f)
		out = append(out, m.Anchors(fmt.Sprintf("the manifest of the export of %s to %s (%s)", m.From, m.To, abs))...)
	}
	return out, nil
}
