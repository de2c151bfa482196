package engine

import (
	"context"
	"encoding/json"
	"math"
	"sort"
	"strings"
	"sync"
	"time"
)

// A till is a till token: paired with a code or made on the Tokens
// screen. What the back office shows about it beyond the token comes from
// the till itself, which reports its queue and its counters every 10 s
// while it reaches posd and whenever its queue changes.

// TillReport is the body of PUT /tills/current/status: what a till says of
// itself. Counters are its running totals.
type TillReport struct {
	Queued         json.RawMessage `json:"queued"`
	Parked         json.RawMessage `json:"parked"`
	OldestQueuedAt *string         `json:"oldestQueuedAt"`
	Version        string          `json:"version"`
	Clock          string          `json:"clock"`
	Counters       *struct {
		Sent               json.RawMessage `json:"sent"`
		Retried            json.RawMessage `json:"retried"`
		QueuedAfterRetries json.RawMessage `json:"queuedAfterRetries"`
	} `json:"counters,omitempty"`
}

// TillCounters are a till's running totals: writes sent; of them, those
// that needed a retry; those that were queued after all retries.
type TillCounters struct {
	Sent               uint64 `json:"sent"`
	Retried            uint64 `json:"retried"`
	QueuedAfterRetries uint64 `json:"queuedAfterRetries"`
}

// TillStatus is the last report of a till, as posd received it.
type TillStatus struct {
	TillID         string        `json:"tillId"`
	BusinessID     string        `json:"-"`
	LastSeenAt     time.Time     `json:"lastSeenAt"`
	Queued         int           `json:"queued"`
	Parked         int           `json:"parked"`
	OldestQueuedAt *time.Time    `json:"oldestQueuedAt"`
	Version        string        `json:"version"`
	ClockSkew      float64       `json:"clockSkewSeconds"`
	Counters       *TillCounters `json:"counters"`
}

// TillStatusTx is what a Store's transactions offer to keep the tills'
// last reports across restarts; like PairingTx it is an interface of its
// own, beside Tx.
type TillStatusTx interface {
	PutTillStatus(s *TillStatus) error
	TillStatuses(business string) ([]*TillStatus, error)
	DeleteTillStatus(business, tillID string) error
}

// Till is one till of GET /tills: the token and its last report.
type Till struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	LocationID *string   `json:"locationId"`
	CreatedAt  time.Time `json:"createdAt"`
	// LastSeenAt is nil for a till that never reported.
	LastSeenAt *time.Time `json:"lastSeenAt"`
	// Online is true when the till reported within TillOnlineFor.
	Online         bool       `json:"online"`
	Queued         int        `json:"queued"`
	Parked         int        `json:"parked"`
	OldestQueuedAt *time.Time `json:"oldestQueuedAt"`
	Version        *string    `json:"version"`
	// ClockSkewSeconds is the till's clock minus posd's at its last
	// report: a till far off stamps its receipts wrongly.
	ClockSkewSeconds *float64      `json:"clockSkewSeconds"`
	Counters         *TillCounters `json:"counters"`
	// Indicators are the seed's health indicators of this till.
	Indicators TillIndicators `json:"indicators"`
}

// TillIndicators are a till's health indicators, from its counters and
// queue; a rate is nil while its denominator is 0.
type TillIndicators struct {
	// RetrySuccessRate is the share of retried writes that went through
	// without being queued (target > 95 %).
	RetrySuccessRate *float64 `json:"retrySuccessRate"`
	// FailedAfterRetriesRate is the share of writes queued after every
	// retry (target < 0.1 %).
	FailedAfterRetriesRate *float64 `json:"failedAfterRetriesRate"`
	// QueueOK is true while the offline queue is under 10.
	QueueOK bool `json:"queueOK"`
}

// TillOnlineFor is how recent a till's last report must be for it to count
// as online: three missed reports of 10 s.
const TillOnlineFor = 30 * time.Second

// tillPersistEvery bounds how often a till's report is written to the
// store when nothing but its time changed: reports come every 10 s per
// till, and writing each would add a durable write per till every 10 s to
// the writer that commits sales. A changed queue is written at once.
const tillPersistEvery = time.Minute

// tills keeps every till's last report in memory, and what of it was last
// written to the store.
type tills struct {
	mu        sync.Mutex
	last      map[string]*TillStatus // business\x00till → last report
	persisted map[string]*TillStatus
}

func (s *Service) tillRegistry() *tills {
	s.tillsOnce.Do(func() {
		s.tillState = &tills{last: map[string]*TillStatus{}, persisted: map[string]*TillStatus{}}
	})
	return s.tillState
}

func count(raw json.RawMessage, field string) (int, error) {
	q, err := parseQuantity(raw, field, false)
	if err != nil {
		return 0, err
	}
	if q%QuantityScale != 0 {
		return 0, fieldErr(field, "must be a whole number")
	}
	return int(q / QuantityScale), nil
}

