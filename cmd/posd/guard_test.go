package main

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestVerifyCrashingFile: a file damaged where bbolt trusts it (its freelist
// page) makes bbolt panic; verify must still answer with a finding and a
// one-line error, not a stack trace.
func TestVerifyCrashingFile(t *testing.T) {
	dir := t.TempDir()
	if _, e, code := posd(t, "init", "--data-dir", dir); code != 0 {
		t.Fatal(e)
	}
	b, err := os.ReadFile(filepath.Join(dir, "posd.db"))
	if err != nil {
		t.Fatal(err)
	}
	r := rand.New(rand.NewPCG(1, 1))
	for i := 2*4096 + 16; i < 2*4096+200; i++ {
		b[i] = byte(r.UintN(256))
	}
	bad := filepath.Join(t.TempDir(), "bad.db")
	if err := os.WriteFile(bad, b, 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := posd(t, "verify", bad)
	if code != 1 || !strings.Contains(out, "FAIL") || !strings.Contains(out, "crashed") {
		t.Errorf("verify of a crashing file: code %d\n%s", code, out)
	}
	if strings.Contains(errOut, "goroutine") || strings.Count(strings.TrimSpace(errOut), "\n") != 0 {
		t.Errorf("stderr is not one line: %q", errOut)
	}
	// restore refuses it the same way and leaves the data dir alone.
	target := filepath.Join(t.TempDir(), "d")
	_, errOut, code = posd(t, "restore", "--data-dir", target, bad)
	if code == 0 || strings.Contains(errOut, "goroutine") {
		t.Errorf("restore of a crashing file: code %d %q", code, errOut)
	}
	if _, err := os.Stat(filepath.Join(target, "posd.db")); err == nil {
		t.Error("restore of a crashing file left a database behind")
	}
}
