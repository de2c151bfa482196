package pgstore

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"posd/engine"
)

// Options tune Open.
type Options struct {
	// ReadOnly opens for reading only (verify, backup, migrate's source):
	// the schema is checked, never changed, and Update fails.
	ReadOnly bool
	// MaxConns caps the pool; 0 keeps the URL's pool_max_conns or 16.
	MaxConns int32
	// WriteTimeout bounds one Update from its first statement to its
	// commit's answer; past it the connection is dropped (and with it the
	// transaction, unless COMMIT had been sent). Default 15 s.
	WriteTimeout time.Duration
	// ConnectTimeout is how long Open keeps trying to reach a server that
	// does not answer yet (one starting or restarting). Default 10 s.
	ConnectTimeout time.Duration
	// Logger receives operational messages. Default slog.Default().
	Logger *slog.Logger
	// ApplicationName names the connections in pg_stat_activity; default
	// "posd" (what OtherPosdConnections counts).
	ApplicationName string
}

// Store is the PostgreSQL implementation of engine.Store.
//
// Every write transaction is one PostgreSQL transaction at READ COMMITTED
// that, before its first statement about a business, waits its turn twice:
// on an in-process queue for the business (so that 64 tills of one shop
// hold one connection, not 64, while they wait) and on
// pg_advisory_xact_lock of the business's key (which orders the writers of
// every posd process on the database). Each business's fns thus run one at
// a time, as on boltstore's single writer, which makes every
// read-check-write rule of the engine (numbers, refund limits, stock
// checks, state machines, SKUs, the last owner token) hold with plain reads
// and writes, with several posd processes, and without a deadlock within a
// business. There is no serialization failure to retry at READ COMMITTED;
// a transaction whose connection is lost before COMMIT is run again (fn
// with it, as engine.Store allows), and any other failure rolls it back
// and answers unavailable, for the client to retry with the same key.
//
// Round trips are few: writes are queued and sent with the next read, or
// with COMMIT; the first round trip also takes the lock and reads the
// business, its catalogue version and its current counters; locations and
// products come from a per-process cache that the catalogue version keeps
// current. A sale is two round trips inside the business's turn.
type Store struct {
	pool     *pgxpool.Pool
	log      *slog.Logger
	readOnly bool
	timeout  time.Duration
	target   string // host, port and database, for messages (never the password)

	locks     businessLocks
	catalogue catalogue

	mu     sync.RWMutex // guards closed against new work
	closed bool
	work   sync.WaitGroup

	stats counters
	// health is the last failure to reach the database and when posd last
	// reached it, for the health view.
	healthMu  sync.Mutex
	lastErr   error
	lastErrAt time.Time
	lastOK    time.Time
}

// counters are the store's statistics, updated atomically.
type counters struct {
	commits, operations, failed, unavailable atomic.Uint64
	roundTrips, retried, reruns              atomic.Uint64
	queueWait, lockWait, inTurn              atomic.Int64 // nanoseconds
}

// Stats reports what the store has done, for health, metrics and
// benchmarks.
type Stats struct {
	// Commits counts committed write transactions (one per Update);
	// Operations equals it (no group commit here); Failed counts Updates
	// whose fn or commit failed, Unavailable those failed for want of the
	// database.
	Commits, Operations, Failed, Unavailable uint64
	// RoundTrips counts round trips to PostgreSQL of write transactions;
	// Retried first round trips sent again on a fresh connection after a
	// stale one broke; Reruns fns run again after their transaction was
	// lost before COMMIT or failed to serialize.
	RoundTrips, Retried, Reruns uint64
	// QueueWait is the time write transactions waited on the in-process
	// queue of their business, LockWait the time of the round trip that
	// took the advisory lock, InTurn the time from holding the turn to the
	// end of the commit.
	QueueWait, LockWait, InTurn time.Duration
}

