//go:build windows

package install

import "golang.org/x/sys/windows"

func privileged() bool { return windows.GetCurrentProcessToken().IsElevated() }

func privilegeHint(action string) string {
	return "posd service " + action + " changes the system's services and needs an administrator: open the command prompt with \"Run as administrator\" and try again"
}
