//go:build linux

package main

import (
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"posd/cmd/internal/posdproc"
)

// Posd runs posd serve as a child process on a fixed address and data dir,
// and restarts it whenever it dies unless told to stop: the way a service
// manager would.
type Posd struct {
	Bin, Dir, Addr string
	Env            []string
	// Args are added to serve's flags (--database URL, --backup-every 0).
	Args []string
	// Verify runs on the data dir each time the process has died and
	// before it is started again (check 6); nil skips it.
	Verify func(dir string) error
	// BeforeRestart runs first, each time the process died unasked.
	BeforeRestart func() error

	mu       sync.Mutex
	proc     *posdproc.Process // the current process; nil after one died while starting
	stopping bool
	stderr   posdproc.Tail // of every process started, in turn
	// all is every process started, so that Close leaves none behind.
	all []*posdproc.Process
	// Deaths counts processes that died without being asked to stop;
	// VerifyErrors collects what Verify found after each.
	Deaths       int
	Restarts     int
	Verified     int
	VerifyErrors []string
	ExitStates   []string
	// DeathStderr keeps the end of stderr at each death.
	DeathStderr []string
}

// Start starts posd serve and waits until it answers. A posd built with
// crash points can die while it starts (its start-up writes commit too);
// like a service manager, Start then starts it again.
func (p *Posd) Start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	var err error
	for i := 0; i < 10; i++ {
		if err = p.startLocked(); !errors.Is(err, posdproc.ErrExited) {
			return err
		}
	}
	return err
}

func (p *Posd) startLocked() error {
	proc, err := posdproc.Start(posdproc.Options{Bin: p.Bin, Args: posdproc.ServeArgs(p.Dir, p.Addr, append([]string{"--log-level", "warn"}, p.Args...)...),
		Addr: p.Addr, Env: p.Env, Tail: &p.stderr})
	if err != nil {
		return err
	}
	p.proc, p.stopping = proc, false
	p.all = append(p.all, proc)
	go p.watch(proc)
	err = proc.WaitHealthy(15 * time.Second)
	if errors.Is(err, posdproc.ErrExited) {
		// The caller decides whether to start again, not watch.
		p.proc = nil
	} else if err != nil {
		// Not a posd that can serve: kill it, so that no stray process is
		// left (the caller may try again).
		p.stopping = true
		proc.Kill()
	}
	return err
}

// watch waits for the process; one that died unasked is checked and
// started again.
func (p *Posd) watch(proc *posdproc.Process) {
	err := proc.Wait()
	p.mu.Lock()
	defer p.mu.Unlock()
	state := "exit 0"
	if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
		state = ee.ProcessState.String()
	}
	p.ExitStates = append(p.ExitStates, state)
	if p.stopping || p.proc != proc {
		return
	}
	p.Deaths++
	p.DeathStderr = append(p.DeathStderr, lastLines(p.stderr.String(), 5))
	if p.BeforeRestart != nil {
		if err := p.BeforeRestart(); err != nil {
			p.VerifyErrors = append(p.VerifyErrors, fmt.Sprintf("before restart %d: %v", p.Deaths, err))
		}
	}
	if p.Verify != nil {
		p.Verified++
		if err := p.Verify(p.Dir); err != nil {
			p.VerifyErrors = append(p.VerifyErrors, fmt.Sprintf("after death %d: %v", p.Deaths, err))
		}
	}
	// Start again; a failure to start is retried by the next call.
	for i := 0; i < 50; i++ {
		if err := p.startLocked(); err == nil {
			p.Restarts++
			return
		} else if i == 49 {
			p.VerifyErrors = append(p.VerifyErrors, "could not restart posd: "+err.Error())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Kill sends SIGKILL and waits until the supervisor has posd up again.
func (p *Posd) Kill() error {
	p.mu.Lock()
	proc := p.proc
	p.mu.Unlock()
	if err := proc.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	<-proc.Exited()
	return p.WaitUp(20 * time.Second)
}

// WaitUp waits until a process runs and answers.
func (p *Posd) WaitUp(d time.Duration) error {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if p.Alive() {
			res, err := http.Get("http://" + p.Addr + "/api/health")
			if err == nil {
				res.Body.Close()
				return nil
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return errors.New("posd is not up")
}

// Signal sends sig to the running process (SIGSTOP, SIGCONT).
func (p *Posd) Signal(sig syscall.Signal) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.proc.Signal(sig)
}

// Alive reports whether the current process is running.
func (p *Posd) Alive() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.proc == nil {
		return false
	}
	select {
	case <-p.proc.Exited():
		return false
	default:
		return true
	}
}

// SetFileLimit sets the soft RLIMIT_FSIZE of the running process: no write
// at or past offset n succeeds (EFBIG), which is how a full disk looks to
// posd without needing root. Go ignores SIGXFSZ, so the write just fails.
// n < 0 lifts the limit back to the hard limit.
func (p *Posd) SetFileLimit(n int64) error {
	p.mu.Lock()
	pid := p.proc.Pid()
	p.mu.Unlock()
	var cur unix.Rlimit
	if err := unix.Prlimit(pid, unix.RLIMIT_FSIZE, nil, &cur); err != nil {
		return err
	}
	lim := unix.Rlimit{Cur: cur.Max, Max: cur.Max}
	if n >= 0 {
		lim.Cur = uint64(n)
	}
	return unix.Prlimit(pid, unix.RLIMIT_FSIZE, &lim, nil)
}

// Stop sends SIGTERM and waits for a clean exit (contract: within 10 s).
func (p *Posd) Stop() error {
	p.mu.Lock()
	p.stopping = true
	proc := p.proc
	p.mu.Unlock()
	if proc == nil {
		return nil
	}
	return proc.Stop(10 * time.Second)
}

// Close kills whatever runs, for cleanup.
func (p *Posd) Close() {
	p.mu.Lock()
	p.stopping = true
	all := p.all
	p.mu.Unlock()
	for _, proc := range all {
		proc.Kill()
	}
}

// Stderr returns the end of what posd wrote to stderr.
func (p *Posd) Stderr() string { return p.stderr.String() }
