package client

import (
	"context"
	"time"

	"posd/engine"
)

// PairingCode is the answer to POST /api/pairing-codes.
type PairingCode struct {
	Code      *string   `json:"code"`
	ExpiresAt time.Time `json:"expiresAt"`
	URL       *string   `json:"url"`
	// Replayed is set when posd had seen the key: Code is then a fresh
	// one for the same pairing (the first was never seen), or nil once a
	// till used it.
	Replayed bool `json:"-"`
}

// PairingRequest is the body of POST /api/pairing-codes.
type PairingRequest struct {
	Name       string  `json:"name"`
	LocationID *string `json:"locationId,omitempty"`
}

// CreatePairingCode makes a one-time code for a new till (owner or
// manager); key "" makes one.
func (c *Client) CreatePairingCode(ctx context.Context, key string, in PairingRequest) (*PairingCode, error) {
	var out PairingCode
	resp, err := c.call(ctx, "POST", "/api/pairing-codes", key, in, &out)
	if resp != nil {
		out.Replayed = resp.Replayed
	}
	return &out, err
}

// Paired is the answer to POST /api/pair: the new till's token.
type Paired struct {
	Token      string  `json:"token"`
	TillID     string  `json:"tillId"`
	BusinessID string  `json:"businessId"`
	LocationID *string `json:"locationId"`
	Replayed   bool    `json:"-"`
}

// Pair turns a pairing code into a till token; it needs no token of its
// own. The client's retries reuse key, so a till whose answer was lost
// still gets a working token for the one till it became (a replay within
// the answer TTL carries a new secret; the earlier one no longer works).
// A replay after the TTL carries none: Token is "".
func (c *Client) Pair(ctx context.Context, key, code string) (*Paired, error) {
	if key == "" {
		key = NewKey()
	}
	var out Paired
	resp, err := c.call(ctx, "POST", "/api/pair", key, engine.PairInput{Code: code}, &out)
	if resp != nil {
		out.Replayed = resp.Replayed
	}
	return &out, err
}

// TillReport is the body of PUT /api/tills/current/status.
type TillReport struct {
	Queued         int                  `json:"queued"`
	Parked         int                  `json:"parked"`
	OldestQueuedAt *time.Time           `json:"oldestQueuedAt"`
	Version        string               `json:"version"`
	Clock          time.Time            `json:"clock"`
	Counters       *engine.TillCounters `json:"counters,omitempty"`
}

// ReportTillStatus tells posd this till's queue and counters (a till
// token); a PUT replaces, so it carries no key.
func (c *Client) ReportTillStatus(ctx context.Context, r TillReport) error {
	_, err := c.call(ctx, "PUT", "/api/tills/current/status", "", r, nil)
	return err
}

// Tills lists the business's tills with their last reports.
func (c *Client) Tills(ctx context.Context) ([]*engine.Till, error) {
	var out struct {
		Tills []*engine.Till `json:"tills"`
	}
	_, err := c.call(ctx, "GET", "/api/tills", "", nil, &out)
	return out.Tills, err
}

// RenameTill changes a till's name.
func (c *Client) RenameTill(ctx context.Context, id, name string) (*engine.Till, error) {
	var out engine.Till
	_, err := c.call(ctx, "PATCH", "/api/tills/"+esc(id), "", engine.TillPatch{Name: name}, &out)
	return &out, err
}

// RevokeTill revokes a till token: its next request is refused.
func (c *Client) RevokeTill(ctx context.Context, id string) error {
	_, err := c.call(ctx, "DELETE", "/api/tills/"+esc(id), "", nil, nil)
	return err
}
