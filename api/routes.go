package api

import (
	"context"
	"net/http"
	"strconv"

	"github.com/gorilla/mux"

	"posd/engine"
)

// routes is the API of contract §2, plus a few read and management routes a
// till and an owner need (me, tokens, single documents, product changes).
func routes() []Route {
	return append([]Route{
		{Name: "health", Method: "GET", Path: "/health", Public: true, handle: getHealth},
		{Name: "me", Method: "GET", Path: "/me", Perm: engine.PermRead, handle: getMe},

		{Name: "tokens.create", Method: "POST", Path: "/tokens", Perm: engine.PermOwner, handle: idempotent(false, createToken)},
		{Name: "tokens.list", Method: "GET", Path: "/tokens", Perm: engine.PermOwner, handle: listTokens},
		{Name: "tokens.revoke", Method: "DELETE", Path: "/tokens/{id}", Perm: engine.PermOwner, handle: revokeToken},

		{Name: "locations.create", Method: "POST", Path: "/locations", Perm: engine.PermManage, handle: idempotent(false, createLocation)},
		{Name: "locations.list", Method: "GET", Path: "/locations", Perm: engine.PermRead, handle: listLocations},

		{Name: "products.create", Method: "POST", Path: "/products", Perm: engine.PermManage, handle: idempotent(false, createProduct)},
		{Name: "products.list", Method: "GET", Path: "/products", Perm: engine.PermRead, handle: listProducts},
		{Name: "products.update", Method: "PATCH", Path: "/products/{id}", Perm: engine.PermManage, handle: updateProduct},

		{Name: "stock.adjust", Method: "POST", Path: "/stock/adjustments", Perm: engine.PermManage, handle: idempotent(false, adjustStock)},
		{Name: "stock.list", Method: "GET", Path: "/stock", Perm: engine.PermRead, handle: listStock},

		{Name: "sales.create", Method: "POST", Path: "/sales", Perm: engine.PermSell, handle: idempotent(false, createSale)},
		{Name: "sales.list", Method: "GET", Path: "/sales", Perm: engine.PermRead, handle: listSales},
		{Name: "sales.get", Method: "GET", Path: "/sales/{id}", Perm: engine.PermRead, handle: getSale},
		{Name: "sales.refund", Method: "POST", Path: "/sales/{id}/refund", Perm: engine.PermSell, handle: idempotent(false, refundSale)},
		{Name: "returns.get", Method: "GET", Path: "/returns/{id}", Perm: engine.PermRead, handle: getReturn},

		{Name: "receipts.create", Method: "POST", Path: "/purchases/receipts", Perm: engine.PermManage, handle: idempotent(false, createReceipt)},
		{Name: "receipts.get", Method: "GET", Path: "/purchases/receipts/{id}", Perm: engine.PermManage, handle: getReceipt},
		{Name: "receipts.approve", Method: "POST", Path: "/purchases/receipts/{id}/approve", Perm: engine.PermManage, handle: idempotent(true, approveReceipt)},

		{Name: "transfers.create", Method: "POST", Path: "/transfers", Perm: engine.PermManage, handle: idempotent(false, createTransfer)},
		{Name: "transfers.get", Method: "GET", Path: "/transfers/{id}", Perm: engine.PermManage, handle: getTransfer},
		{Name: "transfers.send", Method: "POST", Path: "/transfers/{id}/send", Perm: engine.PermManage, handle: idempotent(true, sendTransfer)},
		{Name: "transfers.receive", Method: "POST", Path: "/transfers/{id}/receive", Perm: engine.PermManage, handle: idempotent(true, receiveTransfer)},
	}, append(opsRoutes(), setupRoutes()...)...)
}

// writeCall is an idempotent engine call.
type writeCall[T any] func(ctx context.Context, svc *engine.Service, a *engine.Actor, key engine.IdempotencyKey, id string, in T) (*engine.Outcome, error)

