//go:build linux

package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"posd/api/client"
	"posd/engine"
)

// baseline is the newest sale before the run: the verification reads back
// everything stored after it.
type baseline struct {
	id     string
	series engine.Series
	n      uint64
}

func ownerClient(cfg *Config, hc *http.Client) *client.Client {
	c := client.New(cfg.URL, cfg.Token)
	c.HTTP = hc
	return c
}

func takeBaseline(ctx context.Context, cfg *Config, hc *http.Client) (*baseline, error) {
	p, err := ownerClient(cfg, hc).Sales(ctx, client.SalesQuery{Limit: 1, Newest: true})
	if err != nil {
		return nil, fmt.Errorf("reading the newest sale before the run: %w", err)
	}
	b := &baseline{}
	if len(p.Sales) > 0 {
		b.id = p.Sales[0].ID
		b.series, b.n, _ = engine.ParseNumber(p.Sales[0].InvoiceNumber)
	}
	return b, nil
}

// Verification compares what posd stored with what it acknowledged.
type Verification struct {
	OK bool `json:"ok"`
	// Sales acknowledged by the tills, and stored after the baseline.
	Acknowledged int `json:"acknowledged"`
	Stored       int `json:"stored"`
	// Acknowledged but not stored; stored but never acknowledged (only a
	// request that failed without an answer may explain one); stored
	// twice; stored with another number than the one acknowledged.
	Missing        int `json:"missing"`
	Unacknowledged int `json:"unacknowledged"`
	Duplicates     int `json:"duplicates"`
	WrongNumber    int `json:"wrongNumber"`
	// Gaps counts series whose numbers are not exactly the next ones.
	Gaps   int      `json:"gaps"`
	Series []string `json:"series"`
	// Refunds acknowledged, not found (or with another number), and
	// gaps among their numbers.
	Returns        int      `json:"returns"`
	ReturnsMissing int      `json:"returnsMissing"`
	ReturnGaps     int      `json:"returnGaps"`
	Findings       []string `json:"findings,omitempty"`
	Seconds        float64  `json:"seconds"`
}

func (v *Verification) finding(format string, args ...any) {
	if len(v.Findings) < 20 {
		v.Findings = append(v.Findings, fmt.Sprintf(format, args...))
	}
}

func (v *Verification) print(w io.Writer) {
	state := "OK"
	if !v.OK {
		state = "FAILED"
	}
	fmt.Fprintf(w, "  verify      %s: %d sales acknowledged, %d stored since the run began; missing %d, unacknowledged %d, duplicates %d, wrong number %d, gaps %d\n",
		state, v.Acknowledged, v.Stored, v.Missing, v.Unacknowledged, v.Duplicates, v.WrongNumber, v.Gaps)
	fmt.Fprintf(w, "              numbers %s; %d refunds acknowledged, %d missing, %d gaps (%.1f s)\n",
		strings.Join(v.Series, ", "), v.Returns, v.ReturnsMissing, v.ReturnGaps, v.Seconds)
	for _, f := range v.Findings {
		fmt.Fprintf(w, "    - %s\n", f)
	}
}

