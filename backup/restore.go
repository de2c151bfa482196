package backup

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Restored says what Restore did.
type Restored struct {
	Report *Report
	// Previous is where the database that was replaced now lives; "" when
	// there was none.
	Previous string
}

// ErrInUse is returned by the inUse check of Restore when the database is
// held by a running posd.
var ErrInUse = errors.New("backup: the database is in use")

// Restore replaces the database at dbPath with the backup file. It verifies
// the backup first and refuses one with any finding, or with a schema newer
// than this posd; then, after inUse has confirmed that no posd holds the
// database, it copies the backup beside the database (synced, and hashed
// again against the manifest), moves the current database aside as
// pre-restore-<time>.db in the same folder, renames the copy into place and
// syncs the folder. Nothing is changed when any step before the renames
// fails. Numbering goes on from the restored counters.
func (c Config) Restore(ctx context.Context, file, dbPath string, inUse func() error) (*Restored, error) {
	rep, err := c.VerifyFile(ctx, file)
	if err != nil {
		return nil, err
	}
	if n := rep.Findings(); n > 0 {
		return &Restored{Report: rep}, fmt.Errorf("%w: %s has %d finding(s); nothing was changed", ErrVerify, file, n)
	}
	dir := filepath.Dir(dbPath)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	if err := inUse(); err != nil {
		return &Restored{Report: rep}, err
	}
	tmp := dbPath + ".restore-tmp"
	os.Remove(tmp)
	sum, err := copyFileSync(file, tmp)
	if err != nil {
		os.Remove(tmp)
		return nil, fmt.Errorf("backup: copying %s: %v", file, err)
	}
	if rep.Manifest != nil && sum != rep.Manifest.SHA256 {
		os.Remove(tmp)
		return nil, fmt.Errorf("%w: the file changed while it was restored (sha256 %s, manifest %s); nothing was changed", ErrVerify, sum, rep.Manifest.SHA256)
	}
	res := &Restored{Report: rep}
	if _, err := os.Stat(dbPath); err == nil {
		res.Previous = filepath.Join(dir, "pre-restore-"+c.now().Format("20060102T150405Z")+".db")
		if err := os.Rename(dbPath, res.Previous); err != nil {
			os.Remove(tmp)
			return nil, fmt.Errorf("backup: moving the current database aside: %v", err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		os.Remove(tmp)
		return nil, err
	}
	if err := os.Rename(tmp, dbPath); err != nil {
		if res.Previous != "" {
			os.Rename(res.Previous, dbPath)
		}
		return nil, fmt.Errorf("backup: putting the backup in place: %v", err)
	}
	return res, syncDir(dir)
}
