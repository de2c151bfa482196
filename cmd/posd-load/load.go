//go:build linux

package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"posd/api/client"
	"posd/engine"
)

// Config describes one load run.
type Config struct {
	// URL is the server's base address, such as http://127.0.0.1:8080.
	// AlsoURLs are more posd processes serving the same database: the
	// tills are spread over all of them, round robin.
	URL      string
	AlsoURLs []string
	// Token is an owner token: the run sets up its products and till
	// tokens with it and reads the stored sales back with it.
	Token string
	// Tills is the number of concurrent tills; each sends one request at
	// a time, as a real till does.
	Tills int
	// Duration bounds the run after Warmup; Count, when set, stops it
	// after that many new sales instead.
	Duration time.Duration
	Count    int
	// PerTill makes every till submit exactly this many new sales and
	// nothing else (the drain scenario); the bodies are built beforehand.
	PerTill int
	// Warmup is run first and left out of the figures (not out of the
	// verification).
	Warmup time.Duration
	// Products is how many products the shop has (created if missing);
	// Lines is the number of lines per sale.
	Products int
	Lines    int
	// The mix: shares of the requests that retry an acknowledged key,
	// submit a new sale twice at once, or refund an earlier sale.
	RetryRate, DoubleRate, RefundRate float64
	// Bare targets posd-load bare-server: no set-up, no replay checks,
	// no verification.
	Bare bool
	// Verify reads the stored documents back after the run.
	Verify bool
	// PID is the server's process, for its RSS and CPU time (0: unknown).
	PID int
	// Timeout bounds each request.
	Timeout time.Duration
	// Seed makes the mix repeatable.
	Seed int64
	// Label names the run in reports.
	Label string
}

func (c *Config) defaults() {
	if c.Tills <= 0 {
		c.Tills = 1
	}
	if c.Products <= 0 {
		c.Products = 200
	}
	if c.Lines <= 0 {
		c.Lines = 3
	}
	if c.Timeout <= 0 {
		c.Timeout = 30 * time.Second
	}
	if c.Duration <= 0 && c.Count <= 0 && c.PerTill <= 0 {
		c.Duration = 10 * time.Second
	}
	if c.PerTill > 0 {
		c.RetryRate, c.DoubleRate, c.RefundRate = 0, 0, 0
	}
	c.URL = strings.TrimRight(c.URL, "/")
}

// shop is what the tills sell from.
type shop struct {
	location string
	products []product
	tills    []string // one till token per till
}

type product struct {
	id    string
	price int64
}

// setup prepares the shop through the API with the owner token: it uses the
// business's first location, creates products up to cfg.Products and one
// till token per till, bound to the location.
func setup(ctx context.Context, cfg *Config, hc *http.Client) (*shop, error) {
	if cfg.Bare {
		s := &shop{location: "0190c0de-0000-7000-8000-000000000001"}
		for i := range cfg.Products {
			s.products = append(s.products, product{id: fmt.Sprintf("0190c0de-0000-7000-8000-%012d", i+2), price: 100 + int64(i*37)%900})
		}
		for range cfg.Tills {
			s.tills = append(s.tills, "bare")
		}
		return s, nil
	}
	if cfg.Token == "" {
		return nil, usageError{"an owner token is needed (--token, or --posd to start posd and make one)"}
	}
	owner := client.New(cfg.URL, cfg.Token)
	owner.HTTP = hc
	locs, err := owner.Locations(ctx)
	if err != nil {
		return nil, fmt.Errorf("listing locations with the owner token: %w", err)
	}
	if len(locs) == 0 {
		return nil, fmt.Errorf("the business has no location")
	}
	s := &shop{location: locs[0].ID}
	have, err := owner.Products(ctx, false)
	if err != nil {
		return nil, fmt.Errorf("listing products: %w", err)
	}
	for _, p := range have {
		if len(s.products) < cfg.Products {
			s.products = append(s.products, product{id: p.ID, price: int64(p.Price)})
		}
	}
	rate := engine.TaxRate(2000)
	for i := len(s.products); i < cfg.Products; i++ {
		p, err := owner.CreateProduct(ctx, "", client.ProductRequest{SKU: fmt.Sprintf("LOAD-%05d", i), Name: fmt.Sprintf("Load product %d", i),
			Price: engine.Money(100 + (i*37)%900), TaxRate: &rate})
		if err != nil {
			return nil, fmt.Errorf("creating product %d: %w", i, err)
		}
		s.products = append(s.products, product{id: p.ID, price: int64(p.Price)})
	}
	for i := range cfg.Tills {
		t, err := owner.CreateToken(ctx, "", client.TokenRequest{Role: engine.RoleTill, Name: fmt.Sprintf("posd-load till %d", i+1), LocationID: &s.location})
		if err != nil {
			return nil, fmt.Errorf("creating till token %d: %w", i+1, err)
		}
		if t.Secret == nil {
			return nil, fmt.Errorf("the answer to POST /api/tokens carried no token")
		}
		s.tills = append(s.tills, *t.Secret)
	}
	return s, nil
}

