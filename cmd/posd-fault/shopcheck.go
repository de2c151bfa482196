//go:build linux

package main

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"posd/engine"
)

// shopCheck runs checks 1 to 5 on one shop. It holds what they share: what
// the shop's tills sent and were told, what its owner reads back over the
// API, and what the file holds of its business.
type shopCheck struct {
	rep  *Report
	shop int // the shop's index, in every finding
	f    *shopFixture
	api  *apiState
	file *fileState

	acked []ackedWrite    // the shop's intents a till was told succeeded, in order
	sent  map[string]bool // every key a till of the shop sent
	// madeBy names the request that made each sale listed (matchSales);
	// strangers are the sales listed that match no request of the shop.
	madeBy    map[*Intent][]string
	strangers []*engine.Sale
}

// ackedWrite is an intent a till was told succeeded, with what the API
// read-back shows of its document.
type ackedWrite struct {
	in       *Intent
	attempts []*Attempt // every attempt with its key
	first    *Attempt   // the first success: what the till was told
	number   string     // the document's number as read back
	found    bool       // the read-back holds the document as the write left it
}

// numbered is a write that took a number, for the real-time order check.
type numbered struct {
	key       string
	number    string
	call, ack time.Time
}

func newShopCheck(rep *Report, shop int, f *shopFixture, intents []*Intent, keys keyIndex, api *apiState, file *fileState) *shopCheck {
	c := &shopCheck{rep: rep, shop: shop, f: f, api: api, file: file, sent: map[string]bool{}, madeBy: map[*Intent][]string{}}
	for _, in := range intents {
		if in.Shop != shop {
			continue
		}
		k := shopKey{shop, in.Key}
		if first := keys.docOfKey[k]; first != nil {
			number, found := c.readBack(in.Kind, first.DocID)
			c.acked = append(c.acked, ackedWrite{in: in, attempts: keys.byKey[k], first: first, number: number, found: found})
		}
	}
	for k := range keys.byKey {
		if k.shop == shop {
			c.sent[k.key] = true
		}
	}
	c.matchSales(intents)
	return c
}

// matchSales finds the request that made each sale listed by its cash
// amount, unique to each request the harness sends.
func (c *shopCheck) matchSales(intents []*Intent) {
	byTender := map[engine.Money]*Intent{}
	for _, in := range intents {
		if in.Shop == c.shop && in.Kind == "sale" {
			byTender[in.Sale.Payments[0].Amount] = in
		}
	}
	for _, id := range c.api.listed {
		s := c.api.sales[id]
		var in *Intent
		if len(s.Payments) > 0 {
			in = byTender[s.Payments[0].Amount]
		}
		if in == nil {
			c.strangers = append(c.strangers, s)
			continue
		}
		c.madeBy[in] = append(c.madeBy[in], s.ID+" "+s.InvoiceNumber)
	}
}

// readBack finds the document a write of the given kind made in the API
// read-back, in the state the write left it, and returns its number.
func (c *shopCheck) readBack(kind, id string) (number string, found bool) {
	switch kind {
	case "sale":
		s, ok := c.api.sales[id]
		if !ok {
			return "", false
		}
		return s.InvoiceNumber, true
	case "refund":
		x, ok := c.api.returns[id]
		if !ok {
			return "", false
		}
		return x.ReturnNumber, true
	case "receipt", "approve":
		x, ok := c.api.receipts[id]
		if !ok || (kind == "approve" && x.Status != engine.StatusApproved) {
			return "", false
		}
		return deref(x.ReceiptNumber), true
	default:
		x, ok := c.api.transfers[id]
		if !ok || (kind == "send" && x.Status == engine.StatusDraft) || (kind == "receive" && x.Status != engine.StatusReceived) {
			return "", false
		}
		return deref(x.TransferNumber), true
	}
}

// run runs checks 1 to 5, each adding what it finds to the report.
func (c *shopCheck) run() {
	c.ackedPresent()
	c.oneDocPerKey()
	c.seriesGapless()
	c.realTimeOrder()
	c.stock()
	c.noPhantom()
}

// ackedPresent is check 1: every write a till was told about is in the
// read-back, and the file keeps the record of its key.
func (c *shopCheck) ackedPresent() {
	for _, w := range c.acked {
		in, first := w.in, w.first
		if !w.found {
			c.rep.Lost++
			c.rep.fail(CheckPresent, "shop %d %s %s %s: acknowledged %s %s at %s is not in the read-back", c.shop, in.Till, in.Kind, in.Key, first.DocID, first.Number, first.Answer.Format(time.StampMilli))
		} else if c.file.idem[in.Key] == nil {
			c.rep.Lost++
			c.rep.fail(CheckPresent, "shop %d %s %s: acknowledged but the database has no idempotency record for its key", c.shop, in.Kind, in.Key)
		}
	}
}

