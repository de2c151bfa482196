// Package install runs posd as an operating-system service (systemd,
// launchd, the Windows service manager) through github.com/kardianos/service.
// It holds no business logic: it renders the service definitions, drives
// the service manager, and runs whatever function cmd/posd gives it in the
// foreground under that manager, with a rotating log file.
//
// The unit file and the plist are rendered here (SystemdUnit, LaunchdPlist)
// and handed to the library whole, instead of the library's defaults, which
// restart after 120 s and start before the network is up. Every path in
// them is absolute, fixed at install time: a service never relies on its
// working directory (System32 on Windows).
package install
