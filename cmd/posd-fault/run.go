//go:build linux

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"posd/api/client"
	"posd/cmd/internal/posdproc"
	"posd/engine"
	"posd/engine/pgstore/pgtest"
)

// Config describes a run: one posd, some shops, their tills.
type Config struct {
	// Bin is the posd binary; Dir a fresh data directory.
	Bin, Dir string
	// Env is added to posd's environment (test hooks read it).
	Env []string
	// Shops is how many businesses share the posd (tenancy is part of
	// what is checked); TillsPerShop how many tills each has.
	Shops, TillsPerShop int
	// Managers adds one manager per shop who receives goods and moves
	// stock between the shop's two locations.
	Managers bool
	// InvalidEvery makes one sale in so many underpaid on purpose: posd
	// must refuse it (400) and write nothing, not even a number.
	InvalidEvery int
	// Attempt bounds each HTTP attempt of the tills' client.
	Attempt time.Duration
	// Pace is the mean pause of a till between two intents (0: none).
	Pace time.Duration
	// Verify checks the data dir while posd is down (check 6), and
	// FinalVerify (Verify when nil) at the end.
	Verify, FinalVerify func(dir string) error
	// BeforeRestart runs each time posd died, before Verify (the power
	// cut of the power-loss profile).
	BeforeRestart func() error
	// Log receives progress lines; nil discards them.
	Log io.Writer
	// Database is a PostgreSQL URL every posd serves from ("" for the
	// embedded database in Dir); Nodes how many posd processes serve it
	// behind the proxy (default 1).
	Database string
	Nodes    int
}

// Run is one harness run in progress.
type Run struct {
	cfg Config
	// Posd is the first posd process, Posds all of them.
	Posd    *Posd
	Posds   []*Posd
	PG      *pgtest.Cluster // the PostgreSQL profiles' server
	Proxy   *Proxy
	History *History
	shops   []*shopFixture

	mu      sync.Mutex
	intents []*Intent

	stop    chan struct{}
	abort   chan struct{}
	wg      sync.WaitGroup
	started time.Time
	// tender makes every sale's cash amount unique.
	tender atomic.Int64
	// inflight counts intents sent and not yet answered for good.
	inflight atomic.Int64
	// Faults counts injected faults by kind, for the report.
	Faults map[string]int
	// disk is the power-loss profile's disk, nil otherwise.
	disk *lossyDisk
	// diskFullAcks lists what went wrong while the disk was full.
	diskFullAcks []string
}

// shopFixture is one business as the harness set it up.
type shopFixture struct {
	index    int
	shop     *posdproc.Shop
	owner    *client.Client // straight to posd, for setup and read-back
	locs     []string
	products []*engine.Product
	initial  map[stockKey]engine.Quantity
	tills    []string // tokens
	manager  string
}

type stockKey struct{ loc, product string }

// Intent is one thing a till meant to do, with the key that names it.
type Intent struct {
	Shop int
	Till string
	Kind string // sale, refund, receipt, approve, transfer, send, receive
	Key  string
	// The request; Target is the document a refund, approve, send or
	// receive acts on.
	Sale     *client.SaleRequest
	Refund   *client.RefundRequest
	Receipt  *client.ReceiptRequest
	Transfer *client.TransferRequest
	Target   string
	// WantCode is the refusal the harness expects; "" for a valid request.
	WantCode string

	// Outcome, as the till saw it.
	Done  bool
	Acked bool
	Code  string // code of a final refusal
	DocID string
}

