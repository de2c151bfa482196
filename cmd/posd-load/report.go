//go:build linux

package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"
)

// Report is what a run measured.
type Report struct {
	Label  string `json:"label,omitempty"`
	URL    string `json:"url"`
	Target string `json:"target"` // "posd" or "bare"
	Tills  int    `json:"tills"`
	// Seconds is the measurement window (after the warm-up).
	Seconds float64 `json:"seconds"`
	// Requests answered in the window, of them 2xx, and per second.
	Requests  int     `json:"requests"`
	OK        int     `json:"ok"`
	ReqPerSec float64 `json:"requestsPerSec"`
	// DocsPerSec counts new documents (sales and refunds; a double submit
	// makes one); replays are requests but not documents.
	DocsPerSec float64            `json:"documentsPerSec"`
	Latency    Latency            `json:"latencyMs"`
	Mix        map[string]int     `json:"mix"`
	Errors     map[string]int     `json:"errors"`
	Non2xx     int                `json:"non2xx"`
	Findings   []string           `json:"findings,omitempty"`
	NFindings  int                `json:"nFindings"`
	Server     *ServerFigures     `json:"server,omitempty"`
	Loader     *CPUFigures        `json:"loader"`
	Verify     *Verification      `json:"verify,omitempty"`
	PerKind    map[string]Latency `json:"latencyByKindMs,omitempty"`
	// DrainSeconds is the time from the start to the last answer of a
	// drain run.
	DrainSeconds float64 `json:"drainSeconds,omitempty"`
}

// Latency is a latency distribution in milliseconds.
type Latency struct {
	P50 float64 `json:"p50"`
	P90 float64 `json:"p90"`
	P99 float64 `json:"p99"`
	Max float64 `json:"max"`
	N   int     `json:"n"`
}

func latencyOf(d []time.Duration) Latency {
	if len(d) == 0 {
		return Latency{}
	}
	slices.Sort(d)
	at := func(p float64) float64 {
		i := int(p * float64(len(d)))
		if i >= len(d) {
			i = len(d) - 1
		}
		return ms(d[i])
	}
	return Latency{P50: at(0.50), P90: at(0.90), P99: at(0.99), Max: ms(d[len(d)-1]), N: len(d)}
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func newReport(cfg *Config, tills []*till, window, end time.Time) *Report {
	r := &Report{Label: cfg.Label, URL: cfg.URL, Target: "posd", Tills: cfg.Tills, Mix: map[string]int{}, Errors: map[string]int{}}
	if cfg.Bare {
		r.Target = "bare"
	}
	secs := end.Sub(window).Seconds()
	if secs <= 0 {
		secs = 1e-9
	}
	r.Seconds = secs
	var all []time.Duration
	var byKind [nKinds][]time.Duration
	docs := 0
	for _, t := range tills {
		for k := range nKinds {
			all = append(all, t.lat[k]...)
			byKind[k] = append(byKind[k], t.lat[k]...)
		}
		r.Requests += t.requests
		r.OK += t.ok
		docs += t.docs
		for k := range nKinds {
			if t.counts[k] > 0 {
				r.Mix[kindNames[k]] += t.counts[k]
			}
		}
		for c, n := range t.errs {
			r.Errors[c] += n
			r.Non2xx += n
		}
		r.Findings = append(r.Findings, t.findings...)
		r.NFindings += t.nFinding
	}
	if len(r.Findings) > 20 {
		r.Findings = r.Findings[:20]
	}
	r.ReqPerSec = float64(r.OK) / secs
	r.DocsPerSec = float64(docs) / secs
	r.Latency = latencyOf(all)
	r.PerKind = map[string]Latency{}
	for k := range nKinds {
		if len(byKind[k]) > 0 {
			r.PerKind[kindNames[k]] = latencyOf(byKind[k])
		}
	}
	return r
}

// ok reports whether the run met the basic bar: no errors, no findings,
// verification (when run) clean.
func (r *Report) ok() bool {
	return r.Non2xx == 0 && r.NFindings == 0 && (r.Verify == nil || r.Verify.OK)
}

// print writes the report for a person.
func (r *Report) print(w io.Writer) {
	label := r.Label
	if label == "" {
		label = r.Target
	}
	fmt.Fprintf(w, "%s: %d till(s), %.1f s measured, %s\n", label, r.Tills, r.Seconds, r.URL)
	fmt.Fprintf(w, "  throughput  %.0f requests/s (%d answered, %d 2xx), %.0f new documents/s\n", r.ReqPerSec, r.Requests, r.OK, r.DocsPerSec)
	if r.DrainSeconds > 0 {
		fmt.Fprintf(w, "  drain       %.2f s from start to last answer\n", r.DrainSeconds)
	}
	fmt.Fprintf(w, "  latency     p50 %.2f ms  p90 %.2f ms  p99 %.2f ms  max %.2f ms\n", r.Latency.P50, r.Latency.P90, r.Latency.P99, r.Latency.Max)
	var mix []string
	for _, k := range kindNames {
		if n := r.Mix[k]; n > 0 {
			mix = append(mix, fmt.Sprintf("%s %d", k, n))
		}
	}
	fmt.Fprintf(w, "  mix         %s\n", strings.Join(mix, ", "))
	for _, k := range kindNames {
		if l, ok := r.PerKind[k]; ok && len(r.PerKind) > 1 {
			fmt.Fprintf(w, "    %-8s  p50 %.2f ms  p90 %.2f ms  p99 %.2f ms  max %.2f ms\n", k, l.P50, l.P90, l.P99, l.Max)
		}
	}
	if r.Non2xx == 0 {
		fmt.Fprintf(w, "  errors      none\n")
	} else {
		var e []string
		for _, c := range slices.Sorted(maps.Keys(r.Errors)) {
			e = append(e, fmt.Sprintf("%s %d", c, r.Errors[c]))
		}
		fmt.Fprintf(w, "  errors      %d non-2xx or failed: %s\n", r.Non2xx, strings.Join(e, ", "))
	}
	if s := r.Server; s != nil {
		fmt.Fprintf(w, "  server      RSS idle %.1f MiB, max %.1f MiB (anonymous %.1f, mapped file %.1f), end %.1f MiB (high-water %.1f MiB); CPU %.2f s = %.0f µs/request\n",
			s.IdleRSSMB, s.MaxRSSMB, s.MaxAnonMB, s.MaxFileMB, s.EndRSSMB, s.HWMMB, s.CPUSeconds, s.CPUPerRequestUS)
	}
	if l := r.Loader; l != nil {
		fmt.Fprintf(w, "  loader      CPU %.2f s = %.0f µs/request (shares the machine with the server)\n", l.CPUSeconds, l.CPUPerRequestUS)
	}
	if r.NFindings > 0 {
		fmt.Fprintf(w, "  findings    %d, e.g.:\n", r.NFindings)
		for _, f := range r.Findings {
			fmt.Fprintf(w, "    - %s\n", f)
		}
	}
	if v := r.Verify; v != nil {
		v.print(w)
	}
}
