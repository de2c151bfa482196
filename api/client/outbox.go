package client

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"posd/engine"
)

// Outbox is a durable queue of writes for a till program written in Go. A
// write is first appended to a small file, with its idempotency key, and
// fsynced; only then is it sent. So a sale rung up while posd is
// unreachable, or whose answer was lost when the till crashed, is sent
// again after a restart with the same key, and posd records it once.
//
// Entries are sent one at a time, in the order they were added. An entry
// leaves the queue only once posd's answer is written to the file. An entry
// posd refuses with a 4xx is parked: kept in the file, listed by Parked,
// never sent again and never blocking the entries after it. A 401 is the
// exception: the token, not the entry, is wrong, so the queue stops and
// every entry waits for a working token.
//
// The file is append-only JSON lines; a line torn by a crash is dropped at
// the next open (its entry was never acknowledged to the caller, so never
// sent). One process at a time may use an outbox file.
type Outbox struct {
	c    *Client
	path string
	// keepDone is how long answered entries stay in the file after they
	// were answered, so that a restarted till can still read an answer it
	// did not get to show; they are dropped when the outbox is opened.
	keepDone time.Duration
	now      func() time.Time

	send sync.Mutex // one sender at a time: entries go out in order

	mu      sync.Mutex
	f       *os.File
	seq     int64
	entries map[string]*Entry
	order   []string // keys of queued entries, oldest first
}

// Entry states.
const (
	EntryQueued = "queued"
	EntryDone   = "done"
	EntryParked = "parked"
)

// Entry is one write in the outbox.
type Entry struct {
	// Key is the Idempotency-Key, made when the entry was added and used
	// for every attempt; it doubles as the till's provisional reference.
	Key     string          `json:"key"`
	Seq     int64           `json:"seq"`
	Method  string          `json:"method"`
	Path    string          `json:"path"`
	Body    json.RawMessage `json:"body"`
	AddedAt time.Time       `json:"addedAt"`
	// State is queued, done or parked.
	State string `json:"state"`
	// Status and Answer are posd's answer once done or parked.
	Status     int             `json:"status,omitempty"`
	Answer     json.RawMessage `json:"answer,omitempty"`
	Replayed   bool            `json:"replayed,omitempty"`
	AnsweredAt time.Time       `json:"answeredAt,omitzero"`
}

// Err returns the refusal of a parked entry as an *engine.Error, and nil
// for any other entry.
func (e *Entry) Err() error {
	if e.State != EntryParked {
		return nil
	}
	return errorFrom(e.Status, e.Answer)
}

// ErrQueued is returned by Outbox.Send when posd could not be reached: the
// write is safe in the outbox and will be sent by a later Flush.
var ErrQueued = errors.New("client: posd unreachable; the write is queued in the outbox and will be sent later")

// record is one line of the outbox file.
type record struct {
	Op    string `json:"op"` // add, done, parked
	Entry *Entry `json:"entry"`
}

// OpenOutbox opens (or creates) the outbox file at path, for writes sent
// through c. Queued entries found in it are sent by the next Flush.
func OpenOutbox(path string, c *Client) (*Outbox, error) {
	o := &Outbox{c: c, path: path, keepDone: 7 * 24 * time.Hour, now: time.Now, entries: map[string]*Entry{}}
	if err := o.load(); err != nil {
		return nil, err
	}
	return o, nil
}

// load replays the file, then rewrites it without the entries answered
// long ago, so the file stays small.
func (o *Outbox) load() error {
	b, err := os.ReadFile(o.path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("client: outbox: %w", err)
	}
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			break // a torn last line: never fsynced, never acknowledged
		}
		var r record
		if err := json.Unmarshal(b[:i], &r); err != nil || r.Entry == nil || r.Entry.Key == "" {
			return fmt.Errorf("client: outbox %s: a damaged line in the middle of the file; keep the file for inspection", o.path)
		}
		o.apply(r)
		b = b[i+1:]
	}
	return o.rewrite()
}

