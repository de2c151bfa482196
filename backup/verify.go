package backup

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"

	"posd/engine"
)

// Report is what verifying a backup or a database found: every check in
// order, each with what it looked at and its findings.
type Report struct {
	File string
	// Manifest is the backup's manifest, nil when the file has none.
	Manifest   *Manifest
	Checks     []*engine.Check
	Businesses []engine.BusinessFigures
	// Duplicates counts documents carrying a number another also carries.
	Duplicates int
}

// Findings counts the findings of all checks.
func (r *Report) Findings() int {
	n := 0
	for _, c := range r.Checks {
		n += len(c.Findings) + c.Omitted
	}
	return n
}

// Check names used in reports besides the engine's.
const (
	CheckManifest = "manifest"
	CheckStorage  = "storage integrity"
)

// VerifyFile checks a backup file, or any posd database file, on its own:
// the manifest beside it (format, schema, size, SHA-256), the storage
// structure, the domain invariants, and that the figures in the file are
// the ones the manifest recorded. A file without a manifest is checked as
// a plain database. A file that does not match its manifest is not opened
// at all: it is not the file that was written. The error is only for a file
// that cannot be read; everything else is a finding in the report.
func (c Config) VerifyFile(ctx context.Context, path string) (*Report, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.IsDir() {
		return nil, fmt.Errorf("%s is a folder; give a backup file, or use --data-dir for a data directory", path)
	}
	rep := &Report{File: path}
	mc := &engine.Check{Name: CheckManifest}
	rep.Checks = append(rep.Checks, mc)
	m, err := ReadManifest(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		mc.Detail = "none (" + ManifestPath(path) + " not found); checked as a plain database file"
	case err != nil:
		mc.Findings = append(mc.Findings, err.Error())
	default:
		rep.Manifest = m
		mc.Detail = fmt.Sprintf("%s %d, schema %d, made %s, %d bytes, sha256 %s", m.Format, m.FormatVersion, m.SchemaVersion,
			m.CreatedAt.Format("2006-01-02 15:04:05 UTC"), m.Size, m.SHA256)
		if m.Format != Format || m.FormatVersion < 1 || m.FormatVersion > FormatVersion {
			mc.Findings = append(mc.Findings, fmt.Sprintf("format %q version %d is not one this posd reads (%s %d)", m.Format, m.FormatVersion, Format, FormatVersion))
		}
		if m.SchemaVersion > c.Schema {
			mc.Findings = append(mc.Findings, fmt.Sprintf("the backup has schema %d, written by a newer posd; this posd knows up to %d: use a newer posd", m.SchemaVersion, c.Schema))
		}
		sum, size, err := hashFile(path)
		if err != nil {
			return nil, err
		}
		if size != m.Size {
			mc.Findings = append(mc.Findings, fmt.Sprintf("the file has %d bytes, the manifest says %d: it is truncated or not this backup", size, m.Size))
		} else if sum != m.SHA256 {
			mc.Findings = append(mc.Findings, fmt.Sprintf("the file's sha256 is %s, the manifest says %s: the file is damaged or not this backup", sum, m.SHA256))
		}
		if mc.Failed() {
			rep.Checks = append(rep.Checks, &engine.Check{Name: CheckStorage, Detail: "skipped: the file does not match its manifest, so it is not opened"})
			return rep, nil
		}
	}
	db, err := c.Open(path)
	if err != nil {
		rep.Checks = append(rep.Checks, &engine.Check{Name: CheckStorage, Findings: []string{"the file cannot be opened as a posd database: " + err.Error()}})
		return rep, nil
	}
	defer db.Close()
	c.verifyOpen(ctx, db, rep)
	if m != nil && rep.Businesses != nil {
		compareFigures(mc, m.Businesses, rep.Businesses)
	}
	return rep, nil
}

// VerifyDatabase checks an open database: storage structure and domain
// invariants.
func (c Config) VerifyDatabase(ctx context.Context, db Database, name string) *Report {
	rep := &Report{File: name}
	c.verifyOpen(ctx, db, rep)
	return rep
}

func (c Config) verifyOpen(ctx context.Context, db Database, rep *Report) {
	sc := &engine.Check{Name: CheckStorage}
	rep.Checks = append(rep.Checks, sc)
	schema, err := db.SchemaVersion()
	if err != nil {
		sc.Findings = append(sc.Findings, err.Error())
		return
	}
	if schema > c.Schema {
		sc.Findings = append(sc.Findings, fmt.Sprintf("schema %d is newer than this posd knows (%d)", schema, c.Schema))
		return
	}
	for _, e := range db.CheckIntegrity(ctx) {
		sc.Findings = append(sc.Findings, e.Error())
	}
	if sc.Failed() {
		sc.Detail = fmt.Sprintf("schema %d; the domain checks were skipped: the file's structure is damaged", schema)
		return
	}
	sc.Detail = fmt.Sprintf("schema %d; every page reachable once, keys in order", schema)
	if d, ok := db.(interface{ IntegrityDetail() string }); ok {
		sc.Detail = fmt.Sprintf("schema %d; %s", schema, d.IntegrityDetail())
	}
	er, err := engine.NewService(db).VerifyWith(ctx, engine.VerifyOptions{Anchors: c.Anchors, Unchained: schema < c.ChainsSince})
	if err != nil {
		sc.Findings = append(sc.Findings, "reading the documents failed: "+err.Error())
		return
	}
	rep.Checks = append(rep.Checks, er.Checks...)
	rep.Businesses = er.Businesses
	rep.Duplicates = er.Duplicates
}

// compareFigures reports every business whose counts or series differ from
// what the manifest recorded.
func compareFigures(c *engine.Check, want, got []engine.BusinessFigures) {
	byID := map[string]engine.BusinessFigures{}
	for _, b := range got {
		byID[b.ID] = b
	}
	for _, w := range want {
		g, ok := byID[w.ID]
		if !ok {
			c.Findings = append(c.Findings, fmt.Sprintf("business %s (%s) is in the manifest but not in the file", w.ID, w.Name))
			continue
		}
		delete(byID, w.ID)
		if g.Counts != w.Counts {
			c.Findings = append(c.Findings, fmt.Sprintf("business %s: the file holds %+v, the manifest says %+v", w.ID, g.Counts, w.Counts))
		}
		if !maps.Equal(g.Series, w.Series) {
			c.Findings = append(c.Findings, fmt.Sprintf("business %s: the series' last numbers are %v, the manifest says %v", w.ID, g.Series, w.Series))
		}
	}
	for id := range byID {
		c.Findings = append(c.Findings, fmt.Sprintf("business %s is in the file but not in the manifest", id))
	}
}
