//go:build linux

package main

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"syscall"
	"time"

	"posd/engine"
)

// Scale sets how much of each fault a profile injects: Short for make
// test, Long for make test-long.
type Scale struct {
	Name         string
	KillCycles   int           // kill -9, restart
	Crashes      int           // deaths by the crash-after-commit hook
	LostFor      time.Duration // answers lost after commit
	Pauses       int           // SIGSTOP past the client's timeout, SIGCONT
	NetFor       time.Duration // latency, bandwidth limit and resets
	Outage       time.Duration // the network is down
	DiskFulls    int           // writes fail with EFBIG
	DiskFullFor  time.Duration
	PowerCuts    int // kill, then drop what was not fsynced
	PGRestarts   int // PostgreSQL stopped (fast or immediate) and started again
	TillsPerShop int
	// Pace is the mean pause of a till between two intents. The short
	// scale runs flat out; the long one paces its tills so that the
	// database (verified in full after each of hundreds of deaths) grows
	// with the number of faults, not with the square of the run's length.
	Pace time.Duration
}

// Short and Long are the two scales.
var (
	Short = Scale{Name: "short", KillCycles: 20, Crashes: 8, LostFor: 4 * time.Second, Pauses: 2, NetFor: 3 * time.Second, Outage: 3 * time.Second, DiskFulls: 2, DiskFullFor: 1500 * time.Millisecond, PowerCuts: 8, PGRestarts: 3, TillsPerShop: 4}
	Long  = Scale{Name: "long", KillCycles: 300, Crashes: 100, LostFor: 60 * time.Second, Pauses: 20, NetFor: 60 * time.Second, Outage: time.Minute, DiskFulls: 20, DiskFullFor: 5 * time.Second, PowerCuts: 100, PGRestarts: 40, TillsPerShop: 8, Pace: 150 * time.Millisecond}
)

// Profile is one kind of fault run under the harness.
type Profile struct {
	Name string
	// Tags are the build tags the posd binary needs (the crash hook).
	Tags string
	// Env is set for posd (the hook's settings).
	Env []string
	// Inject runs the faults while the tills work; it returns when done.
	Inject func(r *Run, s Scale) error
	// PowerLoss puts the data dir on a disk that loses unsynced writes
	// whenever posd dies (root and loop devices needed).
	PowerLoss bool
	// Postgres runs posd on a PostgreSQL server of the profile's own,
	// with Nodes posd processes behind the proxy.
	Postgres bool
	Nodes    int
	// NoDeaths makes any death of posd a failure: the profile's faults
	// are not meant to kill it.
	NoDeaths bool
}

// Profiles are the faults the harness knows.
var Profiles = []Profile{
	{Name: "kill", Inject: injectKills},
	{Name: "crash-after-commit", Tags: "posd_crashpoints", Env: []string{"POSD_TEST_CRASH=after-commit:0.02"}, Inject: injectCrashes},
	{Name: "lost-response", Inject: injectLostResponses},
	{Name: "pause", Inject: injectPauses},
	{Name: "network", Inject: injectNetwork},
	{Name: "disk-full", Inject: injectDiskFull},
	{Name: "power-loss", Inject: injectPowerCuts, PowerLoss: true},
	// On PostgreSQL, two posd processes behind the proxy (a load
	// balancer) sell into the same businesses.
	{Name: "pg-two-processes", Inject: injectLostResponses, Postgres: true, Nodes: 2, NoDeaths: true},
	{Name: "pg-kill-one", Inject: injectKillOne, Postgres: true, Nodes: 2},
	{Name: "pg-restart-fast", Inject: injectPGRestarts(false), Postgres: true, Nodes: 2, NoDeaths: true},
	{Name: "pg-restart-immediate", Inject: injectPGRestarts(true), Postgres: true, Nodes: 2, NoDeaths: true},
}

// ProfileNamed returns the profile of that name.
func ProfileNamed(name string) (Profile, bool) {
	for _, p := range Profiles {
		if p.Name == name {
			return p, true
		}
	}
	return Profile{}, false
}

func jitter(lo, hi time.Duration) time.Duration {
	return lo + time.Duration(rand.Int64N(int64(hi-lo)))
}

