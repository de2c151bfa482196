//go:build linux

package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"syscall"
	"time"
)

// Probe describes how busy the machine was: the figures of an fsync-bound
// server mean little without the fsync latency of the disk at the time, and
// other programs' load moves everything.
type Probe struct {
	// FdatasyncMs is the latency of writing one 4 kB page and calling
	// fdatasync, 200 times in a row: p50, p99, max.
	FdatasyncMs [3]float64 `json:"fdatasyncMs"`
	LoadAvg     string     `json:"loadAvg"`
}

func probe(dir string) Probe {
	p := Probe{LoadAvg: loadAvg()}
	f, err := os.CreateTemp(dir, "probe")
	if err != nil {
		return p
	}
	defer os.Remove(f.Name())
	defer f.Close()
	page := make([]byte, 4096)
	var d []time.Duration
	for i := range 200 {
		start := time.Now()
		if _, err := f.WriteAt(page, int64(i%16)*4096); err != nil {
			return p
		}
		if err := syscall.Fdatasync(int(f.Fd())); err != nil {
			return p
		}
		d = append(d, time.Since(start))
	}
	slices.Sort(d)
	p.FdatasyncMs = [3]float64{ms(d[len(d)/2]), ms(d[len(d)*99/100]), ms(d[len(d)-1])}
	return p
}

func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

func (p Probe) String() string {
	return fmt.Sprintf("load average %s; 4 kB write + fdatasync p50 %.2f ms, p99 %.2f ms, max %.2f ms", p.LoadAvg, p.FdatasyncMs[0], p.FdatasyncMs[1], p.FdatasyncMs[2])
}

// CommitProbe is the latency of what a lone bbolt commit asks of the disk,
// without posd: pages written with one pwrite each at scattered offsets,
// fdatasync, then the meta page and fdatasync again (bbolt orders its
// commit so). It is the floor under a lone till's latency on this disk.
type CommitProbe struct {
	Pages   int       `json:"pages"`
	Samples int       `json:"samples"`
	Ms      Latency   `json:"ms"`
	SyncMs  Latency   `json:"fdatasyncMs"`
	Slow    []float64 `json:"slowestMs"`
}

func commitProbe(dir string, pages, n int) *CommitProbe {
	f, err := os.CreateTemp(dir, "commitprobe")
	if err != nil {
		return nil
	}
	defer os.Remove(f.Name())
	defer f.Close()
	const span = 4096 // pages in the probe file (16 MiB)
	page := make([]byte, 4096)
	if err := f.Truncate(span * 4096); err != nil {
		return nil
	}
	fd := int(f.Fd())
	if syscall.Fdatasync(fd) != nil {
		return nil
	}
	var all, syncs []time.Duration
	off := int64(7)
	for range n {
		start := time.Now()
		for range pages {
			off = (off*1103515245 + 12345) % (span - 2)
			if _, err := f.WriteAt(page, (off+2)*4096); err != nil {
				return nil
			}
		}
		s := time.Now()
		if syscall.Fdatasync(fd) != nil {
			return nil
		}
		syncs = append(syncs, time.Since(s))
		if _, err := f.WriteAt(page, 0); err != nil {
			return nil
		}
		s = time.Now()
		if syscall.Fdatasync(fd) != nil {
			return nil
		}
		syncs = append(syncs, time.Since(s))
		all = append(all, time.Since(start))
	}
	p := &CommitProbe{Pages: pages, Samples: n, Ms: latencyOf(all), SyncMs: latencyOf(syncs)}
	for _, d := range all[max(0, len(all)-5):] {
		p.Slow = append(p.Slow, ms(d))
	}
	return p
}

func (p *CommitProbe) String() string {
	if p == nil {
		return "commit probe failed"
	}
	return fmt.Sprintf("%d × (%d pages + fdatasync + meta page + fdatasync): p50 %.2f ms, p90 %.2f, p99 %.2f, max %.2f ms; each fdatasync p50 %.2f, p99 %.2f, max %.2f ms",
		p.Samples, p.Pages, p.Ms.P50, p.Ms.P90, p.Ms.P99, p.Ms.Max, p.SyncMs.P50, p.SyncMs.P99, p.SyncMs.Max)
}

// runProbe prints how busy the machine and its disk are right now: the
// load average, 200 single-page fdatasyncs and n lone-commit shapes.
func runProbe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("probe", "[--dir DIR] [--commits 300]", stderr)
	dir := fs.String("dir", os.TempDir(), "directory on the disk to probe")
	n := fs.Int("commits", 300, "lone-commit shapes to time")
	if err := parse(fs, args); err != nil {
		return err
	}
	fmt.Fprintln(stdout, probe(*dir))
	fmt.Fprintln(stdout, commitProbe(*dir, commitPages, *n))
	return nil
}
