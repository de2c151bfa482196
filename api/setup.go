package api

import (
	"encoding/pem"
	"net"
	"net/http"
	"time"

	"posd/engine"
)

// HTTPS is what the API tells about posd's HTTPS side: the shop CA's
// certificate, which every till installs once (GET /ca.crt), and the facts
// a till's setup page and the owner's Tills screen show (GET /api/setup).
// cmd/posd provides it; without it posd has no CA and serves no HTTPS.
type HTTPS interface {
	// CACertificate returns the shop CA's certificate in DER, making the
	// CA if the data directory has none yet.
	CACertificate() ([]byte, error)
	// Setup describes the HTTPS side for a page opened on host (the
	// request's host name, without the port): URLs with that name first.
	Setup(host string) Setup
}

// Setup is the answer to GET /api/setup. Lists are never null.
type Setup struct {
	// HTTPS is true when posd serves HTTPS (serve --tls-listen).
	HTTPS bool `json:"https"`
	// HTTPSPort is the port of the HTTPS listener (null without HTTPS):
	// a page opened as http://NAME:8080/ finds the till at
	// https://NAME:HTTPSPort/till/.
	HTTPSPort *int `json:"httpsPort"`
	// OwnCertificate is true when HTTPS uses the owner's own certificate
	// (--tls-cert) instead of the shop CA's: there is then nothing to
	// install on the tills, and the CA fields are null.
	OwnCertificate bool `json:"ownCertificate"`
	// CAName, CAFingerprint (SHA-256 of the DER, AB:CD:…),
	// CAFingerprintSHA1 (what Windows shows as the thumbprint), CANotAfter
	// and CAURL describe the shop CA the tills must trust; null without
	// HTTPS or with the owner's own certificate.
	CAName            *string    `json:"caName"`
	CAFingerprint     *string    `json:"caFingerprint"`
	CAFingerprintSHA1 *string    `json:"caFingerprintSha1"`
	CANotAfter        *time.Time `json:"caNotAfter"`
	CAURL             *string    `json:"caUrl"`
	// Names are the host names and addresses the HTTPS certificate
	// carries now: a till must open posd by one of them.
	Names []string `json:"names"`
	// HTTPSURLs are the till's HTTPS addresses for other devices (no
	// loopback), the request's host first when the certificate names it.
	HTTPSURLs []string `json:"httpsUrls"`
	// SetupURLs are the setup page's addresses on the plain-HTTP
	// listener, for a QR code that a device not yet trusting the CA can
	// open.
	SetupURLs []string `json:"setupUrls"`
}

// setupRoutes are public: a till that has no token yet, and the browser
// installing the CA, must reach them. /ca.crt sits outside /api, at the
// short address an owner types on a tablet.
func setupRoutes() []Route {
	return []Route{
		{Name: "setup", Method: "GET", Path: "/setup", Public: true, handle: getSetup},
		{Name: "ca", Method: "GET", Path: "/ca.crt", Root: true, Public: true, handle: getCA},
	}
}

func getSetup(s *Server, w http.ResponseWriter, r *http.Request, _ *engine.Actor) {
	out := Setup{Names: []string{}, HTTPSURLs: []string{}, SetupURLs: []string{}}
	if s.https != nil {
		out = s.https.Setup(requestHost(r))
	}
	writeJSON(w, http.StatusOK, out)
}

// getCA serves the CA certificate in DER as application/x-x509-ca-cert:
// the form and type that Windows, macOS, iOS/iPadOS (as a configuration
// profile), Android and ChromeOS all import, and that a browser hands to
// the system's certificate installer. ?format=pem gives PEM (for Linux
// tools and Firefox); ?download=1 gives the DER as a plain file, because
// Chrome on Android passes the certificate type to a system installer that
// refuses CA certificates from a browser (Android 11 and later), while a
// plain download can be installed in Settings.
func getCA(s *Server, w http.ResponseWriter, r *http.Request, _ *engine.Actor) {
	if s.https == nil {
		s.writeError(w, r, engine.Errorf(engine.ENOTFOUND, "this posd has no certificate authority"))
		return
	}
	der, err := s.https.CACertificate()
	if err != nil {
		s.log.Error("shop CA", "err", err)
		s.writeError(w, r, engine.Errorf(engine.EUNAVAILABLE, "posd cannot read or make its certificate authority; its log says why"))
		return
	}
	body, ctype, name := der, "application/x-x509-ca-cert", "posd-shop-ca.crt"
	switch {
	case r.URL.Query().Get("format") == "pem":
		body, ctype, name = pemCert(der), "application/x-pem-file", "posd-shop-ca.pem"
	case r.URL.Query().Get("download") != "":
		ctype = "application/octet-stream"
	}
	h := w.Header()
	h.Set("Content-Type", ctype)
	h.Set("Content-Disposition", `attachment; filename="`+name+`"`)
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	w.Write(body)
}

func pemCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

// requestHost is the host name the client used, without the port.
func requestHost(r *http.Request) string {
	if h, _, err := net.SplitHostPort(r.Host); err == nil {
		return h
	}
	return r.Host
}
