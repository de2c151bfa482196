// Package pgtest starts throwaway PostgreSQL clusters for tests and test
// tools: initdb in a fresh temporary directory, the server on a free port
// of 127.0.0.1 with its socket in that directory, stopped and removed by
// the caller. It uses Debian's binaries (/usr/lib/postgresql/N/bin, or
// whatever pg_config or PATH names). Tests run as root here and in CI, and
// PostgreSQL refuses to run as root, so as root the cluster's processes run
// as the postgres user the Debian package creates (through the process
// credentials, not su).
package pgtest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ErrNoPostgres reports a machine without the PostgreSQL server binaries.
var ErrNoPostgres = errors.New("pgtest: PostgreSQL is not installed (apt-get install postgresql)")

// Options tune a cluster.
type Options struct {
	// Durable keeps fsync and synchronous commit on, as in production: for
	// fault tests that kill the server. Otherwise the cluster trades
	// durability across power loss for speed (fsync=off), which the
	// conformance and API tests do not need; synchronous_commit stays on
	// either way, so a crash of the server loses nothing acknowledged.
	Durable bool
	// Settings are extra server settings, name → value.
	Settings map[string]string
	// Log receives the server's log; nil keeps it in the cluster's dir.
	Log *os.File
}

// Cluster is one running (or stopped) throwaway cluster.
type Cluster struct {
	// Dir holds the data directory, the socket and the log.
	Dir string
	// Port is the TCP port on 127.0.0.1.
	Port int
	bin  string
	opts Options
	cred *runAs

	mu      sync.Mutex
	proc    *os.Process
	exited  chan struct{}
	release chan struct{} // lets the thread that started proc go
}

// BinDir returns the directory of the PostgreSQL server binaries, newest
// major version first.
func BinDir() (string, error) {
	if d := os.Getenv("POSD_PG_BIN"); d != "" {
		return d, nil
	}
	if m, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb"); len(m) > 0 {
		sort.Slice(m, func(i, j int) bool { return majorOf(m[i]) > majorOf(m[j]) })
		return filepath.Dir(m[0]), nil
	}
	if out, err := exec.Command("pg_config", "--bindir").Output(); err == nil {
		d := strings.TrimSpace(string(out))
		if _, err := os.Stat(filepath.Join(d, "initdb")); err == nil {
			return d, nil
		}
	}
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	return "", ErrNoPostgres
}

func majorOf(path string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(filepath.Dir(path))))
	return n
}

// Start makes and starts a new cluster.
func Start(opts Options) (*Cluster, error) {
	if err := supported(); err != nil {
		return nil, err
	}
	bin, err := BinDir()
	if err != nil {
		return nil, err
	}
	c := &Cluster{bin: bin, opts: opts}
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, fmt.Errorf("pgtest: running as root needs the postgres user (made by Debian's postgresql package): %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		c.cred = &runAs{Uid: uint32(uid), Gid: uint32(gid)}
	}
	removeStale()
	// os.TempDir, not a test's TempDir: the postgres user must be able to
	// reach the directory, and a test's TempDir sits in a folder only root
	// may enter.
	if c.Dir, err = os.MkdirTemp(tempRoot(), "posd-pg-"); err != nil {
		return nil, err
	}
	if err := os.WriteFile(filepath.Join(c.Dir, ownerFile), []byte(strconv.Itoa(os.Getpid())), 0o644); err != nil {
		c.Remove()
		return nil, err
	}
	if c.cred != nil {
		if err := os.Chown(c.Dir, int(c.cred.Uid), int(c.cred.Gid)); err != nil {
			c.Remove()
			return nil, err
		}
	}
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", c.data(), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C", "-N")
	initdb.SysProcAttr = initdbAttr(c.cred)
	initdb.Dir = c.Dir
	if out, err := initdb.CombinedOutput(); err != nil {
		c.Remove()
		return nil, fmt.Errorf("pgtest: initdb: %v: %s", err, bytes.TrimSpace(out))
	}
	// A free port can be taken by someone else between our probe and the
	// server's bind; try a few.
	for i := 0; ; i++ {
		if c.Port, err = freePort(); err == nil {
			if err = c.Start(); err == nil {
				return c, nil
			}
		}
		if i == 4 {
			c.Remove()
			return nil, err
		}
	}
}

func tempRoot() string {
	d := os.TempDir()
	if st, err := os.Stat(d); err == nil && st.Mode().Perm()&0o001 != 0 {
		return d
	}
	return "/tmp"
}

func (c *Cluster) data() string    { return filepath.Join(c.Dir, "data") }
func (c *Cluster) logPath() string { return filepath.Join(c.Dir, "server.log") }

