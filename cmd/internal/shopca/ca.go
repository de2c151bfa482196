package shopca

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
	"unicode/utf8"
)

// Files of the shop CA inside the data directory.
const (
	// CertFile is the CA's certificate, PEM; public (it is what /ca.crt
	// serves).
	CertFile = "ca.crt"
	// KeyFile is the CA's private key, PKCS #8 PEM, mode 0600 (on Windows:
	// an access list of SYSTEM, Administrators and the file's owner).
	KeyFile = "ca.key"
)

// CAYears is the CA certificate's lifetime. Long, because every till trusts
// it by hand; its key never leaves the data directory.
const CAYears = 10

// ErrNoCA means the data directory holds no shop CA yet.
var ErrNoCA = errors.New("shopca: no certificate authority in the data directory")

// Authority is the shop's CA: its certificate and its key.
type Authority struct {
	// Cert is the CA certificate; Cert.Raw is its DER.
	Cert *x509.Certificate
	key  crypto.Signer
}

// Open loads the CA kept in dir, or makes one named name (the common name
// owners see in their certificate stores, e.g. "posd shop CA — backoffice")
// when dir has none. created reports a new CA. The caller must be the only
// posd on dir (posd holds the database's lock while it runs).
func Open(dir, name string, now time.Time) (a *Authority, created bool, err error) {
	a, err = Load(dir)
	if !errors.Is(err, ErrNoCA) {
		return a, false, err
	}
	if a, err = create(dir, name, now); err != nil {
		return nil, false, err
	}
	return a, true, nil
}

// Load loads the CA kept in dir; ErrNoCA when there is none. A key file
// that others may read is made private again.
func Load(dir string) (*Authority, error) {
	certPath, keyPath := filepath.Join(dir, CertFile), filepath.Join(dir, KeyFile)
	cb, err := os.ReadFile(certPath)
	if errors.Is(err, fs.ErrNotExist) {
		// A key without a certificate is what a crash between the two
		// renames of create leaves: nobody can trust that key yet.
		return nil, ErrNoCA
	}
	if err != nil {
		return nil, fmt.Errorf("shopca: cannot read %s: %v", certPath, err)
	}
	cert, err := parseCert(cb)
	if err != nil {
		return nil, fmt.Errorf("shopca: %s: %v (move it away and posd makes a new CA, which every till must then trust)", certPath, err)
	}
	kb, err := os.ReadFile(keyPath)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("shopca: the shop CA's key %s is missing: put it back, or move %s away and posd makes a new CA (every till must then trust the new one)", keyPath, certPath)
	}
	if err != nil {
		return nil, fmt.Errorf("shopca: cannot read %s: %v", keyPath, err)
	}
	key, err := parseKey(kb)
	if err != nil {
		return nil, fmt.Errorf("shopca: %s: %v", keyPath, err)
	}
	if !publicKeyMatches(cert, key) {
		return nil, fmt.Errorf("shopca: %s is not the key of %s", keyPath, certPath)
	}
	if err := tighten(keyPath); err != nil {
		return nil, fmt.Errorf("shopca: cannot make %s private: %v", keyPath, err)
	}
	return &Authority{Cert: cert, key: key}, nil
}

func parseCert(b []byte) (*x509.Certificate, error) {
	blk, _ := pem.Decode(b)
	if blk == nil || blk.Type != "CERTIFICATE" {
		return nil, errors.New("not a PEM certificate")
	}
	c, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		return nil, err
	}
	if !c.IsCA || c.KeyUsage&x509.KeyUsageCertSign == 0 {
		return nil, errors.New("not a CA certificate")
	}
	return c, nil
}

func parseKey(b []byte) (crypto.Signer, error) {
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, errors.New("not a PEM key")
	}
	var k any
	var err error
	switch blk.Type {
	case "PRIVATE KEY":
		k, err = x509.ParsePKCS8PrivateKey(blk.Bytes)
	case "EC PRIVATE KEY":
		k, err = x509.ParseECPrivateKey(blk.Bytes)
	default:
		return nil, fmt.Errorf("PEM block %q is not a private key", blk.Type)
	}
	if err != nil {
		return nil, err
	}
	s, ok := k.(crypto.Signer)
	if !ok {
		return nil, errors.New("the key cannot sign")
	}
	return s, nil
}

