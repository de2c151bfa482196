package pinhash_test

import (
	"testing"

	"posd/engine/pinhash"
)

// TestKey: a PIN's key is the same every time for one business, differs
// between PINs and between businesses, and is not the PIN.
func TestKey(t *testing.T) {
	h := pinhash.New()
	a := h.Key("4821", "biz-a")
	if a != h.Key("4821", "biz-a") {
		t.Fatal("the key of one PIN in one business changed")
	}
	if a == h.Key("4822", "biz-a") || a == h.Key("4821", "biz-b") {
		t.Fatal("two PINs, or two businesses, gave one key")
	}
	if h.Scheme() != "argon2id-v19-t2-m19456-p1" {
		t.Errorf("scheme: %s", h.Scheme())
	}
}
