package api

import (
	"net/http"
	"strconv"

	"github.com/gorilla/mux"

	"posd/engine"
)

// officeRoutes are the back office's reads and its product file: the
// journal's lists (in the grain of GET /sales: pages, a cursor, oldest
// first unless order=newest), a document by its number, a product's stock
// history, today's figures, and the product CSV.
func officeRoutes() []Route {
	return []Route{
		{Name: "returns.list", Method: "GET", Path: "/returns", Perm: engine.PermRead, handle: listReturns},
		{Name: "receipts.list", Method: "GET", Path: "/purchases/receipts", Perm: engine.PermManage, handle: listReceipts},
		{Name: "transfers.list", Method: "GET", Path: "/transfers", Perm: engine.PermManage, handle: listTransfers},
		{Name: "documents.get", Method: "GET", Path: "/documents/{number}", Perm: engine.PermManage, handle: getDocument},
		{Name: "stock.movements", Method: "GET", Path: "/stock/movements", Perm: engine.PermManage, handle: listMovements},
		{Name: "reports.today", Method: "GET", Path: "/reports/today", Perm: engine.PermManage, handle: getToday},
		{Name: "products.import", Method: "POST", Path: "/products/import", Perm: engine.PermManage, handle: importProducts},
		{Name: "products.export", Method: "GET", Path: "/products/export", Perm: engine.PermManage, handle: exportProducts},
	}
}

// listFilter reads the lists' query: limit, cursor, order, locationId,
// tillId, day (YYYY-MM-DD in the shop's time zone), status, numbered.
func listFilter(r *http.Request) (engine.ListFilter, error) {
	q := r.URL.Query()
	f := engine.ListFilter{Cursor: q.Get("cursor"), LocationID: q.Get("locationId"), TillID: q.Get("tillId"), Day: q.Get("day"), Status: q.Get("status")}
	if l := q.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 500 {
			return f, engine.FieldError("limit", "must be a whole number from 1 to 500")
		}
		f.Limit = n
	}
	switch q.Get("order") {
	case "", "oldest":
	case "newest":
		f.Newest = true
	default:
		return f, engine.FieldError("order", "must be oldest or newest")
	}
	n, err := boolParam(r, "numbered")
	f.Numbered = n
	return f, err
}

// page is a listing's answer: the documents under their route's name, and
// the cursor of the next page (null at the end).
func writePage(w http.ResponseWriter, name string, docs any, next string) {
	out := map[string]any{name: docs, "nextCursor": nil}
	if next != "" {
		out["nextCursor"] = next
	}
	writeJSON(w, http.StatusOK, out)
}

func listReturns(s *Server, w http.ResponseWriter, r *http.Request, a *engine.Actor) {
	f, err := listFilter(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	docs, next, err := s.svc.Returns(r.Context(), a, f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writePage(w, "returns", docs, next)
}

func listReceipts(s *Server, w http.ResponseWriter, r *http.Request, a *engine.Actor) {
	f, err := listFilter(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	docs, next, err := s.svc.Receipts(r.Context(), a, f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writePage(w, "receipts", docs, next)
}

func listTransfers(s *Server, w http.ResponseWriter, r *http.Request, a *engine.Actor) {
	f, err := listFilter(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	docs, next, err := s.svc.Transfers(r.Context(), a, f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writePage(w, "transfers", docs, next)
}

func getDocument(s *Server, w http.ResponseWriter, r *http.Request, a *engine.Actor) {
	d, err := s.svc.DocumentByNumber(r.Context(), a, mux.Vars(r)["number"])
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, d)
}

func listMovements(s *Server, w http.ResponseWriter, r *http.Request, a *engine.Actor) {
	f, err := listFilter(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	q := r.URL.Query()
	if q.Get("productId") == "" || q.Get("locationId") == "" {
		s.writeError(w, r, engine.FieldError("productId", "and locationId are required: GET /api/stock/movements?productId=…&locationId=…"))
		return
	}
	ms, next, err := s.svc.ProductMovements(r.Context(), a, q.Get("productId"), q.Get("locationId"), f)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writePage(w, "movements", ms, next)
}

func getToday(s *Server, w http.ResponseWriter, r *http.Request, a *engine.Actor) {
	rep, err := s.svc.TodayReport(r.Context(), a, r.URL.Query().Get("locationId"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}