func publicKeyMatches(c *x509.Certificate, k crypto.Signer) bool {
	pub, ok := c.PublicKey.(interface{ Equal(crypto.PublicKey) bool })
	return ok && pub.Equal(k.Public())
}

// create makes a new CA in dir. The key is written (privately) before the
// certificate, each to a temporary file renamed into place, so that a crash
// leaves either no certificate (and Load makes a new CA) or both files.
func create(dir, name string, now time.Time) (*Authority, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("shopca: cannot create %s: %v", dir, err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	serial, err := newSerial()
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: truncate(name, 64), Organization: []string{"posd"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(CAYears, 0, 0),
		IsCA:                  true,
		BasicConstraintsValid: true,
		// Only leaves below it: a leaked leaf key cannot sign anything.
		MaxPathLen:     0,
		MaxPathLenZero: true,
		KeyUsage:       x509.KeyUsageCertSign | x509.KeyUsageCRLSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	kb, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	if err := writeFile(filepath.Join(dir, KeyFile), pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kb}), true); err != nil {
		return nil, err
	}
	if err := writeFile(filepath.Join(dir, CertFile), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), false); err != nil {
		return nil, err
	}
	return &Authority{Cert: cert, key: key}, nil
}

// writeFile writes data to path through a temporary file in the same
// directory, synced before it is renamed into place. A private file is
// restricted before the first byte is written.
func writeFile(path string, data []byte, private bool) error {
	f, err := os.CreateTemp(filepath.Dir(path), filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("shopca: %v", err)
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if private {
		if err := restrict(tmp); err != nil {
			return fmt.Errorf("shopca: cannot make %s private: %v", tmp, err)
		}
	} else if err := f.Chmod(0o644); err != nil && runtime.GOOS != "windows" {
		return fmt.Errorf("shopca: %v", err)
	}
	if _, err := f.Write(data); err != nil {
		return fmt.Errorf("shopca: cannot write %s: %v", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("shopca: cannot write %s: %v", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("shopca: cannot write %s: %v", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("shopca: %v", err)
	}
	ok = true
	syncDir(filepath.Dir(path))
	return nil
}

// syncDir makes a rename durable where the system allows it (not on
// Windows, where a directory cannot be opened for syncing).
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

func newSerial() (*big.Int, error) {
	return rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
}

// truncate keeps s within n characters (X.509 bounds a common name at 64).
func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

// DER is the CA certificate in DER, the form /ca.crt serves.
func (a *Authority) DER() []byte { return a.Cert.Raw }

// PEM is the CA certificate in PEM.
func (a *Authority) PEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: a.Cert.Raw})
}

// Name is the CA's common name, as certificate stores list it.
func (a *Authority) Name() string { return a.Cert.Subject.CommonName }

// Fingerprint is the SHA-256 of the CA certificate.
func (a *Authority) Fingerprint() string { return Fingerprint(a.Cert.Raw) }

// FingerprintSHA1 is the SHA-1 of the CA certificate: the only "thumbprint"
// Windows' certificate dialog shows.
func (a *Authority) FingerprintSHA1() string {
	sum := sha1.Sum(a.Cert.Raw)
	return colonHex(sum[:])
}

// Fingerprint is the SHA-256 of a DER certificate as AB:CD:… (the form
// browsers, Keychain Access and openssl x509 -fingerprint -sha256 show).
func Fingerprint(der []byte) string {
	sum := sha256.Sum256(der)
	return colonHex(sum[:])
}

func colonHex(b []byte) string {
	parts := make([]string, len(b))
	for i, x := range b {
		parts[i] = fmt.Sprintf("%02X", x)
	}
	return strings.Join(parts, ":")
}
