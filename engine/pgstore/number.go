package pgstore

import (
	"strings"

	"github.com/jackc/pgx/v5"

	"posd/engine"
)

// NextNumber implements engine.Tx. A write transaction has the current
// series of its business from its lock's round trip (read under the lock,
// so exact until it commits); another series is read when asked for. The
// new value is written with the next round trip, once per series however
// often the transaction advances it.
func (t *txn) NextNumber(biz string, s engine.Series) (uint64, error) {
	if !t.writable {
		return 0, errReadOnly
	}
	st, err := t.state(biz)
	if err != nil {
		return 0, err
	}
	n, ok := st.counters[s]
	if !ok && !st.covered[s] {
		var last int64
		if _, err := t.queryRow("SELECT last FROM counters WHERE business_id = $1 AND series = $2", []any{biz, string(s)}, &last); err != nil {
			return 0, err
		}
		n = uint64(last)
	}
	n++
	st.counters[s] = n
	if t.dirtyCounters == nil {
		t.dirtyCounters = map[counterKey]uint64{}
	}
	t.dirtyCounters[counterKey{biz, s}] = n
	t.wrote = true
	return n, nil
}

type counterKey struct {
	biz    string
	series engine.Series
}

// flushCounters queues the counters advanced and the chain heads set
// since the last round trip.
func (t *txn) flushCounters(b *pgx.Batch) {
	for k, n := range t.dirtyCounters {
		b.Queue(`INSERT INTO counters (business_id, series, last) VALUES ($1, $2, $3)
			ON CONFLICT (business_id, series) DO UPDATE SET last = excluded.last`, k.biz, string(k.series), int64(n))
	}
	for k, h := range t.dirtyHeads {
		b.Queue(`INSERT INTO chain_heads (business_id, series, number, hash) VALUES ($1, $2, $3, $4)
			ON CONFLICT (business_id, series) DO UPDATE SET number = excluded.number, hash = excluded.hash`, k.biz, string(k.series), int64(h.Number), h.Hash)
	}
}

// ClaimNumber implements engine.Tx: numbers_pkey refuses a number twice,
// whatever the caller believes; the failure arrives with the next round
// trip and fails the transaction with ErrDuplicateNumber.
func (t *txn) ClaimNumber(biz, number string, ref engine.DocRef) error {
	return t.queue(biz, "INSERT INTO numbers (business_id, number, doc_kind, doc_id) VALUES ($1, $2, $3, $4)", biz, number, string(ref.Kind), ref.ID)
}

// NumberOwner implements engine.Tx. In a read-only transaction it reads
// ahead: a check that asks for every document's number (verify asks a
// million times on a million sales) mostly asks in number order, so a
// window of the claims from the asked number on answers the next ones
// without a round trip each.
func (t *txn) NumberOwner(biz, number string) (engine.DocRef, error) {
	if err := t.touch(biz); err != nil {
		return engine.DocRef{}, err
	}
	if !t.writable {
		return t.numberAhead(biz, number)
	}
	var kind, id string
	found, err := t.queryRow("SELECT doc_kind, doc_id FROM numbers WHERE business_id = $1 AND number = $2", []any{biz, number}, &kind, &id)
	if err != nil {
		return engine.DocRef{}, err
	}
	if !found {
		return engine.DocRef{}, notFound("document number")
	}
	return engine.DocRef{Kind: engine.DocKind(kind), ID: id}, nil
}

// Series implements engine.Tx.
func (t *txn) Series(biz string) (map[engine.Series]uint64, error) {
	if err := t.touch(biz); err != nil {
		return nil, err
	}
	out := map[engine.Series]uint64{}
	err := t.query("SELECT series, last FROM counters WHERE business_id = $1 ORDER BY series", []any{biz}, func(rows pgx.Rows) error {
		clear(out)
		for rows.Next() {
			var s string
			var n int64
			if err := rows.Scan(&s, &n); err != nil {
				return err
			}
			if !strings.HasPrefix(s, "#") {
				out[engine.Series(s)] = uint64(n)
			}
		}
		return rows.Err()
	})
	return out, err
}

