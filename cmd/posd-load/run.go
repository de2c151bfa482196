//go:build linux

package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"time"
)

// target is where a run goes: a posd at --url with --token, or one
// posd-load starts itself with --posd.
type target struct {
	url, token, posd, dataDir string
	pid                       int
	bare                      bool
}

func (t *target) flags(fs *flag.FlagSet) {
	fs.StringVar(&t.url, "url", "http://127.0.0.1:8080", "base URL of a running posd (or bare-server)")
	fs.StringVar(&t.token, "token", os.Getenv("POSD_TOKEN"), "owner token of the business to load ($POSD_TOKEN)")
	fs.IntVar(&t.pid, "pid", 0, "process id of the server at --url, to report its RSS and CPU time")
	fs.StringVar(&t.posd, "posd", "", "path to a posd binary: start it on --data-dir instead of using --url (initialised with posd init --json when empty)")
	fs.StringVar(&t.dataDir, "data-dir", "", "data directory for --posd (default: a temporary one, removed afterwards)")
	fs.BoolVar(&t.bare, "bare", false, "the target is posd-load bare-server: no set-up, no replay checks, no verification")
}

// open starts posd when asked and fills cfg's target fields; the returned
// function stops what it started.
func (t *target) open(ctx context.Context, cfg *Config, stdout io.Writer) (func() error, error) {
	cfg.URL, cfg.Token, cfg.PID, cfg.Bare = t.url, t.token, t.pid, t.bare
	if t.posd == "" {
		return func() error { return nil }, nil
	}
	dir, tmp := t.dataDir, false
	if dir == "" {
		d, err := os.MkdirTemp("", "posd-load-")
		if err != nil {
			return nil, err
		}
		dir, tmp = d, true
	}
	if hasDB(dir) && t.token == "" {
		return nil, usageError{"--data-dir " + dir + " already holds a database: give its owner --token"}
	}
	s, err := startPosd(ctx, t.posd, dir, t.token)
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(stdout, "started posd (pid %d) on %s at %s in %v\n", s.pid(), dir, s.url, s.started.Round(time.Millisecond))
	cfg.URL, cfg.Token, cfg.PID = s.url, s.token, s.pid()
	return func() error {
		err := s.stop()
		if tmp {
			os.RemoveAll(dir)
		}
		return err
	}, nil
}

func mixFlags(fs *flag.FlagSet, cfg *Config) {
	fs.IntVar(&cfg.Products, "products", 200, "products in the shop (created when missing)")
	fs.IntVar(&cfg.Lines, "lines", 3, "lines per sale")
	fs.DurationVar(&cfg.Timeout, "timeout", 30*time.Second, "limit for each request")
	fs.Int64Var(&cfg.Seed, "seed", 0, "random seed for the mix (0: from the clock)")
	fs.BoolVar(&cfg.Verify, "verify", true, "read the stored documents back afterwards and compare them with the acknowledgements")
	fs.StringVar(&cfg.Label, "label", "", "name of the run in the report")
}

func runRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("run", "[--url URL --token T | --posd BIN [--data-dir DIR]] [--tills N] [--duration D | --count N] [--json]", stderr)
	var tg target
	tg.flags(fs)
	var cfg Config
	mixFlags(fs, &cfg)
	fs.IntVar(&cfg.Tills, "tills", 16, "concurrent tills (each one request at a time)")
	fs.DurationVar(&cfg.Duration, "duration", 10*time.Second, "how long to run after the warm-up")
	fs.IntVar(&cfg.Count, "count", 0, "stop after this many operations (a double submit is one) instead of after --duration")
	fs.DurationVar(&cfg.Warmup, "warmup", time.Second, "warm-up left out of the figures")
	fs.Float64Var(&cfg.RetryRate, "retry", 0.05, "share of requests that retry an acknowledged key")
	fs.Float64Var(&cfg.DoubleRate, "double", 0.01, "share of operations that submit a new sale twice at once")
	fs.Float64Var(&cfg.RefundRate, "refund", 0.02, "share of requests that refund one item of an earlier sale")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	if cfg.Count > 0 {
		cfg.Duration = 0
	}
	return loadAndReport(ctx, &tg, cfg, *asJSON, stdout)
}

func runDrain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("drain", "[--url URL --token T | --posd BIN [--data-dir DIR]] [--tills 20] [--queue 500] [--json]", stderr)
	var tg target
	tg.flags(fs)
	var cfg Config
	mixFlags(fs, &cfg)
	fs.IntVar(&cfg.Tills, "tills", 20, "tills with a queue each")
	fs.IntVar(&cfg.PerTill, "queue", 500, "queued sales per till")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := parse(fs, args); err != nil {
		return err
	}
	if cfg.PerTill <= 0 {
		return usageError{"--queue must be positive"}
	}
	cfg.Label = "drain"
	return loadAndReport(ctx, &tg, cfg, *asJSON, stdout)
}

func loadAndReport(ctx context.Context, tg *target, cfg Config, asJSON bool, stdout io.Writer) error {
	msgs := stdout
	if asJSON {
		msgs = io.Discard
	}
	stop, err := tg.open(ctx, &cfg, msgs)
	if err != nil {
		return err
	}
	r, err := Run(ctx, cfg)
	if serr := stop(); serr != nil && err == nil {
		err = serr
	}
	if err != nil {
		return err
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(r); err != nil {
			return err
		}
	} else {
		r.print(stdout)
	}
	if !r.ok() {
		return fmt.Errorf("the run was not clean: %d non-2xx or failed requests, %d findings, verification ok=%v", r.Non2xx, r.NFindings, r.Verify == nil || r.Verify.OK)
	}
	return nil
}