// newHTTPClient returns a client with one keep-alive connection per till
// (two for a double submit), as a shop's tills would hold.
func newHTTPClient(tills int, timeout time.Duration) *http.Client {
	tr := &http.Transport{
		Proxy:               nil,
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        2*tills + 8,
		MaxIdleConnsPerHost: 2*tills + 8,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	return &http.Client{Transport: tr, Timeout: timeout}
}

// Run runs a load against cfg.URL and returns its report.
func Run(ctx context.Context, cfg Config) (*Report, error) {
	cfg.defaults()
	hc := newHTTPClient(cfg.Tills, cfg.Timeout)
	defer hc.CloseIdleConnections()
	s, err := setup(ctx, &cfg, hc)
	if err != nil {
		return nil, err
	}
	var base *baseline
	if cfg.Verify && !cfg.Bare {
		if base, err = takeBaseline(ctx, &cfg, hc); err != nil {
			return nil, err
		}
	}
	tills := make([]*till, cfg.Tills)
	for i := range tills {
		tills[i] = newTill(i, &cfg, s)
		if cfg.PerTill > 0 {
			tills[i].prebuild(cfg.PerTill)
		}
	}
	// Open every till's connection first so that the run measures
	// requests, not TCP handshakes.
	var wg sync.WaitGroup
	for _, t := range tills {
		wg.Add(1)
		go func() { defer wg.Done(); t.warm() }()
	}
	wg.Wait()

	proc := newProcWatch(cfg.PID)
	idle := proc.sample()
	stopSampler := proc.start(100 * time.Millisecond)
	var stop atomic.Bool
	var started atomic.Int64
	start := time.Now()
	window := start.Add(cfg.Warmup)
	var winSnap, endSnap procSnap
	var snapOnce sync.Once
	takeWin := func() { snapOnce.Do(func() { winSnap = proc.snap() }) }
	if cfg.Warmup <= 0 {
		takeWin()
	} else {
		time.AfterFunc(cfg.Warmup, takeWin)
	}
	if cfg.Duration > 0 && cfg.PerTill == 0 {
		t := time.AfterFunc(cfg.Warmup+cfg.Duration, func() { stop.Store(true) })
		defer t.Stop()
	}
	go func() {
		<-ctx.Done()
		stop.Store(true)
	}()
	for _, t := range tills {
		wg.Add(1)
		go func() {
			defer wg.Done()
			t.loop(&stop, &started, window)
		}()
	}
	wg.Wait()
	end := time.Now()
	for _, t := range tills {
		t.close()
	}
	takeWin()
	endSnap = proc.snap()
	maxRSS := stopSampler()
	r := newReport(&cfg, tills, window, end)
	r.Server = proc.figures(idle, maxRSS, winSnap, endSnap, r.Requests)
	r.Loader = loaderFigures(winSnap, endSnap, r.Requests)
	if cfg.PerTill > 0 {
		r.DrainSeconds = end.Sub(start).Seconds()
	}
	if cfg.Verify && !cfg.Bare {
		r.Verify = verify(ctx, &cfg, hc, base, tills)
	}
	return r, nil
}
