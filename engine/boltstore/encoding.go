package boltstore

import (
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"time"

	"posd/engine"
)

// Compact encodings of the values every sale writes several of: its
// idempotency record (which holds the whole first answer), its stock
// movements and its number claim. JSON made the single writer spend much of
// its time encoding (the answer went in as base64) and made these values a
// third larger. Sales, the one document written for every sale, have a
// compact encoding too since schema 3: as JSON they were the largest value
// of the file (about 1.1 kB for three lines, field names included) and every
// refund, listing and verify parsed them with encoding/json. The other
// documents, written rarely, stay JSON.
//
// A compact value starts with its tag byte; a JSON value starts with '{'.
// The expiry index (idem_exp) holds the answered documents (see
// idempotency.go). Values written as JSON by schema 1 (and sales written as
// JSON by schema 2, and records with an HTTP status by schemas 2 and 3) are
// read as before, so a database written by an older posd needs no
// migration.
const (
	tagIdempotency1 = 0x01 // schemas 2 and 3: with the answer's HTTP status
	tagMovement     = 0x02 // schema 2
	tagDocRef       = 0x03 // schema 2
	tagSale         = 0x04 // schema 3
	tagIdempotency  = 0x05 // schema 4: with the answer's version
	tagSaleLinked   = 0x06 // schema 5: a sale with its chain link
	tagChainHead    = 0x07 // schema 5
	tagSaleClosing  = 0x08 // schema 6: a linked sale with soldAt, cashierId or shiftId
	tagSaleAnswer   = 0x09 // schema 7: idem_exp: the answer is the stored sale (idempotency.go)
)

var errShort = errors.New("value is truncated")

type encoder struct{ b []byte }

func (e *encoder) str(s string) {
	e.b = binary.AppendUvarint(e.b, uint64(len(s)))
	e.b = append(e.b, s...)
}

func (e *encoder) bytes(b []byte) {
	e.b = binary.AppendUvarint(e.b, uint64(len(b)))
	e.b = append(e.b, b...)
}

func (e *encoder) int(v int64) { e.b = binary.AppendVarint(e.b, v) }

// time keeps the instant to the nanosecond; times are read back in UTC, as
// the engine writes them.
func (e *encoder) time(t time.Time) {
	e.int(t.Unix())
	e.b = binary.AppendUvarint(e.b, uint64(t.Nanosecond()))
}

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errShort
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) int() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = errShort
		return 0
	}
	d.b = d.b[n:]
	return v
}

