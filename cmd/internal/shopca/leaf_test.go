package shopca

import (
	"crypto/ecdsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// machine is a stand-in for the back-office PC: a host name and
// interfaces whose addresses a test can change.
type machine struct {
	mu    sync.Mutex
	host  string
	addrs []string
}

func (m *machine) set(addrs ...string) {
	m.mu.Lock()
	m.addrs = addrs
	m.mu.Unlock()
}

func (m *machine) Machine() Machine {
	return Machine{
		Hostname: func() (string, error) { return m.host, nil },
		InterfaceAddrs: func() ([]net.Addr, error) {
			m.mu.Lock()
			defer m.mu.Unlock()
			var out []net.Addr
			for _, a := range m.addrs {
				_, n, err := net.ParseCIDR(a)
				if err != nil {
					panic(err)
				}
				ip, _, _ := net.ParseCIDR(a)
				out = append(out, &net.IPNet{IP: ip, Mask: n.Mask})
			}
			return out, nil
		},
	}
}

// TestMachineNames: a listener on all interfaces names every reachable
// address of the machine, never link-local ones; one bound to an address
// names that address; both name localhost, the loopbacks, the host name,
// its .local form and the owner's extra names.
func TestMachineNames(t *testing.T) {
	m := &machine{host: "BackOffice"}
	m.set("127.0.0.1/8", "::1/128", "192.168.1.10/24", "169.254.3.4/16", "fe80::1/64", "fd00::2/64", "10.8.0.1/24")
	all := m.Machine().Names(net.IPv6unspecified, []string{"Shop.LAN", "10.0.0.9", "bad name!"}).normal()
	want := []string{"backoffice", "backoffice.local", "localhost", "shop.lan",
		"10.0.0.9", "10.8.0.1", "127.0.0.1", "192.168.1.10", "::1", "fd00::2"}
	if got := all.Strings(); !slices.Equal(got, want) {
		t.Errorf("all interfaces:\n got %v\nwant %v", got, want)
	}
	v4 := m.Machine().Names(net.IPv4zero, nil).normal()
	if got := v4.Strings(); slices.Contains(got, "fd00::2") || !slices.Contains(got, "192.168.1.10") {
		t.Errorf("0.0.0.0 listener: %v", got)
	}
	one := m.Machine().Names(net.ParseIP("192.168.1.10"), nil).normal()
	if got := one.Strings(); slices.Contains(got, "10.8.0.1") || !slices.Contains(got, "192.168.1.10") || !slices.Contains(got, "backoffice") {
		t.Errorf("listener on one address: %v", got)
	}
}

// TestLeaf: a leaf carries exactly the names it was asked for, verifies
// against the CA for each of them (and for nothing else), is a 90-day
// server certificate with its own P-256 key, and cannot sign.
func TestLeaf(t *testing.T) {
	a := mustOpen(t, t.TempDir())
	var n Names
	n.Add("backoffice", "localhost", "shop.lan", "127.0.0.1", "::1", "192.168.1.10", "fd00::2", "192.168.1.10")
	c, err := a.Issue(n, t0)
	if err != nil {
		t.Fatal(err)
	}
	l := c.Leaf
	if l.Subject.CommonName != "backoffice" {
		t.Errorf("common name %q, want the first name given", l.Subject.CommonName)
	}
	if got, want := CertNames(l), []string{"backoffice", "localhost", "shop.lan", "127.0.0.1", "192.168.1.10", "::1", "fd00::2"}; !slices.Equal(got, want) {
		t.Errorf("names: got %v, want %v", got, want)
	}
	roots := x509.NewCertPool()
	roots.AddCert(a.Cert)
	for _, name := range CertNames(l) {
		if _, err := l.Verify(x509.VerifyOptions{DNSName: name, Roots: roots, CurrentTime: t0.Add(time.Minute)}); err != nil {
			t.Errorf("verify for %s: %v", name, err)
		}
	}
	for _, name := range []string{"example.com", "192.168.1.11", "backoffice.example"} {
		if _, err := l.Verify(x509.VerifyOptions{DNSName: name, Roots: roots, CurrentTime: t0}); err == nil {
			t.Errorf("the leaf verifies for %s, which it was not issued for", name)
		}
	}
	if l.IsCA || !l.BasicConstraintsValid || l.KeyUsage != x509.KeyUsageDigitalSignature || !slices.Equal(l.ExtKeyUsage, []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}) {
		t.Errorf("usage: CA %v, key usage %v, ext %v", l.IsCA, l.KeyUsage, l.ExtKeyUsage)
	}
	if d := l.NotAfter.Sub(l.NotBefore); d > 91*24*time.Hour || d < 90*24*time.Hour || l.NotBefore.After(t0) {
		t.Errorf("validity %v – %v (%v)", l.NotBefore, l.NotAfter, d)
	}
	if !l.NotAfter.Equal(t0.Add(LeafLifetime)) {
		t.Errorf("ends %v, want %v", l.NotAfter, t0.Add(LeafLifetime))
	}
	if _, err := l.Verify(x509.VerifyOptions{DNSName: "localhost", Roots: roots, CurrentTime: t0.Add(LeafLifetime + time.Minute)}); err == nil {
		t.Error("the leaf verifies after its end")
	}
	if string(l.AuthorityKeyId) != string(a.Cert.SubjectKeyId) {
		t.Error("the leaf's authority key id is not the CA's")
	}
	if _, ok := c.PrivateKey.(*ecdsa.PrivateKey); !ok || c.PrivateKey.(*ecdsa.PrivateKey).Equal(a.key) {
		t.Error("the leaf must have its own ECDSA key")
	}
	if len(c.Certificate) != 1 {
		t.Errorf("chain of %d certificates; the CA is the tills' own and need not be sent", len(c.Certificate))
	}
	// A leaf never outlives its CA.
	late, err := a.Issue(n, a.Cert.NotAfter.Add(-24*time.Hour))
	if err != nil || !late.Leaf.NotAfter.Equal(a.Cert.NotAfter) {
		t.Errorf("leaf near the CA's end: %v, %v", late.Leaf.NotAfter, err)
	}
	if _, err := a.Issue(Names{}, t0); err == nil {
		t.Error("a leaf without names was issued")
	}
}

