//go:build linux

package main

import (
	"context"
	"os"
	"path/filepath"
	"time"

	"posd/cmd/internal/posdproc"
)

// asMainEnv, set for the processes posd-load starts, makes this package's
// test binary behave as posd-load itself (see TestMain), so that the suite
// can start its bare server under go test too.
const asMainEnv = "POSD_LOAD_AS_MAIN"

// server is a process posd-load started: posd serve or the bare server.
type server struct {
	proc    *posdproc.Process
	url     string
	token   string
	started time.Duration // from exec to the first answer of /api/health
	log     *os.File      // its stdout and stderr
}

func (s *server) pid() int { return s.proc.Pid() }

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
		shop, err := posdproc.Init(ctx, bin, dir, "posd-load shop")
		if err != nil {
			return nil, err
		}
		token = shop.OwnerToken
	}
	addr, err := posdproc.FreeAddr()
	if err != nil {
		return nil, err
	}
	flags := append([]string{"--log-level", "warn"}, extra...)
	s, err := startServer(filepath.Join(dir, "posd-load-serve.log"), bin, addr, 60*time.Second, posdproc.ServeArgs(dir, addr, flags...)...)
	if err != nil {
		return nil, err
	}
	s.token = token
	return s, nil
}

// startBare runs this binary's bare-server subcommand, with extra flags.
func startBare(logPath string, flags ...string) (*server, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	addr, err := posdproc.FreeAddr()
	if err != nil {
		return nil, err
	}
	// (The tests' binary acts as posd-load when it sees asMainEnv.)
	return startServer(logPath, self, addr, 30*time.Second, append([]string{"bare-server", "--listen", addr}, flags...)...)
}

// startServer runs bin with args, its output to the log file logPath, and
// waits up to limit until it answers at addr. Health is asked every 2 ms,
// for a start time to the millisecond.
func startServer(logPath, bin, addr string, limit time.Duration, args ...string) (*server, error) {
	lf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	proc, err := posdproc.Start(posdproc.Options{Bin: bin, Args: args, Addr: addr, Env: []string{asMainEnv + "=1"},
		Stdout: lf, Stderr: lf, Poll: 2 * time.Millisecond})
	if err != nil {
		lf.Close()
		return nil, err
	}
	s := &server{proc: proc, url: "http://" + addr, log: lf}
	if err := proc.WaitHealthy(limit); err != nil {
		s.stop()
		return nil, err
	}
	s.started = proc.Started()
	return s, nil
}

// stop sends SIGTERM and waits for the process to exit (killing it after
// 15 s).
func (s *server) stop() error {
	defer s.log.Close()
	return s.proc.Stop(15 * time.Second)
}
