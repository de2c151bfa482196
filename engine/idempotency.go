package engine

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"strings"
	"time"
)

// IdempotencyKey is the client's key for one intent, as sent in the
// Idempotency-Key header.
type IdempotencyKey string

// ParseIdempotencyKey validates a header value: 1 to 255 visible ASCII
// characters, or the same inside a structured-header string ("..." with \"
// and \\ escapes), which is unwrapped so both spellings name the same key.
func ParseIdempotencyKey(v string) (IdempotencyKey, error) {
	if v == "" {
		return "", ErrIdempotencyMissing
	}
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		var b strings.Builder
		in := v[1 : len(v)-1]
		for i := 0; i < len(in); i++ {
			c := in[i]
			if c == '\\' {
				if i+1 >= len(in) || (in[i+1] != '"' && in[i+1] != '\\') {
					return "", invalidKey()
				}
				i++
				c = in[i]
			} else if c == '"' {
				return "", invalidKey()
			}
			b.WriteByte(c)
		}
		v = b.String()
	}
	if len(v) < 1 || len(v) > 255 {
		return "", invalidKey()
	}
	for i := 0; i < len(v); i++ {
		if v[i] < 0x21 || v[i] > 0x7e {
			return "", invalidKey()
		}
	}
	return IdempotencyKey(v), nil
}

func invalidKey() error { return ErrIdempotencyInvalid }

// IdempotencyRecord is what the engine keeps of a successful idempotent
// request, committed in the same transaction as the document it made.
// Body is the full first answer, kept for the answer TTL; the rest (the
// request fingerprint and the document link) is kept as long as the document,
// so that a retry days later still finds the original.
type IdempotencyRecord struct {
	BusinessID string `json:"-"`
	Key        string `json:"key"`
	// Op and Target name the route: the same key on another route is refused.
	Op     string `json:"op"`
	Target string `json:"target,omitempty"`
	// Hash is the SHA-256 of the request after parsing, so that key order
	// and white space do not make two requests different.
	Hash      []byte    `json:"hash"`
	Status    int       `json:"status"`
	Body      []byte    `json:"body,omitempty"`
	Doc       DocRef    `json:"doc"`
	CreatedAt time.Time `json:"createdAt"`
	ExpiresAt time.Time `json:"expiresAt"`
}

// Outcome is the answer to an idempotent request: the status and the exact
// body to send. Replayed is true when the answer is a stored one.
type Outcome struct {
	Status   int
	Body     []byte
	Replayed bool
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

// result is what an operation returns inside its transaction.
type result struct {
	status int
	body   []byte // the first answer
	stored []byte // what a replay answers; body when nil
	kind   DocKind
	docID  string
}

// requestHash fingerprints a parsed request. Hashing the decoded value, not
// the bytes, makes key order and white space irrelevant.
func requestHash(op, target string, in any) []byte {
	h := sha256.New()
	h.Write([]byte(op))
	h.Write([]byte{0})
	h.Write([]byte(target))
	h.Write([]byte{0})
	_ = json.NewEncoder(h).Encode(in)
	return h.Sum(nil)
}

// write runs an idempotent operation: within one transaction it looks the
// key up, replays or refuses a known key, or runs op and records its answer
// beside the document op wrote. Nothing is returned before the commit.
func (s *Service) write(ctx context.Context, a *Actor, key IdempotencyKey, op, target string, in any, fn func(tx Tx, now time.Time) (*result, error)) (*Outcome, error) {
	if key == "" {
		return nil, ErrIdempotencyMissing
	}
	hash := requestHash(op, target, in)
	// A retry of a finished request is answered from a snapshot, without
	// queueing behind writers.
	var out *Outcome
	err := s.store.View(ctx, func(tx Tx) error {
		rec, err := tx.Idempotency(a.BusinessID, string(key))
		if err != nil {
			return err
		}
		out, err = s.replay(tx, rec, op, target, hash)
		return err
	})
	if err == nil || !IsNotFound(err) {
		return out, err
	}
	fn = s.numberFirst(ctx, a, op, fn)
	err = s.store.Update(ctx, func(tx Tx) error {
		rec, err := tx.Idempotency(a.BusinessID, string(key))
		if err == nil {
			out, err = s.replay(tx, rec, op, target, hash)
			return err
		} else if !IsNotFound(err) {
			return err
		}
		now := s.now()
		res, err := fn(tx, now)
		if err != nil {
			return err
		}
		stored := res.stored
		if stored == nil {
			stored = res.body
		}
		rec = &IdempotencyRecord{
			BusinessID: a.BusinessID, Key: string(key), Op: op, Target: target, Hash: hash,
			Status: res.status, Body: stored, Doc: DocRef{Kind: res.kind, ID: res.docID},
			CreatedAt: now, ExpiresAt: now.Add(s.IdempotencyTTL),
		}
		if err := tx.PutIdempotency(rec); err != nil {
			return err
		}
		out = &Outcome{Status: res.status, Body: res.body}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// replay answers a request whose key is already recorded.
func (s *Service) replay(tx Tx, rec *IdempotencyRecord, op, target string, hash []byte) (*Outcome, error) {
	if rec.Op != op || rec.Target != target || !bytes.Equal(rec.Hash, hash) {
		return nil, ErrIdempotencyReused
	}
	if len(rec.Body) > 0 && s.now().Before(rec.ExpiresAt) {
		return &Outcome{Status: rec.Status, Body: rec.Body, Replayed: true}, nil
	}
	// The full answer has expired; the document it made is still the answer.
	body, err := s.render(tx, rec.BusinessID, rec.Doc)
	if err != nil {
		return nil, err
	}
	return &Outcome{Status: 200, Body: body, Replayed: true}, nil
}

// render returns the current JSON form of a document.
func (s *Service) render(tx Tx, business string, ref DocRef) ([]byte, error) {
	var v any
	var err error
	switch ref.Kind {
	case KindSale:
		v, err = tx.Sale(business, ref.ID)
	case KindReturn:
		v, err = tx.Return(business, ref.ID)
	case KindReceipt:
		v, err = tx.Receipt(business, ref.ID)
	case KindTransfer:
		v, err = tx.Transfer(business, ref.ID)
	case KindAdjustment:
		v, err = tx.Adjustment(business, ref.ID)
	case KindLocation:
		v, err = tx.Location(business, ref.ID)
	case KindProduct:
		v, err = tx.Product(business, ref.ID)
	case KindToken:
		var ts []*Token
		ts, err = tx.Tokens(business)
		for _, t := range ts {
			if t.ID == ref.ID {
				v = tokenCreated{ID: t.ID, Role: t.Role, Name: t.Name, LocationID: t.LocationID, CreatedAt: t.CreatedAt}
			}
		}
		if err == nil && v == nil {
			err = Errorf(ENOTFOUND, "the token this key created was revoked")
		}
	default:
		err = Errorf(EINTERNAL, "unknown document kind %q", ref.Kind)
	}
	if err != nil {
		return nil, err
	}
	return mustJSON(v), nil
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

// mustJSON encodes v; the engine only encodes its own types, which cannot
// fail to encode.
func mustJSON(v any) []byte {
	if s, ok := v.(*Sale); ok {
		return s.AppendJSON(make([]byte, 0, 1024))
	}
	b, err := json.Marshal(v)
	if err != nil {
		panic("engine: encoding " + err.Error())
	}
	return b
}

// IsNotFound reports whether err is a not-found error.
func IsNotFound(err error) bool { return ErrorCode(err) == ENOTFOUND }
