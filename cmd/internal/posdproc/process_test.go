//go:build unix

package posdproc

import (
	"errors"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"testing"
	"time"
)

// childEnv makes this test binary a tiny server (see TestMain): it answers
// /api/health with 200 on the address in the variable and exits 0 on
// SIGTERM.
const childEnv = "POSDPROC_TEST_SERVE"

func TestMain(m *testing.M) {
	if addr := os.Getenv(childEnv); addr != "" {
		http.HandleFunc("/api/health", func(http.ResponseWriter, *http.Request) {})
		go http.ListenAndServe(addr, nil)
		stop := make(chan os.Signal, 1)
		signal.Notify(stop, syscall.SIGTERM)
		<-stop
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func TestStartWaitStop(t *testing.T) {
	addr, err := FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	self, _ := os.Executable()
	p, err := Start(Options{Bin: self, Addr: addr, Env: []string{childEnv + "=" + addr}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Kill)
	if err := p.WaitHealthy(10 * time.Second); err != nil || p.Started() <= 0 {
		t.Fatalf("WaitHealthy: %v, started after %v", err, p.Started())
	}
	if err := p.Stop(10 * time.Second); err != nil {
		t.Errorf("Stop: %v", err)
	}
	select {
	case <-p.Exited():
	default:
		t.Error("Stop returned before the process exited")
	}
}

// TestExitBeforeHealthy: a process that dies while starting is reported as
// ErrExited, with what it wrote to stderr.
func TestExitBeforeHealthy(t *testing.T) {
	p, err := Start(Options{Bin: "/bin/sh", Args: []string{"-c", "echo cannot open the database >&2; exit 3"}, Addr: "127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	err = p.WaitHealthy(10 * time.Second)
	if !errors.Is(err, ErrExited) || !strings.Contains(err.Error(), "cannot open the database") {
		t.Errorf("got %v, want ErrExited with the stderr", err)
	}
	if p.Wait() == nil {
		t.Error("Wait: nil for exit status 3")
	}
}

// TestStopKillsAfterGrace: a process that ignores SIGTERM is killed after
// the grace period, and Stop says so.
func TestStopKillsAfterGrace(t *testing.T) {
	p, err := Start(Options{Bin: "/bin/sh", Args: []string{"-c", "trap '' TERM; echo ready; while :; do sleep 1; done"}, Stdout: &Tail{}})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // for the trap to be set
	start := time.Now()
	err = p.Stop(300 * time.Millisecond)
	if err == nil || !strings.Contains(err.Error(), "did not stop within 300ms") {
		t.Errorf("Stop: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Stop took %v", d)
	}
	select {
	case <-p.Exited():
	default:
		t.Error("the process outlived Stop")
	}
}

func TestTailKeepsTheEnd(t *testing.T) {
	var tl Tail
	for i := 0; i < 100; i++ {
		tl.Write([]byte(strings.Repeat("x", 1023) + "\n"))
	}
	tl.Write([]byte("the end"))
	if s := tl.String(); len(s) != tailMax || !strings.HasSuffix(s, "\nthe end") {
		t.Errorf("tail of %d bytes ending %q", len(s), s[len(s)-10:])
	}
}
