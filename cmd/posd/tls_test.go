package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"posd/api"
	"posd/api/client"
	"posd/cmd/internal/posdproc"
	"posd/cmd/internal/shopca"
	"posd/engine"
)

// httpsServer is a running posd serve with an HTTPS listener.
type httpsServer struct {
	proc        *posdproc.Process
	plain, tls  string // host:port of the HTTP and HTTPS listeners ("" when absent)
	lines       []string
	token       string
	fingerprint string // the one printed
}

var fpRE = regexp.MustCompile(`fingerprint: ([0-9A-F:]{95})`)

// startHTTPS runs posd serve with args on dir; plain and secure are the
// addresses given to --listen and --tls-listen ("" leaves a flag out). It
// returns once posd printed its addresses and answers.
func startHTTPS(t *testing.T, dir, plain, secure string, args ...string) *httpsServer {
	t.Helper()
	argv := posdproc.ServeArgs(dir, plain)
	if secure != "" {
		argv = append(argv, "--tls-listen", secure)
	} else {
		plain, secure = "", plain // HTTPS on --listen itself
	}
	health := "https://" + secure + "/api/health"
	if plain != "" {
		health = "http://" + plain + "/api/health"
	}
	s := &httpsServer{plain: plain, tls: secure}
	// The fingerprint is the last line posd prints about HTTPS.
	s.proc, s.lines = startPrinting(t, posdproc.Options{Bin: posdBin, Args: append(argv, args...), Health: health, Poll: 20 * time.Millisecond},
		func(line string) bool { return fpRE.MatchString(line) })
	for _, l := range s.lines {
		if m := tokenRE.FindString(l); m != "" {
			s.token = m
		}
		if m := fpRE.FindStringSubmatch(l); m != nil {
			s.fingerprint = m[1]
		}
	}
	if err := s.proc.WaitHealthy(10 * time.Second); err != nil {
		t.Fatalf("posd did not answer: %v", err)
	}
	return s
}

func (s *httpsServer) stop(t *testing.T) {
	t.Helper()
	if err := s.proc.Stop(10 * time.Second); err != nil {
		t.Fatalf("stop: %v", err)
	}
}

// trusting is a client that trusts exactly the CA certificates given, as a
// till does once the shop CA is installed, and speaks HTTP/2 as browsers
// do. serverName "" checks the name in the URL.
func trusting(serverName string, cas ...*x509.Certificate) *http.Client {
	pool := x509.NewCertPool()
	for _, c := range cas {
		pool.AddCert(c)
	}
	return &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{ForceAttemptHTTP2: true,
		TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: serverName}}}
}

func fetch(t *testing.T, c *http.Client, url string) (*http.Response, []byte) {
	t.Helper()
	res, err := c.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res, b
}

func setupOf(t *testing.T, c *http.Client, url string) api.Setup {
	t.Helper()
	res, b := fetch(t, c, url+"/api/setup")
	var s api.Setup
	if res.StatusCode != 200 || json.Unmarshal(b, &s) != nil {
		t.Fatalf("setup: %d %s", res.StatusCode, b)
	}
	return s
}

func servedLeaf(t *testing.T, addr, serverName string) *x509.Certificate {
	t.Helper()
	c, err := tls.Dial("tcp", addr, &tls.Config{InsecureSkipVerify: true, ServerName: serverName})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates[0]
}