// TestIssuerRenews: the issuer keeps its leaf until two thirds of its life
// have passed (day 60) and renews it then; it renews at once when the
// machine has an address the leaf lacks, and not when an address goes away.
func TestIssuerRenews(t *testing.T) {
	a := mustOpen(t, t.TempDir())
	m := &machine{host: "backoffice"}
	m.set("192.168.1.10/24")
	now := t0
	clock := func() time.Time { return now }
	iss, err := NewIssuer(a, func() Names { return m.Machine().Names(nil, nil) }, clock)
	if err != nil {
		t.Fatal(err)
	}
	first := iss.Current()
	if !slices.Contains(CertNames(first.Leaf), "192.168.1.10") {
		t.Fatalf("first leaf: %v", CertNames(first.Leaf))
	}
	if got := RenewAt(first.Leaf); got.Sub(first.Leaf.NotBefore) != 60*24*time.Hour+40*time.Minute {
		t.Errorf("renewal at %v after the start, want 60 days (two thirds of 90 days and the hour's backdate)", got.Sub(first.Leaf.NotBefore))
	}

	now = t0.Add(59 * 24 * time.Hour)
	if why, err := iss.Refresh(); why != "" || err != nil || iss.Current() != first {
		t.Errorf("day 59: renewed (%q, %v)", why, err)
	}
	now = t0.Add(61 * 24 * time.Hour)
	why, err := iss.Refresh()
	second := iss.Current()
	if err != nil || !strings.Contains(why, "renewal due") || second == first {
		t.Fatalf("day 61: %q, %v", why, err)
	}
	if !second.Leaf.NotAfter.Equal(now.Add(LeafLifetime)) {
		t.Errorf("renewed leaf ends %v", second.Leaf.NotAfter)
	}

	m.set("192.168.1.10/24", "192.168.7.20/24") // the PC joined another network
	why, err = iss.Refresh()
	third := iss.Current()
	if err != nil || !strings.Contains(why, "192.168.7.20") || third == second || !slices.Contains(CertNames(third.Leaf), "192.168.7.20") {
		t.Fatalf("new address: %q, %v, names %v", why, err, CertNames(third.Leaf))
	}
	m.set("192.168.7.20/24") // and left the first one
	if why, err := iss.Refresh(); why != "" || err != nil || iss.Current() != third {
		t.Errorf("an address went away: renewed (%q, %v)", why, err)
	}
}

