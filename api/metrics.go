package api

import (
	"maps"
	"sync"
	"time"
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
}

func newMetrics() *metrics {
	return &metrics{now: time.Now, refuse: map[string]uint64{}, writes: map[string]uint64{}, replays: map[string]uint64{},
		refuseW: map[string]*window{}, writesW: map[string]*window{}, replaysW: map[string]*window{}}
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
