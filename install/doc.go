// Package install runs posd as an operating-system service (systemd,
// launchd, the Windows service manager) through github.com/kardianos/service.
// It holds no business logic: it only starts and stops what cmd/posd wires.
package install
