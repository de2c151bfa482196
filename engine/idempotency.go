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
//
//   - 1: the documents as posd answered them before hash chains.
//   - 2: numbered documents carry hash and previousHash (chain.go); a
//     refund carries its sale's number and hash, its tax total, and per
//     line the tax rate and tax it pays back.
const AnswerVersion = 2

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
	// *Return, *Receipt, *Transfer, *Adjustment, *Location, *Product or
	// *ImportReport, or the *CreatedToken, *Paired (KindTill) or
	// *PairingCode without its secret, as Doc.Kind says. It is nil once the
	// answer has expired and been swept.
	Answer any
	// Version is the AnswerVersion the answer was given in.
	Version   int
	CreatedAt time.Time
	ExpiresAt time.Time
}

// NewAnswer returns an empty document of the type an idempotency record's
// answer of kind is (IdempotencyRecord.Answer), with the business its
// encoding leaves out already set: what a store decodes a kept answer
// into. ok is false for a kind of which no answer is kept.
func NewAnswer(kind DocKind, business string) (doc any, ok bool) {
	switch kind {
	case KindSale:
		return &Sale{BusinessID: business}, true
	case KindReturn:
		return &Return{BusinessID: business}, true
	case KindReceipt:
		return &Receipt{BusinessID: business}, true
	case KindTransfer:
		return &Transfer{BusinessID: business}, true
	case KindAdjustment:
		return &Adjustment{BusinessID: business}, true
	case KindLocation:
		return &Location{BusinessID: business}, true
	case KindProduct:
		return &Product{BusinessID: business}, true
	case KindToken:
		return &CreatedToken{}, true
	case KindCashier:
		// The answer is the cashier's public fields: its PIN's key is
		// json:"-", so no record holds it.
		return &Cashier{BusinessID: business}, true
	case KindApproval:
		return &Approval{BusinessID: business}, true
	case KindShift:
		return &Shift{BusinessID: business}, true
	case KindZReport:
		return &ZReport{BusinessID: business}, true
	case KindTill:
		return &Paired{}, true // its business is in its JSON
	case KindPairing:
		return &PairingCode{}, true
	case KindImport:
		return &ImportReport{BusinessID: business}, true
	}
	return nil, false
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
	opCreateCashier  = "cashier.create"
	opApprove        = "approval.create"
	opOpenShift      = "shift.open"
	opCashMovement   = "shift.cash"
	opCloseShift     = "shift.close"
	opCreateZReport  = "zreport.create"
	opCreatePairing  = "pairing.create"
	opPair           = "pair"
	opImportProducts = "product.import"
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

// reissueFunc answers a replay whose first answer carried a secret that is
// never kept (a pairing code, a paired till's token): inside the write
// transaction, it makes a new secret for the document the record points
// at, revoking the one nobody heard, and returns the answer carrying it.
// Like an opFunc it may run more than once and works only through tx.
type reissueFunc func(tx Tx, rec *IdempotencyRecord, now time.Time) (any, error)

// request is one idempotent write as Service.commit runs it.
type request struct {
	// business and key are the record's scope: the actor's business and
	// the client's key, except for POST /pair, which has no actor (Pair).
	business, key string
	op, target    string
	hash          []byte
	fn            opFunc
	// reissue, if set, answers a replay while its answer is live (before
	// the answer TTL) instead of the recorded snapshot; such a replay
	// writes, so it is never answered from a View.
	reissue reissueFunc
}

// outcome is Outcome before its document is given its type.
type outcome struct {
	doc               any
	replayed, current bool
	version           int
}

// typed gives an outcome's document its type D.
func typed[D any](o *outcome, op string) (*Outcome[D], error) {
	d, ok := o.doc.(D)
	if !ok {
		return nil, Errorf(EINTERNAL, "the answer recorded for %s is a %T", op, o.doc)
	}
	return &Outcome[D]{Doc: d, Replayed: o.replayed, Current: o.current, Version: o.version}, nil
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
	return typed[D](o, op)
}

// write runs an idempotent operation of an actor: its key is scoped to the
// actor's business.
func (s *Service) write(ctx context.Context, a *Actor, key IdempotencyKey, op, target string, in any, fn opFunc) (*outcome, error) {
	if key == "" {
		return nil, ErrIdempotencyMissing
	}
	return s.commit(ctx, request{business: a.BusinessID, key: string(key), op: op, target: target,
		hash: requestHash(op, target, in), fn: fn})
}

// commit runs an idempotent request: within one transaction it looks the
// key up, replays or refuses a known key, or runs fn and records its answer
// beside the document fn wrote. Nothing is returned before the commit.
func (s *Service) commit(ctx context.Context, req request) (*outcome, error) {
	if s.replayFromView && req.reissue == nil {
		// A retry of a finished request is answered from a snapshot,
		// without queueing behind writers.
		out, err := s.lookup(ctx, req)
		if err == nil || !IsNotFound(err) {
			return out, err
		}
	}
	var out *outcome
	run := func(tx Tx) error {
		// Every variable this fn sets is assigned, never added to: a store
		// may run it again, and only its last run counts.
		rec, err := tx.Idempotency(req.business, req.key)
		if err == nil {
			out, err = s.replay(tx, rec, req)
			return err
		} else if !IsNotFound(err) {
			return err
		}
		now := s.now()
		doc, ref, err := req.fn(tx, now)
		if err != nil {
			return err
		}
		rec = &IdempotencyRecord{
			BusinessID: req.business, Key: req.key, Op: req.op, Target: req.target, Hash: req.hash, Doc: ref,
			Answer: snapshot(doc), Version: AnswerVersion, CreatedAt: now, ExpiresAt: now.Add(s.IdempotencyTTL),
		}
		if err := tx.PutIdempotency(rec); err != nil {
			return err
		}
		out = &outcome{doc: doc, version: AnswerVersion}
		return nil
	}
	err := s.store.Update(ctx, run)
	if errors.Is(err, ErrDuplicateKey) {
		// A request with the same key committed between our lookup and our
		// commit (a store that checks keys at commit): its answer is ours.
		// A replay that writes is run again, and finds the record now.
		if req.reissue != nil {
			err = s.store.Update(ctx, run)
		} else if o, lerr := s.lookup(ctx, req); lerr == nil || !IsNotFound(lerr) {
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
func (s *Service) lookup(ctx context.Context, req request) (*outcome, error) {
	var out *outcome
	err := s.store.View(ctx, func(tx Tx) error {
		rec, err := tx.Idempotency(req.business, req.key)
		if err != nil {
			return err
		}
		out, err = s.replay(tx, rec, req)
		return err
	})
	return out, err
}

// secretBearer is an answer that carries a secret shown once: a created
// token, a pairing code, a paired till's token. A record keeps it without
// (withoutSecret), since posd never keeps a secret in clear.
type secretBearer interface {
	withoutSecret() any
}

// snapshot is what a record keeps of an answer: the document itself, less
// any secret it carries.
func snapshot(doc any) any {
	if b, ok := doc.(secretBearer); ok {
		return b.withoutSecret()
	}
	return doc
}

// replay answers a request whose key is already recorded.
func (s *Service) replay(tx Tx, rec *IdempotencyRecord, req request) (*outcome, error) {
	if rec.Op != req.op || rec.Target != req.target || string(rec.Hash) != string(req.hash) {
		return nil, ErrIdempotencyReused
	}
	if now := s.now(); rec.Answer != nil && now.Before(rec.ExpiresAt) {
		if req.reissue != nil {
			doc, err := req.reissue(tx, rec, now)
			if err != nil {
				return nil, err
			}
			return &outcome{doc: doc, replayed: true, version: rec.Version}, nil
		}
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
	case KindCashier:
		return tx.Cashier(business, ref.ID)
	case KindApproval:
		return tx.Approval(business, ref.ID)
	case KindShift:
		return tx.Shift(business, ref.ID)
	case KindZReport:
		return tx.ZReport(business, ref.ID)
	case KindToken:
		t, err := tokenByID(tx, business, ref.ID)
		if IsNotFound(err) {
			return nil, Errorf(ENOTFOUND, "the token this key created was revoked")
		} else if err != nil {
			return nil, err
		}
		return createdToken(t, nil), nil
	case KindTill:
		t, err := tokenByID(tx, business, ref.ID)
		if IsNotFound(err) {
			return nil, ErrPairingCode // the till was revoked since
		} else if err != nil {
			return nil, err
		}
		return paired(t, nil), nil
	case KindPairing:
		ptx, err := pairingTx(tx)
		if err != nil {
			return nil, err
		}
		p, err := ptx.Pairing(business, ref.ID)
		if err != nil {
			return nil, err
		}
		return p.answer(nil), nil
	case KindImport:
		itx, err := importTx(tx)
		if err != nil {
			return nil, err
		}
		return itx.ProductImport(business, ref.ID)
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
