//go:build !windows

package install

import "os"

func privileged() bool { return os.Geteuid() == 0 }

func privilegeHint(action string) string {
	return "posd service " + action + " changes the system's services and must run as root: sudo posd service " + action + " …"
}
