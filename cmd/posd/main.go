// Command posd is the point-of-sale back office: one binary that keeps a
// shop's sales in an embedded database and serves the API and the till page
// to the tills on the LAN. Run "posd help" for the commands.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	_ "time/tzdata" // time zones on machines without a zone database (Windows)
)

// command is one subcommand, with its own flag set (one file each).
type command struct {
	name    string
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"init", "create the database and add a business with an owner token", runInit},
		{"serve", "serve the API and the till page", runServe},
		{"token", "make a new owner token (when the old one is lost); posd must be stopped", runToken},
		{"backup", "write a verified backup of the database, while posd serves or not", runBackup},
		{"export", "write the accountant's export (CSV files and manifest) of a range of days", runExport},
		{"verify", "check a backup file or a data directory; exits non-zero on any finding", guarded("verify", runVerify)},
		{"restore", "replace the database with a verified backup; posd must be stopped", guarded("restore", runRestore)},
		{"migrate", "copy the database between the embedded file and PostgreSQL (--to / --from), verified", runMigrate},
		{"compact", "rewrite the database without its free pages; posd must be stopped", runCompact},
		{"service", "install|uninstall|start|stop|restart|status|run posd as an OS service", runService},
		{"version", "print version, commit and Go version", runVersion},
		{"help", "show this help", nil},
	}
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// run dispatches to a subcommand and turns its error into one line on
// stderr and a non-zero exit code.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		if len(args) > 1 {
			return run(ctx, []string{args[1], "-h"}, stdout, stderr)
		}
		usage(stdout)
		return 0
	}
	for _, c := range commands() {
		if c.name != args[0] || c.run == nil {
			continue
		}
		err := c.run(ctx, args[1:], stdout, stderr)
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		var code exitCode
		if errors.As(err, &code) {
			return int(code)
		}
		if err != nil {
			var ue usageError
			fmt.Fprintln(stderr, "posd "+c.name+": "+err.Error())
			if errors.As(err, &ue) {
				return 2
			}
			return 1
		}
		return 0
	}
	fmt.Fprintf(stderr, "posd: unknown command %q; run \"posd help\" for the list\n", args[0])
	return 2
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "posd - point-of-sale back office for one shop's LAN")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Usage: posd COMMAND [flags]   (posd COMMAND -h for its flags)")
	fmt.Fprintln(w)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "The data directory defaults to $POSD_DATA_DIR, else "+systemDataDir()+" when run as")
	fmt.Fprintln(w, "administrator, else ./data.")
}

// usageError marks errors in how the command was called (exit code 2).
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// newFlags returns a flag set that returns errors instead of exiting and
// prints nothing itself: parse turns a mistake into one line, and -h into
// the usage on help (the command's stdout).
func newFlags(name, synopsis string, help io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("posd "+name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	usages[fs] = flagUsage{"Usage: posd " + name + " " + synopsis, help}
	return fs
}

// flagUsage is a flag set's synopsis and where its -h prints.
type flagUsage struct {
	synopsis string
	help     io.Writer
}

// usages holds each flag set's flagUsage for parse.
var usages = map[*flag.FlagSet]flagUsage{}

// printUsage writes a flag set's synopsis and flags to where -h prints.
func printUsage(fs *flag.FlagSet) {
	u := usages[fs]
	fmt.Fprintf(u.help, "%s\n\n", u.synopsis)
	fs.SetOutput(u.help)
	fs.PrintDefaults()
	fs.SetOutput(io.Discard)
}

// parse parses args, turning flag errors into one-line usage errors and -h
// into the usage on the command's stdout.
func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			printUsage(fs)
			return err
		}
		return usageError{err.Error() + " (see posd " + strings.TrimPrefix(fs.Name(), "posd ") + " -h)"}
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q (see posd %s -h)", fs.Arg(0), strings.TrimPrefix(fs.Name(), "posd "))}
	}
	return nil
}
