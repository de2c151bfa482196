package boltstore

import (
	"bytes"

	"posd/engine"
)

// Buckets of the back office: till pairing, till reports, product imports.
// They are made when a database is opened for writing and may be missing
// from a file of an older posd, which verify and backup must still accept:
// they are not in allBuckets, and every read below treats a missing bucket
// as empty.
const (
	bPairings     = "till_pairings"      // biz\0id → Pairing (JSON, with its code's hash)
	bPairingCodes = "till_pairing_codes" // sha256 of the code → biz\0id
	bTillStatus   = "till_status"        // biz\0till → TillStatus
	bImports      = "product_imports"    // biz\0id → ImportReport
)

var optionalBuckets = []string{bPairings, bPairingCodes, bTillStatus, bImports}

// has reports whether bucket exists in the file (or the overlay wrote it).
func (t *txn) has(bucket string) bool { return t.tx.Bucket([]byte(bucket)) != nil }

type storedPairing struct {
	engine.Pairing
	Hash []byte `json:"hash"`
}

// Pairing implements engine.PairingTx.
func (t *txn) Pairing(biz, id string) (*engine.Pairing, error) {
	if !t.has(bPairings) {
		return nil, notFound("pairing")
	}
	var sp storedPairing
	if err := t.getJSON(bPairings, key(biz, id), "pairing", &sp); err != nil {
		return nil, err
	}
	p := sp.Pairing
	copy(p.Hash[:], sp.Hash)
	p.BusinessID = biz
	return &p, nil
}

// PairingByHash implements engine.PairingTx.
func (t *txn) PairingByHash(hash [32]byte) (*engine.Pairing, error) {
	if !t.has(bPairingCodes) {
		return nil, notFound("pairing")
	}
	k := t.get(bPairingCodes, hash[:])
	if k == nil {
		return nil, notFound("pairing")
	}
	biz, id, ok := bytes.Cut(k, []byte{0})
	if !ok {
		return nil, corrupt(bPairingCodes, errMissing(string(k)))
	}
	return t.Pairing(string(biz), string(id))
}

// PutPairing implements engine.PairingTx: a pairing given a new code
// loses its old hash, and a hash that belongs to another pairing is
// refused.
func (t *txn) PutPairing(p *engine.Pairing) error {
	k := key(p.BusinessID, p.ID)
	if owner := t.get(bPairingCodes, p.Hash[:]); owner != nil && !bytes.Equal(owner, k) {
		return &engine.Error{Code: engine.EINTERNAL, Message: "pairing code already taken"}
	}
	if old, err := t.Pairing(p.BusinessID, p.ID); err == nil && old.Hash != p.Hash {
		if err := t.del(bPairingCodes, old.Hash[:]); err != nil {
			return err
		}
	} else if err != nil && !engine.IsNotFound(err) {
		return err
	}
	if err := t.putJSON(bPairings, k, storedPairing{Pairing: *p, Hash: p.Hash[:]}); err != nil {
		return err
	}
	return t.put(bPairingCodes, p.Hash[:], k)
}

type storedTillStatus struct {
	engine.TillStatus
	Business string `json:"businessId"`
}

// PutTillStatus implements engine.TillStatusTx.
func (t *txn) PutTillStatus(s *engine.TillStatus) error {
	return t.putJSON(bTillStatus, key(s.BusinessID, s.TillID), storedTillStatus{TillStatus: *s, Business: s.BusinessID})
}

// TillStatuses implements engine.TillStatusTx.
func (t *txn) TillStatuses(biz string) ([]*engine.TillStatus, error) {
	if !t.has(bTillStatus) {
		return nil, nil
	}
	return listJSON(t, bTillStatus, prefix(biz), func(s *engine.TillStatus) { s.BusinessID = biz })
}

// DeleteTillStatus implements engine.TillStatusTx.
func (t *txn) DeleteTillStatus(biz, till string) error {
	return t.del(bTillStatus, key(biz, till))
}

// ProductImport implements engine.ImportTx.
func (t *txn) ProductImport(biz, id string) (*engine.ImportReport, error) {
	if !t.has(bImports) {
		return nil, notFound("import")
	}
	r := &engine.ImportReport{}
	if err := t.getJSON(bImports, key(biz, id), "import", r); err != nil {
		return nil, err
	}
	r.BusinessID = biz
	return r, nil
}

// PutProductImport implements engine.ImportTx.
func (t *txn) PutProductImport(r *engine.ImportReport) error {
	return t.putJSON(bImports, key(r.BusinessID, r.ID), r)
}
