package boltstore

import (
	"sync"

	"posd/engine"
)

// tokenCache keeps decoded tokens by hash for read transactions: every
// request authenticates, and decoding the stored token was a visible share
// of posd's CPU per request.
//
// A revoked token must stop working as soon as the revocation is answered.
// So the writer, after committing any group that wrote a token, bumps gen
// and empties the cache before it answers; and a reader adds what it read
// only if gen is still the one it saw before its snapshot began. A reader
// whose snapshot predates the revocation either adds before the bump (and is
// emptied by it) or sees a new gen and adds nothing.
type tokenCache struct {
	mu  sync.RWMutex
	gen uint64
	m   map[[32]byte]engine.Token
}

func newTokenCache() *tokenCache { return &tokenCache{m: map[[32]byte]engine.Token{}} }

// generation returns the current generation, read before a snapshot.
func (c *tokenCache) generation() uint64 {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return c.gen
}

func (c *tokenCache) get(h [32]byte) (*engine.Token, bool) {
	c.mu.RLock()
	t, ok := c.m[h]
	c.mu.RUnlock()
	if !ok {
		return nil, false
	}
	return cloneToken(t), true
}

// CachedToken implements engine.CachedTokens. The cache holds only tokens
// read since the last token write was committed, and the writer empties it
// before it answers any token write (see tokenCache), so a token found here
// is one a View begun now would find too. The token's LocationID is shared
// with the cache: it must not be written through.
func (s *Store) CachedToken(h [32]byte) (engine.Token, bool) {
	c := s.tokens
	c.mu.RLock()
	t, ok := c.m[h]
	c.mu.RUnlock()
	return t, ok
}

// add keeps t if no token write has committed since generation gen.
func (c *tokenCache) add(gen uint64, t *engine.Token) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.gen != gen {
		return
	}
	if len(c.m) >= maxCached {
		clear(c.m)
	}
	c.m[t.Hash] = *cloneToken(*t)
}

// invalidate is called by the writer after a group that wrote tokens.
func (c *tokenCache) invalidate() {
	c.mu.Lock()
	c.gen++
	clear(c.m)
	c.mu.Unlock()
}

func cloneToken(t engine.Token) *engine.Token {
	if t.LocationID != nil {
		l := *t.LocationID
		t.LocationID = &l
	}
	return &t
}