// NewRun initialises the shops, starts posd behind the proxy and sets up
// products, tokens and initial stock, without faults.
func NewRun(cfg Config) (*Run, error) {
	if cfg.Shops == 0 {
		cfg.Shops = 2
	}
	if cfg.TillsPerShop == 0 {
		cfg.TillsPerShop = 4
	}
	if cfg.Attempt == 0 {
		cfg.Attempt = 2 * time.Second
	}
	if cfg.Log == nil {
		cfg.Log = io.Discard
	}
	if cfg.Nodes == 0 {
		cfg.Nodes = 1
	}
	r := &Run{cfg: cfg, History: &History{}, stop: make(chan struct{}), abort: make(chan struct{}), Faults: map[string]int{}}
	var addrs []string
	for n := 0; n < cfg.Nodes; n++ {
		addr, err := posdproc.FreeAddr()
		if err != nil {
			return nil, err
		}
		p := &Posd{Bin: cfg.Bin, Dir: cfg.Dir, Addr: addr, Env: cfg.Env, Verify: cfg.Verify, BeforeRestart: cfg.BeforeRestart}
		if cfg.Database != "" {
			// Each process has a data dir of its own (certificates,
			// backups); the database is the one they share.
			p.Dir = filepath.Join(cfg.Dir, fmt.Sprintf("node-%d", n))
			p.Args = []string{"--database", cfg.Database, "--backup-every", "0"}
		}
		r.Posds = append(r.Posds, p)
		addrs = append(addrs, addr)
	}
	r.Posd = r.Posds[0]
	for i := 0; i < cfg.Shops; i++ {
		s, err := initShop(cfg, r.Posd.Dir, fmt.Sprintf("Shop %d", i))
		if err != nil {
			return nil, err
		}
		r.shops = append(r.shops, &shopFixture{index: i, shop: s, initial: map[stockKey]engine.Quantity{}})
	}
	for _, p := range r.Posds {
		if err := p.Start(); err != nil {
			r.closePosds()
			return nil, err
		}
	}
	var err error
	if r.Proxy, err = NewProxy(addrs...); err != nil {
		r.closePosds()
		return nil, err
	}
	for _, f := range r.shops {
		if err := r.setup(f); err != nil {
			r.Close()
			return nil, fmt.Errorf("setting up shop %d: %w", f.index, err)
		}
	}
	return r, nil
}

// setup gives a shop a second location, three products, one till token
// per till, a manager token and stock everywhere.
func (r *Run) setup(f *shopFixture) error {
	ctx := context.Background()
	f.owner = client.New("http://"+r.Posd.Addr, f.shop.OwnerToken)
	f.owner.Retry = &client.RetryPolicy{MaxRetries: 5, BaseDelay: 100 * time.Millisecond, MaxDelay: 2 * time.Second, AttemptTimeout: 10 * time.Second}
	l2, err := f.owner.CreateLocation(ctx, "", "Store room")
	if err != nil {
		return err
	}
	f.locs = []string{f.shop.LocationID, l2.ID}
	for i, price := range []engine.Money{150, 1999, 75} {
		rate := engine.TaxRate(1000 * i)
		p, err := f.owner.CreateProduct(ctx, "", client.ProductRequest{SKU: fmt.Sprintf("SKU-%d", i), Name: fmt.Sprintf("Product %d", i), Price: price, TaxRate: &rate})
		if err != nil {
			return err
		}
		f.products = append(f.products, p)
	}
	for i := 0; i < r.cfg.TillsPerShop; i++ {
		tok, err := f.owner.CreateToken(ctx, "", client.TokenRequest{Role: engine.RoleTill, Name: fmt.Sprintf("till %d", i)})
		if err != nil {
			return err
		}
		if tok.Secret == nil {
			return fmt.Errorf("till token %d: the answer carried no secret", i)
		}
		f.tills = append(f.tills, *tok.Secret)
	}
	tok, err := f.owner.CreateToken(ctx, "", client.TokenRequest{Role: engine.RoleManager, Name: "manager"})
	if err != nil {
		return err
	}
	if tok.Secret == nil {
		return fmt.Errorf("manager token: the answer carried no secret")
	}
	f.manager = *tok.Secret
	for _, loc := range f.locs {
		var lines []client.Line
		for _, p := range f.products {
			lines = append(lines, client.Line{ProductID: p.ID, Quantity: engine.Q(100000)})
			f.initial[stockKey{loc, p.ID}] += engine.Q(100000)
		}
		if _, err := f.owner.AdjustStock(ctx, "", client.AdjustmentRequest{LocationID: loc, Items: lines, Reason: "opening stock"}); err != nil {
			return err
		}
	}
	return nil
}

