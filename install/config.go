package install

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"
)

// StopTimeout is how long the service manager waits for posd to stop
// before it kills it: posd itself finishes within 10 s of SIGTERM.
const StopTimeout = 15 * time.Second

// Config describes the posd service to install or run.
type Config struct {
	// Name is the service's name (posd).
	Name        string
	DisplayName string
	Description string
	// Executable is the absolute path of the posd binary.
	Executable string
	// DataDir and Listen are passed to posd service run; DataDir is
	// absolute.
	DataDir string
	Listen  string
	// TLSListen is the HTTPS listener's address ("" for none) and TLSNames
	// the extra names of its certificate, passed on as --tls-listen and
	// --tls-name.
	TLSListen string
	TLSNames  []string
}

// Arguments are the command-line arguments the service manager starts the
// executable with.
func (c Config) Arguments() []string {
	a := []string{"service", "run", "--data-dir", c.DataDir, "--listen", c.Listen}
	if c.TLSListen != "" {
		a = append(a, "--tls-listen", c.TLSListen)
	}
	for _, n := range c.TLSNames {
		a = append(a, "--tls-name", n)
	}
	return a
}

// Validate checks what would make a broken service definition.
func (c Config) Validate() error {
	if c.Name == "" || strings.ContainsAny(c.Name, " /\\") {
		return fmt.Errorf("install: service name %q is not usable", c.Name)
	}
	if !filepath.IsAbs(c.Executable) || !filepath.IsAbs(c.DataDir) {
		return errors.New("install: the executable and the data directory must be absolute paths")
	}
	for _, s := range append([]string{c.Executable, c.DataDir, c.Listen, c.TLSListen}, c.TLSNames...) {
		// The library reads service files as templates; and a line break
		// would end the unit's line.
		if strings.Contains(s, "{{") || strings.ContainsAny(s, "\r\n\x00") {
			return fmt.Errorf("install: %q cannot be used in a service definition", s)
		}
	}
	if c.Listen == "" {
		return errors.New("install: --listen is empty")
	}
	return nil
}

// LogFile is the rotating log file of the service, in the data directory.
func (c Config) LogFile() string { return filepath.Join(c.DataDir, "posd.log") }
