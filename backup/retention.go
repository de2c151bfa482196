package backup

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// Automatic backups are named posd-auto-<UTC time>.db; nothing else in the
// folder is ever pruned, so a manual backup put there stays until someone
// deletes it.
const (
	autoPrefix = "posd-auto-"
	autoSuffix = ".db"
	autoLayout = "20060102T150405Z"
)

// AutoName returns the file name of an automatic backup taken at t.
func AutoName(t time.Time) string { return autoPrefix + t.UTC().Format(autoLayout) + autoSuffix }

// autoTime parses an automatic backup's name; ok is false for any other
// file.
func autoTime(name string) (time.Time, bool) {
	if !strings.HasPrefix(name, autoPrefix) || !strings.HasSuffix(name, autoSuffix) {
		return time.Time{}, false
	}
	t, err := time.Parse(autoLayout, strings.TrimSuffix(strings.TrimPrefix(name, autoPrefix), autoSuffix))
	return t, err == nil
}

// autoBackup is one automatic backup in a folder.
type autoBackup struct {
	path string
	at   time.Time
}

// listAuto lists the automatic backups in dir, newest first.
func listAuto(dir string) ([]autoBackup, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	var out []autoBackup
	for _, e := range ents {
		if t, ok := autoTime(e.Name()); ok && e.Type().IsRegular() {
			out = append(out, autoBackup{filepath.Join(dir, e.Name()), t})
		}
	}
	slices.SortFunc(out, func(a, b autoBackup) int { return b.at.Compare(a.at) })
	return out, nil
}

// Retention says which automatic backups to keep: the newest of each of
// the Daily most recent days that have one, and, among the older ones, the
// newest of each of the Weekly most recent ISO weeks that have one. Days
// and weeks are counted in Zone (nil: the machine's zone). So with daily
// backups, 14 and 8 keep the last two weeks day by day and about two
// months more week by week, 22 files at most.
type Retention struct {
	Daily, Weekly int
	Zone          *time.Location
}

// keep returns the backups to keep and those to delete; all are automatic.
func (r Retention) keep(all []autoBackup) (keep, drop []autoBackup) {
	zone := r.Zone
	if zone == nil {
		zone = time.Local
	}
	kept := make([]bool, len(all))
	days := map[string]bool{}
	for i, b := range all { // newest first: the first of a day is its newest
		d := b.at.In(zone).Format("2006-01-02")
		if days[d] {
			continue
		}
		if len(days) == r.Daily {
			break
		}
		days[d] = true
		kept[i] = true
	}
	// Weekly ones are looked for among backups older than the last daily
	// one kept, so the two rules add up instead of overlapping.
	oldestDaily := len(all)
	for i := len(all) - 1; i >= 0; i-- {
		if kept[i] {
			oldestDaily = i
			break
		}
	}
	if r.Daily == 0 {
		oldestDaily = -1
	}
	weeks := map[string]bool{}
	for i := oldestDaily + 1; i < len(all) && len(weeks) < r.Weekly; i++ {
		y, w := all[i].at.In(zone).ISOWeek()
		k := fmt.Sprintf("%d-W%02d", y, w)
		if weeks[k] {
			continue
		}
		weeks[k] = true
		kept[i] = true
	}
	for i, b := range all {
		if kept[i] {
			keep = append(keep, b)
		} else {
			drop = append(drop, b)
		}
	}
	return keep, drop
}

// Prune deletes the automatic backups in dir (and their manifests) that
// the retention rule does not keep, and returns the deleted paths. Files
// that are not automatic backups are never touched.
func (r Retention) Prune(dir string) ([]string, error) {
	all, err := listAuto(dir)
	if err != nil {
		return nil, err
	}
	_, drop := r.keep(all)
	var gone []string
	for _, b := range drop {
		if err := os.Remove(b.path); err != nil && !os.IsNotExist(err) {
			return gone, err
		}
		os.Remove(ManifestPath(b.path))
		gone = append(gone, b.path)
	}
	return gone, nil
}
