// Command tamper alters a sale in a stopped posd's bbolt file, as someone
// with the file could, for the office's browser tests of the Integrity
// screen (api/till/e2e/office/integrity.test.mjs). It is test tooling: it is
// built by the test, never shipped, and posd itself has no such hook.
//
//	tamper --data-dir DIR --sale INV-202611-0002 --add 100            # the amount changed, its hash left as it was
//	tamper --data-dir DIR --sale INV-202611-0002 --add 100 --rehash   # and the chain hashed again from it to the head
//
// Without --rehash the sale's values no longer match its stored hash (a
// casual edit). With --rehash the sale and every later sale of its series
// are hashed again, each linked to the one before, and the series' head is
// moved: every link holds, and only anchors taken before (a Z's series
// heads, an export's manifest) show the rewrite. It prints what it did as
// one JSON object.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"posd/engine"
	"posd/engine/boltstore"
)

type result struct {
	Business string   `json:"businessId"`
	Sale     string   `json:"sale"`
	OldTotal int64    `json:"oldTotal"`
	NewTotal int64    `json:"newTotal"`
	Rehashed []string `json:"rehashed"`
	Head     string   `json:"head,omitempty"`
}

func main() {
	dir := flag.String("data-dir", "", "posd's data dir (posd must not be running on it)")
	number := flag.String("sale", "", "the number of the sale to change, e.g. INV-202611-0002")
	add := flag.Int64("add", 100, "minor units added to the sale's total and its first payment")
	rehash := flag.Bool("rehash", false, "hash the chain again from the sale to its series' head")
	flag.Parse()
	if *dir == "" || *number == "" {
		fmt.Fprintln(os.Stderr, "tamper: --data-dir and --sale are required")
		os.Exit(2)
	}
	res, err := run(filepath.Join(*dir, "posd.db"), *number, engine.Money(*add), *rehash)
	if err != nil {
		fmt.Fprintln(os.Stderr, "tamper:", err)
		os.Exit(1)
	}
	json.NewEncoder(os.Stdout).Encode(res)
}

func run(path, number string, add engine.Money, rehash bool) (*result, error) {
	series, n, ok := engine.ParseNumber(number)
	if !ok {
		return nil, fmt.Errorf("%q is not a document number", number)
	}
	st, err := boltstore.Open(path, boltstore.Options{})
	if err != nil {
		return nil, err
	}
	defer st.Close()
	ctx := context.Background()
	// The business and the IDs of the sales from number to the series' end.
	var biz string
	var ids []string
	err = st.View(ctx, func(tx engine.Tx) error {
		sc, ok := tx.(engine.ScanTx)
		if !ok {
			return errors.New("the store's read transaction has no number index")
		}
		bs, err := tx.Businesses()
		if err != nil {
			return err
		}
		for _, b := range bs {
			ref, err := sc.NumberOwner(b.ID, number)
			if engine.IsNotFound(err) {
				continue
			}
			if err != nil {
				return err
			}
			if ref.Kind != engine.KindSale {
				return fmt.Errorf("%s is a %s, not a sale", number, ref.Kind)
			}
			biz = b.ID
			counters, err := sc.Series(b.ID)
			if err != nil {
				return err
			}
			last := n
			if rehash {
				last = counters[series]
			}
			for k := n; k <= last; k++ {
				r, err := sc.NumberOwner(b.ID, engine.FormatNumber(series, k))
				if err != nil {
					return fmt.Errorf("%s: %w", engine.FormatNumber(series, k), err)
				}
				ids = append(ids, r.ID)
			}
			return nil
		}
		return fmt.Errorf("no business has a document numbered %s", number)
	})
	if err != nil {
		return nil, err
	}
	res := &result{Business: biz, Sale: number, Rehashed: []string{}}
	err = st.Update(ctx, func(tx engine.Tx) error {
		res.Rehashed = res.Rehashed[:0]
		prev := ""
		for i, id := range ids {
			s, err := tx.Sale(biz, id)
			if err != nil {
				return err
			}
			if i == 0 {
				res.OldTotal = int64(s.Total)
				s.Total += add
				s.Paid += add
				if len(s.Payments) > 0 {
					s.Payments[0].Amount += add
				}
				res.NewTotal = int64(s.Total)
				prev = s.PreviousHash
			}
			if rehash {
				s.PreviousHash = prev
				s.Hash, _ = engine.ComputeHash(s)
				prev = s.Hash
				res.Rehashed = append(res.Rehashed, s.InvoiceNumber)
			}
			if err := tx.PutSale(s); err != nil {
				return err
			}
		}
		if !rehash {
			return nil
		}
		last := n + uint64(len(ids)) - 1
		res.Head = prev
		return tx.SetChainHead(biz, series, engine.ChainHead{Number: last, Hash: prev})
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}
