package pgstore

import (
	"context"
	"errors"
	"hash/fnv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"posd/engine"
)

// txn is one engine transaction on one PostgreSQL connection.
//
// Nothing is sent until it is needed: writes are queued and travel with
// the next read, or with COMMIT, in one pipelined batch; BEGIN travels with
// the first batch. The first statement about a business also queues, in
// front of everything else, that business's advisory lock and the reads
// every write transaction needs (the business, its catalogue version, its
// current counters). Reads therefore see the transaction's own writes, and
// a failed queued write (a unique violation) fails the batch it travels
// in: the transaction is then failed for good (err), rolled back, and
// Update returns that error whatever fn does with it.
type txn struct {
	s        *Store
	ctx      context.Context // runs the statements
	waitCtx  context.Context // bounds the wait for a business's turn
	writable bool

	conn    *pgxpool.Conn
	begun   bool
	pending []queued
	moves   []engine.Movement // movements not sent yet (see flushMovements)
	// dirtyCounters and dirtyHeads are the counters advanced and the
	// chain heads set, not sent yet.
	dirtyCounters map[counterKey]uint64
	dirtyHeads    map[counterKey]engine.ChainHead
	wrote         bool // a write was queued (sent or not): COMMIT is due
	// rerun is set when the transaction failed in a way that left nothing
	// and that a fresh one may not meet again (see Store.Update).
	rerun bool
	err   error

	// bizs holds what the transaction knows of each business it locked;
	// toLock the ones whose lock is not sent yet.
	bizs   map[string]*bizState
	toLock []string
	// turn is the in-process turn held (of the first business locked).
	turn      *businessLock
	turnBiz   string
	turnSince time.Time
	// numbers is NumberOwner's read-ahead window (read-only transactions).
	numbers *numberWindow
	// catWritten names businesses whose catalogue this transaction wrote:
	// their reads skip the cache, which is dropped after the commit.
	catWritten map[string]bool
}

type queued struct {
	sql  string
	args []any
}

// bizState is a locked business as read in the lock's round trip.
type bizState struct {
	ready   bool
	version int64 // catalogue version; -1 when the business has no row
	biz     *engine.Business
	// counters holds the counters read or written, heads the chain heads;
	// covered the series whose absence from them means 0 (no head).
	counters map[engine.Series]uint64
	heads    map[engine.Series]engine.ChainHead
	covered  map[engine.Series]bool
	// openShifts are the business's open shifts by till (close.go).
	openShifts map[string]engine.ShiftRef
}

func newTxn(s *Store, ctx, waitCtx context.Context, writable bool) *txn {
	return &txn{s: s, ctx: ctx, waitCtx: waitCtx, writable: writable}
}

// lockKey is a business's advisory lock key: 64 bits of FNV-1a. Two
// businesses whose keys collide are only serialized together.
func lockKey(biz string) int64 {
	h := fnv.New64a()
	h.Write([]byte("posd business "))
	h.Write([]byte(biz))
	return int64(h.Sum64())
}

// touch is called by every method that names a business. In a write
// transaction the first touch of a business waits for its in-process turn
// (only for the first business: a second one is ordered by its advisory
// lock alone, so that two transactions taking two businesses in opposite
// orders meet in PostgreSQL's deadlock detector, never in a Go mutex) and
// queues its advisory lock.
func (t *txn) touch(biz string) error {
	if t.err != nil {
		return t.err
	}
	if !t.writable {
		return nil
	}
	if _, ok := t.bizs[biz]; ok {
		return nil
	}
	if t.turn == nil {
		start := time.Now()
		bl, err := t.s.locks.acquire(t.waitCtx, biz)
		if err != nil {
			t.err = err
			return err
		}
		t.turn, t.turnBiz, t.turnSince = bl, biz, time.Now()
		t.s.stats.queueWait.Add(int64(t.turnSince.Sub(start)))
	}
	if t.bizs == nil {
		t.bizs = map[string]*bizState{}
	}
	t.bizs[biz] = &bizState{version: -1}
	t.toLock = append(t.toLock, biz)
	return nil
}

// state returns what the lock's round trip read of biz, sending that
// round trip first if it is still queued.
func (t *txn) state(biz string) (*bizState, error) {
	if err := t.touch(biz); err != nil {
		return nil, err
	}
	st := t.bizs[biz]
	if st != nil && !st.ready {
		if err := t.roundTrip(nil, false); err != nil {
			return nil, err
		}
	}
	return st, nil
}

// queue adds a write for the next round trip.
func (t *txn) queue(biz, sql string, args ...any) error {
	if !t.writable {
		return errReadOnly
	}
	if err := t.touch(biz); err != nil {
		return err
	}
	t.pending = append(t.pending, queued{sql, args})
	t.wrote = true
	return nil
}

