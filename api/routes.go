package api

import (
	"context"
	"net/http"
	"strconv"
	"strings"

	"github.com/gorilla/mux"

	"posd/engine"
)

// routes is the API of contract §2, plus a few read and management routes a
// till and an owner need (me, tokens, single documents, product changes).
func routes() []Route {
	return append([]Route{
		{Name: "health", Method: "GET", Path: "/health", Public: true, handle: getHealth},
		{Name: "me", Method: "GET", Path: "/me", Perm: engine.PermRead, handle: getMe},

		{Name: "tokens.create", Method: "POST", Path: "/tokens", Perm: engine.PermOwner, handle: idempotent(creates, createToken)},
		{Name: "tokens.list", Method: "GET", Path: "/tokens", Perm: engine.PermOwner, handle: listTokens},
		{Name: "tokens.revoke", Method: "DELETE", Path: "/tokens/{id}", Perm: engine.PermOwner, handle: revokeToken},

		{Name: "locations.create", Method: "POST", Path: "/locations", Perm: engine.PermManage, handle: idempotent(creates, createLocation)},
		{Name: "locations.list", Method: "GET", Path: "/locations", Perm: engine.PermRead, handle: listLocations},

		{Name: "products.create", Method: "POST", Path: "/products", Perm: engine.PermManage, handle: idempotent(creates, createProduct)},
		{Name: "products.list", Method: "GET", Path: "/products", Perm: engine.PermRead, handle: listProducts},
		{Name: "products.update", Method: "PATCH", Path: "/products/{id}", Perm: engine.PermManage, handle: updateProduct},

		{Name: "stock.adjust", Method: "POST", Path: "/stock/adjustments", Perm: engine.PermManage, handle: idempotent(creates, adjustStock)},
		{Name: "stock.list", Method: "GET", Path: "/stock", Perm: engine.PermRead, handle: listStock},

		{Name: "sales.create", Method: "POST", Path: "/sales", Perm: engine.PermSell, handle: idempotent(creates, createSale)},
		{Name: "sales.list", Method: "GET", Path: "/sales", Perm: engine.PermRead, handle: listSales},
		{Name: "sales.get", Method: "GET", Path: "/sales/{id}", Perm: engine.PermRead, handle: getSale},
		{Name: "sales.refund", Method: "POST", Path: "/sales/{id}/refund", Perm: engine.PermSell, handle: idempotent(creates, refundSale)},
		{Name: "returns.get", Method: "GET", Path: "/returns/{id}", Perm: engine.PermRead, handle: getReturn},

		{Name: "receipts.create", Method: "POST", Path: "/purchases/receipts", Perm: engine.PermManage, handle: idempotent(creates, createReceipt)},
		{Name: "receipts.get", Method: "GET", Path: "/purchases/receipts/{id}", Perm: engine.PermManage, handle: getReceipt},
		{Name: "receipts.approve", Method: "POST", Path: "/purchases/receipts/{id}/approve", Perm: engine.PermManage, handle: idempotent(changes, approveReceipt)},

		{Name: "transfers.create", Method: "POST", Path: "/transfers", Perm: engine.PermManage, handle: idempotent(creates, createTransfer)},
		{Name: "transfers.get", Method: "GET", Path: "/transfers/{id}", Perm: engine.PermManage, handle: getTransfer},
		{Name: "transfers.send", Method: "POST", Path: "/transfers/{id}/send", Perm: engine.PermManage, handle: idempotent(changes, sendTransfer)},
		{Name: "transfers.receive", Method: "POST", Path: "/transfers/{id}/receive", Perm: engine.PermManage, handle: idempotent(changes, receiveTransfer)},
	}, append(append(append(append(append(tillRoutes(), officeRoutes()...), opsRoutes()...), setupRoutes()...), integrityRoutes()...), closeRoutes()...)...)
}

// writeCall is an idempotent engine call that answers a D.
type writeCall[T, D any] func(ctx context.Context, svc *engine.Service, a *engine.Actor, key engine.IdempotencyKey, id string, in T) (*engine.Outcome[D], error)

// writeKind says what an idempotent route does, which fixes its status.
type writeKind int

const (
	// creates: POST /sales and the like make a document, 201; their body
	// is required.
	creates writeKind = iota
	// changes: approve, send and receive move a document to its next
	// state, 200; their body is {} and may be left out.
	changes
	// reports: POST /products/import answers with a report of what it did
	// (or, for a dry run, would do), 200 either way; its body is required.
	reports
)

// idempotent makes the handler of a POST: key, body, engine, answer. The
// checks run in the order a client can fix them: token, role, key, media
// type and size, then the body itself. The answer is rendered here, after
// the commit, from the document the engine returns (render.go).
func idempotent[T, D any](kind writeKind, call writeCall[T, D]) func(*Server, http.ResponseWriter, *http.Request, *engine.Actor) {
	return func(s *Server, w http.ResponseWriter, r *http.Request, a *engine.Actor) {
		key, in, err := readWrite[T](r, kind)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		out, err := call(r.Context(), s.svc, a, key, mux.Vars(r)["id"], in)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		s.answerWrite(w, r, kind, out.Doc, out.Replayed, out.Current, out.Version, true)
	}
}

// readWrite reads a POST's Idempotency-Key and its strict JSON body.
func readWrite[T any](r *http.Request, kind writeKind) (engine.IdempotencyKey, T, error) {
	var in T
	key, err := idempotencyKey(r)
	if err != nil {
		return "", in, err
	}
	body, err := readBody(r, kind == changes)
	if err != nil {
		return "", in, err
	}
	return key, in, decode(body, &in)
}

