package api

import (
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"posd/engine"
)

// Server is posd's HTTP handler.
type Server struct {
	svc     *engine.Service
	log     *slog.Logger
	router  *mux.Router
	limiter *authLimiter
	metrics *metrics
	routes  []Route
	// static serves the routes without path variables by exact method and
	// path, ahead of the router (see ServeHTTP).
	static  map[routeKey]staticRoute
	ops     Ops
	backups backupKeys
	version string
	https   HTTPS
	promState
	// Now is the clock for rate limiting and the health view.
	Now func() time.Time
}

// Options configure a Server.
type Options struct {
	Logger *slog.Logger
	// Till serves the till page under /till/; nil leaves it out.
	Till http.Handler
	// Office serves the back office under /office/; nil leaves it out.
	Office http.Handler
	// Ops feeds the health view and /metrics (see ops.go).
	Ops Ops
	// Version is posd's version, recorded in export manifests.
	Version string
	// HTTPS serves /ca.crt and /api/setup (see setup.go); nil: no CA.
	HTTPS HTTPS
}

// Route describes one API route: what it needs and who may call it. The
// table is exported so that tests can walk every route (role × tenant
// matrices) and a new route cannot be forgotten.
type Route struct {
	Name   string
	Method string
	Path   string
	// Perm is the permission the route needs; Public routes need no token.
	Perm   engine.Permission
	Public bool
	// Root routes live outside /api (Prometheus's /metrics).
	Root   bool
	handle func(s *Server, w http.ResponseWriter, r *http.Request, a *engine.Actor)
}

// NewServer returns the handler for svc.
func NewServer(svc *engine.Service, o Options) *Server {
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	s := &Server{svc: svc, log: o.Logger, router: mux.NewRouter(), limiter: newAuthLimiter(), metrics: newMetrics(), ops: o.Ops, https: o.HTTPS, version: o.Version, Now: time.Now,
		static: map[routeKey]staticRoute{}}
	if s.version == "" {
		s.version = "unknown"
	}
	s.router.StrictSlash(false)
	s.routes = routes()
	api := s.router.PathPrefix("/api").Subrouter()
	for _, rt := range s.routes {
		r := api
		if rt.Root {
			r = s.router
		}
		h := s.wrap(rt)
		r.Handle(rt.Path, h).Methods(rt.Method).Name(rt.Name)
		if !strings.Contains(rt.Path, "{") {
			full := rt.Path
			if !rt.Root {
				full = "/api" + rt.Path
			}
			s.static[routeKey{rt.Method, full}] = staticRoute{h, rt.Name}
		}
	}
	// gorilla/mux reports a method mismatch as not found when another
	// route's pattern follows (/sales, then /sales/{id}), so the 405 is
	// decided here, from the route table itself.
	noRoute := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if allow := s.allowed(r); allow != "" {
			w.Header().Set("Allow", allow)
			s.writeError(w, r, &engine.Error{Code: EMETHODNOTALLOWED, Message: "this route does not take " + r.Method + "; it takes " + allow})
			return
		}
		s.writeError(w, r, engine.Errorf(engine.ENOTFOUND, "no such API route: %s %s", r.Method, r.URL.Path))
	})
	api.NotFoundHandler, api.MethodNotAllowedHandler = noRoute, noRoute
	if o.Till != nil {
		s.router.PathPrefix("/till/").Handler(o.Till)
		s.router.Handle("/till", http.RedirectHandler("/till/", http.StatusMovedPermanently))
		s.router.Handle("/", http.RedirectHandler("/till/", http.StatusFound))
	}
	if o.Office != nil {
		s.router.PathPrefix("/office/").Handler(o.Office)
		s.router.Handle("/office", http.RedirectHandler("/office/", http.StatusMovedPermanently))
	}
	return s
}

// Routes returns the route table.
func (s *Server) Routes() []Route { return append([]Route(nil), s.routes...) }

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer func() {
		if p := recover(); p != nil {
			if p == http.ErrAbortHandler {
				panic(p)
			}
			s.log.Error("panic serving request", "method", r.Method, "path", r.URL.Path, "panic", p)
			s.writeError(w, r, engine.Errorf(engine.EINTERNAL, "panic"))
		}
	}()
	if rt, ok := s.static[routeKey{r.Method, r.URL.Path}]; ok {
		rt.h.ServeHTTP(w, r)
		return
	}
	s.router.ServeHTTP(w, r)
}

