// Package client is a Go client for posd's HTTP API, for tills and tools
// written in Go. It follows the rules a till must follow to never lose or
// double a sale:
//
//   - every write carries an Idempotency-Key, made once per call (or given by
//     the caller, one per intent) and reused by every retry;
//   - network errors, timeouts, 5xx, 429 and 409 idempotency_key_in_progress
//     are retried with exponential backoff (1 s, 2 s, 4 s, plus jitter), at
//     most 3 times, each attempt limited to 60 s; other 4xx never are;
//   - errors come back as *engine.Error with the contract's code, so callers
//     test them with errors.Is(err, engine.ErrRefundExceedsSale) and so on
//     (the codes only HTTP gives are ERATELIMITED, EMEDIATYPE and
//     EMETHODNOTALLOWED here).
//
// For a till that must survive its own restarts, Outbox adds a durable
// queue on top.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"posd/engine"
)

// Client talks to one posd server with one token.
type Client struct {
	// BaseURL is the server's address, such as http://192.168.1.10:8080.
	BaseURL string
	// Token is the bearer token.
	Token string
	// HTTP is the HTTP client; nil means a client without a global timeout
	// (each attempt is bounded by Retry.AttemptTimeout instead).
	HTTP *http.Client
	// Retry is the retry policy; the zero value means DefaultRetry.
	Retry *RetryPolicy
}

// RetryPolicy says how failed attempts are retried.
type RetryPolicy struct {
	// MaxRetries is the number of retries after the first attempt.
	MaxRetries int
	// BaseDelay is the first backoff; each next one doubles.
	BaseDelay time.Duration
	// MaxDelay caps a single wait, including a server's Retry-After.
	MaxDelay time.Duration
	// Jitter adds up to this fraction of the delay at random, so tills that
	// failed together do not retry together.
	Jitter float64
	// AttemptTimeout bounds each attempt.
	AttemptTimeout time.Duration
}

// DefaultRetry is the policy of the contract's clients: 1 s, 2 s, 4 s with
// up to 20% jitter, 60 s per attempt.
var DefaultRetry = RetryPolicy{MaxRetries: 3, BaseDelay: time.Second, MaxDelay: 30 * time.Second, Jitter: 0.2, AttemptTimeout: 60 * time.Second}

// NoRetry makes a single attempt.
var NoRetry = RetryPolicy{AttemptTimeout: 60 * time.Second}

// New returns a client for baseURL with token.
func New(baseURL, token string) *Client {
	return &Client{BaseURL: strings.TrimRight(baseURL, "/"), Token: token}
}

// Response is a raw answer.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
	// Replayed is true when the server answered from its idempotency
	// record: the write had already happened.
	Replayed bool
	// Attempts is how many requests were sent.
	Attempts int
}

// Codes of the errors only HTTP gives (the engine has none of them), as
// package api names them.
const (
	ERATELIMITED      = "rate_limited"
	EMEDIATYPE        = "unsupported_media_type"
	EMETHODNOTALLOWED = "method_not_allowed"
)

// NewKey returns a fresh idempotency key.
func NewKey() string { return uuid.NewString() }

// Do sends one request, retrying per the policy. For POST, key is the
// Idempotency-Key ("" makes one, used for every attempt). A 2xx answer is
// returned as a Response; any other as an error (*engine.Error when the
// server answered in the contract's shape).
func (c *Client) Do(ctx context.Context, method, path, key string, body any) (*Response, error) {
	var payload []byte
	if body != nil {
		var err error
		if payload, err = json.Marshal(body); err != nil {
			return nil, fmt.Errorf("client: encoding request: %w", err)
		}
	}
	if method == http.MethodPost && key == "" {
		key = NewKey()
	}
	p := DefaultRetry
	if c.Retry != nil {
		p = *c.Retry
	}
	var lastErr error
	for attempt := 0; ; attempt++ {
		resp, err := c.attempt(ctx, p, method, path, key, payload)
		if resp != nil {
			resp.Attempts = attempt + 1
		}
		if err == nil {
			return resp, nil
		}
		lastErr = err
		wait, retry := retryable(err, resp)
		if !retry || attempt >= p.MaxRetries || ctx.Err() != nil {
			return resp, lastErr
		}
		d := p.BaseDelay << attempt
		if wait > d {
			d = wait
		}
		if p.MaxDelay > 0 && d > p.MaxDelay {
			d = p.MaxDelay
		}
		d += time.Duration(rand.Float64() * p.Jitter * float64(d))
		select {
		case <-time.After(d):
		case <-ctx.Done():
			return resp, lastErr
		}
	}
}

