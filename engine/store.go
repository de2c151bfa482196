package engine

import (
	"context"
	"time"
)

// Store is the storage the engine runs on. The engine holds every rule; a
// Store only keeps domain objects, atomically. engine/boltstore is the
// embedded implementation; engine/storetest is the conformance suite every
// implementation must pass.
type Store interface {
	// Update runs fn in a write transaction. fn's writes become durable
	// together, on stable storage, before Update returns nil; if fn returns
	// an error none of its writes happen, and the error is returned.
	//
	// Updates are serializable per business: the fns that touch one
	// business behave as if they ran one at a time, each seeing every write
	// of those committed before it. The engine's read-check-write rules
	// (the next number of a series, a refund within what the sale still
	// holds, a transfer within the source's stock, a state change of a
	// receipt or transfer) rely on it and take no locks of their own. bbolt
	// gets it from its single writer; a database can get it from a lock per
	// business, or from serializable isolation.
	//
	// An implementation may run fn more than once, for instance again after
	// a serialization failure: only the writes of its last run commit, and
	// only if that run returns nil. fn therefore has no effect outside tx
	// that a second run would repeat (doc.go says why the engine's fns are
	// safe for it; storetest.Rerunning shows it). An implementation may
	// also run many callers' fns in one physical transaction (group
	// commit), as long as one fn's failure leaves the others' writes and
	// results untouched.
	Update(ctx context.Context, fn func(Tx) error) error
	// View runs fn on a consistent read-only snapshot. Writes fail. The
	// Tx it hands out also implements Scanner.
	View(ctx context.Context, fn func(Tx) error) error
	// SweepIdempotency drops the stored answers of up to limit idempotency
	// records that expired before t, keeping their key-to-document links,
	// and reports how many it dropped. It runs in its own small
	// transaction so that it never holds up sales for long.
	SweepIdempotency(ctx context.Context, before time.Time, limit int) (int, error)
	// Close stops accepting work, waits for work in progress, and closes.
	Close() error
}

// ReplayFromView is an optional interface of a Store. When ReplayFromView
// reports true, Service looks the idempotency key of every write up in a
// View first and answers a retry of a finished request from there, without
// a write transaction; the lookup inside the write transaction stays, as
// the guard. It suits a store whose reads cost next to nothing beside its
// writes (boltstore: a snapshot is a pointer, while its one writer is
// posd's ceiling). A store whose every transaction is a round trip to a
// server (PostgreSQL) leaves it out and gets the lookup inside the write
// transaction only.
type ReplayFromView interface {
	ReplayFromView() bool
}

// CachedTokens is an optional interface of a Store that keeps the tokens it
// has read in memory. Authenticate asks it first and opens no transaction
// when it has the token: every request authenticates, and a read
// transaction per request is a cost the cache can spare. CachedToken may
// return a token only if a View begun now would still find it: once the
// revocation of a token has been answered, the cache must no longer have
// it (boltstore: tokencache.go).
type CachedTokens interface {
	CachedToken(hash [32]byte) (Token, bool)
}

