//go:build linux

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"posd/api/client"
	"posd/cmd/internal/posdproc"
	"posd/engine"
	"posd/engine/boltstore"
)

// posd-load wrk measures posd with Debian's wrk, a C load generator that
// costs the shared machine much less CPU per request than any Go client,
// beside the same wrk against the bare net/http echo and beside the seed
// design on PostgreSQL (pgbench), at a few connection counts, in one run.
// Every request is a 3-line sale with a fresh Idempotency-Key (a Lua
// script: thread number and counter), so every 2xx is a new sale that was
// fsynced before it was answered. Afterwards it checks that every
// acknowledged sale is stored once: the numbers wrk was answered with are
// each stored exactly once, the series has no gap, and every stored sale
// has exactly one idempotency key (read from the file after posd stopped),
// and posd verify passes.

// WrkResult is what posd-load wrk measured.
type WrkResult struct {
	Started time.Time         `json:"started"`
	Machine string            `json:"machine"`
	Wrk     string            `json:"wrk"`
	Seconds float64           `json:"secondsPerPoint"`
	Warmup  float64           `json:"warmupSeconds"`
	Conns   []int             `json:"connections"`
	PG      map[int]*PGResult `json:"pg,omitempty"`
	PGSkip  string            `json:"pgSkipped,omitempty"`
	Bare    map[int]*WrkRun   `json:"bare"`
	// Floor is the HTTP floor (bare-server --floor): net/http and loopback
	// TCP with a fixed answer of posd's size, no JSON.
	Floor    map[int]*WrkRun  `json:"floor,omitempty"`
	Posd     map[int]*WrkRun  `json:"posd"`
	Verify   *WrkVerification `json:"verify"`
	Profiles []string         `json:"profiles,omitempty"`
	Before   Probe            `json:"machineBefore"`
	After    Probe            `json:"machineAfter"`
	// DiskBefore and DiskAfter time what a lone sale's commit asks of the
	// disk, without posd (commitProbe).
	DiskBefore *CommitProbe `json:"diskBefore"`
	DiskAfter  *CommitProbe `json:"diskAfter"`
	CPUBaseUS  float64      `json:"cpuBaselineUs,omitempty"`
	// Counted is true when the measured runs handed every answer to the
	// Lua callback (--count); posd's warm-ups always do.
	Counted    bool   `json:"counted"`
	PosdCommit string `json:"posdVersion,omitempty"`
}

// WrkRun is one wrk run: a target at one connection count.
type WrkRun struct {
	Target  string  `json:"target"`
	Conns   int     `json:"connections"`
	Threads int     `json:"threads"`
	Seconds float64 `json:"seconds"`
	// Requests is every answer wrk read; OK the 2xx among them (each a new
	// sale for posd); Sent the requests the script made, so Sent-Requests
	// were in flight, unanswered, when wrk stopped.
	Requests     int            `json:"requests"`
	OK           int            `json:"ok"`
	Sent         int            `json:"sent"`
	Non2xx       map[string]int `json:"non2xx,omitempty"`
	SocketErrors int            `json:"socketErrors"`
	PerSec       float64        `json:"okPerSec"`
	Latency      Latency        `json:"latencyMs"`
	MeanMs       float64        `json:"latencyMeanMs"`
	// Server is the server's CPU time (per 2xx answer) and RSS over the
	// run; WrkCPUUS is wrk's own CPU time per answer.
	Server   *ServerFigures `json:"server,omitempty"`
	WrkCPUUS float64        `json:"wrkCpuPerRequestUs"`
	// SalesPerCommit is how many operations shared each of posd's
	// commits during the run (its /metrics).
	SalesPerCommit float64 `json:"salesPerCommit,omitempty"`
	numbers        []string
}

func (r *WrkRun) non2xx() int {
	n := 0
	for _, c := range r.Non2xx {
		n += c
	}
	return n
}

// WrkVerification compares the sales posd stored with the answers wrk got.
type WrkVerification struct {
	OK bool `json:"ok"`
	// Acknowledged counts the 2xx answers wrk read from posd over every
	// run (warm-ups included); Stored the sales posd holds.
	Acknowledged int `json:"acknowledged"`
	// ByNumber of them were checked one by one, by the invoice number they
	// were answered with (the runs whose answers the script looked at);
	// the others by count.
	ByNumber int `json:"byNumber"`
	Stored   int `json:"stored"`
	// Unanswered requests were in flight when wrk stopped; posd may have
	// committed them (their answers went to a closed connection), so
	// Stored - Acknowledged may be anything from 0 to Unanswered.
	Unanswered int `json:"unanswered"`
	Extra      int `json:"storedNotAcknowledged"`
	// Acknowledged numbers not stored, numbers acknowledged or stored
	// twice, series with a gap.
	Missing    int      `json:"missing"`
	Duplicates int      `json:"duplicates"`
	Gaps       int      `json:"gaps"`
	Series     []string `json:"series"`
	// SaleKeys counts the idempotency records of sales in the file;
	// KeyFindings the sales with no key or more than one, and keys
	// pointing at no stored sale.
	SaleKeys    int      `json:"saleKeys"`
	KeyFindings int      `json:"keyFindings"`
	PosdVerify  string   `json:"posdVerify"`
	Findings    []string `json:"findings,omitempty"`
}