// tillClient is the real Go client, through the proxy, recording every
// attempt; its own retries are short so that the till's queue (the loop in
// send) does the long waiting, with the same key, as a real till does.
func (r *Run) tillClient(f *shopFixture, name, token string) *client.Client {
	c := client.New("http://"+r.Proxy.Addr(), token)
	tr := &http.Transport{MaxIdleConnsPerHost: 4, IdleConnTimeout: 5 * time.Second}
	c.HTTP = &http.Client{Transport: &recorder{h: r.History, shop: f.index, till: name, base: tr}}
	c.Retry = &client.RetryPolicy{MaxRetries: 3, BaseDelay: 50 * time.Millisecond, MaxDelay: time.Second, Jitter: 0.5, AttemptTimeout: r.cfg.Attempt}
	return c
}

// StartLoad starts every till and manager.
func (r *Run) StartLoad() {
	r.started = time.Now()
	for _, f := range r.shops {
		for i, tok := range f.tills {
			name := fmt.Sprintf("t%d", i)
			r.wg.Add(1)
			go r.till(f, name, r.tillClient(f, name, tok))
		}
		if r.cfg.Managers {
			r.wg.Add(1)
			go r.managerLoop(f, r.tillClient(f, "m", f.manager))
		}
	}
}

func (r *Run) stopping() bool {
	select {
	case <-r.stop:
		return true
	default:
		return false
	}
}

// till rings up sales, and now and then refunds one of its own.
func (r *Run) till(f *shopFixture, name string, c *client.Client) {
	defer r.wg.Done()
	var mine []*engine.Sale
	for seq := 0; !r.stopping(); seq++ {
		// Keys are the same in every shop: two businesses using the same key
		// are two independent requests (contract §3).
		key := fmt.Sprintf("%s-%d", name, seq)
		if len(mine) > 0 && rand.IntN(8) == 0 {
			s := mine[rand.IntN(len(mine))]
			mine = deleteSale(mine, s)
			restock := rand.IntN(5) != 0
			in := &Intent{Shop: f.index, Till: name, Kind: "refund", Key: key, Target: s.ID,
				Refund: &client.RefundRequest{Items: []client.Line{{ProductID: s.Items[0].ProductID, Quantity: s.Items[0].Quantity}}, Restock: &restock}}
			r.send(in, func(ctx context.Context) (string, error) {
				ret, err := c.Refund(ctx, key, s.ID, *in.Refund)
				return ret.ID, err
			})
			continue
		}
		in := &Intent{Shop: f.index, Till: name, Kind: "sale", Key: key, Sale: r.saleRequest(f)}
		if r.cfg.InvalidEvery > 0 && rand.IntN(r.cfg.InvalidEvery) == 0 {
			in.Sale.Payments = []engine.Payment{{Method: engine.MethodCard, Amount: 1}}
			in.WantCode = engine.EINVALID
		}
		var sale *engine.Sale
		r.send(in, func(ctx context.Context) (string, error) {
			s, err := c.CreateSale(ctx, key, *in.Sale)
			sale = s
			return s.ID, err
		})
		if in.Acked {
			mine = append(mine, sale)
		}
	}
}

func deleteSale(ss []*engine.Sale, s *engine.Sale) []*engine.Sale {
	for i, x := range ss {
		if x == s {
			return append(ss[:i], ss[i+1:]...)
		}
	}
	return ss
}

var quantities = []engine.Quantity{engine.Q(1), engine.Q(2), 250, 1500, engine.Q(3)}