// Open connects to the PostgreSQL database at rawURL (postgres://…) and
// brings its schema up to date (or only checks it, read-only).
func Open(ctx context.Context, rawURL string, o Options) (*Store, error) {
	if o.WriteTimeout == 0 {
		o.WriteTimeout = 15 * time.Second
	}
	if o.ConnectTimeout == 0 {
		o.ConnectTimeout = 10 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	cfg, err := pgxpool.ParseConfig(rawURL)
	if err != nil {
		return nil, fmt.Errorf("pgstore: the database URL is not valid (postgres://user:password@host:port/database): %v", redact(err, rawURL))
	}
	if o.MaxConns > 0 {
		cfg.MaxConns = o.MaxConns
	} else if !strings.Contains(rawURL, "pool_max_conns") {
		cfg.MaxConns = 16
	}
	cfg.MinConns = 0
	// A connection found broken is replaced; a health check drops idle
	// ones a restarted server closed, so they are not tried first.
	cfg.HealthCheckPeriod = 5 * time.Second
	if cfg.ConnConfig.RuntimeParams == nil {
		cfg.ConnConfig.RuntimeParams = map[string]string{}
	}
	if o.ApplicationName == "" {
		o.ApplicationName = "posd"
	}
	cfg.ConnConfig.RuntimeParams["application_name"] = o.ApplicationName
	// A posd process that hangs inside a transaction (stopped, or cut off
	// from the network without a reset) would hold its business's lock and
	// stop every other posd process's sales of that business: the server
	// ends such a session after a minute, which rolls it back.
	cfg.ConnConfig.RuntimeParams["idle_in_transaction_session_timeout"] = "60000"
	target := describe(cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("pgstore: %s: %v", target, redact(err, rawURL))
	}
	s := &Store{pool: pool, log: o.Logger, readOnly: o.ReadOnly, timeout: o.WriteTimeout, target: target}
	s.locks.m = map[string]*businessLock{}
	s.catalogue.m = map[string]*catEntry{}
	deadline := time.Now().Add(o.ConnectTimeout)
	for {
		_, err = migrate(ctx, pool, o.ReadOnly)
		if err == nil || !connectionLost(err) || time.Now().After(deadline) || ctx.Err() != nil {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if err != nil {
		pool.Close()
		if errors.Is(err, ErrNewerSchema) || errors.Is(err, ErrNotPosd) {
			return nil, err
		}
		return nil, fmt.Errorf("pgstore: cannot use the database %s: %v", target, redact(err, rawURL))
	}
	s.reached(nil)
	return s, nil
}

// describe names a database without its credentials.
func describe(host string, port uint16, db string) string {
	return fmt.Sprintf("%s (host %s, port %d)", db, host, port)
}

// redact removes the URL's password from an error's text.
func redact(err error, rawURL string) string {
	msg := err.Error()
	if u, perr := url.Parse(rawURL); perr == nil && u.User != nil {
		if p, ok := u.User.Password(); ok && p != "" {
			msg = strings.ReplaceAll(msg, p, "xxxxx")
		}
	}
	return msg
}

// OtherPosdConnections counts the connections of posd processes (serve,
// init) to this database, this store's own left out.
func (s *Store) OtherPosdConnections(ctx context.Context) (int, error) {
	var n int
	err := s.pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
		AND application_name = 'posd' AND pid <> pg_backend_pid()`).Scan(&n)
	return n, storeError(err, false)
}

// Target names the database (without credentials), for messages.
func (s *Store) Target() string { return s.target }

// Pool returns the connection pool, for the package's own tools.
func (s *Store) pgPool() *pgxpool.Pool { return s.pool }

// enter registers work in progress, or refuses it once Close began.
func (s *Store) enter() error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return errClosed
	}
	s.work.Add(1)
	return nil
}

// Update implements engine.Store.
func (s *Store) Update(ctx context.Context, fn func(engine.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.readOnly {
		return errReadOnly
	}
	if err := s.enter(); err != nil {
		return err
	}
	defer s.work.Done()
	// The caller's ctx decides how long it waits for its turn (see
	// lockBusiness); once the transaction runs, a caller who hangs up must
	// not cut it short: the commit may already be on its way, and pgx
	// answers a cancelled context by dropping the connection. Our own
	// deadline bounds it instead.
	runCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.timeout)
	defer cancel()
	var err error
	for attempt := 0; ; attempt++ {
		t := newTxn(s, runCtx, ctx, true)
		err = run(fn, t, s.log)
		if err == nil {
			err = t.err
		}
		if err == nil {
			err = t.commit()
		}
		t.end()
		// engine.Store.Update lets a store run fn again: the transaction
		// that failed left nothing (it never reached COMMIT, or the
		// server rolled it back), and the engine's fns are safe to run
		// twice (storetest.Rerunning). A connection lost before COMMIT (a
		// restart, a failover) or a serialization failure is tried again
		// on a fresh connection, twice, before the caller hears 503.
		if t.rerun && attempt < len(rerunBackoff) && runCtx.Err() == nil && ctx.Err() == nil {
			s.stats.reruns.Add(1)
			time.Sleep(rerunBackoff[attempt])
			continue
		}
		break
	}
	switch {
	case err == nil:
		s.stats.commits.Add(1)
		s.stats.operations.Add(1)
	case engine.ErrorCode(err) == engine.EUNAVAILABLE:
		s.stats.failed.Add(1)
		s.stats.unavailable.Add(1)
	default:
		s.stats.failed.Add(1)
	}
	return err
}

// rerunBackoff are the pauses before running a failed fn again.
var rerunBackoff = []time.Duration{50 * time.Millisecond, 250 * time.Millisecond}

// run calls fn, turning a panic into an internal error for that fn alone.
func run(fn func(engine.Tx) error, t *txn, log *slog.Logger) (err error) {
	defer func() {
		if p := recover(); p != nil {
			log.Error("panic in write operation", "panic", p, "stack", string(debug.Stack()))
			err = &engine.Error{Code: engine.EINTERNAL, Err: fmt.Errorf("panic: %v", p)}
		}
	}()
	return fn(t)
}

// View implements engine.Store: fn runs in one REPEATABLE READ READ ONLY
// transaction, a single snapshot however many statements it makes (a
// read-only transaction on the primary never fails to serialize).
func (s *Store) View(ctx context.Context, fn func(engine.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := s.enter(); err != nil {
		return err
	}
	defer s.work.Done()
	t := newTxn(s, ctx, ctx, false)
	defer t.end()
	err := fn(t)
	if err == nil {
		err = t.err
	}
	return err
}

// SweepIdempotency implements engine.Store: one statement, its own
// transaction, no business lock (no rule reads an expired answer), rows
// another sweeper holds skipped.
func (s *Store) SweepIdempotency(ctx context.Context, before time.Time, limit int) (int, error) {
	if err := s.enter(); err != nil {
		return 0, err
	}
	defer s.work.Done()
	if s.readOnly {
		return 0, errReadOnly
	}
	tag, err := s.pool.Exec(ctx, `DELETE FROM idempotency_answers WHERE (business_id, key) IN (
		SELECT business_id, key FROM idempotency_answers WHERE expires_at < $1 ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED)`, before, limit)
	if err != nil {
		err = storeError(err, false)
		s.reached(err)
		return 0, err
	}
	s.reached(nil)
	return int(tag.RowsAffected()), nil
}

// Close stops accepting work, waits for work in progress, and closes the
// pool.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()
	s.work.Wait()
	s.pool.Close()
	return nil
}

// Stats returns the store's counters.
func (s *Store) Stats() Stats {
	st := &s.stats
	return Stats{Commits: st.commits.Load(), Operations: st.operations.Load(), Failed: st.failed.Load(), Unavailable: st.unavailable.Load(),
		RoundTrips: st.roundTrips.Load(), Retried: st.retried.Load(), Reruns: st.reruns.Load(),
		QueueWait: time.Duration(st.queueWait.Load()), LockWait: time.Duration(st.lockWait.Load()), InTurn: time.Duration(st.inTurn.Load())}
}

// reached records whether the last attempt to use the database worked.
func (s *Store) reached(err error) {
	s.healthMu.Lock()
	defer s.healthMu.Unlock()
	if err == nil {
		s.lastOK = time.Now()
		return
	}
	if engine.ErrorCode(err) == engine.EUNAVAILABLE {
		s.lastErr, s.lastErrAt = err, time.Now()
	}
}

// Health is the database's state as the health view shows it.
type Health struct {
	// Reachable is true when the database answered a ping just now.
	Reachable bool
	// Error is the last failure to reach it, and ErrorAt when it was.
	Error   string
	ErrorAt time.Time
	// LastOK is when posd last used the database successfully.
	LastOK time.Time
	// Connections are the pool's: open, in use, idle, and the cap.
	Connections, InUse, Idle, MaxConnections int32
	Schema                                   int
	Target                                   string
}

// Health pings the database (at most a second) and reports its state.
func (s *Store) Health(ctx context.Context) Health {
	ctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	err := s.pool.Ping(ctx)
	if err != nil {
		s.reached(storeError(err, false))
	} else {
		s.reached(nil)
	}
	st := s.pool.Stat()
	h := Health{Reachable: err == nil, Connections: st.TotalConns(), InUse: st.AcquiredConns(), Idle: st.IdleConns(),
		MaxConnections: st.MaxConns(), Schema: SchemaVersion, Target: s.target}
	s.healthMu.Lock()
	if s.lastErr != nil {
		h.Error, h.ErrorAt = cause(s.lastErr), s.lastErrAt
	}
	h.LastOK = s.lastOK
	s.healthMu.Unlock()
	return h
}

// cause is the underlying error's text, for an operator.
func cause(err error) string {
	var ee *engine.Error
	if errors.As(err, &ee) && ee.Err != nil {
		return ee.Err.Error()
	}
	return err.Error()
}

// Size returns the database's size in bytes (pg_database_size).
func (s *Store) Size() (int64, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	var n int64
	err := s.pool.QueryRow(ctx, "SELECT pg_database_size(current_database())").Scan(&n)
	return n, storeError(err, false)
}

// businessLocks are the in-process queues, one per business in use.
type businessLocks struct {
	mu sync.Mutex
	m  map[string]*businessLock
}

type businessLock struct {
	turn chan struct{} // holds a token while a transaction has the turn
	refs int
}

// acquire waits for the business's turn, or for ctx to end.
func (l *businessLocks) acquire(ctx context.Context, biz string) (*businessLock, error) {
	l.mu.Lock()
	bl := l.m[biz]
	if bl == nil {
		bl = &businessLock{turn: make(chan struct{}, 1)}
		l.m[biz] = bl
	}
	bl.refs++
	l.mu.Unlock()
	select {
	case bl.turn <- struct{}{}:
		return bl, nil
	case <-ctx.Done():
		l.release(biz, bl, false)
		return nil, ctx.Err()
	}
}

// release gives the turn up (if held) and forgets an unused queue.
func (l *businessLocks) release(biz string, bl *businessLock, held bool) {
	if held {
		<-bl.turn
	}
	l.mu.Lock()
	bl.refs--
	if bl.refs == 0 {
		delete(l.m, biz)
	}
	l.mu.Unlock()
}

var (
	_ engine.Store = (*Store)(nil)
	_ engine.Tx    = (*txn)(nil)
)
