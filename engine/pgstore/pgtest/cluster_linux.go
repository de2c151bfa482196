package pgtest

import "syscall"

// runAs is the user the cluster's processes run as when the tests run as
// root.
type runAs = syscall.Credential

func supported() error { return nil }

func initdbAttr(cred *runAs) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: cred}
}

// serverAttr runs the server as cred, in its own process group, and kills
// it when the thread that started it ends (Pdeathsig).
func serverAttr(cred *runAs) *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGKILL, Setpgid: true}
}

// alive reports whether process pid exists.
func alive(pid int) bool { return syscall.Kill(pid, 0) == nil }
