package api

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"posd/engine"
)

// Ops are facts about the running appliance that the health view and
// /metrics report beside the API's own counters. cmd/posd fills them in;
// a nil func leaves its part out. They describe the whole posd instance,
// not one business.
type Ops struct {
	// Started is when posd started.
	Started time.Time
	// DatabaseSize returns the database file's size in bytes.
	DatabaseSize func() (int64, error)
	// Backup returns the automatic backups' status.
	Backup func() BackupStatus
	// Commits returns the store's group-commit counters.
	Commits func() CommitStats
	// BackupNow asks for a backup at once; false when one is already
	// running. Nil when automatic backups are off.
	BackupNow func() bool
	// Database returns the state of a database server posd uses
	// (PostgreSQL); nil for the embedded database.
	Database func() *DatabaseStatus
}

// DatabaseStatus is the health view of a database server.
type DatabaseStatus struct {
	Backend string `json:"backend"`
	// Target names the database (host, port, name; never credentials).
	Target string `json:"target"`
	// Reachable is whether it answered a ping just now.
	Reachable bool `json:"reachable"`
	// LastError is the last failure to reach it, kept after it recovered.
	LastError   string     `json:"lastError,omitempty"`
	LastErrorAt *time.Time `json:"lastErrorAt,omitempty"`
	LastOK      *time.Time `json:"lastOk,omitempty"`
	// Connections are the pool's open connections, of them in use, and
	// its cap.
	Connections      int `json:"connections"`
	ConnectionsInUse int `json:"connectionsInUse"`
	MaxConnections   int `json:"maxConnections"`
	Schema           int `json:"schema"`
	// Unavailable counts writes answered 503 for want of the database;
	// RoundTrips the round trips of write transactions.
	Unavailable uint64 `json:"unavailableTotal"`
	RoundTrips  uint64 `json:"roundTripsTotal"`
	// Where write transactions spent their time, in seconds since start:
	// waiting for their business's turn in this process, in the round
	// trip that took the business's lock in the database (which waits for
	// other processes' writers of the business), and holding the turn.
	QueueWaitSeconds float64 `json:"queueWaitSeconds"`
	LockWaitSeconds  float64 `json:"lockWaitSeconds"`
	InTurnSeconds    float64 `json:"inTurnSeconds"`
}

// BackupStatus is the health view of automatic backups.
type BackupStatus struct {
	Enabled bool   `json:"enabled"`
	Dir     string `json:"dir,omitempty"`
	Every   string `json:"every,omitempty"`
	// LastSuccess, LastFile and LastSizeBytes describe the newest good
	// automatic backup.
	LastSuccess   *time.Time `json:"lastSuccess"`
	LastFile      string     `json:"lastFile,omitempty"`
	LastSizeBytes int64      `json:"lastSizeBytes,omitempty"`
	// LastError is the last failure, kept until a backup succeeds.
	LastError     string     `json:"lastError,omitempty"`
	LastErrorAt   *time.Time `json:"lastErrorAt,omitempty"`
	Failures      int        `json:"failures"`
	FailuresTotal uint64     `json:"failuresTotal"`
	Next          *time.Time `json:"next,omitempty"`
	// Overdue is true when no backup succeeded for two intervals.
	Overdue bool `json:"overdue"`
	// CheckedAt is when the data was last verified (each backup is), and
	// Findings and Duplicates what that found.
	CheckedAt  *time.Time `json:"checkedAt"`
	Findings   int        `json:"findings"`
	Duplicates int        `json:"duplicates"`
	// Running is true while a backup is being taken.
	Running      bool       `json:"running"`
	RunningSince *time.Time `json:"runningSince,omitempty"`
}

// CommitStats are the store's writer counters.
type CommitStats struct {
	Commits    uint64 `json:"commits"`
	Operations uint64 `json:"operations"`
	Failed     uint64 `json:"failed"`
	MaxBatch   int    `json:"maxBatch"`
}

// opsRoutes are the owner's and manager's views of the appliance.
// GET /metrics sits outside /api, where Prometheus looks by default, and
// needs a manager or owner token like the JSON view (scrape with
// authorization: bearer).
func opsRoutes() []Route {
	return []Route{
		{Name: "health.details", Method: "GET", Path: "/health/details", Perm: engine.PermManage, handle: getHealthDetails},
		{Name: "metrics", Method: "GET", Path: "/metrics", Root: true, Perm: engine.PermManage, handle: getMetrics},
		{Name: "qr", Method: "GET", Path: "/qr", Perm: engine.PermManage, handle: getQR},
		{Name: "backups.create", Method: "POST", Path: "/backups", Perm: engine.PermOwner, handle: createBackup},
	}
}

