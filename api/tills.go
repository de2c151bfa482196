package api

import (
	"context"
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

// createPairingCode is an idempotent write whose answer adds the till
// page's address to the engine's code. Its replay is no byte-for-byte
// copy: a code is stored only as a hash, so a replay within the answer
// TTL carries a new code for the same pairing (the first one, never seen,
// stops working), and one after the code was used carries none
// ("code": null, "url": null).
func createPairingCode(s *Server, w http.ResponseWriter, r *http.Request, a *engine.Actor) {
	key, in, err := readWrite[engine.PairingInput](r, creates)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out, err := s.svc.CreatePairingCode(r.Context(), a, key, in)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ans := PairingCodeAnswer{Code: out.Doc.Code, ExpiresAt: out.Doc.ExpiresAt}
	if out.Doc.Code != nil {
		u := tillURL(r) + "#pair=" + *out.Doc.Code
		ans.URL = &u
	}
	s.answerWrite(w, r, creates, ans, out.Replayed, out.Current, out.Version, true)
}

// pair needs no token: the code is the credential, so a wrong one counts as
// a wrong token does, and an address that guesses is answered 429 like a
// token guesser (the same limiter, the same budget). Its replay within the
// answer TTL carries the same till and a new working token, the earlier
// one revoked (contract §5); after the TTL, "token": null.
func pair(s *Server, w http.ResponseWriter, r *http.Request, a *engine.Actor) {
	ip := clientIP(r)
	if wait := s.limiter.blocked(ip, s.Now()); wait > 0 {
		s.writeError(w, r, &waitError{err: &engine.Error{Code: ERATELIMITED,
			Message: "too many wrong pairing codes or tokens from this address; wait a minute and retry"}, wait: wait})
		return
	}
	idempotent(creates, func(ctx context.Context, svc *engine.Service, _ *engine.Actor, key engine.IdempotencyKey, _ string, in engine.PairInput) (*engine.Outcome[*engine.Paired], error) {
		out, err := svc.Pair(ctx, key, in)
		if engine.ErrorCode(err) == engine.ENOTFOUND {
			s.limiter.fail(ip, s.Now())
		}
		return out, err
	})(s, w, r, a)
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
