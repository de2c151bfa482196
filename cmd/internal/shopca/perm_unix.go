//go:build !windows

package shopca

import "os"

// restrict makes path readable and writable by its owner only.
func restrict(path string) error { return os.Chmod(path, 0o600) }

// tighten makes a key file that others may read private again (a copy
// restored by hand, say).
func tighten(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	if st.Mode().Perm()&0o077 != 0 {
		return os.Chmod(path, 0o600)
	}
	return nil
}
