package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
)

// guardedEnv marks the child process a guarded command runs in.
const guardedEnv = "POSD_GUARDED_CHILD"

// guarded runs a command that reads database files of unknown health in a
// child process. bbolt trusts the file it maps: some damage makes it panic
// instead of returning an error, and a panic in its page walkers cannot be
// recovered. In the child, such a crash is only the child's; the parent
// turns it into a finding a shop owner can read, and the exit code says
// the file failed.
func guarded(name string, run func(ctx context.Context, args []string, stdout, stderr io.Writer) error) func(context.Context, []string, io.Writer, io.Writer) error {
	return func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
		if os.Getenv(guardedEnv) == "1" {
			return run(ctx, args, stdout, stderr)
		}
		exe, err := os.Executable()
		if err != nil {
			return run(ctx, args, stdout, stderr)
		}
		cmd := exec.CommandContext(ctx, exe, append([]string{name}, args...)...)
		cmd.Env = append(os.Environ(), guardedEnv+"=1")
		var errOut bytes.Buffer
		cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, stdout, &errOut
		err = cmd.Run()
		if crash := crashLine(errOut.String()); crash != "" {
			fmt.Fprintf(stdout, "  FAIL  %s\n          - the file is damaged so badly that the storage engine crashed reading it (%s)\n", "storage integrity", crash)
			return errors.New("the file is damaged beyond reading; use another backup")
		}
		stderr.Write(errOut.Bytes())
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return exitCode(ee.ExitCode())
		}
		return err
	}
}

// crashLine returns the first line of a Go panic or fatal error in a
// child's stderr, or "".
func crashLine(s string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, "panic: ") || strings.HasPrefix(l, "fatal error: ") || strings.HasPrefix(l, "unexpected fault address") {
			return strings.TrimSpace(l)
		}
	}
	return ""
}

// exitCode is an error that has already been reported (by a child): run
// exits with the code and prints nothing more.
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit status %d", int(e)) }