// raw returns the next length-prefixed bytes, still inside the value.
func (d *decoder) raw() []byte {
	n := d.uvarint()
	if d.err != nil {
		return nil
	}
	if uint64(len(d.b)) < n {
		d.err = errShort
		return nil
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}

func (d *decoder) str() string { return string(d.raw()) }

// flag reads a presence byte: 0 or 1.
func (d *decoder) flag() bool {
	if d.err != nil {
		return false
	}
	if len(d.b) == 0 || d.b[0] > 1 {
		d.err = errors.New("bad presence byte")
		return false
	}
	v := d.b[0] == 1
	d.b = d.b[1:]
	return v
}

func (d *decoder) time() time.Time {
	sec := d.int()
	nsec := d.uvarint()
	if d.err != nil || nsec >= 1e9 {
		if d.err == nil {
			d.err = errors.New("bad time")
		}
		return time.Time{}
	}
	return time.Unix(sec, int64(nsec)).UTC()
}

// encodeIdempotency: tag, key, op, target, hash, answer version, doc kind,
// doc id, created, expires. The answer is not part of the record: it is
// kept under the record's expiry key (see idempotency.go).
func encodeIdempotency(r *engine.IdempotencyRecord) []byte {
	e := encoder{b: make([]byte, 0, 128+len(r.Key))}
	e.b = append(e.b, tagIdempotency)
	e.str(r.Key)
	e.str(r.Op)
	e.str(r.Target)
	e.bytes(r.Hash)
	e.int(int64(r.Version))
	e.str(string(r.Doc.Kind))
	e.str(r.Doc.ID)
	e.time(r.CreatedAt)
	e.time(r.ExpiresAt)
	return e.b
}

// recordV1 is an idempotency record as schema 1 wrote it, in JSON, with its
// answer inline.
type recordV1 struct {
	Key       string        `json:"key"`
	Op        string        `json:"op"`
	Target    string        `json:"target,omitempty"`
	Hash      []byte        `json:"hash"`
	Body      []byte        `json:"body,omitempty"`
	Doc       engine.DocRef `json:"doc"`
	CreatedAt time.Time     `json:"createdAt"`
	ExpiresAt time.Time     `json:"expiresAt"`
}

// decodeIdempotency reads a record in any of its encodings, and the answer
// a schema-1 record holds inline. Records written before schema 4 were
// answered in version 1 (their HTTP status, 201 or 200, followed from the
// route and is dropped).
func decodeIdempotency(b []byte) (r *engine.IdempotencyRecord, inline []byte, err error) {
	r = new(engine.IdempotencyRecord)
	if len(b) > 0 && b[0] == '{' {
		var v1 recordV1
		if err := json.Unmarshal(b, &v1); err != nil {
			return nil, nil, err
		}
		*r = engine.IdempotencyRecord{Key: v1.Key, Op: v1.Op, Target: v1.Target, Hash: v1.Hash, Doc: v1.Doc, Version: 1,
			CreatedAt: v1.CreatedAt, ExpiresAt: v1.ExpiresAt}
		return r, v1.Body, nil
	}
	if len(b) == 0 || (b[0] != tagIdempotency && b[0] != tagIdempotency1) {
		return nil, nil, errors.New("unknown idempotency record encoding")
	}
	d := decoder{b: b[1:]}
	r.Key = d.str()
	r.Op = d.str()
	r.Target = d.str()
	r.Hash = append([]byte(nil), d.raw()...)
	if v := int(d.int()); b[0] == tagIdempotency {
		r.Version = v
	} else {
		r.Version = 1
	}
	r.Doc.Kind = engine.DocKind(d.str())
	r.Doc.ID = d.str()
	r.CreatedAt = d.time()
	r.ExpiresAt = d.time()
	if d.err == nil && len(d.b) > 0 {
		d.err = errors.New("trailing bytes")
	}
	if d.err != nil {
		return nil, nil, d.err
	}
	return r, nil, nil
}

// encodeMovement: tag, location, product, quantity, doc kind, doc id, time.
func encodeMovement(m *engine.Movement) []byte {
	e := encoder{b: make([]byte, 0, 24+len(m.LocationID)+len(m.ProductID)+len(m.Doc.ID))}
	e.b = append(e.b, tagMovement)
	e.str(m.LocationID)
	e.str(m.ProductID)
	e.int(int64(m.Quantity))
	e.str(string(m.Doc.Kind))
	e.str(m.Doc.ID)
	e.time(m.At)
	return e.b
}

func decodeMovement(b []byte) (*engine.Movement, error) {
	m := new(engine.Movement)
	if len(b) > 0 && b[0] == '{' {
		return m, json.Unmarshal(b, m)
	}
	if len(b) == 0 || b[0] != tagMovement {
		return nil, errors.New("unknown movement encoding")
	}
	d := decoder{b: b[1:]}
	m.LocationID = d.str()
	m.ProductID = d.str()
	m.Quantity = engine.Quantity(d.int())
	m.Doc.Kind = engine.DocKind(d.str())
	m.Doc.ID = d.str()
	m.At = d.time()
	if d.err == nil && len(d.b) > 0 {
		d.err = errors.New("trailing bytes")
	}
	return m, d.err
}

func encodeDocRef(r engine.DocRef) []byte {
	e := encoder{b: make([]byte, 0, 4+len(r.Kind)+len(r.ID))}
	e.b = append(e.b, tagDocRef)
	e.str(string(r.Kind))
	e.str(r.ID)
	return e.b
}

func decodeDocRef(b []byte) (engine.DocRef, error) {
	var r engine.DocRef
	if len(b) > 0 && b[0] == '{' {
		return r, json.Unmarshal(b, &r)
	}
	if len(b) == 0 || b[0] != tagDocRef {
		return r, errors.New("unknown document reference encoding")
	}
	d := decoder{b: b[1:]}
	r.Kind = engine.DocKind(d.str())
	r.ID = d.str()
	if d.err == nil && len(d.b) > 0 {
		d.err = errors.New("trailing bytes")
	}
	return r, d.err
}

// encodeSale: tag, id, number, location, items (count+1, 0 for nil; each:
// product, sku, name, quantity, unit price, tax rate, line total, tax,
// refunded quantity, refunded amount), payments (count+1; method, amount),
// total, tax total, paid, change, currency, created, token, returns
// (count+1), and since schema 5 (tagSaleLinked) its hash and previous hash
// (encoder.hash). Nil and empty lists stay apart so that a sale reads back
// into exactly the JSON it was written from. A sale without a chain link
// (made before the database had chains) keeps the schema-3 form, byte for
// byte. A sale that has a soldAt, a cashierId or a shiftId (schema 6) is
// tagged tagSaleClosing and has after its hashes: soldAt (0, or 1 and the
// time), cashierId (0, or 1 and the ID), shiftId.
func encodeSale(s *engine.Sale) []byte {
	e := encoder{b: make([]byte, 0, 230+len(s.Items)*96)}
	closing := s.SoldAt != nil || s.CashierID != nil || s.ShiftID != ""
	linked := closing || s.Hash != "" || s.PreviousHash != ""
	switch {
	case closing:
		e.b = append(e.b, tagSaleClosing)
	case linked:
		e.b = append(e.b, tagSaleLinked)
	default:
		e.b = append(e.b, tagSale)
	}
	e.str(s.ID)
	e.str(s.InvoiceNumber)
	e.str(s.LocationID)
	e.count(len(s.Items), s.Items == nil)
	for i := range s.Items {
		l := &s.Items[i]
		e.str(l.ProductID)
		e.str(l.SKU)
		e.str(l.Name)
		e.int(int64(l.Quantity))
		e.int(int64(l.UnitPrice))
		e.int(int64(l.TaxRate))
		e.int(int64(l.LineTotal))
		e.int(int64(l.TaxAmount))
		e.int(int64(l.RefundedQuantity))
		e.int(int64(l.RefundedAmount))
	}
	e.count(len(s.Payments), s.Payments == nil)
	for _, p := range s.Payments {
		e.str(p.Method)
		e.int(int64(p.Amount))
	}
	e.int(int64(s.Total))
	e.int(int64(s.TaxTotal))
	e.int(int64(s.Paid))
	e.int(int64(s.Change))
	e.str(s.Currency)
	e.time(s.CreatedAt)
	e.str(s.TokenID)
	e.count(len(s.Returns), s.Returns == nil)
	for _, r := range s.Returns {
		e.str(r)
	}
	if linked {
		e.hash(s.Hash)
		e.hash(s.PreviousHash)
	}
	if closing {
		if s.SoldAt != nil {
			e.b = append(e.b, 1)
			e.time(*s.SoldAt)
		} else {
			e.b = append(e.b, 0)
		}
		if s.CashierID != nil {
			e.b = append(e.b, 1)
			e.str(*s.CashierID)
		} else {
			e.b = append(e.b, 0)
		}
		e.str(s.ShiftID)
	}
	return e.b
}

// decodeSale reads a sale in either encoding into s.
func decodeSale(b []byte, s *engine.Sale) error {
	if len(b) > 0 && b[0] == '{' {
		return json.Unmarshal(b, s)
	}
	if len(b) == 0 || (b[0] != tagSale && b[0] != tagSaleLinked && b[0] != tagSaleClosing) {
		return errors.New("unknown sale encoding")
	}
	closing := b[0] == tagSaleClosing
	linked := closing || b[0] == tagSaleLinked
	d := decoder{b: b[1:]}
	s.ID = d.str()
	s.InvoiceNumber = d.str()
	s.LocationID = d.str()
	if n, ok := d.count(); ok {
		s.Items = make([]engine.SaleLine, n)
		for i := range s.Items {
			l := &s.Items[i]
			l.ProductID = d.str()
			l.SKU = d.str()
			l.Name = d.str()
			l.Quantity = engine.Quantity(d.int())
			l.UnitPrice = engine.Money(d.int())
			l.TaxRate = engine.TaxRate(d.int())
			l.LineTotal = engine.Money(d.int())
			l.TaxAmount = engine.Money(d.int())
			l.RefundedQuantity = engine.Quantity(d.int())
			l.RefundedAmount = engine.Money(d.int())
		}
	}
	if n, ok := d.count(); ok {
		s.Payments = make([]engine.Payment, n)
		for i := range s.Payments {
			s.Payments[i].Method = d.str()
			s.Payments[i].Amount = engine.Money(d.int())
		}
	}
	s.Total = engine.Money(d.int())
	s.TaxTotal = engine.Money(d.int())
	s.Paid = engine.Money(d.int())
	s.Change = engine.Money(d.int())
	s.Currency = d.str()
	s.CreatedAt = d.time()
	s.TokenID = d.str()
	if n, ok := d.count(); ok {
		s.Returns = make([]string, n)
		for i := range s.Returns {
			s.Returns[i] = d.str()
		}
	}
	if linked {
		s.Hash = d.hash()
		s.PreviousHash = d.hash()
	}
	if closing {
		if d.flag() {
			t := d.time()
			s.SoldAt = &t
		}
		if d.flag() {
			c := d.str()
			s.CashierID = &c
		}
		s.ShiftID = d.str()
	}
	if d.err == nil && len(d.b) > 0 {
		d.err = errors.New("trailing bytes")
	}
	return d.err
}

// count writes a list's length plus one, or 0 for a nil list.
func (e *encoder) count(n int, isNil bool) {
	if isNil {
		e.b = append(e.b, 0)
		return
	}
	e.b = binary.AppendUvarint(e.b, uint64(n)+1)
}

// count reads what encoder.count wrote: the length, and false for nil. A
// length that the rest of the value could not hold (every element takes at
// least one byte) is an error, so a damaged value never allocates much.
func (d *decoder) count() (int, bool) {
	v := d.uvarint()
	if d.err != nil || v == 0 {
		return 0, false
	}
	if v-1 > uint64(len(d.b)) {
		d.err = errShort
		return 0, false
	}
	return int(v - 1), true
}

// hash writes a lowercase hex SHA-256 as its 32 bytes (a 1 byte, then the
// bytes), and anything else as text (a 2, then the string), so that a
// value that is not a hash still reads back as it was; 0 is "".
func (e *encoder) hash(h string) {
	if h == "" {
		e.b = append(e.b, 0)
		return
	}
	if raw, ok := hexHash(h); ok {
		e.b = append(e.b, 1)
		e.b = append(e.b, raw[:]...)
		return
	}
	e.b = append(e.b, 2)
	e.str(h)
}

func (d *decoder) hash() string {
	if d.err != nil {
		return ""
	}
	if len(d.b) == 0 {
		d.err = errShort
		return ""
	}
	kind := d.b[0]
	d.b = d.b[1:]
	switch kind {
	case 0:
		return ""
	case 1:
		if len(d.b) < 32 {
			d.err = errShort
			return ""
		}
		h := hex.EncodeToString(d.b[:32])
		d.b = d.b[32:]
		return h
	case 2:
		return d.str()
	}
	d.err = errors.New("bad hash")
	return ""
}

// encodeChainHead: tag, number, hash.
func encodeChainHead(h engine.ChainHead) []byte {
	e := encoder{b: make([]byte, 0, 48)}
	e.b = append(e.b, tagChainHead)
	e.b = binary.AppendUvarint(e.b, h.Number)
	e.hash(h.Hash)
	return e.b
}

func decodeChainHead(b []byte) (engine.ChainHead, error) {
	if len(b) == 0 || b[0] != tagChainHead {
		return engine.ChainHead{}, errors.New("unknown chain head encoding")
	}
	d := decoder{b: b[1:]}
	h := engine.ChainHead{Number: d.uvarint(), Hash: d.hash()}
	if d.err == nil && len(d.b) > 0 {
		d.err = errors.New("trailing bytes")
	}
	return h, d.err
}

// hexHash decodes a lowercase hex SHA-256 without allocating, a pair of
// digits per byte through lowerHex (every sale encodes two hashes, twice:
// a branch per digit cost the writer about 1,800 instructions a hash).
func hexHash(h string) ([32]byte, bool) {
	var raw [32]byte
	if len(h) != 64 {
		return raw, false
	}
	var bad byte
	for i := range raw {
		hi, lo := lowerHex[h[2*i]], lowerHex[h[2*i+1]]
		bad |= hi | lo
		raw[i] = hi<<4 | lo&0x0f
	}
	return raw, bad&0x80 == 0
}

// lowerHex is the value of each lowercase hex digit, and 0x80 for every
// other byte (an uppercase digit too: it would not read back as written).
var lowerHex = func() (t [256]byte) {
	for i := range t {
		t[i] = 0x80
	}
	for c := '0'; c <= '9'; c++ {
		t[c] = byte(c - '0')
	}
	for c := 'a'; c <= 'f'; c++ {
		t[c] = byte(c-'a') + 10
	}
	return t
}()