// TestIssuerSwapsWithoutRestart: a TLS listener on the issuer's config
// hands out the new leaf to the next handshake after a renewal, on the
// same listener, with no restart.
func TestIssuerSwapsWithoutRestart(t *testing.T) {
	a := mustOpen(t, t.TempDir())
	m := &machine{host: "backoffice"}
	m.set("192.168.1.10/24")
	iss, err := NewIssuer(a, func() Names { return m.Machine().Names(nil, nil) }, func() time.Time { return t0 })
	if err != nil {
		t.Fatal(err)
	}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", TLSConfig(iss))
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() { c.(*tls.Conn).Handshake(); c.Close() }()
		}
	}()
	roots := x509.NewCertPool()
	roots.AddCert(a.Cert)
	served := func() *x509.Certificate {
		t.Helper()
		c, err := tls.Dial("tcp", ln.Addr().String(), &tls.Config{RootCAs: roots, ServerName: "backoffice.local",
			Time: func() time.Time { return t0.Add(time.Minute) }})
		if err != nil {
			t.Fatalf("handshake: %v", err)
		}
		defer c.Close()
		return c.ConnectionState().PeerCertificates[0]
	}
	before := served()
	m.set("192.168.1.10/24", "10.1.2.3/8")
	if why, err := iss.Refresh(); why == "" || err != nil {
		t.Fatalf("refresh: %q %v", why, err)
	}
	after := served()
	if before.SerialNumber.Cmp(after.SerialNumber) == 0 || !slices.Contains(CertNames(after), "10.1.2.3") {
		t.Errorf("the listener still serves the old leaf (names %v)", CertNames(after))
	}
}

// TestFileCert: the owner's own files are served as they are and loaded
// again when they change; a half-written renewal keeps the old pair.
func TestFileCert(t *testing.T) {
	dir := t.TempDir()
	own := mustOpen(t, filepath.Join(dir, "ownca"))
	write := func(name string) {
		c, err := own.Issue(Names{DNS: []string{name}}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		kb, _ := x509.MarshalPKCS8PrivateKey(c.PrivateKey)
		os.WriteFile(filepath.Join(dir, "shop.crt"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Certificate[0]}), 0o644)
		os.WriteFile(filepath.Join(dir, "shop.key"), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}), 0o600)
	}
	write("shop.example")
	f, err := LoadFileCert(filepath.Join(dir, "shop.crt"), filepath.Join(dir, "shop.key"))
	if err != nil {
		t.Fatal(err)
	}
	if got := f.Current().Leaf.DNSNames; !slices.Equal(got, []string{"shop.example"}) {
		t.Errorf("served %v", got)
	}
	if why, err := f.Refresh(); why != "" || err != nil {
		t.Errorf("unchanged files reloaded: %q %v", why, err)
	}
	time.Sleep(10 * time.Millisecond) // a new modification time
	write("renewed.example")
	if why, err := f.Refresh(); why == "" || err != nil {
		t.Fatalf("changed files: %q %v", why, err)
	}
	if got := f.Current().Leaf.DNSNames; !slices.Equal(got, []string{"renewed.example"}) {
		t.Errorf("after the change: %v", got)
	}
	os.WriteFile(filepath.Join(dir, "shop.key"), []byte("half written"), 0o600)
	if _, err := f.Refresh(); err == nil {
		t.Error("a broken key file loaded")
	}
	if got := f.Current().Leaf.DNSNames; !slices.Equal(got, []string{"renewed.example"}) {
		t.Errorf("a broken renewal replaced the pair: %v", got)
	}
}
