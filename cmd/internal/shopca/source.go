package shopca

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Source is where a TLS listener's certificate comes from: the shop CA's
// leaves (Issuer) or the owner's own files (FileCert). The listener asks
// for the current certificate at every handshake; Refresh replaces it.
type Source interface {
	// GetCertificate is tls.Config.GetCertificate.
	GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error)
	// Current is the certificate handshakes get now.
	Current() *tls.Certificate
	// Refresh replaces the certificate when it is due, and says why it
	// did ("" when it did not). On an error the current one stays.
	Refresh() (string, error)
}

// TLSConfig is the configuration of a listener serving src's certificate.
func TLSConfig(src Source) *tls.Config {
	return &tls.Config{GetCertificate: src.GetCertificate, MinVersion: tls.VersionTLS12}
}

// Run refreshes src every interval until ctx ends, reporting each
// replacement and each failure to report.
func Run(ctx context.Context, src Source, every time.Duration, report func(why string, err error)) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if why, err := src.Refresh(); why != "" || err != nil {
			report(why, err)
		}
	}
}

// Issuer serves leaves of the shop CA and replaces them when two thirds of
// their life have passed or the names they must carry are no longer all on
// them (the machine got a new address).
type Issuer struct {
	ca    *Authority
	names func() Names
	now   func() time.Time
	mu    sync.Mutex // one Refresh at a time
	cur   atomic.Pointer[tls.Certificate]
}

// NewIssuer issues a first leaf for names() and returns the issuer. names
// is asked again at every Refresh, so it should be cheap (a look at the
// machine's interfaces is). now is the clock (nil: time.Now).
func NewIssuer(ca *Authority, names func() Names, now func() time.Time) (*Issuer, error) {
	if now == nil {
		now = time.Now
	}
	i := &Issuer{ca: ca, names: names, now: now}
	if _, err := i.Refresh(); err != nil {
		return nil, err
	}
	return i, nil
}

// GetCertificate implements Source.
func (i *Issuer) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return i.cur.Load(), nil
}

// Current implements Source.
func (i *Issuer) Current() *tls.Certificate { return i.cur.Load() }

// Refresh implements Source.
func (i *Issuer) Refresh() (string, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	now := i.now()
	need := i.names().normal()
	why := ""
	cur := i.cur.Load()
	switch {
	case cur == nil:
		why = "first certificate"
	case !now.Before(RenewAt(cur.Leaf)):
		why = fmt.Sprintf("renewal due (the certificate ends %s)", cur.Leaf.NotAfter.UTC().Format(time.DateOnly))
	default:
		if missing := need.MissingFrom(cur.Leaf); len(missing) > 0 {
			why = "new name or address: " + strings.Join(missing, ", ")
		}
	}
	if why == "" {
		return "", nil
	}
	c, err := i.ca.Issue(need, now)
	if err != nil {
		return "", err
	}
	i.cur.Store(c)
	return why, nil
}

// FileCert serves the owner's own certificate and key files, and loads
// them again when either file changes (a renewal by certbot or by hand),
// without a restart.
type FileCert struct {
	certFile, keyFile string
	mu                sync.Mutex
	stamp             string
	cur               atomic.Pointer[tls.Certificate]
}

// LoadFileCert loads a PEM certificate (chain) and its key.
func LoadFileCert(certFile, keyFile string) (*FileCert, error) {
	f := &FileCert{certFile: certFile, keyFile: keyFile}
	if _, err := f.Refresh(); err != nil {
		return nil, err
	}
	return f, nil
}

// GetCertificate implements Source.
func (f *FileCert) GetCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return f.cur.Load(), nil
}

// Current implements Source.
func (f *FileCert) Current() *tls.Certificate { return f.cur.Load() }

// Refresh implements Source.
func (f *FileCert) Refresh() (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	stamp, err := fileStamp(f.certFile, f.keyFile)
	if err != nil {
		return "", fmt.Errorf("shopca: the certificate files: %v", err)
	}
	if stamp == f.stamp {
		return "", nil
	}
	c, err := tls.LoadX509KeyPair(f.certFile, f.keyFile)
	if err != nil {
		// A renewal written one file at a time is half done for a moment:
		// keep serving the old pair and look again at the next Refresh.
		return "", fmt.Errorf("shopca: cannot load the TLS certificate: %v", err)
	}
	if c.Leaf == nil {
		return "", errors.New("shopca: the certificate file holds no certificate")
	}
	first := f.stamp == ""
	f.stamp = stamp
	f.cur.Store(&c)
	if first {
		return "loaded " + f.certFile, nil
	}
	return "the certificate files changed", nil
}

func fileStamp(paths ...string) (string, error) {
	var b strings.Builder
	for _, p := range paths {
		st, err := os.Stat(p)
		if err != nil {
			return "", err
		}
		fmt.Fprintf(&b, "%s %d %d;", p, st.Size(), st.ModTime().UnixNano())
	}
	return b.String(), nil
}
