//go:build linux

package main

import (
	"errors"
	"flag"
	"os"
	"strings"
	"testing"
	"time"
)

var long = flag.Bool("long", false, "run the long profiles (make test-long)")

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	CleanBinaries()
	os.Exit(code)
}

// testLog sends the harness's progress to the test log.
type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// TestFaults runs every fault profile under the harness, on the normal
// build (the crash profile needs the crash-point hook, nothing else), and
// requires every check to pass and every fault to have happened.
func TestFaults(t *testing.T) {
	scale := Short
	if *long {
		scale = Long
	}
	for _, p := range Profiles {
		t.Run(p.Name, func(t *testing.T) {
			bin, err := Binary(Build{Tags: p.Tags})
			if err != nil {
				t.Fatal(err)
			}
			rep, err := Execute(p, scale, bin, t.TempDir(), testLog{t})
			if errors.Is(err, ErrUnavailable) {
				t.Skip(err)
			}
			if err != nil {
				t.Fatal(err)
			}
			t.Log("\n" + rep.String())
			if !rep.OK() {
				t.Errorf("checks failed under %s", p.Name)
			}
			if rep.AckedSales == 0 || rep.Refused == 0 {
				t.Errorf("the tills made %d acknowledged sales and %d expected refusals; the run proves nothing", rep.AckedSales, rep.Refused)
			}
			injected := 0
			for k, v := range rep.Faults {
				if !strings.HasPrefix(k, "drain") && !strings.HasPrefix(k, "posd restarts") {
					injected += v
				}
			}
			if injected == 0 {
				t.Errorf("no fault was injected: %v", rep.Faults)
			}
		})
	}
}

// sensitivityScale is a little of each fault: enough for a broken build to
// show, little enough for make test.
var sensitivityScale = Scale{Name: "sensitivity", KillCycles: 6, Crashes: 3, LostFor: 2 * time.Second, PowerCuts: 3, TillsPerShop: 3}

// TestSensitivity builds deliberately broken variants of posd (broken.go,
// broken_test.go) and requires the check that guards against that bug to
// fail: a suite that passes a broken build is itself broken.
func TestSensitivity(t *testing.T) {
	kill, _ := ProfileNamed("kill")
	lost, _ := ProfileNamed("lost-response")
	power, _ := ProfileNamed("power-loss")
	two, _ := ProfileNamed("pg-two-processes")
	cases := []struct {
		name    string
		build   Build
		profile Profile
		check   string
	}{
		{
			// Answers before the commit is durable: a kill -9 (or a crash
			// just before the commit) loses sales the tills were told about.
			name: "acknowledge before commit", build: brokenAckEarly,
			profile: Profile{Name: "kill+crash-before-commit", Env: []string{"POSD_TEST_CRASH=before-commit:0.01"}, Inject: kill.Inject},
			check:   CheckPresent,
		},
		{
			// Never finds the key's record: a till's retry after a lost
			// answer makes a second sale with a second number.
			name: "skip the idempotency lookup", build: brokenNoLookup,
			profile: lost, check: CheckOneDoc,
		},
		{
			// Takes the number in a transaction of its own: every refusal
			// and every crash in between burns a number.
			name: "number in a separate transaction", build: brokenNumberTx,
			profile: kill, check: CheckSeries,
		},
		{
			// Lists every business's sales: shop 1 reads back sales no till
			// of its own made.
			name: "drop the tenant filter", build: brokenNoTenant,
			profile: kill, check: CheckPhantom,
		},
		{
			// Commits without fsync: invisible to kill -9, since the page
			// cache survives the process; a power cut loses acknowledged
			// sales. Needs root and loop devices.
			name: "commit without fsync", build: brokenNoSync,
			profile: power, check: CheckPresent,
		},
		{
			// Orders a business's writers only within each process: two
			// posd processes on one PostgreSQL database take the same
			// number, or both answer one key. The constraints refuse the
			// second document (numbers_pkey, idempotency_pkey), so what
			// shows is the till answered 500 for a valid sale.
			name: "no advisory lock across processes", build: brokenNoLock,
			profile: two, check: CheckAnswers,
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			bin, err := Binary(c.build)
			if err != nil {
				t.Fatal(err)
			}
			rep, err := Execute(c.profile, sensitivityScale, bin, t.TempDir(), testLog{t})
			if errors.Is(err, ErrUnavailable) {
				t.Skip(err)
			}
			if err != nil {
				t.Fatal(err)
			}
			t.Log("\n" + rep.String())
			if !rep.Failed(c.check) {
				t.Errorf("posd built %s passed check %s; the harness cannot see this bug", c.build, c.check)
			}
			var caught []string
			for _, name := range Checks {
				if rep.Failed(name) {
					caught = append(caught, name)
				}
			}
			t.Logf("SENSITIVITY %s (%s): failed checks %s", c.name, c.build, strings.Join(caught, ", "))
		})
	}
}