// catalogueWritten marks biz's catalogue as changed by this transaction
// and queues the version bump that tells every posd process so.
func (t *txn) catalogueWritten(biz string) error {
	if t.catWritten[biz] {
		return nil
	}
	if t.catWritten == nil {
		t.catWritten = map[string]bool{}
	}
	t.catWritten[biz] = true
	return t.queue(biz, "UPDATE businesses SET catalogue_version = catalogue_version + 1 WHERE id = $1", biz)
}

// read is one query of a round trip with the function that consumes its
// rows. scan must assign its results, not append them: a first round trip
// may be sent twice (see roundTrip).
type read struct {
	sql  string
	args []any
	scan func(pgx.Rows) error
}

// query runs one read in a round trip of its own (with whatever is
// queued).
func (t *txn) query(sql string, args []any, scan func(pgx.Rows) error) error {
	return t.roundTrip(&read{sql, args, scan}, false)
}

// queryRow runs a read of at most one row; found is false when there is
// none.
func (t *txn) queryRow(sql string, args []any, dest ...any) (found bool, err error) {
	err = t.query(sql, args, func(rows pgx.Rows) error {
		found = false
		if !rows.Next() {
			return rows.Err()
		}
		found = true
		return rows.Scan(dest...)
	})
	return found, err
}

var (
	beginWrite = "BEGIN ISOLATION LEVEL READ COMMITTED"
	beginRead  = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY"
)

// roundTrip sends, in one pipelined batch: BEGIN if the transaction has
// not begun, the queued locks with their reads, the queued writes, then r
// (if any) or COMMIT (if commit).
//
// A first round trip that fails because its connection was dead (a
// server restart leaves every idle connection so; the pool's health check
// catches them only every few seconds) is sent once more on a fresh
// connection: nothing of it can have taken effect, since it held no
// COMMIT and a transaction dies with its connection.
func (t *txn) roundTrip(r *read, commit bool) error {
	if t.err != nil {
		return t.err
	}
	first := !t.begun
	for attempt := 0; ; attempt++ {
		err := t.send(r, commit)
		if err == nil {
			t.s.reached(nil)
			return nil
		}
		if first && !commit && attempt < 2 && connectionLost(err) && t.waitCtx.Err() == nil {
			t.s.stats.retried.Add(1)
			t.dropConn()
			for _, biz := range t.toLock {
				t.bizs[biz] = &bizState{version: -1}
			}
			continue
		}
		t.err = storeError(err, commit)
		t.rerun = t.writable && ((connectionLost(err) && !commit) || serializationFailure(err))
		t.s.reached(t.err)
		return t.err
	}
}

func (t *txn) send(r *read, commit bool) error {
	if t.conn == nil {
		c, err := t.s.pool.Acquire(t.ctx)
		if err != nil {
			return err
		}
		t.conn = c
	}
	b := &pgx.Batch{}
	if !t.begun {
		if t.writable {
			b.Queue(beginWrite)
		} else {
			b.Queue(beginRead)
		}
	}
	locking := len(t.toLock) > 0
	for _, biz := range t.toLock {
		t.queueLock(b, biz)
	}
	for _, q := range t.pending {
		b.Queue(q.sql, q.args...)
	}
	moves := append([]engine.Movement(nil), t.moves...)
	t.flushMovements(b)
	t.flushCounters(b)
	if r != nil {
		b.Queue(r.sql, r.args...).Query(r.scan)
	}
	if commit {
		b.Queue("COMMIT")
	}
	start := time.Now()
	br := t.conn.SendBatch(t.ctx, b)
	if commit {
		// COMMIT is on the wire: the next transaction of the business in
		// this process may send its lock now. The advisory lock makes it
		// wait in the server until this one has committed (or rolled
		// back), and its round trip then runs at once, instead of only
		// after this commit's answer has come back and been read.
		t.releaseTurn()
	}
	err := br.Close()
	if t.writable {
		t.s.stats.roundTrips.Add(1)
		if locking {
			t.s.stats.lockWait.Add(int64(time.Since(start)))
		}
	}
	if err != nil {
		t.moves = moves // a first round trip may be sent again
		return err
	}
	t.begun = true
	t.pending = t.pending[:0]
	clear(t.dirtyCounters)
	clear(t.dirtyHeads)
	for _, biz := range t.toLock {
		t.bizs[biz].ready = true
	}
	t.toLock = t.toLock[:0]
	return nil
}

