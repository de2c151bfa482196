package install

import (
	"context"
	"errors"
	"flag"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files")

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./install -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from the golden file:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

var linux = Config{Name: "posd", DisplayName: "posd", Description: "point-of-sale back office",
	Executable: "/usr/local/bin/posd", DataDir: "/var/lib/posd", Listen: ":8080", TLSListen: ":8443"}

var awkward = Config{Name: "posd", DisplayName: "posd", Description: "point-of-sale back office",
	Executable: "/Applications/posd 1.0/posd", DataDir: "/Library/Application Support/posd & co 100%", Listen: "127.0.0.1:8080",
	TLSListen: "127.0.0.1:8443", TLSNames: []string{"shop.lan", "till-server"}}

func TestSystemdUnitGolden(t *testing.T) {
	golden(t, "posd.service", SystemdUnit(linux))
	golden(t, "posd-awkward.service", SystemdUnit(awkward))
	u := SystemdUnit(linux)
	for _, want := range []string{"Restart=on-failure\n", "RestartSec=2\n", "TimeoutStopSec=15\n", "After=network-online.target\n",
		`ExecStart="/usr/local/bin/posd" "service" "run" "--data-dir" "/var/lib/posd" "--listen" ":8080" "--tls-listen" ":8443"`} {
		if !strings.Contains(u, want) {
			t.Errorf("unit lacks %q", want)
		}
	}
	if strings.Contains(u, "RestartSec=120") || strings.Contains(u, "{{") {
		t.Error("unit carries the library's defaults or template syntax")
	}
	if a := SystemdUnit(awkward); !strings.Contains(a, `"/Library/Application Support/posd & co 100%%"`) {
		t.Errorf("unit does not escape %% in paths:\n%s", a)
	}
}

func TestLaunchdPlistGolden(t *testing.T) {
	golden(t, "posd.plist", LaunchdPlist(linux))
	golden(t, "posd-awkward.plist", LaunchdPlist(awkward))
	p := LaunchdPlist(awkward)
	if !strings.Contains(p, "<key>KeepAlive</key>\n\t<true/>") || !strings.Contains(p, "<string>/Library/Application Support/posd &amp; co 100%</string>") {
		t.Errorf("plist:\n%s", p)
	}
}

func TestWindowsOptions(t *testing.T) {
	o := windowsOptions()
	if o["DelayedAutoStart"] != true || o["OnFailure"] != "restart" || o["StartType"] != "automatic" {
		t.Errorf("windows options: %v", o)
	}
	if d, err := time.ParseDuration(o["OnFailureDelayDuration"].(string)); err != nil || d > 10*time.Second {
		t.Errorf("restart delay: %v %v", d, err)
	}
}

func TestValidate(t *testing.T) {
	if err := linux.Validate(); err != nil {
		t.Errorf("valid config: %v", err)
	}
	for name, c := range map[string]Config{
		"relative data dir": {Name: "posd", Executable: "/usr/bin/posd", DataDir: "data", Listen: ":8080"},
		"relative exe":      {Name: "posd", Executable: "posd", DataDir: "/d", Listen: ":8080"},
		"template":          {Name: "posd", Executable: "/usr/bin/posd", DataDir: "/d/{{x}}", Listen: ":8080"},
		"newline":           {Name: "posd", Executable: "/usr/bin/posd", DataDir: "/d\nExecStartPre=/bin/evil", Listen: ":8080"},
		"no listen":         {Name: "posd", Executable: "/usr/bin/posd", DataDir: "/d"},
		"newline in a name": {Name: "posd", Executable: "/usr/bin/posd", DataDir: "/d", Listen: ":8080", TLSNames: []string{"a\nb"}},
	} {
		if err := c.Validate(); err == nil {
			t.Errorf("%s: got nil error", name)
		}
	}
}

func TestControlNeedsPrivileges(t *testing.T) {
	old := Privileged
	Privileged = func() bool { return false }
	defer func() { Privileged = old }()
	err := Control(linux, "install")
	if !errors.Is(err, ErrNotPrivileged) || !strings.Contains(err.Error(), "posd service install") {
		t.Errorf("unprivileged install: got %v", err)
	}
	if err := Control(linux, "explode"); err == nil || errors.Is(err, ErrNotPrivileged) {
		t.Errorf("unknown action: got %v", err)
	}
}

// TestStopWithinTimeout: a program that ends when asked stops cleanly; one
// that does not is reported after the stop timeout instead of hanging the
// service manager.
func TestStopWithinTimeout(t *testing.T) {
	var log strings.Builder
	p := &program{c: linux, log: &log, timeout: 5 * time.Second, done: make(chan struct{}),
		fn: func(ctx context.Context, w io.Writer) error {
			<-ctx.Done()
			time.Sleep(20 * time.Millisecond)
			return nil
		}}
	if err := p.Start(nil); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := p.Stop(nil); err != nil {
		t.Errorf("clean stop: %v", err)
	}
	if d := time.Since(start); d >= p.timeout {
		t.Errorf("clean stop took %v, the whole timeout", d)
	}
	for _, want := range []string{"service starting", "service stopping", "service stopped"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("log lacks %q:\n%s", want, log.String())
		}
	}

	stuck := &program{c: linux, log: io.Discard, timeout: 100 * time.Millisecond, done: make(chan struct{}),
		fn: func(ctx context.Context, w io.Writer) error { time.Sleep(time.Hour); return nil }}
	stuck.Start(nil)
	if err := stuck.Stop(nil); err == nil || !strings.Contains(err.Error(), "did not stop") {
		t.Errorf("stuck program: got %v", err)
	}
}

