package engine

import (
	"fmt"
	"testing"
	"time"
)

// TestDocumentNumberFormats: the series and numbers are written as they always
// were (fmt's "%s-%04d" and Format("200601")).
func TestDocumentNumberFormats(t *testing.T) {
	for _, n := range []uint64{0, 1, 9, 10, 99, 100, 999, 1000, 9999, 10000, 123456, 1<<64 - 1} {
		if got, want := FormatNumber("INV-202611", n), fmt.Sprintf("%s-%04d", "INV-202611", n); got != want {
			t.Errorf("FormatNumber(%d) = %q, want %q", n, got, want)
		}
	}
	zones := []*time.Location{time.UTC, time.FixedZone("UTC+1", 3600)}
	if berlin, err := time.LoadLocation("Europe/Berlin"); err == nil {
		zones = append(zones, berlin)
	}
	for _, at := range []time.Time{
		time.Date(2026, 11, 30, 23, 30, 0, 0, time.UTC), // December in Berlin
		time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(999, 5, 1, 0, 0, 0, 0, time.UTC),
		time.Date(10000, 5, 1, 0, 0, 0, 0, time.UTC),
	} {
		for _, z := range zones {
			if got, want := SeriesOf("RET", at, z), Series("RET-"+at.In(z).Format("200601")); got != want {
				t.Errorf("SeriesOf(%v in %v) = %q, want %q", at, z, got, want)
			}
		}
	}
}