// routeKey is a method and an exact, clean path.
type routeKey struct{ method, path string }

// staticRoute is a route without path variables: its handler and name.
//
// A request for one of them (POST /api/sales above all) is served straight
// from the route table: gorilla/mux would find the same handler after
// matching the request against the routes' regular expressions in turn and
// copying the request twice to carry the route and its (empty) variables,
// a cost every sale paid. A path that is not exactly one of these (not
// clean, another method, a path variable) goes through the router as
// before, so cleaning, redirects, 404 and 405 are unchanged. Handlers of
// these routes find no mux.CurrentRoute; routeName stands in.
type staticRoute struct {
	h    http.Handler
	name string
}

// routeName is the name of the route serving r.
func (s *Server) routeName(r *http.Request) string {
	if rt := mux.CurrentRoute(r); rt != nil {
		return rt.GetName()
	}
	return s.static[routeKey{r.Method, r.URL.Path}].name
}

// allowed lists the methods the request's path does take.
func (s *Server) allowed(r *http.Request) string {
	var m []string
	for _, rt := range s.routes {
		rq := r.Clone(r.Context())
		rq.Method = rt.Method
		if mr := s.router.Get(rt.Name); mr != nil && mr.Match(rq, &mux.RouteMatch{}) {
			m = append(m, rt.Method)
		}
	}
	return strings.Join(m, ", ")
}

// wrap authenticates and authorises a request before its handler runs,
// and times it for the request-duration histogram; a write's outcome feeds
// the health view's "writes failing right now".
func (s *Server) wrap(rt Route) http.Handler {
	h := s.authorize(rt)
	// A POST's success is counted by idempotent(), which knows a replay
	// (answered from a snapshot, nothing written) from a commit; PUT
	// reports are kept in memory first (see tills). PATCH and DELETE
	// commit when they succeed.
	write := rt.Method == http.MethodPatch || rt.Method == http.MethodDelete
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		h.ServeHTTP(sw, r)
		s.metrics.requestDone(rt.Name, time.Since(start))
		if write && sw.status > 0 && sw.status < 400 {
			s.metrics.writeOK()
		}
	})
}

// statusWriter remembers the status a handler answered with.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// authorize authenticates and authorises a request before its handler runs.
func (s *Server) authorize(rt Route) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if rt.Public {
			rt.handle(s, w, r, nil)
			return
		}
		ip := clientIP(r)
		if wait := s.limiter.blocked(ip, s.Now()); wait > 0 {
			s.writeError(w, r, &waitError{err: &engine.Error{Code: ERATELIMITED,
				Message: "too many requests with wrong tokens from this address; wait and retry"}, wait: wait})
			return
		}
		secret, ok := bearer(r)
		if !ok {
			s.writeError(w, r, engine.Errorf(engine.EUNAUTHORIZED, "a token is needed: send Authorization: Bearer TOKEN"))
			return
		}
		a, err := s.svc.Authenticate(r.Context(), secret)
		if err != nil {
			if engine.ErrorCode(err) == engine.EUNAUTHORIZED {
				s.limiter.fail(ip, s.Now())
			}
			s.writeError(w, r, err)
			return
		}
		if err := a.Can(rt.Perm); err != nil {
			s.writeError(w, r, err)
			return
		}
		rt.handle(s, w, r, a)
	})
}

func bearer(r *http.Request) (string, bool) {
	h := r.Header.Values("Authorization")
	if len(h) != 1 {
		return "", false
	}
	scheme, tok, ok := strings.Cut(h[0], " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	tok = strings.TrimSpace(tok)
	return tok, tok != ""
}

func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// HTTPServer returns an http.Server for h with the limits posd needs on a
// LAN: slow or stuck clients cannot hold connections forever, and
// oversized headers are refused.
func HTTPServer(addr string, h http.Handler) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      90 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
}