// TestRunReturnsProgramFailure: a program that fails on its own ends Run
// with its error, so that the process exits non-zero and the manager
// restarts it; the failure is in the log file.
func TestRunReturnsProgramFailure(t *testing.T) {
	c := linux
	c.DataDir = t.TempDir()
	boom := errors.New("port in use")
	err := Run(c, func(ctx context.Context, w io.Writer) error {
		io.WriteString(w, "program output\n")
		return boom
	}, time.Second)
	if !errors.Is(err, boom) {
		t.Fatalf("Run: got %v, want the program's error", err)
	}
	b, err := os.ReadFile(c.LogFile())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), "program output") || !strings.Contains(string(b), "stopped with an error: port in use") {
		t.Errorf("log file:\n%s", b)
	}
	if st, _ := os.Stat(c.LogFile()); st.Mode().Perm() != 0o600 {
		t.Errorf("log file mode %v, want 0600", st.Mode().Perm())
	}
}

func TestRotatingLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "posd.log")
	r, err := OpenRotating(path, 100, 2)
	if err != nil {
		t.Fatal(err)
	}
	line := strings.Repeat("x", 39) + "\n" // 40 bytes: two fit in 100
	for i := 0; i < 9; i++ {
		if _, err := io.WriteString(r, line); err != nil {
			t.Fatal(err)
		}
	}
	r.Close()
	sizes := map[string]int64{}
	for _, n := range []string{"posd.log", "posd.log.1", "posd.log.2", "posd.log.3"} {
		if st, err := os.Stat(filepath.Join(filepath.Dir(path), n)); err == nil {
			sizes[n] = st.Size()
		}
	}
	// 9 lines of 40 bytes in files of two: the current file has 1, .1 and
	// .2 have 2 each, and nothing older is kept.
	want := map[string]int64{"posd.log": 40, "posd.log.1": 80, "posd.log.2": 80}
	if len(sizes) != len(want) {
		t.Fatalf("files: got %v, want %v", sizes, want)
	}
	for k, v := range want {
		if sizes[k] != v {
			t.Errorf("%s: got %d bytes, want %d", k, sizes[k], v)
		}
	}
	// Reopening appends.
	r, _ = OpenRotating(path, 100, 2)
	io.WriteString(r, line)
	r.Close()
	if st, _ := os.Stat(path); st.Size() != 80 {
		t.Errorf("after reopen: %d bytes, want 80", st.Size())
	}
}