// injectKills kills posd with SIGKILL at random moments under load; the
// supervisor verifies the file and starts it again each time.
func injectKills(r *Run, s Scale) error {
	for i := 0; i < s.KillCycles; i++ {
		r.Sleep(jitter(100*time.Millisecond, 700*time.Millisecond))
		if err := r.Posd.Kill(); err != nil {
			return fmt.Errorf("kill %d: %w", i, err)
		}
		r.Faults["kill -9"]++
		r.progress("kill -9", i+1, s.KillCycles)
	}
	r.Sleep(500 * time.Millisecond)
	return nil
}

// injectCrashes lets the test-only hook kill posd right after a commit and
// before any answer of that commit is sent, until it has done so enough.
func injectCrashes(r *Run, s Scale) error {
	deadline := time.Now().Add(time.Duration(s.Crashes) * 5 * time.Second)
	for time.Now().Before(deadline) {
		r.Posd.mu.Lock()
		d := r.Posd.Deaths
		r.Posd.mu.Unlock()
		if d > r.Faults["crash after commit"] {
			r.progress("crash after commit", d, s.Crashes)
		}
		r.Faults["crash after commit"] = d
		if d >= s.Crashes {
			return r.Posd.WaitUp(20 * time.Second)
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("the crash hook fired %d times in %s, want %d (is the binary built with -tags posd_crashpoints?)", r.Faults["crash after commit"], time.Duration(s.Crashes)*5*time.Second, s.Crashes)
}

// injectLostResponses has the proxy throw away a quarter of the answers to
// writes after posd committed them: the tills retry with the same key and
// must get the same document back.
func injectLostResponses(r *Run, s Scale) error {
	r.Proxy.Set(NetFaults{LoseResponse: 0.25})
	r.Sleep(s.LostFor)
	r.Proxy.Set(NetFaults{})
	r.Faults["responses lost after commit"] = int(r.Proxy.LostResponses.Load())
	if r.Faults["responses lost after commit"] == 0 {
		return fmt.Errorf("the proxy lost no answer in %s", s.LostFor)
	}
	return nil
}

// injectPauses stops posd with SIGSTOP for longer than the tills' attempt
// timeout, then lets it go on: requests it read before the pause commit
// late, after their tills gave up on them and retried.
func injectPauses(r *Run, s Scale) error {
	for i := 0; i < s.Pauses; i++ {
		r.Sleep(jitter(200*time.Millisecond, 600*time.Millisecond))
		if err := r.Posd.Signal(syscall.SIGSTOP); err != nil {
			return err
		}
		time.Sleep(r.cfg.Attempt + r.cfg.Attempt/2)
		if err := r.Posd.Signal(syscall.SIGCONT); err != nil {
			return err
		}
		r.Faults["SIGSTOP past the client timeout"]++
		r.progress("SIGSTOP", i+1, s.Pauses)
	}
	r.Sleep(500 * time.Millisecond)
	return nil
}

// injectNetwork makes the network slow and unreliable, then cuts it.
func injectNetwork(r *Run, s Scale) error {
	r.Proxy.Set(NetFaults{Latency: 20 * time.Millisecond, BytesPerSec: 32 << 10, Reset: 0.02})
	r.Sleep(s.NetFor)
	r.Faults["slow network (20ms, 32KiB/s, 2% resets) ms"] = int(s.NetFor.Milliseconds())
	r.Proxy.Set(NetFaults{Down: true})
	r.Sleep(s.Outage)
	r.Faults["outage ms"] = int(s.Outage.Milliseconds())
	r.Proxy.Set(NetFaults{})
	r.Faults["resets"] = int(r.Proxy.Resets.Load())
	return nil
}

// injectDiskFull makes every write of posd's past the first two pages fail
// (RLIMIT_FSIZE, EFBIG): the database cannot grow or change, as on a full
// disk. posd must answer writes 503 unavailable, acknowledge none, and stay
// up or exit cleanly; once the limit is lifted, work goes on with no gap.
func injectDiskFull(r *Run, s Scale) error {
	for i := 0; i < s.DiskFulls; i++ {
		r.Sleep(jitter(300*time.Millisecond, 800*time.Millisecond))
		if err := r.Posd.SetFileLimit(8192); err != nil {
			return fmt.Errorf("lowering RLIMIT_FSIZE: %w", err)
		}
		from := time.Now()
		time.Sleep(s.DiskFullFor)
		alive := r.Posd.Alive()
		health := false
		if res, err := http.Get("http://" + r.Posd.Addr + "/api/health"); err == nil {
			res.Body.Close()
			health = res.StatusCode == 200
		}
		// The health view must say why: every sale got 503 while it
		// said "ok" before it tracked failing writes.
		if alive {
			hd, err := r.shops[0].owner.HealthDetails(context.Background())
			switch {
			case err != nil:
				r.diskFullAcks = append(r.diskFullAcks, fmt.Sprintf("the health view did not answer while the disk was full: %v", err))
			case hd.Status != "attention" || !hd.Writes.Failing || hd.Writes.LastFailure == nil || hd.Writes.LastFailure.Cause != engine.CauseDiskFull:
				r.diskFullAcks = append(r.diskFullAcks, fmt.Sprintf("the health view did not say the disk was full: status %q, writes %+v", hd.Status, hd.Writes))
			}
		}
		to := time.Now()
		if alive {
			if err := r.Posd.SetFileLimit(-1); err != nil {
				return fmt.Errorf("lifting RLIMIT_FSIZE: %w", err)
			}
		}
		r.Faults["disk full"]++
		refused, acked := 0, 0
		for _, a := range r.History.Attempts() {
			if a.Call.Before(from) || a.Answer.After(to) {
				continue
			}
			switch {
			case a.Status == 503:
				refused++
			case a.OK() && !a.Replayed:
				acked++
				r.diskFullAcks = append(r.diskFullAcks, fmt.Sprintf("%s %s answered %d %s while writes could not reach the disk", a.Path, a.Key, a.Status, a.DocID))
			}
		}
		r.Faults["disk full: writes answered 503"] += refused
		r.progress("disk full", i+1, s.DiskFulls)
		if !alive {
			r.diskFullAcks = append(r.diskFullAcks, "posd died while the disk was full: "+lastLines(r.Posd.Stderr(), 5))
		} else if !health {
			r.diskFullAcks = append(r.diskFullAcks, "posd did not answer /api/health while the disk was full")
		}
		if refused == 0 {
			return fmt.Errorf("disk full %d: no write was refused in %s; the fault did not bite", i, s.DiskFullFor)
		}
	}
	r.Sleep(500 * time.Millisecond)
	return nil
}

// injectKillOne kills one of the posd processes (at random) with SIGKILL
// under load, while the others keep serving; its supervisor checks the
// database and starts it again.
func injectKillOne(r *Run, s Scale) error {
	// The others keep selling while the dead one's supervisor checks the
	// shared database, so the database grows with every cycle: half the
	// cycles of the embedded kill profile.
	cycles := max(s.KillCycles/2, 1)
	for i := 0; i < cycles; i++ {
		r.Sleep(jitter(100*time.Millisecond, 700*time.Millisecond))
		if err := r.Posds[rand.IntN(len(r.Posds))].Kill(); err != nil {
			return fmt.Errorf("kill %d: %w", i, err)
		}
		r.Faults["kill -9 of one posd"]++
		r.progress("kill -9 of one posd", i+1, cycles)
	}
	r.Sleep(500 * time.Millisecond)
	return nil
}

// injectPGRestarts stops PostgreSQL under load, with a fast shutdown
// (SIGINT: open transactions are rolled back, the server checkpoints) or
// an immediate one (SIGQUIT, as pg_ctl stop -m immediate: every backend
// exits at once and the next start recovers from the WAL), leaves it down
// a moment and starts it again. The posd processes must answer 503 while
// it is gone, never die, lose nothing acknowledged and reconnect by
// themselves.
func injectPGRestarts(immediate bool) func(r *Run, s Scale) error {
	return func(r *Run, s Scale) error {
		if r.PG == nil {
			return errors.New("the PostgreSQL profiles need their server (Execute starts it)")
		}
		what := "postgres fast restarts"
		stop := r.PG.Stop
		if immediate {
			what, stop = "postgres immediate restarts", r.PG.Crash
		}
		for i := 0; i < s.PGRestarts; i++ {
			r.Sleep(jitter(400*time.Millisecond, 1200*time.Millisecond))
			if err := stop(); err != nil {
				return fmt.Errorf("stopping postgres: %w", err)
			}
			time.Sleep(jitter(200*time.Millisecond, 1500*time.Millisecond))
			if err := r.PG.Start(); err != nil {
				return fmt.Errorf("starting postgres again: %w", err)
			}
			r.Faults[what]++
			r.progress(what, i+1, s.PGRestarts)
		}
		r.Sleep(500 * time.Millisecond)
		return nil
	}
}
