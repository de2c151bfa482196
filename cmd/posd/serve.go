package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"time"

	"posd/api"
	"posd/engine"
)

// shutdownTimeout bounds a graceful stop; the contract allows 10 s in all.
const shutdownTimeout = 8 * time.Second

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("serve", "--data-dir DIR --listen ADDR", stderr)
	dir := fs.String("data-dir", defaultDataDir(), "data directory (initialised if empty)")
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
	if *pprofAddr != "" {
		stop, err := startPprof(*pprofAddr, log)
		if err != nil {
			return err
		}
		defer stop()
	}

	st, err := openStore(*dir, true)
	if err != nil {
		return err
	}
	defer st.Close()
	svc := engine.NewService(st)
	svc.IdempotencyTTL = *ttl
	ops, err := opsf.start(*dir, st, log)
	if err != nil {
		return err
	}
	defer ops.stop()

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return fmt.Errorf("cannot listen on %s: %v (is another program using the port? try --listen :8081)", *listen, err)
	}
	bizs, err := svc.Businesses(ctx)
	if err != nil {
		return err
	}
	if len(bizs) == 0 {
		biz, _, secret, err := svc.CreateBusiness(ctx, engine.BusinessInput{Name: "My Shop", Timezone: machineTimezone(), Currency: "EUR"})
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "New database in %s: business %q (%s, %s).\n", st.Path(), biz.Name, biz.Timezone, biz.Currency)
		printOwnerToken(stdout, secret)
	} else {
		fmt.Fprintf(stdout, "Database %s: %d business(es). Lost the owner token? Stop posd and run: posd token --data-dir %s\n", st.Path(), len(bizs), *dir)
	}
	if ln, err = tlsOpt.wrap(ln, *dir, stdout); err != nil {
		return err
	}
	for _, u := range tillURLs(ln.Addr()) {
		fmt.Fprintf(stdout, "Till: %s\n", tlsOpt.url(u))
	}

	srv := api.NewServer(svc, api.Options{Logger: log, Till: tillHandler(), Ops: ops.api()})
	hs := api.HTTPServer(*listen, srv)
	hs.ErrorLog = slog.NewLogLogger(log.Handler(), slog.LevelWarn)
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	sweepDone := make(chan struct{})
	sweepCtx, stopSweep := context.WithCancel(context.Background())
	go func() {
		defer close(sweepDone)
		sweep(sweepCtx, svc, log)
	}()
	log.Info("posd serving", "listen", ln.Addr().String(), "data", st.Path(), "version", version)

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

// tillURLs lists the addresses a till on the LAN can open.
func tillURLs(addr net.Addr) []string {
	ta, ok := addr.(*net.TCPAddr)
	if !ok {
		return nil
	}
	port := strconv.Itoa(ta.Port)
	if !ta.IP.IsUnspecified() {
		return []string{"http://" + net.JoinHostPort(ta.IP.String(), port) + "/till/"}
	}
	var out []string
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok && ipn.IP.To4() != nil && !ipn.IP.IsLoopback() && !ipn.IP.IsLinkLocalUnicast() {
				out = append(out, "http://"+net.JoinHostPort(ipn.IP.String(), port)+"/till/")
			}
		}
	}
	return append(out, "http://localhost:"+port+"/till/")
}
