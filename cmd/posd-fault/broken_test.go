//go:build linux

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"posd/cmd/internal/posdproc"
)

// The deliberately broken builds of TestSensitivity, each a bug the checks
// must catch, written as patches to copies of the files it lives in.
var (
	// Answers each operation as soon as it ran, before the group's commit:
	// a crash then loses sales the tills were told about.
	brokenAckEarly = Build{Name: "ack-early", Tags: "posd_crashpoints", Patches: []Patch{
		{File: "engine/boltstore/store.go",
			Old: "\t\t\tapplied++\n",
			New: "\t\t\tapplied++\n\t\t\tclose(r.done) // broken: answered before the commit\n"},
		{File: "engine/boltstore/store.go",
			Old: "\tfor _, r := range batch {\n\t\tclose(r.done)\n\t}",
			New: "\tfor _, r := range batch {\n\t\tif r.err == nil && err == nil {\n\t\t\tcontinue // answered already\n\t\t}\n\t\tclose(r.done)\n\t}"},
	}}
	// Never finds a key's record, and the storage guard behind the lookup
	// lets the second one in: every retry runs again.
	brokenNoLookup = Build{Name: "no-lookup", Patches: []Patch{
		{File: "engine/boltstore/idempotency.go",
			Old: "\tb := t.get(bIdem, kk)\n\tif b == nil {",
			New: "\tb := t.get(bIdem, kk)\n\tif b == nil || true { // broken: never found"},
		{File: "engine/boltstore/idempotency.go",
			Old: "\tif !known && t.get(bIdem, k) != nil {\n\t\treturn engine.ErrDuplicateKey",
			New: "\tif false && !known && t.get(bIdem, k) != nil { // broken: no guard\n\t\treturn engine.ErrDuplicateKey"},
	}}
	// Takes each document's number in a transaction of its own before the
	// document's: a refusal, a crash or a lost race in between burns it.
	brokenNumberTx = Build{Name: "number-tx", Patches: []Patch{
		{File: "engine/idempotency.go",
			Old: "\treturn s.commit(ctx, request{business: a.BusinessID,",
			New: "\tfn = s.numberFirst(ctx, a, op, fn) // broken\n\treturn s.commit(ctx, request{business: a.BusinessID,"},
		{File: "engine/broken_numbertx.go", New: numberFirstSource},
	}}
	// Lists every business's sales to anyone.
	brokenNoTenant = Build{Name: "no-tenant", Patches: []Patch{
		{File: "engine/boltstore/sale.go",
			Old: "\t\tbucket, p = bSaleLoc, prefix(biz, f.LocationID)\n\t}",
			New: "\t\tbucket, p = bSaleLoc, prefix(biz, f.LocationID)\n\t} else {\n\t\tp = nil // broken: every business\n\t}"},
		{File: "engine/boltstore/sale.go",
			Old: "\t\tb := t.get(bSales, key(biz, string(v)))",
			New: "\t\towner := biz\n\t\tif f.LocationID == \"\" {\n\t\t\towner = string(k[:len(k)-9])\n\t\t}\n\t\tb := t.get(bSales, key(owner, string(v)))"},
	}}
	// PostgreSQL without the advisory lock: a business's writers take
	// turns within one process only, so two processes race.
	brokenNoLock = Build{Name: "no-lock", Patches: []Patch{
		{File: "engine/pgstore/txn.go",
			Old: "\tb.Queue(\"SELECT pg_advisory_xact_lock($1)\", lockKey(biz))\n",
			New: "\t// broken: no advisory lock\n"},
	}}
	// Commits without fsync: invisible to kill -9, not to a power cut.
	brokenNoSync = Build{Name: "no-sync", Patches: []Patch{
		{File: "engine/boltstore/store.go",
			Old: "bolt.FreelistMapType,",
			New: "bolt.FreelistMapType, NoSync: true, // broken"},
	}}
)

// numberFirstSource is added to package engine by brokenNumberTx.
const numberFirstSource = `package engine

import (
	"context"
	"time"
)

// numberFirst advances the series counter in a transaction of its own
// before the document's transaction runs, and makes the document take
// that number.
func (s *Service) numberFirst(ctx context.Context, a *Actor, op string, fn opFunc) opFunc {
	prefix := map[string]string{opCreateSale: PrefixSale, opRefundSale: PrefixReturn, opApproveReceipt: PrefixReceipt, opSendTransfer: PrefixTransfer}[op]
	if prefix == "" {
		return fn
	}
	var series Series
	var n uint64
	err := s.store.Update(ctx, func(tx Tx) error {
		biz, err := tx.Business(a.BusinessID)
		if err != nil {
			return err
		}
		series = SeriesOf(prefix, s.now(), biz.Location())
		n, err = tx.NextNumber(a.BusinessID, series)
		return err
	})
	if err != nil {
		return func(Tx, time.Time) (any, DocRef, error) { return nil, DocRef{}, err }
	}
	return func(tx Tx, now time.Time) (any, DocRef, error) {
		return fn(preNumbered{Tx: tx, series: series, n: n}, now)
	}
}

// preNumbered makes nextNumber hand out the number taken beforehand.
type preNumbered struct {
	Tx
	series Series
	n      uint64
}

func (p preNumbered) NextNumber(biz string, s Series) (uint64, error) {
	if s == p.series {
		return p.n, nil
	}
	return p.Tx.NextNumber(biz, s)
}
`

// TestBrokenBuildsApply applies every broken build's patches to the source
// as it is (without compiling): a patch whose text is gone fails here
// first, and says which.
func TestBrokenBuildsApply(t *testing.T) {
	root, err := posdproc.ModuleRoot()
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range []Build{brokenAckEarly, brokenNoLookup, brokenNumberTx, brokenNoTenant, brokenNoSync} {
		if _, err := b.overlay(root, t.TempDir()); err != nil {
			t.Error(err)
		}
	}
}

// TestPatchWithoutItsTextFails: a patch whose text is not in its file, or
// is there twice, or that adds a file that exists, stops the build and
// names the build, the file and the text.
func TestPatchWithoutItsTextFails(t *testing.T) {
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "engine"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(root, "engine", "a.go"), []byte("package engine\n\nvar x, y = 1, 1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		patch Patch
		want  string
	}{
		{Patch{File: "engine/a.go", Old: "var z = 1", New: "var z = 2"}, "engine/a.go 0 times"},
		{Patch{File: "engine/a.go", Old: "1", New: "2"}, "engine/a.go 2 times"},
		{Patch{File: "engine/a.go", New: "package engine\n"}, "it adds engine/a.go, which exists"},
		{Patch{File: "engine/b.go", Old: "x", New: "y"}, "engine/b.go"},
	} {
		_, err := Build{Name: "test", Patches: []Patch{c.patch}}.overlay(root, t.TempDir())
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), `broken build "test", patch 1`) {
			t.Errorf("%+v: got %v, want an error saying %q", c.patch, err, c.want)
		}
	}
	// And a good one goes through.
	if _, err := (Build{Name: "test", Patches: []Patch{{File: "engine/a.go", Old: "x, y", New: "x, z"}}}).overlay(root, t.TempDir()); err != nil {
		t.Error(err)
	}
}
