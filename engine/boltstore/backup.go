package boltstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

// Snapshot writes a consistent copy of the whole database to w, from one
// read transaction (bbolt's Tx.WriteTo), and returns the bytes written.
// Writers go on committing meanwhile: bbolt keeps the pages the snapshot
// reads until it ends. The read transaction lasts as long as w takes, and
// a long one blocks a remap of a growing file (see initialMmapSize), so w
// should be a local file, never a network peer.
func (s *Store) Snapshot(ctx context.Context, w io.Writer) (int64, error) {
	var n int64
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		n, err = tx.WriteTo(ctxWriter{ctx, w})
		return err
	})
	if errors.Is(err, bolterrors.ErrDatabaseNotOpen) {
		return n, errClosed
	}
	return n, err
}

// ctxWriter stops a copy when its context ends.
type ctxWriter struct {
	ctx context.Context
	w   io.Writer
}

func (c ctxWriter) Write(p []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.w.Write(p)
}

// CheckIntegrity runs bbolt's consistency check (Tx.Check: every page
// reachable once, no page both free and in use, keys in order) and returns
// what it found; nil means the file's structure is sound. A damaged file
// can make bbolt panic or fault while walking it; that is reported as a
// finding too, not a crash.
func (s *Store) CheckIntegrity(ctx context.Context) (findings []error) {
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if p := recover(); p != nil {
			findings = append(findings, fmt.Errorf("the file is damaged: reading it failed (%v)", p))
		}
	}()
	err := s.db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			findings = append(findings, err)
			if ctx.Err() != nil {
				break
			}
		}
		schema := 0
		if meta := tx.Bucket([]byte(bMeta)); meta != nil {
			schema, _ = strconv.Atoi(string(meta.Get([]byte("schema"))))
		}
		for _, b := range allBuckets {
			if b == bChains && schema < ChainSchema {
				continue // older files have none yet
			}
			if tx.Bucket([]byte(b)) == nil {
				findings = append(findings, fmt.Errorf("bucket %q is missing", b))
			}
		}
		return nil
	})
	if err != nil {
		findings = append(findings, err)
	}
	if err := ctx.Err(); err != nil {
		findings = append(findings, err)
	}
	return findings
}

// SchemaVersion returns the schema version recorded in the file.
func (s *Store) SchemaVersion() (int, error) {
	var v int
	err := s.db.View(func(tx *bolt.Tx) error {
		meta := tx.Bucket([]byte(bMeta))
		if meta == nil {
			return errors.New("boltstore: not a posd database (no meta bucket)")
		}
		var err error
		v, err = strconv.Atoi(string(meta.Get([]byte("schema"))))
		if err != nil {
			return fmt.Errorf("boltstore: unreadable schema version %q", meta.Get([]byte("schema")))
		}
		return nil
	})
	return v, err
}

// Size returns the size of the database in bytes, as of now.
func (s *Store) Size() (int64, error) {
	var n int64
	err := s.db.View(func(tx *bolt.Tx) error { n = tx.Size(); return nil })
	if errors.Is(err, bolterrors.ErrDatabaseNotOpen) {
		return 0, errClosed
	}
	return n, err
}

// FreeBytes returns how much of the file is free pages: space that
// Compact would give back.
func (s *Store) FreeBytes() int64 {
	st := s.db.Stats()
	return int64(st.FreePageN+st.PendingPageN) * int64(s.db.Info().PageSize)
}

// Compact rewrites the database at src into a new file at dst with no free
// pages (bbolt's Compact), then syncs dst. src must not be in use: Compact
// takes its lock and fails with ErrLocked within lockTimeout otherwise.
// dst must not exist.
func Compact(src, dst string, lockTimeout time.Duration) error {
	if _, err := os.Stat(dst); err == nil {
		return fmt.Errorf("boltstore: compact: %s already exists", dst)
	}
	from, err := Open(src, Options{LockTimeout: lockTimeout})
	if err != nil {
		return err
	}
	defer from.Close()
	to, err := bolt.Open(dst, 0o600, &bolt.Options{Timeout: lockTimeout, FreelistType: bolt.FreelistMapType})
	if err != nil {
		return fmt.Errorf("boltstore: compact: %w", err)
	}
	if err := bolt.Compact(to, from.db, 64<<20); err != nil {
		to.Close()
		os.Remove(dst)
		return fmt.Errorf("boltstore: compact: %w", err)
	}
	if err := to.Sync(); err != nil {
		to.Close()
		return err
	}
	if err := to.Close(); err != nil {
		return err
	}
	return syncDir(filepath.Dir(dst))
}

// syncDir makes a new directory entry durable.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		// Windows cannot sync a directory; NTFS journals the rename.
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