// Tx is a transaction on a Store: the reads and writes of the engine's
// write path. Getters return an error with code ENOTFOUND when the object
// does not exist in the given business; objects of other businesses are
// never returned. In a write transaction, reads see the transaction's own
// earlier writes.
type Tx interface {
	Business(id string) (*Business, error)
	Businesses() ([]*Business, error)
	PutBusiness(b *Business) error

	Location(business, id string) (*Location, error)
	Locations(business string) ([]*Location, error)
	PutLocation(l *Location) error

	Product(business, id string) (*Product, error)
	ProductBySKU(business, sku string) (*Product, error)
	Products(business string) ([]*Product, error)
	// PutProduct stores p and keeps the SKU index in step with it.
	PutProduct(p *Product) error

	// Stock returns the quantity of a product at a location (0 if none).
	Stock(business, location, product string) (Quantity, error)
	// StockAt lists every product with a stock record at a location.
	StockAt(business, location string) ([]StockLevel, error)
	// AddMovement appends m to the ledger and adds m.Quantity to the stock
	// of m.ProductID at m.LocationID, so stock and ledger never diverge.
	AddMovement(m *Movement) error

	Sale(business, id string) (*Sale, error)
	// PutSale stores a sale; a new one is appended to the business's list.
	PutSale(s *Sale) error
	// Sales lists sales in the order they were stored, after cursor
	// ("" for the start); it returns the next cursor, or "" at the end.
	Sales(business string, f SaleFilter) ([]*Sale, string, error)

	Return(business, id string) (*Return, error)
	PutReturn(r *Return) error
	// ListReturns lists refunds in the order they were made, after cursor
	// ("" for the start), as Sales lists sales: it returns the next
	// cursor, or "" at the end. The back office's journal and today's
	// figures page through it, newest first, and stop at the first refund
	// older than they need, so it must not read the whole business per
	// page (boltstore: refunds are keyed by their IDs, which begin with
	// the creation millisecond; a database: an index on business and
	// creation time or ID).
	ListReturns(business string, f ReturnFilter) ([]*Return, string, error)
	Receipt(business, id string) (*Receipt, error)
	PutReceipt(r *Receipt) error
	Transfer(business, id string) (*Transfer, error)
	PutTransfer(t *Transfer) error
	Adjustment(business, id string) (*Adjustment, error)
	PutAdjustment(a *Adjustment) error

	// NextNumber advances the counter of a series by one, in this
	// transaction, and returns the new value: 1 for a series not used
	// before. It is one verb, not a read and a write, so that a database
	// can make it one atomic statement (UPDATE … SET last = last + 1
	// RETURNING last); if the transaction does not commit, the number was
	// never given.
	NextNumber(business string, s Series) (uint64, error)
	// ClaimNumber records that number belongs to ref. It fails with
	// ErrDuplicateNumber if the number is already taken: the storage-level
	// guarantee of one document per business and number.
	ClaimNumber(business, number string, ref DocRef) error
	// ChainHead returns the head of a series' hash chain: the number and
	// hash of its last chained document (chain.go), or the zero ChainHead
	// for a series with none. SetChainHead records it. A numbered
	// document's commit reads the head and sets it, in the document's own
	// transaction, so that the next document chains to it: one small
	// record per business and series, which a SQL store keeps as a row
	// (business, series, number, hash) and reads and updates under the
	// same per-business serialisation as NextNumber.
	ChainHead(business string, s Series) (ChainHead, error)
	SetChainHead(business string, s Series, h ChainHead) error

	// Idempotency returns the record of a key in a business.
	Idempotency(business, key string) (*IdempotencyRecord, error)
	// PutIdempotency stores a record. It fails with ErrDuplicateKey when the
	// key already has a record: the storage-level guarantee of one document
	// per idempotency key.
	PutIdempotency(r *IdempotencyRecord) error

	TokenByHash(hash [32]byte) (*Token, error)
	Tokens(business string) ([]*Token, error)
	PutToken(t *Token) error
	DeleteToken(business, id string) error

	// ReturnsAt lists the refunds of f.LocationID (required) in the order
	// they were stored, as Sales lists sales: Z reports find what they
	// close by it.
	ReturnsAt(business string, f SaleFilter) ([]*Return, string, error)

	Cashier(business, id string) (*Cashier, error)
	// CashierByPIN finds the cashier whose PIN has this key (PINKey):
	// how a till learns who is selling from a PIN alone.
	CashierByPIN(business string, pin PINKey) (*Cashier, error)
	// Cashiers lists every cashier of the business, active or not.
	Cashiers(business string) ([]*Cashier, error)
	// PutCashier stores c and keeps the PIN index in step with it. It fails
	// with ErrDuplicatePIN when another cashier of the business has the
	// same PIN key: the storage-level guarantee that a PIN names one
	// person.
	PutCashier(c *Cashier) error

	Approval(business, id string) (*Approval, error)
	PutApproval(a *Approval) error

	Shift(business, id string) (*Shift, error)
	// OpenShift returns the ID and location of a till's open shift
	// (ENOTFOUND if none). Every sale of a till asks it, so it returns no
	// more than a sale needs: one small indexed read.
	OpenShift(business, tillID string) (ShiftRef, error)
	// Shifts lists the shifts of f.LocationID (required) in the order they
	// were opened.
	Shifts(business string, f SaleFilter) ([]*Shift, string, error)
	// PutShift stores s and keeps the till's open-shift index in step with
	// it: set while s is open, cleared when it closes. It fails with
	// ErrShiftOpen if the till already has another open shift.
	PutShift(s *Shift) error

	ZReport(business, id string) (*ZReport, error)
	// ZReports lists the Z reports of f.LocationID (required) in the order
	// they were made, which is their number's order.
	ZReports(business string, f SaleFilter) ([]*ZReport, string, error)
	// PutZReport stores a new Z report. A Z is never changed: it fails
	// with ErrZReportExists if one with the same ID is stored.
	PutZReport(z *ZReport) error
}

