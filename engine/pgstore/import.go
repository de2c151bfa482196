package pgstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"posd/engine"
	"posd/engine/storecopy"
)

// ErrNotEmpty is returned when a migration's target database already
// holds data.
var ErrNotEmpty = fmt.Errorf("pgstore: the database is not empty")

// posdTables are the tables of the schema, in the order Import fills them.
var posdTables = []string{"businesses", "locations", "products", "tokens", "sales", "returns", "receipts", "transfers",
	"adjustments", "movements", "stock", "counters", "chain_heads", "numbers", "idempotency", "idempotency_answers",
	"pairings", "till_statuses", "product_imports", "cashiers", "approvals", "shifts", "zreports"}

// CheckEmpty connects to the database at rawURL without changing it and
// fails with ErrNotEmpty (and what it found) unless it holds no table but
// an empty posd schema: posd migrate copies only into an empty database.
func CheckEmpty(ctx context.Context, rawURL string) error {
	conn, err := pgx.Connect(ctx, rawURL)
	if err != nil {
		return fmt.Errorf("pgstore: cannot reach the database: %v", redact(err, rawURL))
	}
	defer conn.Close(context.WithoutCancel(ctx))
	return checkEmpty(ctx, conn)
}

type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func checkEmpty(ctx context.Context, q querier) error {
	rows, err := q.Query(ctx, `SELECT table_schema || '.' || table_name FROM information_schema.tables
		WHERE table_schema NOT IN ('pg_catalog', 'information_schema') AND table_schema NOT LIKE 'pg_toast%' ORDER BY 1`)
	if err != nil {
		return err
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return err
	}
	ours := map[string]bool{"public.schema_migrations": true}
	for _, t := range posdTables {
		ours["public."+t] = true
	}
	var foreign, filled []string
	for _, t := range tables {
		if !ours[t] {
			foreign = append(foreign, t)
			continue
		}
		if t == "public.schema_migrations" {
			continue
		}
		var any bool
		if err := q.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM "+t+")").Scan(&any); err != nil {
			return err
		}
		if any {
			filled = append(filled, strings.TrimPrefix(t, "public."))
		}
	}
	switch {
	case len(filled) > 0:
		return fmt.Errorf("%w: it already holds posd data (in %s); migrate copies only into an empty database, so that nothing is mixed: create a new one (createdb) or empty this one", ErrNotEmpty, strings.Join(filled, ", "))
	case len(foreign) > 0:
		if len(foreign) > 5 {
			foreign = append(foreign[:5], "…")
		}
		return fmt.Errorf("%w: it holds tables that are not posd's (%s); give posd a database of its own (createdb)", ErrNotEmpty, strings.Join(foreign, ", "))
	}
	return nil
}

// Import copies everything in src into this store's database, which must
// be empty, in one PostgreSQL transaction with COPY: an interrupted import
// leaves the database as empty as it was, so it can simply be run again.
// src is read in one View (one snapshot).
func (s *Store) Import(ctx context.Context, src engine.Store, progress func(string)) (*storecopy.Figures, error) {
	if s.readOnly {
		return nil, errReadOnly
	}
	conn, err := s.pool.Acquire(ctx)
	if err != nil {
		return nil, storeError(err, false)
	}
	defer conn.Release()
	tx, err := conn.Begin(ctx)
	if err != nil {
		return nil, storeError(err, false)
	}
	defer tx.Rollback(context.WithoutCancel(ctx))
	// One importer at a time, and no posd init between the check and the
	// commit: both take the schema lock.
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", migrateLock); err != nil {
		return nil, storeError(err, false)
	}
	if err := checkEmpty(ctx, tx); err != nil {
		return nil, err
	}
	sink := &copySink{ctx: ctx, tx: tx, rows: map[string][][]any{}, pos: map[string]int64{}, places: map[[2]string]int64{}, progress: progress, start: time.Now()}
	if err := engine.Scan(ctx, src, func(stx engine.ScanTx) error { return storecopy.Walk(ctx, stx, sink) }); err != nil {
		return nil, err
	}
	if err := sink.flushAll(); err != nil {
		return nil, err
	}
	if err := tx.Commit(ctx); err != nil {
		return nil, storeError(err, true)
	}
	return &sink.figs, nil
}

// copySink buffers rows per table and sends them with COPY.
type copySink struct {
	ctx  context.Context
	tx   pgx.Tx
	rows map[string][][]any
	pos  map[string]int64 // last sale list position per business
	// places are the last places of the other listed tables (returns,
	// shifts, Z reports) per business and counter ('#return', …).
	places   map[[2]string]int64
	figs     storecopy.Figures
	progress func(string)
	start    time.Time
	last     time.Time
}

