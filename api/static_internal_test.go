package api

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/gorilla/mux"

	"posd/engine"
)

// TestStaticRoutesAreTheRoutersOwn: every route of the table without path
// variables (the till's, the office's, the setup and integrity routes as
// much as POST /api/sales) is served from the exact-path table, under its
// own name, and the router would have picked that very route for the
// request: the fast path is never a different route than gorilla/mux's,
// whatever routes, prefixes and pages are added.
func TestStaticRoutesAreTheRoutersOwn(t *testing.T) {
	pages := http.NotFoundHandler()
	s := NewServer(engine.NewService(nil), Options{Till: pages, Office: pages})
	n := 0
	for _, rt := range s.routes {
		if strings.Contains(rt.Path, "{") {
			continue
		}
		full := "/api" + rt.Path
		if rt.Root {
			full = rt.Path
		}
		st, ok := s.static[routeKey{rt.Method, full}]
		if !ok {
			t.Errorf("%s %s (%s): not served from the route table", rt.Method, full, rt.Name)
			continue
		}
		req := httptest.NewRequest(rt.Method, full, nil)
		if got := s.routeName(req); got != rt.Name || st.name != rt.Name {
			t.Errorf("%s %s: named %q / %q, want %q", rt.Method, full, got, st.name, rt.Name)
		}
		var m mux.RouteMatch
		if !s.router.Match(req, &m) || m.Route == nil || m.Route.GetName() != rt.Name {
			name := ""
			if m.Route != nil {
				name = m.Route.GetName()
			}
			t.Errorf("%s %s: the router picks route %q, the table %q", rt.Method, full, name, rt.Name)
		}
		n++
	}
	if n < 20 {
		t.Errorf("%d routes served from the table; the route table has more without variables", n)
	}
	t.Logf("%d of %d routes served from the table", n, len(s.routes))
}