func (v *WrkVerification) finding(format string, args ...any) {
	if len(v.Findings) < 20 {
		v.Findings = append(v.Findings, fmt.Sprintf(format, args...))
	}
}

func runWrk(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("wrk", "[--posd bin/posd] [--seconds 10s] [--conns 1,64] [--out wrk.json]", stderr)
	posd := fs.String("posd", "bin/posd", "posd binary to measure")
	secs := fs.Duration("seconds", 10*time.Second, "length of each measured run")
	warm := fs.Duration("warmup", time.Second, "wrk run before each measured one, left out of the figures (not out of the verification)")
	connsFlag := fs.String("conns", "1,64", "connection counts to compare")
	pgScript := fs.String("pg-script", defaultPGScript(), "the seed-design PostgreSQL yardstick script")
	skipPG := fs.Bool("skip-pg", false, "leave out the PostgreSQL yardstick")
	skipBare := fs.Bool("skip-bare", false, "leave out the bare echo and the HTTP floor (for A/B runs of posd alone)")
	skipFloor := fs.Bool("skip-floor", false, "leave out the HTTP floor (bare-server --floor: no JSON, a fixed answer of posd's size)")
	pgInstall := fs.Bool("pg-install", true, "install PostgreSQL with apt-get when it is missing")
	products := fs.Int("products", 200, "products in the shop; each request sells 3 of them")
	profile := fs.String("profile", "", "after the measured runs, one more posd run at the highest connection count with posd's profiler on, CPU and heap profiles written to this directory")
	countAll := fs.Bool("count", false, "hand every answer of the measured runs to a Lua callback that keeps its invoice number, so that each acknowledged sale is checked by number, not only by count (wrk then spends about twice the CPU per answer on the shared cores)")
	cpuBase := fs.Float64("cpu-baseline", 0, "posd CPU µs per sale before tuning, for the target row (at most 65% of it)")
	work := fs.String("work", "", "scratch directory (default: a temporary one)")
	out := fs.String("out", "", "write every figure as JSON to this file")
	if err := parse(fs, args); err != nil {
		return err
	}
	conns, err := parseInts(*connsFlag)
	if err != nil {
		return usageError{"--conns: " + err.Error()}
	}
	if _, err := os.Stat(*posd); err != nil {
		return usageError{fmt.Sprintf("--posd %s: %v (run make build first)", *posd, err)}
	}
	wrkBin, err := exec.LookPath("wrk")
	if err != nil {
		return errors.New("wrk is not installed: apt-get install wrk (make bench-wrk does it)")
	}
	bin, _ := filepath.Abs(*posd)
	scratch := *work
	if scratch == "" {
		if scratch, err = os.MkdirTemp("", "posd-wrk-"); err != nil {
			return err
		}
		defer os.RemoveAll(scratch)
	}
	log := stderr
	res := &WrkResult{Started: time.Now().UTC(), Machine: machine(), Wrk: wrkVersion(wrkBin), Seconds: secs.Seconds(), Warmup: warm.Seconds(),
		Conns: conns, PG: map[int]*PGResult{}, Bare: map[int]*WrkRun{}, Floor: map[int]*WrkRun{}, Posd: map[int]*WrkRun{}, CPUBaseUS: *cpuBase, Counted: *countAll}
	if v, err := exec.CommandContext(ctx, bin, "version").Output(); err == nil {
		res.PosdCommit = strings.TrimSpace(string(v))
	}
	res.Before = probe(scratch)
	res.DiskBefore = commitProbe(scratch, commitPages, 1000)
	fmt.Fprintf(log, "wrk: machine before: %v\nwrk: disk before: %v\n", res.Before, res.DiskBefore)

	// The shop's sales: the same bodies for posd and the bare echo.
	rng := rand.New(rand.NewPCG(1, 2))

	// 1. posd on an empty database: posd init --json, posd serve, the
	// products and a till token made through the API.
	dir := filepath.Join(scratch, "posd")
	noBackup := []string{"--backup-every", "0"}
	s, err := startPosd(ctx, bin, dir, "", noBackup...)
	if err != nil {
		return err
	}
	token := s.token
	cfg := Config{URL: s.url, Token: token, Tills: 1, Products: *products}
	cfg.defaults()
	hc := newHTTPClient(1, time.Minute)
	shop, err := setup(ctx, &cfg, hc)
	if err != nil {
		s.stop()
		return err
	}
	base, err := takeBaseline(ctx, &cfg, hc)
	if err != nil {
		s.stop()
		return err
	}
	bodies := make([][]byte, 64)
	for i := range bodies {
		bodies[i], _ = saleBody(rng, shop, 3)
	}
	// acked are the numbers of the sales acknowledged by runs whose
	// answers the script looked at; ackedCount counts the 2xx of the
	// others.
	var acked []string
	ackedCount, unanswered := 0, 0
	prefix := fmt.Sprintf("wrk%d", time.Now().UnixNano())
	for i, n := range conns {
		if i > 0 {
			if s, err = startPosd(ctx, bin, dir, token, noBackup...); err != nil {
				return err
			}
		}
		w := wrkSpec{bin: wrkBin, url: s.url, token: shop.tills[0], bodies: bodies, conns: n, dir: scratch, count: *countAll, countWarm: true, owner: token}
		fmt.Fprintf(log, "wrk: posd, %d connection(s), %v + %v warm-up\n", n, *secs, *warm)
		r, err := w.measure(ctx, fmt.Sprintf("%s-posd-c%d", prefix, n), *warm, *secs, s.pid())
		if serr := s.stop(); err == nil {
			err = serr
		}
		if err != nil {
			return err
		}
		r.run.Target = "posd"
		res.Posd[n] = r.run
		acked = append(acked, r.numbers...)
		ackedCount += r.ackedCount
		unanswered += r.unanswered
	}
	if *profile != "" {
		n := slices.Max(conns)
		files, r, err := profileRun(ctx, bin, dir, token, shop.tills[0], wrkBin, bodies, n, *secs, *profile, scratch, prefix, log)
		if err != nil {
			return err
		}
		res.Profiles = files
		ackedCount += r.OK
		unanswered += r.Sent - r.Requests
	}

	// 2. Every acknowledged sale stored once: read back through the API,
	// then the file itself after posd stopped.
	if s, err = startPosd(ctx, bin, dir, token, noBackup...); err != nil {
		return err
	}
	fmt.Fprintf(log, "wrk: reading the sales back\n")
	cfg.URL = s.url
	stored, err := readSales(ctx, &cfg, hc, base)
	if serr := s.stop(); err == nil {
		err = serr
	}
	if err != nil {
		return err
	}
	v := checkWrkSales(acked, ackedCount, stored, base, unanswered)
	checkSaleKeys(ctx, filepath.Join(dir, "posd.db"), stored, v)
	vout, verr := exec.CommandContext(ctx, bin, "verify", "--data-dir", dir).CombinedOutput()
	v.PosdVerify = lastLine(vout)
	if verr != nil {
		v.finding("posd verify --data-dir: %v: %s", verr, tail(vout))
	}
	v.OK = v.OK && verr == nil
	res.Verify = v

	// 3. The bare net/http echo with the same requests.
	bare, err := startBare(filepath.Join(scratch, "bare.log"))
	if err != nil {
		return err
	}
	for _, n := range conns {
		if *skipBare {
			break
		}
		fmt.Fprintf(log, "wrk: bare echo, %d connection(s), %v + %v warm-up\n", n, *secs, *warm)
		w := wrkSpec{bin: wrkBin, url: bare.url, token: "bare", bodies: bodies, conns: n, dir: scratch, count: *countAll}
		r, err := w.measure(ctx, fmt.Sprintf("%s-bare-c%d", prefix, n), *warm, *secs, bare.pid())
		if err != nil {
			bare.stop()
			return err
		}
		r.run.Target = "bare"
		res.Bare[n] = r.run
	}
	bare.stop()

	// 3b. The HTTP floor: the same requests, read and answered with a
	// fixed body of posd's size, no JSON at all.
	if !*skipBare && !*skipFloor {
		floor, err := startBare(filepath.Join(scratch, "floor.log"), "--floor")
		if err != nil {
			return err
		}
		for _, n := range conns {
			fmt.Fprintf(log, "wrk: HTTP floor, %d connection(s), %v + %v warm-up\n", n, *secs, *warm)
			w := wrkSpec{bin: wrkBin, url: floor.url, token: "floor", bodies: bodies, conns: n, dir: scratch, count: *countAll}
			r, err := w.measure(ctx, fmt.Sprintf("%s-floor-c%d", prefix, n), *warm, *secs, floor.pid())
			if err != nil {
				floor.stop()
				return err
			}
			r.run.Target = "floor"
			res.Floor[n] = r.run
		}
		floor.stop()
	}

	// 4. The seed's design on PostgreSQL.
	if *skipPG {
		res.PGSkip = "--skip-pg"
	} else if c, err := ensurePG(ctx, *pgInstall, log); err != nil {
		res.PGSkip = err.Error()
		fmt.Fprintf(log, "wrk: PostgreSQL yardstick skipped: %v\n", err)
	} else {
		for _, n := range conns {
			fmt.Fprintf(log, "wrk: seed-design PostgreSQL, %d clients, %v\n", n, *secs)
			cpu0 := c.cpu()
			r, err := runPG(ctx, *pgScript, n, *secs)
			if err != nil {
				res.PGSkip = err.Error()
				fmt.Fprintf(log, "wrk: PostgreSQL yardstick failed: %v\n", err)
				break
			}
			if cpu := c.cpu() - cpu0; cpu > 0 && r.TPS > 0 {
				r.ServerCPUPerTxUS = float64(cpu.Microseconds()) / (r.TPS * secs.Seconds())
			}
			res.PG[n] = r
		}
		c.stop()
	}

	res.After = probe(scratch)
	res.DiskAfter = commitProbe(scratch, commitPages, 1000)
	res.print(stdout)
	if *out != "" {
		b, _ := json.MarshalIndent(res, "", "  ")
		if err := os.MkdirAll(filepath.Dir(*out), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(*out, b, 0o644); err != nil {
			return err
		}
		fmt.Fprintf(log, "wrk: figures written to %s\n", *out)
	}
	if !v.OK {
		return errors.New("the verification failed; see above")
	}
	return nil
}

// commitPages is how many pages a lone sale's bbolt commit writes besides
// the meta page (BENCHMARKS.md: about 27).
const commitPages = 27

// wrkSpec is a wrk load: sales with fresh keys against url.
type wrkSpec struct {
	bin, url, token string
	bodies          [][]byte
	conns           int
	dir             string
	// count has the script look at every answer of the measured run
	// (wrkLua), countWarm of the warm-up.
	count, countWarm bool
	// owner, when set, reads posd's /metrics before and after each run,
	// for the sales per commit.
	owner string
}

// wrkOutcome is a measured run with what the verification needs from it
// and its warm-up.
type wrkOutcome struct {
	run *WrkRun
	// numbers are the invoice numbers of the sales acknowledged by the
	// runs whose answers the script looked at; ackedCount counts the 2xx
	// of the others.
	numbers    []string
	ackedCount int
	unanswered int
}

// measure runs a warm-up and then the measured run, each with its own keys.
func (w wrkSpec) measure(ctx context.Context, prefix string, warm, d time.Duration, pid int) (*wrkOutcome, error) {
	o := &wrkOutcome{}
	add := func(r *WrkRun, counted bool) {
		if counted {
			o.numbers = append(o.numbers, r.numbers...)
		} else {
			o.ackedCount += r.OK
		}
		o.unanswered += r.Sent - r.Requests
	}
	if warm > 0 {
		ww := w
		ww.count = w.countWarm
		r, err := ww.run(ctx, prefix+"-warm", warm, pid)
		if err != nil {
			return nil, err
		}
		add(r, ww.count)
	}
	r, err := w.run(ctx, prefix, d, pid)
	if err != nil {
		return nil, err
	}
	o.run = r
	add(r, w.count)
	return o, nil
}

// threads is wrk's thread count: one per core at most, never more than
// connections.
func (w wrkSpec) threads() int { return min(w.conns, 2) }

// run runs wrk once for d, with keys prefix-THREAD-N.
func (w wrkSpec) run(ctx context.Context, prefix string, d time.Duration, pid int) (*WrkRun, error) {
	script := filepath.Join(w.dir, prefix+".lua")
	outFile := filepath.Join(w.dir, prefix+".out")
	host := strings.TrimPrefix(w.url, "http://")
	if err := os.WriteFile(script, []byte(wrkLua(host, w.token, prefix, outFile, w.bodies, w.count)), 0o600); err != nil {
		return nil, err
	}
	defer os.Remove(script)
	defer os.Remove(outFile)
	secs := max(int(d.Round(time.Second).Seconds()), 1)
	cmd := exec.CommandContext(ctx, w.bin, "-t", strconv.Itoa(w.threads()), "-c", strconv.Itoa(w.conns), "-d", strconv.Itoa(secs)+"s",
		"--timeout", "30s", "-s", script, w.url+"/api/sales")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	proc := newProcWatch(pid)
	idle := proc.sample()
	stopSampler := proc.start(100 * time.Millisecond)
	c0, o0 := w.storeCounters(ctx)
	a := proc.snap()
	err := cmd.Run()
	b := proc.snap()
	c1, o1 := w.storeCounters(ctx)
	peak := stopSampler()
	if err != nil {
		return nil, fmt.Errorf("wrk: %v: %s%s", err, tail(stderr.Bytes()), tail(stdout.Bytes()))
	}
	raw, err := os.ReadFile(outFile)
	if err != nil {
		return nil, fmt.Errorf("wrk wrote no results (%v): %s", err, tail(stdout.Bytes()))
	}
	r, err := parseWrkOut(raw, w.count)
	if err != nil {
		return nil, err
	}
	r.Conns, r.Threads = w.conns, w.threads()
	if r.Seconds > 0 {
		r.PerSec = float64(r.OK) / r.Seconds
	}
	r.Server = proc.figures(idle, peak, a, b, r.OK)
	if c1 > c0 {
		r.SalesPerCommit = (o1 - o0) / (c1 - c0)
	}
	if ps := cmd.ProcessState; ps != nil && r.Requests > 0 {
		r.WrkCPUUS = float64((ps.UserTime() + ps.SystemTime()).Microseconds()) / float64(r.Requests)
	}
	return r, nil
}

// storeCounters reads posd's commits and operations so far from /metrics
// (0, 0 when there is no owner token or no answer).
func (w wrkSpec) storeCounters(ctx context.Context) (commits, ops float64) {
	if w.owner == "" {
		return 0, 0
	}
	req, err := http.NewRequestWithContext(ctx, "GET", w.url+"/metrics", nil)
	if err != nil {
		return 0, 0
	}
	req.Header.Set("Authorization", "Bearer "+w.owner)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, 0
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) != 2 {
			continue
		}
		v, _ := strconv.ParseFloat(f[1], 64)
		switch f[0] {
		case "posd_store_commits_total":
			commits = v
		case "posd_store_operations_total":
			ops = v
		}
	}
	return commits, ops
}

