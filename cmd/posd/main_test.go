package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"posd/api/client"
	"posd/cmd/internal/posdproc"
	"posd/engine"
	"posd/engine/pgstore/pgtest"
)

var posdBin string

// TestMain builds the real binary once; the tests run it as a user would.
func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "posd-bin")
	if err != nil {
		panic(err)
	}
	posdBin = filepath.Join(dir, "posd")
	if err := posdproc.Build(posdBin); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	pgtest.Cleanup()
	os.Exit(code)
}

func posd(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(posdBin, args...)
	var so, se strings.Builder
	cmd.Stdout, cmd.Stderr = &so, &se
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return so.String(), se.String(), code
}

func freePort(t *testing.T) string {
	addr, err := posdproc.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	return addr
}

func TestInitJSON(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "d")
	out, errOut, code := posd(t, "init", "--data-dir", dir, "--business", "Corner Shop", "--timezone", "Europe/Vienna", "--currency", "chf", "--json")
	if code != 0 {
		t.Fatalf("init: %d %s", code, errOut)
	}
	var v map[string]any
	if err := json.Unmarshal([]byte(out), &v); err != nil || len(v) != 3 {
		t.Fatalf("init --json printed %q", out)
	}
	tok, _ := v["ownerToken"].(string)
	if v["businessId"] == nil || v["locationId"] == nil || !strings.HasPrefix(tok, "posd_") {
		t.Errorf("init --json: %v", v)
	}
	// Again on the same dir: another business.
	out2, _, code := posd(t, "init", "--data-dir", dir, "--json")
	var v2 map[string]any
	json.Unmarshal([]byte(out2), &v2)
	if code != 0 || v2["businessId"] == v["businessId"] {
		t.Errorf("second init: %d %v", code, v2)
	}
	// Bad input: one clear line, non-zero.
	_, errOut, code = posd(t, "init", "--data-dir", dir, "--timezone", "Mars/Olympus")
	if code == 0 || strings.Count(strings.TrimSpace(errOut), "\n") != 0 || !strings.Contains(errOut, "timezone") {
		t.Errorf("bad timezone: %d %q", code, errOut)
	}
	_, errOut, code = posd(t, "frobnicate")
	if code == 0 || !strings.Contains(errOut, "unknown command") {
		t.Errorf("unknown command: %d %q", code, errOut)
	}
	out, _, code = posd(t, "help")
	if code != 0 || !strings.Contains(out, "serve") {
		t.Errorf("help: %d %q", code, out)
	}
	out, _, code = posd(t, "version")
	if code != 0 || !strings.Contains(out, "go1.") {
		t.Errorf("version: %d %q", code, out)
	}
	out, _, code = posd(t, "serve", "-h")
	if code != 0 || !strings.Contains(out, "-data-dir") || !strings.Contains(out, "Usage: posd serve") {
		t.Errorf("serve -h: %d %q", code, out)
	}
	_, errOut, code = posd(t, "serve", "--no-such-flag")
	if code != 2 || strings.Count(strings.TrimSpace(errOut), "\n") != 0 || !strings.Contains(errOut, "no-such-flag") {
		t.Errorf("bad flag: %d %q", code, errOut)
	}
}

// TestHelpOnGivenStdout: -h prints a command's usage on the stdout run was
// given, not on the process's own.
func TestHelpOnGivenStdout(t *testing.T) {
	t.Setenv(guardedEnv, "1") // the guarded commands run in this process
	for _, c := range commands() {
		if c.run == nil {
			continue
		}
		var out, errOut strings.Builder
		code := run(context.Background(), []string{c.name, "-h"}, &out, &errOut)
		if code != 0 || !strings.HasPrefix(out.String(), "Usage: posd "+c.name) {
			t.Errorf("%s -h: exit %d, stdout %q, stderr %q", c.name, code, out.String(), errOut.String())
		}
	}
}

// server is a running posd serve process, with what it printed up to its
// till URL.
type server struct {
	proc  *posdproc.Process
	addr  string
	token string
	lines []string
}

// tokenRE matches a token secret.
var tokenRE = regexp.MustCompile(`posd_[A-Za-z0-9_-]{43}`)

// startServe runs posd serve on dir, with more flags when given, and
// waits until it printed its till URL and answers.
func startServe(t *testing.T, dir string, flags ...string) *server {
	t.Helper()
	addr := freePort(t)
	proc, lines := startPrinting(t, posdproc.Options{Bin: posdBin, Args: posdproc.ServeArgs(dir, addr, flags...), Addr: addr, Poll: 20 * time.Millisecond},
		func(line string) bool { return strings.HasPrefix(line, "Till: http://") })
	if err := proc.WaitHealthy(10 * time.Second); err != nil {
		t.Fatalf("serve did not answer: %v", err)
	}
	s := &server{proc: proc, addr: addr, lines: lines}
	for _, l := range lines {
		if m := tokenRE.FindString(l); m != "" {
			s.token = m
		}
	}
	return s
}

