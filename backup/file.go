package backup

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"runtime"
)

// syncDir makes renames and new entries in dir durable.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		// Windows cannot sync a directory; NTFS journals the rename.
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// copyFileSync copies src to a new file dst (mode 0600), syncs it, and
// returns the hex SHA-256 of what it copied.
func copyFileSync(src, dst string) (string, error) {
	in, err := os.Open(src)
	if err != nil {
		return "", err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", err
	}
	h := sha256.New()
	bw := bufio.NewWriterSize(io.MultiWriter(out, h), 1<<20)
	if _, err := io.Copy(bw, in); err != nil {
		out.Close()
		return "", err
	}
	if err := bw.Flush(); err != nil {
		out.Close()
		return "", err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return "", err
	}
	if err := out.Close(); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
