package posdproc

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// Build compiles posd (the module's cmd/posd) to the file out. goFlags go
// to go build before the package, e.g. "-tags", "posd_crashpoints". It
// must run inside the posd module.
func Build(out string, goFlags ...string) error {
	args := append([]string{"build", "-o", out}, goFlags...)
	cmd := exec.Command("go", append(args, "posd/cmd/posd")...)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go %s: %v\n%s", strings.Join(cmd.Args[1:], " "), err, b)
	}
	return nil
}

// ModuleRoot finds the directory of the posd module's go.mod above the
// working directory.
func ModuleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", err
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("not inside the posd module")
	}
	return filepath.Dir(gomod), nil
}

// FreeAddr returns a loopback address with a port that was free a moment
// ago.
func FreeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}