// apply folds one record into the in-memory state.
func (o *Outbox) apply(r record) {
	e := r.Entry
	switch r.Op {
	case "add":
		e.State = EntryQueued
		o.entries[e.Key] = e
		o.order = append(o.order, e.Key)
		o.seq = max(o.seq, e.Seq)
	case "done", "parked":
		if cur, ok := o.entries[e.Key]; ok {
			cur.State, cur.Status, cur.Answer, cur.Replayed, cur.AnsweredAt = e.State, e.Status, e.Answer, e.Replayed, e.AnsweredAt
		}
		o.dequeue(e.Key)
	}
}

func (o *Outbox) dequeue(key string) {
	for i, k := range o.order {
		if k == key {
			o.order = append(o.order[:i], o.order[i+1:]...)
			return
		}
	}
}

// rewrite writes the live state to a new file and renames it over the old
// one, so a crash leaves either file whole.
func (o *Outbox) rewrite() error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	var keep []*Entry
	for _, e := range o.entries {
		if e.State == EntryDone && o.now().Sub(e.AnsweredAt) > o.keepDone {
			delete(o.entries, e.Key)
			continue
		}
		keep = append(keep, e)
	}
	sortBySeq(keep)
	for _, e := range keep {
		add := *e
		add.State, add.Status, add.Answer, add.Replayed, add.AnsweredAt = EntryQueued, 0, nil, false, time.Time{}
		enc.Encode(record{Op: "add", Entry: &add})
		if e.State != EntryQueued {
			enc.Encode(record{Op: e.State, Entry: e})
		}
	}
	tmp := o.path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("client: outbox: %w", err)
	}
	if _, err := f.Write(buf.Bytes()); err != nil {
		f.Close()
		return fmt.Errorf("client: outbox: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("client: outbox: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("client: outbox: %w", err)
	}
	if err := os.Rename(tmp, o.path); err != nil {
		return fmt.Errorf("client: outbox: %w", err)
	}
	syncDir(filepath.Dir(o.path))
	o.f, err = os.OpenFile(o.path, os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("client: outbox: %w", err)
	}
	return nil
}

// syncDir makes a rename durable where the OS allows it.
func syncDir(dir string) {
	if d, err := os.Open(dir); err == nil {
		d.Sync()
		d.Close()
	}
}

func sortBySeq(es []*Entry) {
	for i := 1; i < len(es); i++ {
		for j := i; j > 0 && es[j].Seq < es[j-1].Seq; j-- {
			es[j], es[j-1] = es[j-1], es[j]
		}
	}
}

// append writes one record and fsyncs it: when it returns nil, the record
// survives a crash or a power cut.
func (o *Outbox) append(r record) error {
	if o.f == nil {
		return errors.New("client: outbox is closed")
	}
	line, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("client: outbox: %w", err)
	}
	if _, err := o.f.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("client: outbox: %w", err)
	}
	if err := o.f.Sync(); err != nil {
		return fmt.Errorf("client: outbox: %w", err)
	}
	return nil
}

// Add queues a write and returns its entry. The entry, with its new
// idempotency key, is on disk when Add returns; nothing is sent yet.
func (o *Outbox) Add(method, path string, body any) (*Entry, error) {
	payload, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("client: encoding request: %w", err)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	e := &Entry{Key: NewKey(), Seq: o.seq + 1, Method: method, Path: path, Body: payload, AddedAt: o.now().UTC(), State: EntryQueued}
	if err := o.append(record{Op: "add", Entry: e}); err != nil {
		return nil, err
	}
	o.seq = e.Seq
	o.entries[e.Key] = e
	o.order = append(o.order, e.Key)
	c := *e
	return &c, nil
}

