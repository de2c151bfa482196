package shopca

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"net"
	"regexp"
	"slices"
	"strings"
	"time"
)

// LeafLifetime is how long a leaf certificate is valid. Short, so that a
// leaked leaf key is worth little; posd renews it itself at two thirds
// (RenewAt), so no till ever sees one expire. Well within every browser's
// limit for certificates from a locally trusted CA (Apple's 825 days is the
// strictest; Chrome's 398 days applies to public CAs only).
const LeafLifetime = 90 * 24 * time.Hour

// backdate is how far a certificate's validity starts before its issue,
// for tills whose clocks run a little behind the back office's.
const backdate = time.Hour

// Names are the host names and addresses a leaf certificate carries.
type Names struct {
	DNS []string
	IPs []net.IP
}

// dnsName is what may go into a DNS subjectAltName: letters, digits,
// hyphens (and the underscores some Windows machine names have), dotted,
// optionally under one leading wildcard label.
var dnsName = regexp.MustCompile(`^(\*\.)?([a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*$`)

// ValidName reports whether s can be named on a certificate: an IP address
// or a DNS name.
func ValidName(s string) bool {
	return net.ParseIP(s) != nil || (len(s) <= 253 && dnsName.MatchString(strings.ToLower(s)))
}

// Add adds a name: an IP address goes to IPs, anything else that is a
// valid DNS name to DNS (lower-cased); the rest is ignored.
func (n *Names) Add(names ...string) {
	for _, s := range names {
		s = strings.TrimSuffix(strings.TrimSpace(s), ".")
		if ip := net.ParseIP(strings.Trim(s, "[]")); ip != nil {
			n.IPs = append(n.IPs, ip)
		} else if ValidName(s) {
			n.DNS = append(n.DNS, strings.ToLower(s))
		}
	}
}

// normal returns n sorted and without duplicates.
func (n Names) normal() Names {
	dns := slices.Clone(n.DNS)
	slices.Sort(dns)
	ips := make([]net.IP, 0, len(n.IPs))
	for _, ip := range n.IPs {
		if v4 := ip.To4(); v4 != nil {
			ip = v4
		}
		ips = append(ips, ip)
	}
	slices.SortFunc(ips, func(a, b net.IP) int {
		if len(a) != len(b) {
			return len(a) - len(b)
		}
		return bytes.Compare(a, b)
	})
	return Names{DNS: slices.Compact(dns), IPs: slices.CompactFunc(ips, net.IP.Equal)}
}

// Strings lists n's names, DNS names first.
func (n Names) Strings() []string {
	out := slices.Clone(n.DNS)
	for _, ip := range n.IPs {
		out = append(out, ip.String())
	}
	return out
}

// MissingFrom lists the names of n that c does not carry.
func (n Names) MissingFrom(c *x509.Certificate) []string {
	var out []string
	for _, d := range n.DNS {
		if !slices.Contains(c.DNSNames, d) {
			out = append(out, d)
		}
	}
	for _, ip := range n.IPs {
		if !slices.ContainsFunc(c.IPAddresses, ip.Equal) {
			out = append(out, ip.String())
		}
	}
	return out
}

// CertNames lists the names and addresses c carries.
func CertNames(c *x509.Certificate) []string {
	return Names{DNS: c.DNSNames, IPs: c.IPAddresses}.Strings()
}

// Issue makes a new leaf certificate for names, with a fresh key, valid
// from now for LeafLifetime (never past the CA's own end).
func (a *Authority) Issue(names Names, now time.Time) (*tls.Certificate, error) {
	if len(names.DNS)+len(names.IPs) == 0 {
		return nil, errors.New("shopca: a certificate needs at least one name")
	}
	// Clients match only the subjectAltName; the common name, the first
	// name given, is for people reading the certificate.
	cn := ""
	if len(names.DNS) > 0 {
		cn = names.DNS[0]
	} else {
		cn = names.IPs[0].String()
	}
	names = names.normal()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	serial, err := newSerial()
	if err != nil {
		return nil, err
	}
	notAfter := now.Add(LeafLifetime)
	if notAfter.After(a.Cert.NotAfter) {
		notAfter = a.Cert.NotAfter
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: truncate(cn, 64), Organization: []string{"posd"}},
		NotBefore:             now.Add(-backdate),
		NotAfter:              notAfter,
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		DNSNames:              names.DNS,
		IPAddresses:           names.IPs,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, a.Cert, &key.PublicKey, a.key)
	if err != nil {
		return nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	return &tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, nil
}

// RenewAt is when a certificate is due for renewal: two thirds into its
// validity (60 days for a 90-day leaf), a month before it ends.
func RenewAt(c *x509.Certificate) time.Time {
	return c.NotBefore.Add(c.NotAfter.Sub(c.NotBefore) * 2 / 3)
}
