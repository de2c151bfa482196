package engine

import (
	"testing"
	"time"
)

// TestLocationLabels: a location is named by its name; two or more of one
// name by their place in the order they were added (the ID breaking a tie
// in time), never by a piece of an ID.
func TestLocationLabels(t *testing.T) {
	t0 := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	locs := []*Location{
		{ID: "01c", Name: "Main", CreatedAt: t0.Add(time.Hour)},
		{ID: "01a", Name: "Main", CreatedAt: t0},
		{ID: "01d", Name: "Store room", CreatedAt: t0},
		{ID: "01b", Name: "Main", CreatedAt: t0.Add(time.Hour)},
	}
	got := locationLabels(locs)
	want := map[string]string{"01a": "Main (1st)", "01b": "Main (2nd)", "01c": "Main (3rd)", "01d": "Store room"}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for id, w := range want {
		if got[id] != w {
			t.Errorf("%s: got %q, want %q", id, got[id], w)
		}
	}
	for n, w := range map[int]string{1: "1st", 2: "2nd", 3: "3rd", 4: "4th", 11: "11th", 12: "12th", 13: "13th", 21: "21st", 22: "22nd", 101: "101st", 111: "111th"} {
		if g := ordinal(n); g != w {
			t.Errorf("ordinal(%d) = %q, want %q", n, g, w)
		}
	}
}
