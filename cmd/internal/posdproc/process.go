package posdproc

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// Options says how to run a process.
type Options struct {
	Bin  string
	Args []string // the command line after the binary, e.g. ServeArgs(dir, addr)
	// Addr is where the process serves HTTP: WaitHealthy asks
	// http://Addr/api/health.
	Addr string
	// Health is the URL WaitHealthy asks instead, when set. An https URL
	// is asked without checking the certificate: the question is whether
	// posd answers, not whether to trust it.
	Health string
	Env    []string // added to this process's environment
	// Stdout and Stderr receive the process's output; nil discards it. An
	// *os.File (a log file, a pipe) is handed to the process as it is.
	Stdout, Stderr io.Writer
	// Tail keeps the end of stderr for error messages (and Stderr); nil
	// makes a new one. A caller that starts posd again after it died
	// passes the same Tail each time, so that it spans the restarts.
	Tail *Tail
	// Poll is how often WaitHealthy asks; 0 means 10 ms.
	Poll time.Duration
}

// ServeArgs is the command line of posd serve on the data dir dir,
// listening on addr, followed by flags.
func ServeArgs(dir, addr string, flags ...string) []string {
	return append([]string{"serve", "--data-dir", dir, "--listen", addr}, flags...)
}

// Process is a started child process.
type Process struct {
	opt     Options
	cmd     *exec.Cmd
	t0      time.Time     // just before exec
	started time.Duration // from exec to the first healthy answer
	exited  chan struct{} // closed when the process has exited
	waitErr error         // what cmd.Wait returned; set before exited closes
}

// ErrExited is returned by WaitHealthy when the process exited before it
// answered.
var ErrExited = errors.New("exited before it answered /api/health")

// healthClient asks /api/health. A fresh connection each time: a process
// that starts again behind the same address should not be asked over the
// last one's connection.
var healthClient = &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true,
	TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}

// Start starts the process and returns at once; WaitHealthy waits until it
// serves.
func Start(o Options) (*Process, error) {
	if o.Tail == nil {
		o.Tail = &Tail{}
	}
	if o.Poll == 0 {
		o.Poll = 10 * time.Millisecond
	}
	cmd := exec.Command(o.Bin, o.Args...)
	cmd.Env = append(os.Environ(), o.Env...)
	cmd.Stdout = o.Stdout
	cmd.Stderr = o.Tail
	if o.Stderr != nil {
		cmd.Stderr = io.MultiWriter(o.Stderr, o.Tail)
	}
	p := &Process{opt: o, cmd: cmd, exited: make(chan struct{}), t0: time.Now()}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting %s: %w", o.Bin, err)
	}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	return p, nil
}

// name is the binary's name, for messages.
func (p *Process) name() string { return filepath.Base(p.opt.Bin) }

// WaitHealthy polls GET /api/health until it answers 200. It returns an
// error wrapping ErrExited, with the end of stderr, when the process exits
// first, and another error when limit passes; the process is then left
// running.
func (p *Process) WaitHealthy(limit time.Duration) error {
	url := p.opt.Health
	if url == "" {
		url = "http://" + p.opt.Addr + "/api/health"
	}
	for deadline := time.Now().Add(limit); time.Now().Before(deadline); time.Sleep(p.opt.Poll) {
		select {
		case <-p.exited:
			return fmt.Errorf("%s %w (%v): %s", p.name(), ErrExited, p.waitErr, p.opt.Tail)
		default:
		}
		res, err := healthClient.Get(url)
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				p.started = time.Since(p.t0)
				return nil
			}
		}
	}
	return fmt.Errorf("%s did not answer %s within %v", p.name(), url, limit)
}

// Started is how long the process took from exec to its first healthy
// answer (after WaitHealthy).
func (p *Process) Started() time.Duration { return p.started }

// Pid is the process's id.
func (p *Process) Pid() int { return p.cmd.Process.Pid }

// Addr is where the process serves.
func (p *Process) Addr() string { return p.opt.Addr }

// Signal sends sig to the process.
func (p *Process) Signal(sig os.Signal) error { return p.cmd.Process.Signal(sig) }

// Exited is closed when the process has exited.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// Wait waits until the process has exited and returns what exec.Cmd.Wait
// returned. It may be called any number of times.
func (p *Process) Wait() error {
	<-p.exited
	return p.waitErr
}

// Stderr returns the end of what the process wrote to stderr.
func (p *Process) Stderr() string { return p.opt.Tail.String() }

// Stop asks the process to stop (SIGCONT, in case it was stopped, then
// SIGTERM) and waits up to grace for it to exit; after that it kills it.
// It fails when the process did not stop in time or exited unsuccessfully.
func (p *Process) Stop(grace time.Duration) error {
	resume(p.cmd.Process)
	p.Signal(syscall.SIGTERM)
	select {
	case <-p.exited:
	case <-time.After(grace):
		p.Kill()
		return fmt.Errorf("%s did not stop within %v of SIGTERM", p.name(), grace)
	}
	if !p.cmd.ProcessState.Success() {
		return fmt.Errorf("%s stopped with %s: %s", p.name(), p.cmd.ProcessState, p.opt.Tail)
	}
	return nil
}

// Kill kills the process and waits until it has exited.
func (p *Process) Kill() {
	resume(p.cmd.Process)
	p.Signal(os.Kill)
	<-p.exited
}

// Tail keeps the last 64 KiB written to it; it is safe for concurrent use.
type Tail struct {
	mu sync.Mutex
	b  []byte
}

const tailMax = 64 << 10

func (t *Tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > tailMax {
		t.b = append([]byte(nil), t.b[len(t.b)-tailMax:]...)
	}
	return len(p), nil
}

// String returns what the tail holds.
func (t *Tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}
