package main

import (
	"fmt"
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
