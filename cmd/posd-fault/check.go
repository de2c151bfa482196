//go:build linux

package main

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"posd/engine"
)

// The named checks. A sensitivity test builds a deliberately broken posd
// and asserts that the check it names fails.
const (
	CheckDrained = "0-drained"         // every queue drained: valid intents acknowledged, invalid ones refused as expected
	CheckAnswers = "0-answers"         // every answer lawful: no 500, every refusal in the contract's shape
	CheckPresent = "1-acked-present"   // every acknowledged write is in the final read
	CheckOneDoc  = "2-one-doc-per-key" // one document per key; every 2xx for a key carries the same id and number
	CheckSeries  = "3-series-gapless"  // every series is exactly 1..N
	CheckOrder   = "3-realtime-order"  // acknowledged before another was sent ⇒ lower number
	CheckStock   = "4-stock"           // stock = initial + every movement of every document read back
	CheckPhantom = "5-no-phantom"      // no document that no till attempted
	CheckVerify  = "6-verify"          // the database verifies after every death and at the end
)

// Checks lists the check names in order.
var Checks = []string{CheckDrained, CheckAnswers, CheckPresent, CheckOneDoc, CheckSeries, CheckOrder, CheckStock, CheckPhantom, CheckVerify}

// Report is the outcome of a run.
type Report struct {
	Profile  string
	Duration time.Duration
	Faults   map[string]int
	Attempts int
	Intents  int
	// AckedSales counts acknowledged sales; Acked all acknowledged writes;
	// Refused the requests refused as the harness expected.
	AckedSales, Acked, Refused int
	Lost, Duplicated, Gaps     int
	OrderViolations            int
	StockMismatches, Phantoms  int
	Status                     map[int]int // answers by status (0: no answer)
	// VerifyRuns counts checks of the file at rest (check 6); PosdVerify
	// tells whether they included the binary's own posd verify.
	VerifyRuns int
	PosdVerify bool
	// Failures lists what each failed check found.
	Failures map[string][]string
}

// Failed reports whether the named check found anything.
func (r *Report) Failed(check string) bool { return len(r.Failures[check]) > 0 }

// OK reports whether every check passed.
func (r *Report) OK() bool { return len(r.Failures) == 0 }

func (r *Report) fail(check, format string, args ...any) {
	if r.Failures == nil {
		r.Failures = map[string][]string{}
	}
	r.Failures[check] = append(r.Failures[check], fmt.Sprintf(format, args...))
}

// String is the report as people read it.
func (r *Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "profile %s: %s\n", r.Profile, r.Duration.Round(time.Millisecond))
	var fk []string
	for k, v := range r.Faults {
		fk = append(fk, fmt.Sprintf("%s=%d", k, v))
	}
	sort.Strings(fk)
	fmt.Fprintf(&b, "  faults: %s\n", strings.Join(fk, " "))
	fmt.Fprintf(&b, "  attempts %d, intents %d, acknowledged %d (sales %d), refused as expected %d\n", r.Attempts, r.Intents, r.Acked, r.AckedSales, r.Refused)
	var st []string
	for k, v := range r.Status {
		st = append(st, fmt.Sprintf("%d:%d", k, v))
	}
	sort.Strings(st)
	fmt.Fprintf(&b, "  answers by status: %s\n", strings.Join(st, " "))
	how := "harness check"
	if r.PosdVerify {
		how += " + posd verify"
	}
	fmt.Fprintf(&b, "  file verified at rest %d times (%s)\n", r.VerifyRuns, how)
	fmt.Fprintf(&b, "  lost %d, duplicated %d, gaps %d, order violations %d, stock mismatches %d, phantoms %d\n",
		r.Lost, r.Duplicated, r.Gaps, r.OrderViolations, r.StockMismatches, r.Phantoms)
	for _, c := range Checks {
		if f := r.Failures[c]; len(f) > 0 {
			fmt.Fprintf(&b, "  FAIL %s (%d findings)\n", c, len(f))
			for i, s := range f {
				if i == 10 {
					fmt.Fprintf(&b, "    … %d more\n", len(f)-10)
					break
				}
				fmt.Fprintf(&b, "    %s\n", s)
			}
		} else {
			fmt.Fprintf(&b, "  ok   %s\n", c)
		}
	}
	return b.String()
}

// Finish stops posd cleanly, reads everything back through the API and the
// file, and runs every check on the history.
func (r *Run) Finish(profile string) (*Report, error) {
	rep := &Report{Profile: profile, Duration: time.Since(r.started), Faults: r.Faults, Status: map[int]int{}}
	attempts, intents := r.History.Attempts(), r.Intents()
	rep.Attempts, rep.Intents = len(attempts), len(intents)
	for _, a := range attempts {
		rep.Status[a.Status]++
	}
	keys := indexKeys(attempts)

	// Read back, over the API (posd still up), then from the file.
	states := r.readAPIStates(intents, keys)
	for _, p := range r.Posds {
		if err := p.Stop(); err != nil {
			rep.fail(CheckVerify, "stopping posd: %v", err)
		}
	}
	files, err := readFile(r.location())
	if err != nil {
		return nil, fmt.Errorf("reading the database back: %w", err)
	}
	for i, st := range states {
		for _, e := range st.errs {
			rep.fail(CheckPresent, "shop %d read-back: %s", i, e)
		}
	}

	rep.drained(intents)
	rep.lawfulAnswers(attempts, r.diskFullAcks)
	for i, f := range r.shops {
		fs := files[f.shop.BusinessID]
		if fs == nil {
			rep.businessMissing(i, f, intents, keys)
			continue
		}
		newShopCheck(rep, i, f, intents, keys, states[i], fs).run()
	}
	_, _, _, afterDeaths, _ := r.Deaths()
	final := r.cfg.FinalVerify
	if final == nil {
		final = r.cfg.Verify
	}
	rep.verifiedAtRest(afterDeaths, final, r.location())
	return rep, nil
}