var copyColumns = map[string][]string{
	"businesses":          {"id", "doc"},
	"locations":           {"business_id", "id", "doc"},
	"products":            {"business_id", "id", "sku", "doc"},
	"tokens":              {"hash", "business_id", "id", "doc"},
	"sales":               {"business_id", "id", "pos", "location_id", "doc"},
	"returns":             {"business_id", "id", "pos", "location_id", "doc"},
	"receipts":            {"business_id", "id", "doc"},
	"transfers":           {"business_id", "id", "doc"},
	"adjustments":         {"business_id", "id", "doc"},
	"movements":           {"business_id", "location_id", "product_id", "qty", "doc_kind", "doc_id", "at"},
	"stock":               {"business_id", "location_id", "product_id", "qty"},
	"counters":            {"business_id", "series", "last"},
	"chain_heads":         {"business_id", "series", "number", "hash"},
	"pairings":            {"business_id", "id", "hash", "doc"},
	"till_statuses":       {"business_id", "till_id", "doc"},
	"product_imports":     {"business_id", "id", "doc"},
	"cashiers":            {"business_id", "id", "pin", "pin_scheme", "doc"},
	"approvals":           {"business_id", "id", "doc"},
	"shifts":              {"business_id", "id", "pos", "location_id", "till_id", "open", "doc"},
	"zreports":            {"business_id", "id", "pos", "location_id", "doc"},
	"numbers":             {"business_id", "number", "doc_kind", "doc_id"},
	"idempotency":         {"business_id", "key", "op", "target", "hash", "version", "doc_kind", "doc_id", "created_at", "expires_at"},
	"idempotency_answers": {"business_id", "key", "expires_at", "body"},
}

const copyBatch = 20000

func (c *copySink) add(table string, row ...any) error {
	c.rows[table] = append(c.rows[table], row)
	if len(c.rows[table]) >= copyBatch {
		return c.flush(table)
	}
	return nil
}

func (c *copySink) flush(table string) error {
	rows := c.rows[table]
	if len(rows) == 0 {
		return nil
	}
	if _, err := c.tx.CopyFrom(c.ctx, pgx.Identifier{table}, copyColumns[table], pgx.CopyFromRows(rows)); err != nil {
		return storeError(fmt.Errorf("copy into %s: %w", table, err), false)
	}
	c.rows[table] = rows[:0]
	if c.progress != nil && time.Since(c.last) > 10*time.Second {
		c.last = time.Now()
		c.progress(fmt.Sprintf("copied %s in %s", c.figs, time.Since(c.start).Round(time.Second)))
	}
	return nil
}

func (c *copySink) flushAll() error {
	for _, t := range posdTables {
		if err := c.flush(t); err != nil {
			return err
		}
	}
	return nil
}

func (c *copySink) doc(v any) ([]byte, error) { return json.Marshal(v) }

func (c *copySink) Business(b *engine.Business) error {
	c.figs.Businesses++
	doc, err := c.doc(b)
	if err != nil {
		return err
	}
	return c.add("businesses", b.ID, doc)
}

func (c *copySink) Location(l *engine.Location) error {
	doc, err := c.doc(l)
	if err != nil {
		return err
	}
	return c.add("locations", l.BusinessID, l.ID, doc)
}

func (c *copySink) Product(p *engine.Product) error {
	doc, err := c.doc(p)
	if err != nil {
		return err
	}
	return c.add("products", p.BusinessID, p.ID, p.SKU, doc)
}

func (c *copySink) Token(t *engine.Token) error {
	doc, err := c.doc(t)
	if err != nil {
		return err
	}
	return c.add("tokens", t.Hash[:], t.BusinessID, t.ID, doc)
}

func (c *copySink) Sale(s *engine.Sale) error {
	c.figs.Sales++
	doc, err := c.doc(s)
	if err != nil {
		return err
	}
	c.pos[s.BusinessID]++
	return c.add("sales", s.BusinessID, s.ID, c.pos[s.BusinessID], s.LocationID, doc)
}

func (c *copySink) document(table, biz, id string, v any) error {
	c.figs.Documents++
	doc, err := c.doc(v)
	if err != nil {
		return err
	}
	return c.add(table, biz, id, doc)
}

// Return is called in each location's stored order: the places it is
// given keep that order.
func (c *copySink) Return(r *engine.Return) error {
	c.figs.Documents++
	doc, err := c.doc(r)
	if err != nil {
		return err
	}
	return c.add("returns", r.BusinessID, r.ID, c.place(r.BusinessID, "#return"), r.LocationID, doc)
}

