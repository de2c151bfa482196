package client

import (
	"context"
	"encoding/json"
	"time"
)

// HealthDetails is the answer to GET /api/health/details (owner or
// manager): the monitoring view. Backup and the rest are kept as raw JSON.
type HealthDetails struct {
	Status     string          `json:"status"`
	Problems   []string        `json:"problems"`
	Writes     WriteFailures   `json:"writes"`
	Indicators []Indicator     `json:"indicators"`
	Backup     json.RawMessage `json:"backup"`
	// DuplicateDocuments is from the last verification; nil before one.
	DuplicateDocuments *int `json:"duplicateDocuments"`
}

// WriteFailures says whether writes fail right now, and why.
type WriteFailures struct {
	Failing       bool              `json:"failing"`
	LastFailureAt *time.Time        `json:"lastFailureAt"`
	LastFailure   *WriteFailure     `json:"lastFailure"`
	LastSuccessAt *time.Time        `json:"lastSuccessAt"`
	Failures24h   uint64            `json:"failures24h"`
	ByCause       map[string]uint64 `json:"byCause"`
}

// WriteFailure is one failed write: its cause (engine.CauseDiskFull, …),
// route and message.
type WriteFailure struct {
	Cause   string `json:"cause"`
	Route   string `json:"route"`
	Message string `json:"message"`
}

// Indicator is one health indicator with its threshold; OK is nil while
// there is no data.
type Indicator struct {
	ID        string   `json:"id"`
	Title     string   `json:"title"`
	Value     *float64 `json:"value"`
	Display   string   `json:"display"`
	Threshold string   `json:"threshold"`
	OK        *bool    `json:"ok"`
	Detail    string   `json:"detail"`
}

// HealthDetails reads the health view.
func (c *Client) HealthDetails(ctx context.Context) (*HealthDetails, error) {
	var out HealthDetails
	_, err := c.call(ctx, "GET", "/api/health/details", "", nil, &out)
	return &out, err
}
