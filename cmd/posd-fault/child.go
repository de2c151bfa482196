//go:build linux

package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Build compiles cmd/posd from the module at root into dir with the given
// build tags ("" for the normal build) and returns the binary's path.
func Build(root, dir, tags string) (string, error) {
	name := "posd"
	if tags != "" {
		name += "-" + strings.NewReplacer(",", "-", " ", "-").Replace(tags)
	}
	out := filepath.Join(dir, name)
	args := []string{"build", "-o", out}
	if tags != "" {
		args = append(args, "-tags", tags)
	}
	cmd := exec.Command("go", append(args, "./cmd/posd")...)
	cmd.Dir = root
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build -tags %q: %v\n%s", tags, err, b)
	}
	return out, nil
}

// ModuleRoot finds the directory of go.mod above the working directory.
func ModuleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", err
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("not inside the posd module")
	}
	return filepath.Dir(gomod), nil
}

// Shop is what posd init --json prints.
type Shop struct {
	BusinessID string `json:"businessId"`
	LocationID string `json:"locationId"`
	OwnerToken string `json:"ownerToken"`
}

// Posd runs posd serve as a child process on a fixed address and data dir,
// and restarts it whenever it dies unless told to stop: the way a service
// manager would.
type Posd struct {
	Bin, Dir, Addr string
	Env            []string
	// Args are added to init's and serve's flags (--database URL),
	// ServeArgs to serve's only.
	Args, ServeArgs []string
	// Verify runs on the data dir each time the process has died and
	// before it is started again (check 6); nil skips it.
	Verify func(dir string) error
	// BeforeRestart runs first, each time the process died unasked.
	BeforeRestart func() error

	mu       sync.Mutex
	cmd      *exec.Cmd
	exited   chan struct{}
	stopping bool
	stderr   *tailBuffer
	// all is every process started, so that Close leaves none behind.
	all []*exec.Cmd
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

// Init runs posd init --json on the data dir and returns the new shop.
func (p *Posd) Init(name string) (*Shop, error) {
	cmd := exec.Command(p.Bin, append([]string{"init", "--data-dir", p.Dir, "--business", name, "--timezone", "UTC", "--json"}, p.Args...)...)
	var so, se bytes.Buffer
	cmd.Stdout, cmd.Stderr = &so, &se
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("posd init: %v: %s", err, se.String())
	}
	var s Shop
	if err := json.Unmarshal(so.Bytes(), &s); err != nil {
		return nil, fmt.Errorf("posd init --json printed %q: %v", so.String(), err)
	}
	return &s, nil
}

// Start starts posd serve and waits until it answers. A posd built with
// crash points can die while it starts (its start-up writes commit too);
// like a service manager, Start then starts it again.
func (p *Posd) Start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	var err error
	for i := 0; i < 10; i++ {
		if err = p.startLocked(); !errors.Is(err, errExitedAtStart) {
			return err
		}
	}
	return err
}

// errExitedAtStart is a process that died before it answered.
var errExitedAtStart = errors.New("posd serve exited at start")

func (p *Posd) startLocked() error {
	cmd := exec.Command(p.Bin, append([]string{"serve", "--data-dir", p.Dir, "--listen", p.Addr, "--log-level", "warn"}, append(p.Args, p.ServeArgs...)...)...)
	cmd.Env = append(os.Environ(), p.Env...)
	if p.stderr == nil {
		p.stderr = &tailBuffer{max: 64 << 10}
	}
	cmd.Stdout, cmd.Stderr = nil, p.stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan struct{})
	p.cmd, p.exited, p.stopping = cmd, exited, false
	p.all = append(p.all, cmd)
	go p.watch(cmd, exited)
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			// The caller decides whether to start again, not watch.
			p.cmd = nil
			return fmt.Errorf("%w: %s", errExitedAtStart, p.stderr.String())
		default:
		}
		res, err := http.Get("http://" + p.Addr + "/api/health")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return nil
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Not a posd that can serve: kill it, so that no stray process is left
	// (the caller may try again).
	p.stopping = true
	cmd.Process.Kill()
	p.mu.Unlock()
	<-exited
	p.mu.Lock()
	return errors.New("posd serve did not answer within 15s")
}

// watch waits for the process; one that died unasked is checked and
// started again.
func (p *Posd) watch(cmd *exec.Cmd, exited chan struct{}) {
	err := cmd.Wait()
	close(exited)
	p.mu.Lock()
	defer p.mu.Unlock()
	state := "exit 0"
	if ee := (*exec.ExitError)(nil); errors.As(err, &ee) {
		state = ee.ProcessState.String()
	}
	p.ExitStates = append(p.ExitStates, state)
	if p.stopping || p.cmd != cmd {
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
	cmd, exited := p.cmd, p.exited
	p.mu.Unlock()
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	<-exited
	return p.WaitUp(20 * time.Second)
}

// WaitUp waits until a process runs and answers.
func (p *Posd) WaitUp(d time.Duration) error {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		p.mu.Lock()
		exited := p.exited
		p.mu.Unlock()
		select {
		case <-exited:
		default:
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
	return p.cmd.Process.Signal(sig)
}

// Alive reports whether the current process is running.
func (p *Posd) Alive() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.exited:
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
	pid := p.cmd.Process.Pid
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
	cmd, exited := p.cmd, p.exited
	p.mu.Unlock()
	if cmd == nil {
		return nil
	}
	cmd.Process.Signal(syscall.SIGCONT)
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		<-exited
		return errors.New("posd did not stop within 10 s of SIGTERM")
	}
	if !cmd.ProcessState.Success() {
		return fmt.Errorf("posd stopped with %s: %s", cmd.ProcessState, p.stderr.String())
	}
	return nil
}

// Close kills whatever runs, for cleanup.
func (p *Posd) Close() {
	p.mu.Lock()
	p.stopping = true
	cmd, exited, all := p.cmd, p.exited, p.all
	p.mu.Unlock()
	for _, c := range all {
		c.Process.Signal(syscall.SIGCONT)
		c.Process.Kill()
	}
	if cmd != nil {
		<-exited
	}
}

// Stderr returns the end of what posd wrote to stderr.
func (p *Posd) Stderr() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stderr == nil {
		return ""
	}
	return p.stderr.String()
}

// freeAddr returns a loopback address with a free port.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = append([]byte(nil), t.b[len(t.b)-t.max:]...)
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}
