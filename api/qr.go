package api

import (
	"net/http"
	"unicode/utf8"

	goqr "github.com/piglig/go-qr"

	"posd/engine"
)

// maxQRText bounds what GET /api/qr encodes: a till's address with its
// pairing code is under 100 characters.
const maxQRText = 500

// QRCode is the answer to GET /api/qr: an SVG image of a QR code, for the
// office to show (as an <img> from a data: URL, which its CSP allows).
type QRCode struct {
	Text string `json:"text"`
	SVG  string `json:"svg"`
}

// getQR draws a QR code of ?text= (the till page with a pairing code, the
// till set-up page) with a maintained encoder (piglig/go-qr, a port of
// Nayuki's reference generator), at error correction level M: a tablet's
// camera reads it off a screen at arm's length.
func getQR(s *Server, w http.ResponseWriter, r *http.Request, _ *engine.Actor) {
	text := r.URL.Query().Get("text")
	switch {
	case text == "":
		s.writeError(w, r, engine.FieldError("text", "is required: GET /api/qr?text=…"))
		return
	case len(text) > maxQRText || !utf8.ValidString(text):
		s.writeError(w, r, engine.FieldError("text", "must be valid text of at most %d bytes", maxQRText))
		return
	}
	q, err := goqr.EncodeText(text, goqr.Medium)
	if err != nil {
		s.writeError(w, r, engine.FieldError("text", "cannot be put in a QR code"))
		return
	}
	svg, err := q.ToSVGBytes(goqr.NewQrCodeImgConfig(8, 4, goqr.WithOptimalSVG()))
	if err != nil {
		s.writeError(w, r, engine.Errorf(engine.EINTERNAL, "drawing the QR code: %v", err))
		return
	}
	writeJSON(w, http.StatusOK, QRCode{Text: text, SVG: string(svg)})
}