func (r *Run) saleRequest(f *shopFixture) *client.SaleRequest {
	req := &client.SaleRequest{LocationID: f.locs[rand.IntN(len(f.locs))]}
	for _, i := range rand.Perm(len(f.products))[:1+rand.IntN(len(f.products))] {
		req.Items = append(req.Items, client.SaleLine{ProductID: f.products[i].ID, Quantity: quantities[rand.IntN(len(quantities))]})
	}
	// Cash covers any of these carts; the change is posd's business. The
	// amount is unique in the run: it fingerprints the sale, so the checks
	// can tell which request made a document without trusting posd's own
	// idempotency records.
	req.Payments = []engine.Payment{{Method: engine.MethodCash, Amount: 100000 + engine.Money(r.tender.Add(1))}}
	return req
}

// managerLoop receives goods and moves stock, each step its own intent.
func (r *Run) managerLoop(f *shopFixture, c *client.Client) {
	defer r.wg.Done()
	for seq := 0; !r.stopping(); seq++ {
		key := func(step string) string { return fmt.Sprintf("m-%d-%s", seq, step) }
		p := f.products[rand.IntN(len(f.products))].ID
		if seq%2 == 0 {
			rc := &Intent{Shop: f.index, Till: "m", Kind: "receipt", Key: key("create"),
				Receipt: &client.ReceiptRequest{LocationID: f.locs[rand.IntN(2)], Supplier: "Supplier", Items: []client.ReceiptLine{{ProductID: p, Quantity: engine.Q(5), UnitCost: 90}}}}
			r.send(rc, func(ctx context.Context) (string, error) {
				x, err := c.CreateReceipt(ctx, rc.Key, *rc.Receipt)
				return x.ID, err
			})
			if !rc.Acked {
				continue
			}
			ap := &Intent{Shop: f.index, Till: "m", Kind: "approve", Key: key("approve"), Target: rc.DocID}
			r.send(ap, func(ctx context.Context) (string, error) {
				x, err := c.ApproveReceipt(ctx, ap.Key, ap.Target)
				return x.ID, err
			})
			continue
		}
		tr := &Intent{Shop: f.index, Till: "m", Kind: "transfer", Key: key("create"),
			Transfer: &client.TransferRequest{FromLocationID: f.locs[0], ToLocationID: f.locs[1], Items: []client.Line{{ProductID: p, Quantity: engine.Q(1)}}}}
		r.send(tr, func(ctx context.Context) (string, error) {
			x, err := c.CreateTransfer(ctx, tr.Key, *tr.Transfer)
			return x.ID, err
		})
		if !tr.Acked {
			continue
		}
		for _, step := range []string{"send", "receive"} {
			st := &Intent{Shop: f.index, Till: "m", Kind: step, Key: key(step), Target: tr.DocID}
			r.send(st, func(ctx context.Context) (string, error) {
				var x *engine.Transfer
				var err error
				if step == "send" {
					x, err = c.SendTransfer(ctx, st.Key, st.Target)
				} else {
					x, err = c.ReceiveTransfer(ctx, st.Key, st.Target)
				}
				return x.ID, err
			})
			if !st.Acked {
				break
			}
		}
	}
}

// drainLimit bounds how long a till keeps an intent in its queue after the
// run was told to stop and every fault was healed.
const drainLimit = 90 * time.Second

// send is the till's queue for one intent: it calls until posd gives a
// final answer (2xx, or a refusal that retrying cannot change), with the
// same key every time.
func (r *Run) send(in *Intent, call func(ctx context.Context) (string, error)) {
	if r.cfg.Pace > 0 {
		r.Sleep(time.Duration(rand.Int64N(int64(2 * r.cfg.Pace))))
	}
	r.mu.Lock()
	r.intents = append(r.intents, in)
	r.mu.Unlock()
	r.inflight.Add(1)
	defer r.inflight.Add(-1)
	var giveUp <-chan time.Time
	for {
		id, err := call(context.Background())
		if err == nil {
			in.Done, in.Acked, in.DocID = true, true, id
			return
		}
		var e *engine.Error
		if errors.As(err, &e) && !retryableCode(e.Code) {
			in.Done, in.Code = true, e.Code
			return
		}
		if giveUp == nil && r.stopping() {
			giveUp = time.After(drainLimit)
		}
		select {
		case <-giveUp:
			return // not drained: reported by the checks
		case <-r.abort:
			return
		case <-time.After(time.Duration(50+rand.IntN(200)) * time.Millisecond):
		}
	}
}