// Start starts the server of a stopped cluster and waits until it accepts
// connections.
func (c *Cluster) Start() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.proc != nil {
		return errors.New("pgtest: the cluster is running")
	}
	args := []string{"-D", c.data(), "-p", strconv.Itoa(c.Port), "-k", c.Dir,
		"-c", "listen_addresses=127.0.0.1", "-c", "max_connections=300", "-c", "shared_buffers=64MB",
		"-c", "logging_collector=off", "-c", "log_min_messages=warning", "-c", "log_statement=none"}
	if !c.opts.Durable {
		args = append(args, "-c", "fsync=off", "-c", "full_page_writes=off")
	}
	for k, v := range c.opts.Settings {
		args = append(args, "-c", k+"="+v)
	}
	logf := c.opts.Log
	if logf == nil {
		f, err := os.OpenFile(c.logPath(), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
		if err != nil {
			return err
		}
		defer f.Close()
		logf = f
	}
	cmd := exec.Command(filepath.Join(c.bin, "postgres"), args...)
	cmd.Dir = c.Dir
	cmd.Stdout, cmd.Stderr = logf, logf
	// serverAttr's Pdeathsig takes the server down with the test process
	// if that dies without cleaning up (a panic, a timeout, kill -9). The
	// kernel sends it when the thread that started the child ends, so that
	// thread is kept, locked, until the server has stopped.
	cmd.SysProcAttr = serverAttr(c.cred)
	started := make(chan error, 1)
	exited := make(chan struct{})
	release := make(chan struct{})
	go func() {
		runtime.LockOSThread()
		err := cmd.Start()
		started <- err
		if err != nil {
			runtime.UnlockOSThread()
			return
		}
		cmd.Wait()
		close(exited)
		<-release
		runtime.UnlockOSThread()
	}()
	if err := <-started; err != nil {
		return fmt.Errorf("pgtest: starting postgres: %v", err)
	}
	c.proc, c.exited, c.release = cmd.Process, exited, release
	deadline := time.Now().Add(30 * time.Second)
	for {
		conn, err := net.DialTimeout("tcp", c.Addr(), time.Second)
		if err == nil {
			conn.Close()
			if c.ready() {
				return nil
			}
		}
		select {
		case <-exited:
			c.proc = nil
			close(release)
			return fmt.Errorf("pgtest: postgres exited at start: %s", c.tail())
		default:
		}
		if time.Now().After(deadline) {
			c.stopLocked(syscall.SIGQUIT)
			return fmt.Errorf("pgtest: postgres did not accept connections within 30 s: %s", c.tail())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// ready asks pg_isready whether the server accepts connections (a TCP
// connect succeeds while it still starts up).
func (c *Cluster) ready() bool {
	return exec.Command(filepath.Join(c.bin, "pg_isready"), "-q", "-h", "127.0.0.1", "-p", strconv.Itoa(c.Port), "-U", "postgres").Run() == nil
}

// tail is the end of the server log.
func (c *Cluster) tail() string {
	b, _ := os.ReadFile(c.logPath())
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(bytes.TrimSpace(b))
}

// Addr is the server's host:port.
func (c *Cluster) Addr() string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(c.Port)) }

// URL is the connection URL of database db.
func (c *Cluster) URL(db string) string {
	return fmt.Sprintf("postgres://postgres@%s/%s?sslmode=disable", c.Addr(), db)
}

// Stop shuts the server down fast (SIGINT: open transactions roll back,
// then a checkpoint), as `pg_ctl stop -m fast` does.
func (c *Cluster) Stop() error { return c.stop(syscall.SIGINT) }

// Crash stops the server without a shutdown checkpoint (SIGQUIT: every
// backend exits at once, recovery runs at the next start), as `pg_ctl stop
// -m immediate` does.
func (c *Cluster) Crash() error { return c.stop(syscall.SIGQUIT) }

func (c *Cluster) stop(sig syscall.Signal) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stopLocked(sig)
}

func (c *Cluster) stopLocked(sig syscall.Signal) error {
	if c.proc == nil {
		return nil
	}
	c.proc.Signal(sig)
	select {
	case <-c.exited:
	case <-time.After(30 * time.Second):
		c.proc.Kill()
		<-c.exited
	}
	close(c.release)
	c.proc = nil
	return nil
}

// Running reports whether the server process runs.
func (c *Cluster) Running() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.proc != nil
}

// Remove stops the server (fast) and deletes the cluster's directory.
func (c *Cluster) Remove() error {
	c.Stop()
	return os.RemoveAll(c.Dir)
}

// CreateDatabase creates database name (from template, or template1 when
// empty) and returns its URL.
func (c *Cluster) CreateDatabase(ctx context.Context, name, template string) (string, error) {
	sql := fmt.Sprintf("CREATE DATABASE %q", name)
	if template != "" {
		sql += fmt.Sprintf(" TEMPLATE %q", template)
	}
	if err := c.Exec(ctx, "postgres", sql); err != nil {
		return "", err
	}
	return c.URL(name), nil
}

// Exec runs SQL in database db through psql, for set-up statements.
func (c *Cluster) Exec(ctx context.Context, db, sql string) error {
	cmd := exec.CommandContext(ctx, filepath.Join(c.bin, "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1",
		"-h", "127.0.0.1", "-p", strconv.Itoa(c.Port), "-U", "postgres", "-d", db, "-c", sql)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("pgtest: psql %q: %v: %s", sql, err, bytes.TrimSpace(out))
	}
	return nil
}

// Bin returns the path of one of the cluster's binaries (pgbench, psql).
func (c *Cluster) Bin(name string) string { return filepath.Join(c.bin, name) }

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// removeStale deletes the directories of clusters whose owning process
// died without cleaning up (its server went with it, see Start): the
// process named in the directory's owner file is gone, or there is no
// owner file and the directory is untouched for ten minutes (one being
// made right now is left alone).
func removeStale() {
	dirs, _ := filepath.Glob(filepath.Join(tempRoot(), "posd-pg-*"))
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, ownerFile))
		if err == nil {
			if pid, _ := strconv.Atoi(strings.TrimSpace(string(b))); pid > 0 && alive(pid) {
				continue
			}
		} else if st, err := os.Stat(d); err != nil || time.Since(st.ModTime()) < 10*time.Minute {
			continue
		}
		os.RemoveAll(d)
	}
}

// ownerFile names the process that owns a cluster's directory.
const ownerFile = "owner.pid"

// Pids returns the server's processes: the postmaster and its children
// (backends, checkpointer, WAL writer, …), for measuring their CPU.
func (c *Cluster) Pids() []int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.proc == nil {
		return nil
	}
	root := c.proc.Pid
	out := []int{root}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+2:])
		if len(f) > 1 && f[1] == strconv.Itoa(root) {
			out = append(out, pid)
		}
	}
	return out
}
