//go:build linux

package main

import (
	"bytes"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// procWatch reads a server process's memory and CPU time from /proc. The
// load generator runs on the same machine, so CPU time per request is the
// figure that stays meaningful when the two share the cores.
type procWatch struct {
	pid                int
	peakAnon, peakFile int64
}

func newProcWatch(pid int) *procWatch { return &procWatch{pid: pid} }

// rss returns the resident set size in bytes (0 when unknown).
func (p *procWatch) rss() int64 {
	if p.pid <= 0 {
		return 0
	}
	return statusField(p.pid, "VmRSS:")
}

// statusField reads a "kB" field of /proc/PID/status, in bytes.
func statusField(pid int, name string) int64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return 0
	}
	i := bytes.Index(b, []byte(name))
	if i < 0 {
		return 0
	}
	f := bytes.Fields(b[i+len(name):])
	if len(f) == 0 {
		return 0
	}
	kb, _ := strconv.ParseInt(string(f[0]), 10, 64)
	return kb << 10
}

// cpu returns the process's user+system CPU time.
func (p *procWatch) cpu() time.Duration {
	if p.pid <= 0 {
		return 0
	}
	st, _ := readStat(p.pid)
	return st.cpu
}

// procStat is what /proc/PID/stat says of a process's CPU time.
type procStat struct {
	ppid int
	// cpu is its own user+system time; children that of the children it
	// waited for.
	cpu, children time.Duration
}

func readStat(pid int) (procStat, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procStat{}, false
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return procStat{}, false
	}
	f := bytes.Fields(b[i+1:])
	// After the command name: state is field 3, ppid 4, utime 14, stime
	// 15, cutime 16, cstime 17.
	if len(f) < 15 {
		return procStat{}, false
	}
	n := func(i int) int64 { v, _ := strconv.ParseInt(string(f[i]), 10, 64); return v }
	const clkTck = 100 // USER_HZ on every Linux architecture Go runs on
	tick := func(t int64) time.Duration { return time.Duration(t) * time.Second / clkTck }
	return procStat{ppid: int(n(1)), cpu: tick(n(11) + n(12)), children: tick(n(13) + n(14))}, true
}

func (p *procWatch) sample() int64 { return p.rss() }

// start samples the RSS every interval until the returned function is
// called; that function returns the largest sample. It also keeps the
// largest anonymous (heap, stacks) and file-backed (the mapped database)
// parts, in p.peakAnon and p.peakFile.
func (p *procWatch) start(interval time.Duration) func() int64 {
	var mu sync.Mutex
	var peak int64
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(interval)
		defer t.Stop()
		for {
			r := p.rss()
			var anon, file int64
			if p.pid > 0 {
				anon, file = statusField(p.pid, "RssAnon:"), statusField(p.pid, "RssFile:")
			}
			mu.Lock()
			peak = max(peak, r)
			p.peakAnon, p.peakFile = max(p.peakAnon, anon), max(p.peakFile, file)
			mu.Unlock()
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	}()
	return func() int64 {
		close(done)
		<-finished
		mu.Lock()
		defer mu.Unlock()
		return max(peak, p.rss())
	}
}

// procSnap is the CPU time of the server and of this process at a moment.
type procSnap struct {
	at     time.Time
	server time.Duration
	loader time.Duration
}

func (p *procWatch) snap() procSnap {
	return procSnap{at: time.Now(), server: p.cpu(), loader: selfCPU()}
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// ServerFigures are the server's memory and CPU during a run.
type ServerFigures struct {
	PID int `json:"pid,omitempty"`
	// RSS before the tills start, the largest seen during the run, at the
	// end, and the kernel's high-water mark, in MiB.
	IdleRSSMB float64 `json:"idleRssMB"`
	MaxRSSMB  float64 `json:"maxRssMB"`
	// The largest anonymous (Go heap, stacks) and file-backed (pages of
	// the memory-mapped database) parts of the RSS seen.
	MaxAnonMB float64 `json:"maxAnonMB"`
	MaxFileMB float64 `json:"maxFileMB"`
	EndRSSMB  float64 `json:"endRssMB"`
	HWMMB     float64 `json:"hwmMB"`
	// CPU time in the measurement window, in seconds, and per request.
	CPUSeconds      float64 `json:"cpuSeconds"`
	CPUPerRequestUS float64 `json:"cpuPerRequestUs"`
}

// CPUFigures is the load generator's own CPU use.
type CPUFigures struct {
	CPUSeconds      float64 `json:"cpuSeconds"`
	CPUPerRequestUS float64 `json:"cpuPerRequestUs"`
}

func mib(b int64) float64 { return float64(b) / (1 << 20) }

func (p *procWatch) figures(idle, peak int64, a, b procSnap, requests int) *ServerFigures {
	if p.pid <= 0 {
		return nil
	}
	f := &ServerFigures{PID: p.pid, IdleRSSMB: mib(idle), MaxRSSMB: mib(peak), MaxAnonMB: mib(p.peakAnon), MaxFileMB: mib(p.peakFile), EndRSSMB: mib(p.rss()), HWMMB: mib(statusField(p.pid, "VmHWM:")),
		CPUSeconds: (b.server - a.server).Seconds()}
	if requests > 0 {
		f.CPUPerRequestUS = float64((b.server - a.server).Microseconds()) / float64(requests)
	}
	return f
}

func loaderFigures(a, b procSnap, requests int) *CPUFigures {
	f := &CPUFigures{CPUSeconds: (b.loader - a.loader).Seconds()}
	if requests > 0 {
		f.CPUPerRequestUS = float64((b.loader - a.loader).Microseconds()) / float64(requests)
	}
	return f
}
