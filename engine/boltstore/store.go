package boltstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"posd/engine"
)

// SchemaVersion is the version of the bucket layout this code writes; doc.go
// says what each version changed. A database with a newer version is
// refused rather than misread; an older one is read as it is, and marked
// with this version when it is opened for writing, so that an older posd
// refuses it instead of misreading the new values.
const SchemaVersion = 6

// ChainSchema is the first schema whose numbered documents are chained by
// hash (engine/chain.go). Opening an older file that holds documents for
// writing first copies it beside itself (UpgradeBackup), then marks it;
// engine.Service.UpgradeChains then links its documents, in number order.
const ChainSchema = 5

// CloseSchema is the first schema with the day's close (cashiers, shifts, Z
// reports; close.go). Opening an older file that holds documents for
// writing first copies it beside itself, then lists its refunds where Z
// reports find them (ret_loc), once.
const CloseSchema = 6

// ErrLocked is returned by Open when another process holds the database.
var ErrLocked = errors.New("boltstore: database is in use by another process")

// ErrNewerSchema is returned by Open for a database written by a newer posd.
var ErrNewerSchema = errors.New("boltstore: database schema is newer than this posd")

// Options tune Open.
type Options struct {
	// LockTimeout is how long to wait for another process to release the
	// database before failing with ErrLocked. Default 2s.
	LockTimeout time.Duration
	// MaxBatch caps how many operations share one commit. Default 512.
	MaxBatch int
	// ReadOnly opens the database for reading only (verify, backup).
	ReadOnly bool
	// Logger receives operational messages. Default slog.Default().
	Logger *slog.Logger
}

// Store is the bbolt implementation of engine.Store.
//
// Writes are serialised through one writer goroutine that practises group
// commit without a timer: it takes the first waiting operation, then every
// other operation already waiting (up to MaxBatch), runs them one after the
// other in a single bbolt transaction, commits with fsync, and only then
// answers all of them. A lone till is served at once; under load, operations
// that arrive during one fsync share the next one. Each operation writes
// through its own overlay (see txn), so one that fails is simply dropped:
// the others are neither rolled back nor run again.
type Store struct {
	db       *bolt.DB
	log      *slog.Logger
	maxBatch int
	queue    chan *request
	mu       sync.RWMutex // guards closed against sends on queue
	closed   bool
	done     chan struct{}
	stats    Stats
	statsMu  sync.Mutex
	// cache belongs to the writer goroutine.
	cache *objCache
	// cursors are the writer's lookup cursors, a bucket's for every
	// operation of a group (txn.lookup); emptied with each group's bbolt
	// transaction.
	cursors map[string]*bolt.Cursor
	// upgradeBackup is the copy of the file taken before this Open
	// upgraded an older schema, "" if none was needed.
	upgradeBackup string
	// tokens serves read transactions; tokensWritten tells the writer
	// that the current group wrote a token.
	tokens        *tokenCache
	tokensWritten bool
}

// Stats reports what the writer has done, for health and benchmarks.
type Stats struct {
	Commits    uint64 // physical transactions committed
	Operations uint64 // operations applied in them
	Failed     uint64 // operations that returned an error
	MaxBatch   int    // largest group seen
	// CommitErrors counts transactions whose commit failed.
	CommitErrors uint64
}

type request struct {
	ctx  context.Context
	fn   func(*txn) error
	err  error
	done chan struct{}
}

// Open opens or creates the database file at path.
func Open(path string, o Options) (*Store, error) {
	if o.LockTimeout == 0 {
		o.LockTimeout = 2 * time.Second
	}
	if o.MaxBatch == 0 {
		o.MaxBatch = 512
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	// NoSync stays false: every acknowledged write is on disk.
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout:         o.LockTimeout,
		ReadOnly:        o.ReadOnly,
		FreelistType:    bolt.FreelistMapType,
		InitialMmapSize: initialMmapSize(path),
	})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, ErrLocked
	}
	if err != nil {
		return nil, fmt.Errorf("boltstore: open %s: %w", path, err)
	}
	s := &Store{db: db, log: o.Logger, maxBatch: o.MaxBatch, queue: make(chan *request, 4096), done: make(chan struct{}), cache: newObjCache(), tokens: newTokenCache(), cursors: map[string]*bolt.Cursor{}}
	if err := s.init(o.ReadOnly); err != nil {
		db.Close()
		return nil, err
	}
	go s.writer()
	return s, nil
}

// UpgradeBackup returns the path of the copy of the database this Open took
// before it upgraded an older file (backupBeforeUpgrade), or "".
func (s *Store) UpgradeBackup() string { return s.upgradeBackup }