// verify reads back every sale stored after the baseline and every
// acknowledged refund, and checks them against the acknowledgements: each
// acknowledged document is stored once with its number, and the numbers of
// each series run on from the baseline without a gap.
func verify(ctx context.Context, cfg *Config, hc *http.Client, base *baseline, tills []*till) *Verification {
	start := time.Now()
	v := &Verification{}
	acked := map[string]ack{}
	var returns []ack
	for _, t := range tills {
		for _, a := range t.sales {
			if old, ok := acked[a.id]; ok && old.key != a.key {
				v.Duplicates++
				v.finding("sale %s was acknowledged for two keys, %s and %s", a.id, old.key, a.key)
			}
			acked[a.id] = a
		}
		returns = append(returns, t.returns...)
	}
	v.Acknowledged = len(acked)
	owner := ownerClient(cfg, hc)
	stored := map[string]int{}
	bySeries := map[engine.Series][]uint64{}
	q := client.SalesQuery{Limit: 500, Newest: true}
pages:
	for {
		p, err := owner.Sales(ctx, q)
		if err != nil {
			v.finding("reading the sales back: %v", err)
			v.Missing = -1
			break
		}
		for _, s := range p.Sales {
			if s.ID == base.id {
				break pages
			}
			stored[s.ID]++
			v.Stored++
			if stored[s.ID] > 1 {
				v.Duplicates++
				v.finding("sale %s is listed twice", s.ID)
			}
			a, ok := acked[s.ID]
			switch {
			case !ok:
				v.Unacknowledged++
				v.finding("sale %s (%s) is stored but was never acknowledged", s.ID, s.InvoiceNumber)
			case a.number != s.InvoiceNumber:
				v.WrongNumber++
				v.finding("sale %s was acknowledged as %s but is stored as %s", s.ID, a.number, s.InvoiceNumber)
			}
			series, n, ok := engine.ParseNumber(s.InvoiceNumber)
			if !ok {
				v.WrongNumber++
				v.finding("sale %s has a malformed number %q", s.ID, s.InvoiceNumber)
				continue
			}
			bySeries[series] = append(bySeries[series], n)
		}
		if p.NextCursor == nil {
			break
		}
		q.Cursor = *p.NextCursor
	}
	for id, a := range acked {
		if stored[id] == 0 {
			v.Missing++
			v.finding("sale %s (%s, key %s) was acknowledged but is not stored", id, a.number, a.key)
		}
	}
	for _, s := range slices.Sorted(maps.Keys(bySeries)) {
		from := uint64(1)
		if s == base.series {
			from = base.n + 1
		}
		gap, desc := checkRun(bySeries[s], from)
		v.Series = append(v.Series, string(s)+" "+desc)
		if gap != "" {
			v.Gaps++
			v.finding("series %s: %s", s, gap)
		}
	}
	v.Returns = len(returns)
	v.checkReturns(ctx, owner, returns)
	v.OK = v.Missing == 0 && v.Unacknowledged == 0 && v.Duplicates == 0 && v.WrongNumber == 0 && v.Gaps == 0 &&
		v.ReturnsMissing == 0 && v.ReturnGaps == 0
	v.Seconds = time.Since(start).Seconds()
	return v
}

// checkRun checks that nums are exactly from, from+1, … in some order.
func checkRun(nums []uint64, from uint64) (problem, desc string) {
	slices.Sort(nums)
	desc = fmt.Sprintf("%d..%d", nums[0], nums[len(nums)-1])
	for i, n := range nums {
		if want := from + uint64(i); n != want {
			return fmt.Sprintf("number %d found where %d was due (duplicate or gap)", n, want), desc
		}
	}
	return "", desc
}

// checkReturns fetches every acknowledged refund and checks its number;
// the numbers of the run's refunds must be consecutive.
func (v *Verification) checkReturns(ctx context.Context, owner *client.Client, returns []ack) {
	work := make(chan ack)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for a := range work {
				r, err := owner.Return(ctx, a.id)
				mu.Lock()
				if err != nil || r.ReturnNumber != a.number {
					v.ReturnsMissing++
					v.finding("refund %s (%s) was acknowledged but reads back as %v %v", a.id, a.number, r, err)
				}
				mu.Unlock()
			}
		}()
	}
	bySeries := map[engine.Series][]uint64{}
	for _, a := range returns {
		work <- a
		if s, n, ok := engine.ParseNumber(a.number); ok {
			bySeries[s] = append(bySeries[s], n)
		} else {
			v.ReturnGaps++
		}
	}
	close(work)
	wg.Wait()
	for s, nums := range bySeries {
		slices.Sort(nums)
		if gap, _ := checkRun(nums, nums[0]); gap != "" {
			v.ReturnGaps++
			v.finding("refund series %s: %s", s, gap)
		}
	}
}
