//go:build linux

// Command posd-load drives a running posd the way a shop's tills do, and
// measures it: throughput, latency, errors by code, the server's memory and
// CPU; afterwards it checks that what posd stored is exactly what it
// acknowledged (every acknowledged sale present once, numbers gapless).
//
// Subcommands:
//
//	posd-load run          N tills for a duration or a count, realistic mix
//	posd-load drain        20 tills × 500 queued sales, each exactly once
//	posd-load seed         fill a database with 1 million sales, in-process
//	posd-load bare-server  a bare net/http handler: the ceiling of any HTTP design
//	posd-load suite        every figure of BENCHMARKS.md in one run
//	posd-load bench-pg     posd on PostgreSQL beside the seed design's pgbench
//	posd-load probe        how busy the machine and its disk are now
//	posd-load wrk          wrk against posd, the bare server and PostgreSQL, side by side
//
// Run "posd-load CMD -h" for a subcommand's flags.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"run", "run N tills against posd for a duration or a count, then verify", runRun},
		{"drain", "20 tills each submit 500 queued sales as fast as they can, then verify", runDrain},
		{"seed", "fill a data directory with sales through the engine, in-process (posd must be stopped)", runSeed},
		{"bare-server", "serve a bare net/http handler that only decodes and encodes the same JSON", runBare},
		{"suite", "measure every figure of BENCHMARKS.md, side by side, in one run", runSuite},
		{"bench-pg", "posd on PostgreSQL (one and two processes) beside the seed design's pgbench, on one throwaway server", runPGSuite},
		{"probe", "print the load average and the disk's fdatasync and lone-commit latency now", runProbe},
		{"wrk", "Debian's wrk against posd, the bare echo and the seed design on PostgreSQL, then verify", runWrk},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(dispatch(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func dispatch(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout)
		return 0
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, args[1:], stdout, stderr)
		switch {
		case errors.Is(err, flag.ErrHelp):
			return 0
		case errors.As(err, new(usageError)):
			fmt.Fprintln(stderr, "posd-load "+c.name+": "+err.Error())
			return 2
		case err != nil:
			fmt.Fprintln(stderr, "posd-load "+c.name+": "+err.Error())
			return 1
		}
		return 0
	}
	fmt.Fprintf(stderr, "posd-load: unknown command %q; run \"posd-load help\"\n", args[0])
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "posd-load - load generator and benchmark suite for posd")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Usage: posd-load COMMAND [flags]   (posd-load COMMAND -h for its flags)")
	fmt.Fprintln(w)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-12s %s\n", c.name, c.summary)
	}
}

// usageError marks a wrong invocation (exit code 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func newFlags(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("posd-load "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: posd-load %s %s\n\n", name, synopsis)
		fs.PrintDefaults()
	}
	return fs
}

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	return nil
}
