//go:build linux

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// SuiteResult holds every figure of BENCHMARKS.md.
type SuiteResult struct {
	Started time.Time         `json:"started"`
	Machine string            `json:"machine"`
	Seconds float64           `json:"secondsPerRun"`
	Tills   []int             `json:"tills"`
	PG      map[int]*PGResult `json:"pg,omitempty"`
	PGSkip  string            `json:"pgSkipped,omitempty"`
	Bare    map[int]*Report   `json:"bare"`
	Posd    map[int]*Report   `json:"posd"`
	// PosdIdleRSSMB is posd's RSS right after it started on an empty
	// database, before any request.
	PosdIdleRSSMB float64    `json:"posdIdleRssMB"`
	PosdStartMs   float64    `json:"posdStartMs"`
	Drain         *Report    `json:"drain"`
	Big           *BigResult `json:"big,omitempty"`
	BigSkip       string     `json:"bigSkipped,omitempty"`
	// Before and After describe how busy the machine was.
	Before Probe `json:"machineBefore"`
	After  Probe `json:"machineAfter"`
}

// BigResult is posd on a database with many sales.
type BigResult struct {
	Sales   int     `json:"sales"`
	DBMB    float64 `json:"dbMB"`
	SeedSec float64 `json:"seedSeconds"`
	// ColdStartMs lists each start from exec to the first health answer;
	// IdleRSSMB the RSS right after each.
	ColdStartMs []float64 `json:"coldStartMs"`
	IdleRSSMB   []float64 `json:"idleRssMB"`
	// FirstSaleMs is the first sale's latency after a start.
	FirstSaleMs float64 `json:"firstSaleMs"`
	Run         *Report `json:"run"`
}

// suite is one run of the suite: what its flags ask for and the figures
// measured so far. Each step measures the figures of one table of
// BENCHMARKS.md.
type suite struct {
	posd    string // absolute path of the posd binary
	secs    time.Duration
	tills   []int
	scratch string
	log     io.Writer
	res     *SuiteResult

	pgScript          string
	skipPG, pgInstall bool
	bigSales          int
	bigDir            string
	drainTills        int
	drainQueue        int
}

// suiteWarmup is the warm-up before each throughput run.
const suiteWarmup = time.Second

// withSuiteMix sets the suite's mix of retries, double submits and refunds
// on a throughput run.
func withSuiteMix(cfg Config) Config {
	cfg.RetryRate, cfg.DoubleRate, cfg.RefundRate = 0.05, 0.01, 0.02
	return cfg
}

func runSuite(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("suite", "[--posd bin/posd] [--seconds 10] [--out results.json]", stderr)
	s := &suite{log: stderr}
	posd := fs.String("posd", "bin/posd", "posd binary to measure")
	fs.DurationVar(&s.secs, "seconds", 10*time.Second, "length of each throughput run (after a 1 s warm-up)")
	tillsFlag := fs.String("tills", "1,16,64", "till counts to compare")
	fs.StringVar(&s.pgScript, "pg-script", defaultPGScript(), "the seed-design PostgreSQL yardstick script")
	fs.BoolVar(&s.skipPG, "skip-pg", false, "leave out the PostgreSQL yardstick")
	fs.BoolVar(&s.pgInstall, "pg-install", true, "install PostgreSQL with apt-get when it is missing")
	fs.IntVar(&s.bigSales, "big-sales", 1_000_000, "sales in the large database (0 leaves the large-database figures out)")
	fs.StringVar(&s.bigDir, "big-dir", "bench-data/1m", "where the large database is kept between runs (seeded when missing)")
	work := fs.String("work", "", "scratch directory (default: a temporary one)")
	out := fs.String("out", "", "write every figure as JSON to this file")
	fs.IntVar(&s.drainTills, "drain-tills", 20, "tills of the drain scenario")
	fs.IntVar(&s.drainQueue, "drain-queue", 500, "queued sales per till in the drain scenario")
	if err := parse(fs, args); err != nil {
		return err
	}
	var err error
	if s.tills, err = parseInts(*tillsFlag); err != nil {
		return usageError{"--tills: " + err.Error()}
	}
	if _, err := os.Stat(*posd); err != nil {
		return usageError{fmt.Sprintf("--posd %s: %v (run make build first)", *posd, err)}
	}
	s.posd, _ = filepath.Abs(*posd)
	if s.scratch = *work; s.scratch == "" {
		if s.scratch, err = os.MkdirTemp("", "posd-suite-"); err != nil {
			return err
		}
		defer os.RemoveAll(s.scratch)
	}
	s.res = &SuiteResult{Started: time.Now().UTC(), Machine: machine(), Seconds: s.secs.Seconds(), Tills: s.tills,
		PG: map[int]*PGResult{}, Bare: map[int]*Report{}, Posd: map[int]*Report{}}
	s.res.Before = probe(s.scratch)
	fmt.Fprintf(s.log, "suite: machine before: %v\n", s.res.Before)

	s.postgres(ctx)
	for _, step := range []func(context.Context) error{s.bareHTTP, s.posdEmpty, s.drain, s.bigDatabase} {
		if err := step(ctx); err != nil {
			return err
		}
	}

	s.res.After = probe(s.scratch)
	s.res.print(stdout)
	if *out != "" {
		return s.write(*out)
	}
	return nil
}

