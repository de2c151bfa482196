//go:build linux

package main

import (
	"testing"
	"time"
)

// TestOrderViolations checks the real-time order check on hand-made
// histories: no broken build of posd breaks real-time order without also
// breaking something else first, so this is where the check shows it can
// fail.
func TestOrderViolations(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms) * time.Millisecond) }
	op := func(key, number string, call, ack int) numbered {
		return numbered{key: key, number: number, call: at(call), ack: at(ack)}
	}
	cases := []struct {
		name string
		ops  []numbered
		want int
	}{
		{"sequential", []numbered{op("a", "INV-202611-0001", 0, 10), op("b", "INV-202611-0002", 20, 30)}, 0},
		{"concurrent either way", []numbered{op("a", "INV-202611-0002", 0, 30), op("b", "INV-202611-0001", 10, 20)}, 0},
		{"overlapping retries", []numbered{op("a", "INV-202611-0002", 0, 100), op("b", "INV-202611-0001", 50, 60), op("c", "INV-202611-0003", 101, 110)}, 0},
		{"acknowledged first, numbered later", []numbered{op("a", "INV-202611-0002", 0, 10), op("b", "INV-202611-0001", 20, 30)}, 1},
		{"one late among many", []numbered{op("a", "INV-202611-0001", 0, 10), op("b", "INV-202611-0003", 20, 30), op("c", "INV-202611-0002", 40, 50), op("d", "INV-202611-0004", 60, 70)}, 1},
		{"past 9999", []numbered{op("a", "INV-202611-10000", 0, 10), op("b", "INV-202611-9999", 20, 30)}, 1},
	}
	for _, c := range cases {
		if got := orderViolations(c.ops); len(got) != c.want {
			t.Errorf("%s: got %d violations %q, want %d", c.name, len(got), got, c.want)
		}
	}
}
