// Package pinhash is the engine.PINHasher posd runs with: argon2id from
// golang.org/x/crypto, the memory-hard password hash of RFC 9106. The
// standard library has no password hash, and a PIN of 4 to 6 digits is the
// case it exists for: so few values that only the cost of trying each one
// protects them (see engine/cashier.go for what that buys and what not).
//
// The parameters are OWASP's first recommendation for argon2id (19 MiB,
// two passes, one lane): tens of milliseconds per PIN on a shop's PC,
// which a cashier does not notice once per sign-in and an attacker with
// the database pays for every candidate. They are part of the scheme's
// name, stored with each key, so new parameters would be a new scheme.
package pinhash

import (
	"fmt"

	"golang.org/x/crypto/argon2"

	"posd/engine"
)

// Parameters of the scheme.
const (
	time    = 2
	memory  = 19 * 1024 // KiB
	threads = 1
)

// Argon2id is the posd PIN scheme.
type Argon2id struct{}

// New returns posd's PIN hasher.
func New() engine.PINHasher { return Argon2id{} }

// Scheme implements engine.PINHasher.
func (Argon2id) Scheme() string {
	return fmt.Sprintf("argon2id-v%d-t%d-m%d-p%d", argon2.Version, time, memory, threads)
}

// Key implements engine.PINHasher. The salt is the business's ID with a
// label: one salt per business makes a PIN's key the same for every
// cashier of the business, which is what lets a till find a cashier by PIN
// with one hash and the store keep PINs unique; the label keeps the key
// apart from any other use of argon2id over the same strings.
func (Argon2id) Key(pin, business string) engine.PINKey {
	var k engine.PINKey
	copy(k[:], argon2.IDKey([]byte(pin), []byte("posd PIN v1\x00"+business), time, memory, threads, uint32(len(k))))
	return k
}