// postgres measures the seed's design on PostgreSQL at each till count; a
// machine without PostgreSQL skips it and says why.
func (s *suite) postgres(ctx context.Context) {
	if s.skipPG {
		s.res.PGSkip = "--skip-pg"
		return
	}
	c, err := ensurePG(ctx, s.pgInstall, s.log)
	if err != nil {
		s.res.PGSkip = err.Error()
		fmt.Fprintf(s.log, "suite: PostgreSQL yardstick skipped: %v\n", err)
		return
	}
	defer c.stop()
	for _, n := range s.tills {
		fmt.Fprintf(s.log, "suite: seed-design PostgreSQL, %d clients, %v\n", n, s.secs)
		r, err := runPG(ctx, s.pgScript, n, s.secs)
		if err != nil {
			s.res.PGSkip = err.Error()
			fmt.Fprintf(s.log, "suite: PostgreSQL yardstick failed: %v\n", err)
			return
		}
		s.res.PG[n] = r
	}
}

// bareHTTP measures the bare-HTTP ceiling at each till count.
func (s *suite) bareHTTP(ctx context.Context) error {
	bare, err := startBare(filepath.Join(s.scratch, "bare.log"))
	if err != nil {
		return err
	}
	defer bare.stop()
	for _, n := range s.tills {
		fmt.Fprintf(s.log, "suite: bare HTTP, %d tills, %v\n", n, s.secs)
		r, err := Run(ctx, withSuiteMix(Config{URL: bare.url, Bare: true, Tills: n, Duration: s.secs, Warmup: suiteWarmup, PID: bare.pid(),
			Label: fmt.Sprintf("bare HTTP, %d tills", n)}))
		if err != nil {
			return err
		}
		s.res.Bare[n] = r
	}
	return nil
}

// posdEmpty measures posd on a database that starts empty, at each till
// count, and its start time and idle memory on the empty database. Each
// till count gets a fresh posd process on the same data (the database
// grows from run to run), so that one run's memory figures do not include
// the pages an earlier run's verification read.
func (s *suite) posdEmpty(ctx context.Context) error {
	dir, token := filepath.Join(s.scratch, "empty"), ""
	for i, n := range s.tills {
		p, err := startPosd(ctx, s.posd, dir, token)
		if err != nil {
			return err
		}
		token = p.token
		if i == 0 {
			s.res.PosdStartMs = ms(p.started)
			time.Sleep(time.Second)
			s.res.PosdIdleRSSMB = mib(newProcWatch(p.pid()).rss())
		}
		fmt.Fprintf(s.log, "suite: posd, %d tills, %v\n", n, s.secs)
		r, err := Run(ctx, withSuiteMix(Config{URL: p.url, Token: p.token, Tills: n, Duration: s.secs, Warmup: suiteWarmup, PID: p.pid(), Verify: true,
			Label: fmt.Sprintf("posd, %d tills", n)}))
		if serr := p.stop(); err == nil {
			err = serr
		}
		if err != nil {
			return err
		}
		s.res.Posd[n] = r
	}
	return nil
}

