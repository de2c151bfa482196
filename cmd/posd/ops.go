package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"path/filepath"
	"sync"
	"time"

	"posd/api"
	"posd/backup"
	"posd/engine/boltstore"
)

// opsFlags are serve's flags for the appliance side: automatic backups.
type opsFlags struct {
	backupDir  *string
	every      *time.Duration
	keepDaily  *int
	keepWeekly *int
}

func addOpsFlags(fs *flag.FlagSet) *opsFlags {
	return &opsFlags{
		backupDir:  fs.String("backup-dir", "", "folder for automatic backups, e.g. a USB stick or NAS path (default DATA-DIR/backups)"),
		every:      fs.Duration("backup-every", 24*time.Hour, "time between automatic backups; 0 turns them off"),
		keepDaily:  fs.Int("backup-keep-daily", 14, "automatic backups kept, one per day, for this many days"),
		keepWeekly: fs.Int("backup-keep-weekly", 8, "older automatic backups kept, one per week, for this many weeks"),
	}
}

// operations is what serve runs beside the API: the local backup endpoint
// and the backup scheduler, and the facts the health view reports.
type operations struct {
	started time.Time
	db      *database
	admin   *adminServer
	sched   *backup.Scheduler
	cancel  context.CancelFunc
	done    chan struct{}
	once    sync.Once
}

// start starts the local backup endpoint (for the embedded database: a
// PostgreSQL database is backed up with posd backup --database) and, unless
// turned off, the backup scheduler, for the database db and data dir dir.
func (f *opsFlags) start(dir string, db *database, log *slog.Logger) (*operations, error) {
	if *f.every != 0 && *f.every < time.Minute {
		return nil, usageError{"--backup-every must be 0 (off) or at least 1m"}
	}
	if *f.keepDaily < 0 || *f.keepWeekly < 0 || *f.keepDaily+*f.keepWeekly == 0 {
		return nil, usageError{"--backup-keep-daily and --backup-keep-weekly must not be negative, nor both 0"}
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	o := &operations{started: time.Now(), db: db, done: make(chan struct{})}
	if db.bolt != nil {
		if o.admin, err = startAdmin(abs, db, log); err != nil {
			return nil, err
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	o.cancel = cancel
	if *f.every == 0 {
		close(o.done)
		return o, nil
	}
	bdir := *f.backupDir
	if bdir == "" {
		bdir = filepath.Join(abs, "backups")
	}
	if bdir, err = filepath.Abs(bdir); err != nil {
		o.stop()
		return nil, err
	}
	o.sched = &backup.Scheduler{Config: backupConfig(), Source: db.Snapshot, Dir: bdir, Every: *f.every,
		Retention: backup.Retention{Daily: *f.keepDaily, Weekly: *f.keepWeekly}, Log: log}
	go func() {
		defer close(o.done)
		o.sched.Run(ctx)
	}()
	log.Info("automatic backups", "dir", bdir, "every", f.every.String(), "keep daily", *f.keepDaily, "keep weekly", *f.keepWeekly)
	return o, nil
}

// stop ends a backup in progress and the endpoint; it must run before the
// store closes.
func (o *operations) stop() {
	o.once.Do(func() {
		o.cancel()
		<-o.done
		if o.admin != nil {
			o.admin.stop()
		}
	})
}

// api returns the facts the health view and /metrics report.
func (o *operations) api() api.Ops {
	ops := api.Ops{Started: o.started, DatabaseSize: o.db.Size, Backup: o.backupStatus, Commits: o.db.commitStats}
	if o.db.pg != nil {
		ops.Database = o.db.status
	}
	if o.sched != nil {
		ops.BackupNow = o.sched.BackupNow
	}
	return ops
}

func (o *operations) backupStatus() api.BackupStatus {
	if o.sched == nil {
		return api.BackupStatus{Enabled: false}
	}
	s := o.sched.Status()
	b := api.BackupStatus{Enabled: true, Dir: s.Dir, Every: s.Every.String(), LastFile: s.LastFile, LastSizeBytes: s.LastSize,
		LastError: s.LastError, Failures: s.Failures, FailuresTotal: s.FailuresTotal, Findings: s.Findings, Duplicates: s.Duplicates}
	ptr := func(t time.Time) *time.Time {
		if t.IsZero() {
			return nil
		}
		t = t.UTC()
		return &t
	}
	b.LastSuccess, b.LastErrorAt, b.Next, b.CheckedAt = ptr(s.LastSuccess), ptr(s.LastErrorAt), ptr(s.Next), ptr(s.CheckedAt)
	b.Running, b.RunningSince = s.Running, ptr(s.RunningSince)
	since := o.started
	if !s.LastSuccess.IsZero() {
		since = s.LastSuccess
	}
	b.Overdue = time.Since(since) > 2*s.Every
	return b
}

// backupConfig is how this posd writes and checks backups.
func backupConfig() backup.Config {
	return backup.Config{Open: openReadOnly, Schema: boltstore.SchemaVersion, Version: version, ChainsSince: boltstore.ChainSchema}
}

// openReadOnly opens a database file for checking.
func openReadOnly(path string) (backup.Database, error) {
	st, err := boltstore.Open(path, boltstore.Options{ReadOnly: true, LockTimeout: 2 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("%v", trimOrigin(err))
	}
	return st, nil
}
