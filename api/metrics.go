package api

import (
	"maps"
	"math"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// metrics counts what the API answered, for the owner's health view and
// /metrics: requests refused by code and idempotent writes by route, first
// answers and replays apart. Totals run since start (Prometheus counters);
// the health view reads the last 24 hours from hourly buckets.
type metrics struct {
	mu      sync.Mutex
	now     func() time.Time
	refuse  map[string]uint64
	writes  map[string]uint64
	replays map[string]uint64
	// Hourly windows of the same counts.
	refuseW  map[string]*window
	writesW  map[string]*window
	replaysW map[string]*window
	// durations is the request-duration histogram per route, latency its
	// last 24 hours.
	durations *prometheus.HistogramVec
	latency   latencyWindow
	// Writes the store could not make durable, by cause, and the last
	// failure and success.
	failTotal  map[string]uint64
	failW      map[string]*window
	lastFail   Failure
	lastFailAt time.Time
	lastOKAt   time.Time
}

func newMetrics() *metrics {
	return &metrics{now: time.Now, refuse: map[string]uint64{}, writes: map[string]uint64{}, replays: map[string]uint64{},
		refuseW: map[string]*window{}, writesW: map[string]*window{}, replaysW: map[string]*window{},
		durations: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "posd_request_duration_seconds",
			Help: "Time from a request's arrival to its answer, by route.", Buckets: latencyBuckets}, []string{"route"}),
		failTotal: map[string]uint64{}, failW: map[string]*window{}}
}

func (m *metrics) refused(code string) {
	m.mu.Lock()
	m.refuse[code]++
	bump(m.refuseW, code, m.now())
	m.mu.Unlock()
}

func (m *metrics) write(route string, replayed bool) {
	m.mu.Lock()
	now := m.now()
	m.writes[route]++
	bump(m.writesW, route, now)
	if replayed {
		m.replays[route]++
		bump(m.replaysW, route, now)
	}
	m.mu.Unlock()
}

// windowHours is the span of the health view's rates.
const windowHours = 24

// window counts events per hour over the last windowHours hours: slot
// h%windowHours holds hour h (hours since the Unix epoch) while it is
// recent, and is reset when its hour comes round again.
type window struct {
	hour  [windowHours]int64
	count [windowHours]uint64
}

func bump(ws map[string]*window, key string, now time.Time) {
	w := ws[key]
	if w == nil {
		w = &window{}
		ws[key] = w
	}
	h := now.Unix() / 3600
	i := h % windowHours
	if w.hour[i] != h {
		w.hour[i], w.count[i] = h, 0
	}
	w.count[i]++
}

// sum returns the events of the last windowHours hours up to now.
func (w *window) sum(now time.Time) uint64 {
	h := now.Unix() / 3600
	var n uint64
	for i := range w.hour {
		if w.hour[i] > h-windowHours && w.hour[i] <= h {
			n += w.count[i]
		}
	}
	return n
}

func sums(ws map[string]*window, now time.Time) map[string]uint64 {
	out := map[string]uint64{}
	for k, w := range ws {
		if n := w.sum(now); n > 0 {
			out[k] = n
		}
	}
	return out
}

// Counters is a snapshot of the API's counters.
type Counters struct {
	Refused map[string]uint64 `json:"refused"`
	Writes  map[string]uint64 `json:"writes"`
	Replays map[string]uint64 `json:"replays"`
}

// Counters returns a snapshot of the counters since start.
func (s *Server) Counters() Counters {
	m := s.metrics
	m.mu.Lock()
	defer m.mu.Unlock()
	return Counters{Refused: maps.Clone(m.refuse), Writes: maps.Clone(m.writes), Replays: maps.Clone(m.replays)}
}

// recent returns the counters of the last 24 hours.
func (m *metrics) recent() Counters {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	return Counters{Refused: sums(m.refuseW, now), Writes: sums(m.writesW, now), Replays: sums(m.replaysW, now)}
}

// latencyBuckets are the upper bounds, in seconds, of the request-duration
// histogram: fine below a second, where a till's requests live, and coarse
// up to the client's 60 s attempt timeout.
var latencyBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60}