// drain measures how long tills with full queues take to send them all,
// on a database of its own.
func (s *suite) drain(ctx context.Context) error {
	p, err := startPosd(ctx, s.posd, filepath.Join(s.scratch, "drain"), "")
	if err != nil {
		return err
	}
	fmt.Fprintf(s.log, "suite: drain, %d tills × %d queued sales\n", s.drainTills, s.drainQueue)
	s.res.Drain, err = Run(ctx, Config{URL: p.url, Token: p.token, Tills: s.drainTills, PerTill: s.drainQueue, PID: p.pid(), Verify: true,
		Label: fmt.Sprintf("drain %d × %d", s.drainTills, s.drainQueue)})
	if serr := p.stop(); err == nil {
		err = serr
	}
	return err
}

// bigDatabase measures a year of sales: cold start, memory, latency.
func (s *suite) bigDatabase(ctx context.Context) error {
	if s.bigSales <= 0 {
		s.res.BigSkip = "--big-sales 0"
		return nil
	}
	var err error
	s.res.Big, err = big(ctx, s.posd, s.bigDir, s.bigSales, s.secs, s.log)
	return err
}

// write writes every figure as JSON to the file out.
func (s *suite) write(out string) error {
	b, _ := json.MarshalIndent(s.res, "", "  ")
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(out, b, 0o644); err != nil {
		return err
	}
	fmt.Fprintf(s.log, "suite: figures written to %s\n", out)
	return nil
}

// big measures posd on dir holding n sales, seeding it first when needed.
func big(ctx context.Context, bin, dir string, n int, secs time.Duration, log io.Writer) (*BigResult, error) {
	info, err := readSeedInfo(dir)
	if err != nil || info.Sales != n {
		if err == nil {
			fmt.Fprintf(log, "suite: %s holds %d sales, not %d: seeding it again\n", dir, info.Sales, n)
		}
		os.RemoveAll(dir)
		fmt.Fprintf(log, "suite: seeding %d sales into %s (in-process, through engine.Service; kept for later runs)\n", n, dir)
		if info, err = seed(ctx, dir, n, 200, 256, 365*24*time.Hour, log); err != nil {
			return nil, err
		}
	}
	b := &BigResult{Sales: info.Sales, SeedSec: info.Seconds}
	if fi, err := os.Stat(filepath.Join(dir, "posd.db")); err == nil {
		b.DBMB = mib(fi.Size())
	}
	var s *server
	for i := range 3 {
		if s, err = startPosd(ctx, bin, dir, info.OwnerToken); err != nil {
			return nil, err
		}
		b.ColdStartMs = append(b.ColdStartMs, ms(s.started))
		time.Sleep(500 * time.Millisecond)
		b.IdleRSSMB = append(b.IdleRSSMB, mib(newProcWatch(s.pid()).rss()))
		if i < 2 {
			if err := s.stop(); err != nil {
				return nil, err
			}
		}
	}
	defer s.stop()
	fmt.Fprintf(log, "suite: posd with %d sales, 1 till, %v\n", info.Sales, secs)
	first, err := Run(ctx, Config{URL: s.url, Token: info.OwnerToken, Tills: 1, Count: 1, Verify: false, Label: "first sale"})
	if err != nil {
		return nil, err
	}
	b.FirstSaleMs = first.Latency.Max
	b.Run, err = Run(ctx, withSuiteMix(Config{URL: s.url, Token: info.OwnerToken, Tills: 1, Duration: secs, Warmup: suiteWarmup, PID: s.pid(), Verify: true,
		Label: fmt.Sprintf("posd with %d sales, 1 till", info.Sales)}))
	return b, err
}