func counter(raw json.RawMessage, field string) (uint64, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return 0, fieldErr(field, "is required")
	}
	var v uint64
	if err := json.Unmarshal(raw, &v); err != nil || v > 1<<53 {
		return 0, fieldErr(field, "must be a whole number from 0 to 2^53")
	}
	return v, nil
}

func parseTime(s, field string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fieldErr(field, "must be an RFC 3339 time such as 2026-11-27T10:42:00Z")
	}
	return t.UTC(), nil
}

// ReportTillStatus records what a till says of itself. It is kept in
// memory, and written to the store when the queue changed or once a
// minute, so that the last report survives a restart without costing the
// sales' writer a commit per till every 10 s.
func (s *Service) ReportTillStatus(ctx context.Context, a *Actor, in TillReport) error {
	if err := a.Can(PermSell); err != nil {
		return err
	}
	st := &TillStatus{TillID: a.TokenID, BusinessID: a.BusinessID}
	var err error
	if st.Queued, err = count(in.Queued, "queued"); err != nil {
		return err
	}
	if st.Parked, err = count(in.Parked, "parked"); err != nil {
		return err
	}
	if in.OldestQueuedAt != nil {
		t, err := parseTime(*in.OldestQueuedAt, "oldestQueuedAt")
		if err != nil {
			return err
		}
		st.OldestQueuedAt = &t
	}
	if err := checkText(in.Version, "version", 0, 64); err != nil {
		return err
	}
	st.Version = in.Version
	if in.Clock == "" {
		return fieldErr("clock", "is required: the till's own time, RFC 3339")
	}
	clock, err := parseTime(in.Clock, "clock")
	if err != nil {
		return err
	}
	if in.Counters != nil {
		c := &TillCounters{}
		if c.Sent, err = counter(in.Counters.Sent, "counters.sent"); err != nil {
			return err
		}
		if c.Retried, err = counter(in.Counters.Retried, "counters.retried"); err != nil {
			return err
		}
		if c.QueuedAfterRetries, err = counter(in.Counters.QueuedAfterRetries, "counters.queuedAfterRetries"); err != nil {
			return err
		}
		st.Counters = c
	}
	now := s.now()
	st.LastSeenAt = now
	st.ClockSkew = math.Round(clock.Sub(now).Seconds()*10) / 10
	if st.ClockSkew == 0 {
		// A skew under 0.05 s behind rounds to -0, which JSON writes as
		// "-0" and a database's numeric type (PostgreSQL's jsonb) keeps
		// as 0: store one zero, so a report reads back as it was.
		st.ClockSkew = 0
	}

	r := s.tillRegistry()
	k := a.BusinessID + "\x00" + a.TokenID
	r.mu.Lock()
	r.last[k] = st
	p := r.persisted[k]
	write := p == nil || p.Queued != st.Queued || p.Parked != st.Parked || now.Sub(p.LastSeenAt) >= tillPersistEvery
	if write {
		r.persisted[k] = st
	}
	r.mu.Unlock()
	if !write {
		return nil
	}
	// st, with the time posd received the report, is made before the
	// write and only read by it: a second run of fn writes the same
	// report.
	err = s.store.Update(ctx, func(tx Tx) error {
		t, ok := tx.(TillStatusTx)
		if !ok {
			return nil // a store that keeps no reports: memory only
		}
		// A till revoked meanwhile leaves no report behind.
		if _, err := tokenByID(tx, a.BusinessID, a.TokenID); IsNotFound(err) {
			return nil
		} else if err != nil {
			return err
		}
		return t.PutTillStatus(st)
	})
	if err != nil {
		r.mu.Lock()
		if r.persisted[k] == st {
			delete(r.persisted, k) // try again with the next report
		}
		r.mu.Unlock()
		// The report is in memory all the same; only its copy on disk
		// failed, which the health view shows as a failing write.
		return err
	}
	return nil
}

