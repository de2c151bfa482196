package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// TLS is optional: most shop LANs are the shop's own, and plain HTTP keeps
// set-up simple. Where the LAN is shared (a mall's Wi-Fi, a building's
// network), posd serves HTTPS either with a certificate the owner already
// has (--tls-cert/--tls-key) or with a self-signed one it makes once and
// keeps in the data dir (--tls-self-signed); tills then pin its SHA-256
// fingerprint, which posd prints at every start.

// Self-signed certificate files inside the data dir.
const (
	selfCertFile = "tls-cert.pem"
	selfKeyFile  = "tls-key.pem"
)

// tlsOptions are the TLS flags of serve (and init's --tls-self-signed).
type tlsOptions struct {
	cert, key  string
	selfSigned bool
}

// addTLSFlags adds the TLS flags to fs.
func addTLSFlags(fs *flag.FlagSet) *tlsOptions {
	o := &tlsOptions{}
	fs.StringVar(&o.cert, "tls-cert", "", "serve HTTPS with this PEM certificate (needs --tls-key)")
	fs.StringVar(&o.key, "tls-key", "", "PEM private key of --tls-cert")
	fs.BoolVar(&o.selfSigned, "tls-self-signed", false, "serve HTTPS with a self-signed certificate kept in the data dir (made on first use); pin its printed fingerprint on the tills")
	return o
}

func (o *tlsOptions) enabled() bool { return o.cert != "" || o.key != "" || o.selfSigned }

func (o *tlsOptions) check() error {
	switch {
	case o.selfSigned && (o.cert != "" || o.key != ""):
		return usageError{"use either --tls-self-signed or --tls-cert/--tls-key, not both"}
	case (o.cert == "") != (o.key == ""):
		return usageError{"--tls-cert and --tls-key go together"}
	}
	return nil
}

// wrap returns ln serving TLS when asked, and prints the certificate's
// fingerprint for pinning.
func (o *tlsOptions) wrap(ln net.Listener, dir string, stdout io.Writer) (net.Listener, error) {
	if !o.enabled() {
		return ln, nil
	}
	certFile, keyFile := o.cert, o.key
	if o.selfSigned {
		var err error
		if certFile, keyFile, err = ensureSelfSigned(dir); err != nil {
			return nil, err
		}
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("cannot load the TLS certificate: %v", err)
	}
	fmt.Fprintf(stdout, "HTTPS certificate SHA-256 fingerprint (pin it on the tills): %s\n", fingerprint(cert.Certificate[0]))
	return tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}), nil
}

// url turns a till URL printed for plain HTTP into the one that works.
func (o *tlsOptions) url(u string) string {
	if o.enabled() {
		return strings.Replace(u, "http://", "https://", 1)
	}
	return u
}

// fingerprint is the SHA-256 of a DER certificate, as AB:CD:… (the form
// browsers and openssl x509 -fingerprint -sha256 show).
func fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	parts := make([]string, len(sum))
	for i, b := range sum {
		parts[i] = fmt.Sprintf("%02X", b)
	}
	return strings.Join(parts, ":")
}

// ensureSelfSigned makes the data dir's self-signed certificate if it does
// not exist yet, and returns its files. The same certificate is used at
// every start, so the fingerprint pinned on the tills stays valid.
func ensureSelfSigned(dir string) (certFile, keyFile string, err error) {
	certFile, keyFile = filepath.Join(dir, selfCertFile), filepath.Join(dir, selfKeyFile)
	if _, err := os.Stat(certFile); err == nil {
		return certFile, keyFile, nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", "", err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", "", err
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return "", "", err
	}
	serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	host, _ := os.Hostname()
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: "posd " + host, Organization: []string{"posd"}},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().AddDate(20, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		DNSNames:     []string{"localhost"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	if host != "" {
		tmpl.DNSNames = append(tmpl.DNSNames, host)
	}
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok && !ipn.IP.IsLoopback() && !ipn.IP.IsLinkLocalUnicast() {
				tmpl.IPAddresses = append(tmpl.IPAddresses, ipn.IP)
			}
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return "", "", err
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		return "", "", err
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		return "", "", err
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return "", "", err
	}
	return certFile, keyFile, nil
}

// printSelfSigned makes the self-signed certificate at init and prints its
// fingerprint, so the owner can set the tills up before the first serve.
func printSelfSigned(dir string, stdout io.Writer) error {
	certFile, keyFile, err := ensureSelfSigned(dir)
	if err != nil {
		return err
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "HTTPS certificate SHA-256 fingerprint (pin it on the tills): %s\n", fingerprint(cert.Certificate[0]))
	return nil
}
