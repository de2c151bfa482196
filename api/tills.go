package api

import (
	"net/http"
	"time"

	"github.com/gorilla/mux"

	"posd/engine"
)

// tillRoutes are contract §5: pairing a new till by code, the tills'
// reports of their queues, and the list the back office shows.
func tillRoutes() []Route {
	return []Route{
		{Name: "pairing.create", Method: "POST", Path: "/pairing-codes", Perm: engine.PermManage, handle: createPairingCode},
		{Name: "pair", Method: "POST", Path: "/pair", Public: true, handle: pair},
		{Name: "tills.status", Method: "PUT", Path: "/tills/current/status", Perm: engine.PermSell, handle: reportTillStatus},
		{Name: "tills.list", Method: "GET", Path: "/tills", Perm: engine.PermManage, handle: listTills},
		{Name: "tills.update", Method: "PATCH", Path: "/tills/{id}", Perm: engine.PermManage, handle: renameTill},
		{Name: "tills.revoke", Method: "DELETE", Path: "/tills/{id}", Perm: engine.PermManage, handle: revokeTill},
	}
}

// PairingCodeAnswer is the answer to POST /api/pairing-codes. URL is the
// till page on the address the office was reached at, with the code in
// its fragment (never sent to a server), for a QR code.
type PairingCodeAnswer struct {
	Code      *string   `json:"code"`
	ExpiresAt time.Time `json:"expiresAt"`
	URL       *string   `json:"url"`
}

// tillURL is the till page on the address and scheme r came in on.
func tillURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + "/till/"
}

func replayHeaders(w http.ResponseWriter) {
	w.Header().Set("X-Idempotent-Replay", "true")
	w.Header().Set("Idempotent-Replayed", "true")
}

// readInput reads a POST's key and strict JSON body into v.
func readInput(r *http.Request, v any) (engine.IdempotencyKey, error) {
	key, err := idempotencyKey(r)
	if err != nil {
		return "", err
	}
	body, err := readBody(r, false)
	if err != nil {
		return "", err
	}
	return key, decodeStrict(body, v)
}

func createPairingCode(s *Server, w http.ResponseWriter, r *http.Request, a *engine.Actor) {
	var in engine.PairingInput
	key, err := readInput(r, &in)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	pc, replayed, err := s.svc.CreatePairingCode(r.Context(), a, key, in)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := PairingCodeAnswer{Code: pc.Code, ExpiresAt: pc.ExpiresAt}
	if pc.Code != nil {
		u := tillURL(r) + "#pair=" + *pc.Code
		out.URL = &u
	}
	s.metrics.write("pairing.create", replayed)
	s.metrics.writeOK()
	if replayed {
		replayHeaders(w)
	}
	writeJSON(w, http.StatusCreated, out)
}

// pair needs no token: the code is the credential, so a wrong one counts as
// a wrong token does, and an address that guesses is answered 429 like a
// token guesser (the same limiter, the same budget).
func pair(s *Server, w http.ResponseWriter, r *http.Request, _ *engine.Actor) {
	ip := clientIP(r)
	if wait := s.limiter.blocked(ip, s.Now()); wait > 0 {
		w.Header().Set("Retry-After", seconds(wait))
		writeJSON(w, http.StatusTooManyRequests, ErrorBody{Error: ErrorDetail{Code: engine.ERATELIMITED,
			Message: "too many wrong pairing codes or tokens from this address; wait a minute and retry"}})
		s.metrics.refused(engine.ERATELIMITED)
		return
	}
	var in engine.PairInput
	key, err := readInput(r, &in)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	p, replayed, err := s.svc.Pair(r.Context(), key, in)
	if err != nil {
		if engine.ErrorCode(err) == engine.ENOTFOUND {
			s.limiter.fail(ip, s.Now())
		}
		s.writeError(w, r, err)
		return
	}
	s.metrics.write("pair", replayed)
	s.metrics.writeOK()
	if replayed {
		replayHeaders(w)
	}
	writeJSON(w, http.StatusCreated, p)
}

// reportTillStatus takes a till's report: a PUT replaces, so it needs no
// Idempotency-Key.
func reportTillStatus(s *Server, w http.ResponseWriter, r *http.Request, a *engine.Actor) {
	body, err := readBody(r, false)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var in engine.TillReport
	if err := decodeStrict(body, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := s.svc.ReportTillStatus(r.Context(), a, in); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}

func listTills(s *Server, w http.ResponseWriter, r *http.Request, a *engine.Actor) {
	ts, err := s.svc.Tills(r.Context(), a)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"tills": ts})
}

func renameTill(s *Server, w http.ResponseWriter, r *http.Request, a *engine.Actor) {
	body, err := readBody(r, false)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var in engine.TillPatch
	if err := decodeStrict(body, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	t, err := s.svc.RenameTill(r.Context(), a, mux.Vars(r)["id"], in)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, t)
}

func revokeTill(s *Server, w http.ResponseWriter, r *http.Request, a *engine.Actor) {
	if err := s.svc.RevokeTill(r.Context(), a, mux.Vars(r)["id"]); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