// answerWrite renders the answer to an idempotent write (doc, in answer
// version v) and sends it with the status of its kind and, for a replay,
// the replay headers. wrote is false for an answer that wrote nothing
// though it is no replay (an import's dry run): it counts as no write in
// the metrics, and does not show that writes work.
func (s *Server) answerWrite(w http.ResponseWriter, r *http.Request, kind writeKind, doc any, replayed, current bool, v int, wrote bool) {
	b, err := renderAnswer(doc, v)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	status := http.StatusCreated
	if kind != creates || current {
		// A replay after the answer TTL returns the document as it is
		// now: 200, as a GET would.
		status = http.StatusOK
	}
	if replayed {
		w.Header().Set("X-Idempotent-Replay", "true")
		w.Header().Set("Idempotent-Replayed", "true")
	}
	if replayed || wrote {
		s.metrics.write(s.routeName(r), replayed)
	}
	if wrote && !replayed {
		s.metrics.writeOK()
	}
	writeRaw(w, status, b)
}

// idempotencyKey reads the Idempotency-Key header: one value, the key
// itself or a structured-header string ("..." with \" and \\ escapes),
// which is unwrapped so that both spellings name the same key. The rule
// for the key itself is the engine's.
func idempotencyKey(r *http.Request) (engine.IdempotencyKey, error) {
	vals := r.Header.Values("Idempotency-Key")
	switch len(vals) {
	case 0:
		return "", engine.ErrIdempotencyMissing
	case 1:
	default:
		return "", engine.ErrIdempotencyInvalid
	}
	v := vals[0]
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		var b strings.Builder
		in := v[1 : len(v)-1]
		for i := 0; i < len(in); i++ {
			c := in[i]
			if c == '\\' {
				if i+1 >= len(in) || (in[i+1] != '"' && in[i+1] != '\\') {
					return "", engine.ErrIdempotencyInvalid
				}
				i++
				c = in[i]
			} else if c == '"' {
				return "", engine.ErrIdempotencyInvalid
			}
			b.WriteByte(c)
		}
		if b.Len() == 0 {
			return "", engine.ErrIdempotencyInvalid
		}
		v = b.String()
	}
	return engine.ParseIdempotencyKey(v)
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

func createToken(ctx context.Context, svc *engine.Service, a *engine.Actor, key engine.IdempotencyKey, _ string, in engine.TokenInput) (*engine.Outcome[*engine.CreatedToken], error) {
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

func createLocation(ctx context.Context, svc *engine.Service, a *engine.Actor, key engine.IdempotencyKey, _ string, in engine.LocationInput) (*engine.Outcome[*engine.Location], error) {
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

func createProduct(ctx context.Context, svc *engine.Service, a *engine.Actor, key engine.IdempotencyKey, _ string, in engine.ProductInput) (*engine.Outcome[*engine.Product], error) {
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

func adjustStock(ctx context.Context, svc *engine.Service, a *engine.Actor, key engine.IdempotencyKey, _ string, in engine.AdjustmentInput) (*engine.Outcome[*engine.Adjustment], error) {
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

func createSale(ctx context.Context, svc *engine.Service, a *engine.Actor, key engine.IdempotencyKey, _ string, in engine.SaleInput) (*engine.Outcome[*engine.Sale], error) {
	return svc.CreateSale(ctx, a, key, in)
}

// SaleList is the answer to GET /sales.
type SaleList struct {
	Sales      []*engine.Sale `json:"sales"`
	NextCursor *string        `json:"nextCursor"`
}

// listSales pages the sales, and also filters them by day (YYYY-MM-DD in
// the shop's time zone) and by the till that made them.
func listSales(s *Server, w http.ResponseWriter, r *http.Request, a *engine.Actor) {
	f, err := listFilter(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	sales, next, err := s.svc.SalesFiltered(r.Context(), a, f)
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

func refundSale(ctx context.Context, svc *engine.Service, a *engine.Actor, key engine.IdempotencyKey, id string, in engine.RefundInput) (*engine.Outcome[*engine.Return], error) {
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

func createReceipt(ctx context.Context, svc *engine.Service, a *engine.Actor, key engine.IdempotencyKey, _ string, in engine.ReceiptInput) (*engine.Outcome[*engine.Receipt], error) {
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

func approveReceipt(ctx context.Context, svc *engine.Service, a *engine.Actor, key engine.IdempotencyKey, id string, _ engine.EmptyInput) (*engine.Outcome[*engine.Receipt], error) {
	return svc.ApproveReceipt(ctx, a, key, id)
}

func createTransfer(ctx context.Context, svc *engine.Service, a *engine.Actor, key engine.IdempotencyKey, _ string, in engine.TransferInput) (*engine.Outcome[*engine.Transfer], error) {
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

func sendTransfer(ctx context.Context, svc *engine.Service, a *engine.Actor, key engine.IdempotencyKey, id string, _ engine.EmptyInput) (*engine.Outcome[*engine.Transfer], error) {
	return svc.SendTransfer(ctx, a, key, id)
}

func receiveTransfer(ctx context.Context, svc *engine.Service, a *engine.Actor, key engine.IdempotencyKey, id string, _ engine.EmptyInput) (*engine.Outcome[*engine.Transfer], error) {
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
