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
	// an error none of its writes happen, and the error is returned. An
	// implementation may run many callers' fns in one physical transaction
	// (group commit), but each fn must see the writes of the fns committed
	// before it, must run exactly once, and must not be affected by another
	// fn's failure.
	Update(ctx context.Context, fn func(Tx) error) error
	// View runs fn on a consistent read-only snapshot. Writes fail.
	View(ctx context.Context, fn func(Tx) error) error
	// SweepIdempotency drops the stored answers of up to limit idempotency
	// records that expired before t, keeping their key-to-document links,
	// and reports how many it dropped. It runs in its own small
	// transaction so that it never holds up sales for long.
	SweepIdempotency(ctx context.Context, before time.Time, limit int) (int, error)
	// Close stops accepting work, waits for work in progress, and closes.
	Close() error
}

// Tx is a transaction on a Store. Getters return an error with code
// ENOTFOUND when the object does not exist in the given business; objects of
// other businesses are never returned. In a write transaction, reads see the
// transaction's own earlier writes.
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
	// Movements calls fn for every movement of the business, in order.
	Movements(business string, fn func(*Movement) error) error

	Sale(business, id string) (*Sale, error)
	// PutSale stores a sale; a new one is appended to the business's list.
	PutSale(s *Sale) error
	// Sales lists sales in the order they were stored, after cursor
	// ("" for the start); it returns the next cursor, or "" at the end.
	Sales(business string, f SaleFilter) ([]*Sale, string, error)

	Return(business, id string) (*Return, error)
	PutReturn(r *Return) error
	Receipt(business, id string) (*Receipt, error)
	PutReceipt(r *Receipt) error
	Transfer(business, id string) (*Transfer, error)
	PutTransfer(t *Transfer) error
	Adjustment(business, id string) (*Adjustment, error)
	PutAdjustment(a *Adjustment) error

	// AllSales, Returns, Receipts and Transfers call fn for every document
	// of their kind in the business, in no promised order, so that checks
	// such as Service.Verify can walk a whole database without paging.
	AllSales(business string, fn func(*Sale) error) error
	Returns(business string, fn func(*Return) error) error
	Receipts(business string, fn func(*Receipt) error) error
	Transfers(business string, fn func(*Transfer) error) error

	// LastNumber returns the last number given in a series (0 if none).
	LastNumber(business string, s Series) (uint64, error)
	// SetLastNumber records n as the last number of a series.
	SetLastNumber(business string, s Series, n uint64) error
	// ClaimNumber records that number belongs to ref. It fails with
	// ErrDuplicateNumber if the number is already taken: the storage-level
	// guarantee of one document per business and number.
	ClaimNumber(business, number string, ref DocRef) error
	// NumberOwner returns the document a number belongs to.
	NumberOwner(business, number string) (DocRef, error)
	// Series lists every series of the business with its last number.
	Series(business string) (map[Series]uint64, error)
	// Numbers calls fn for every claimed number of the business.
	Numbers(business string, fn func(number string, ref DocRef) error) error

	// Idempotency returns the record of a key in a business.
	Idempotency(business, key string) (*IdempotencyRecord, error)
	// PutIdempotency stores a record. It fails with ErrDuplicateKey when the
	// key already has a record: the storage-level guarantee of one document
	// per idempotency key.
	PutIdempotency(r *IdempotencyRecord) error
	// Idempotencies calls fn for every record of the business.
	Idempotencies(business string, fn func(*IdempotencyRecord) error) error

	TokenByHash(hash [32]byte) (*Token, error)
	Tokens(business string) ([]*Token, error)
	PutToken(t *Token) error
	DeleteToken(business, id string) error
}

// ErrDuplicateNumber and ErrDuplicateKey report a broken uniqueness rule
// caught by storage. The engine never causes them; seeing one means a bug,
// and the transaction that hit it writes nothing.
var (
	ErrDuplicateNumber = &Error{Code: EINTERNAL, Message: "document number already taken"}
	ErrDuplicateKey    = &Error{Code: EINTERNAL, Message: "idempotency key already recorded"}
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
)

// SaleFilter narrows a sale listing.
type SaleFilter struct {
	LocationID string
	Cursor     string
	Limit      int
	// Newest lists newest first instead of oldest first.
	Newest bool
}
