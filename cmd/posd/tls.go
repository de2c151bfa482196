package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"posd/api"
	"posd/cmd/internal/shopca"
)

// HTTPS is what makes a till on the LAN a secure context: browsers give a
// page on a plain-HTTP LAN address no service worker, so a till whose tab
// reloads while posd is down cannot open. With --tls-listen posd serves
// HTTPS beside HTTP, with a certificate from the shop's own CA (see
// cmd/internal/shopca), which each till trusts once through the setup page
// (/till/setup.html); HTTP stays, for tills not set up yet and for the
// setup page itself. --tls-cert/--tls-key put the owner's own certificate
// in the shop CA's place.

// certCheckEvery is how often posd looks whether the HTTPS certificate is
// due: renewal time, a new address of the machine, new files of the
// owner's certificate. A look is a few system calls.
const certCheckEvery = time.Minute

// tlsOptions are serve's HTTPS flags.
type tlsOptions struct {
	listen     string
	names      []string
	cert, key  string
	selfSigned bool
}

// addTLSFlags adds the HTTPS flags to fs.
func addTLSFlags(fs *flag.FlagSet) *tlsOptions {
	o := &tlsOptions{}
	fs.StringVar(&o.listen, "tls-listen", "", "also serve HTTPS on this address, e.g. :8443, with a certificate from the shop's own CA (kept in the data dir); tills trust it once via /till/setup.html")
	fs.Func("tls-name", "another host name or address the HTTPS certificate must carry, e.g. the shop LAN's DNS name for this PC (repeat, or separate with commas)", func(s string) error {
		for _, n := range strings.Split(s, ",") {
			if n = strings.TrimSpace(n); n != "" {
				o.names = append(o.names, n)
			}
		}
		return nil
	})
	fs.StringVar(&o.cert, "tls-cert", "", "serve HTTPS with your own PEM certificate instead of the shop CA's (needs --tls-key; reloaded when the files change)")
	fs.StringVar(&o.key, "tls-key", "", "PEM private key of --tls-cert")
	fs.BoolVar(&o.selfSigned, "tls-self-signed", false, "deprecated: serve HTTPS on --listen itself, from the shop CA; use --tls-listen, which keeps HTTP for the tills not set up yet")
	return o
}

func (o *tlsOptions) check() error {
	switch {
	case (o.cert == "") != (o.key == ""):
		return usageError{"--tls-cert and --tls-key go together"}
	case o.selfSigned && o.cert != "":
		return usageError{"use either --tls-self-signed or --tls-cert/--tls-key, not both"}
	case o.selfSigned && o.listen != "":
		return usageError{"--tls-self-signed is replaced by --tls-listen: use --tls-listen alone"}
	case len(o.names) > 0 && o.cert != "":
		return usageError{"--tls-name names the shop CA's certificate; your own certificate (--tls-cert) carries its own names"}
	case len(o.names) > 0 && o.listen == "" && !o.selfSigned:
		return usageError{"--tls-name needs --tls-listen"}
	}
	for _, n := range o.names {
		if !shopca.ValidName(n) {
			return usageError{fmt.Sprintf("--tls-name %q is neither a host name nor an IP address", n)}
		}
	}
	return nil
}

// onListen reports the older form, HTTPS on --listen itself and no plain
// HTTP: --tls-self-signed, or --tls-cert without --tls-listen.
func (o *tlsOptions) onListen() bool { return o.listen == "" && (o.selfSigned || o.cert != "") }

// httpsSide is posd's HTTPS: the listeners' addresses, the certificate
// source of the HTTPS one, and the shop CA (loaded or made when first
// needed). It answers /ca.crt and /api/setup (api.HTTPS).
type httpsSide struct {
	dir     string
	names   []string
	machine shopca.Machine
	// plain and secure are the HTTP and HTTPS listeners' addresses; nil
	// when posd has no such listener.
	plain, secure *net.TCPAddr
	src           shopca.Source
	own           bool

	mu sync.Mutex
	ca *shopca.Authority
}

