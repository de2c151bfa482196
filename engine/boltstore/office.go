package boltstore

import (
	"encoding/json"

	"posd/engine"
)

// Buckets of the back office: till pairing, till reports, product imports. They are made
// when a database is opened for writing and may be missing from a file of
// an older posd, which verify and backup must still accept: they are not
// in allBuckets, and every read below treats a missing bucket as empty.
const (
	bPairings    = "pairings"     // sha256 of the code → Pairing
	bPairingKeys = "pairing_keys" // biz\0idempotency key → sha256 of the code
	bTillStatus  = "till_status"  // biz\0till → TillStatus
)

var optionalBuckets = []string{bPairings, bPairingKeys, bTillStatus}

// has reports whether bucket exists in the file (or the overlay wrote it).
func (t *txn) has(bucket string) bool { return t.tx.Bucket([]byte(bucket)) != nil }

type storedPairing struct {
	engine.Pairing
	Hash     []byte `json:"hash"`
	Business string `json:"businessId"`
}

func (t *txn) pairingAt(h []byte) (*engine.Pairing, error) {
	if !t.has(bPairings) {
		return nil, notFound("pairing")
	}
	b := t.get(bPairings, h)
	if b == nil {
		return nil, notFound("pairing")
	}
	var sp storedPairing
	if err := json.Unmarshal(b, &sp); err != nil {
		return nil, corrupt(bPairings, err)
	}
	p := sp.Pairing
	copy(p.Hash[:], sp.Hash)
	p.BusinessID = sp.Business
	return &p, nil
}

// PairingByHash implements engine.PairingTx.
func (t *txn) PairingByHash(hash [32]byte) (*engine.Pairing, error) { return t.pairingAt(hash[:]) }

// PairingByKey implements engine.PairingTx.
func (t *txn) PairingByKey(biz, k string) (*engine.Pairing, error) {
	if !t.has(bPairingKeys) {
		return nil, notFound("pairing")
	}
	h := t.get(bPairingKeys, key(biz, k))
	if h == nil {
		return nil, notFound("pairing")
	}
	return t.pairingAt(h)
}

// PutPairing implements engine.PairingTx.
func (t *txn) PutPairing(p *engine.Pairing) error {
	if err := t.putJSON(bPairings, p.Hash[:], storedPairing{Pairing: *p, Hash: p.Hash[:], Business: p.BusinessID}); err != nil {
		return err
	}
	return t.put(bPairingKeys, key(p.BusinessID, p.CreatedKey), p.Hash[:])
}

// DeletePairing implements engine.PairingTx.
func (t *txn) DeletePairing(p *engine.Pairing) error {
	if err := t.del(bPairings, p.Hash[:]); err != nil {
		return err
	}
	return t.del(bPairingKeys, key(p.BusinessID, p.CreatedKey))
}

// Pairings implements engine.PairingTx.
func (t *txn) Pairings(biz string) ([]*engine.Pairing, error) {
	if !t.has(bPairingKeys) {
		return nil, nil
	}
	var out []*engine.Pairing
	err := t.scan(bPairingKeys, prefix(biz), nil, false, func(_, h []byte) error {
		p, err := t.pairingAt(h)
		if err != nil {
			return err
		}
		out = append(out, p)
		return nil
	})
	return out, err
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

const bImports = "imports" // biz\0idempotency key → an import's request hash and answer

func init() { optionalBuckets = append(optionalBuckets, bImports) }

type storedImport struct {
	Hash   []byte `json:"hash"`
	Answer []byte `json:"answer"`
}

// ProductImport implements engine.ImportTx.
func (t *txn) ProductImport(biz, k string) ([]byte, []byte, error) {
	if !t.has(bImports) {
		return nil, nil, notFound("import")
	}
	var si storedImport
	if err := t.getJSON(bImports, key(biz, k), "import", &si); err != nil {
		return nil, nil, err
	}
	return si.Hash, si.Answer, nil
}

// PutProductImport implements engine.ImportTx.
func (t *txn) PutProductImport(biz, k string, hash, answer []byte) error {
	return t.putJSON(bImports, key(biz, k), storedImport{Hash: hash, Answer: answer})
}
