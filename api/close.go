package api

import (
	"context"
	"net/http"
	"strconv"

	"github.com/gorilla/mux"

	"posd/engine"
)

// closeRoutes are the routes of the day's close: the shop's settings,
// cashiers and their PINs, approvals, shifts with their cash, X and Z
// reports.
func closeRoutes() []Route {
	return []Route{
		{Name: "settings.get", Method: "GET", Path: "/settings", Perm: engine.PermRead, handle: getSettings},
		{Name: "settings.update", Method: "PATCH", Path: "/settings", Perm: engine.PermManage, handle: updateSettings},

		{Name: "cashiers.create", Method: "POST", Path: "/cashiers", Perm: engine.PermManage, handle: idempotent(creates, createCashier)},
		{Name: "cashiers.list", Method: "GET", Path: "/cashiers", Perm: engine.PermRead, handle: listCashiers},
		{Name: "cashiers.get", Method: "GET", Path: "/cashiers/{id}", Perm: engine.PermRead, handle: getCashier},
		{Name: "cashiers.update", Method: "PATCH", Path: "/cashiers/{id}", Perm: engine.PermManage, handle: updateCashier},
		{Name: "tills.cashier", Method: "PUT", Path: "/tills/current/cashier", Perm: engine.PermSell, handle: signIn},
		{Name: "approvals.create", Method: "POST", Path: "/approvals", Perm: engine.PermSell, handle: idempotent(creates, approve)},

		{Name: "shifts.open", Method: "POST", Path: "/shifts", Perm: engine.PermSell, handle: idempotent(creates, openShift)},
		{Name: "shifts.list", Method: "GET", Path: "/shifts", Perm: engine.PermManage, handle: listShifts},
		{Name: "shifts.get", Method: "GET", Path: "/shifts/{id}", Perm: engine.PermRead, handle: getShift},
		{Name: "shifts.cash", Method: "POST", Path: "/shifts/{id}/cash-movements", Perm: engine.PermSell, handle: idempotent(creates, cashMovement)},
		{Name: "shifts.close", Method: "POST", Path: "/shifts/{id}/close", Perm: engine.PermSell, handle: idempotent(changes, closeShift)},

		{Name: "zreports.create", Method: "POST", Path: "/z-reports", Perm: engine.PermManage, handle: idempotent(creates, createZReport)},
		{Name: "zreports.list", Method: "GET", Path: "/z-reports", Perm: engine.PermManage, handle: listZReports},
		{Name: "zreports.get", Method: "GET", Path: "/z-reports/{id}", Perm: engine.PermManage, handle: getZReport},
		{Name: "xreport.get", Method: "GET", Path: "/x-report", Perm: engine.PermManage, handle: getXReport},
	}
}

func getSettings(s *Server, w http.ResponseWriter, r *http.Request, a *engine.Actor) {
	b, err := s.svc.Business(r.Context(), a)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, b.Settings)
}

func updateSettings(s *Server, w http.ResponseWriter, r *http.Request, a *engine.Actor) {
	var in engine.SettingsPatch
	if !s.readStrict(w, r, &in) {
		return
	}
	b, err := s.svc.UpdateSettings(r.Context(), a, in)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, b.Settings)
}

// readStrict reads a required JSON body into v, answering the error itself.
func (s *Server) readStrict(w http.ResponseWriter, r *http.Request, v any) bool {
	body, err := readBody(r, false)
	if err == nil {
		err = decodeStrict(body, v)
	}
	if err != nil {
		s.writeError(w, r, err)
		return false
	}
	return true
}

func createCashier(ctx context.Context, svc *engine.Service, a *engine.Actor, key engine.IdempotencyKey, _ string, in engine.CashierInput) (*engine.Outcome[*engine.Cashier], error) {
	return svc.CreateCashier(ctx, a, key, in)
}

func listCashiers(s *Server, w http.ResponseWriter, r *http.Request, a *engine.Actor) {
	all, err := boolParam(r, "includeInactive")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	cs, err := s.svc.Cashiers(r.Context(), a, all)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"cashiers": cs})
}

