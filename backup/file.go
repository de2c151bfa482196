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
	bw := bufio.NewWriterSize(io.MultiWriter(SyncWriter(out), h), 1<<20)
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

// syncChunk is how much a large copy writes between two fsyncs.
const syncChunk = 32 << 20

// SyncWriter writes to f and fsyncs it every 32 MiB, then lets the page
// cache drop what it synced. A multi-gigabyte
// copy left to the page cache would fill it with dirty pages, and on many
// file systems (ext4 in ordered mode) the next commit's fsync of the live
// database then waits for all of them to reach the disk: sales would stall
// for seconds. Syncing as it goes keeps what any commit can wait for small.
func SyncWriter(f *os.File) io.Writer { return &syncWriter{f: f} }

type syncWriter struct {
	f              *os.File
	pending, total int64
}

func (w *syncWriter) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	w.pending += int64(n)
	w.total += int64(n)
	if err == nil && w.pending >= syncChunk {
		w.pending = 0
		if err = w.f.Sync(); err == nil {
			dropCache(w.f, w.total)
		}
	}
	return n, err
}
