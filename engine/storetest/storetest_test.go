package storetest

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"posd/engine"
	"posd/engine/boltstore"
)

// The suite's checks must be able to fail. These tests run the cases that
// only a serializable store passes against unlocked, a store that breaks
// the rule, and require every one of them to fail there (and pass on the
// real store); and they show that Rerunning really runs fns twice.

func openBolt(t testing.TB) engine.Store {
	t.Helper()
	s, err := boltstore.Open(filepath.Join(t.TempDir(), "posd.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// unlocked is a store without serializable updates, as a database store at
// READ COMMITTED that reads without locks would be: an fn reads a snapshot
// taken when it starts, and its writes are applied blindly when it ends,
// once no other fn has started for hold, so that fns started together all
// read the same state, even when some of them start late. Number
// counters stay atomic (as UPDATE … RETURNING would keep them), so
// concurrent documents do not collide on numbers and each race shows as
// what it is. Unless guarded, uniqueness is checked only against the
// snapshot too (no unique constraint); guarded, the real store's checks
// refuse a second number or key at apply.
type unlocked struct {
	engine.Store
	guarded bool
	hold    time.Duration
	mu      sync.Mutex
	last    map[string]uint64 // business\x00series → last number handed out
	started time.Time         // when the latest fn started
}

func newUnlocked(st engine.Store, guarded bool) *unlocked {
	return &unlocked{Store: st, guarded: guarded, hold: 50 * time.Millisecond, last: map[string]uint64{}}
}

func (u *unlocked) Update(ctx context.Context, fn func(engine.Tx) error) error {
	u.mu.Lock()
	u.started = time.Now()
	u.mu.Unlock()
	var w *blind
	err := engine.Scan(ctx, u.Store, func(tx engine.ScanTx) error {
		w = &blind{ScanTx: tx, u: u}
		return fn(w)
	})
	if err != nil {
		return err
	}
	for {
		u.mu.Lock()
		wait := time.Until(u.started.Add(u.hold))
		u.mu.Unlock()
		if wait <= 0 {
			break
		}
		time.Sleep(wait)
	}
	return u.Store.Update(ctx, func(tx engine.Tx) error {
		for _, op := range w.ops {
			if err := op(tx); err != nil {
				return err
			}
		}
		return nil
	})
}

// blind is an fn's transaction on unlocked: reads from the snapshot,
// writes recorded for later.
type blind struct {
	engine.ScanTx
	u   *unlocked
	ops []func(engine.Tx) error
}

func (b *blind) later(op func(engine.Tx) error) error { b.ops = append(b.ops, op); return nil }

// ignoreDup drops a duplicate error at apply when the store is unguarded.
func (b *blind) ignoreDup(err, dup error) error {
	if !b.u.guarded && errors.Is(err, dup) {
		return nil
	}
	return err
}

func (b *blind) PutBusiness(x *engine.Business) error {
	return b.later(func(tx engine.Tx) error { return tx.PutBusiness(x) })
}
func (b *blind) PutLocation(x *engine.Location) error {
	return b.later(func(tx engine.Tx) error { return tx.PutLocation(x) })
}
func (b *blind) PutProduct(x *engine.Product) error {
	return b.later(func(tx engine.Tx) error { return tx.PutProduct(x) })
}
func (b *blind) AddMovement(x *engine.Movement) error {
	return b.later(func(tx engine.Tx) error { return tx.AddMovement(x) })
}
func (b *blind) PutSale(x *engine.Sale) error {
	return b.later(func(tx engine.Tx) error { return tx.PutSale(x) })
}
func (b *blind) PutReturn(x *engine.Return) error {
	return b.later(func(tx engine.Tx) error { return tx.PutReturn(x) })
}
func (b *blind) PutReceipt(x *engine.Receipt) error {
	return b.later(func(tx engine.Tx) error { return tx.PutReceipt(x) })
}
func (b *blind) PutTransfer(x *engine.Transfer) error {
	return b.later(func(tx engine.Tx) error { return tx.PutTransfer(x) })
}
func (b *blind) PutAdjustment(x *engine.Adjustment) error {
	return b.later(func(tx engine.Tx) error { return tx.PutAdjustment(x) })
}
func (b *blind) PutToken(x *engine.Token) error {
	return b.later(func(tx engine.Tx) error { return tx.PutToken(x) })
}
func (b *blind) DeleteToken(biz, id string) error {
	return b.later(func(tx engine.Tx) error { return tx.DeleteToken(biz, id) })
}
func (b *blind) PutCashier(x *engine.Cashier) error {
	return b.later(func(tx engine.Tx) error { return b.ignoreDup(tx.PutCashier(x), engine.ErrDuplicatePIN) })
}
func (b *blind) PutApproval(x *engine.Approval) error {
	return b.later(func(tx engine.Tx) error { return tx.PutApproval(x) })
}
func (b *blind) PutShift(x *engine.Shift) error {
	return b.later(func(tx engine.Tx) error { return b.ignoreDup(tx.PutShift(x), engine.ErrShiftOpen) })
}
func (b *blind) PutZReport(x *engine.ZReport) error {
	return b.later(func(tx engine.Tx) error { return tx.PutZReport(x) })
}

// NextNumber hands out numbers atomically, past what the snapshot and
// every earlier fn saw, and advances the real counter at apply.
func (b *blind) NextNumber(biz string, s engine.Series) (uint64, error) {
	all, err := b.ScanTx.Series(biz)
	if err != nil {
		return 0, err
	}
	b.u.mu.Lock()
	k := biz + "\x00" + string(s)
	n := max(b.u.last[k], all[s]) + 1
	b.u.last[k] = n
	b.u.mu.Unlock()
	return n, b.later(func(tx engine.Tx) error { _, err := tx.NextNumber(biz, s); return err })
}

func (b *blind) ClaimNumber(biz, number string, ref engine.DocRef) error {
	if _, err := b.ScanTx.NumberOwner(biz, number); err == nil {
		return engine.ErrDuplicateNumber
	}
	return b.later(func(tx engine.Tx) error {
		return b.ignoreDup(tx.ClaimNumber(biz, number, ref), engine.ErrDuplicateNumber)
	})
}

// SetChainHead is applied blindly, like the documents: fns that read the
// same head all chain to it.
func (b *blind) SetChainHead(biz string, s engine.Series, h engine.ChainHead) error {
	return b.later(func(tx engine.Tx) error { return tx.SetChainHead(biz, s, h) })
}

func (b *blind) PutIdempotency(r *engine.IdempotencyRecord) error {
	if _, err := b.ScanTx.Idempotency(r.BusinessID, r.Key); err == nil {
		return engine.ErrDuplicateKey
	}
	return b.later(func(tx engine.Tx) error {
		return b.ignoreDup(tx.PutIdempotency(r), engine.ErrDuplicateKey)
	})
}

// recorder is a testing.TB that keeps failures to itself, so that a case
// expected to fail can run without failing the test that runs it.
type recorder struct {
	testing.TB
	mu       sync.Mutex
	failures []string
}

func (r *recorder) fail(msg string) {
	r.mu.Lock()
	r.failures = append(r.failures, msg)
	r.mu.Unlock()
}
func (r *recorder) Error(args ...any)                 { r.fail(fmt.Sprint(args...)) }
func (r *recorder) Errorf(format string, args ...any) { r.fail(fmt.Sprintf(format, args...)) }
func (r *recorder) Fail()                             { r.fail("Fail") }
func (r *recorder) FailNow()                          { r.fail("FailNow"); runtime.Goexit() }
func (r *recorder) Fatal(args ...any)                 { r.Error(args...); runtime.Goexit() }
func (r *recorder) Fatalf(format string, args ...any) { r.Errorf(format, args...); runtime.Goexit() }
func (r *recorder) Failed() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.failures) > 0
}

// record runs a case with a recorder and returns its failures.
func record(t *testing.T, tc testCase, open Opener) []string {
	r := &recorder{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		tc.fn(r, open)
	}()
	<-done
	return r.failures
}

// TestSerialisationCasesCatchUnlockedStore: every case that needs
// serializable updates passes on boltstore and fails on unlocked around
// it.
func TestSerialisationCasesCatchUnlockedStore(t *testing.T) {
	for _, tc := range serialisationCases {
		t.Run(tc.name, func(t *testing.T) {
			if f := record(t, tc, openBolt); len(f) > 0 {
				t.Fatalf("fails on boltstore itself: %s", strings.Join(f, "; "))
			}
			f := record(t, tc, func(t testing.TB) engine.Store { return newUnlocked(openBolt(t), false) })
			if len(f) == 0 {
				t.Fatal("passes on a store without serializable updates: the case cannot fail")
			}
			t.Logf("on the unlocked store, as it must: %s", strings.Join(f[:min(len(f), 3)], "; "))
		})
	}
}

// TestSameKeyRaceIsAReplay: on a store that checks keys only at commit
// (unlocked, guarded), concurrent writes with one key all run, one commits
// and the others hit ErrDuplicateKey; every one of them must still be
// answered with the one document, as a replay, never an error.
func TestSameKeyRaceIsAReplay(t *testing.T) {
	var u *unlocked
	open := func(t testing.TB) engine.Store { u = newUnlocked(openBolt(t), true); return u }
	testConcurrentSameKey(t, open)
}

// TestRerunningRunsTwice: behind Rerunning every fn runs twice and only
// the second run's writes stay, so an fn that added to what it captured
// (instead of assigning) would be caught by the suite.
func TestRerunningRunsTwice(t *testing.T) {
	st := Rerunning(openBolt(t))
	defer st.Close()
	ctx := context.Background()
	var appended []int
	runs := 0
	err := st.Update(ctx, func(tx engine.Tx) error {
		runs++
		appended = append(appended, runs)
		_, err := tx.NextNumber("b", "INV-202611")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if runs != 2 || len(appended) != 2 {
		t.Errorf("runs: got %d (appended %v), want 2", runs, appended)
	}
	if n := lastNumber(t, st, "b", "INV-202611"); n != 1 {
		t.Errorf("counter after two runs: got %d, want 1 (only the last run commits)", n)
	}
	// A failing fn is run twice too, and leaves nothing.
	runs = 0
	boom := errors.New("boom")
	if err := st.Update(ctx, func(tx engine.Tx) error { runs++; tx.NextNumber("b", "INV-202611"); return boom }); !errors.Is(err, boom) || runs != 2 {
		t.Errorf("failing fn: got %v after %d runs, want boom after 2", err, runs)
	}
	if n := lastNumber(t, st, "b", "INV-202611"); n != 1 {
		t.Errorf("counter after a failed update: got %d, want 1", n)
	}
}
