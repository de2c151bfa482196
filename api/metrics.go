package api

import (
	"maps"
	"sync"
)

// metrics counts what the API answered, for the owner's health view:
// requests refused by code and idempotent writes by route, first answers
// and replays apart.
type metrics struct {
	mu      sync.Mutex
	refuse  map[string]uint64
	writes  map[string]uint64
	replays map[string]uint64
}

func newMetrics() *metrics {
	return &metrics{refuse: map[string]uint64{}, writes: map[string]uint64{}, replays: map[string]uint64{}}
}

func (m *metrics) refused(code string) {
	m.mu.Lock()
	m.refuse[code]++
	m.mu.Unlock()
}

func (m *metrics) write(route string, replayed bool) {
	m.mu.Lock()
	m.writes[route]++
	if replayed {
		m.replays[route]++
	}
	m.mu.Unlock()
}

// Counters is a snapshot of the API's counters.
type Counters struct {
	Refused map[string]uint64 `json:"refused"`
	Writes  map[string]uint64 `json:"writes"`
	Replays map[string]uint64 `json:"replays"`
}

// Counters returns a snapshot of the counters.
func (s *Server) Counters() Counters {
	m := s.metrics
	m.mu.Lock()
	defer m.mu.Unlock()
	return Counters{Refused: maps.Clone(m.refuse), Writes: maps.Clone(m.writes), Replays: maps.Clone(m.replays)}
}