// HealthDetails is the answer to GET /api/health/details: the shop's daily
// monitoring indicators in one place. Status is "ok", or "attention" with
// Problems saying why.
type HealthDetails struct {
	Status        string    `json:"status"`
	Problems      []string  `json:"problems"`
	StartedAt     time.Time `json:"startedAt"`
	UptimeSeconds int64     `json:"uptimeSeconds"`
	Database      struct {
		// Backend is "embedded" or "postgresql".
		Backend   string       `json:"backend"`
		SizeBytes int64        `json:"sizeBytes"`
		Writer    *CommitStats `json:"writer,omitempty"`
		// Server is the PostgreSQL server's state.
		Server *DatabaseStatus `json:"server,omitempty"`
	} `json:"database"`
	// DuplicateDocuments is from the last verification (every backup
	// verifies the data); null until one ran. It must be 0.
	DuplicateDocuments *int `json:"duplicateDocuments"`
	// Idempotency is the replay rate per write route over the last 24 h: a
	// high rate means tills retry a lot (a flaky network or timeouts).
	Idempotency map[string]ReplayRate `json:"idempotency"`
	// Refused counts refused requests by error code over the last 24 h,
	// RefusedTotal since start.
	Refused      map[string]uint64 `json:"refused"`
	RefusedTotal map[string]uint64 `json:"refusedTotal"`
	Backup       *BackupStatus     `json:"backup"`
	// Writes says whether writes are failing right now, and why (a full
	// disk): the public health answer stays "ok" for load balancers and
	// tills, so this is where a failing store shows.
	Writes WriteFailures `json:"writes"`
	// Indicators are the seed's health indicators with their thresholds;
	// the till-based ones are the caller's business's.
	Indicators []Indicator `json:"indicators"`
}

// ReplayRate is one route's idempotent writes over the window.
type ReplayRate struct {
	Requests uint64  `json:"requests"`
	Replays  uint64  `json:"replays"`
	Rate     float64 `json:"rate"`
}

func getHealthDetails(s *Server, w http.ResponseWriter, r *http.Request, a *engine.Actor) {
	h := s.healthDetails()
	h.Indicators = s.indicators(&h, s.tillTotals(r.Context(), a))
	writeJSON(w, http.StatusOK, h)
}

func (s *Server) healthDetails() HealthDetails {
	o := s.ops
	now := s.Now()
	h := HealthDetails{Status: "ok", Problems: []string{}, StartedAt: o.Started.UTC().Truncate(time.Second),
		UptimeSeconds: int64(now.Sub(o.Started).Seconds())}
	if o.DatabaseSize != nil {
		if n, err := o.DatabaseSize(); err == nil {
			h.Database.SizeBytes = n
		} else {
			h.Problems = append(h.Problems, "the database size cannot be read: "+err.Error())
		}
	}
	if o.Commits != nil {
		c := o.Commits()
		h.Database.Writer = &c
	}
	h.Database.Backend = "embedded"
	if o.Database != nil {
		if d := o.Database(); d != nil {
			h.Database.Backend, h.Database.Server = d.Backend, d
			if !d.Reachable {
				h.Problems = append(h.Problems, "the database server cannot be reached ("+d.LastError+"); writes are refused until it is back, and posd reconnects by itself")
			}
		}
	}
	recent := s.metrics.recent()
	h.Idempotency = map[string]ReplayRate{}
	for route, n := range recent.Writes {
		rr := ReplayRate{Requests: n, Replays: recent.Replays[route]}
		rr.Rate = float64(rr.Replays) / float64(n)
		h.Idempotency[route] = rr
	}
	h.Refused = recent.Refused
	h.RefusedTotal = s.Counters().Refused
	if o.Backup != nil {
		b := o.Backup()
		h.Backup = &b
		if b.CheckedAt != nil {
			d := b.Duplicates
			h.DuplicateDocuments = &d
			if b.Duplicates > 0 || b.Findings > 0 {
				h.Problems = append(h.Problems, "the last verification found problems in the data; run posd verify --data-dir")
			}
		}
		if b.Failures > 0 {
			h.Problems = append(h.Problems, "the last automatic backup failed: "+b.LastError)
		}
		if b.Overdue {
			h.Problems = append(h.Problems, "the automatic backup is overdue by more than a whole interval")
		}
	}
	h.Writes = s.metrics.writeFailures()
	if w := h.Writes; w.Failing {
		h.Problems = append(h.Problems, fmt.Sprintf("writes are failing right now: %s (last failure %s, %d in 24 h)",
			w.LastFailure.Message, w.LastFailureAt.Format(time.RFC3339), w.Failures24h))
	}
	if len(h.Problems) > 0 {
		h.Status = "attention"
	}
	return h
}