// TestHTTPSFromShopCA: serve --tls-listen serves HTTPS beside HTTP with a
// leaf from the data dir's shop CA: /ca.crt (no token) is the same
// certificate on both listeners and what posd printed; a client trusting
// it reaches posd by every name on the leaf over HTTP/2, one that does not
// is refused; tokens and sales are the same on both listeners; the CA key
// is private; a restart keeps the same CA and a new leaf still verifies.
func TestHTTPSFromShopCA(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	s := startHTTPS(t, dir, freePort(t), freePort(t), "--tls-name", "shop.test")
	out := strings.Join(s.lines, "\n")
	_, tlsPort, _ := net.SplitHostPort(s.tls)
	_, plainPort, _ := net.SplitHostPort(s.plain)
	for _, want := range []string{
		"Till: http://" + s.plain + "/till/",
		"Till: https://shop.test:" + tlsPort + "/till/",
		"Till: https://" + s.tls + "/till/",
		"Set up a till for HTTPS (once per device): http://shop.test:" + plainPort + "/till/setup.html",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("serve did not print %q:\n%s", want, out)
		}
	}

	res, der := fetch(t, http.DefaultClient, "http://"+s.plain+"/ca.crt")
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "application/x-x509-ca-cert" {
		t.Fatalf("/ca.crt over HTTP: %d %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	ca, err := x509.ParseCertificate(der)
	if err != nil || !ca.IsCA {
		t.Fatalf("/ca.crt is not a CA certificate: %v", err)
	}
	if fp := shopca.Fingerprint(der); fp != s.fingerprint {
		t.Errorf("/ca.crt has fingerprint %s, posd printed %s", fp, s.fingerprint)
	}
	if file, _ := os.ReadFile(filepath.Join(dir, shopca.CertFile)); !bytes.Contains(file, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})) {
		t.Error("/ca.crt is not the data dir's ca.crt")
	}
	if runtime.GOOS != "windows" {
		if st, err := os.Stat(filepath.Join(dir, shopca.KeyFile)); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("CA key: %v, mode %v", err, st.Mode().Perm())
		}
	}

	// By each name a till may use: the extra name, localhost, the address.
	for _, name := range []string{"shop.test", "localhost", "127.0.0.1"} {
		c := trusting(name, ca)
		res, b := fetch(t, c, "https://"+s.tls+"/ca.crt")
		if res.StatusCode != 200 || !bytes.Equal(b, der) {
			t.Errorf("/ca.crt over HTTPS as %s: %d, same certificate %v", name, res.StatusCode, bytes.Equal(b, der))
		}
		if res.ProtoMajor != 2 {
			t.Errorf("HTTPS as %s spoke HTTP/%d.%d, want HTTP/2", name, res.ProtoMajor, res.ProtoMinor)
		}
	}
	for name, c := range map[string]*http.Client{
		"a client without the shop CA":   trusting("shop.test"),
		"a name the leaf does not carry": trusting("evil.example", ca),
	} {
		if _, err := c.Get("https://" + s.tls + "/api/health"); err == nil {
			t.Errorf("%s got through", name)
		}
	}
	if res, err := http.Get("http://" + s.tls + "/api/health"); err == nil {
		if res.StatusCode == 200 {
			t.Error("plain HTTP answered 200 on the HTTPS port")
		}
		res.Body.Close()
	}
	leaf := servedLeaf(t, s.tls, "shop.test")
	if d := time.Until(leaf.NotAfter); d > shopca.LeafLifetime || d < shopca.LeafLifetime-time.Hour {
		t.Errorf("leaf ends in %v, want %v", d, shopca.LeafLifetime)
	}
	names := shopca.CertNames(leaf)
	if host, _ := os.Hostname(); host != "" && !slices.Contains(names, strings.ToLower(host)) {
		t.Errorf("leaf names %v lack the host name %s", names, host)
	}

	// /api/setup, the seam of the setup page and the office: same on both.
	st := setupOf(t, http.DefaultClient, "http://"+s.plain)
	if !st.HTTPS || st.HTTPSPort == nil || net.JoinHostPort("127.0.0.1", strconv.Itoa(*st.HTTPSPort)) != s.tls || st.OwnCertificate ||
		st.CAFingerprint == nil || *st.CAFingerprint != s.fingerprint || st.CAURL == nil || *st.CAURL != "/ca.crt" ||
		st.CAName == nil || !strings.HasPrefix(*st.CAName, "posd shop CA") || st.CAFingerprintSHA1 == nil || len(*st.CAFingerprintSHA1) != 59 {
		t.Errorf("setup: %+v", st)
	}
	if !slices.Equal(st.Names, names) || len(st.HTTPSURLs) == 0 || st.HTTPSURLs[0] != "https://shop.test:"+tlsPort+"/till/" {
		t.Errorf("setup names %v (leaf %v), URLs %v", st.Names, names, st.HTTPSURLs)
	}
	if st2 := setupOf(t, trusting("shop.test", ca), "https://"+s.tls); *st2.CAFingerprint != s.fingerprint || len(st2.SetupURLs) == 0 {
		t.Errorf("setup over HTTPS: %+v", st2)
	}

	// One posd behind both: a sale made over HTTPS is read over HTTP.
	ctx := context.Background()
	sec := client.New("https://"+s.tls, s.token)
	sec.HTTP = trusting("localhost", ca)
	locs, err := sec.Locations(ctx)
	if err != nil {
		t.Fatal(err)
	}
	p, err := sec.CreateProduct(ctx, "", client.ProductRequest{SKU: "A", Name: "A", Price: 100})
	if err != nil {
		t.Fatal(err)
	}
	sale, err := sec.CreateSale(ctx, "", client.SaleRequest{LocationID: locs[0].ID, Items: []client.SaleLine{{ProductID: p.ID, Quantity: engine.Q(1)}}, Payments: []engine.Payment{{Method: "cash", Amount: 100}}})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := client.New("http://"+s.plain, s.token).Sale(ctx, sale.ID); err != nil || got.InvoiceNumber != sale.InvoiceNumber {
		t.Errorf("the sale over HTTP: %v %v", got, err)
	}

	// A restart keeps the CA: the tills' trust survives it.
	s.stop(t)
	s2 := startHTTPS(t, dir, s.plain, s.tls, "--tls-name", "shop.test")
	if s2.fingerprint != s.fingerprint {
		t.Fatalf("restart printed CA %s, before %s", s2.fingerprint, s.fingerprint)
	}
	leaf2 := servedLeaf(t, s2.tls, "shop.test")
	if leaf2.SerialNumber.Cmp(leaf.SerialNumber) == 0 {
		t.Error("the restart served the old leaf (leaves are issued at every start, never stored)")
	}
	if res, _ := fetch(t, trusting("shop.test", ca), "https://"+s2.tls+"/api/health"); res.StatusCode != 200 {
		t.Errorf("after the restart: %d", res.StatusCode)
	}
}

