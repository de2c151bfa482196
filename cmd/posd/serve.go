package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	stdlog "log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"posd/api"
	"posd/api/office"
	"posd/api/till"
	"posd/cmd/internal/shopca"
	"posd/engine"
	"posd/engine/pinhash"
)

// shutdownTimeout bounds a graceful stop; the contract allows 10 s in all.
const shutdownTimeout = 8 * time.Second

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("serve", "--data-dir DIR [--database URL] --listen ADDR", stdout)
	dir := fs.String("data-dir", defaultDataDir(), "data directory (initialised if empty); with --database it keeps only certificates and backups")
	dbURL := addDatabaseFlag(fs)
	listen := fs.String("listen", ":8080", "address to listen on, host:port")
	ttl := fs.Duration("idempotency-ttl", engine.DefaultIdempotencyTTL, "how long full answers are kept for replay")
	logLevel := fs.String("log-level", "info", "debug, info, warn or error")
	pprofAddr := fs.String("pprof", "", "serve Go's profiler on this loopback address, e.g. 127.0.0.1:6060 (off by default; for measuring)")
	opsf := addOpsFlags(fs)
	tlsOpt := addTLSFlags(fs)
	if err := parse(fs, args); err != nil {
		return err
	}
	if err := tlsOpt.check(); err != nil {
		return err
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return usageError{fmt.Sprintf("--log-level %q: use debug, info, warn or error", *logLevel)}
	}
	if *ttl < time.Minute {
		return usageError{"--idempotency-ttl must be at least 1m"}
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	tuneGC()
	if *pprofAddr != "" {
		stop, err := startPprof(*pprofAddr, log)
		if err != nil {
			return err
		}
		defer stop()
	}

	st, err := openDatabase(ctx, *dir, *dbURL, true)
	if err != nil {
		return err
	}
	defer st.Close()
	if st.pg != nil {
		if err := os.MkdirAll(*dir, 0o700); err != nil {
			return fmt.Errorf("cannot create data directory %s: %v", *dir, err)
		}
	}
	svc := engine.NewService(st)
	svc.IdempotencyTTL = *ttl
	svc.PINs = pinhash.New()
	if err := upgradeChains(ctx, svc, st, stdout, log); err != nil {
		return err
	}
	ops, err := opsf.start(*dir, st, log)
	if err != nil {
		return err
	}
	defer ops.stop()

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("cannot listen on %s: %v (is another program using the port? try --listen :8081)", *listen, err)
	}
	defer ln.Close() // on the way out before serving; Shutdown closes it otherwise
	plain, secure := ln, net.Listener(nil)
	if tlsOpt.onListen() {
		plain, secure = nil, ln
		tlsOpt.deprecations(stderr)
	} else if tlsOpt.listen != "" {
		if secure, err = net.Listen("tcp", tlsOpt.listen); err != nil {
			return fmt.Errorf("cannot listen on %s for HTTPS: %v (is another program using the port? try --tls-listen :8444)", tlsOpt.listen, err)
		}
		defer secure.Close()
	}
	bizs, err := svc.Businesses(ctx)
	if err != nil {
		return err
	}
	var firstSecret string
	if len(bizs) == 0 {
		biz, _, secret, err := svc.CreateBusiness(ctx, engine.BusinessInput{Name: "My Shop", Timezone: machineTimezone(), Currency: "EUR"})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "New database in %s: business %q (%s, %s).\n", st.name, biz.Name, biz.Timezone, biz.Currency)
		printOwnerToken(stdout, secret)
		firstSecret = secret
	} else {
		how := "--data-dir " + *dir
		if st.pg != nil {
			how = "--database URL"
		}
		fmt.Fprintf(stdout, "Database %s: %d business(es). Lost the owner token? Run: posd token %s\n", st.name, len(bizs), how)
	}
	https, err := tlsOpt.start(*dir, plain, secure)
	if err != nil {
		return err
	}
	for _, u := range officeURLs(https.officeBases(), firstSecret) {
		fmt.Fprintf(stdout, "Back office: %s\n", u)
	}
	https.print(stdout)

	srv := api.NewServer(svc, api.Options{Logger: log, Till: till.Handler(), Office: office.Handler(), Ops: ops.api(), HTTPS: https, Version: versionString()})
	hs := api.HTTPServer(*listen, srv)
	hs.ErrorLog = serverLog(log)
	// One server on both listeners: the same routes, tokens and pairing
	// over HTTP and HTTPS, and one Shutdown for both.
	if secure != nil {
		cfg := shopca.TLSConfig(https.src)
		// Naming h2 here makes Serve and ServeTLS, whichever of the two
		// goroutines below starts first, set HTTP/2 up; otherwise a
		// Serve first leaves it out while ServeTLS still offers h2, and
		// browsers' connections are dropped after the handshake.
		cfg.NextProtos = []string{"h2", "http/1.1"}
		hs.TLSConfig = cfg
	}
	errc := make(chan error, 2)
	if plain != nil {
		go func() { errc <- hs.Serve(plain) }()
	}
	if secure != nil {
		go func() { errc <- hs.ServeTLS(secure, "", "") }()
	}
	sweepDone := make(chan struct{})
	sweepCtx, stopSweep := context.WithCancel(context.Background())
	go func() {
		defer close(sweepDone)
		sweep(sweepCtx, svc, log)
	}()
	go https.run(sweepCtx, log)
	logArgs := []any{"data", st.name, "version", version}
	if plain != nil {
		logArgs = append(logArgs, "listen", plain.Addr().String())
	}
	if secure != nil {
		logArgs = append(logArgs, "tls-listen", secure.Addr().String())
	}
	log.Info("posd serving", logArgs...)

	select {
	case err := <-errc:
		stopSweep()
		<-sweepDone
		return fmt.Errorf("server stopped: %v", err)
	case <-ctx.Done():
	}
	log.Info("stopping: finishing requests in flight")
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	err = hs.Shutdown(sctx)
	stopSweep()
	<-sweepDone
	ops.stop()
	if cerr := st.Close(); cerr != nil && err == nil {
		err = cerr
	}
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Warn("unclean stop", "err", err)
	}
	log.Info("stopped")
	return nil
}

