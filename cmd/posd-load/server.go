package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// asMainEnv, set for the processes posd-load starts, makes this package's
// test binary behave as posd-load itself (see TestMain), so that the suite
// can start its bare server under go test too.
const asMainEnv = "POSD_LOAD_AS_MAIN"

// server is a process posd-load started: posd serve or the bare server.
type server struct {
	cmd     *exec.Cmd
	url     string
	token   string
	t0      time.Time     // just before exec
	started time.Duration // from exec to the first answer of /api/health
	log     *os.File
	done    chan error
}

func (s *server) pid() int { return s.cmd.Process.Pid }

// freeAddr returns a loopback address with a free port.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// initPosd runs posd init --json on dir and returns the owner token.
func initPosd(ctx context.Context, bin, dir string) (string, error) {
	var out, errOut bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, "init", "--data-dir", dir, "--business", "posd-load shop", "--timezone", "UTC", "--json")
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("posd init: %v: %s", err, bytes.TrimSpace(errOut.Bytes()))
	}
	var v struct {
		OwnerToken string `json:"ownerToken"`
	}
	if err := json.Unmarshal(out.Bytes(), &v); err != nil || v.OwnerToken == "" {
		return "", fmt.Errorf("posd init --json printed %q", out.String())
	}
	return v.OwnerToken, nil
}

// hasDB reports whether dir holds a posd database.
func hasDB(dir string) bool {
	_, err := os.Stat(filepath.Join(dir, "posd.db"))
	return err == nil
}

// startPosd serves dir with the posd binary bin, initialising it first
// (posd init --json) when it holds no database; token is then the new
// owner token, else the given one. extra are more flags for posd serve.
func startPosd(ctx context.Context, bin, dir, token string, extra ...string) (*server, error) {
	if !hasDB(dir) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, err
		}
		t, err := initPosd(ctx, bin, dir)
		if err != nil {
			return nil, err
		}
		token = t
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	args := append([]string{"serve", "--data-dir", dir, "--listen", addr, "--log-level", "warn"}, extra...)
	s, err := startProcess(filepath.Join(dir, "posd-load-serve.log"), bin, args...)
	if err != nil {
		return nil, err
	}
	s.url, s.token = "http://"+addr, token
	if err := s.waitHealthy(60 * time.Second); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

// startBare runs this binary's bare-server subcommand.
func startBare(logPath string) (*server, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	s, err := startProcess(logPath, self, "bare-server", "--listen", addr)
	// (The tests' binary acts as posd-load when it sees asMainEnv.)
	if err != nil {
		return nil, err
	}
	s.url = "http://" + addr
	if err := s.waitHealthy(30 * time.Second); err != nil {
		s.stop()
		return nil, err
	}
	return s, nil
}

func startProcess(logPath, bin string, args ...string) (*server, error) {
	lf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = lf, lf
	cmd.Env = append(os.Environ(), asMainEnv+"=1")
	s := &server{cmd: cmd, log: lf, done: make(chan error, 1), t0: time.Now()}
	if err := cmd.Start(); err != nil {
		lf.Close()
		return nil, fmt.Errorf("starting %s: %w", bin, err)
	}
	go func() { s.done <- cmd.Wait() }()
	return s, nil
}

// waitHealthy polls /api/health until it answers 200 and records how long
// the process took to get there.
func (s *server) waitHealthy(limit time.Duration) error {
	hc := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		select {
		case err := <-s.done:
			s.done <- err
			b, _ := os.ReadFile(s.log.Name())
			return fmt.Errorf("%s exited before answering: %v\n%s", s.cmd.Path, err, b)
		default:
		}
		res, err := hc.Get(s.url + "/api/health")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				s.started = time.Since(s.t0)
				return nil
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
	return fmt.Errorf("%s did not answer /api/health within %v", s.url, limit)
}

// stop sends SIGTERM and waits for the process to exit (killing it after
// 15 s).
func (s *server) stop() error {
	defer s.log.Close()
	if s.cmd.Process == nil {
		return nil
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.done:
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return fmt.Errorf("%s exited with %v", filepath.Base(s.cmd.Path), err)
		}
		return err
	case <-time.After(15 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
		return fmt.Errorf("%s did not stop within 15 s after SIGTERM", filepath.Base(s.cmd.Path))
	}
}