// idempotent makes the handler of a POST: key, body, engine, answer. The
// checks run in the order a client can fix them: token, role, key, media
// type and size, then the body itself.
func idempotent[T any](allowEmpty bool, call writeCall[T]) func(*Server, http.ResponseWriter, *http.Request, *engine.Actor) {
	return func(s *Server, w http.ResponseWriter, r *http.Request, a *engine.Actor) {
		key, err := idempotencyKey(r)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		body, err := readBody(r, allowEmpty)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		var in T
		if err := decodeStrict(body, &in); err != nil {
			s.writeError(w, r, err)
			return
		}
		out, err := call(r.Context(), s.svc, a, key, mux.Vars(r)["id"], in)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		if out.Replayed {
			w.Header().Set("X-Idempotent-Replay", "true")
			w.Header().Set("Idempotent-Replayed", "true")
		}
		s.metrics.write(mux.CurrentRoute(r).GetName(), out.Replayed)
		writeRaw(w, out.Status, out.Body)
	}
}

func idempotencyKey(r *http.Request) (engine.IdempotencyKey, error) {
	vals := r.Header.Values("Idempotency-Key")
	switch len(vals) {
	case 0:
		return "", engine.ErrIdempotencyMissing
	case 1:
		return engine.ParseIdempotencyKey(vals[0])
	}
	return "", engine.ErrIdempotencyInvalid
}

func getHealth(s *Server, w http.ResponseWriter, r *http.Request, _ *engine.Actor) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// Me is the answer to GET /me: who the token is, and its business.
type Me struct {
	Business *engine.Business `json:"business"`
	Token    MeToken          `json:"token"`
}

// MeToken describes the calling token.
type MeToken struct {
	ID         string      `json:"id"`
	Role       engine.Role `json:"role"`
	LocationID *string     `json:"locationId"`
}

func getMe(s *Server, w http.ResponseWriter, r *http.Request, a *engine.Actor) {
	b, err := s.svc.Business(r.Context(), a)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	me := Me{Business: b, Token: MeToken{ID: a.TokenID, Role: a.Role}}
	if a.LocationID != "" {
		me.Token.LocationID = &a.LocationID
	}
	writeJSON(w, http.StatusOK, me)
}

func createToken(ctx context.Context, svc *engine.Service, a *engine.Actor, key engine.IdempotencyKey, _ string, in engine.TokenInput) (*engine.Outcome, error) {
	return svc.CreateToken(ctx, a, key, in)
}

func listTokens(s *Server, w http.ResponseWriter, r *http.Request, a *engine.Actor) {
	ts, err := s.svc.Tokens(r.Context(), a)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if ts == nil {
		ts = []*engine.Token{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"tokens": ts})
}

func revokeToken(s *Server, w http.ResponseWriter, r *http.Request, a *engine.Actor) {
	if err := s.svc.RevokeToken(r.Context(), a, mux.Vars(r)["id"]); err != nil {
		s.writeError(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func createLocation(ctx context.Context, svc *engine.Service, a *engine.Actor, key engine.IdempotencyKey, _ string, in engine.LocationInput) (*engine.Outcome, error) {
	return svc.CreateLocation(ctx, a, key, in)
}

func listLocations(s *Server, w http.ResponseWriter, r *http.Request, a *engine.Actor) {
	ls, err := s.svc.Locations(r.Context(), a)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	if ls == nil {
		ls = []*engine.Location{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"locations": ls})
}

func createProduct(ctx context.Context, svc *engine.Service, a *engine.Actor, key engine.IdempotencyKey, _ string, in engine.ProductInput) (*engine.Outcome, error) {
	return svc.CreateProduct(ctx, a, key, in)
}

func listProducts(s *Server, w http.ResponseWriter, r *http.Request, a *engine.Actor) {
	all, err := boolParam(r, "includeArchived")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ps, err := s.svc.Products(r.Context(), a, all)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"products": ps})
}

func updateProduct(s *Server, w http.ResponseWriter, r *http.Request, a *engine.Actor) {
	body, err := readBody(r, false)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var in engine.ProductPatch
	if err := decodeStrict(body, &in); err != nil {
		s.writeError(w, r, err)
		return
	}
	p, err := s.svc.UpdateProduct(r.Context(), a, mux.Vars(r)["id"], in)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, p)
}

func adjustStock(ctx context.Context, svc *engine.Service, a *engine.Actor, key engine.IdempotencyKey, _ string, in engine.AdjustmentInput) (*engine.Outcome, error) {
	return svc.AdjustStock(ctx, a, key, in)
}

