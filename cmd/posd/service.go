package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"posd/engine"
	"posd/install"
)

// runService manages posd as an OS service: install, uninstall, start,
// stop, restart, status, and run (what the service manager starts).
func runService(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	actions := append(append([]string{}, install.Actions...), "status", "run")
	synopsis := strings.Join(actions, "|") + " [--data-dir DIR] [--listen ADDR] [--tls-listen ADDR] [--tls-name NAME]"
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fs := newFlags("service", synopsis, stdout)
		if err := parse(fs, args); err != nil {
			return err
		}
		return usageError{"say what to do: posd service " + strings.Join(actions, "|")}
	}
	action := args[0]
	fs := newFlags("service "+action, synopsis, stdout)
	dir := fs.String("data-dir", defaultDataDir(), "data directory (made absolute at install time)")
	listen := fs.String("listen", ":8080", "address to listen on, host:port")
	// A new service serves HTTPS too; a service installed before, whose
	// definition has no --tls-listen, goes on as it was (HTTP only).
	tlsDefault := ""
	if action == "install" {
		tlsDefault = ":8443"
	}
	tlsOpt := &tlsOptions{}
	fs.StringVar(&tlsOpt.listen, "tls-listen", tlsDefault, "also serve HTTPS there, with a certificate from the shop's own CA; --tls-listen= turns it off")
	fs.Func("tls-name", "another host name or address for the HTTPS certificate (repeat, or separate with commas)", func(v string) error {
		for _, n := range strings.Split(v, ",") {
			if n = strings.TrimSpace(n); n != "" {
				tlsOpt.names = append(tlsOpt.names, n)
			}
		}
		return nil
	})
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if err := tlsOpt.check(); err != nil {
		return err
	}
	known := false
	for _, a := range actions {
		known = known || a == action
	}
	if !known {
		return usageError{fmt.Sprintf("unknown service action %q; use %s", action, strings.Join(actions, ", "))}
	}
	cfg, err := serviceConfig(*dir, *listen, tlsOpt.listen, tlsOpt.names)
	if err != nil {
		return err
	}
	switch action {
	case "run":
		// What the service manager starts: serve in the foreground, its log
		// in the rotating file, stopped by the manager.
		return install.Run(cfg, func(ctx context.Context, log io.Writer) error {
			return runServe(ctx, cfg.Arguments()[2:], log, log)
		}, shutdownTimeout+2*time.Second)
	case "status":
		st, err := install.Status(cfg)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "posd service (%s): %s\n", install.Platform(), st)
		return nil
	case "install":
		// Without the rights, Control says so; creating the folder first
		// would only fail with a less helpful message.
		if !install.Privileged() {
			break
		}
		if err := os.MkdirAll(cfg.DataDir, 0o700); err != nil {
			return fmt.Errorf("cannot create the data directory %s: %v", cfg.DataDir, err)
		}
	}
	if err := install.Control(cfg, action); err != nil {
		if errors.Is(err, install.ErrNotPrivileged) {
			return fmt.Errorf("%s", strings.TrimPrefix(err.Error(), install.ErrNotPrivileged.Error()+": "))
		}
		return fmt.Errorf("%s", strings.TrimPrefix(err.Error(), "install: "))
	}
	switch action {
	case "install":
		fmt.Fprintf(stdout, "Installed the posd service (%s):\n    %s %s\n", install.Platform(), cfg.Executable, strings.Join(cfg.Arguments(), " "))
		fmt.Fprintf(stdout, "Data directory: %s\nListening on:   %s\n", cfg.DataDir, cfg.Listen)
		if cfg.TLSListen != "" {
			fmt.Fprintf(stdout, "HTTPS on:       %s (each till trusts the shop's CA once: open /till/setup.html on it)\n", cfg.TLSListen)
		}
		fmt.Fprintf(stdout, "Log file:       %s\n", cfg.LogFile())
		if err := firstOwnerToken(ctx, cfg.DataDir, stdout); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Start it with: posd service start\n")
	case "uninstall":
		fmt.Fprintf(stdout, "Removed the posd service; the data in %s is left as it is.\n", cfg.DataDir)
	default:
		fmt.Fprintf(stdout, "posd service: %s done.\n", action)
	}
	return nil
}

// serviceConfig resolves the paths the service will use, once and for all:
// the binary and the data directory as absolute paths.
func serviceConfig(dir, listen, tlsListen string, tlsNames []string) (install.Config, error) {
	exe, err := os.Executable()
	if err == nil {
		exe, err = filepath.EvalSymlinks(exe)
	}
	if err != nil {
		return install.Config{}, fmt.Errorf("cannot find the posd binary: %v", err)
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return install.Config{}, err
	}
	c := install.Config{Name: "posd", DisplayName: "posd", Description: "point-of-sale back office for the shop's tills",
		Executable: exe, DataDir: abs, Listen: listen, TLSListen: tlsListen, TLSNames: tlsNames}
	return c, c.Validate()
}

// firstOwnerToken creates the database with its first business when the
// service's data directory has none, so that the installer sees the owner
// token once, here, instead of it going to a log.
func firstOwnerToken(ctx context.Context, dir string, stdout io.Writer) error {
	if _, err := os.Stat(filepath.Join(dir, dbFile)); err == nil {
		return nil
	}
	st, err := openStore(dir, true)
	if err != nil {
		return err
	}
	defer st.Close()
	svc := engine.NewService(st)
	biz, _, secret, err := svc.CreateBusiness(ctx, engine.BusinessInput{Name: "My Shop", Timezone: machineTimezone(), Currency: "EUR"})
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "New database in %s: business %q (%s, %s).\n", st.Path(), biz.Name, biz.Timezone, biz.Currency)
	printOwnerToken(stdout, secret)
	return nil
}