// ownCert writes a certificate for localhost from another CA (the owner's
// own, say from the shop's IT) and returns its files and that CA.
func ownCert(t *testing.T) (certFile, keyFile string, own *x509.Certificate) {
	t.Helper()
	dir := t.TempDir()
	ca, _, err := shopca.Open(filepath.Join(dir, "itca"), "Shop IT CA", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	c, err := ca.Issue(shopca.Names{DNS: []string{"localhost"}}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalPKCS8PrivateKey(c.PrivateKey)
	certFile, keyFile = filepath.Join(dir, "shop.crt"), filepath.Join(dir, "shop.key")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: c.Certificate[0]}), 0o644)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}), 0o600)
	return certFile, keyFile, ca.Cert
}

// TestHTTPSOwnCertificate: --tls-cert/--tls-key replace the shop CA's leaf
// on the HTTPS listener; /api/setup then says there is nothing to install;
// the older form, HTTPS on --listen itself, still works; the flags that do
// not go together are refused in one line.
func TestHTTPSOwnCertificate(t *testing.T) {
	certFile, keyFile, itCA := ownCert(t)
	dir := filepath.Join(t.TempDir(), "data")
	s := startHTTPS(t, dir, freePort(t), freePort(t), "--tls-cert", certFile, "--tls-key", keyFile)
	leaf := servedLeaf(t, s.tls, "localhost")
	if shopca.Fingerprint(leaf.Raw) != s.fingerprint || leaf.Issuer.CommonName != "Shop IT CA" {
		t.Errorf("served %q from %q, printed %s", leaf.Subject.CommonName, leaf.Issuer.CommonName, s.fingerprint)
	}
	if res, _ := fetch(t, trusting("localhost", itCA), "https://"+s.tls+"/api/health"); res.StatusCode != 200 {
		t.Errorf("own certificate: %d", res.StatusCode)
	}
	st := setupOf(t, http.DefaultClient, "http://"+s.plain)
	if !st.HTTPS || !st.OwnCertificate || st.CAFingerprint != nil || st.CAURL != nil || !slices.Equal(st.Names, []string{"localhost"}) {
		t.Errorf("setup with the owner's certificate: %+v", st)
	}
	s.stop(t)

	old := startHTTPS(t, dir, freePort(t), "", "--tls-cert", certFile, "--tls-key", keyFile)
	if res, _ := fetch(t, trusting("localhost", itCA), "https://"+old.tls+"/api/health"); res.StatusCode != 200 {
		t.Errorf("HTTPS on --listen: %d", res.StatusCode)
	}
	for _, line := range old.lines {
		if strings.HasPrefix(line, "Till: http://") {
			t.Errorf("HTTPS on --listen printed a plain URL: %q", line)
		}
	}
	old.stop(t)

	for _, args := range [][]string{
		{"--tls-cert", certFile},
		{"--tls-listen", freePort(t), "--tls-cert", certFile, "--tls-key", keyFile, "--tls-name", "shop.test"},
		{"--tls-listen", freePort(t), "--tls-name", "not a name"},
		{"--tls-name", "shop.test"},
		{"--tls-listen", freePort(t), "--tls-self-signed"},
	} {
		_, errOut, code := posd(t, append([]string{"serve", "--data-dir", dir, "--listen", freePort(t)}, args...)...)
		if code != 2 || strings.Count(strings.TrimSpace(errOut), "\n") != 0 || !strings.Contains(errOut, "--tls-") {
			t.Errorf("%v: exit %d %q", args, code, errOut)
		}
	}
}

