package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"posd/engine/boltstore"
)

// dbFile is the database's name inside the data directory.
const dbFile = "posd.db"

// defaultDataDir follows contract §1: $POSD_DATA_DIR, else the system's
// place for service data when privileged, else ./data.
func defaultDataDir() string {
	if d := os.Getenv("POSD_DATA_DIR"); d != "" {
		return d
	}
	if privileged() {
		return systemDataDir()
	}
	return "data"
}

// openStore opens the database in dir, creating dir if needed, with the
// error a shop owner can act on when another posd holds it.
func openStore(dir string, create bool) (*boltstore.Store, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(abs, dbFile)
	if !create {
		if _, err := os.Stat(path); err != nil {
			return nil, fmt.Errorf("no posd database in %s (run posd init --data-dir %s first)", abs, dir)
		}
	}
	if err := os.MkdirAll(abs, 0o700); err != nil {
		return nil, fmt.Errorf("cannot create data directory %s: %v", abs, err)
	}
	st, err := boltstore.Open(path, boltstore.Options{LockTimeout: 2 * time.Second})
	if errors.Is(err, boltstore.ErrLocked) {
		return nil, fmt.Errorf("posd is already running on data dir %s (the database is in use); stop it first or use another --data-dir", abs)
	}
	if errors.Is(err, boltstore.ErrNewerSchema) {
		return nil, fmt.Errorf("%v", strings.TrimPrefix(err.Error(), "boltstore: "))
	}
	if err != nil {
		return nil, fmt.Errorf("cannot open the database in %s: %v", abs, err)
	}
	return st, nil
}

// machineTimezone returns the IANA name of the machine's time zone, or UTC
// when it cannot be found (the owner can pass --timezone).
func machineTimezone() string {
	if tz := os.Getenv("TZ"); tz != "" {
		if _, err := time.LoadLocation(tz); err == nil && tz != "Local" {
			return strings.TrimPrefix(tz, ":")
		}
	}
	if b, err := os.ReadFile("/etc/timezone"); err == nil {
		tz := strings.TrimSpace(string(b))
		if _, err := time.LoadLocation(tz); err == nil && tz != "" {
			return tz
		}
	}
	if p, err := filepath.EvalSymlinks("/etc/localtime"); err == nil {
		if _, tz, ok := strings.Cut(p, "zoneinfo/"); ok {
			if _, err := time.LoadLocation(tz); err == nil {
				return tz
			}
		}
	}
	return "UTC"
}
