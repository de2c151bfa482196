package backup_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"posd/backup"
	"posd/engine"
	"posd/engine/boltstore"
	"posd/engine/storetest"
)

// The tests run on the real store: backup knows it only through its
// interfaces, which boltstore implements.

func config(now func() time.Time) backup.Config {
	return backup.Config{
		Open: func(path string) (backup.Database, error) {
			return boltstore.Open(path, boltstore.Options{ReadOnly: true, LockTimeout: time.Second})
		},
		Schema: boltstore.SchemaVersion, Version: "test", Now: now, ChainsSince: boltstore.ChainSchema,
	}
}

// shop is a store with the test shop (storetest.NewShop), which has sold n
// apples.
func shop(t *testing.T, n int) (*boltstore.Store, *engine.Service) {
	t.Helper()
	st, err := boltstore.Open(filepath.Join(t.TempDir(), "posd.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	svc := engine.NewService(st)
	shop := storetest.NewShop(t, svc, "UTC")
	for i := 0; i < n; i++ {
		if _, err := svc.CreateSale(context.Background(), shop.Owner, shop.Key(), shop.OneApple()); err != nil {
			t.Fatal(err)
		}
	}
	return st, svc
}

func TestTakeAndVerify(t *testing.T) {
	st, _ := shop(t, 25)
	cfg := config(nil)
	out := filepath.Join(t.TempDir(), "sub", "b.db")
	m, err := cfg.Take(context.Background(), st.Snapshot, out, false)
	if err != nil {
		t.Fatal(err)
	}
	if m.Format != backup.Format || m.Size == 0 || len(m.SHA256) != 64 || m.Automatic || m.File != "b.db" {
		t.Errorf("manifest: %+v", m)
	}
	if c := m.Businesses[0].Counts; c.Sales != 25 || c.Numbers != 25 || m.Businesses[0].Series[engine.SeriesOf("INV", time.Now(), time.UTC)] != 25 {
		t.Errorf("figures: %+v", m.Businesses[0])
	}
	for _, p := range []string{out, backup.ManifestPath(out)} {
		if st, err := os.Stat(p); err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v %v", p, st, err)
		}
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(out), ".*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
	rep, err := cfg.VerifyFile(context.Background(), out)
	if err != nil || rep.Findings() != 0 || rep.Manifest == nil || len(rep.Checks) != 8 {
		t.Fatalf("verify: %v %+v", err, rep)
	}

	// A manifest whose figures differ from the file is a finding, even
	// when the hash is right (a manifest from another backup, edited).
	m.Businesses[0].Counts.Sales = 24
	b, _ := json.Marshal(m)
	os.WriteFile(backup.ManifestPath(out), b, 0o600)
	rep, _ = cfg.VerifyFile(context.Background(), out)
	if rep.Findings() != 1 || !strings.Contains(rep.Checks[0].Findings[0], "the manifest says") {
		t.Errorf("edited manifest: %+v", rep.Checks[0])
	}
}

// TestTakeRefusesBadSnapshot: a snapshot that fails on the way, or that is
// not a database, leaves nothing behind and does not replace an existing
// backup.
func TestTakeRefusesBadSnapshot(t *testing.T) {
	st, _ := shop(t, 1)
	cfg := config(nil)
	out := filepath.Join(t.TempDir(), "b.db")
	if _, err := cfg.Take(context.Background(), st.Snapshot, out, false); err != nil {
		t.Fatal(err)
	}
	good, _ := os.ReadFile(out)
	garbage := func(ctx context.Context, w io.Writer) (int64, error) {
		n, err := w.Write([]byte(strings.Repeat("not a database", 1000)))
		return int64(n), err
	}
	if _, err := cfg.Take(context.Background(), garbage, out, false); !errors.Is(err, backup.ErrVerify) {
		t.Errorf("garbage snapshot: got %v, want ErrVerify", err)
	}
	broken := func(ctx context.Context, w io.Writer) (int64, error) { return 0, errors.New("disk on fire") }
	if _, err := cfg.Take(context.Background(), broken, out, false); err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Errorf("failing snapshot: got %v", err)
	}
	if now, _ := os.ReadFile(out); string(now) != string(good) {
		t.Error("a refused backup replaced the good one")
	}
	ents, _ := os.ReadDir(filepath.Dir(out))
	if len(ents) != 2 {
		t.Errorf("files left: %v", ents)
	}
}

// TestRestore: restore swaps the database by rename, keeps the previous
// one, and refuses when the database is in use or the backup is damaged.
func TestRestore(t *testing.T) {
	st, _ := shop(t, 3)
	cfg := config(func() time.Time { return time.Date(2026, 11, 27, 9, 30, 0, 0, time.UTC) })
	file := filepath.Join(t.TempDir(), "b.db")
	if _, err := cfg.Take(context.Background(), st.Snapshot, file, false); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	db := filepath.Join(dir, "posd.db")
	os.WriteFile(db, []byte("the old database"), 0o600)
	busy := fmt.Errorf("%w: posd is running", backup.ErrInUse)
	if _, err := cfg.Restore(context.Background(), file, db, func() error { return busy }); !errors.Is(err, backup.ErrInUse) {
		t.Errorf("in use: got %v", err)
	}
	if b, _ := os.ReadFile(db); string(b) != "the old database" {
		t.Error("a refused restore changed the database")
	}
	res, err := cfg.Restore(context.Background(), file, db, func() error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(dir, "pre-restore-20261127T093000Z.db"); res.Previous != want {
		t.Errorf("previous: got %s, want %s", res.Previous, want)
	}
	if b, _ := os.ReadFile(res.Previous); string(b) != "the old database" {
		t.Error("the previous database was not kept")
	}
	a, _ := os.ReadFile(file)
	b, _ := os.ReadFile(db)
	if string(a) != string(b) {
		t.Error("the restored database differs from the backup")
	}
	if st, _ := os.Stat(db); st.Mode().Perm() != 0o600 {
		t.Errorf("restored file mode %v", st.Mode().Perm())
	}
	// Damaged: refused before anything moves.
	a[len(a)-100] ^= 1
	os.WriteFile(file, a, 0o600)
	if _, err := cfg.Restore(context.Background(), file, db, func() error { return nil }); !errors.Is(err, backup.ErrVerify) {
		t.Errorf("damaged backup: got %v, want ErrVerify", err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "*")); len(left) != 2 {
		t.Errorf("files after refused restore: %v", left)
	}
}

// fakeClock is the scheduler's injected clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// TestSchedulerFiresAndPrunes drives the scheduler with an injected clock
// and ticks through 100 days of daily backups, and checks that exactly the
// retention rule's backups are left, manual ones untouched.
func TestSchedulerFiresAndPrunes(t *testing.T) {
	st, _ := shop(t, 2)
	clk := &fakeClock{t: time.Date(2026, 1, 1, 3, 0, 0, 0, time.UTC)}
	dir := t.TempDir()
	manual := filepath.Join(dir, "before-the-upgrade.db")
	os.WriteFile(manual, []byte("manual"), 0o600)
	ticks := make(chan time.Time)
	s := &backup.Scheduler{Config: config(clk.Now), Source: st.Snapshot, Dir: dir, Every: 24 * time.Hour,
		Retention: backup.Retention{Daily: 14, Weekly: 8, Zone: time.UTC}, Ticks: ticks, Log: quiet}
	// Run wakes up on the injected tick and takes the first backup.
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.Run(ctx) }()
	ticks <- clk.Now()
	for deadline := time.Now().Add(10 * time.Second); s.Status().LastSuccess.IsZero(); {
		if time.Now().After(deadline) {
			t.Fatal("the scheduler did not fire on its tick")
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	// From here on the ticks are driven by hand, one RunDue per tick, so
	// that the clock never moves under a running tick.
	tick := func() {
		if _, err := s.RunDue(context.Background()); err != nil && !strings.Contains(err.Error(), "USB") {
			t.Fatal(err)
		}
	}

	first := s.Status()
	if first.LastSuccess != clk.Now() || first.LastFile != filepath.Join(dir, backup.AutoName(clk.Now())) || first.Failures != 0 {
		t.Fatalf("first tick: %+v", first)
	}
	if first.Next != clk.Now().Add(24*time.Hour) || first.CheckedAt != clk.Now() || first.Duplicates != 0 {
		t.Errorf("status after the first backup: %+v", first)
	}
	// Not due again within the day.
	clk.Add(23 * time.Hour)
	tick()
	if s.Status().LastSuccess != first.LastSuccess {
		t.Error("a second backup within the interval")
	}
	clk.Add(time.Hour)
	for day := 1; day < 100; day++ {
		tick()
		clk.Add(24 * time.Hour)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "posd-auto-*.db"))
	var days []string
	for _, f := range files {
		days = append(days, strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "posd-auto-"), "T030000Z.db"))
		if _, err := os.Stat(backup.ManifestPath(f)); err != nil {
			t.Errorf("%s has no manifest", f)
		}
	}
	// The last backup was on day 99, Friday 2026-04-10. Daily: the 14 days
	// 03-28 .. 04-10. Weekly, among the older ones: the newest of each of
	// the 8 most recent ISO weeks, 03-27 (the Friday before the daily
	// window) and the Sundays before it. (Worked out independently of the
	// code under test.)
	want := []string{"20260208", "20260215", "20260222", "20260301", "20260308", "20260315", "20260322", "20260327",
		"20260328", "20260329", "20260330", "20260331", "20260401", "20260402", "20260403", "20260404", "20260405",
		"20260406", "20260407", "20260408", "20260409", "20260410"}
	slices.Sort(days)
	if !slices.Equal(days, want) {
		t.Errorf("kept backups:\n got %v\nwant %v", days, want)
	}
	if len(days) != 22 {
		t.Errorf("kept %d backups, want 14 daily + 8 weekly", len(days))
	}
	if b, err := os.ReadFile(manual); err != nil || string(b) != "manual" {
		t.Error("a manual backup was pruned")
	}

	// A failing backup shows in the status and is retried later, not at
	// every tick.
	s.Source = func(ctx context.Context, w io.Writer) (int64, error) { return 0, errors.New("USB stick removed") }
	tick()
	stt := s.Status()
	if stt.Failures != 1 || stt.FailuresTotal != 1 || !strings.Contains(stt.LastError, "USB stick removed") || stt.LastSuccess.IsZero() {
		t.Errorf("after a failure: %+v", stt)
	}
	clk.Add(time.Minute)
	tick()
	if s.Status().FailuresTotal != 1 {
		t.Error("retried at once instead of after RetryAfter")
	}
	s.Source = st.Snapshot
	clk.Add(15 * time.Minute)
	tick()
	if stt := s.Status(); stt.Failures != 0 || stt.LastError != "" || stt.LastSuccess != clk.Now() {
		t.Errorf("after recovery: %+v", stt)
	}
}

