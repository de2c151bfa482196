//go:build !windows

package main

import (
	"os"
	"runtime"
)

func privileged() bool { return os.Geteuid() == 0 }

func systemDataDir() string {
	if runtime.GOOS == "darwin" {
		return "/Library/Application Support/posd"
	}
	return "/var/lib/posd"
}