// retryableCode tells the codes a till keeps retrying with the same key.
func retryableCode(code string) bool {
	switch code {
	case engine.EUNAVAILABLE, engine.EINTERNAL, client.ERATELIMITED, engine.EIDEMPOTENCYINPROGRESS:
		return true
	}
	return false
}

// Inflight is how many intents wait for an answer.
func (r *Run) Inflight() int { return int(r.inflight.Load()) }

// Drain heals the network, stops new intents and waits until every till's
// queue is empty (or drainLimit passes).
func (r *Run) Drain() time.Duration {
	r.Proxy.Set(NetFaults{})
	start := time.Now()
	close(r.stop)
	r.wg.Wait()
	return time.Since(start)
}

// Intents returns the intents of the run.
func (r *Run) Intents() []*Intent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*Intent(nil), r.intents...)
}

// Sleep waits d, or less when the load already stopped.
func (r *Run) Sleep(d time.Duration) {
	select {
	case <-time.After(d):
	case <-r.stop:
	}
}

// Logf writes a progress line.
func (r *Run) Logf(format string, args ...any) {
	fmt.Fprintf(r.cfg.Log, "%7.2fs  %s\n", time.Since(r.started).Seconds(), fmt.Sprintf(format, args...))
}

// progress logs every tenth fault, and the last.
func (r *Run) progress(what string, n, of int) {
	if n%10 == 0 || n == of {
		r.Logf("%s %d/%d: %d attempts, %d intents in flight", what, n, of, r.History.Len(), r.Inflight())
	}
}

// Close stops everything the run started.
func (r *Run) Close() {
	select {
	case <-r.stop:
	default:
		close(r.stop)
	}
	select {
	case <-r.abort:
	default:
		close(r.abort)
	}
	if r.Proxy != nil {
		r.Proxy.Close()
	}
	r.wg.Wait()
	r.closePosds()
}

func (r *Run) closePosds() {
	for _, p := range r.Posds {
		p.Close()
	}
}

// initShop makes a business with posd init --json: in the data dir, or in
// the PostgreSQL database.
func initShop(cfg Config, dir, name string) (*posdproc.Shop, error) {
	if cfg.Database == "" {
		return posdproc.Init(context.Background(), cfg.Bin, dir, name)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	cmd := exec.Command(cfg.Bin, "init", "--data-dir", dir, "--database", cfg.Database, "--business", name, "--timezone", "UTC", "--json")
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("posd init --database: %v: %s", err, bytes.TrimSpace(se.Bytes()))
	}
	var s posdproc.Shop
	if err := json.Unmarshal(so.Bytes(), &s); err != nil || s.OwnerToken == "" {
		return nil, fmt.Errorf("posd init --json printed %q (%v)", so.String(), err)
	}
	return &s, nil
}

// location is where the database is, for the checks at rest: the data
// dir, or the PostgreSQL URL.
func (r *Run) location() string {
	if r.cfg.Database != "" {
		return r.cfg.Database
	}
	return r.cfg.Dir
}

// Deaths sums the posd processes' unasked deaths, restarts and checks at
// rest.
func (r *Run) Deaths() (deaths, restarts, verified int, errs, stderr []string) {
	for _, p := range r.Posds {
		p.mu.Lock()
		deaths, restarts, verified = deaths+p.Deaths, restarts+p.Restarts, verified+p.Verified
		errs, stderr = append(errs, p.VerifyErrors...), append(stderr, p.DeathStderr...)
		p.mu.Unlock()
	}
	return
}