// place gives the next place of a listed table in a business.
func (c *copySink) place(biz, counter string) int64 {
	k := [2]string{biz, counter}
	c.places[k]++
	return c.places[k]
}
func (c *copySink) Receipt(r *engine.Receipt) error {
	return c.document("receipts", r.BusinessID, r.ID, r)
}
func (c *copySink) Transfer(t *engine.Transfer) error {
	return c.document("transfers", t.BusinessID, t.ID, t)
}
func (c *copySink) Adjustment(a *engine.Adjustment) error {
	return c.document("adjustments", a.BusinessID, a.ID, a)
}

// Movement keeps the ledger's order: COPY gives the identity column its
// values in the order of the rows, and the buffer is sent in order.
func (c *copySink) Movement(m *engine.Movement) error {
	c.figs.Movements++
	return c.add("movements", m.BusinessID, m.LocationID, m.ProductID, int64(m.Quantity), string(m.Doc.Kind), m.Doc.ID, m.At)
}

// Stock copies the level as the source holds it (not recomputed from the
// movements), so that Compare checks the source's levels, not ours.
func (c *copySink) Stock(biz, loc string, l engine.StockLevel) error {
	return c.add("stock", biz, loc, l.ProductID, int64(l.Quantity))
}

func (c *copySink) Counter(biz string, s engine.Series, last uint64) error {
	return c.add("counters", biz, string(s), int64(last))
}

func (c *copySink) Number(biz, number string, ref engine.DocRef) error {
	c.figs.Numbers++
	return c.add("numbers", biz, number, string(ref.Kind), ref.ID)
}

func (c *copySink) Idempotency(r *engine.IdempotencyRecord) error {
	c.figs.Idempotency++
	if err := c.add("idempotency", r.BusinessID, r.Key, r.Op, r.Target, nonNil(r.Hash), int32(r.Version), string(r.Doc.Kind), r.Doc.ID, r.CreatedAt, r.ExpiresAt); err != nil {
		return err
	}
	if r.Answer == nil {
		return nil
	}
	answer, err := c.doc(r.Answer)
	if err != nil {
		return err
	}
	return c.add("idempotency_answers", r.BusinessID, r.Key, r.ExpiresAt, answer)
}

func (c *copySink) ChainHead(biz string, s engine.Series, h engine.ChainHead) error {
	return c.add("chain_heads", biz, string(s), int64(h.Number), h.Hash)
}

func (c *copySink) Pairing(p *engine.Pairing) error {
	doc, err := c.doc(p)
	if err != nil {
		return err
	}
	return c.add("pairings", p.BusinessID, p.ID, p.Hash[:], doc)
}

func (c *copySink) TillStatus(s *engine.TillStatus) error {
	doc, err := c.doc(s)
	if err != nil {
		return err
	}
	return c.add("till_statuses", s.BusinessID, s.TillID, doc)
}

func (c *copySink) ProductImport(r *engine.ImportReport) error {
	doc, err := c.doc(r)
	if err != nil {
		return err
	}
	return c.add("product_imports", r.BusinessID, r.ID, doc)
}

func (c *copySink) Cashier(x *engine.Cashier) error {
	doc, err := c.doc(x)
	if err != nil {
		return err
	}
	var pin []byte
	scheme := ""
	if x.HasPIN {
		pin, scheme = x.PIN[:], x.PINScheme
	}
	return c.add("cashiers", x.BusinessID, x.ID, pin, scheme, doc)
}

func (c *copySink) Approval(a *engine.Approval) error {
	doc, err := c.doc(a)
	if err != nil {
		return err
	}
	return c.add("approvals", a.BusinessID, a.ID, doc)
}

// Shift and ZReport are called in each location's stored order.
func (c *copySink) Shift(s *engine.Shift) error {
	doc, err := c.doc(s)
	if err != nil {
		return err
	}
	return c.add("shifts", s.BusinessID, s.ID, c.place(s.BusinessID, "#shift"), s.LocationID, s.TillID, s.Status == engine.ShiftOpen, doc)
}

func (c *copySink) ZReport(z *engine.ZReport) error {
	c.figs.Documents++
	doc, err := c.doc(z)
	if err != nil {
		return err
	}
	return c.add("zreports", z.BusinessID, z.ID, c.place(z.BusinessID, "#z"), z.LocationID, doc)
}

// Done records the business's list lengths as its '#sale', '#return',
// '#shift' and '#z' counters, where the next places come from.
func (c *copySink) Done(biz string) error {
	if n := c.pos[biz]; n > 0 {
		if err := c.add("counters", biz, "#sale", n); err != nil {
			return err
		}
	}
	for _, ctr := range []string{"#return", "#shift", "#z"} {
		if n := c.places[[2]string{biz, ctr}]; n > 0 {
			if err := c.add("counters", biz, ctr, n); err != nil {
				return err
			}
		}
	}
	return nil
}