// defaultPGScript is $POSD_PG_BENCH, else the yardstick in the shared
// folder beside the repository (../shared), or beside the folder of its
// worktrees (../../shared).
func defaultPGScript() string {
	if p := os.Getenv("POSD_PG_BENCH"); p != "" {
		return p
	}
	const rel = "shared/bench/seed-design-pg/run.sh"
	for _, up := range []string{"..", "../.."} {
		if p := filepath.Join(up, rel); fileExists(p) {
			return p
		}
	}
	return filepath.Join("..", rel)
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

func parseInts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("%q is not a positive number", f)
		}
		out = append(out, n)
	}
	return out, nil
}

// machine describes the machine the figures were taken on.
func machine() string {
	model := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(l, "model name") {
				model = strings.TrimSpace(l[strings.IndexByte(l, ':')+1:])
				break
			}
		}
	}
	mem := ""
	if m := statusMem(); m > 0 {
		mem = fmt.Sprintf(", %.0f GiB RAM", float64(m)/(1<<30))
	}
	return fmt.Sprintf("%d CPUs (%s)%s, %s/%s, %s", runtime.NumCPU(), model, mem, runtime.GOOS, runtime.GOARCH, runtime.Version())
}

func statusMem() int64 {
	b, err := os.ReadFile("/proc/meminfo")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) >= 2 && f[0] == "MemTotal:" {
		kb, _ := strconv.ParseInt(f[1], 10, 64)
		return kb << 10
	}
	return 0
}

