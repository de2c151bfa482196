package backup

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"sync"
	"time"
)

// Scheduler takes the automatic backups of a running posd: one every Every
// (counted from the newest automatic backup in Dir, so a restart neither
// skips one nor takes an extra one), then prunes Dir by Retention. A backup
// that fails is retried after RetryAfter. What happened last is in Status,
// for the health view.
type Scheduler struct {
	Config    Config
	Source    Source
	Dir       string
	Every     time.Duration
	Retention Retention
	// RetryAfter is the wait after a failed backup; default 15 minutes
	// (never more than Every).
	RetryAfter time.Duration
	Log        *slog.Logger
	// Ticks wakes the scheduler up to see whether a backup is due; nil
	// means once a minute. Waking up often and asking the clock, rather
	// than sleeping Every, copes with suspend, clock changes and restarts.
	Ticks <-chan time.Time

	mu     sync.Mutex
	status Status
	loaded bool
	// kick asks Run for a backup now (BackupNow), whether or not one is due.
	kick chan struct{}
}

// Status is what the scheduler did last.
type Status struct {
	Dir   string
	Every time.Duration
	// LastSuccess and LastFile are the newest good automatic backup.
	LastSuccess time.Time
	LastFile    string
	LastSize    int64
	// LastError is the last failure, kept until a backup succeeds.
	LastError   string
	LastErrorAt time.Time
	// Failures counts failures since the last success; FailuresTotal since
	// start.
	Failures      int
	FailuresTotal uint64
	// CheckedAt is when the live data was last verified (every backup is);
	// Findings and Duplicates are what that check found.
	CheckedAt  time.Time
	Findings   int
	Duplicates int
	// Next is when the next backup is due.
	Next time.Time
	// Running is true while a backup is being taken, since RunningSince.
	Running      bool
	RunningSince time.Time
}

// Status returns a copy of the current status.
func (s *Scheduler) Status() Status {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.status
	st.Dir, st.Every = s.Dir, s.Every
	return st
}

// Run wakes up on every tick until ctx ends and takes a backup when one is
// due.
func (s *Scheduler) Run(ctx context.Context) {
	ticks := s.Ticks
	if ticks == nil {
		t := time.NewTicker(time.Minute)
		defer t.Stop()
		ticks = t.C
	}
	s.load()
	kick := s.kicks()
	for {
		now := false
		select {
		case <-ctx.Done():
			return
		case <-ticks:
		case <-kick:
			now = true
		}
		var err error
		if now {
			err = s.take(ctx, s.Config.now())
		} else {
			_, err = s.RunDue(ctx)
		}
		if err != nil && ctx.Err() == nil {
			s.log().Error("automatic backup failed", "dir", s.Dir, "err", err)
		}
	}
}

func (s *Scheduler) kicks() chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.kick == nil {
		s.kick = make(chan struct{}, 1)
	}
	return s.kick
}

// BackupNow asks Run to take a backup at once (the owner's "Back up now"),
// in the same folder, verified and pruned like every automatic one. It
// returns false when one is already running or asked for: a second press
// does not start a second backup.
func (s *Scheduler) BackupNow() bool {
	k := s.kicks()
	s.mu.Lock()
	running := s.status.Running
	s.mu.Unlock()
	if running {
		return false
	}
	select {
	case k <- struct{}{}:
		return true
	default:
		return false
	}
}

func (s *Scheduler) log() *slog.Logger {
	if s.Log == nil {
		return slog.Default()
	}
	return s.Log
}

// load finds the newest automatic backup already in Dir.
func (s *Scheduler) load() {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.loaded {
		return
	}
	s.loaded = true
	if all, err := listAuto(s.Dir); err == nil && len(all) > 0 {
		s.status.LastSuccess, s.status.LastFile = all[0].at, all[0].path
	}
	s.status.Next = s.nextLocked(s.Config.now())
}

func (s *Scheduler) retryAfter() time.Duration {
	d := s.RetryAfter
	if d <= 0 {
		d = 15 * time.Minute
	}
	return min(d, s.Every)
}

// nextLocked says when the next backup is due.
func (s *Scheduler) nextLocked(now time.Time) time.Time {
	if s.status.Failures > 0 {
		return s.status.LastErrorAt.Add(s.retryAfter())
	}
	if s.status.LastSuccess.IsZero() {
		return now
	}
	return s.status.LastSuccess.Add(s.Every)
}

// RunDue takes a backup if one is due now, then prunes; it reports whether
// it took one.
func (s *Scheduler) RunDue(ctx context.Context) (bool, error) {
	s.load()
	now := s.Config.now()
	s.mu.Lock()
	due := !now.Before(s.nextLocked(now))
	s.mu.Unlock()
	if !due {
		return false, nil
	}
	if err := s.take(ctx, now); err != nil {
		return false, err
	}
	return true, nil
}

// take takes one backup now and prunes.
func (s *Scheduler) take(ctx context.Context, now time.Time) error {
	out := filepath.Join(s.Dir, AutoName(now))
	s.mu.Lock()
	s.status.Running, s.status.RunningSince = true, now
	s.mu.Unlock()
	m, err := s.Config.Take(ctx, s.Source, out, true)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.status.Running, s.status.RunningSince = false, time.Time{}
	if err != nil {
		s.status.LastError, s.status.LastErrorAt = err.Error(), now
		s.status.Failures++
		s.status.FailuresTotal++
		var ie *InvariantError
		if errors.As(err, &ie) {
			s.status.CheckedAt, s.status.Findings, s.status.Duplicates = now, ie.Findings, ie.Duplicates
		}
		s.status.Next = s.nextLocked(now)
		return err
	}
	s.status.LastSuccess, s.status.LastFile, s.status.LastSize = now, out, m.Size
	s.status.LastError, s.status.LastErrorAt, s.status.Failures = "", time.Time{}, 0
	s.status.CheckedAt, s.status.Findings, s.status.Duplicates = now, 0, 0
	s.status.Next = s.nextLocked(now)
	s.log().Info("automatic backup written", "file", out, "bytes", m.Size)
	gone, err := s.Retention.Prune(s.Dir)
	for _, g := range gone {
		s.log().Info("old automatic backup removed", "file", g)
	}
	if err != nil {
		// The backup itself is good; a file that could not be removed is
		// only a warning and is tried again next time.
		s.log().Warn("pruning old backups", "dir", s.Dir, "err", err)
	}
	return nil
}
