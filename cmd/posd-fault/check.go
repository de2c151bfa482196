//go:build linux

package main

import (
	"context"
	"fmt"
	"slices"
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

type shopKey struct {
	shop int
	key  string
}

// Finish stops posd cleanly, reads everything back through the API and the
// file, and runs every check on the history.
func (r *Run) Finish(profile string) (*Report, error) {
	rep := &Report{Profile: profile, Duration: time.Since(r.started), Faults: r.Faults, Status: map[int]int{}}
	attempts := r.History.Attempts()
	intents := r.Intents()
	rep.Attempts, rep.Intents = len(attempts), len(intents)

	byKey := map[shopKey][]*Attempt{}
	for _, a := range attempts {
		k := shopKey{a.Shop, a.Key}
		byKey[k] = append(byKey[k], a)
		rep.Status[a.Status]++
	}
	// What the tills were told: the document of each key.
	docOfKey := map[shopKey]*Attempt{}
	for k, as := range byKey {
		for _, a := range as {
			if a.OK() {
				docOfKey[k] = a
				break
			}
		}
	}

	// Read back, over the API (posd still up), then from the file.
	ctx := context.Background()
	states := make([]*apiState, len(r.shops))
	for i, f := range r.shops {
		ids := map[string]engine.DocKind{}
		for _, in := range intents {
			if in.Shop != i {
				continue
			}
			if a := docOfKey[shopKey{i, in.Key}]; a != nil {
				ids[a.DocID] = kindOf(in.Kind)
			}
		}
		states[i] = readAPI(ctx, f, ids)
	}
	for _, p := range r.Posds {
		if err := p.Stop(); err != nil {
			rep.fail(CheckVerify, "stopping posd: %v", err)
		}
	}
	files, err := readFile(r.location())
	if err != nil {
		return nil, fmt.Errorf("reading the database back: %w", err)
	}
	// Re-read the API state of documents the file knows and the API read
	// missed (for instance, a refund whose sale listing lost it).
	for i, f := range r.shops {
		for _, e := range states[i].errs {
			rep.fail(CheckPresent, "shop %d read-back: %s", i, e)
		}
		_ = f
	}

	// 0: drained and lawful answers.
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
	for _, e := range r.diskFullAcks {
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

	for i, f := range r.shops {
		st := states[i]
		fs := files[f.shop.BusinessID]
		if fs == nil {
			for _, in := range intents {
				if in.Shop == i && docOfKey[shopKey{i, in.Key}] != nil {
					rep.Lost++
				}
			}
			rep.fail(CheckPresent, "shop %d: business %s is not in the database", i, f.shop.BusinessID)
			continue
		}
		r.checkShop(rep, i, f, intents, byKey, docOfKey, st, fs)
	}

	// 6: the database verifies at rest, after every death and now.
	_, _, _, verrs, _ := r.Deaths()
	for _, e := range verrs {
		rep.fail(CheckVerify, "%s", e)
	}
	final := r.cfg.FinalVerify
	if final == nil {
		final = r.cfg.Verify
	}
	if final != nil {
		if err := final(r.location()); err != nil {
			rep.fail(CheckVerify, "at the end: %v", err)
		}
	}
	return rep, nil
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

// numbered is a write that took a number, for the series checks.
type numbered struct {
	key       string
	number    string
	call, ack time.Time
}

func (r *Run) checkShop(rep *Report, i int, f *shopFixture, intents []*Intent, byKey map[shopKey][]*Attempt, docOfKey map[shopKey]*Attempt, st *apiState, fs *fileState) {
	// Documents of this shop as read back, with their numbers.
	present := func(kind, id string) (string, bool) {
		switch kind {
		case "sale":
			s, ok := st.sales[id]
			if !ok {
				return "", false
			}
			return s.InvoiceNumber, true
		case "refund":
			x, ok := st.returns[id]
			if !ok {
				return "", false
			}
			return x.ReturnNumber, true
		case "receipt", "approve":
			x, ok := st.receipts[id]
			if !ok || (kind == "approve" && x.Status != engine.StatusApproved) {
				return "", false
			}
			return deref(x.ReceiptNumber), true
		default:
			x, ok := st.transfers[id]
			if !ok || (kind == "send" && x.Status == engine.StatusDraft) || (kind == "receive" && x.Status != engine.StatusReceived) {
				return "", false
			}
			return deref(x.TransferNumber), true
		}
	}
	attempted := map[string]bool{} // doc ids some till of this shop was told about
	var series = map[engine.Series][]numbered{}
	for _, in := range intents {
		if in.Shop != i {
			continue
		}
		k := shopKey{i, in.Key}
		as := byKey[k]
		first := docOfKey[k]
		if first == nil {
			continue
		}
		attempted[first.DocID] = true
		// 1: acknowledged ⇒ present.
		num, ok := present(in.Kind, first.DocID)
		if !ok {
			rep.Lost++
			rep.fail(CheckPresent, "shop %d %s %s %s: acknowledged %s %s at %s is not in the read-back", i, in.Till, in.Kind, in.Key, first.DocID, first.Number, first.Answer.Format(time.StampMilli))
		} else if rec := fs.idem[in.Key]; rec == nil {
			rep.Lost++
			rep.fail(CheckPresent, "shop %d %s %s: acknowledged but the database has no idempotency record for its key", i, in.Kind, in.Key)
		}
		// 2: every 2xx for the key names the same document and number, and
		// the database links the key to it.
		var ids []string
		for _, a := range as {
			if a.OK() && (a.DocID != first.DocID || a.Number != first.Number) {
				ids = append(ids, a.DocID+" "+a.Number)
			}
		}
		if len(ids) > 0 {
			rep.Duplicated += len(ids)
			rep.fail(CheckOneDoc, "shop %d %s %s: first answered %s %s, later %s", i, in.Kind, in.Key, first.DocID, first.Number, strings.Join(ids, ", "))
		}
		if rec := fs.idem[in.Key]; rec != nil && rec.Doc.ID != first.DocID {
			rep.fail(CheckOneDoc, "shop %d %s %s: the database links the key to %s, the till was told %s", i, in.Kind, in.Key, rec.Doc.ID, first.DocID)
		}
		if takesNumber(in.Kind) && ok && first.Number != num {
			rep.fail(CheckOneDoc, "shop %d %s %s: answered number %s, the document has %s", i, in.Kind, in.Key, first.Number, num)
		}
		if in.Kind == "sale" && ok {
			if msg := sameSale(in, st.sales[first.DocID]); msg != "" {
				rep.fail(CheckOneDoc, "shop %d sale %s: the document does not match the request: %s", i, in.Key, msg)
			}
		}
		// 3: the writes that take numbers, with their times.
		if takesNumber(in.Kind) {
			if ok && num != "" {
				s, _, _ := engine.ParseNumber(num)
				series[s] = append(series[s], numbered{key: in.Key, number: num, call: as[0].Call, ack: first.Answer})
			}
		}
	}

	// 2 and 5, without trusting posd's records: every sale carries a cash
	// amount unique to its request, so each sale read back names the
	// request that made it.
	byTender := map[engine.Money]*Intent{}
	for _, in := range intents {
		if in.Shop == i && in.Kind == "sale" {
			byTender[in.Sale.Payments[0].Amount] = in
		}
	}
	made := map[*Intent][]string{}
	for _, id := range st.listed {
		s := st.sales[id]
		var in *Intent
		if len(s.Payments) > 0 {
			in = byTender[s.Payments[0].Amount]
		}
		if in == nil {
			rep.Phantoms++
			rep.fail(CheckPhantom, "shop %d: sale %s %s matches no request a till of this shop sent", i, s.ID, s.InvoiceNumber)
			continue
		}
		made[in] = append(made[in], s.ID+" "+s.InvoiceNumber)
	}
	for in, docs := range made {
		if len(docs) > 1 {
			rep.Duplicated += len(docs) - 1
			rep.fail(CheckOneDoc, "shop %d sale %s: one key made %d sales: %s", i, in.Key, len(docs), strings.Join(docs, ", "))
		}
	}

	// 3: series exactly 1..N, from the documents read back.
	all := map[engine.Series][]uint64{}
	add := func(n string) {
		if n == "" {
			return
		}
		s, seq, ok := engine.ParseNumber(n)
		if !ok {
			rep.fail(CheckSeries, "shop %d: malformed number %q", i, n)
			return
		}
		all[s] = append(all[s], seq)
	}
	for _, s := range st.sales {
		add(s.InvoiceNumber)
	}
	for _, x := range st.returns {
		add(x.ReturnNumber)
	}
	for _, x := range st.receipts {
		add(deref(x.ReceiptNumber))
	}
	for _, x := range st.transfers {
		add(deref(x.TransferNumber))
	}
	for n := range fs.numbers {
		s, seq, ok := engine.ParseNumber(n)
		if ok && !slices.Contains(all[s], seq) {
			add(n) // a number the file holds and no document read back shows
			rep.fail(CheckPresent, "shop %d: the database holds number %s (%s %s) that the API read-back does not show", i, n, fs.numbers[n].Kind, fs.numbers[n].ID)
		}
	}
	for s, seqs := range all {
		sort.Slice(seqs, func(a, b int) bool { return seqs[a] < seqs[b] })
		want := uint64(1)
		for _, n := range seqs {
			switch {
			case n < want:
				rep.Duplicated++
				rep.fail(CheckSeries, "shop %d series %s: number %d given twice", i, s, n)
			case n > want:
				rep.Gaps += int(n - want)
				rep.fail(CheckSeries, "shop %d series %s: gap, %d..%d missing", i, s, want, n-1)
				want = n + 1
			default:
				want++
			}
		}
		if c := fs.series[s]; c != want-1 {
			rep.Gaps++
			rep.fail(CheckSeries, "shop %d series %s: %d numbers, the counter says %d", i, s, want-1, c)
		}
	}
	for s, c := range fs.series {
		if _, ok := all[s]; !ok && c > 0 {
			rep.Gaps += int(c)
			rep.fail(CheckSeries, "shop %d series %s: the counter is at %d but no document has a number in it", i, s, c)
		}
	}
	// 3: real time. The numbers of a series are a permutation of 1..N, so
	// the only linearisation is number order; it is legal iff no write
	// acknowledged before another was sent has the higher number.
	for s, ops := range series {
		for _, v := range orderViolations(ops) {
			rep.OrderViolations++
			rep.fail(CheckOrder, "shop %d series %s: %s", i, s, v)
		}
	}

	// 4: stock = initial + every movement of every document read back.
	want := map[stockKey]engine.Quantity{}
	for k, q := range f.initial {
		want[k] += q
	}
	for _, s := range st.sales {
		for _, l := range s.Items {
			want[stockKey{s.LocationID, l.ProductID}] -= l.Quantity
		}
	}
	for _, x := range st.returns {
		if x.Restock {
			for _, l := range x.Items {
				want[stockKey{x.LocationID, l.ProductID}] += l.Quantity
			}
		}
	}
	for _, x := range st.receipts {
		if x.Status == engine.StatusApproved {
			for _, l := range x.Items {
				want[stockKey{x.LocationID, l.ProductID}] += l.Quantity
			}
		}
	}
	for _, x := range st.transfers {
		if x.Status == engine.StatusInTransit || x.Status == engine.StatusReceived {
			for _, l := range x.Items {
				want[stockKey{x.FromLocationID, l.ProductID}] -= l.Quantity
			}
		}
		if x.Status == engine.StatusReceived {
			for _, l := range x.Items {
				want[stockKey{x.ToLocationID, l.ProductID}] += l.Quantity
			}
		}
	}
	keys := map[stockKey]bool{}
	for k := range want {
		keys[k] = true
	}
	for k := range st.stock {
		keys[k] = true
	}
	for k := range keys {
		if want[k] != st.stock[k] {
			rep.StockMismatches++
			rep.fail(CheckStock, "shop %d: stock of %s at %s is %s, the documents make it %s", i, k.product, k.loc, st.stock[k], want[k])
		}
		if fs.moves[k] != st.stock[k] {
			rep.StockMismatches++
			rep.fail(CheckStock, "shop %d: stock of %s at %s is %s, the ledger in the file adds up to %s", i, k.product, k.loc, st.stock[k], fs.moves[k])
		}
	}

	// 5: no document that no till of this shop attempted. A document is
	// accounted for when a till was told about it, or when the file links
	// it to a key a till of this shop sent.
	sent := map[string]bool{}
	for k := range byKey {
		if k.shop == i {
			sent[k.key] = true
		}
	}
	linked := map[string]bool{}
	for key, rec := range fs.idem {
		if sent[key] {
			linked[rec.Doc.ID] = true
		}
	}
	phantom := func(kind, id string) {
		if !attempted[id] && !linked[id] {
			rep.Phantoms++
			rep.fail(CheckPhantom, "shop %d: %s %s was read back but no till of this shop attempted it", i, kind, id)
		}
	}
	for _, id := range st.listed {
		phantom("sale", id)
		if !fs.sales[id] {
			rep.fail(CheckPhantom, "shop %d: GET /api/sales lists %s, which is not a sale of this business in the file", i, id)
		}
	}
	for id := range st.returns {
		phantom("refund", id)
	}
	for id := range fs.sales {
		phantom("sale (file)", id)
	}
	for id, kind := range fs.docs {
		if kind == engine.KindSale || kind == engine.KindReturn || kind == engine.KindReceipt || kind == engine.KindTransfer {
			phantom(string(kind)+" (file)", id)
		}
	}
}

// orderViolations returns every write of one series that was sent after
// another was acknowledged and still got the lower number.
func orderViolations(ops []numbered) []string {
	byAck := slices.Clone(ops)
	sort.Slice(byAck, func(a, b int) bool { return byAck[a].ack.Before(byAck[b].ack) })
	byCall := slices.Clone(ops)
	sort.Slice(byCall, func(a, b int) bool { return byCall[a].call.Before(byCall[b].call) })
	var out []string
	var best numbered
	var bestSeq uint64
	j := 0
	for _, op := range byCall {
		for j < len(byAck) && byAck[j].ack.Before(op.call) {
			if _, seq, _ := engine.ParseNumber(byAck[j].number); seq > bestSeq {
				best, bestSeq = byAck[j], seq
			}
			j++
		}
		if _, seq, _ := engine.ParseNumber(op.number); bestSeq > seq {
			out = append(out, fmt.Sprintf("%s got %s at %s, before %s was sent at %s, which got the lower %s",
				best.key, best.number, best.ack.Format(time.StampMicro), op.key, op.call.Format(time.StampMicro), op.number))
		}
	}
	return out
}

// sameSale compares a sale with the request that made it.
func sameSale(in *Intent, s *engine.Sale) string {
	if s.LocationID != in.Sale.LocationID {
		return "location " + s.LocationID + ", sent " + in.Sale.LocationID
	}
	if len(s.Items) != len(in.Sale.Items) {
		return fmt.Sprintf("%d lines, sent %d", len(s.Items), len(in.Sale.Items))
	}
	for j, l := range s.Items {
		if l.ProductID != in.Sale.Items[j].ProductID || l.Quantity != in.Sale.Items[j].Quantity {
			return fmt.Sprintf("line %d is %s × %s, sent %s × %s", j, l.Quantity, l.ProductID, in.Sale.Items[j].Quantity, in.Sale.Items[j].ProductID)
		}
	}
	if len(s.Payments) != len(in.Sale.Payments) || s.Payments[0] != in.Sale.Payments[0] {
		return fmt.Sprintf("payments %v, sent %v", s.Payments, in.Sale.Payments)
	}
	return ""
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
