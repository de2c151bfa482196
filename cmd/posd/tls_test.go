package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"posd/api/client"
)

// pinnedClient trusts exactly the certificate with the given SHA-256
// fingerprint, as a till set up by the owner would.
func pinnedClient(fp string) *http.Client {
	want := strings.ReplaceAll(fp, ":", "")
	return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{
		InsecureSkipVerify: true, // the pin below replaces the CA check
		VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
			if len(raw) == 0 || fmt.Sprintf("%X", sha256.Sum256(raw[0])) != want {
				return errors.New("certificate does not match the pinned fingerprint")
			}
			return nil
		},
	}}}
}

// startTLS runs posd serve with args and returns its address and the
// fingerprint it printed.
func startTLS(t *testing.T, dir string, args ...string) (string, string) {
	t.Helper()
	addr := freePort(t)
	cmd := exec.Command(posdBin, append([]string{"serve", "--data-dir", dir, "--listen", addr}, args...)...)
	out, _ := cmd.StdoutPipe()
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	fpRE := regexp.MustCompile(`fingerprint[^:]*: ([0-9A-F:]{95})`)
	r := bufio.NewReader(out)
	fp := ""
	for {
		line, err := r.ReadString('\n')
		if m := fpRE.FindStringSubmatch(line); m != nil {
			fp = m[1]
		}
		if strings.HasPrefix(line, "Till: ") {
			if !strings.HasPrefix(line, "Till: https://") {
				t.Errorf("till URL with TLS: %q", line)
			}
			break
		}
		if err != nil {
			t.Fatalf("serve output ended before the till URL")
		}
	}
	go io.Copy(io.Discard, r)
	if fp == "" {
		t.Fatal("no fingerprint printed")
	}
	c := pinnedClient(fp)
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if res, err := c.Get("https://" + addr + "/api/health"); err == nil {
			res.Body.Close()
			return addr, fp
		}
	}
	t.Fatal("HTTPS did not answer")
	return "", ""
}

// TestTLSSelfSigned: --tls-self-signed serves HTTPS with a certificate made
// once and kept (the same fingerprint after a restart and as printed by
// init); a pinned client works, a wrongly pinned one and plain HTTP do not.
func TestTLSSelfSigned(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	out, errOut, code := posd(t, "init", "--data-dir", dir, "--tls-self-signed")
	m := regexp.MustCompile(`fingerprint[^:]*: ([0-9A-F:]{95})`).FindStringSubmatch(out)
	if code != 0 || m == nil {
		t.Fatalf("init --tls-self-signed: %d %q %q", code, out, errOut)
	}
	tok := regexp.MustCompile(`posd_[A-Za-z0-9_-]{43}`).FindString(out)
	addr, fp := startTLS(t, dir, "--tls-self-signed")
	if fp != m[1] {
		t.Errorf("serve printed %s, init printed %s", fp, m[1])
	}
	c := client.New("https://"+addr, tok)
	c.HTTP = pinnedClient(fp)
	if _, err := c.Locations(context.Background()); err != nil {
		t.Errorf("pinned client: %v", err)
	}
	bad := client.New("https://"+addr, tok)
	bad.HTTP, bad.Retry = pinnedClient(strings.Repeat("AB:", 31)+"AB"), &client.NoRetry
	if _, err := bad.Locations(context.Background()); err == nil {
		t.Error("a client pinned to another certificate got through")
	}
	if res, err := http.Get("http://" + addr + "/api/health"); err == nil {
		if res.StatusCode == 200 {
			t.Error("plain HTTP answered 200 on the TLS port")
		}
		res.Body.Close()
	}
}

// TestTLSCertFlags: --tls-cert/--tls-key serve with the owner's own files;
// the two go together.
func TestTLSCertFlags(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	certFile, keyFile, err := ensureSelfSigned(filepath.Join(t.TempDir(), "own"))
	if err != nil {
		t.Fatal(err)
	}
	startTLS(t, dir, "--tls-cert", certFile, "--tls-key", keyFile)
	_, errOut, code := posd(t, "serve", "--data-dir", dir, "--tls-cert", certFile)
	if code != 2 || !strings.Contains(errOut, "--tls-key") {
		t.Errorf("--tls-cert alone: %d %q", code, errOut)
	}
}