func listStock(s *Server, w http.ResponseWriter, r *http.Request, a *engine.Actor) {
	loc := r.URL.Query().Get("locationId")
	if loc == "" {
		s.writeError(w, r, engine.FieldError("locationId", "is required: GET /api/stock?locationId=…"))
		return
	}
	items, err := s.svc.StockLevels(r.Context(), a, loc)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"locationId": loc, "items": items})
}

func createSale(ctx context.Context, svc *engine.Service, a *engine.Actor, key engine.IdempotencyKey, _ string, in engine.SaleInput) (*engine.Outcome, error) {
	return svc.CreateSale(ctx, a, key, in)
}

// SaleList is the answer to GET /sales.
type SaleList struct {
	Sales      []*engine.Sale `json:"sales"`
	NextCursor *string        `json:"nextCursor"`
}

func listSales(s *Server, w http.ResponseWriter, r *http.Request, a *engine.Actor) {
	q := r.URL.Query()
	f := engine.SaleFilter{Cursor: q.Get("cursor"), LocationID: q.Get("locationId")}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 500 {
			s.writeError(w, r, engine.FieldError("limit", "must be a whole number from 1 to 500"))
			return
		}
		f.Limit = n
	}
	switch q.Get("order") {
	case "", "oldest":
	case "newest":
		f.Newest = true
	default:
		s.writeError(w, r, engine.FieldError("order", "must be oldest or newest"))
		return
	}
	sales, next, err := s.svc.Sales(r.Context(), a, f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	out := SaleList{Sales: sales}
	if next != "" {
		out.NextCursor = &next
	}
	writeJSON(w, http.StatusOK, out)
}

func getSale(s *Server, w http.ResponseWriter, r *http.Request, a *engine.Actor) {
	sale, err := s.svc.Sale(r.Context(), a, mux.Vars(r)["id"])
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, sale)
}

func refundSale(ctx context.Context, svc *engine.Service, a *engine.Actor, key engine.IdempotencyKey, id string, in engine.RefundInput) (*engine.Outcome, error) {
	return svc.RefundSale(ctx, a, key, id, in)
}

func getReturn(s *Server, w http.ResponseWriter, r *http.Request, a *engine.Actor) {
	ret, err := s.svc.Return(r.Context(), a, mux.Vars(r)["id"])
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, ret)
}

func createReceipt(ctx context.Context, svc *engine.Service, a *engine.Actor, key engine.IdempotencyKey, _ string, in engine.ReceiptInput) (*engine.Outcome, error) {
	return svc.CreateReceipt(ctx, a, key, in)
}

func getReceipt(s *Server, w http.ResponseWriter, r *http.Request, a *engine.Actor) {
	rc, err := s.svc.Receipt(r.Context(), a, mux.Vars(r)["id"])
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rc)
}

func approveReceipt(ctx context.Context, svc *engine.Service, a *engine.Actor, key engine.IdempotencyKey, id string, _ engine.EmptyInput) (*engine.Outcome, error) {
	return svc.ApproveReceipt(ctx, a, key, id)
}

func createTransfer(ctx context.Context, svc *engine.Service, a *engine.Actor, key engine.IdempotencyKey, _ string, in engine.TransferInput) (*engine.Outcome, error) {
	return svc.CreateTransfer(ctx, a, key, in)
}

func getTransfer(s *Server, w http.ResponseWriter, r *http.Request, a *engine.Actor) {
	t, err := s.svc.Transfer(r.Context(), a, mux.Vars(r)["id"])
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, t)
}

func sendTransfer(ctx context.Context, svc *engine.Service, a *engine.Actor, key engine.IdempotencyKey, id string, _ engine.EmptyInput) (*engine.Outcome, error) {
	return svc.SendTransfer(ctx, a, key, id)
}

func receiveTransfer(ctx context.Context, svc *engine.Service, a *engine.Actor, key engine.IdempotencyKey, id string, _ engine.EmptyInput) (*engine.Outcome, error) {
	return svc.ReceiveTransfer(ctx, a, key, id)
}

func boolParam(r *http.Request, name string) (bool, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return false, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, engine.FieldError(name, "must be true or false")
	}
	return b, nil
}
