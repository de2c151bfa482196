package install

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/kardianos/service"
)

// Actions are the service commands Control accepts.
var Actions = []string{"install", "uninstall", "start", "stop", "restart"}

// ErrNotPrivileged is returned when a command needs administrator rights
// the process does not have.
var ErrNotPrivileged = errors.New("install: not privileged")

// Privileged reports whether the process may manage system services. A
// variable so that tests can pretend either way.
var Privileged = privileged

// libConfig turns c into the library's configuration, with posd's own
// service definitions.
func (c Config) libConfig() *service.Config {
	return &service.Config{
		Name:             c.Name,
		DisplayName:      c.DisplayName,
		Description:      c.Description,
		Executable:       c.Executable,
		Arguments:        c.Arguments(),
		WorkingDirectory: c.DataDir,
		Option: service.KeyValue{
			"SystemdScript": SystemdUnit(c),
			"LaunchdConfig": LaunchdPlist(c),
			"KeepAlive":     true,
			"RunAtLoad":     true,
		},
	}
}

func (c Config) newService(p service.Interface) (service.Service, error) {
	lc := c.libConfig()
	for k, v := range windowsOptions() {
		lc.Option[k] = v
	}
	s, err := service.New(p, lc)
	if err != nil {
		return nil, fmt.Errorf("install: no service manager found on this system (%v)", err)
	}
	return s, nil
}

// Control runs one of Actions on the system's service manager.
func Control(c Config, action string) error {
	if err := c.Validate(); err != nil {
		return err
	}
	known := false
	for _, a := range Actions {
		known = known || a == action
	}
	if !known {
		return fmt.Errorf("install: unknown action %q (use %s or status)", action, strings.Join(Actions, ", "))
	}
	if !Privileged() {
		return fmt.Errorf("%w: %s", ErrNotPrivileged, privilegeHint(action))
	}
	s, err := c.newService(nopProgram{})
	if err != nil {
		return err
	}
	if err := service.Control(s, action); err != nil {
		return fmt.Errorf("install: %s %s on %s: %v", action, c.Name, service.Platform(), err)
	}
	return nil
}

// Status returns the service's state: running, stopped or not installed.
func Status(c Config) (string, error) {
	s, err := c.newService(nopProgram{})
	if err != nil {
		return "", err
	}
	st, err := s.Status()
	switch {
	case errors.Is(err, service.ErrNotInstalled):
		return "not installed", nil
	case err != nil:
		return "", fmt.Errorf("install: status of %s on %s: %v", c.Name, service.Platform(), err)
	case st == service.StatusRunning:
		return "running", nil
	case st == service.StatusStopped:
		return "stopped", nil
	}
	return "unknown", nil
}

// Platform names the service manager in use (systemd, darwin-launchd,
// windows-service, …).
func Platform() string { return service.Platform() }

type nopProgram struct{}

func (nopProgram) Start(service.Service) error { return nil }
func (nopProgram) Stop(service.Service) error  { return nil }

// RunFunc is the program the service runs: it must return when ctx ends,
// having finished its work, and write its log to log.
type RunFunc func(ctx context.Context, log io.Writer) error

// Run runs fn in the foreground as the service (posd service run): under
// the service manager, or in a terminal, where Ctrl-C or SIGTERM stop it.
// Lifecycle events go to the system log (journal/syslog, the Windows event
// log) and, with fn's own log, to the rotating log file in the data
// directory. When the manager asks to stop, fn's context ends and Run
// waits up to stopTimeout for it. When fn fails on its own, Run returns its
// error, so that the process exits non-zero and the manager restarts it.
func Run(c Config, fn RunFunc, stopTimeout time.Duration) error {
	if err := os.MkdirAll(c.DataDir, 0o700); err != nil {
		return fmt.Errorf("install: data directory: %v", err)
	}
	logFile, err := OpenRotating(c.LogFile(), 10<<20, 5)
	if err != nil {
		return fmt.Errorf("install: log file: %v", err)
	}
	defer logFile.Close()
	p := &program{fn: fn, log: logFile, timeout: stopTimeout, done: make(chan struct{}), c: c}
	lc := c.libConfig()
	// Wait for a stop signal or for the program to end on its own.
	lc.Option["RunWait"] = func() {
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
		defer signal.Stop(sig)
		select {
		case <-sig:
		case <-p.done:
		}
	}
	s, err := service.New(p, lc)
	if err != nil {
		return fmt.Errorf("install: no service manager found on this system (%v)", err)
	}
	if sl, err := s.SystemLogger(nil); err == nil {
		p.sys = sl
	}
	if err := s.Run(); err != nil {
		return err
	}
	return p.result()
}

// program adapts fn to the library's Start/Stop.
type program struct {
	c       Config
	fn      RunFunc
	log     io.Writer
	sys     service.Logger
	timeout time.Duration

	cancel context.CancelFunc
	done   chan struct{}
	mu     sync.Mutex
	err    error
}

// event writes a lifecycle event to the system log and the log file.
func (p *program) event(isErr bool, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	fmt.Fprintf(p.log, "time=%s level=%s msg=%q\n", time.Now().UTC().Format(time.RFC3339), map[bool]string{false: "INFO", true: "ERROR"}[isErr], msg)
	if p.sys != nil {
		if isErr {
			p.sys.Error(msg)
		} else {
			p.sys.Info(msg)
		}
	}
}

func (p *program) Start(s service.Service) error {
	ctx, cancel := context.WithCancel(context.Background())
	p.cancel = cancel
	listen := p.c.Listen
	if p.c.TLSListen != "" {
		listen += ", HTTPS " + p.c.TLSListen
	}
	p.event(false, "%s service starting (data dir %s, listen %s, %s)", p.c.Name, p.c.DataDir, listen, service.Platform())
	go func() {
		err := p.fn(ctx, p.log)
		p.mu.Lock()
		p.err = err
		p.mu.Unlock()
		if err != nil {
			p.event(true, "%s stopped with an error: %v", p.c.Name, err)
			if !service.Interactive() && runtime.GOOS == "windows" {
				// The Windows manager has no RunWait: leaving the
				// process is how it learns of the failure and restarts.
				os.Exit(1)
			}
		}
		close(p.done)
	}()
	return nil
}

func (p *program) Stop(s service.Service) error {
	p.event(false, "%s service stopping", p.c.Name)
	p.cancel()
	select {
	case <-p.done:
	case <-time.After(p.timeout):
		p.event(true, "%s did not stop within %s", p.c.Name, p.timeout)
		return fmt.Errorf("install: %s did not stop within %s", p.c.Name, p.timeout)
	}
	if err := p.result(); err == nil {
		p.event(false, "%s service stopped", p.c.Name)
	}
	return nil
}

func (p *program) result() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}