func getCashier(s *Server, w http.ResponseWriter, r *http.Request, a *engine.Actor) {
	c, err := s.svc.Cashier(r.Context(), a, mux.Vars(r)["id"])
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

func updateCashier(s *Server, w http.ResponseWriter, r *http.Request, a *engine.Actor) {
	var in engine.CashierPatch
	if !s.readStrict(w, r, &in) {
		return
	}
	c, err := s.svc.UpdateCashier(r.Context(), a, mux.Vars(r)["id"], in)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

// signIn is PUT /tills/current/cashier: who is selling at this till now.
// It checks the PIN and answers the cashier; the till puts the cashier's
// ID on what it sends next. Nothing is written, so no Idempotency-Key.
func signIn(s *Server, w http.ResponseWriter, r *http.Request, a *engine.Actor) {
	var in engine.SignInInput
	if !s.readStrict(w, r, &in) {
		return
	}
	c, err := s.svc.SignIn(r.Context(), a, in)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, c)
}

func approve(ctx context.Context, svc *engine.Service, a *engine.Actor, key engine.IdempotencyKey, _ string, in engine.ApprovalInput) (*engine.Outcome[*engine.Approval], error) {
	return svc.Approve(ctx, a, key, in)
}

func openShift(ctx context.Context, svc *engine.Service, a *engine.Actor, key engine.IdempotencyKey, _ string, in engine.ShiftInput) (*engine.Outcome[*engine.Shift], error) {
	return svc.OpenShift(ctx, a, key, in)
}

func cashMovement(ctx context.Context, svc *engine.Service, a *engine.Actor, key engine.IdempotencyKey, id string, in engine.CashMovementInput) (*engine.Outcome[*engine.Shift], error) {
	return svc.AddCashMovement(ctx, a, key, id, in)
}

func closeShift(ctx context.Context, svc *engine.Service, a *engine.Actor, key engine.IdempotencyKey, id string, in engine.CloseShiftInput) (*engine.Outcome[*engine.Shift], error) {
	return svc.CloseShift(ctx, a, key, id, in)
}

// pageParams reads limit (1..max) and cursor.
func pageParams(r *http.Request, max int) (int, string, error) {
	q := r.URL.Query()
	limit := 0
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > max {
			return 0, "", engine.FieldError("limit", "must be a whole number from 1 to %d", max)
		}
		limit = n
	}
	return limit, q.Get("cursor"), nil
}

func nextCursor(next string) *string {
	if next == "" {
		return nil
	}
	return &next
}

func listShifts(s *Server, w http.ResponseWriter, r *http.Request, a *engine.Actor) {
	limit, cursor, err := pageParams(r, 200)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	q := r.URL.Query()
	shifts, next, err := s.svc.Shifts(r.Context(), a, engine.ShiftFilter{LocationID: q.Get("locationId"), Status: q.Get("status"), Cursor: cursor, Limit: limit})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"shifts": shifts, "nextCursor": nextCursor(next)})
}

func getShift(s *Server, w http.ResponseWriter, r *http.Request, a *engine.Actor) {
	sh, err := s.svc.Shift(r.Context(), a, mux.Vars(r)["id"])
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, sh)
}

func createZReport(ctx context.Context, svc *engine.Service, a *engine.Actor, key engine.IdempotencyKey, _ string, in engine.ZReportInput) (*engine.Outcome[*engine.ZReport], error) {
	return svc.CreateZReport(ctx, a, key, in)
}

func listZReports(s *Server, w http.ResponseWriter, r *http.Request, a *engine.Actor) {
	limit, cursor, err := pageParams(r, 200)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	zs, next, err := s.svc.ZReports(r.Context(), a, r.URL.Query().Get("locationId"), cursor, limit)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"zReports": zs, "nextCursor": nextCursor(next)})
}

func getZReport(s *Server, w http.ResponseWriter, r *http.Request, a *engine.Actor) {
	z, err := s.svc.ZReport(r.Context(), a, mux.Vars(r)["id"])
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, z)
}

func getXReport(s *Server, w http.ResponseWriter, r *http.Request, a *engine.Actor) {
	x, err := s.svc.XReport(r.Context(), a, r.URL.Query().Get("locationId"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, x)
}
