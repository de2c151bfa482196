package engine

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"time"
)

// IdempotencyKey is the client's key for one intent, as sent in the
// Idempotency-Key header.
type IdempotencyKey string

// ParseIdempotencyKey checks the domain rule of a key: 1 to 255 visible
// ASCII characters. Unwrapping the header's spellings of it (a quoted
// structured-header string) is the API's business.
func ParseIdempotencyKey(v string) (IdempotencyKey, error) {
	if v == "" {
		return "", ErrIdempotencyMissing
	}
	if len(v) > 255 {
		return "", ErrIdempotencyInvalid
	}
	for i := 0; i < len(v); i++ {
		if v[i] < 0x21 || v[i] > 0x7e {
			return "", ErrIdempotencyInvalid
		}
	}
	return IdempotencyKey(v), nil
}

// AnswerVersion is the version of the answers posd gives today: which
// documents exist and which of their fields a client sees. Every answer is
// recorded with its version, and the API renders a replay in the version
// of the first answer, so that a replay stays byte for byte the first
// answer across an upgrade (see doc.go). Raise it when a document gains,
// loses or changes a field that clients see, and keep the API rendering
// every older version exactly as it did.
const AnswerVersion = 1

// IdempotencyRecord is what the engine keeps of a successful idempotent
// request, committed in the same transaction as the document it made.
// Answer is kept for the answer TTL; the rest (the request fingerprint and
// the document link) is kept as long as the document, so that a retry days
// later still finds the original.
type IdempotencyRecord struct {
	BusinessID string
	Key        string
	// Op and Target name the route: the same key on another route is refused.
	Op     string
	Target string
	// Hash is the SHA-256 of the request after parsing, so that key order
	// and white space do not make two requests different.
	Hash []byte
	Doc  DocRef
	// Answer is the document as it was answered: a snapshot of the *Sale,
	// *Return, *Receipt, *Transfer, *Adjustment, *Location or *Product, or
	// the *CreatedToken without its secret, as Doc.Kind says. It is nil
	// once the answer has expired and been swept.
	Answer any
	// Version is the AnswerVersion the answer was given in.
	Version   int
	CreatedAt time.Time
	ExpiresAt time.Time
}

// Outcome is the answer to an idempotent write: the document, and how it
// came to be the answer. The engine says what happened; the API picks the
// status and renders Doc in Version after the commit.
type Outcome[D any] struct {
	// Doc is the document the request made or changed.
	Doc D
	// Replayed is true when the key had been answered before: nothing was
	// written now, and Doc is the first answer (or, if Current, the
	// document as it is now).
	Replayed bool
	// Current is true for a replay after the first answer expired
	// (IdempotencyTTL): Doc is the document as it is now, not the snapshot
	// the first answer was rendered from.
	Current bool
	// Version is the AnswerVersion to render Doc in: today's for a first
	// answer and a current document, the first answer's for a replay.
	Version int
}

// Operation names, stored in records to tell routes apart.
const (
	opCreateToken    = "token.create"
	opCreateLocation = "location.create"
	opCreateProduct  = "product.create"
	opAdjustStock    = "stock.adjust"
	opCreateSale     = "sale.create"
	opRefundSale     = "sale.refund"
	opCreateReceipt  = "receipt.create"
	opApproveReceipt = "receipt.approve"
	opCreateTransfer = "transfer.create"
	opSendTransfer   = "transfer.send"
	opReceiveXfer    = "transfer.receive"
)

// requestHash fingerprints a parsed request. Hashing the decoded value, not
// the bytes, makes key order and white space irrelevant. Records keep the
// fingerprint for as long as their document, so its input must not change:
// a retry after an upgrade must hash as the first request did.
func requestHash(op, target string, in any) []byte {
	var buf [1024]byte
	b := append(append(append(append(buf[:0], op...), 0), target...), 0)
	if si, ok := in.(SaleInput); ok {
		// The sale's JSON is written directly when it can be, byte for
		// byte what encoding/json writes (requesthash.go).
		if b, ok := appendSaleInputJSON(b, &si); ok {
			sum := sha256.Sum256(b)
			return sum[:]
		}
	}
	h := sha256.New()
	h.Write(b)
	_ = json.NewEncoder(h).Encode(in)
	return h.Sum(nil)
}

// opFunc is the body of an idempotent write, run inside its transaction
// with the commit time: it returns the document it made or changed and a
// reference to it. It may run more than once (see Store.Update), so it
// works only through tx.
type opFunc func(tx Tx, now time.Time) (any, DocRef, error)

// outcome is Outcome before its document is given its type.
type outcome struct {
	doc               any
	replayed, current bool
	version           int
}

// write runs an idempotent operation whose answer is a D.
func write[D any](s *Service, ctx context.Context, a *Actor, key IdempotencyKey, op, target string, in any, fn func(tx Tx, now time.Time) (D, DocRef, error)) (*Outcome[D], error) {
	o, err := s.write(ctx, a, key, op, target, in, func(tx Tx, now time.Time) (any, DocRef, error) {
		d, ref, err := fn(tx, now)
		return d, ref, err
	})
	if err != nil {
		return nil, err
	}
	d, ok := o.doc.(D)
	if !ok {
		return nil, Errorf(EINTERNAL, "the answer recorded for %s is a %T", op, o.doc)
	}
	return &Outcome[D]{Doc: d, Replayed: o.replayed, Current: o.current, Version: o.version}, nil
}