// oneDocPerKey is check 2: every 2xx for a key names the same document and
// number, the file links the key to it, the document is the one the
// request asked for, and (without trusting posd's records) no request made
// two sales.
func (c *shopCheck) oneDocPerKey() {
	for _, w := range c.acked {
		in, first := w.in, w.first
		var others []string
		for _, a := range w.attempts {
			if a.OK() && (a.DocID != first.DocID || a.Number != first.Number) {
				others = append(others, a.DocID+" "+a.Number)
			}
		}
		if len(others) > 0 {
			c.rep.Duplicated += len(others)
			c.rep.fail(CheckOneDoc, "shop %d %s %s: first answered %s %s, later %s", c.shop, in.Kind, in.Key, first.DocID, first.Number, strings.Join(others, ", "))
		}
		if rec := c.file.idem[in.Key]; rec != nil && rec.Doc.ID != first.DocID {
			c.rep.fail(CheckOneDoc, "shop %d %s %s: the database links the key to %s, the till was told %s", c.shop, in.Kind, in.Key, rec.Doc.ID, first.DocID)
		}
		if takesNumber(in.Kind) && w.found && first.Number != w.number {
			c.rep.fail(CheckOneDoc, "shop %d %s %s: answered number %s, the document has %s", c.shop, in.Kind, in.Key, first.Number, w.number)
		}
		if in.Kind == "sale" && w.found {
			if msg := sameSale(in, c.api.sales[first.DocID]); msg != "" {
				c.rep.fail(CheckOneDoc, "shop %d sale %s: the document does not match the request: %s", c.shop, in.Key, msg)
			}
		}
	}
	for in, docs := range c.madeBy {
		if len(docs) > 1 {
			c.rep.Duplicated += len(docs) - 1
			c.rep.fail(CheckOneDoc, "shop %d sale %s: one key made %d sales: %s", c.shop, in.Key, len(docs), strings.Join(docs, ", "))
		}
	}
}

// seriesGapless is check 3: every series of the documents read back is
// exactly 1..N, and the file's counter for it says N.
func (c *shopCheck) seriesGapless() {
	all := c.numbersReadBack()
	for s, seqs := range all {
		sort.Slice(seqs, func(a, b int) bool { return seqs[a] < seqs[b] })
		want := uint64(1)
		for _, n := range seqs {
			switch {
			case n < want:
				c.rep.Duplicated++
				c.rep.fail(CheckSeries, "shop %d series %s: number %d given twice", c.shop, s, n)
			case n > want:
				c.rep.Gaps += int(n - want)
				c.rep.fail(CheckSeries, "shop %d series %s: gap, %d..%d missing", c.shop, s, want, n-1)
				want = n + 1
			default:
				want++
			}
		}
		if counter := c.file.series[s]; counter != want-1 {
			c.rep.Gaps++
			c.rep.fail(CheckSeries, "shop %d series %s: %d numbers, the counter says %d", c.shop, s, want-1, counter)
		}
	}
	for s, counter := range c.file.series {
		if _, ok := all[s]; !ok && counter > 0 {
			c.rep.Gaps += int(counter)
			c.rep.fail(CheckSeries, "shop %d series %s: the counter is at %d but no document has a number in it", c.shop, s, counter)
		}
	}
}

// numbersReadBack returns the numbers of every document read back, by
// series. A number the file holds and no document read back shows counts
// too, and is a finding of check 1.
func (c *shopCheck) numbersReadBack() map[engine.Series][]uint64 {
	all := map[engine.Series][]uint64{}
	add := func(n string) {
		if n == "" {
			return
		}
		s, seq, ok := engine.ParseNumber(n)
		if !ok {
			c.rep.fail(CheckSeries, "shop %d: malformed number %q", c.shop, n)
			return
		}
		all[s] = append(all[s], seq)
	}
	for _, s := range c.api.sales {
		add(s.InvoiceNumber)
	}
	for _, x := range c.api.returns {
		add(x.ReturnNumber)
	}
	for _, x := range c.api.receipts {
		add(deref(x.ReceiptNumber))
	}
	for _, x := range c.api.transfers {
		add(deref(x.TransferNumber))
	}
	for n, ref := range c.file.numbers {
		s, seq, ok := engine.ParseNumber(n)
		if ok && !slices.Contains(all[s], seq) {
			add(n)
			c.rep.fail(CheckPresent, "shop %d: the database holds number %s (%s %s) that the API read-back does not show", c.shop, n, ref.Kind, ref.ID)
		}
	}
	return all
}