// start sets up HTTPS for the listeners serve has opened (secure nil: none).
func (o *tlsOptions) start(dir string, plain, secure net.Listener) (*httpsSide, error) {
	h := &httpsSide{dir: dir, names: o.names, machine: shopca.System}
	if plain != nil {
		h.plain = plain.Addr().(*net.TCPAddr)
	}
	if secure == nil {
		return h, nil
	}
	h.secure = secure.Addr().(*net.TCPAddr)
	if o.cert != "" {
		src, err := shopca.LoadFileCert(o.cert, o.key)
		if err != nil {
			return nil, fmt.Errorf("%v", strings.TrimPrefix(err.Error(), "shopca: "))
		}
		h.src, h.own = src, true
		return h, nil
	}
	ca, err := h.authority()
	if err != nil {
		return nil, err
	}
	bind := h.secure.IP
	src, err := shopca.NewIssuer(ca, func() shopca.Names { return h.machine.Names(bind, h.names) }, nil)
	if err != nil {
		return nil, err
	}
	h.src = src
	return h, nil
}

// authority loads the data dir's shop CA, making it the first time.
func (h *httpsSide) authority() (*shopca.Authority, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.ca != nil {
		return h.ca, nil
	}
	ca, _, err := shopca.Open(h.dir, caName(h.machine), time.Now())
	if err != nil {
		return nil, fmt.Errorf("%v", strings.TrimPrefix(err.Error(), "shopca: "))
	}
	h.ca = ca
	return ca, nil
}

// caName is the name owners see in their devices' certificate lists.
func caName(m shopca.Machine) string {
	if hs := m.HostNames(); len(hs) > 0 {
		return "posd shop CA — " + hs[0]
	}
	return "posd shop CA"
}

// CACertificate implements api.HTTPS.
func (h *httpsSide) CACertificate() ([]byte, error) {
	ca, err := h.authority()
	if err != nil {
		return nil, err
	}
	return ca.DER(), nil
}

// Setup implements api.HTTPS.
func (h *httpsSide) Setup(host string) api.Setup {
	s := api.Setup{Names: []string{}, HTTPSURLs: []string{}, SetupURLs: []string{}}
	if h.src != nil {
		s.HTTPS = true
		port := h.secure.Port
		s.HTTPSPort = &port
		s.Names = shopca.CertNames(h.src.Current().Leaf)
		s.HTTPSURLs = firstHost(h.bases("https", h.secure, true, false), "https", host, h.secure.Port, s.Names)
		for i := range s.HTTPSURLs {
			s.HTTPSURLs[i] += "/till/"
		}
		if h.own {
			s.OwnCertificate = true
		} else if ca, err := h.authority(); err == nil {
			name, fp, fp1, url := ca.Name(), ca.Fingerprint(), ca.FingerprintSHA1(), "/ca.crt"
			end := ca.Cert.NotAfter.UTC()
			s.CAName, s.CAFingerprint, s.CAFingerprintSHA1, s.CAURL, s.CANotAfter = &name, &fp, &fp1, &url, &end
		}
	}
	scheme, a := "http", h.plain
	if a == nil && h.secure != nil {
		scheme, a = "https", h.secure // HTTPS only: the setup page is there too
	}
	if a != nil {
		s.SetupURLs = firstHost(h.bases(scheme, a, true, false), scheme, host, a.Port, nil)
		for i := range s.SetupURLs {
			s.SetupURLs[i] += "/till/setup.html"
		}
	}
	return s
}

// bases lists scheme://HOST:PORT for a listener at a, for devices on the
// LAN: with names, the owner's --tls-name names first and the machine's
// host name after the addresses; the machine's IPv4 addresses when a is
// unspecified, else a's own address; with localhost, localhost last.
func (h *httpsSide) bases(scheme string, a *net.TCPAddr, names, localhost bool) []string {
	port := strconv.Itoa(a.Port)
	var hosts []string
	if names {
		hosts = append(hosts, h.names...)
	}
	if !a.IP.IsUnspecified() {
		hosts = append(hosts, a.IP.String())
	} else {
		for _, ip := range h.machine.Addresses(net.IPv4zero) {
			hosts = append(hosts, ip.String())
		}
		if hs := h.machine.HostNames(); names && len(hs) > 0 {
			hosts = append(hosts, hs[0])
		}
		if localhost {
			hosts = append(hosts, "localhost")
		}
	}
	var out []string
	for _, host := range hosts {
		if u := scheme + "://" + net.JoinHostPort(host, port); !slices.Contains(out, u) {
			out = append(out, u)
		}
	}
	return out
}