// metricsHandler builds the Prometheus handler once per server: a private
// registry (nothing global), the Go runtime and process collectors, and a
// collector that reads the server's counters at scrape time.
func (s *Server) metricsHandler() http.Handler {
	s.promOnce.Do(func() {
		reg := prometheus.NewRegistry()
		reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), &collector{s: s}, s.metrics.durations)
		s.prom = promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorHandling: promhttp.ContinueOnError})
	})
	return s.prom
}

// promState holds the lazily built /metrics handler.
type promState struct {
	promOnce sync.Once
	prom     http.Handler
}

func getMetrics(s *Server, w http.ResponseWriter, r *http.Request, _ *engine.Actor) {
	s.metricsHandler().ServeHTTP(w, r)
}

var (
	descRefused  = prometheus.NewDesc("posd_requests_refused_total", "API requests refused, by error code.", []string{"code"}, nil)
	descWrites   = prometheus.NewDesc("posd_idempotent_requests_total", "Idempotent writes answered, by route and whether the answer was a replay.", []string{"route", "replay"}, nil)
	descUptime   = prometheus.NewDesc("posd_uptime_seconds", "Seconds since posd started.", nil, nil)
	descDBSize   = prometheus.NewDesc("posd_database_size_bytes", "Size of the database file.", nil, nil)
	descCommits  = prometheus.NewDesc("posd_store_commits_total", "Physical transactions committed by the writer (group commit).", nil, nil)
	descOps      = prometheus.NewDesc("posd_store_operations_total", "Write operations applied in those commits.", nil, nil)
	descBackupOK = prometheus.NewDesc("posd_backup_last_success_timestamp_seconds", "Unix time of the newest good automatic backup (0: none).", nil, nil)
	descBackupKO = prometheus.NewDesc("posd_backup_failures_total", "Automatic backups that failed since start.", nil, nil)
	descDBUp     = prometheus.NewDesc("posd_database_up", "Whether the database server answered a ping at scrape time (PostgreSQL only).", nil, nil)
	descDBConns  = prometheus.NewDesc("posd_database_connections", "The pool's connections to the database server, by state.", []string{"state"}, nil)
	descDBUnav   = prometheus.NewDesc("posd_database_unavailable_total", "Writes answered unavailable for want of the database server.", nil, nil)
	descDBRT     = prometheus.NewDesc("posd_database_round_trips_total", "Round trips of write transactions to the database server.", nil, nil)
	descDups     = prometheus.NewDesc("posd_duplicate_documents", "Documents carrying a number another also carries, at the last verification. Must be 0.", nil, nil)
	descWriteKO  = prometheus.NewDesc("posd_write_failures_total", "Writes the store could not make durable (answered 5xx), by cause: disk_full, read_only, io_error, shutting_down, other.", []string{"cause"}, nil)
	descFailing  = prometheus.NewDesc("posd_writes_failing", "1 while writes are failing: the last one failed in the last 5 minutes and none succeeded since.", nil, nil)
	tillLabels   = []string{"business", "till"}
	descTillQ    = prometheus.NewDesc("posd_till_queued", "Writes waiting in a till's offline queue, as it last reported (target < 10).", tillLabels, nil)
	descTillP    = prometheus.NewDesc("posd_till_parked", "Writes posd refused that a till keeps for a person, as it last reported.", tillLabels, nil)
	descTillSeen = prometheus.NewDesc("posd_till_last_seen_timestamp_seconds", "Unix time of a till's last report (offline when older than 30 s).", tillLabels, nil)
	descTillSent = prometheus.NewDesc("posd_till_writes_sent_total", "Writes a till sent, by its own count.", tillLabels, nil)
	descTillRetr = prometheus.NewDesc("posd_till_writes_retried_total", "Of a till's writes, those that needed a retry (retry success target > 95 %).", tillLabels, nil)
	descTillFail = prometheus.NewDesc("posd_till_writes_queued_after_retries_total", "Of a till's writes, those queued after every retry (target < 0.1 % of sent).", tillLabels, nil)
)

// collector exposes the server's counters and Ops to Prometheus.
type collector struct{ s *Server }

func (c *collector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descRefused, descWrites, descUptime, descDBSize, descCommits, descOps, descBackupOK, descBackupKO, descDups, descWriteKO, descFailing,
		descTillQ, descTillP, descTillSeen, descTillSent, descTillRetr, descTillFail, descDBUp, descDBConns, descDBUnav, descDBRT} {
		ch <- d
	}
}