// attempt sends one request. A non-2xx answer is an error; resp is kept
// so that the caller can read Retry-After.
func (c *Client) attempt(ctx context.Context, p RetryPolicy, method, path, key string, payload []byte) (*Response, error) {
	if p.AttemptTimeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, p.AttemptTimeout)
		defer cancel()
	}
	var rd io.Reader
	if payload != nil {
		rd = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, c.BaseURL+path, rd)
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	if c.Token != "" {
		req.Header.Set("Authorization", "Bearer "+c.Token)
	}
	hc := c.HTTP
	if hc == nil {
		hc = http.DefaultClient
	}
	res, err := hc.Do(req)
	if err != nil {
		return nil, &NetError{Err: err}
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, &NetError{Err: err}
	}
	resp := &Response{Status: res.StatusCode, Header: res.Header, Body: b, Replayed: res.Header.Get("X-Idempotent-Replay") == "true"}
	if res.StatusCode >= 200 && res.StatusCode < 300 {
		return resp, nil
	}
	return resp, errorFrom(res.StatusCode, b)
}

// NetError is a failure to get any answer: the request may or may not have
// reached the server, which is why writes are retried with the same key.
type NetError struct{ Err error }

func (e *NetError) Error() string { return "client: no answer from posd: " + e.Err.Error() }
func (e *NetError) Unwrap() error { return e.Err }

// errorFrom turns an error answer into an *engine.Error.
func errorFrom(status int, body []byte) error {
	var eb struct {
		Error struct {
			Code    string `json:"code"`
			Message string `json:"message"`
			Field   string `json:"field"`
		} `json:"error"`
	}
	if json.Unmarshal(body, &eb) == nil && eb.Error.Code != "" {
		return &engine.Error{Code: eb.Error.Code, Message: eb.Error.Message, Field: eb.Error.Field}
	}
	code := engine.EINTERNAL
	switch {
	case status == http.StatusServiceUnavailable || status == http.StatusBadGateway || status == http.StatusGatewayTimeout:
		code = engine.EUNAVAILABLE
	case status == http.StatusTooManyRequests:
		code = ERATELIMITED
	case status == http.StatusNotFound:
		code = engine.ENOTFOUND
	}
	return &engine.Error{Code: code, Message: fmt.Sprintf("HTTP %d from server", status)}
}

// retryable reports whether a failed attempt may be retried, and the wait
// the server asked for.
func retryable(err error, resp *Response) (time.Duration, bool) {
	var ne *NetError
	if errors.As(err, &ne) {
		return 0, true
	}
	if resp == nil {
		return 0, false
	}
	var wait time.Duration
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
		wait = time.Duration(s) * time.Second
	}
	switch {
	case resp.Status >= 500, resp.Status == http.StatusTooManyRequests:
		return wait, true
	case resp.Status == http.StatusConflict && engine.ErrorCode(err) == engine.EIDEMPOTENCYINPROGRESS:
		return wait, true
	}
	return 0, false
}

// call does a request and decodes a 2xx answer into out.
func (c *Client) call(ctx context.Context, method, path, key string, body, out any) (*Response, error) {
	resp, err := c.Do(ctx, method, path, key, body)
	if err != nil {
		return resp, err
	}
	if out != nil && len(resp.Body) > 0 {
		if err := json.Unmarshal(resp.Body, out); err != nil {
			return resp, fmt.Errorf("client: decoding answer: %w", err)
		}
	}
	return resp, nil
}

func esc(s string) string { return url.PathEscape(s) }