// init creates the buckets and checks the schema version.
func (s *Store) init(readOnly bool) error {
	check := func(tx *bolt.Tx) error {
		meta := tx.Bucket([]byte(bMeta))
		if meta == nil {
			return nil
		}
		v, err := strconv.Atoi(string(meta.Get([]byte("schema"))))
		if err != nil {
			return fmt.Errorf("boltstore: unreadable schema version %q", meta.Get([]byte("schema")))
		}
		if v > SchemaVersion {
			return fmt.Errorf("%w: the file has schema %d, this posd knows up to %d; use a newer posd", ErrNewerSchema, v, SchemaVersion)
		}
		return nil
	}
	if readOnly {
		return s.db.View(func(tx *bolt.Tx) error {
			if tx.Bucket([]byte(bMeta)) == nil {
				return errors.New("boltstore: not a posd database (no meta bucket)")
			}
			return check(tx)
		})
	}
	if err := s.backupBeforeUpgrade(); err != nil {
		return err
	}
	return s.db.Update(func(tx *bolt.Tx) error {
		if err := check(tx); err != nil {
			return err
		}
		for _, b := range append(append(allBuckets, optionalBuckets...), closeBuckets...) {
			if _, err := tx.CreateBucketIfNotExists([]byte(b)); err != nil {
				return err
			}
		}
		meta := tx.Bucket([]byte(bMeta))
		old := meta.Get([]byte("schema"))
		if v, _ := strconv.Atoi(string(old)); old != nil && v < CloseSchema {
			// Z reports find a location's refunds in ret_loc, which
			// schema 6 keeps; the refunds stored before are listed once.
			if err := indexOldReturns(tx); err != nil {
				return err
			}
		}
		if old == nil {
			if err := meta.Put([]byte("created"), []byte(time.Now().UTC().Format(time.RFC3339))); err != nil {
				return err
			}
		}
		if v, _ := strconv.Atoi(string(old)); v < SchemaVersion {
			return meta.Put([]byte("schema"), []byte(strconv.Itoa(SchemaVersion)))
		}
		return nil
	})
}

// Path returns the database file's path.
func (s *Store) Path() string { return s.db.Path() }

// Stats returns a copy of the writer's counters.
func (s *Store) Stats() Stats {
	s.statsMu.Lock()
	defer s.statsMu.Unlock()
	return s.stats
}

// ReplayFromView implements engine.ReplayFromView: a bbolt snapshot costs
// next to nothing, and answering a retry from one keeps it out of the
// writer's queue, whose one goroutine is posd's ceiling.
func (s *Store) ReplayFromView() bool { return true }

// Update implements engine.Store.
func (s *Store) Update(ctx context.Context, fn func(engine.Tx) error) error {
	return s.update(ctx, func(t *txn) error { return fn(t) })
}

var errClosed = engine.ErrShuttingDown

func (s *Store) update(ctx context.Context, fn func(*txn) error) error {
	r := &request{ctx: ctx, fn: fn, done: make(chan struct{})}
	s.mu.RLock()
	if s.closed {
		s.mu.RUnlock()
		return errClosed
	}
	select {
	case s.queue <- r:
	case <-ctx.Done():
		s.mu.RUnlock()
		return ctx.Err()
	}
	s.mu.RUnlock()
	// Once queued, the operation may commit, so the caller must learn its
	// fate: wait even if ctx ends meanwhile (the writer skips operations
	// whose ctx ended before they started).
	<-r.done
	return r.err
}

// writer is the single goroutine that writes.
func (s *Store) writer() {
	defer close(s.done)
	batch := make([]*request, 0, s.maxBatch)
	for {
		r, ok := <-s.queue
		if !ok {
			return
		}
		batch = append(batch[:0], r)
	fill:
		for len(batch) < s.maxBatch {
			select {
			case r, ok := <-s.queue:
				if !ok {
					break fill
				}
				batch = append(batch, r)
			default:
				break fill
			}
		}
		s.commit(batch)
	}
}

