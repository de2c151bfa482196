package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"posd/engine"
	"posd/engine/boltstore"
)

// runExport writes the accountant's export of a range of days into a
// folder: the CSV files and manifest.json of contract §7. Like backup, it
// works while serve runs: it then exports from a snapshot taken through the
// running posd. With --database it exports from PostgreSQL, in one
// REPEATABLE READ transaction, while any number of posd serve on it.
func runExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("export", "--data-dir DIR | --database URL, --from YYYY-MM-DD --to YYYY-MM-DD --out OUTDIR [--business ID]", stdout)
	dir := fs.String("data-dir", defaultDataDir(), "data directory")
	dbURL := addDatabaseFlag(fs)
	from := fs.String("from", "", "first day to export (YYYY-MM-DD, in the business's time zone)")
	to := fs.String("to", "", "last day to export, included")
	out := fs.String("out", "", "folder to write the files into (made if missing; files of an earlier export there are replaced)")
	bizID := fs.String("business", "", "business ID (needed when the database holds more than one)")
	if err := parse(fs, args); err != nil {
		return err
	}
	switch {
	case *from == "" || *to == "":
		return usageError{"--from and --to are required (days such as 2026-11-01 and 2026-11-30)"}
	case *out == "":
		return usageError{"--out OUTDIR is required"}
	}
	if err := checkDatabaseURL(*dbURL); err != nil {
		return err
	}
	var st engine.Store
	var how string
	var done func()
	var err error
	if *dbURL != "" {
		pg, perr := openPG(ctx, *dbURL, true, "posd export")
		if perr != nil {
			return perr
		}
		st, how, done = pg, "from PostgreSQL database "+pg.Target(), func() { pg.Close() }
	} else if st, how, done, err = readStore(ctx, *dir, stdout); err != nil {
		return err
	}
	defer done()
	svc := engine.NewService(st)
	biz, err := chooseBusiness(ctx, svc, *bizID)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(*out, 0o700); err != nil {
		return err
	}
	abs, _ := filepath.Abs(*out)
	var written []string
	create := func(name string) (io.WriteCloser, error) {
		f, err := newExportFile(filepath.Join(abs, name))
		if err == nil {
			written = append(written, f.path)
		}
		return f, err
	}
	m, err := svc.Export(ctx, engine.ExportRequest{BusinessID: biz.ID, From: *from, To: *to, Version: versionString()}, create)
	if err != nil {
		for _, p := range written {
			os.Remove(p + ".tmp")
		}
		var e *engine.Error
		if errors.As(err, &e) && e.Code == engine.EINVALID {
			return usageError{"--" + e.Message}
		}
		return err
	}
	// Every file was written and synced; now they replace an earlier
	// export's, the manifest last.
	for _, p := range written {
		if err := os.Rename(p+".tmp", p); err != nil {
			return err
		}
	}
	if err := syncDir(abs); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Exported %s (%s) %s to %s %s into %s:\n", biz.Name, biz.ID, *from, *to, how, abs)
	for _, f := range m.Files {
		fmt.Fprintf(stdout, "  %-20s %6d rows  sha256 %s\n", f.Name, f.Rows, f.SHA256)
	}
	for _, s := range m.Series {
		docs := "documents"
		if s.Count == 1 {
			docs = "document"
		}
		fmt.Fprintf(stdout, "  %s: %s to %s (%d %s), head hash %s\n", s.Series,
			engine.FormatNumber(s.Series, s.First), engine.FormatNumber(s.Series, s.Last), s.Count, docs, s.HeadHash)
	}
	for _, t := range m.Totals {
		fmt.Fprintf(stdout, "  tax rate %s%%: gross %s, tax %s, net %s %s\n", t.TaxRate, t.Gross, t.Tax, t.Net, biz.Currency)
	}
	fmt.Fprintln(stdout, "Keep manifest.json somewhere other than this machine: posd verify --anchor manifest.json proves later that these documents are unchanged.")
	return nil
}

// readStore opens dir's database for reading: the file itself, read-only,
// when no posd runs there; else a snapshot taken through the running posd
// into a temporary file, removed by done.
func readStore(ctx context.Context, dir string, stdout io.Writer) (engine.Store, string, func(), error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, "", nil, err
	}
	path := filepath.Join(abs, dbFile)
	if _, err := os.Stat(path); err != nil {
		return nil, "", nil, fmt.Errorf("no posd database in %s", abs)
	}
	st, err := boltstore.Open(path, boltstore.Options{ReadOnly: true, LockTimeout: 500 * time.Millisecond})
	if err == nil {
		return st, "from " + path, func() { st.Close() }, nil
	}
	if !errors.Is(err, boltstore.ErrLocked) {
		return nil, "", nil, fmt.Errorf("cannot open the database in %s: %v", abs, trimOrigin(err))
	}
	src, err := remoteSource(abs)
	if err != nil {
		return nil, "", nil, err
	}
	tmp, err := os.CreateTemp(abs, ".export-*.db")
	if err != nil {
		return nil, "", nil, err
	}
	cleanup := func() { tmp.Close(); os.Remove(tmp.Name()) }
	bw := bufio.NewWriterSize(tmp, 1<<20)
	if _, err := src(ctx, bw); err != nil {
		cleanup()
		return nil, "", nil, err
	}
	if err := bw.Flush(); err != nil {
		cleanup()
		return nil, "", nil, err
	}
	if err := tmp.Close(); err != nil {
		cleanup()
		return nil, "", nil, err
	}
	st, err = boltstore.Open(tmp.Name(), boltstore.Options{ReadOnly: true})
	if err != nil {
		cleanup()
		return nil, "", nil, fmt.Errorf("the snapshot taken through the running posd cannot be opened: %v", trimOrigin(err))
	}
	fmt.Fprintf(stdout, "posd is running on %s: exporting from a snapshot taken through it.\n", abs)
	return st, "through the running posd", func() { st.Close(); cleanup() }, nil
}

// chooseBusiness returns the business id names, or the only one.
func chooseBusiness(ctx context.Context, svc *engine.Service, id string) (*engine.Business, error) {
	bizs, err := svc.Businesses(ctx)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, b := range bizs {
		if b.ID == id || (id == "" && len(bizs) == 1) {
			return b, nil
		}
		ids = append(ids, fmt.Sprintf("%s (%s)", b.ID, b.Name))
	}
	if len(bizs) == 0 {
		return nil, errors.New("the database holds no business")
	}
	if id != "" {
		return nil, usageError{fmt.Sprintf("no business %s in the database; it holds %s", id, strings.Join(ids, ", "))}
	}
	return nil, usageError{"choose a business with --business: " + strings.Join(ids, ", ")}
}

// exportFile is one export file, written beside its final name and synced
// on close.
type exportFile struct {
	path string
	f    *os.File
	w    *bufio.Writer
}

func newExportFile(path string) (*exportFile, error) {
	f, err := os.OpenFile(path+".tmp", os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, err
	}
	return &exportFile{path: path, f: f, w: bufio.NewWriterSize(f, 256<<10)}, nil
}

func (e *exportFile) Write(p []byte) (int, error) { return e.w.Write(p) }

func (e *exportFile) Close() error {
	err := e.w.Flush()
	if err == nil {
		err = e.f.Sync()
	}
	if cerr := e.f.Close(); err == nil {
		err = cerr
	}
	return err
}
