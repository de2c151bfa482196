//go:build windows

package main

import (
	"os"
	"path/filepath"

	"golang.org/x/sys/windows"
)

// privileged reports whether posd runs elevated (or as a service account).
func privileged() bool { return windows.GetCurrentProcessToken().IsElevated() }

func systemDataDir() string {
	base := os.Getenv("ProgramData")
	if base == "" {
		base = `C:\ProgramData`
	}
	return filepath.Join(base, "posd")
}
