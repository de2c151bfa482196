//go:build linux

// Command posd-fault is posd's fault harness. It runs posd serve as a child
// process on a fresh data dir, drives it with many concurrent tills through
// the real Go client (posd/api/client) behind an in-process TCP proxy,
// injects one kind of fault (kill -9, a crash right after commit, answers
// lost after commit, SIGSTOP, a slow and broken network, a full disk),
// records every attempt, heals, lets every till's queue drain, reads
// everything back over the API and from the file, and checks the history:
//
//	0  every queue drained; every answer lawful
//	1  every acknowledged write is present
//	2  one document per key; every 2xx for a key carries the same id and number
//	3  every series is exactly 1..N, and a write acknowledged before another
//	   was sent has the lower number
//	4  stock = initial + every movement of every document read back
//	5  no document that no till attempted
//	6  the database verifies after every death of posd and at the end
//
// It runs on Linux only: it needs prlimit, SIGSTOP and loop devices. Its
// tests (go test ./cmd/posd-fault) run the short profiles and build
// deliberately broken variants of posd to show each check can fail; make
// test-long runs the long ones. Run by hand:
//
//	go run ./cmd/posd-fault -profile kill -scale long
//	go run ./cmd/posd-fault -profile all -posd bin/posd -data-dir /mnt/flakey/posd
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"posd/engine/pgstore/pgtest"
)

func main() {
	profile := flag.String("profile", "all", "fault profile: all, or one of "+profileNames())
	scale := flag.String("scale", "short", "short or long")
	bin := flag.String("posd", "", "posd binary to test (default: build ./cmd/posd, with the profile's tags)")
	dir := flag.String("data-dir", "", "parent of the fresh data dirs (default: a temporary directory)")
	verbose := flag.Bool("v", false, "print progress")
	flag.Parse()
	sc := Short
	if *scale == "long" {
		sc = Long
	}
	var ps []Profile
	if *profile == "all" {
		ps = Profiles
	} else if p, ok := ProfileNamed(*profile); ok {
		ps = []Profile{p}
	} else {
		fmt.Fprintf(os.Stderr, "posd-fault: unknown profile %q; use all or one of %s\n", *profile, profileNames())
		os.Exit(2)
	}
	parent := *dir
	if parent == "" {
		d, err := os.MkdirTemp("", "posd-fault")
		if err != nil {
			fatal(err)
		}
		defer os.RemoveAll(d) // on success; a failed run's data is kept for a look
		parent = d
	}
	var log io.Writer = io.Discard
	if *verbose {
		log = os.Stderr
	}
	failed := false
	for _, p := range ps {
		b := *bin
		if b == "" {
			var err error
			if b, err = Binary(Build{Tags: p.Tags}); err != nil {
				fatal(err)
			}
		}
		rep, err := Execute(p, sc, b, filepath.Join(parent, p.Name), log)
		if errors.Is(err, ErrUnavailable) {
			fmt.Printf("profile %s: skipped: %v\n", p.Name, err)
			continue
		}
		if err != nil {
			fatal(fmt.Errorf("%s: %w", p.Name, err))
		}
		fmt.Print(rep)
		failed = failed || !rep.OK()
	}
	CleanBinaries()
	if failed {
		os.Exit(1)
	}
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "posd-fault:", err)
	CleanBinaries()
	os.Exit(1)
}

func profileNames() string {
	var n []string
	for _, p := range Profiles {
		n = append(n, p.Name)
	}
	return strings.Join(n, ", ")
}

// ErrUnavailable reports a profile this machine cannot run.
var ErrUnavailable = errors.New("this machine cannot run the profile")

// Execute runs one profile at one scale against bin on a fresh data dir.
func Execute(p Profile, s Scale, bin, dir string, log io.Writer) (*Report, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	var pg *pgtest.Cluster
	var dbURL string
	if p.Postgres {
		// A production-like server of the profile's own (fsync and
		// synchronous commit on), which it may stop and crash.
		var err error
		if pg, err = pgtest.Start(pgtest.Options{Durable: true}); err != nil {
			if errors.Is(err, pgtest.ErrNoPostgres) && !pgtest.Required() {
				return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
			}
			return nil, err
		}
		defer pg.Remove()
		if dbURL, err = pg.CreateDatabase(context.Background(), "posd", ""); err != nil {
			return nil, err
		}
	}
	verify := VerifyFile
	if HasVerify(bin) {
		verify = Both(VerifyFile, PosdVerify(bin))
	}
	final := verify
	if dbURL != "" {
		// Whichever process died, the database to check is the shared one,
		// and it is not at rest: the other processes go on selling into it
		// while it is read (one snapshot). After a death the harness's own
		// check runs (posd verify of a database growing under load would
		// make the run's length grow with the square of its faults); posd
		// verify too at the end.
		verify = func(string) error { return VerifyFile(dbURL) }
		final = func(string) error { return Both(VerifyFile, PosdVerify(bin))(dbURL) }
	}
	var disk *lossyDisk
	var cut func() error
	if p.PowerLoss {
		if err := PowerLossUnavailable(); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrUnavailable, err)
		}
		var err error
		if disk, err = newLossyDisk(dir); err != nil {
			return nil, err
		}
		defer disk.Close()
		dir, cut = disk.DataDir(), disk.Cut
	}
	r, err := NewRun(Config{Bin: bin, Dir: dir, Env: p.Env, Shops: 2, TillsPerShop: s.TillsPerShop, Managers: true,
		InvalidEvery: 15, Attempt: 1500 * time.Millisecond, Pace: s.Pace, Verify: verify, FinalVerify: final, BeforeRestart: cut, Log: log,
		Database: dbURL, Nodes: p.Nodes})
	if err != nil {
		return nil, err
	}
	defer r.Close()
	r.disk, r.PG = disk, pg
	r.StartLoad()
	r.Sleep(300 * time.Millisecond)
	if err := p.Inject(r, s); err != nil {
		return nil, err
	}
	drain := r.Drain()
	rep, err := r.Finish(p.Name + "/" + s.Name)
	if err != nil {
		return nil, err
	}
	rep.Faults["drain after healing ms"] = int(drain.Milliseconds())
	deaths, restarts, verified, _, stderr := r.Deaths()
	rep.Faults["posd deaths"], rep.Faults["posd restarts"] = deaths, restarts
	rep.VerifyRuns = verified + 1 // and once at the end
	rep.PosdVerify = HasVerify(bin)
	if p.NoDeaths && deaths > 0 {
		rep.fail(CheckAnswers, "posd died %d times, though no fault was meant to kill it: %s", deaths, strings.Join(stderr, " | "))
	}
	return rep, nil
}

var (
	binMu    sync.Mutex
	binDir   string
	binCache = map[string]string{}
)

// Binary builds posd the way b says, once per process.
func Binary(b Build) (string, error) {
	binMu.Lock()
	defer binMu.Unlock()
	if bin, ok := binCache[b.fileName()]; ok {
		return bin, nil
	}
	if binDir == "" {
		var err error
		if binDir, err = os.MkdirTemp("", "posd-fault-bin"); err != nil {
			return "", err
		}
	}
	bin := filepath.Join(binDir, b.fileName())
	if err := b.compile(bin, binDir); err != nil {
		return "", err
	}
	binCache[b.fileName()] = bin
	return bin, nil
}

// CleanBinaries removes the built binaries.
func CleanBinaries() {
	binMu.Lock()
	defer binMu.Unlock()
	if binDir != "" {
		os.RemoveAll(binDir)
		binDir, binCache = "", map[string]string{}
	}
}