// wrkLua is the script: each request is a sale with the key
// prefix-THREAD-COUNTER, built from pre-formatted pieces (wrk.format for
// every request would cost the loader more than the server). When count is
// true, response counts the answers by status and keeps the invoice number
// of every 2xx; without it wrk skips handing answers to Lua at all, the
// lightest load it can make, and the 2xx are the answers minus wrk's own
// count of statuses above 399. done writes it all to out for posd-load.
func wrkLua(host, token, prefix, out string, bodies [][]byte, count bool) string {
	var b strings.Builder
	fmt.Fprintf(&b, "-- made by posd-load wrk\nlocal head = %s\n", luaString("POST /api/sales HTTP/1.1\r\nHost: "+host+"\r\nAuthorization: Bearer "+token+
		"\r\nContent-Type: application/json\r\nIdempotency-Key: "+prefix+"-"))
	b.WriteString("local tails = {\n")
	for _, body := range bodies {
		fmt.Fprintf(&b, "  %s,\n", luaString("\r\nContent-Length: "+strconv.Itoa(len(body))+"\r\n\r\n"+string(body)))
	}
	b.WriteString("}\n")
	fmt.Fprintf(&b, "local out = %s\n", luaString(out))
	b.WriteString(`local threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("tid", #threads)
end
function init(args)
  sent, ok, answered = 0, 0, 0
  statuses, nums = {}, {}
  keyhead = head .. tid .. "-"
end
function request()
  sent = sent + 1
  return keyhead .. sent .. tails[(sent + tid) % #tails + 1]
end
`)
	if count {
		b.WriteString(`function response(status, headers, body)
  answered = answered + 1
  if status >= 200 and status < 300 then
    ok = ok + 1
    nums[ok] = string.match(body, '"invoiceNumber":"([^"]*)"') or "?"
  else
    statuses[status] = (statuses[status] or 0) + 1
  end
end
`)
	}
	b.WriteString(`function done(summary, latency, requests)
  local f = assert(io.open(out, "w"))
  local e = summary.errors
  f:write(string.format("summary %d %d %d %d %d %d %d\n", summary.duration, summary.requests, e.connect, e.read, e.write, e.status, e.timeout))
  f:write(string.format("latency %d %d %d %d %.3f\n", latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, latency.mean))
  for _, t in ipairs(threads) do
    f:write(string.format("thread %d %d %d %d\n", t:get("tid"), t:get("sent"), t:get("ok"), t:get("answered")))
    for code, n in pairs(t:get("statuses")) do
      f:write(string.format("status %d %d\n", code, n))
    end
    for _, n in ipairs(t:get("nums")) do
      f:write("n ", n, "\n")
    end
  end
  f:close()
end
`)
	return b.String()
}