// Tills lists every till token of the business with its last report
// (owner or manager).
func (s *Service) Tills(ctx context.Context, a *Actor) ([]*Till, error) {
	if err := a.Can(PermManage); err != nil {
		return nil, err
	}
	var toks []*Token
	var latest map[string]*TillStatus
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		if toks, err = tx.Tokens(a.BusinessID); err != nil {
			return err
		}
		latest, err = s.latestReports(tx, a.BusinessID, toks)
		return err
	})
	if err != nil {
		return nil, err
	}
	now := s.now()
	out := []*Till{}
	for _, t := range toks {
		if t.Role != RoleTill {
			continue
		}
		out = append(out, tillOf(t, latest[t.ID], now))
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Name != out[j].Name {
			return strings.ToLower(out[i].Name) < strings.ToLower(out[j].Name)
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

func tillOf(t *Token, st *TillStatus, now time.Time) *Till {
	x := &Till{ID: t.ID, Name: t.Name, LocationID: t.LocationID, CreatedAt: t.CreatedAt, Indicators: TillIndicators{QueueOK: true}}
	if st == nil {
		return x
	}
	seen := st.LastSeenAt
	skew := st.ClockSkew
	version := st.Version
	x.LastSeenAt, x.ClockSkewSeconds, x.Version = &seen, &skew, &version
	x.Online = now.Sub(seen) < TillOnlineFor
	x.Queued, x.Parked, x.OldestQueuedAt, x.Counters = st.Queued, st.Parked, st.OldestQueuedAt, st.Counters
	x.Indicators.QueueOK = st.Queued < 10
	if c := st.Counters; c != nil {
		if c.Retried > 0 {
			r := float64(c.Retried-min(c.QueuedAfterRetries, c.Retried)) / float64(c.Retried)
			x.Indicators.RetrySuccessRate = &r
		}
		if c.Sent > 0 {
			r := float64(c.QueuedAfterRetries) / float64(c.Sent)
			x.Indicators.FailedAfterRetriesRate = &r
		}
	}
	return x
}

// TillPatch is the body of PATCH /tills/{id}.
type TillPatch struct {
	Name string `json:"name"`
}

// latestReports returns the last report of each of toks, by till ID:
// reports on disk are those of before a restart, or of another posd
// process on the same database; the newer report wins.
func (s *Service) latestReports(tx Tx, business string, toks []*Token) (map[string]*TillStatus, error) {
	var stored []*TillStatus
	if t, ok := tx.(TillStatusTx); ok {
		var err error
		if stored, err = t.TillStatuses(business); err != nil {
			return nil, err
		}
	}
	latest := map[string]*TillStatus{}
	for _, st := range stored {
		latest[st.TillID] = st
	}
	r := s.tillRegistry()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, t := range toks {
		if m := r.last[business+"\x00"+t.ID]; m != nil && (latest[t.ID] == nil || !m.LastSeenAt.Before(latest[t.ID].LastSeenAt)) {
			c := *m
			latest[t.ID] = &c
		}
	}
	return latest, nil
}

// RenameTill changes a till's name (owner or manager).
func (s *Service) RenameTill(ctx context.Context, a *Actor, id string, in TillPatch) (*Till, error) {
	if err := a.Can(PermManage); err != nil {
		return nil, err
	}
	name := strings.TrimSpace(in.Name)
	if err := checkText(name, "name", 1, 100); err != nil {
		return nil, err
	}
	var out *Till
	err := s.store.Update(ctx, func(tx Tx) error {
		t, err := tillToken(tx, a.BusinessID, id)
		if err != nil {
			return err
		}
		t.Name = name
		if err := tx.PutToken(t); err != nil {
			return err
		}
		out = tillOf(t, nil, s.now())
		return nil
	})
	if err != nil {
		return nil, err
	}
	r := s.tillRegistry()
	r.mu.Lock()
	if st := r.last[a.BusinessID+"\x00"+id]; st != nil {
		out = tillOf(&Token{ID: out.ID, Name: out.Name, LocationID: out.LocationID, CreatedAt: out.CreatedAt}, st, s.now())
	}
	r.mu.Unlock()
	return out, nil
}

// RevokeTill revokes a till token (owner or manager): its next request is
// a 401; every sale it sent stays. Only till tokens: owner and manager
// tokens are the owner's to revoke, on the Tokens screen.
func (s *Service) RevokeTill(ctx context.Context, a *Actor, id string) error {
	if err := a.Can(PermManage); err != nil {
		return err
	}
	err := s.store.Update(ctx, func(tx Tx) error {
		if _, err := tillToken(tx, a.BusinessID, id); err != nil {
			return err
		}
		if err := tx.DeleteToken(a.BusinessID, id); err != nil {
			return err
		}
		return deleteTillStatus(tx, a.BusinessID, id)
	})
	if err != nil {
		return err
	}
	s.forgetTill(a.BusinessID, id)
	return nil
}

// deleteTillStatus drops a revoked till's last report from the store, in
// the revocation's transaction.
func deleteTillStatus(tx Tx, business, id string) error {
	if t, ok := tx.(TillStatusTx); ok {
		if err := t.DeleteTillStatus(business, id); err != nil && !IsNotFound(err) {
			return err
		}
	}
	return nil
}

// forgetTill drops a revoked till's last report from memory, so that
// neither GET /tills nor /metrics shows it.
func (s *Service) forgetTill(business, id string) {
	r := s.tillRegistry()
	r.mu.Lock()
	delete(r.last, business+"\x00"+id)
	delete(r.persisted, business+"\x00"+id)
	r.mu.Unlock()
}

func tillToken(tx Tx, business, id string) (*Token, error) {
	if !validID(id) {
		return nil, notFound("till", "")
	}
	t, err := tokenByID(tx, business, id)
	if err != nil {
		return nil, err
	}
	if t.Role != RoleTill {
		return nil, notFound("till", "")
	}
	return t, nil
}

// TillReports returns the last report of every till that reported since
// posd started, of every business (for /metrics, which describes the whole
// instance).
func (s *Service) TillReports() []TillStatus {
	r := s.tillRegistry()
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]TillStatus, 0, len(r.last))
	for _, st := range r.last {
		out = append(out, *st)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].BusinessID != out[j].BusinessID {
			return out[i].BusinessID < out[j].BusinessID
		}
		return out[i].TillID < out[j].TillID
	})
	return out
}