// write runs an idempotent operation: within one transaction it looks the
// key up, replays or refuses a known key, or runs fn and records its answer
// beside the document fn wrote. Nothing is returned before the commit.
func (s *Service) write(ctx context.Context, a *Actor, key IdempotencyKey, op, target string, in any, fn opFunc) (*outcome, error) {
	if key == "" {
		return nil, ErrIdempotencyMissing
	}
	hash := requestHash(op, target, in)
	if s.replayFromView {
		// A retry of a finished request is answered from a snapshot,
		// without queueing behind writers.
		out, err := s.lookup(ctx, a, key, op, target, hash)
		if err == nil || !IsNotFound(err) {
			return out, err
		}
	}
	fn = s.numberFirst(ctx, a, op, fn)
	var out *outcome
	err := s.store.Update(ctx, func(tx Tx) error {
		// Every variable this fn sets is assigned, never added to: a store
		// may run it again, and only its last run counts.
		rec, err := tx.Idempotency(a.BusinessID, string(key))
		if err == nil {
			out, err = s.replay(tx, rec, op, target, hash)
			return err
		} else if !IsNotFound(err) {
			return err
		}
		now := s.now()
		doc, ref, err := fn(tx, now)
		if err != nil {
			return err
		}
		rec = &IdempotencyRecord{
			BusinessID: a.BusinessID, Key: string(key), Op: op, Target: target, Hash: hash, Doc: ref,
			Answer: snapshot(doc), Version: AnswerVersion, CreatedAt: now, ExpiresAt: now.Add(s.IdempotencyTTL),
		}
		if err := tx.PutIdempotency(rec); err != nil {
			return err
		}
		out = &outcome{doc: doc, version: AnswerVersion}
		return nil
	})
	if errors.Is(err, ErrDuplicateKey) {
		// A request with the same key committed between our lookup and our
		// commit (a store that checks keys at commit): its answer is ours.
		if o, lerr := s.lookup(ctx, a, key, op, target, hash); lerr == nil || !IsNotFound(lerr) {
			return o, lerr
		}
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// lookup answers a request whose key is recorded, from a snapshot; it
// fails with ENOTFOUND when the key is new.
func (s *Service) lookup(ctx context.Context, a *Actor, key IdempotencyKey, op, target string, hash []byte) (*outcome, error) {
	var out *outcome
	err := s.store.View(ctx, func(tx Tx) error {
		rec, err := tx.Idempotency(a.BusinessID, string(key))
		if err != nil {
			return err
		}
		out, err = s.replay(tx, rec, op, target, hash)
		return err
	})
	return out, err
}

// snapshot is what a record keeps of an answer: the document itself, but a
// token's secret is never stored, so its replay carries none.
func snapshot(doc any) any {
	if t, ok := doc.(*CreatedToken); ok && t.Secret != nil {
		c := *t
		c.Secret = nil
		return &c
	}
	return doc
}

// replay answers a request whose key is already recorded.
func (s *Service) replay(tx Tx, rec *IdempotencyRecord, op, target string, hash []byte) (*outcome, error) {
	if rec.Op != op || rec.Target != target || string(rec.Hash) != string(hash) {
		return nil, ErrIdempotencyReused
	}
	if rec.Answer != nil && s.now().Before(rec.ExpiresAt) {
		return &outcome{doc: rec.Answer, replayed: true, version: rec.Version}, nil
	}
	// The full answer has expired; the document it made is still the answer.
	doc, err := current(tx, rec.BusinessID, rec.Doc)
	if err != nil {
		return nil, err
	}
	return &outcome{doc: doc, replayed: true, current: true, version: AnswerVersion}, nil
}

// current returns a document as it is now, as the answer a replay after the
// answer TTL gives.
func current(tx Tx, business string, ref DocRef) (any, error) {
	switch ref.Kind {
	case KindSale:
		return tx.Sale(business, ref.ID)
	case KindReturn:
		return tx.Return(business, ref.ID)
	case KindReceipt:
		return tx.Receipt(business, ref.ID)
	case KindTransfer:
		return tx.Transfer(business, ref.ID)
	case KindAdjustment:
		return tx.Adjustment(business, ref.ID)
	case KindLocation:
		return tx.Location(business, ref.ID)
	case KindProduct:
		return tx.Product(business, ref.ID)
	case KindToken:
		ts, err := tx.Tokens(business)
		if err != nil {
			return nil, err
		}
		for _, t := range ts {
			if t.ID == ref.ID {
				return createdToken(t, nil), nil
			}
		}
		return nil, Errorf(ENOTFOUND, "the token this key created was revoked")
	}
	return nil, Errorf(EINTERNAL, "unknown document kind %q", ref.Kind)
}

// SweepIdempotency drops expired full answers in chunks of at most batch
// records, each in its own short transaction, until none is left. It returns
// how many it dropped.
func (s *Service) SweepIdempotency(ctx context.Context, batch int) (int, error) {
	total := 0
	for {
		n, err := s.store.SweepIdempotency(ctx, s.now(), batch)
		total += n
		if err != nil || n < batch {
			return total, err
		}
		if err := ctx.Err(); err != nil {
			return total, err
		}
	}
}

// IsNotFound reports whether err is a not-found error.
func IsNotFound(err error) bool { return ErrorCode(err) == ENOTFOUND }