// latencyWindow counts request durations per hour and bucket over the last
// windowHours hours, for the health view's request-time indicator (the
// Prometheus histogram runs since start).
type latencyWindow struct {
	hour  [windowHours]int64
	count [windowHours][]uint64 // len(latencyBuckets)+1: the last is +Inf
}

func (w *latencyWindow) observe(now time.Time, seconds float64) {
	h := now.Unix() / 3600
	i := h % windowHours
	if w.hour[i] != h || w.count[i] == nil {
		w.hour[i], w.count[i] = h, make([]uint64, len(latencyBuckets)+1)
	}
	b := len(latencyBuckets)
	for j, ub := range latencyBuckets {
		if seconds <= ub {
			b = j
			break
		}
	}
	w.count[i][b]++
}

// quantile returns the upper bound of the bucket that holds the q-th
// quantile of the last windowHours hours (+Inf past the last bucket), and
// how many requests there were; ok is false without any.
func (w *latencyWindow) quantile(now time.Time, q float64) (bound float64, n uint64, ok bool) {
	h := now.Unix() / 3600
	sum := make([]uint64, len(latencyBuckets)+1)
	for i := range w.hour {
		if w.count[i] != nil && w.hour[i] > h-windowHours && w.hour[i] <= h {
			for j, c := range w.count[i] {
				sum[j] += c
				n += c
			}
		}
	}
	if n == 0 {
		return 0, 0, false
	}
	want := uint64(q*float64(n) + 0.999999)
	var acc uint64
	for j, c := range sum {
		acc += c
		if acc >= want {
			if j == len(latencyBuckets) {
				return math.Inf(1), n, true
			}
			return latencyBuckets[j], n, true
		}
	}
	return math.Inf(1), n, true
}

// requestDone records one answered API request of route.
func (m *metrics) requestDone(route string, d time.Duration) {
	s := d.Seconds()
	m.durations.WithLabelValues(route).Observe(s)
	m.mu.Lock()
	m.latency.observe(m.now(), s)
	m.mu.Unlock()
}

// WriteFailures says whether writes are failing right now and why: a write
// that reached the store and could not be made durable (a 5xx), by cause.
type WriteFailures struct {
	// Failing is true when the last write failed less than failingFor ago
	// and no write has succeeded since.
	Failing       bool       `json:"failing"`
	LastFailureAt *time.Time `json:"lastFailureAt"`
	LastFailure   *Failure   `json:"lastFailure"`
	LastSuccessAt *time.Time `json:"lastSuccessAt"`
	// Failures24h and ByCause count the last 24 hours.
	Failures24h uint64            `json:"failures24h"`
	ByCause     map[string]uint64 `json:"byCause"`
}

// Failure is one failed write.
type Failure struct {
	// Cause is disk_full, read_only, io_error, shutting_down or other.
	Cause   string `json:"cause"`
	Route   string `json:"route"`
	Message string `json:"message"`
}

// failingFor is how long after its last failure a store counts as failing
// when no write has succeeded since.
const failingFor = 5 * time.Minute

// writeFailed records a write that the store could not make durable.
func (m *metrics) writeFailed(f Failure) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	m.failTotal[f.Cause]++
	bump(m.failW, f.Cause, now)
	m.lastFail, m.lastFailAt = f, now
}

// writeOK records a write that succeeded.
func (m *metrics) writeOK() {
	m.mu.Lock()
	m.lastOKAt = m.now()
	m.mu.Unlock()
}

func (m *metrics) writeFailures() WriteFailures {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	w := WriteFailures{ByCause: sums(m.failW, now)}
	for _, n := range w.ByCause {
		w.Failures24h += n
	}
	if !m.lastOKAt.IsZero() {
		t := m.lastOKAt.UTC()
		w.LastSuccessAt = &t
	}
	if !m.lastFailAt.IsZero() {
		t := m.lastFailAt.UTC()
		f := m.lastFail
		w.LastFailureAt, w.LastFailure = &t, &f
		w.Failing = now.Sub(m.lastFailAt) < failingFor && !m.lastOKAt.After(m.lastFailAt)
	}
	return w
}
