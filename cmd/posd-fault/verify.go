//go:build linux

package main

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"sort"
	"strings"

	"posd/engine"
)

// VerifyFile is the harness's own check of a database at rest, run each
// time posd died and before it starts again: every series is exactly
// 1..counter, every number and every idempotency record points at a
// document that exists (with that number), and stock equals the sum of its
// movements. It reads through the store read-only, so it runs only while
// posd is down.
//
// It re-implements checks that engine.Verify (posd verify) also makes, on
// purpose: it is an oracle, written apart from the code it judges, so that
// a bug in engine.Verify cannot hide the bug it should find. Where the
// binary has posd verify, the harness runs both (Both, PosdVerify).
func VerifyFile(dir string) error {
	st, err := openAtRest(dir)
	if err != nil {
		return err
	}
	defer st.Close()
	var findings []string
	fail := func(format string, args ...any) { findings = append(findings, fmt.Sprintf(format, args...)) }
	err = engine.Scan(context.Background(), st, func(tx engine.ScanTx) error {
		bizs, err := tx.Businesses()
		if err != nil {
			return err
		}
		for _, b := range bizs {
			series, err := tx.Series(b.ID)
			if err != nil {
				return err
			}
			got := map[engine.Series][]uint64{}
			if err := tx.Numbers(b.ID, func(n string, ref engine.DocRef) error {
				s, seq, ok := engine.ParseNumber(n)
				if !ok {
					fail("%s: malformed number %q", b.Name, n)
					return nil
				}
				got[s] = append(got[s], seq)
				if num, ok := docNumber(tx, b.ID, ref); !ok || num != n {
					fail("%s: number %s points at %s %s, which has number %q", b.Name, n, ref.Kind, ref.ID, num)
				}
				return nil
			}); err != nil {
				return err
			}
			for s, last := range series {
				seqs := got[s]
				sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
				if uint64(len(seqs)) != last {
					fail("%s: series %s has %d numbers, its counter says %d", b.Name, s, len(seqs), last)
				}
				for i, n := range seqs {
					if n != uint64(i+1) {
						fail("%s: series %s is not 1..N: position %d holds %d", b.Name, s, i+1, n)
						break
					}
				}
				delete(got, s)
			}
			for s := range got {
				fail("%s: numbers of series %s exist without its counter", b.Name, s)
			}
			if err := tx.Idempotencies(b.ID, func(r *engine.IdempotencyRecord) error {
				if _, ok := docNumber(tx, b.ID, r.Doc); !ok {
					fail("%s: idempotency key %q points at missing %s %s", b.Name, r.Key, r.Doc.Kind, r.Doc.ID)
				}
				return nil
			}); err != nil {
				return err
			}
			sum, stock, err := ledger(tx, b.ID, nil)
			if err != nil {
				return err
			}
			for k, q := range stock {
				if sum[k] != q {
					fail("%s: stock of %s at %s is %s, its movements add up to %s", b.Name, k.product, k.loc, q, sum[k])
				}
				delete(sum, k)
			}
			for k, q := range sum {
				if q != 0 {
					fail("%s: movements of %s at %s add up to %s but there is no stock record", b.Name, k.product, k.loc, q)
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(findings) > 0 {
		return errors.New(strings.Join(findings, "; "))
	}
	return nil
}

// docNumber returns the number of a document ("" for an unnumbered one),
// and whether it exists.
func docNumber(tx engine.Tx, biz string, ref engine.DocRef) (string, bool) {
	switch ref.Kind {
	case engine.KindSale:
		s, err := tx.Sale(biz, ref.ID)
		if err != nil {
			return "", false
		}
		return s.InvoiceNumber, true
	case engine.KindReturn:
		r, err := tx.Return(biz, ref.ID)
		if err != nil {
			return "", false
		}
		return r.ReturnNumber, true
	case engine.KindReceipt:
		r, err := tx.Receipt(biz, ref.ID)
		if err != nil || r.ReceiptNumber == nil {
			return "", err == nil
		}
		return *r.ReceiptNumber, true
	case engine.KindTransfer:
		t, err := tx.Transfer(biz, ref.ID)
		if err != nil || t.TransferNumber == nil {
			return "", err == nil
		}
		return *t.TransferNumber, true
	case engine.KindAdjustment:
		_, err := tx.Adjustment(biz, ref.ID)
		return "", err == nil
	case engine.KindLocation:
		_, err := tx.Location(biz, ref.ID)
		return "", err == nil
	case engine.KindProduct:
		_, err := tx.Product(biz, ref.ID)
		return "", err == nil
	case engine.KindToken:
		ts, err := tx.Tokens(biz)
		for _, t := range ts {
			if t.ID == ref.ID {
				return "", err == nil
			}
		}
		// A revoked token's record may outlive it; not a finding.
		return "", true
	}
	return "", false
}

// PosdVerify runs the binary's own `posd verify --data-dir DIR`, when the
// binary has that command.
func PosdVerify(bin string) func(dir string) error {
	return func(dir string) error {
		flag := "--data-dir"
		if strings.HasPrefix(dir, "postgres://") {
			flag = "--database"
		}
		out, err := exec.Command(bin, "verify", flag, dir).CombinedOutput()
		if err != nil {
			return fmt.Errorf("posd verify: %v: %s", err, lastLines(string(out), 20))
		}
		return nil
	}
}

// HasVerify reports whether the binary knows the verify command.
func HasVerify(bin string) bool {
	out, _ := exec.Command(bin, "help").CombinedOutput()
	return strings.Contains(string(out), "verify")
}

func lastLines(s string, n int) string {
	ls := strings.Split(strings.TrimSpace(s), "\n")
	if len(ls) > n {
		ls = ls[len(ls)-n:]
	}
	return strings.Join(ls, "\n")
}

// Both runs every check given and joins what they find.
func Both(checks ...func(string) error) func(string) error {
	return func(dir string) error {
		var errs []error
		for _, c := range checks {
			if c != nil {
				if err := c(dir); err != nil {
					errs = append(errs, err)
				}
			}
		}
		return errors.Join(errs...)
	}
}