func (c *collector) Collect(ch chan<- prometheus.Metric) {
	s, o := c.s, c.s.ops
	cs := s.Counters()
	for _, code := range slices.Sorted(maps.Keys(cs.Refused)) {
		ch <- prometheus.MustNewConstMetric(descRefused, prometheus.CounterValue, float64(cs.Refused[code]), code)
	}
	for _, route := range slices.Sorted(maps.Keys(cs.Writes)) {
		rep := cs.Replays[route]
		ch <- prometheus.MustNewConstMetric(descWrites, prometheus.CounterValue, float64(cs.Writes[route]-rep), route, "false")
		ch <- prometheus.MustNewConstMetric(descWrites, prometheus.CounterValue, float64(rep), route, "true")
	}
	ch <- prometheus.MustNewConstMetric(descUptime, prometheus.GaugeValue, s.Now().Sub(o.Started).Seconds())
	s.metrics.mu.Lock()
	fails := maps.Clone(s.metrics.failTotal)
	s.metrics.mu.Unlock()
	for _, cause := range slices.Sorted(maps.Keys(fails)) {
		ch <- prometheus.MustNewConstMetric(descWriteKO, prometheus.CounterValue, float64(fails[cause]), cause)
	}
	failing := 0.0
	if s.metrics.writeFailures().Failing {
		failing = 1
	}
	ch <- prometheus.MustNewConstMetric(descFailing, prometheus.GaugeValue, failing)
	for _, t := range s.svc.TillReports() {
		l := []string{t.BusinessID, t.TillID}
		ch <- prometheus.MustNewConstMetric(descTillQ, prometheus.GaugeValue, float64(t.Queued), l...)
		ch <- prometheus.MustNewConstMetric(descTillP, prometheus.GaugeValue, float64(t.Parked), l...)
		ch <- prometheus.MustNewConstMetric(descTillSeen, prometheus.GaugeValue, float64(t.LastSeenAt.Unix()), l...)
		if c := t.Counters; c != nil {
			ch <- prometheus.MustNewConstMetric(descTillSent, prometheus.CounterValue, float64(c.Sent), l...)
			ch <- prometheus.MustNewConstMetric(descTillRetr, prometheus.CounterValue, float64(c.Retried), l...)
			ch <- prometheus.MustNewConstMetric(descTillFail, prometheus.CounterValue, float64(c.QueuedAfterRetries), l...)
		}
	}
	if o.DatabaseSize != nil {
		if n, err := o.DatabaseSize(); err == nil {
			ch <- prometheus.MustNewConstMetric(descDBSize, prometheus.GaugeValue, float64(n))
		}
	}
	if o.Commits != nil {
		st := o.Commits()
		ch <- prometheus.MustNewConstMetric(descCommits, prometheus.CounterValue, float64(st.Commits))
		ch <- prometheus.MustNewConstMetric(descOps, prometheus.CounterValue, float64(st.Operations))
	}
	if o.Database != nil {
		if d := o.Database(); d != nil {
			up := 0.0
			if d.Reachable {
				up = 1
			}
			ch <- prometheus.MustNewConstMetric(descDBUp, prometheus.GaugeValue, up)
			ch <- prometheus.MustNewConstMetric(descDBConns, prometheus.GaugeValue, float64(d.ConnectionsInUse), "in_use")
			ch <- prometheus.MustNewConstMetric(descDBConns, prometheus.GaugeValue, float64(d.Connections-d.ConnectionsInUse), "idle")
			ch <- prometheus.MustNewConstMetric(descDBUnav, prometheus.CounterValue, float64(d.Unavailable))
			ch <- prometheus.MustNewConstMetric(descDBRT, prometheus.CounterValue, float64(d.RoundTrips))
		}
	}
	if o.Backup != nil {
		b := o.Backup()
		var last float64
		if b.LastSuccess != nil {
			last = float64(b.LastSuccess.Unix())
		}
		ch <- prometheus.MustNewConstMetric(descBackupOK, prometheus.GaugeValue, last)
		ch <- prometheus.MustNewConstMetric(descBackupKO, prometheus.CounterValue, float64(b.FailuresTotal))
		if b.CheckedAt != nil {
			ch <- prometheus.MustNewConstMetric(descDups, prometheus.GaugeValue, float64(b.Duplicates))
		}
	}
}

// tillTotals sums the tills' reports of a's business for the indicators.
func (s *Server) tillTotals(ctx context.Context, a *engine.Actor) TillTotals {
	var t TillTotals
	tills, err := s.svc.Tills(ctx, a)
	if err != nil {
		return t
	}
	t.Tills = len(tills)
	for _, x := range tills {
		if x.LastSeenAt == nil {
			continue
		}
		t.Reported++
		if x.Counters != nil {
			t.Sent += x.Counters.Sent
			t.Retried += x.Counters.Retried
			t.QueuedAfterRetries += x.Counters.QueuedAfterRetries
		}
		if x.Queued > t.MaxQueued || t.MaxQueuedTill == "" {
			t.MaxQueued, t.MaxQueuedTill = x.Queued, x.Name
		}
	}
	return t
}