// sweep drops expired idempotency answers in small batches, every few
// minutes, so that no sweep holds the writer for long.
func sweep(ctx context.Context, svc *engine.Service, log *slog.Logger) {
	t := time.NewTicker(5 * time.Minute)
	defer t.Stop()
	for {
		n, err := svc.SweepIdempotency(ctx, 256)
		if err != nil && ctx.Err() == nil {
			log.Warn("idempotency sweep", "err", err)
		} else if n > 0 {
			log.Info("idempotency sweep", "dropped", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// officeURLs lists the back office's addresses beside the till's. On the
// first start, when the owner token has just been printed, the localhost
// address carries it in its fragment (#token=…, never sent to the server):
// opening it signs the owner in, so the tour needs no copy and paste. The
// page removes the token from the address bar at once.
func officeURLs(bases []string, secret string) []string {
	var out []string
	for _, b := range bases {
		o := b + "/office/"
		if secret != "" && (strings.Contains(o, "://localhost:") || strings.Contains(o, "://127.0.0.1:") || strings.Contains(o, "://[::1]:")) {
			o += "#token=" + secret
		}
		out = append(out, o)
	}
	return out
}

// officeBases are the addresses the back office is printed with: the
// plain listener's (an owner's browser does not trust the shop CA before
// it is installed), else the HTTPS one's.
func (h *httpsSide) officeBases() []string {
	if h.plain != nil {
		return h.bases("http", h.plain, false, true)
	}
	if h.secure != nil {
		return h.bases("https", h.secure, true, true)
	}
	return nil
}

// serverLog is the http.Server's own log: warnings, except failed TLS
// handshakes, which are what every device not yet trusting the shop CA
// causes (the setup page's check among them) and go to debug.
func serverLog(log *slog.Logger) *stdlog.Logger {
	return stdlog.New(logWriter(func(p []byte) {
		msg := strings.TrimSpace(string(p))
		level := slog.LevelWarn
		if strings.HasPrefix(msg, "http: TLS handshake error") {
			level = slog.LevelDebug
		}
		log.Log(context.Background(), level, msg)
	}), "", 0)
}

type logWriter func([]byte)

func (f logWriter) Write(p []byte) (int, error) { f(p); return len(p), nil }

// upgradeChains links the documents of a database made before posd had hash
// chains, before serve takes a request: the first sale after it must chain
// to a complete series. It costs a read per series when there is nothing
// to do.
func upgradeChains(ctx context.Context, svc *engine.Service, db *database, stdout io.Writer, log *slog.Logger) error {
	up, err := svc.UpgradeChains(ctx)
	if err != nil {
		return fmt.Errorf("cannot link the documents into hash chains: %v", err)
	}
	kept := ""
	if db.bolt != nil {
		kept = db.bolt.UpgradeBackup()
	}
	if up.Documents == 0 && kept == "" {
		return nil
	}
	log.Info("documents linked into hash chains", "documents", up.Documents, "series", up.Series, "took", up.Took.Round(time.Millisecond), "copy", kept)
	fmt.Fprintf(stdout, "Upgraded the database to hash chains: %d documents in %d series linked in %s.\n", up.Documents, up.Series, up.Took.Round(time.Millisecond))
	if kept != "" {
		fmt.Fprintf(stdout, "The database as it was before is kept as %s.\n", kept)
	}
	return nil
}