// luaString quotes s for Lua: printable ASCII as it is, everything else as
// a decimal escape.
func luaString(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '"' || c == '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case c < 0x20 || c > 0x7e:
			fmt.Fprintf(&b, "\\%03d", c)
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// parseWrkOut reads what the script's done wrote; counted says whether
// the script had its response callback (wrkLua's count).
func parseWrkOut(raw []byte, counted bool) (*WrkRun, error) {
	r := &WrkRun{Non2xx: map[string]int{}}
	var haveSummary, haveLatency bool
	var okSum, answered, statusErrors int
	sc := bufio.NewScanner(bytes.NewReader(raw))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 0 {
			continue
		}
		nums := func(n int) ([]float64, error) {
			if len(f) != n+1 {
				return nil, fmt.Errorf("wrk results: %q has %d fields, want %d", sc.Text(), len(f)-1, n)
			}
			v := make([]float64, n)
			for i := range v {
				var err error
				if v[i], err = strconv.ParseFloat(f[i+1], 64); err != nil {
					return nil, fmt.Errorf("wrk results: %q: %v", sc.Text(), err)
				}
			}
			return v, nil
		}
		switch f[0] {
		case "summary":
			v, err := nums(7)
			if err != nil {
				return nil, err
			}
			r.Seconds = v[0] / 1e6
			r.Requests = int(v[1])
			r.SocketErrors = int(v[2] + v[3] + v[4] + v[6])
			statusErrors = int(v[5])
			haveSummary = true
		case "latency":
			v, err := nums(5)
			if err != nil {
				return nil, err
			}
			r.Latency = Latency{P50: v[0] / 1000, P90: v[1] / 1000, P99: v[2] / 1000, Max: v[3] / 1000}
			r.MeanMs = v[4] / 1000
			haveLatency = true
		case "thread":
			v, err := nums(4)
			if err != nil {
				return nil, err
			}
			r.Sent += int(v[1])
			okSum += int(v[2])
			answered += int(v[3])
		case "status":
			v, err := nums(2)
			if err != nil {
				return nil, err
			}
			r.Non2xx[strconv.Itoa(int(v[0]))] += int(v[1])
		case "n":
			if len(f) != 2 {
				return nil, fmt.Errorf("wrk results: %q", sc.Text())
			}
			r.numbers = append(r.numbers, f[1])
		default:
			return nil, fmt.Errorf("wrk results: unknown line %q", sc.Text())
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if !haveSummary || !haveLatency {
		return nil, errors.New("wrk results: no summary or latency line")
	}
	if !counted {
		// wrk counts statuses above 399; the bare echo answers 201 or 400.
		r.OK = r.Requests - statusErrors
		if statusErrors > 0 {
			r.Non2xx[">399"] = statusErrors
		}
		r.Latency.N = r.Requests
		return r, nil
	}
	r.OK = okSum
	if len(r.numbers) != okSum {
		return nil, fmt.Errorf("wrk results: %d invoice numbers for %d 2xx answers", len(r.numbers), okSum)
	}
	if answered != r.Requests {
		return nil, fmt.Errorf("wrk results: the script saw %d answers, wrk counted %d", answered, r.Requests)
	}
	r.Latency.N = r.Requests
	return r, nil
}

// storedSale is a sale read back through the API.
type storedSale struct{ id, number string }

// readSales lists every sale stored after base, newest first, through the
// API with the owner token.
func readSales(ctx context.Context, cfg *Config, hc *http.Client, base *baseline) ([]storedSale, error) {
	owner := ownerClient(cfg, hc)
	var out []storedSale
	q := client.SalesQuery{Limit: 500, Newest: true}
	for {
		p, err := owner.Sales(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("reading the sales back: %w", err)
		}
		for _, s := range p.Sales {
			if s.ID == base.id {
				return out, nil
			}
			out = append(out, storedSale{id: s.ID, number: s.InvoiceNumber})
		}
		if p.NextCursor == nil {
			return out, nil
		}
		q.Cursor = *p.NextCursor
	}
}

// checkWrkSales checks the stored sales against the numbers wrk was
// answered with: each acknowledged number stored exactly once, no sale or
// number stored twice, the series gapless from base on, and no more
// unacknowledged sales than requests were left unanswered.
func checkWrkSales(acked []string, ackedCount int, stored []storedSale, base *baseline, unanswered int) *WrkVerification {
	v := &WrkVerification{Acknowledged: len(acked) + ackedCount, ByNumber: len(acked), Stored: len(stored), Unanswered: unanswered}
	byNumber := map[string]int{}
	ids := map[string]bool{}
	bySeries := map[engine.Series][]uint64{}
	for _, s := range stored {
		byNumber[s.number]++
		if byNumber[s.number] == 2 {
			v.Duplicates++
			v.finding("number %s is stored twice", s.number)
		}
		if ids[s.id] {
			v.Duplicates++
			v.finding("sale %s is listed twice", s.id)
		}
		ids[s.id] = true
		series, n, ok := engine.ParseNumber(s.number)
		if !ok {
			v.Gaps++
			v.finding("sale %s has a malformed number %q", s.id, s.number)
			continue
		}
		bySeries[series] = append(bySeries[series], n)
	}
	seen := map[string]bool{}
	for _, n := range acked {
		if seen[n] {
			v.Duplicates++
			v.finding("number %s was acknowledged twice", n)
		}
		seen[n] = true
		if byNumber[n] == 0 {
			v.Missing++
			v.finding("sale %s was acknowledged but is not stored", n)
		}
	}
	for _, s := range slices.Sorted(maps.Keys(bySeries)) {
		from := uint64(1)
		if s == base.series {
			from = base.n + 1
		}
		gap, desc := checkRun(bySeries[s], from)
		v.Series = append(v.Series, string(s)+" "+desc)
		if gap != "" {
			v.Gaps++
			v.finding("series %s: %s", s, gap)
		}
	}
	v.Extra = v.Stored - len(seen) - ackedCount
	if v.Extra < 0 || v.Extra > unanswered {
		v.finding("%d sales stored without an answer wrk read, but only %d requests were unanswered", v.Extra, unanswered)
	}
	v.OK = v.Missing == 0 && v.Duplicates == 0 && v.Gaps == 0 && v.Extra >= 0 && v.Extra <= unanswered
	return v
}

// checkSaleKeys reads the idempotency records of the stopped posd's file:
// every stored sale has exactly one key, and no sale key points elsewhere.
func checkSaleKeys(ctx context.Context, path string, stored []storedSale, v *WrkVerification) {
	st, err := boltstore.Open(path, boltstore.Options{ReadOnly: true})
	if err != nil {
		v.KeyFindings++
		v.finding("opening %s: %v", path, err)
		v.OK = false
		return
	}
	defer st.Close()
	keysOf := map[string]int{}
	err = engine.Scan(ctx, st, func(tx engine.ScanTx) error {
		bizs, err := tx.Businesses()
		if err != nil {
			return err
		}
		for _, b := range bizs {
			err := tx.Idempotencies(b.ID, func(r *engine.IdempotencyRecord) error {
				if r.Doc.Kind == engine.KindSale {
					v.SaleKeys++
					keysOf[r.Doc.ID]++
				}
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		v.KeyFindings++
		v.finding("reading the idempotency records: %v", err)
	}
	ids := map[string]bool{}
	for _, s := range stored {
		ids[s.id] = true
		if n := keysOf[s.id]; n != 1 {
			v.KeyFindings++
			v.finding("sale %s (%s) has %d idempotency keys, want 1", s.id, s.number, n)
		}
	}
	for id := range keysOf {
		if !ids[id] {
			v.KeyFindings++
			v.finding("a sale key points at %s, which is not among the stored sales", id)
		}
	}
	v.OK = v.OK && v.KeyFindings == 0
}

// profileRun runs wrk once more at conns connections against a posd with
// its profiler on, and saves a CPU profile of the run and a heap profile.
func profileRun(ctx context.Context, bin, dir, token, till, wrkBin string, bodies [][]byte, conns int, d time.Duration, profDir, scratch, prefix string, log io.Writer) ([]string, *WrkRun, error) {
	if err := os.MkdirAll(profDir, 0o755); err != nil {
		return nil, nil, err
	}
	paddr, err := posdproc.FreeAddr()
	if err != nil {
		return nil, nil, err
	}
	s, err := startPosd(ctx, bin, dir, token, "--backup-every", "0", "--pprof", paddr)
	if err != nil {
		return nil, nil, err
	}
	defer s.stop()
	fmt.Fprintf(log, "wrk: posd with its profiler on, %d connections, %v\n", conns, d)
	cpuFile := filepath.Join(profDir, fmt.Sprintf("posd-cpu-c%d.pprof", conns))
	got := make(chan error, 1)
	go func() {
		got <- fetch(ctx, fmt.Sprintf("http://%s/debug/pprof/profile?seconds=%d", paddr, int(d.Seconds())), cpuFile)
	}()
	w := wrkSpec{bin: wrkBin, url: s.url, token: till, bodies: bodies, conns: conns, dir: scratch}
	r, err := w.run(ctx, prefix+"-profile", d+time.Second, s.pid())
	if err != nil {
		return nil, nil, err
	}
	if err := <-got; err != nil {
		return nil, nil, err
	}
	heapFile := filepath.Join(profDir, fmt.Sprintf("posd-heap-c%d.pprof", conns))
	if err := fetch(ctx, fmt.Sprintf("http://%s/debug/pprof/allocs", paddr), heapFile); err != nil {
		return nil, nil, err
	}
	fmt.Fprintf(log, "wrk: profiled run: %.0f sales/s, %.0f µs CPU per sale (with the profiler on); %s, %s\n", r.PerSec, r.Server.CPUPerRequestUS, cpuFile, heapFile)
	return []string{cpuFile, heapFile}, r, nil
}

func fetch(ctx context.Context, url, file string) error {
	hc := newHTTPClient(1, 5*time.Minute)
	req, err := http.NewRequestWithContext(ctx, "GET", url, nil)
	if err != nil {
		return err
	}
	res, err := hc.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		b, _ := io.ReadAll(res.Body)
		return fmt.Errorf("GET %s: %s: %s", url, res.Status, tail(b))
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, res.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func wrkVersion(bin string) string {
	out, _ := exec.Command(bin, "-v").CombinedOutput()
	return strings.TrimSpace(strings.SplitN(string(out), "\n", 2)[0])
}

func lastLine(b []byte) string {
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// print writes the figures as Markdown tables.
func (r *WrkResult) print(w io.Writer) {
	fmt.Fprintf(w, "Measured %s on %s; posd %s; %s.\n", r.Started.Format("2006-01-02 15:04 UTC"), r.Machine, r.PosdCommit, r.Wrk)
	fmt.Fprintf(w, "Each point: %.0f s of wrk after a %.0f s warm-up; every request a 3-line sale with a fresh Idempotency-Key; posd fsyncs every commit before it answers.\n", r.Seconds, r.Warmup)
	fmt.Fprintln(w, "wrk (and pgbench) run on the same 2 cores as the server they measure: the throughput figures include the loader's share; CPU per request is the server's alone (/proc/PID/stat, user+sys, over the run).")
	if r.Counted {
		fmt.Fprintln(w, "Every wrk run hands each answer to a Lua callback that keeps its invoice number (--count): each acknowledged sale is checked by number; wrk costs about twice the CPU per answer.")
	} else {
		fmt.Fprintln(w, "The measured runs hand no answer to Lua, the lightest wrk, alike for posd and the bare echo: their acknowledged sales are checked by count; posd's warm-ups hand every answer to a Lua callback that keeps its invoice number, and those sales are checked one by one.")
	}
	fmt.Fprintf(w, "Machine before: %v.\nMachine after: %v.\n", r.Before, r.After)
	fmt.Fprintf(w, "Disk floor of a lone commit, before: %v.\nDisk floor of a lone commit, after: %v.\n\n", r.DiskBefore, r.DiskAfter)
	fmt.Fprintln(w, "| target | conns | 2xx/s | p50 ms | p90 ms | p99 ms | max ms | server CPU µs/req | server RSS max MiB | non-2xx | wrk CPU µs/req | sales/commit |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, n := range r.Conns {
		for _, t := range []struct {
			name string
			run  *WrkRun
		}{{"posd", r.Posd[n]}, {"bare net/http echo", r.Bare[n]}, {"HTTP floor (net/http, no JSON)", r.Floor[n]}} {
			x := t.run
			if x == nil {
				continue
			}
			cpu, rss := "–", "–"
			if x.Server != nil {
				cpu, rss = fmt.Sprintf("%.1f", x.Server.CPUPerRequestUS), fmt.Sprintf("%.1f", x.Server.MaxRSSMB)
			}
			spc := "–"
			if x.SalesPerCommit > 0 {
				spc = fmt.Sprintf("%.1f", x.SalesPerCommit)
			}
			fmt.Fprintf(w, "| %s | %d | %.0f | %.2f | %.2f | %.2f | %.2f | %s | %s | %d | %.1f | %s |\n", t.name, n, x.PerSec,
				x.Latency.P50, x.Latency.P90, x.Latency.P99, x.Latency.Max, cpu, rss, x.non2xx()+x.SocketErrors, x.WrkCPUUS, spc)
		}
		if g := r.PG[n]; g != nil {
			cpu := "–"
			if g.ServerCPUPerTxUS > 0 {
				cpu = fmt.Sprintf("%.0f", g.ServerCPUPerTxUS)
			}
			fmt.Fprintf(w, "| seed design, PostgreSQL (pgbench) | %d | %.0f | avg %.2f | – | – | – | %s | – | – | – | – |\n", n, g.TPS, g.LatencyMs, cpu)
		}
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
	hi, lo := slices.Max(r.Conns), slices.Min(r.Conns)
	if p := r.Posd[hi]; p != nil {
		if b := r.Bare[hi]; b != nil && b.PerSec > 0 {
			row(fmt.Sprintf("%d conns: posd sales/s ÷ bare echo req/s", hi), fmt.Sprintf("%.0f ÷ %.0f = %.2f", p.PerSec, b.PerSec, p.PerSec/b.PerSec), "≥ 0.5", p.PerSec >= b.PerSec/2)
		}
		if g := r.PG[hi]; g != nil && g.TPS > 0 {
			row(fmt.Sprintf("%d conns: posd sales/s ÷ seed-design tps", hi), fmt.Sprintf("%.0f ÷ %.0f = %.1f×", p.PerSec, g.TPS, p.PerSec/g.TPS), "≥ 40×", p.PerSec >= 40*g.TPS)
		}
		if p.Server != nil && r.CPUBaseUS > 0 {
			row(fmt.Sprintf("%d conns: posd CPU per sale", hi), fmt.Sprintf("%.1f µs (%.0f%% of %.1f)", p.Server.CPUPerRequestUS, 100*p.Server.CPUPerRequestUS/r.CPUBaseUS, r.CPUBaseUS),
				fmt.Sprintf("≤ %.1f µs (−35%%)", 0.65*r.CPUBaseUS), p.Server.CPUPerRequestUS <= 0.65*r.CPUBaseUS)
		}
	}
	if p := r.Posd[lo]; p != nil {
		row(fmt.Sprintf("%d conn: posd p99", lo), fmt.Sprintf("%.2f ms", p.Latency.P99), "< 2 ms", p.Latency.P99 < 2)
	}
	if v := r.Verify; v != nil {
		row("every acknowledged sale stored once", v.summary(), "exactly once", v.OK)
	}
	for _, n := range r.Conns {
		p, f := r.Posd[n], r.Floor[n]
		if p == nil || f == nil || p.Server == nil || f.Server == nil {
			continue
		}
		fmt.Fprintf(w, "\n%d conn(s): posd %.1f µs of server CPU per sale, the HTTP floor %.1f µs per request: %.1f µs per sale are posd's own work and its storage.\n",
			n, p.Server.CPUPerRequestUS, f.Server.CPUPerRequestUS, p.Server.CPUPerRequestUS-f.Server.CPUPerRequestUS)
	}
	if v := r.Verify; v != nil {
		fmt.Fprintf(w, "\nVerification: %d sales acknowledged (2xx read by wrk, warm-ups included; %d of them checked by invoice number, the rest by count), %d stored, of them %d committed while wrk was stopping (it closed %d connections with a request in flight); numbers %s; %d sale keys in the file, %d key findings; posd verify: %s.\n",
			v.Acknowledged, v.ByNumber, v.Stored, v.Extra, v.Unanswered, strings.Join(v.Series, ", "), v.SaleKeys, v.KeyFindings, v.PosdVerify)
		for _, f := range v.Findings {
			fmt.Fprintf(w, "  - %s\n", f)
		}
	}
	for _, p := range r.Profiles {
		fmt.Fprintf(w, "Profile: %s\n", p)
	}
}

func (v *WrkVerification) summary() string {
	if v.OK {
		return fmt.Sprintf("%d acknowledged, all stored once; gapless; one key each", v.Acknowledged)
	}
	return fmt.Sprintf("FAILED: %d missing, %d duplicates, %d gaps, %d key findings", v.Missing, v.Duplicates, v.Gaps, v.KeyFindings)
}