// queueLock queues the advisory lock of biz and, as statements of their
// own after it (a statement's snapshot is taken when it starts, so reads
// in the locking statement could miss the previous holder's commit), the
// reads every write transaction of a business needs.
func (t *txn) queueLock(b *pgx.Batch, biz string) {
	st := t.bizs[biz]
	b.Queue("SELECT pg_advisory_xact_lock($1)", lockKey(biz))
	b.Queue("SELECT doc, catalogue_version FROM businesses WHERE id = $1", biz).Query(func(rows pgx.Rows) error {
		st.version, st.biz = -1, nil
		if !rows.Next() {
			return rows.Err()
		}
		var doc []byte
		if err := rows.Scan(&doc, &st.version); err != nil {
			return err
		}
		bz, err := decodeBusiness(doc)
		if err != nil {
			return err
		}
		st.biz = bz
		return nil
	})
	queueOpenShifts(b, biz, st)
	names := currentSeries()
	b.Queue(`SELECT s.series, coalesce(c.last, 0), h.number, h.hash FROM unnest($2::text[]) AS s(series)
		LEFT JOIN counters c ON c.business_id = $1 AND c.series = s.series
		LEFT JOIN chain_heads h ON h.business_id = $1 AND h.series = s.series
		WHERE c.series IS NOT NULL OR h.series IS NOT NULL`, biz, names).Query(func(rows pgx.Rows) error {
		st.counters = make(map[engine.Series]uint64, len(names))
		st.heads = make(map[engine.Series]engine.ChainHead, len(names))
		st.covered = make(map[engine.Series]bool, len(names))
		for _, n := range names {
			st.covered[engine.Series(n)] = true
		}
		for rows.Next() {
			var s string
			var n int64
			var hn *int64
			var hash *string
			if err := rows.Scan(&s, &n, &hn, &hash); err != nil {
				return err
			}
			if n > 0 {
				st.counters[engine.Series(s)] = uint64(n)
			}
			if hn != nil && hash != nil {
				st.heads[engine.Series(s)] = engine.ChainHead{Number: uint64(*hn), Hash: *hash}
			}
		}
		return rows.Err()
	})
}

// seriesPrefixes are the numbered documents' prefixes whose current
// series the lock's round trip reads.
var seriesPrefixes = []string{engine.PrefixSale, engine.PrefixReturn, engine.PrefixReceipt, engine.PrefixTransfer}

// currentSeries names the series a document numbered now can be in: each
// prefix in this month and, near a month's end or start, the neighbouring
// one (a business's zone is at most 14 hours from UTC). A series outside
// them (a test clock, a skewed one) is read when asked for.
func currentSeries() []string {
	now := time.Now().UTC()
	months := []string{now.Add(-14 * time.Hour).Format("200601")}
	if m := now.Add(14 * time.Hour).Format("200601"); m != months[0] {
		months = append(months, m)
	}
	out := make([]string, 0, len(seriesPrefixes)*len(months))
	for _, p := range seriesPrefixes {
		for _, m := range months {
			out = append(out, p+"-"+m)
		}
	}
	return out
}

// commit sends what is queued with COMMIT. A transaction that sent
// nothing commits nothing.
func (t *txn) commit() error {
	if t.err != nil {
		return t.err
	}
	if !t.wrote {
		// Only reads: nothing to make durable; end rolls it back.
		return nil
	}
	if err := t.roundTrip(nil, true); err != nil {
		return err
	}
	t.begun = false // committed: nothing to roll back
	for biz := range t.catWritten {
		t.s.catalogue.drop(biz)
	}
	return nil
}

// end finishes the transaction: a read-only one, or one that did not
// commit, rolls back; the connection goes back to the pool (or is closed
// when it is broken), and the business's turn is given up.
func (t *txn) end() {
	if t.conn != nil && !t.writable && t.begun {
		// A read-only transaction's end changes nothing: it is sent after
		// the caller has its answer, and the connection returns to the
		// pool when the server confirms.
		conn := t.conn
		t.conn = nil
		t.s.work.Add(1)
		go func() {
			defer t.s.work.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if _, err := conn.Exec(ctx, "ROLLBACK"); err != nil {
				conn.Conn().Close(ctx)
			}
			conn.Release()
		}()
	}
	if t.conn != nil {
		if t.begun {
			ctx, cancel := context.WithTimeout(context.WithoutCancel(t.ctx), 5*time.Second)
			if _, err := t.conn.Exec(ctx, "ROLLBACK"); err != nil {
				t.dropConn()
			}
			cancel()
		}
		if t.conn != nil {
			t.conn.Release()
			t.conn = nil
		}
	}
	t.releaseTurn()
}

// releaseTurn gives the in-process turn of the business up, once.
func (t *txn) releaseTurn() {
	if t.turn != nil {
		t.s.stats.inTurn.Add(int64(time.Since(t.turnSince)))
		t.s.locks.release(t.turnBiz, t.turn, true)
		t.turn = nil
	}
}

// dropConn closes a broken connection and gives it back to the pool, which
// forgets it.
func (t *txn) dropConn() {
	if t.conn == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	t.conn.Conn().Close(ctx)
	cancel()
	t.conn.Release()
	t.conn = nil
	t.begun = false
}

// errStop ends an iteration early.
var errStop = errors.New("stop")
