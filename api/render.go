package api

import (
	"encoding/json"
	"fmt"
	"slices"

	"posd/engine"
)

// renderAnswer returns the JSON answer for a document of an idempotent
// write, in version v of posd's answers (engine.AnswerVersion). It is a
// function of the document and the version only, and a first answer and
// every replay of it come through here with the same two: the engine
// records the answered document itself (a typed snapshot, never bytes)
// with the version it was answered in. So a replay is byte for byte the
// first answer by construction, and it is rendered after the commit, on the
// request's goroutine, never on the store's writer.
//
// When a document's JSON changes, engine.AnswerVersion goes up and this
// function must keep rendering every older version exactly as before:
// a replay of an answer given before an upgrade still carries the old
// shape (contract §7: a replay of a document answered before hash chains
// carries no hash; a GET of it does). TestAnswersVersion1 pins version 1.
func renderAnswer(doc any, v int) ([]byte, error) {
	switch v {
	case 1:
		return renderCurrent(withoutChain(doc))
	case 2:
		return renderCurrent(doc)
	}
	return nil, fmt.Errorf("api: answer version %d is unknown to this posd (it knows up to %d)", v, engine.AnswerVersion)
}

// renderCurrent renders a document as posd's documents render today; the
// fields version 2 added are left out when empty, so a document without
// them renders as version 1 did.
func renderCurrent(doc any) ([]byte, error) {
	if s, ok := doc.(*engine.Sale); ok {
		// A till's 3-line sale renders to about 1.1 kB with its two
		// hashes: 2 kB holds up to about 8 lines in one allocation, where
		// 1 kB had to grow (a second allocation and a copy) for every sale.
		return appendSaleJSON(make([]byte, 0, 2048), s), nil
	}
	return json.Marshal(doc)
}

// withoutChain returns a copy of doc without what answer version 2 added
// (hash chains): an answer recorded in version 1 was given before posd
// had them, and its replay must not show them, whatever the document
// holds now.
func withoutChain(doc any) any {
	switch d := doc.(type) {
	case *engine.Sale:
		c := *d
		c.ChainLink = engine.ChainLink{}
		return &c
	case *engine.Return:
		c := *d
		c.ChainLink, c.SaleNumber, c.SaleHash, c.TaxTotal = engine.ChainLink{}, "", "", 0
		c.Items = slices.Clone(d.Items)
		for i := range c.Items {
			c.Items[i].TaxRate, c.Items[i].TaxAmount = 0, 0
		}
		return &c
	case *engine.Receipt:
		c := *d
		c.ChainLink = engine.ChainLink{}
		return &c
	case *engine.Transfer:
		c := *d
		c.ChainLink = engine.ChainLink{}
		return &c
	}
	return doc
}