// Scanner is the whole-business reads that only checks need (Service.Verify,
// the fault harness): every document, movement, number and idempotency
// record of a business. The Tx of a Store's View implements it; the write
// path never uses it, so a write transaction need not. The back office
// reads through it too, off the sales' path: a number's document
// (NumberOwner), the receipts and transfers it lists (a shop makes a few a
// week, so a list reads them all), and a product's stock history (the
// ledger, walked once per look).
type Scanner interface {
	// AllSales, Returns, Receipts and Transfers call fn for every document
	// of their kind in the business, in no promised order, so that a
	// check can walk a whole database without paging.
	AllSales(business string, fn func(*Sale) error) error
	Returns(business string, fn func(*Return) error) error
	Receipts(business string, fn func(*Receipt) error) error
	Transfers(business string, fn func(*Transfer) error) error
	// Movements calls fn for every movement of the business, in order.
	Movements(business string, fn func(*Movement) error) error
	// Series lists every series of the business with its last number.
	Series(business string) (map[Series]uint64, error)
	// Numbers calls fn for every claimed number of the business.
	Numbers(business string, fn func(number string, ref DocRef) error) error
	// NumberOwner returns the document a number belongs to.
	NumberOwner(business, number string) (DocRef, error)
	// Idempotencies calls fn for every record of the business.
	Idempotencies(business string, fn func(*IdempotencyRecord) error) error
}

// ScanTx is a read transaction with the whole-business reads.
type ScanTx interface {
	Tx
	Scanner
}

// Scan runs fn on a read-only snapshot of store, as View does, with the
// Scanner reads.
func Scan(ctx context.Context, store Store, fn func(ScanTx) error) error {
	return store.View(ctx, func(tx Tx) error {
		st, ok := tx.(ScanTx)
		if !ok {
			return Errorf(EINTERNAL, "the store's read transaction (%T) does not implement engine.Scanner", tx)
		}
		return fn(st)
	})
}

// ErrDuplicateNumber and ErrDuplicateKey report a uniqueness rule caught by
// storage; the transaction that hit it writes nothing. Under serializable
// updates the engine never causes a duplicate number, so seeing one means a
// bug. A duplicate key is what a request loses when another with the same
// key commits between its lookup and its commit (a store that checks keys
// at commit, not under a lock); Service answers it as a replay of the
// winner.
var (
	ErrDuplicateNumber = &Error{Code: EINTERNAL, Message: "document number already taken"}
	ErrDuplicateKey    = &Error{Code: EINTERNAL, Message: "idempotency key already recorded"}
)

// ErrDuplicatePIN, ErrShiftOpen and ErrZReportExists report the uniqueness
// rules of cashiers, shifts and Z reports caught by storage. The engine
// checks each first and answers in words; storage refusing one means two
// writers raced past the check, which serializable updates rule out.
var (
	ErrDuplicatePIN  = &Error{Code: EINVALIDSTATE, Field: "pin", Message: "pin is already another cashier's PIN; choose another"}
	ErrShiftOpen     = &Error{Code: EINVALIDSTATE, Message: "this till already has an open shift; close it first"}
	ErrZReportExists = &Error{Code: EINTERNAL, Message: "a Z report is never changed"}
)

// DocRef points at a document.
type DocRef struct {
	Kind DocKind `json:"kind"`
	ID   string  `json:"id"`
}

// DocKind names a kind of document or object an idempotent request creates.
type DocKind string

// Document kinds.
const (
	KindSale       DocKind = "sale"
	KindReturn     DocKind = "return"
	KindReceipt    DocKind = "receipt"
	KindTransfer   DocKind = "transfer"
	KindAdjustment DocKind = "adjustment"
	KindLocation   DocKind = "location"
	KindProduct    DocKind = "product"
	KindToken      DocKind = "token"
	KindCashier    DocKind = "cashier"
	KindApproval   DocKind = "approval"
	KindShift      DocKind = "shift"
	KindZReport    DocKind = "zreport"
	// KindTill is a till token made by pairing (POST /pair): the answer is
	// a Paired, not a CreatedToken.
	KindTill DocKind = "till"
	// KindPairing is a pairing code's record (PairingTx), KindImport a
	// product import's report (ImportTx).
	KindPairing DocKind = "pairing"
	KindImport  DocKind = "import"
)

// ReturnFilter pages a listing of refunds (Tx.ListReturns).
type ReturnFilter struct {
	Cursor string
	Limit  int
	// Newest lists newest first instead of oldest first.
	Newest bool
}

// SaleFilter narrows a sale listing.
type SaleFilter struct {
	LocationID string
	Cursor     string
	Limit      int
	// Newest lists newest first instead of oldest first.
	Newest bool
}
