//go:build linux

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"posd/api"
	"posd/cmd/internal/posdproc"
	"posd/engine/pgstore/pgtest"
)

// PGSuiteResult holds the figures of posd on PostgreSQL beside the seed
// design's pgbench, all on one throwaway server in one run.
type PGSuiteResult struct {
	Started time.Time `json:"started"`
	Machine string    `json:"machine"`
	Server  string    `json:"server"`
	Seconds float64   `json:"secondsPerRun"`
	Tills   []int     `json:"tills"`
	Rounds  []PGRound `json:"rounds"`
	Before  Probe     `json:"machineBefore"`
	After   Probe     `json:"machineAfter"`
}

// PGRound is one round: every configuration once, in turn.
type PGRound struct {
	Seed map[int]*PGResult  `json:"seed"`
	One  map[int]*PGPosdRun `json:"onePosd"`
	Two  map[int]*PGPosdRun `json:"twoPosd"`
	Skip map[string]string  `json:"skipped,omitempty"`
}

// PGPosdRun is one load run of posd on PostgreSQL with where its time
// went, from the processes' own counters.
type PGPosdRun struct {
	Report *Report `json:"report"`
	// Per committed write: round trips to PostgreSQL, and milliseconds
	// waiting for the business's turn in the process, in the lock's round
	// trip, and holding the turn (the business's critical section).
	RoundTripsPerWrite float64 `json:"roundTripsPerWrite"`
	QueueWaitMs        float64 `json:"queueWaitMsPerWrite"`
	LockWaitMs         float64 `json:"lockWaitMsPerWrite"`
	InTurnMs           float64 `json:"inTurnMsPerWrite"`
	Commits            uint64  `json:"commits"`
	// PosdCPUSeconds is the CPU of every posd process in the window,
	// PostgresCPUSeconds that of the server's processes.
	PosdCPUSeconds     float64 `json:"posdCpuSeconds"`
	PostgresCPUSeconds float64 `json:"postgresCpuSeconds"`
}