// Numbers implements engine.Tx, in number order.
func (t *txn) Numbers(biz string, fn func(string, engine.DocRef) error) error {
	if err := t.touch(biz); err != nil {
		return err
	}
	type claim struct {
		number string
		ref    engine.DocRef
	}
	after := ""
	for {
		var page []claim
		err := t.query("SELECT number, doc_kind, doc_id FROM numbers WHERE business_id = $1 AND number > $2 ORDER BY number LIMIT $3", []any{biz, after, chunk}, func(rows pgx.Rows) error {
			page = page[:0]
			for rows.Next() {
				var c claim
				var kind string
				if err := rows.Scan(&c.number, &kind, &c.ref.ID); err != nil {
					return err
				}
				c.ref.Kind = engine.DocKind(kind)
				page = append(page, c)
			}
			return rows.Err()
		})
		if err != nil {
			return err
		}
		for _, c := range page {
			if err := fn(c.number, c.ref); err != nil {
				return err
			}
		}
		if len(page) < chunk {
			return nil
		}
		after = page[len(page)-1].number
	}
}

// numberWindow holds the claims of one business from one number to
// another (both included; to "" means to the end), read in one query.
type numberWindow struct {
	biz, from, to string
	refs          map[string]engine.DocRef
}

func (w *numberWindow) covers(biz, number string) bool {
	return w != nil && w.biz == biz && number >= w.from && (w.to == "" || number <= w.to)
}

func (t *txn) numberAhead(biz, number string) (engine.DocRef, error) {
	if !t.numbers.covers(biz, number) {
		w := &numberWindow{biz: biz, from: number, refs: make(map[string]engine.DocRef, chunk)}
		err := t.query("SELECT number, doc_kind, doc_id FROM numbers WHERE business_id = $1 AND number >= $2 ORDER BY number LIMIT $3",
			[]any{biz, number, chunk}, func(rows pgx.Rows) error {
				clear(w.refs)
				n := 0
				for rows.Next() {
					var num, kind, id string
					if err := rows.Scan(&num, &kind, &id); err != nil {
						return err
					}
					w.refs[num] = engine.DocRef{Kind: engine.DocKind(kind), ID: id}
					w.to, n = num, n+1
				}
				if n < chunk {
					w.to = ""
				}
				return rows.Err()
			})
		if err != nil {
			return engine.DocRef{}, err
		}
		t.numbers = w
	}
	ref, ok := t.numbers.refs[number]
	if !ok {
		return engine.DocRef{}, notFound("document number")
	}
	return ref, nil
}

// ChainHead implements engine.Tx. A write transaction has the heads of its
// business's current series from its lock's round trip; another series,
// or a read, is asked.
func (t *txn) ChainHead(biz string, s engine.Series) (engine.ChainHead, error) {
	if t.writable {
		st, err := t.state(biz)
		if err != nil {
			return engine.ChainHead{}, err
		}
		if h, ok := st.heads[s]; ok {
			return h, nil
		}
		if st.covered[s] {
			return engine.ChainHead{}, nil
		}
	} else if err := t.touch(biz); err != nil {
		return engine.ChainHead{}, err
	}
	var h engine.ChainHead
	var n int64
	found, err := t.queryRow("SELECT number, hash FROM chain_heads WHERE business_id = $1 AND series = $2", []any{biz, string(s)}, &n, &h.Hash)
	if err != nil {
		return engine.ChainHead{}, err
	}
	if found {
		h.Number = uint64(n)
	}
	if t.writable {
		t.bizs[biz].heads[s] = h
	}
	return h, nil
}

// SetChainHead implements engine.Tx: written with the next round trip,
// once per series however often the transaction sets it.
func (t *txn) SetChainHead(biz string, s engine.Series, h engine.ChainHead) error {
	if !t.writable {
		return errReadOnly
	}
	st, err := t.state(biz)
	if err != nil {
		return err
	}
	st.heads[s] = h
	if t.dirtyHeads == nil {
		t.dirtyHeads = map[counterKey]engine.ChainHead{}
	}
	t.dirtyHeads[counterKey{biz, s}] = h
	t.wrote = true
	return nil
}
