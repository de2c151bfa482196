package backup

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"posd/engine"
)

// Source writes a consistent snapshot of a live database to w and returns
// the bytes written: the store's own Snapshot method, or a download from
// the running posd.
type Source func(ctx context.Context, w io.Writer) (int64, error)

// Snapshotter is a live database that can copy itself consistently while
// it keeps taking writes (engine/boltstore.Store is one).
type Snapshotter interface {
	Snapshot(ctx context.Context, w io.Writer) (int64, error)
}

// Database is a database file opened read-only for checking.
type Database interface {
	engine.Store
	// CheckIntegrity checks the file's storage structure and returns what
	// it found; nil means sound.
	CheckIntegrity(ctx context.Context) []error
	// SchemaVersion is the schema the file was written with.
	SchemaVersion() (int, error)
}

// Opener opens a database file read-only. It must refuse a file with a
// schema newer than the running posd knows.
type Opener func(path string) (Database, error)

// Config is what the package needs from the program: how to open a file,
// and what to write into manifests.
type Config struct {
	Open Opener
	// Schema is the newest schema version this posd reads and writes.
	Schema int
	// Version is the posd version recorded in manifests.
	Version string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// ChainsSince is the first schema whose documents are chained by hash:
	// an older file is reported as not chained yet rather than failing.
	ChainsSince int
	// Anchors are series heads kept outside the database (the manifests of
	// exports, printed Z reports) that verification checks the chains
	// against.
	Anchors []engine.Anchor
}

func (c Config) now() time.Time {
	if c.Now != nil {
		return c.Now().UTC()
	}
	return time.Now().UTC()
}

// ErrVerify is returned (wrapped) when a backup or a snapshot does not pass
// verification.
var ErrVerify = errors.New("backup: verification failed")

// InvariantError reports a snapshot that was copied faithfully but whose
// content breaks the domain invariants: the live database itself needs
// attention. It wraps ErrVerify.
type InvariantError struct {
	Findings, Duplicates int
	First                string
}

func (e *InvariantError) Error() string {
	return fmt.Sprintf("%v: the database itself breaks its invariants (%d findings; first: %s); run posd verify --data-dir", ErrVerify, e.Findings, e.First)
}

// Unwrap makes errors.Is(err, ErrVerify) hold.
func (e *InvariantError) Unwrap() error { return ErrVerify }

// Take writes a backup of src to out: into a temporary file in out's folder,
// synced, read back and hashed, opened read-only and verified (storage
// structure and domain invariants), then renamed into place beside its
// manifest. out is replaced only by a backup that verified. The file is
// mode 0600: it holds every sale and the token hashes.
func (c Config) Take(ctx context.Context, src Source, out string, automatic bool) (*Manifest, error) {
	out, err := filepath.Abs(out)
	if err != nil {
		return nil, err
	}
	dir := filepath.Dir(out)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("backup: cannot create %s: %v", dir, err)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(out)+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("backup: cannot write in %s: %v", dir, err)
	}
	tmpName := tmp.Name()
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmpName)
			os.Remove(ManifestPath(tmpName))
		}
	}()
	if err := tmp.Chmod(0o600); err != nil {
		return nil, err
	}
	created := c.now()
	h := sha256.New()
	bw := bufio.NewWriterSize(io.MultiWriter(SyncWriter(tmp), h), 1<<20)
	n, err := src(ctx, bw)
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		return nil, fmt.Errorf("backup: snapshot: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return nil, fmt.Errorf("backup: sync %s: %v", tmpName, err)
	}
	if err := tmp.Close(); err != nil {
		return nil, err
	}
	sum := hex.EncodeToString(h.Sum(nil))
	// Read back what reached the disk: a copy that differs from what was
	// sent is never opened, let alone kept.
	if got, size, err := hashFile(tmpName); err != nil {
		return nil, err
	} else if got != sum || size != n {
		return nil, fmt.Errorf("%w: the file on disk differs from the snapshot (%d bytes, sha256 %s; wrote %d bytes, sha256 %s); is the disk failing?", ErrVerify, size, got, n, sum)
	}
	figures, schema, err := c.check(ctx, tmpName)
	if err != nil {
		return nil, err
	}
	// Verified: the copy's pages need not stay in the page cache, where
	// they would push out the live database's.
	if f, err := os.Open(tmpName); err == nil {
		dropCache(f, n)
		f.Close()
	}
	m := &Manifest{Format: Format, FormatVersion: FormatVersion, SchemaVersion: schema, CreatedAt: created.Truncate(time.Second),
		Automatic: automatic, PosdVersion: c.Version, File: filepath.Base(out), Size: n, SHA256: sum, Businesses: figures}
	if err := writeFileSync(ManifestPath(tmpName), m); err != nil {
		return nil, err
	}
	if err := os.Rename(tmpName, out); err != nil {
		return nil, err
	}
	if err := os.Rename(ManifestPath(tmpName), ManifestPath(out)); err != nil {
		return nil, err
	}
	done = true
	if err := syncDir(dir); err != nil {
		return nil, err
	}
	return m, nil
}

// check opens a freshly written copy and verifies it fully; any finding is
// an ErrVerify.
func (c Config) check(ctx context.Context, path string) ([]engine.BusinessFigures, int, error) {
	db, err := c.Open(path)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: the copy cannot be opened: %v", ErrVerify, err)
	}
	defer db.Close()
	if errs := db.CheckIntegrity(ctx); len(errs) > 0 {
		return nil, 0, fmt.Errorf("%w: storage check of the copy: %v", ErrVerify, errors.Join(errs...))
	}
	schema, err := db.SchemaVersion()
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %v", ErrVerify, err)
	}
	rep, err := engine.NewService(db).Verify(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %v", ErrVerify, err)
	}
	if n := rep.Findings(); n > 0 {
		var first string
		for _, ch := range rep.Checks {
			if len(ch.Findings) > 0 && first == "" {
				first = ch.Name + ": " + ch.Findings[0]
			}
		}
		return nil, 0, &InvariantError{Findings: n, Duplicates: rep.Duplicates, First: first}
	}
	return rep.Businesses, schema, nil
}

// hashFile returns the hex SHA-256 and the size of a file.
func hashFile(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, bufio.NewReaderSize(f, 1<<20))
	if err != nil {
		return "", n, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

// writeFileSync writes v as indented JSON to path, mode 0600, synced.
func writeFileSync(path string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