type shopKey struct {
	shop int
	key  string
}

// keyIndex is the history by idempotency key.
type keyIndex struct {
	byKey    map[shopKey][]*Attempt // every attempt with the key, in order
	docOfKey map[shopKey]*Attempt   // its first success: what the tills were told
}

func indexKeys(attempts []*Attempt) keyIndex {
	x := keyIndex{byKey: map[shopKey][]*Attempt{}, docOfKey: map[shopKey]*Attempt{}}
	for _, a := range attempts {
		k := shopKey{a.Shop, a.Key}
		x.byKey[k] = append(x.byKey[k], a)
		if a.OK() && x.docOfKey[k] == nil {
			x.docOfKey[k] = a
		}
	}
	return x
}

// readAPIStates reads every shop back over the API, asking by id for each
// document a till of the shop was told about.
func (r *Run) readAPIStates(intents []*Intent, keys keyIndex) []*apiState {
	ctx := context.Background()
	states := make([]*apiState, len(r.shops))
	for i, f := range r.shops {
		ids := map[string]engine.DocKind{}
		for _, in := range intents {
			if in.Shop != i {
				continue
			}
			if a := keys.docOfKey[shopKey{i, in.Key}]; a != nil {
				ids[a.DocID] = kindOf(in.Kind)
			}
		}
		states[i] = readAPI(ctx, f, ids)
	}
	return states
}

// drained is check 0: every intent got its final answer after the faults
// healed, valid ones acknowledged and invalid ones refused as expected. It
// counts them for the report too.
func (rep *Report) drained(intents []*Intent) {
	for _, in := range intents {
		switch {
		case !in.Done:
			rep.fail(CheckDrained, "shop %d %s %s %s: no final answer %s after the faults healed", in.Shop, in.Till, in.Kind, in.Key, drainLimit)
		case in.WantCode == "" && !in.Acked:
			rep.fail(CheckDrained, "shop %d %s %s %s: a valid request was refused with %s", in.Shop, in.Till, in.Kind, in.Key, in.Code)
		case in.WantCode != "" && in.Acked:
			rep.fail(CheckDrained, "shop %d %s %s %s: an invalid request was accepted (want %s)", in.Shop, in.Till, in.Kind, in.Key, in.WantCode)
		case in.WantCode != "" && in.Code != in.WantCode:
			rep.fail(CheckDrained, "shop %d %s %s %s: refused with %s, want %s", in.Shop, in.Till, in.Kind, in.Key, in.Code, in.WantCode)
		}
		if in.Acked {
			rep.Acked++
			if in.Kind == "sale" {
				rep.AckedSales++
			}
		} else if in.Done && in.WantCode != "" {
			rep.Refused++
		}
	}
}

// lawfulAnswers is check 0: no 500, every refusal in the contract's shape,
// every success naming its document, and nothing amiss while the disk was
// full (diskFullAcks: a write acknowledged, posd dead or silent).
func (rep *Report) lawfulAnswers(attempts []*Attempt, diskFullAcks []string) {
	for _, e := range diskFullAcks {
		rep.fail(CheckAnswers, "disk full: %s", e)
	}
	for _, a := range attempts {
		switch {
		case a.Status == 500:
			rep.fail(CheckAnswers, "shop %d %s %s: 500 %s", a.Shop, a.Path, a.Key, a.Code)
		case a.Status >= 400 && a.Code == "":
			rep.fail(CheckAnswers, "shop %d %s %s: %d without the contract's error body", a.Shop, a.Path, a.Key, a.Status)
		case a.Status == 503 && a.Code != engine.EUNAVAILABLE:
			rep.fail(CheckAnswers, "shop %d %s %s: 503 with code %s", a.Shop, a.Path, a.Key, a.Code)
		case a.OK() && a.DocID == "":
			rep.fail(CheckAnswers, "shop %d %s %s: %d without a document id", a.Shop, a.Path, a.Key, a.Status)
		}
	}
}

// businessMissing is check 1 for a shop whose business the file does not
// hold: everything its tills were told about is lost.
func (rep *Report) businessMissing(i int, f *shopFixture, intents []*Intent, keys keyIndex) {
	for _, in := range intents {
		if in.Shop == i && keys.docOfKey[shopKey{i, in.Key}] != nil {
			rep.Lost++
		}
	}
	rep.fail(CheckPresent, "shop %d: business %s is not in the database", i, f.shop.BusinessID)
}

// verifiedAtRest is check 6: what verify found after each death of posd,
// and verify run once more at the end.
func (rep *Report) verifiedAtRest(afterDeaths []string, verify func(dir string) error, dir string) {
	for _, e := range afterDeaths {
		rep.fail(CheckVerify, "%s", e)
	}
	if verify != nil {
		if err := verify(dir); err != nil {
			rep.fail(CheckVerify, "at the end: %v", err)
		}
	}
}

// takesNumber tells the writes that give a document its number.
func takesNumber(intentKind string) bool {
	switch intentKind {
	case "sale", "refund", "approve", "send":
		return true
	}
	return false
}

func kindOf(intentKind string) engine.DocKind {
	switch intentKind {
	case "sale":
		return engine.KindSale
	case "refund":
		return engine.KindReturn
	case "receipt", "approve":
		return engine.KindReceipt
	}
	return engine.KindTransfer
}
