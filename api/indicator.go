package api

import (
	"fmt"
	"math"
	"strconv"
)

// Indicator is one of the seed's health indicators with its threshold,
// worked out from real data: the tills' own reports (their counters and
// queues) and what posd measured itself (replays, request durations, the
// last verification). OK is null when there is no data yet.
type Indicator struct {
	ID    string   `json:"id"`
	Title string   `json:"title"`
	Value *float64 `json:"value"`
	// Display is Value for people ("0.4 %"); Threshold the target ("< 5 %").
	Display   string `json:"display"`
	Threshold string `json:"threshold"`
	OK        *bool  `json:"ok"`
	// Detail says where the figure comes from.
	Detail string `json:"detail"`
}

// Indicator IDs.
const (
	IndDuplicateSales     = "duplicate_sales"
	IndReplayRate         = "replay_rate"
	IndRetrySuccess       = "retry_success"
	IndOfflineQueue       = "offline_queue"
	IndRequestTime        = "request_time"
	IndFailedAfterRetries = "failed_after_retries"
)

// The thresholds of the seed's design.
const (
	maxReplayRate         = 0.05
	minRetrySuccess       = 0.95
	maxOfflineQueue       = 10
	maxRequestSeconds     = 2.0
	maxFailedAfterRetries = 0.001
)

// TillTotals sums what the tills of one business reported: the inputs of
// the till-based indicators.
type TillTotals struct {
	Tills int
	// Reported is how many tills ever reported.
	Reported int
	// Sent, Retried and QueuedAfterRetries add up the tills' counters.
	Sent, Retried, QueuedAfterRetries uint64
	// MaxQueued is the longest queue a till reported, and MaxQueuedTill its name.
	MaxQueued     int
	MaxQueuedTill string
}

func indicator(id, title, threshold, detail string, v *float64, display string, ok *bool) Indicator {
	return Indicator{ID: id, Title: title, Value: v, Display: display, Threshold: threshold, OK: ok, Detail: detail}
}

func fp(v float64) *float64 { return &v }
func bp(v bool) *bool       { return &v }

func pctText(x float64) string {
	return strconv.FormatFloat(x*100, 'f', 1, 64) + " %"
}

// indicators works out the six indicators: duplicates from the last
// verification, replays and request time from this posd's last 24 hours,
// the rest from the tills' reports.
func (s *Server) indicators(h *HealthDetails, tills TillTotals) []Indicator {
	var out []Indicator
	if h.DuplicateDocuments != nil {
		d := float64(*h.DuplicateDocuments)
		out = append(out, indicator(IndDuplicateSales, "Duplicate sales", "0", "the last verification of the whole database (every backup verifies)", fp(d), strconv.Itoa(*h.DuplicateDocuments), bp(d == 0)))
	} else {
		out = append(out, indicator(IndDuplicateSales, "Duplicate sales", "0", "not verified yet: the first backup verifies the whole database", nil, "—", nil))
	}

	var req, rep uint64
	for _, r := range h.Idempotency {
		req, rep = req+r.Requests, rep+r.Replays
	}
	if req > 0 {
		r := float64(rep) / float64(req)
		out = append(out, indicator(IndReplayRate, "Replay rate", "< 5 %", fmt.Sprintf("%d of %d writes in the last 24 h were retries posd had already answered", rep, req), fp(r), pctText(r), bp(r < maxReplayRate)))
	} else {
		out = append(out, indicator(IndReplayRate, "Replay rate", "< 5 %", "no writes in the last 24 h", nil, "—", nil))
	}

	switch {
	case tills.Retried > 0:
		ok := tills.Retried - min(tills.QueuedAfterRetries, tills.Retried)
		r := float64(ok) / float64(tills.Retried)
		out = append(out, indicator(IndRetrySuccess, "Retry success", "> 95 %", fmt.Sprintf("%d of %d writes the tills had to retry went through without queueing", ok, tills.Retried), fp(r), pctText(r), bp(r > minRetrySuccess)))
	case tills.Reported > 0:
		out = append(out, indicator(IndRetrySuccess, "Retry success", "> 95 %", "no till has needed a retry", fp(1), "no retries", bp(true)))
	default:
		out = append(out, indicator(IndRetrySuccess, "Retry success", "> 95 %", "no till has reported yet", nil, "—", nil))
	}

	if tills.Reported > 0 {
		d := "every till's queue is empty"
		if tills.MaxQueued > 0 {
			d = fmt.Sprintf("the longest queue, on %s", tills.MaxQueuedTill)
		}
		out = append(out, indicator(IndOfflineQueue, "Offline queue", "< 10", d, fp(float64(tills.MaxQueued)), strconv.Itoa(tills.MaxQueued), bp(tills.MaxQueued < maxOfflineQueue)))
	} else {
		out = append(out, indicator(IndOfflineQueue, "Offline queue", "< 10", "no till has reported yet", nil, "—", nil))
	}

	s.metrics.mu.Lock()
	p99, n, okLat := s.metrics.latency.quantile(s.metrics.now(), 0.99)
	s.metrics.mu.Unlock()
	if okLat {
		disp := "≤ " + strconv.FormatFloat(p99, 'g', -1, 64) + " s"
		v := p99
		if math.IsInf(p99, 1) {
			disp, v = "> 60 s", 61
		}
		out = append(out, indicator(IndRequestTime, "Request time (99 % of requests)", "< 2 s", fmt.Sprintf("%d requests in the last 24 h", n), fp(v), disp, bp(v <= maxRequestSeconds)))
	} else {
		out = append(out, indicator(IndRequestTime, "Request time (99 % of requests)", "< 2 s", "no requests in the last 24 h", nil, "—", nil))
	}

	if tills.Sent > 0 {
		r := float64(tills.QueuedAfterRetries) / float64(tills.Sent)
		out = append(out, indicator(IndFailedAfterRetries, "Failed after all retries", "< 0.1 %", fmt.Sprintf("%d of %d writes the tills sent were queued after every retry", tills.QueuedAfterRetries, tills.Sent), fp(r), pctText(r), bp(r < maxFailedAfterRetries)))
	} else {
		out = append(out, indicator(IndFailedAfterRetries, "Failed after all retries", "< 0.1 %", "no till has reported a sent write yet", nil, "—", nil))
	}
	return out
}