func runPGSuite(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("bench-pg", "[--posd bin/posd] [--seconds 10] [--rounds 2] [--out results.json]", stderr)
	posd := fs.String("posd", "bin/posd", "posd binary to measure")
	secs := fs.Duration("seconds", 10*time.Second, "length of each throughput run (after a 1 s warm-up)")
	tillsFlag := fs.String("tills", "1,16,64", "till counts to compare")
	rounds := fs.Int("rounds", 2, "rounds: each runs every configuration once, so that a busy moment of the machine hits all alike")
	seedDir := fs.String("seed-design", defaultSeedDesign(), "folder of the seed design's schema.sql and sale.sql")
	out := fs.String("out", "", "write every figure as JSON to this file")
	if err := parse(fs, args); err != nil {
		return err
	}
	tills, err := parseInts(*tillsFlag)
	if err != nil {
		return usageError{"--tills: " + err.Error()}
	}
	bin, err := filepath.Abs(*posd)
	if err != nil {
		return err
	}
	if _, err := os.Stat(bin); err != nil {
		return usageError{fmt.Sprintf("--posd %s: %v (run make build first)", *posd, err)}
	}
	log := stderr
	// One production-like server for everything: fsync and synchronous
	// commit on, as a chain would run it.
	pg, err := pgtest.Start(pgtest.Options{Durable: true, Settings: map[string]string{"shared_buffers": "256MB", "max_wal_size": "2GB"}})
	if err != nil {
		return err
	}
	defer pg.Remove()
	scratch, err := os.MkdirTemp("", "posd-bench-pg-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(scratch)
	version, _ := exec.Command(pg.Bin("postgres"), "--version").Output()
	res := &PGSuiteResult{Started: time.Now().UTC(), Machine: machine(), Server: strings.TrimSpace(string(version)) + ", fsync on, synchronous_commit on, on 127.0.0.1",
		Seconds: secs.Seconds(), Tills: tills, Before: probe(scratch)}
	fmt.Fprintf(log, "bench-pg: machine before: %v\n", res.Before)
	n := 0
	for r := 0; r < *rounds; r++ {
		round := PGRound{Seed: map[int]*PGResult{}, One: map[int]*PGPosdRun{}, Two: map[int]*PGPosdRun{}, Skip: map[string]string{}}
		for _, t := range tills {
			n++
			db := fmt.Sprintf("seed%d", n)
			fmt.Fprintf(log, "bench-pg: round %d: seed design (pgbench), %d clients\n", r+1, t)
			if g, err := seedDesign(ctx, pg, db, *seedDir, t, *secs); err != nil {
				round.Skip[fmt.Sprintf("seed %d", t)] = err.Error()
				fmt.Fprintf(log, "bench-pg: seed design: %v\n", err)
			} else {
				round.Seed[t] = g
			}
			for _, nodes := range []int{1, 2} {
				n++
				fmt.Fprintf(log, "bench-pg: round %d: posd on PostgreSQL, %d process(es), %d tills\n", r+1, nodes, t)
				run, err := posdOnPG(ctx, pg, bin, filepath.Join(scratch, strconv.Itoa(n)), fmt.Sprintf("posd%d", n), nodes, t, *secs)
				if err != nil {
					return err
				}
				if nodes == 1 {
					round.One[t] = run
				} else {
					round.Two[t] = run
				}
			}
		}
		res.Rounds = append(res.Rounds, round)
	}
	res.After = probe(scratch)
	res.print(stdout)
	if *out != "" {
		b, _ := json.MarshalIndent(res, "", "  ")
		if err := os.MkdirAll(filepath.Dir(*out), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(*out, b, 0o644); err != nil {
			return err
		}
		fmt.Fprintf(log, "bench-pg: figures written to %s\n", *out)
	}
	return nil
}

// defaultSeedDesign finds the seed design's scripts: $POSD_PG_BENCH's
// folder, else shared/bench/seed-design-pg beside the checkout or one of
// its parents (a worktree sits deeper than the main checkout).
func defaultSeedDesign() string {
	if p := os.Getenv("POSD_PG_BENCH"); p != "" {
		return filepath.Dir(p)
	}
	dir, _ := os.Getwd()
	for dir != "" {
		p := filepath.Join(dir, "shared", "bench", "seed-design-pg")
		if _, err := os.Stat(filepath.Join(p, "sale.sql")); err == nil {
			return p
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	return "../shared/bench/seed-design-pg"
}

// seedDesign runs the seed's sale transaction with pgbench on a fresh
// database of the server.
func seedDesign(ctx context.Context, pg *pgtest.Cluster, db, dir string, clients int, d time.Duration) (*PGResult, error) {
	if _, err := pg.CreateDatabase(ctx, db, ""); err != nil {
		return nil, err
	}
	port := strconv.Itoa(pg.Port)
	if out, err := exec.CommandContext(ctx, pg.Bin("psql"), "-X", "-q", "-h", "127.0.0.1", "-p", port, "-U", "postgres", "-d", db,
		"-v", "ON_ERROR_STOP=1", "-f", filepath.Join(dir, "schema.sql")).CombinedOutput(); err != nil {
		return nil, fmt.Errorf("loading the seed design's schema: %v: %s", err, tail(out))
	}
	pg.Exec(ctx, db, "CHECKPOINT")
	out, err := exec.CommandContext(ctx, pg.Bin("pgbench"), "-n", "-h", "127.0.0.1", "-p", port, "-U", "postgres",
		"-c", strconv.Itoa(clients), "-j", "2", "-T", strconv.Itoa(max(int(d.Seconds()), 1)), "-f", filepath.Join(dir, "sale.sql"), db).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("pgbench: %v: %s", err, tail(out))
	}
	r := &PGResult{Clients: clients, Output: strings.TrimSpace(string(out))}
	m := reTPS.FindSubmatch(out)
	if m == nil {
		return nil, fmt.Errorf("no tps in pgbench's output: %s", tail(out))
	}
	r.TPS, _ = strconv.ParseFloat(string(m[1]), 64)
	if m := reLatency.FindSubmatch(out); m != nil {
		r.LatencyMs, _ = strconv.ParseFloat(string(m[1]), 64)
	}
	return r, nil
}

// posdOnPG runs nodes posd processes on a fresh database and a load of
// tills spread over them.
func posdOnPG(ctx context.Context, pg *pgtest.Cluster, bin, dir, db string, nodes, tills int, d time.Duration) (*PGPosdRun, error) {
	url, err := pg.CreateDatabase(ctx, db, "")
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	var so, se bytes.Buffer
	init := exec.CommandContext(ctx, bin, "init", "--database", url, "--data-dir", dir, "--business", "posd-load shop", "--timezone", "UTC", "--json")
	init.Stdout, init.Stderr = &so, &se
	if err := init.Run(); err != nil {
		return nil, fmt.Errorf("posd init --database: %v: %s", err, se.String())
	}
	var v struct{ OwnerToken string }
	if err := json.Unmarshal(so.Bytes(), &v); err != nil {
		return nil, fmt.Errorf("posd init --json printed %q", so.String())
	}
	var servers []*server
	defer func() {
		for _, s := range servers {
			s.stop()
		}
	}()
	for i := 0; i < nodes; i++ {
		addr, err := posdproc.FreeAddr()
		if err != nil {
			return nil, err
		}
		nd := filepath.Join(dir, fmt.Sprintf("node-%d", i))
		os.MkdirAll(nd, 0o700)
		s, err := startServer(filepath.Join(nd, "serve.log"), bin, addr, 60*time.Second,
			posdproc.ServeArgs(nd, addr, "--database", url, "--log-level", "warn", "--backup-every", "0")...)
		if err != nil {
			return nil, err
		}
		s.token = v.OwnerToken
		servers = append(servers, s)
	}
	pg.Exec(ctx, db, "CHECKPOINT")
	time.Sleep(time.Second)
	cfg := Config{URL: servers[0].url, Token: v.OwnerToken, Tills: tills, Duration: d, Warmup: time.Second, PID: servers[0].pid(), Verify: true,
		Label: fmt.Sprintf("posd on PostgreSQL, %d process(es), %d tills", nodes, tills), RetryRate: 0.05, DoubleRate: 0.01, RefundRate: 0.02}
	for _, s := range servers[1:] {
		cfg.AlsoURLs = append(cfg.AlsoURLs, s.url)
	}
	before, err := dbStats(servers, v.OwnerToken)
	if err != nil {
		return nil, err
	}
	cpuBefore := cpuOf(servers, pg)
	t0 := time.Now()
	r, err := Run(ctx, cfg)
	if err != nil {
		return nil, err
	}
	elapsed := time.Since(t0).Seconds()
	after, err := dbStats(servers, v.OwnerToken)
	if err != nil {
		return nil, err
	}
	cpuAfter := cpuOf(servers, pg)
	run := &PGPosdRun{Report: r}
	if c := after.commits - before.commits; c > 0 {
		run.Commits = c
		run.RoundTripsPerWrite = float64(after.roundTrips-before.roundTrips) / float64(c)
		run.QueueWaitMs = (after.queue - before.queue) * 1000 / float64(c)
		run.LockWaitMs = (after.lock - before.lock) * 1000 / float64(c)
		run.InTurnMs = (after.inTurn - before.inTurn) * 1000 / float64(c)
	}
	// CPU over the whole run (warm-up, set-up and verification included),
	// scaled to the measurement window.
	scale := r.Seconds / elapsed
	run.PosdCPUSeconds = (cpuAfter[0] - cpuBefore[0]) * scale
	run.PostgresCPUSeconds = (cpuAfter[1] - cpuBefore[1]) * scale
	for _, s := range servers {
		if err := s.stop(); err != nil {
			return nil, err
		}
	}
	servers = nil
	return run, nil
}

type pgCounters struct {
	commits, roundTrips uint64
	queue, lock, inTurn float64
}

// dbStats adds up the database counters of every posd's health view.
func dbStats(servers []*server, token string) (pgCounters, error) {
	var c pgCounters
	for _, s := range servers {
		req, _ := http.NewRequest("GET", s.url+"/api/health/details", nil)
		req.Header.Set("Authorization", "Bearer "+token)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return c, err
		}
		var h api.HealthDetails
		err = json.NewDecoder(res.Body).Decode(&h)
		res.Body.Close()
		if err != nil || h.Database.Server == nil || h.Database.Writer == nil {
			return c, fmt.Errorf("health details of %s: %v (no database server figures)", s.url, err)
		}
		c.commits += h.Database.Writer.Commits
		c.roundTrips += h.Database.Server.RoundTrips
		c.queue += h.Database.Server.QueueWaitSeconds
		c.lock += h.Database.Server.LockWaitSeconds
		c.inTurn += h.Database.Server.InTurnSeconds
	}
	return c, nil
}

// cpuOf returns the CPU seconds used so far by the posd processes and by
// the PostgreSQL server's processes (the postgres user's, in its process
// group).
func cpuOf(servers []*server, pg *pgtest.Cluster) [2]float64 {
	var out [2]float64
	for _, s := range servers {
		out[0] += procCPU(s.pid())
	}
	for _, pid := range pg.Pids() {
		out[1] += procCPU(pid)
	}
	return out
}

// procCPU is a process's user+system CPU time in seconds (its children's
// that it waited for included).
func procCPU(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
	if len(f) < 15 {
		return 0
	}
	var ticks float64
	for _, i := range []int{11, 12, 13, 14} { // utime, stime, cutime, cstime
		v, _ := strconv.ParseFloat(f[i], 64)
		ticks += v
	}
	return ticks / 100 // USER_HZ
}

// print writes the figures as the Markdown tables of BENCHMARKS.md.
func (r *PGSuiteResult) print(w io.Writer) {
	fmt.Fprintf(w, "Measured %s on %s; server %s; %.0f s per run after a 1 s warm-up; %d round(s); load generator, posd and PostgreSQL on the same machine.\n",
		r.Started.Format("2006-01-02 15:04 UTC"), r.Machine, r.Server, r.Seconds, len(r.Rounds))
	fmt.Fprintf(w, "Machine before the runs: %v.\nMachine after the runs: %v.\n\n", r.Before, r.After)
	fmt.Fprintln(w, "| round | tills | seed design pgbench tps | posd ×1 sales+refunds/s | ×1 ÷ seed | posd ×2 sales+refunds/s | ×2 ÷ seed | p50 / p99 ms ×1 | p50 / p99 ms ×2 | non-2xx ×1, ×2 | verified |")
	fmt.Fprintln(w, "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
	for i, rd := range r.Rounds {
		for _, t := range r.Tills {
			seed, one, two := rd.Seed[t], rd.One[t], rd.Two[t]
			s, r1, r2 := "skipped", "–", "–"
			if seed != nil {
				s = fmt.Sprintf("%.0f", seed.TPS)
				if one != nil && seed.TPS > 0 {
					r1 = fmt.Sprintf("%.2f×", one.Report.DocsPerSec/seed.TPS)
				}
				if two != nil && seed.TPS > 0 {
					r2 = fmt.Sprintf("%.2f×", two.Report.DocsPerSec/seed.TPS)
				}
			}
			if one == nil || two == nil {
				continue
			}
			v := "yes"
			if !one.Report.ok() || !two.Report.ok() {
				v = "**NO**"
			}
			fmt.Fprintf(w, "| %d | %d | %s | %.0f | %s | %.0f | %s | %.2f / %.2f | %.2f / %.2f | %d, %d | %s |\n", i+1, t, s,
				one.Report.DocsPerSec, r1, two.Report.DocsPerSec, r2, one.Report.Latency.P50, one.Report.Latency.P99,
				two.Report.Latency.P50, two.Report.Latency.P99, one.Report.Non2xx, two.Report.Non2xx, v)
		}
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Where the time goes, per committed write (posd's own counters; CPU in the measurement window):")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| round | processes | tills | round trips | queue wait ms | lock round trip ms | in turn ms | posd CPU µs/request | PostgreSQL CPU µs/request |")
	fmt.Fprintln(w, "|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for i, rd := range r.Rounds {
		for _, nodes := range []int{1, 2} {
			for _, t := range r.Tills {
				run := rd.One[t]
				if nodes == 2 {
					run = rd.Two[t]
				}
				if run == nil || run.Report.Requests == 0 {
					continue
				}
				req := float64(run.Report.Requests)
				fmt.Fprintf(w, "| %d | %d | %d | %.2f | %.2f | %.2f | %.2f | %.0f | %.0f |\n", i+1, nodes, t, run.RoundTripsPerWrite, run.QueueWaitMs,
					run.LockWaitMs, run.InTurnMs, run.PosdCPUSeconds*1e6/req, run.PostgresCPUSeconds*1e6/req)
			}
		}
	}
	for i, rd := range r.Rounds {
		for k, v := range rd.Skip {
			fmt.Fprintf(w, "\nround %d: %s skipped: %s\n", i+1, k, v)
		}
	}
}