// Flush sends the queued entries in order, each with the client's retry
// policy and its own key. It returns nil once nothing is left to send
// (parked entries do not count), or the error that stopped it: posd
// unreachable after the retries, a 401, or a failure to write the file.
// One Flush runs at a time; a concurrent call waits for it.
func (o *Outbox) Flush(ctx context.Context) error {
	o.send.Lock()
	defer o.send.Unlock()
	for {
		o.mu.Lock()
		if len(o.order) == 0 {
			o.mu.Unlock()
			return nil
		}
		e := *o.entries[o.order[0]]
		o.mu.Unlock()

		resp, err := o.c.Do(ctx, e.Method, e.Path, e.Key, e.Body)
		state := EntryDone
		if err != nil {
			if resp == nil || resp.Status == http.StatusUnauthorized {
				return err
			}
			if _, retry := retryable(err, resp); retry {
				return err
			}
			state = EntryParked
		}
		e.State, e.Status, e.Answer, e.Replayed, e.AnsweredAt = state, resp.Status, json.RawMessage(resp.Body), resp.Replayed, o.now().UTC()
		if !json.Valid(e.Answer) {
			e.Answer, _ = json.Marshal(string(resp.Body))
		}
		o.mu.Lock()
		werr := o.append(record{Op: state, Entry: &e})
		if werr == nil {
			o.apply(record{Op: state, Entry: &e})
		}
		o.mu.Unlock()
		if werr != nil {
			return werr
		}
	}
}

// Send adds a write and flushes the outbox. It returns the entry when posd
// answered it; when posd refused it, the entry (parked) and its error; when
// posd could not be reached, the entry (still queued) and ErrQueued.
func (o *Outbox) Send(ctx context.Context, method, path string, body any) (*Entry, error) {
	e, err := o.Add(method, path, body)
	if err != nil {
		return nil, err
	}
	ferr := o.Flush(ctx)
	got, _ := o.Entry(e.Key)
	switch got.State {
	case EntryDone:
		return got, nil
	case EntryParked:
		return got, got.Err()
	}
	if engine.ErrorCode(ferr) == engine.EUNAUTHORIZED {
		return got, ferr
	}
	return got, fmt.Errorf("%w (%v)", ErrQueued, ferr)
}

// CreateSale records a sale through the outbox. On ErrQueued the sale is
// safe on disk: print a provisional receipt with entry.Key as the till's
// reference; the invoice number follows when a later Flush succeeds.
func (o *Outbox) CreateSale(ctx context.Context, in SaleRequest) (*engine.Sale, *Entry, error) {
	e, err := o.Send(ctx, http.MethodPost, "/api/sales", in)
	if err != nil {
		return nil, e, err
	}
	var s engine.Sale
	if err := json.Unmarshal(e.Answer, &s); err != nil {
		return nil, e, fmt.Errorf("client: decoding answer: %w", err)
	}
	return &s, e, nil
}

// Entry returns a copy of the entry with key.
func (o *Outbox) Entry(key string) (*Entry, bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	e, ok := o.entries[key]
	if !ok {
		return nil, false
	}
	c := *e
	return &c, true
}

// Pending lists the queued entries, oldest first.
func (o *Outbox) Pending() []*Entry {
	o.mu.Lock()
	defer o.mu.Unlock()
	out := make([]*Entry, 0, len(o.order))
	for _, k := range o.order {
		c := *o.entries[k]
		out = append(out, &c)
	}
	return out
}

// Parked lists the entries posd refused, oldest first. They stay in the
// outbox file for a person to look at (ExportParked writes them out).
func (o *Outbox) Parked() []*Entry {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []*Entry
	for _, e := range o.entries {
		if e.State == EntryParked {
			c := *e
			out = append(out, &c)
		}
	}
	sortBySeq(out)
	return out
}

// ExportParked writes the parked entries, with posd's refusal, as a JSON
// array to w.
func (o *Outbox) ExportParked(w io.Writer) error {
	p := o.Parked()
	if p == nil {
		p = []*Entry{}
	}
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetIndent("", "  ")
	if err := enc.Encode(p); err != nil {
		return err
	}
	return bw.Flush()
}

// Run flushes the outbox every interval until ctx ends, so queued writes
// go out once posd is reachable again.
func (o *Outbox) Run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		o.Flush(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Close waits for a running Flush and closes the file.
func (o *Outbox) Close() error {
	o.send.Lock()
	defer o.send.Unlock()
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.f == nil {
		return nil
	}
	err := o.f.Close()
	o.f = nil
	return err
}
