package api

import (
	"testing"
	"time"
)

// TestMetricsWindow: the health view counts the last 24 hours only, hour
// by hour, while the totals keep everything.
func TestMetricsWindow(t *testing.T) {
	m := newMetrics()
	now := time.Date(2026, 11, 20, 10, 30, 0, 0, time.UTC)
	m.now = func() time.Time { return now }
	m.write("sales.create", false)
	m.write("sales.create", true)
	m.refused("unauthorized")
	now = now.Add(23 * time.Hour)
	m.write("sales.create", false)
	if got := m.recent().Writes["sales.create"]; got != 3 {
		t.Errorf("after 23 h: got %d writes, want 3", got)
	}
	now = now.Add(90 * time.Minute) // the first hour has left the window
	r := m.recent()
	if r.Writes["sales.create"] != 1 || r.Replays["sales.create"] != 0 || r.Refused["unauthorized"] != 0 {
		t.Errorf("after 24.5 h: got %+v, want only the later write", r)
	}
	if m.writes["sales.create"] != 3 || m.replays["sales.create"] != 1 || m.refuse["unauthorized"] != 1 {
		t.Errorf("totals: %v %v %v", m.writes, m.replays, m.refuse)
	}
	// A slot reused a day later starts from zero.
	now = now.Add(23 * time.Hour)
	m.write("sales.create", false)
	if got := m.recent().Writes["sales.create"]; got != 1 {
		t.Errorf("a day later: got %d, want 1", got)
	}
}