// startPrinting starts posd as o says, reads what it prints on stdout up
// to the first line for which last is true (each without its newline),
// and reads away the rest. The process is killed when the test ends.
func startPrinting(t *testing.T, o posdproc.Options, last func(line string) bool) (*posdproc.Process, []string) {
	t.Helper()
	stdout, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	o.Stdout = w
	proc, err := posdproc.Start(o)
	w.Close()
	if err != nil {
		stdout.Close()
		t.Fatal(err)
	}
	// The pipe is closed only once posd is gone: it must not die writing.
	t.Cleanup(func() { proc.Kill(); stdout.Close() })
	r := bufio.NewReader(stdout)
	var lines []string
	for {
		line, err := r.ReadString('\n')
		lines = append(lines, strings.TrimSpace(line))
		if last(lines[len(lines)-1]) {
			break
		}
		if err != nil {
			t.Fatalf("posd's output ended early: %q\n%s", lines, proc.Stderr())
		}
	}
	go io.Copy(io.Discard, r)
	return proc, lines
}

// stop stops posd with SIGTERM and fails the test unless it exits cleanly
// within the contract's 10 s.
func (s *server) stop(t *testing.T) {
	t.Helper()
	if err := s.proc.Stop(10 * time.Second); err != nil {
		t.Fatal(err)
	}
}

// TestServeLifecycle: serve on an empty dir initialises and prints the
// owner token and the till URL; a second process fails fast with a clear
// message; SIGTERM finishes in-flight work and exits 0 within 10 s; the
// sale is still there after a restart.
func TestServeLifecycle(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	s := startServe(t, dir)
	if s.token == "" {
		t.Fatalf("no owner token printed: %q", s.lines)
	}
	if !strings.Contains(strings.Join(s.lines, ""), "/till/") {
		t.Errorf("no till URL printed: %q", s.lines)
	}
	ctx := context.Background()
	c := client.New("http://"+s.addr, s.token)
	locs, err := c.Locations(ctx)
	if err != nil || len(locs) != 1 || locs[0].Name != "Main" {
		t.Fatalf("locations: %v %v", locs, err)
	}
	p, err := c.CreateProduct(ctx, "", client.ProductRequest{SKU: "A", Name: "A", Price: 100})
	if err != nil {
		t.Fatal(err)
	}
	sale, err := c.CreateSale(ctx, "k1", client.SaleRequest{LocationID: locs[0].ID, Items: []client.SaleLine{{ProductID: p.ID, Quantity: engine.Q(1)}}, Payments: []engine.Payment{{Method: "cash", Amount: 100}}})
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^INV-\d{6}-0001$`).MatchString(sale.InvoiceNumber) {
		t.Errorf("number: %s", sale.InvoiceNumber)
	}

	start := time.Now()
	_, errOut, code := posd(t, "serve", "--data-dir", dir, "--listen", freePort(t))
	if code == 0 || !strings.Contains(errOut, "already running") || time.Since(start) > 5*time.Second {
		t.Errorf("second serve: code %d after %v: %q", code, time.Since(start), errOut)
	}

	start = time.Now()
	err = s.proc.Stop(10 * time.Second)
	if err != nil || time.Since(start) > 10*time.Second {
		t.Errorf("SIGTERM: %v after %v", err, time.Since(start))
	}

	s2 := startServe(t, dir)
	if s2.token != "" {
		t.Error("restart printed a new owner token")
	}
	c = client.New("http://"+s2.addr, s.token)
	got, err := c.Sale(ctx, sale.ID)
	if err != nil || got.InvoiceNumber != sale.InvoiceNumber {
		t.Errorf("after restart: %v %v", got, err)
	}
	replay, err := c.Do(ctx, "POST", "/api/sales", "k1", client.SaleRequest{LocationID: locs[0].ID, Items: []client.SaleLine{{ProductID: p.ID, Quantity: engine.Q(1)}}, Payments: []engine.Payment{{Method: "cash", Amount: 100}}})
	if err != nil || !replay.Replayed {
		t.Errorf("replay after restart: %v", err)
	}
}

func TestTokenRecovery(t *testing.T) {
	dir := t.TempDir()
	if _, e, code := posd(t, "init", "--data-dir", dir); code != 0 {
		t.Fatal(e)
	}
	out, errOut, code := posd(t, "token", "--data-dir", dir)
	if code != 0 || !regexp.MustCompile(`posd_[A-Za-z0-9_-]{43}`).MatchString(out) {
		t.Fatalf("token: %d %q %q", code, out, errOut)
	}
	_, errOut, code = posd(t, "token", "--data-dir", filepath.Join(dir, "nope"))
	if code == 0 || !strings.Contains(errOut, "no posd database") {
		t.Errorf("token on empty dir: %d %q", code, errOut)
	}
}