// TestHTTPSSelfSignedDeprecated: the older --tls-self-signed now serves
// HTTPS on --listen from the shop CA (with a warning), and init
// --tls-self-signed makes that CA and prints its fingerprint.
func TestHTTPSSelfSignedDeprecated(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	out, errOut, code := posd(t, "init", "--data-dir", dir, "--tls-self-signed")
	m := fpRE.FindStringSubmatch(out)
	if code != 0 || m == nil {
		t.Fatalf("init --tls-self-signed: %d %q %q", code, out, errOut)
	}
	s := startHTTPS(t, dir, freePort(t), "", "--tls-self-signed")
	if s.fingerprint != m[1] {
		t.Errorf("serve printed CA %s, init printed %s", s.fingerprint, m[1])
	}
	ca, err := shopca.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	if res, _ := fetch(t, trusting("localhost", ca.Cert), "https://"+s.tls+"/api/health"); res.StatusCode != 200 {
		t.Errorf("--tls-self-signed: %d", res.StatusCode)
	}
	s.stop(t)
	if !strings.Contains(s.proc.Stderr(), "deprecated") {
		t.Errorf("no deprecation warning: %q", s.proc.Stderr())
	}
}

// TestPlainServeHasNoHTTPS: without the flags posd serves HTTP only, as
// before, and makes no CA until /ca.crt is asked for.
func TestPlainServeHasNoHTTPS(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	s := startServe(t, dir)
	if _, err := os.Stat(filepath.Join(dir, shopca.KeyFile)); err == nil {
		t.Error("a plain serve made a CA at start")
	}
	st := setupOf(t, http.DefaultClient, "http://"+s.addr)
	if st.HTTPS || st.HTTPSPort != nil || st.CAFingerprint != nil || len(st.HTTPSURLs) != 0 {
		t.Errorf("setup of a plain serve: %+v", st)
	}
	res, der := fetch(t, http.DefaultClient, "http://"+s.addr+"/ca.crt")
	if c, err := x509.ParseCertificate(der); res.StatusCode != 200 || err != nil || !c.IsCA {
		t.Errorf("/ca.crt on a plain serve: %d %v", res.StatusCode, err)
	}
}

// TestServiceRunHTTPS: posd service run passes --tls-listen and --tls-name
// on to serve (what an installed service starts), and install refuses a
// bad name before it touches the system.
func TestServiceRunHTTPS(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "svc")
	plain, secure := freePort(t), freePort(t)
	proc, err := posdproc.Start(posdproc.Options{Bin: posdBin, Args: []string{"service", "run", "--data-dir", dir, "--listen", plain, "--tls-listen", secure, "--tls-name", "shop.test"}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(proc.Kill)
	var ca *shopca.Authority
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if a, err := shopca.Load(dir); err == nil {
			if res, err := trusting("shop.test", a.Cert).Get("https://" + secure + "/api/health"); err == nil {
				res.Body.Close()
				ca = a
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("service run did not serve HTTPS for shop.test")
		}
	}
	if st := setupOf(t, http.DefaultClient, "http://"+plain); *st.CAFingerprint != ca.Fingerprint() {
		t.Errorf("setup: %+v", st)
	}
	for _, args := range [][]string{{"--tls-name", "bad name"}, {"--tls-listen=", "--tls-name", "shop.test"}} {
		_, errOut, code := posd(t, append([]string{"service", "install", "--data-dir", t.TempDir()}, args...)...)
		if code != 2 || !strings.Contains(errOut, "--tls-") {
			t.Errorf("service install %v: %d %q", args, code, errOut)
		}
	}
}