// TestSchedulerPicksUpExisting: after a restart the scheduler counts from
// the newest automatic backup on disk instead of taking one at once.
func TestSchedulerPicksUpExisting(t *testing.T) {
	st, _ := shop(t, 1)
	clk := &fakeClock{t: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)}
	dir := t.TempDir()
	prev := filepath.Join(dir, backup.AutoName(clk.Now().Add(-2*time.Hour)))
	os.WriteFile(prev, []byte("x"), 0o600)
	s := &backup.Scheduler{Config: config(clk.Now), Source: st.Snapshot, Dir: dir, Every: 24 * time.Hour, Retention: backup.Retention{Daily: 14, Weekly: 8}, Log: quiet}
	if took, err := s.RunDue(context.Background()); took || err != nil {
		t.Errorf("RunDue 2 h after the last backup: took=%v err=%v", took, err)
	}
	if got := s.Status().Next; !got.Equal(clk.Now().Add(22 * time.Hour)) {
		t.Errorf("next: got %v, want in 22 h", got)
	}
	clk.Add(22 * time.Hour)
	if took, err := s.RunDue(context.Background()); !took || err != nil {
		t.Errorf("RunDue when due: took=%v err=%v", took, err)
	}
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// TestBackupNow: the owner's "Back up now" takes a backup at once, though
// none is due, and a second press while it is asked for or running does
// not start another.
func TestBackupNow(t *testing.T) {
	st, _ := shop(t, 1)
	clk := &fakeClock{t: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)}
	dir := t.TempDir()
	prev := filepath.Join(dir, backup.AutoName(clk.Now().Add(-2*time.Hour)))
	os.WriteFile(prev, []byte("x"), 0o600)
	s := &backup.Scheduler{Config: config(clk.Now), Source: st.Snapshot, Dir: dir, Every: 24 * time.Hour,
		Retention: backup.Retention{Daily: 14, Weekly: 8}, Ticks: make(chan time.Time), Log: quiet}
	if !s.BackupNow() {
		t.Fatal("BackupNow refused the first press")
	}
	if s.BackupNow() {
		t.Error("BackupNow accepted a second press while the first was waiting")
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); s.Run(ctx) }()
	defer func() { cancel(); <-done }()
	want := filepath.Join(dir, backup.AutoName(clk.Now()))
	for deadline := time.Now().Add(20 * time.Second); s.Status().LastFile != want; {
		if time.Now().After(deadline) {
			t.Fatalf("no backup after BackupNow: %+v", s.Status())
		}
		time.Sleep(10 * time.Millisecond)
	}
	stt := s.Status()
	if stt.Running || stt.Failures != 0 || stt.CheckedAt != clk.Now() {
		t.Errorf("after BackupNow: %+v", stt)
	}
	if _, err := os.Stat(backup.ManifestPath(stt.LastFile)); err != nil {
		t.Errorf("the backup has no manifest: %v", err)
	}
}
