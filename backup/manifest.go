package backup

import (
	"encoding/json"
	"fmt"
	"os"
	"time"

	"posd/engine"
)

// Format and FormatVersion name the backup layout of this package: a plain
// database file with a JSON manifest beside it.
const (
	Format        = "posd-backup"
	FormatVersion = 1
)

// ManifestSuffix is appended to a backup's file name to name its manifest.
const ManifestSuffix = ".manifest.json"

// Manifest describes one backup file.
type Manifest struct {
	Format        string    `json:"format"`
	FormatVersion int       `json:"formatVersion"`
	SchemaVersion int       `json:"schemaVersion"`
	CreatedAt     time.Time `json:"createdAt"`
	// Automatic marks backups made by the scheduler; only those are ever
	// pruned.
	Automatic   bool   `json:"automatic"`
	PosdVersion string `json:"posdVersion,omitempty"`
	// File is the backup's base name, Size its length and SHA256 the hex
	// hash of its bytes.
	File   string `json:"file"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
	// Businesses holds the document counts and last numbers found in the
	// copy when it was verified.
	Businesses []engine.BusinessFigures `json:"businesses"`
}

// ManifestPath returns where the manifest of backup file lives.
func ManifestPath(file string) string { return file + ManifestSuffix }

// ReadManifest reads the manifest of backup file. It returns an error
// satisfying errors.Is(err, os.ErrNotExist) when there is none.
func ReadManifest(file string) (*Manifest, error) {
	b, err := os.ReadFile(ManifestPath(file))
	if err != nil {
		return nil, err
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("backup: manifest %s cannot be read: %v", ManifestPath(file), err)
	}
	return &m, nil
}