// firstHost puts scheme://host:port first in urls, the name a page was
// opened with being the one known to work on that LAN, unless it is a
// loopback name (no use to another device) or, with certNames, a name the
// certificate does not carry.
func firstHost(urls []string, scheme, host string, port int, certNames []string) []string {
	host = strings.ToLower(strings.Trim(host, "[]"))
	ip := net.ParseIP(host)
	if host == "" || host == "localhost" || (ip != nil && ip.IsLoopback()) {
		return urls
	}
	if certNames != nil && !slices.Contains(certNames, host) && (ip == nil || !slices.Contains(certNames, ip.String())) {
		return urls
	}
	u := scheme + "://" + net.JoinHostPort(host, strconv.Itoa(port))
	return append([]string{u}, slices.DeleteFunc(urls, func(x string) bool { return x == u })...)
}

// run keeps the HTTPS certificate current until ctx ends.
func (h *httpsSide) run(ctx context.Context, log *slog.Logger) {
	if h.src == nil {
		return
	}
	shopca.Run(ctx, h.src, certCheckEvery, func(why string, err error) {
		if err != nil {
			log.Warn("HTTPS certificate", "err", err)
			return
		}
		log.Info("HTTPS certificate replaced", "why", why, "names", strings.Join(shopca.CertNames(h.src.Current().Leaf), " "),
			"until", h.src.Current().Leaf.NotAfter.UTC().Format(time.RFC3339))
	})
}

// print writes the till's addresses and what setting a till up needs.
func (h *httpsSide) print(w io.Writer) {
	if h.plain != nil {
		for _, u := range h.bases("http", h.plain, false, true) {
			fmt.Fprintf(w, "Till: %s/till/\n", u)
		}
	}
	if h.src == nil {
		return
	}
	for _, u := range h.bases("https", h.secure, true, true) {
		fmt.Fprintf(w, "Till: %s/till/\n", u)
	}
	if h.own {
		fmt.Fprintf(w, "HTTPS with your own certificate, SHA-256 fingerprint: %s\n", shopca.Fingerprint(h.src.Current().Certificate[0]))
		return
	}
	if s := h.Setup(""); len(s.SetupURLs) > 0 {
		fmt.Fprintf(w, "Set up a till for HTTPS (once per device): %s\n", s.SetupURLs[0])
	}
	if ca, err := h.authority(); err == nil {
		fmt.Fprintf(w, "Shop CA %q, SHA-256 fingerprint: %s\n", ca.Name(), ca.Fingerprint())
	}
}

// printCA makes the shop CA at init (the deprecated init --tls-self-signed)
// and prints its fingerprint, so the owner can set the tills up before the
// first serve.
func printCA(dir string, stdout io.Writer) error {
	h := &httpsSide{dir: dir, machine: shopca.System}
	ca, err := h.authority()
	if err != nil {
		return err
	}
	if stdout != nil {
		fmt.Fprintf(stdout, "Shop CA %q, SHA-256 fingerprint: %s\n", ca.Name(), ca.Fingerprint())
	}
	return nil
}

// deprecations are the warnings for the older HTTPS flags.
func (o *tlsOptions) deprecations(stderr io.Writer) {
	if o.selfSigned {
		fmt.Fprintln(stderr, "posd serve: --tls-self-signed is deprecated: HTTPS on --listen now uses a certificate from the shop's own CA (the old tls-cert.pem is no longer used; tills trust the CA once via /till/setup.html). Use --tls-listen :8443 to keep HTTP beside HTTPS.")
	}
}
