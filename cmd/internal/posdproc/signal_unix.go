//go:build !windows

package posdproc

import (
	"os"
	"syscall"
)

// resume lets a process stopped by SIGSTOP (the fault harness pauses posd)
// run again, so that it can handle the signal that follows.
func resume(p *os.Process) { p.Signal(syscall.SIGCONT) }