// commit runs a group of operations in one bbolt transaction.
func (s *Store) commit(batch []*request) {
	applied, failed := 0, 0
	err := s.db.Update(func(tx *bolt.Tx) error {
		clear(s.cursors) // they belong to one bbolt transaction
		defer clear(s.cursors)
		for _, r := range batch {
			if err := r.ctx.Err(); err != nil {
				r.err = err
				continue
			}
			t := newTxn(tx, true)
			t.cache = s.cache
			t.store = s
			t.cursors = s.cursors
			r.err = run(r.fn, t, s.log)
			if r.err != nil {
				failed++
				continue
			}
			if err := t.apply(); err != nil {
				// put checks what bbolt refuses, so this is a bug or a
				// storage fault; the whole group is dropped below.
				return err
			}
			applied++
		}
		crashPoint("before-commit")
		return nil
	})
	if err != nil {
		s.cache.failed()
	} else {
		crashPoint("after-commit")
		s.cache.committed()
	}
	if s.tokensWritten {
		s.tokens.invalidate()
		s.tokensWritten = false
	}
	s.statsMu.Lock()
	s.stats.Failed += uint64(failed)
	if err != nil {
		s.stats.CommitErrors++
	} else {
		s.stats.Commits++
		s.stats.Operations += uint64(applied)
		s.stats.MaxBatch = max(s.stats.MaxBatch, len(batch))
	}
	s.statsMu.Unlock()
	if err != nil {
		s.log.Error("commit failed; the group's writes were discarded", "operations", len(batch), "err", err)
		for _, r := range batch {
			if r.err == nil {
				r.err = engine.StorageError(storageCause(err), err)
			}
		}
	}
	for _, r := range batch {
		close(r.done)
	}
}

// run calls fn, turning a panic into an internal error for that operation
// alone.
func run(fn func(*txn) error, t *txn, log *slog.Logger) (err error) {
	defer func() {
		if p := recover(); p != nil {
			log.Error("panic in write operation", "panic", p, "stack", string(debug.Stack()))
			err = &engine.Error{Code: engine.EINTERNAL, Err: fmt.Errorf("panic: %v", p)}
		}
	}()
	return fn(t)
}

// View implements engine.Store.
func (s *Store) View(ctx context.Context, fn func(engine.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	gen := s.tokens.generation() // before the snapshot: see tokenCache
	err := s.db.View(func(tx *bolt.Tx) error {
		t := newTxn(tx, false)
		t.store, t.tokenGen = s, gen
		return fn(t)
	})
	if errors.Is(err, bolterrors.ErrDatabaseNotOpen) {
		return errClosed
	}
	return err
}

// Close stops accepting writes, finishes the queued ones, and closes the
// database.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.queue)
	s.mu.Unlock()
	<-s.done
	return s.db.Close()
}

// backupBeforeUpgrade copies a file of an older schema that holds numbered
// documents beside itself before anything writes to it, so that the copy is
// the file as the older posd left it: as pre-chains-<UTC time>.db before
// ChainSchema (the upgrade that follows rewrites every numbered document
// with its hash; a file of schema 4 or older goes through 5 to 6 on this one
// copy), as pre-close-<UTC time>.db from ChainSchema to CloseSchema (the
// upgrade lists the old refunds in ret_loc).
func (s *Store) backupBeforeUpgrade() error {
	var need bool
	var schema int
	err := s.db.View(func(tx *bolt.Tx) error {
		meta, counters := tx.Bucket([]byte(bMeta)), tx.Bucket([]byte(bCounters))
		if meta == nil || counters == nil || meta.Get([]byte("schema")) == nil {
			return nil
		}
		schema, _ = strconv.Atoi(string(meta.Get([]byte("schema"))))
		if schema >= SchemaVersion {
			return nil
		}
		c := counters.Cursor()
		for k, _ := c.First(); k != nil; k, _ = c.Next() {
			if i := bytes.IndexByte(k, 0); i >= 0 && i+1 < len(k) && k[i+1] != '#' {
				need = true
				return nil
			}
		}
		return nil
	})
	if err != nil || !need {
		return err
	}
	start := time.Now()
	dir := filepath.Dir(s.db.Path())
	name, what := "pre-chains-", "hash chains"
	if schema >= ChainSchema {
		name, what = "pre-close-", "the day's close (schema 6)"
	}
	path := filepath.Join(dir, name+start.UTC().Format("20060102T150405Z")+".db")
	tmp, err := os.CreateTemp(dir, "."+name+"*.tmp")
	if err != nil {
		return fmt.Errorf("boltstore: cannot copy the database before upgrading it: %w", err)
	}
	defer os.Remove(tmp.Name())
	n, err := s.Snapshot(context.Background(), tmp)
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp.Name(), path)
	}
	if err == nil {
		err = syncDir(dir)
	}
	if err != nil {
		return fmt.Errorf("boltstore: cannot copy the database before upgrading it to %s (nothing was changed): %w", what, err)
	}
	s.upgradeBackup = path
	s.log.Info("upgrading the database to "+what+"; the file as it was is kept beside it",
		"schema", schema, "to", SchemaVersion, "copy", path, "bytes", n, "took", time.Since(start).Round(time.Millisecond))
	return nil
}
