//go:build linux

package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// PGResult is one run of the seed design's PostgreSQL yardstick
// (../shared/bench/seed-design-pg/run.sh): pgbench running the seed's
// sale transaction, which holds the business's counter row locked until
// commit.
type PGResult struct {
	Clients   int     `json:"clients"`
	TPS       float64 `json:"tps"`
	LatencyMs float64 `json:"latencyAvgMs"`
	// ServerCPUPerTxUS is PostgreSQL's CPU time (the postmaster and its
	// children) per transaction, when measured (posd-load wrk).
	ServerCPUPerTxUS float64 `json:"serverCpuPerTxUs,omitempty"`
	Output           string  `json:"output"`
}

// pgCluster is the local PostgreSQL cluster the yardstick runs on.
type pgCluster struct {
	version, name, dataDir string
	// started is true when posd-load started it (and so stops it).
	started bool
}

// ensurePG finds a local PostgreSQL cluster and starts it; it installs
// PostgreSQL with apt-get when it is missing and install is true. Every
// failure is returned, so that the caller can skip the yardstick.
func ensurePG(ctx context.Context, install bool, log io.Writer) (*pgCluster, error) {
	if os.Geteuid() != 0 {
		return nil, errors.New("the yardstick runs psql and pgbench as the postgres user through su, which needs root")
	}
	if _, err := exec.LookPath("pg_lsclusters"); err != nil {
		if !install {
			return nil, errors.New("PostgreSQL is not installed (apt-get install -y postgresql, or pass --pg-install)")
		}
		fmt.Fprintln(log, "suite: installing PostgreSQL with apt-get (the seed-design yardstick needs it)")
		cmd := exec.CommandContext(ctx, "apt-get", "install", "-y", "postgresql")
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		if out, err := cmd.CombinedOutput(); err != nil {
			return nil, fmt.Errorf("apt-get install postgresql: %v: %s", err, tail(out))
		}
	}
	if _, err := exec.LookPath("pgbench"); err != nil {
		return nil, errors.New("pgbench is not installed")
	}
	out, err := exec.CommandContext(ctx, "pg_lsclusters", "--no-header").Output()
	if err != nil {
		return nil, fmt.Errorf("pg_lsclusters: %v", err)
	}
	var c *pgCluster
	status := ""
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 4 && (c == nil || f[0] > c.version) {
			c, status = &pgCluster{version: f[0], name: f[1]}, f[3]
			if len(f) >= 6 {
				c.dataDir = f[5]
			}
		}
	}
	if c == nil {
		return nil, errors.New("no PostgreSQL cluster (pg_createcluster 15 main)")
	}
	if v, _ := strconv.Atoi(strings.SplitN(c.version, ".", 2)[0]); v < 15 {
		return nil, fmt.Errorf("PostgreSQL %s is older than the 15 the yardstick needs", c.version)
	}
	if status != "online" {
		if out, err := exec.CommandContext(ctx, "pg_ctlcluster", c.version, c.name, "start").CombinedOutput(); err != nil {
			return nil, fmt.Errorf("pg_ctlcluster %s %s start: %v: %s", c.version, c.name, err, tail(out))
		}
		c.started = true
	}
	return c, nil
}

func (c *pgCluster) stop() {
	if c != nil && c.started {
		exec.Command("pg_ctlcluster", c.version, c.name, "stop").Run()
	}
}

// cpu returns the CPU time used so far by the cluster: its postmaster,
// the children it reaped (backends that ended) and the children alive (0
// when unknown). Other PostgreSQL servers on the machine are not counted.
func (c *pgCluster) cpu() time.Duration {
	if c == nil || c.dataDir == "" {
		return 0
	}
	b, err := os.ReadFile(filepath.Join(c.dataDir, "postmaster.pid"))
	if err != nil {
		return 0
	}
	pm, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]))
	if err != nil {
		return 0
	}
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return 0
	}
	var total time.Duration
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		st, ok := readStat(pid)
		if !ok {
			continue
		}
		switch {
		case pid == pm:
			total += st.cpu + st.children
		case st.ppid == pm:
			total += st.cpu
		}
	}
	return total
}

var (
	reTPS     = regexp.MustCompile(`tps = ([0-9.]+)`)
	reLatency = regexp.MustCompile(`latency average = ([0-9.]+) ms`)
)

// runPG runs the yardstick script with clients for d.
func runPG(ctx context.Context, script string, clients int, d time.Duration) (*PGResult, error) {
	secs := int(d.Seconds())
	if secs < 1 {
		secs = 1
	}
	out, err := exec.CommandContext(ctx, "bash", script, strconv.Itoa(clients), strconv.Itoa(secs)).CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("%s %d %d: %v: %s", script, clients, secs, err, tail(out))
	}
	r := &PGResult{Clients: clients, Output: strings.TrimSpace(string(out))}
	m := reTPS.FindSubmatch(out)
	if m == nil {
		return nil, fmt.Errorf("no tps in the output of %s: %s", script, tail(out))
	}
	r.TPS, _ = strconv.ParseFloat(string(m[1]), 64)
	if m := reLatency.FindSubmatch(out); m != nil {
		r.LatencyMs, _ = strconv.ParseFloat(string(m[1]), 64)
	}
	return r, nil
}

func tail(b []byte) string {
	s := strings.TrimSpace(string(b))
	if len(s) > 400 {
		s = "…" + s[len(s)-400:]
	}
	return s
}
