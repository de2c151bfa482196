package api

import (
	"strconv"
	"sync"
	"time"
)

// authLimiter slows down token guessing: an address that sends more than
// authBurst wrong tokens is refused (429) until its failures age out at one
// per authRefill. Right tokens never count, so a busy till is never limited.
type authLimiter struct {
	mu   sync.Mutex
	byIP map[string]*bucket
}

const (
	authBurst  = 20
	authRefill = 3 * time.Second
)

type bucket struct {
	fails float64
	at    time.Time
}

func newAuthLimiter() *authLimiter { return &authLimiter{byIP: map[string]*bucket{}} }

// decay ages b's failures to now.
func (b *bucket) decay(now time.Time) {
	b.fails -= float64(now.Sub(b.at)) / float64(authRefill)
	if b.fails < 0 {
		b.fails = 0
	}
	b.at = now
}

// blocked returns how long ip must still wait, or 0.
func (l *authLimiter) blocked(ip string, now time.Time) time.Duration {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.byIP[ip]
	if b == nil {
		return 0
	}
	b.decay(now)
	if b.fails < authBurst {
		return 0
	}
	return time.Duration((b.fails - authBurst + 1) * float64(authRefill))
}

// fail records a wrong token from ip.
func (l *authLimiter) fail(ip string, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.byIP[ip]
	if b == nil {
		if len(l.byIP) > 10000 { // bound memory under a spray of addresses
			for k, v := range l.byIP {
				if v.decay(now); v.fails == 0 {
					delete(l.byIP, k)
				}
			}
		}
		b = &bucket{at: now}
		l.byIP[ip] = b
	}
	b.decay(now)
	b.fails++
}

func seconds(d time.Duration) string {
	s := int(d.Seconds() + 0.999)
	if s < 1 {
		s = 1
	}
	return strconv.Itoa(s)
}
