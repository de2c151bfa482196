package main

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"posd/api/client"
	"posd/engine"
)

// TestNoTokenBytesInBackup makes tokens of every role through a running
// posd, takes a backup while it serves, and scans the backup, its manifest
// and the database for every secret made, in text and as raw bytes.
func TestNoTokenBytesInBackup(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	s := startServe(t, dir)
	ctx := context.Background()
	owner := client.New("http://"+s.addr, s.token)
	secrets := []string{s.token}
	for i, role := range []engine.Role{engine.RoleOwner, engine.RoleManager, engine.RoleTill, engine.RoleTill} {
		tk, err := owner.CreateToken(ctx, fmt.Sprintf("k%d", i), client.TokenRequest{Role: role, Name: string(role)})
		if err != nil {
			t.Fatal(err)
		}
		secrets = append(secrets, *tk.Secret)
	}
	out := filepath.Join(t.TempDir(), "backup.db")
	if _, errOut, code := posd(t, "backup", "--data-dir", dir, "--out", out); code != 0 {
		t.Fatalf("backup: %d %s", code, errOut)
	}
	files, _ := filepath.Glob(out + "*")
	files = append(files, filepath.Join(dir, "posd.db"))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, sec := range secrets {
			raw, err := base64.RawURLEncoding.DecodeString(strings.TrimPrefix(sec, "posd_"))
			if err != nil || len(raw) != 32 {
				t.Fatalf("secret %q is not posd_ + 32 bytes", sec)
			}
			if strings.Contains(string(data), strings.TrimPrefix(sec, "posd_")) || strings.Contains(string(data), string(raw)) {
				t.Errorf("%s holds a token secret", filepath.Base(f))
			}
		}
	}
	if len(files) < 2 {
		t.Errorf("backup wrote %v", files)
	}
}
