package shopca

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/x509"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)

func mustOpen(t *testing.T, dir string) *Authority {
	t.Helper()
	a, _, err := Open(dir, "posd shop CA — backoffice", t0)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestOpenMakesCA: the first Open makes an ECDSA P-256 CA valid for ten
// years that can sign leaves only, with its key private and its
// certificate public.
func TestOpenMakesCA(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	a, created, err := Open(dir, "posd shop CA — backoffice", t0)
	if err != nil || !created {
		t.Fatalf("Open: created %v, %v", created, err)
	}
	c := a.Cert
	if !c.IsCA || !c.BasicConstraintsValid || c.MaxPathLen != 0 || !c.MaxPathLenZero {
		t.Errorf("basic constraints: CA %v, max path %d (zero %v)", c.IsCA, c.MaxPathLen, c.MaxPathLenZero)
	}
	if c.KeyUsage != x509.KeyUsageCertSign|x509.KeyUsageCRLSign {
		t.Errorf("key usage %v", c.KeyUsage)
	}
	pub, ok := c.PublicKey.(*ecdsa.PublicKey)
	if !ok || pub.Curve != elliptic.P256() || c.SignatureAlgorithm != x509.ECDSAWithSHA256 {
		t.Errorf("key %T, signature %v; want ECDSA P-256 with SHA-256", c.PublicKey, c.SignatureAlgorithm)
	}
	if got, want := c.NotAfter, t0.AddDate(10, 0, 0); !got.Equal(want) || c.NotBefore.After(t0) {
		t.Errorf("validity %v – %v, want until %v", c.NotBefore, got, want)
	}
	if c.Subject.CommonName != "posd shop CA — backoffice" || a.Name() != c.Subject.CommonName {
		t.Errorf("name %q", c.Subject.CommonName)
	}
	if len(c.SubjectKeyId) == 0 {
		t.Error("no subject key identifier: leaves could not point at this CA")
	}
	if err := c.CheckSignatureFrom(c); err != nil {
		t.Errorf("not self-signed: %v", err)
	}
	if runtime.GOOS != "windows" {
		mode(t, filepath.Join(dir, KeyFile), 0o600)
		mode(t, filepath.Join(dir, CertFile), 0o644)
	}
	if m, _ := filepath.Glob(filepath.Join(dir, "*.tmp-*")); len(m) != 0 {
		t.Errorf("temporary files left: %v", m)
	}
	if fp := a.Fingerprint(); len(fp) != 95 || fp != Fingerprint(a.DER()) || strings.ToUpper(fp) != fp {
		t.Errorf("fingerprint %q", fp)
	}
	if len(a.FingerprintSHA1()) != 59 {
		t.Errorf("SHA-1 fingerprint %q", a.FingerprintSHA1())
	}
	if p, _ := os.ReadFile(filepath.Join(dir, CertFile)); !bytes.Equal(p, a.PEM()) {
		t.Error("ca.crt differs from the CA's PEM")
	}
}

func mode(t *testing.T, path string, want os.FileMode) {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := st.Mode().Perm(); got != want {
		t.Errorf("%s: mode %v, want %v", filepath.Base(path), got, want)
	}
}

// TestOpenKeepsCA: a second Open (a restart) loads the same CA, whatever
// the clock and the name say, and signs with the same key.
func TestOpenKeepsCA(t *testing.T) {
	dir := t.TempDir()
	a := mustOpen(t, dir)
	b, created, err := Open(dir, "another name", t0.AddDate(1, 0, 0))
	if err != nil || created {
		t.Fatalf("second Open: created %v, %v", created, err)
	}
	if !bytes.Equal(a.DER(), b.DER()) {
		t.Fatal("a restart made a new CA")
	}
	leaf, err := b.Issue(Names{DNS: []string{"localhost"}}, t0)
	if err != nil {
		t.Fatal(err)
	}
	if err := leaf.Leaf.CheckSignatureFrom(a.Cert); err != nil {
		t.Errorf("the reloaded key does not sign for the first CA: %v", err)
	}
}

// TestLoadTightensKeyMode: a key file others can read (restored by hand
// with the wrong mode) is made private again at load.
func TestLoadTightensKeyMode(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("modes are access lists on Windows")
	}
	dir := t.TempDir()
	mustOpen(t, dir)
	key := filepath.Join(dir, KeyFile)
	if err := os.Chmod(key, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(dir); err != nil {
		t.Fatal(err)
	}
	mode(t, key, 0o600)
}

// TestLoadBrokenFiles: every broken state gets an error that says what to
// do, and none of them silently replaces a CA the tills may trust; only a
// key without a certificate (a crash inside create) is replaced.
func TestLoadBrokenFiles(t *testing.T) {
	t.Run("no files", func(t *testing.T) {
		if _, err := Load(t.TempDir()); !errors.Is(err, ErrNoCA) {
			t.Errorf("got %v, want ErrNoCA", err)
		}
	})
	t.Run("key missing", func(t *testing.T) {
		dir := t.TempDir()
		mustOpen(t, dir)
		os.Remove(filepath.Join(dir, KeyFile))
		_, _, err := Open(dir, "x", t0)
		if err == nil || !strings.Contains(err.Error(), "missing") || !strings.Contains(err.Error(), "move") {
			t.Errorf("got %v", err)
		}
		if _, err := os.Stat(filepath.Join(dir, KeyFile)); err == nil {
			t.Error("Open made a new key beside the old certificate")
		}
	})
	t.Run("certificate garbled", func(t *testing.T) {
		dir := t.TempDir()
		mustOpen(t, dir)
		os.WriteFile(filepath.Join(dir, CertFile), []byte("not a certificate"), 0o644)
		if _, _, err := Open(dir, "x", t0); err == nil || !strings.Contains(err.Error(), "not a PEM certificate") {
			t.Errorf("got %v", err)
		}
	})
	t.Run("key of another CA", func(t *testing.T) {
		dir, other := t.TempDir(), t.TempDir()
		mustOpen(t, dir)
		mustOpen(t, other)
		k, _ := os.ReadFile(filepath.Join(other, KeyFile))
		os.WriteFile(filepath.Join(dir, KeyFile), k, 0o600)
		if _, _, err := Open(dir, "x", t0); err == nil || !strings.Contains(err.Error(), "is not the key of") {
			t.Errorf("got %v", err)
		}
	})
	t.Run("key without certificate", func(t *testing.T) {
		dir := t.TempDir()
		old := mustOpen(t, dir)
		os.Remove(filepath.Join(dir, CertFile))
		a, created, err := Open(dir, "x", t0)
		if err != nil || !created || bytes.Equal(a.DER(), old.DER()) {
			t.Errorf("created %v, %v", created, err)
		}
		if _, err := Load(dir); err != nil {
			t.Errorf("the new CA does not load: %v", err)
		}
	})
}