// print writes the figures as the Markdown tables of BENCHMARKS.md.
func (r *SuiteResult) print(w io.Writer) {
	fmt.Fprintf(w, "Measured %s on %s; %.0f s per run after a 1 s warm-up; the load generator runs on the same machine.\n",
		r.Started.Format("2006-01-02 15:04 UTC"), r.Machine, r.Seconds)
	fmt.Fprintf(w, "Machine before the runs: %v.\nMachine after the runs: %v.\n\n", r.Before, r.After)
	fmt.Fprintln(w, "| tills | posd req/s | posd documents/s | seed-design PG tps | posd ÷ PG | bare HTTP req/s | posd ÷ bare | posd non-2xx | posd p50 / p99 ms | posd CPU µs/req | bare CPU µs/req | loader CPU µs/req (posd) |")
	fmt.Fprintln(w, "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, n := range r.Tills {
		p, b := r.Posd[n], r.Bare[n]
		pg := "skipped"
		ratio := "–"
		if g := r.PG[n]; g != nil {
			pg = fmt.Sprintf("%.0f (avg %.1f ms)", g.TPS, g.LatencyMs)
			if p != nil && g.TPS > 0 {
				ratio = fmt.Sprintf("%.1f×", p.DocsPerSec/g.TPS)
			}
		}
		if p == nil || b == nil {
			continue
		}
		fmt.Fprintf(w, "| %d | %.0f | %.0f | %s | %s | %.0f | %.2f | %d | %.2f / %.2f | %s | %s | %.0f |\n",
			n, p.ReqPerSec, p.DocsPerSec, pg, ratio, b.ReqPerSec, p.ReqPerSec/b.ReqPerSec, p.Non2xx, p.Latency.P50, p.Latency.P99,
			cpuPer(p.Server), cpuPer(b.Server), p.Loader.CPUPerRequestUS)
	}
	if r.PGSkip != "" {
		fmt.Fprintf(w, "\nPostgreSQL yardstick skipped: %s\n", r.PGSkip)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| figure | measured | target | met |")
	fmt.Fprintln(w, "|---|---:|---:|:---:|")
	row := func(name, measured, target string, ok bool) {
		m := "yes"
		if !ok {
			m = "**no**"
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s |\n", name, measured, target, m)
	}
	hi := slices.Max(r.Tills)
	if p := r.Posd[hi]; p != nil {
		if g := r.PG[hi]; g != nil {
			row(fmt.Sprintf("%d tills: posd documents/s ÷ seed-design PG tps", hi), fmt.Sprintf("%.1f×", p.DocsPerSec/g.TPS), "≥ 10×", p.DocsPerSec >= 10*g.TPS)
		}
		if b := r.Bare[hi]; b != nil {
			row(fmt.Sprintf("%d tills: posd req/s ÷ bare HTTP req/s", hi), fmt.Sprintf("%.2f", p.ReqPerSec/b.ReqPerSec), "≥ 0.25", p.ReqPerSec >= b.ReqPerSec/4)
		}
		row(fmt.Sprintf("%d tills: non-2xx answers; verification", hi), fmt.Sprintf("%d; %s", p.Non2xx, verdict(p)), "0; clean", p.ok())
		if p.Server != nil {
			row(fmt.Sprintf("RSS under %d-till load (max sampled; of it anonymous, mapped database file)", hi),
				fmt.Sprintf("%.1f MiB (%.1f, %.1f)", p.Server.MaxRSSMB, p.Server.MaxAnonMB, p.Server.MaxFileMB), "< 200 MiB", p.Server.MaxRSSMB < 200)
		}
	}
	if p := r.Posd[1]; p != nil {
		row("1 till: p99 latency", fmt.Sprintf("%.2f ms", p.Latency.P99), "< 5 ms", p.Latency.P99 < 5)
	}
	row("idle RSS (empty database, after start)", fmt.Sprintf("%.1f MiB", r.PosdIdleRSSMB), "< 40 MiB", r.PosdIdleRSSMB < 40)
	if d := r.Drain; d != nil {
		row(fmt.Sprintf("drain %d tills × %d queued sales", d.Tills, d.Verify.Acknowledged/max(d.Tills, 1)), fmt.Sprintf("%.2f s; %s", d.DrainSeconds, verdict(d)), "< 5 s, exactly once", d.DrainSeconds < 5 && d.ok())
	}
	if b := r.Big; b != nil && b.Run != nil {
		cold := slices.Max(b.ColdStartMs)
		row(fmt.Sprintf("cold start with %d sales (worst of %d; DB %.0f MiB)", b.Sales, len(b.ColdStartMs), b.DBMB), fmt.Sprintf("%.0f ms", cold), "< 1 s", cold < 1000)
		rss := slices.Max(b.IdleRSSMB)
		row(fmt.Sprintf("idle RSS with %d sales", b.Sales), fmt.Sprintf("%.1f MiB", rss), "< 40 MiB", rss < 40)
		if p := r.Posd[1]; p != nil && p.Latency.P50 > 0 {
			q := b.Run.Latency.P50 / p.Latency.P50
			row(fmt.Sprintf("1 till: p50 at %d sales ÷ p50 empty", b.Sales), fmt.Sprintf("%.2f ms ÷ %.2f ms = %.2f", b.Run.Latency.P50, p.Latency.P50, q), "≤ 1.5", q <= 1.5)
		}
		fmt.Fprintf(w, "\nWith %d sales: first sale after start %.2f ms; 1 till p50 %.2f p90 %.2f p99 %.2f max %.2f ms; verification %s; seeding took %.0f s.\n",
			b.Sales, b.FirstSaleMs, b.Run.Latency.P50, b.Run.Latency.P90, b.Run.Latency.P99, b.Run.Latency.Max, verdict(b.Run), b.SeedSec)
	} else if r.BigSkip != "" {
		fmt.Fprintf(w, "\nLarge database skipped: %s\n", r.BigSkip)
	}
	fmt.Fprintln(w)
	for _, n := range r.Tills {
		if p := r.Posd[n]; p != nil {
			p.print(w)
		}
	}
	if r.Drain != nil {
		r.Drain.print(w)
	}
}

func cpuPer(s *ServerFigures) string {
	if s == nil {
		return "–"
	}
	return fmt.Sprintf("%.0f", s.CPUPerRequestUS)
}

func verdict(r *Report) string {
	switch {
	case r.Verify == nil:
		return "not verified"
	case r.ok():
		return "verified"
	}
	return "verification FAILED"
}