// realTimeOrder is check 3 in real time. The numbers of a series are a
// permutation of 1..N, so the only linearisation is number order; it is
// legal iff no write acknowledged before another was sent has the higher
// number.
func (c *shopCheck) realTimeOrder() {
	series := map[engine.Series][]numbered{}
	for _, w := range c.acked {
		if takesNumber(w.in.Kind) && w.found && w.number != "" {
			s, _, _ := engine.ParseNumber(w.number)
			series[s] = append(series[s], numbered{key: w.in.Key, number: w.number, call: w.attempts[0].Call, ack: w.first.Answer})
		}
	}
	for s, ops := range series {
		for _, v := range orderViolations(ops) {
			c.rep.OrderViolations++
			c.rep.fail(CheckOrder, "shop %d series %s: %s", c.shop, s, v)
		}
	}
}

// stock is check 4: the stock read back is the initial stock plus every
// movement of every document read back, and the ledger in the file adds
// up to it.
func (c *shopCheck) stock() {
	want := c.stockFromDocuments()
	keys := map[stockKey]bool{}
	for k := range want {
		keys[k] = true
	}
	for k := range c.api.stock {
		keys[k] = true
	}
	for k := range keys {
		got := c.api.stock[k]
		if want[k] != got {
			c.rep.StockMismatches++
			c.rep.fail(CheckStock, "shop %d: stock of %s at %s is %s, the documents make it %s", c.shop, k.product, k.loc, got, want[k])
		}
		if c.file.moves[k] != got {
			c.rep.StockMismatches++
			c.rep.fail(CheckStock, "shop %d: stock of %s at %s is %s, the ledger in the file adds up to %s", c.shop, k.product, k.loc, got, c.file.moves[k])
		}
	}
}

// stockFromDocuments is the initial stock moved by every document read
// back, by location and product.
func (c *shopCheck) stockFromDocuments() map[stockKey]engine.Quantity {
	want := map[stockKey]engine.Quantity{}
	for k, q := range c.f.initial {
		want[k] += q
	}
	for _, s := range c.api.sales {
		for _, l := range s.Items {
			want[stockKey{s.LocationID, l.ProductID}] -= l.Quantity
		}
	}
	for _, x := range c.api.returns {
		if x.Restock {
			for _, l := range x.Items {
				want[stockKey{x.LocationID, l.ProductID}] += l.Quantity
			}
		}
	}
	for _, x := range c.api.receipts {
		if x.Status == engine.StatusApproved {
			for _, l := range x.Items {
				want[stockKey{x.LocationID, l.ProductID}] += l.Quantity
			}
		}
	}
	for _, x := range c.api.transfers {
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
	return want
}

// noPhantom is check 5: no document that no till of the shop attempted. A
// document is accounted for when a till was told about it, or when the
// file links it to a key a till of the shop sent; and every sale listed
// matches a request of the shop by its cash amount.
func (c *shopCheck) noPhantom() {
	for _, s := range c.strangers {
		c.rep.Phantoms++
		c.rep.fail(CheckPhantom, "shop %d: sale %s %s matches no request a till of this shop sent", c.shop, s.ID, s.InvoiceNumber)
	}
	attempted := map[string]bool{} // doc ids a till of the shop was told about
	for _, w := range c.acked {
		attempted[w.first.DocID] = true
	}
	linked := map[string]bool{}
	for key, rec := range c.file.idem {
		if c.sent[key] {
			linked[rec.Doc.ID] = true
		}
	}
	phantom := func(kind, id string) {
		if !attempted[id] && !linked[id] {
			c.rep.Phantoms++
			c.rep.fail(CheckPhantom, "shop %d: %s %s was read back but no till of this shop attempted it", c.shop, kind, id)
		}
	}
	for _, id := range c.api.listed {
		phantom("sale", id)
		if !c.file.sales[id] {
			c.rep.fail(CheckPhantom, "shop %d: GET /api/sales lists %s, which is not a sale of this business in the file", c.shop, id)
		}
	}
	for id := range c.api.returns {
		phantom("refund", id)
	}
	for id := range c.file.sales {
		phantom("sale (file)", id)
	}
	for id, kind := range c.file.docs {
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
