package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// version and commit are set at build time with -ldflags "-X main.version=…".
var (
	version = "dev"
	commit  = ""
)

func runVersion(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("version", "", stdout)
	if err := parse(fs, args); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "posd %s (commit %s, %s, %s/%s)\n", version, commitID(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return nil
}

// commitID is the commit posd was built from, "unknown" if nobody said.
func commitID() string {
	if commit != "" {
		return commit
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				return s.Value
			}
		}
	}
	return "unknown"
}

// versionString is posd's version as files it writes record it (an
// export's manifest): "v1.2.0 (commit 3f9c2ab)".
func versionString() string { return version + " (commit " + commitID() + ")" }
