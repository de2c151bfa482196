package engine

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The journal: every numbered document by series, newest first or oldest
// first, filtered by day (in the business's time zone), location, till and
// state, in pages with a cursor, as GET /sales pages its sales.

// ListFilter narrows a listing of documents.
type ListFilter struct {
	LocationID string
	// TillID is the token that made the document (sales and refunds).
	TillID string
	// Day is YYYY-MM-DD in the business's time zone: documents of that day
	// (sales and refunds by their commit time, receipts by approval,
	// transfers by sending).
	Day string
	// Status keeps receipts or transfers in one state; Numbered keeps
	// those that have a number.
	Status   string
	Numbered bool
	Cursor   string
	Limit    int
	Newest   bool
}

func (f *ListFilter) check() error {
	if f.Limit == 0 {
		f.Limit = 50
	}
	if f.Limit < 1 || f.Limit > 500 {
		return fieldErr("limit", "must be between 1 and 500")
	}
	return nil
}

// dayRange returns the start and end of a business day.
func dayRange(biz *Business, day string) (time.Time, time.Time, error) {
	d, err := time.ParseInLocation("2006-01-02", day, biz.Location())
	if err != nil {
		return time.Time{}, time.Time{}, fieldErr("day", "must be a day such as 2026-11-27")
	}
	return d, d.AddDate(0, 0, 1), nil
}

// ReturnEntry is a refund in a listing, with the number of its sale.
type ReturnEntry struct {
	*Return
	SaleNumber string `json:"saleNumber"`
}

// SalesFiltered lists sales like Sales, and also by day and till.
func (s *Service) SalesFiltered(ctx context.Context, a *Actor, f ListFilter) ([]*Sale, string, error) {
	if f.Day == "" && f.TillID == "" {
		return s.Sales(ctx, a, SaleFilter{LocationID: f.LocationID, Cursor: f.Cursor, Limit: f.Limit, Newest: f.Newest})
	}
	if err := f.check(); err != nil {
		return nil, "", err
	}
	var out []*Sale
	next := ""
	err := s.view(ctx, a, PermRead, func(tx Tx) error {
		from, to, err := s.listPrep(tx, a, &f)
		if err != nil {
			return err
		}
		out, next, err = pageThrough(f, func(cursor string, limit int) ([]*Sale, string, error) {
			return tx.Sales(a.BusinessID, SaleFilter{LocationID: f.LocationID, Cursor: cursor, Limit: limit, Newest: f.Newest})
		}, func(sl *Sale) bool {
			return (f.TillID == "" || sl.TokenID == f.TillID) && inDay(&sl.CreatedAt, from, to)
		}, func(sl *Sale) bool { return beyond(sl.CreatedAt, from, to, f.Newest) })
		return err
	})
	if out == nil {
		out = []*Sale{}
	}
	return out, next, err
}

// pageThrough fills a page of f.Limit documents that keep accepts, reading
// the store's pages (list) in the store's order from f.Cursor, and stops
// at the first document past (beyond a day's edge: nothing after it can
// match). Its cursor is the store's with how many documents of that
// store page were already looked at ("C:n"), so any store's cursor works.
func pageThrough[T any](f ListFilter, list func(cursor string, limit int) ([]T, string, error), keep, past func(T) bool) ([]T, string, error) {
	cur, skip := f.Cursor, 0
	if c, n, ok := strings.Cut(f.Cursor, ":"); ok {
		cur = c
		var err error
		if skip, err = strconv.Atoi(n); err != nil || skip < 0 {
			return nil, "", fieldErr("cursor", "is not a cursor this server gave out")
		}
	}
	const storePage = 200
	var out []T
	for {
		docs, nextStore, err := list(cur, storePage)
		if err != nil {
			return nil, "", err
		}
		for i := skip; i < len(docs); i++ {
			if past(docs[i]) {
				return out, "", nil
			}
			if !keep(docs[i]) {
				continue
			}
			if len(out) == f.Limit {
				return out, cur + ":" + strconv.Itoa(i), nil
			}
			out = append(out, docs[i])
		}
		if nextStore == "" {
			return out, "", nil
		}
		cur, skip = nextStore, 0
	}
}

// beyond reports whether a document made at t, in a listing in time order
// (newest first if newest), lies past the day [from, to): everything after
// it does too. Zero bounds have no edge.
func beyond(t, from, to time.Time, newest bool) bool {
	if from.IsZero() {
		return false
	}
	if newest {
		return t.Before(from)
	}
	return !t.Before(to)
}

// page sorts docs by their time and ID (newest first if asked), and cuts
// the page after cursor, an ID.
func page[T any](docs []T, f ListFilter, at func(T) time.Time, id func(T) string) ([]T, string) {
	sort.Slice(docs, func(i, j int) bool {
		ti, tj := at(docs[i]), at(docs[j])
		if !ti.Equal(tj) {
			return ti.Before(tj) != f.Newest
		}
		return (id(docs[i]) < id(docs[j])) != f.Newest
	})
	start := 0
	if f.Cursor != "" {
		start = len(docs)
		for i, d := range docs {
			if id(d) == f.Cursor {
				start = i + 1
				break
			}
		}
	}
	docs = docs[start:]
	if len(docs) > f.Limit {
		return docs[:f.Limit], id(docs[f.Limit-1])
	}
	return docs, ""
}

// inDay reports whether t lies in [from, to); zero bounds match anything.
func inDay(t *time.Time, from, to time.Time) bool {
	if from.IsZero() {
		return true
	}
	return t != nil && !t.Before(from) && t.Before(to)
}

// listPrep checks the filter and works out its day.
func (s *Service) listPrep(tx Tx, a *Actor, f *ListFilter) (time.Time, time.Time, error) {
	if f.LocationID != "" {
		if _, err := getLocation(tx, a.BusinessID, f.LocationID, "locationId"); err != nil {
			return time.Time{}, time.Time{}, err
		}
	}
	if f.Day == "" {
		return time.Time{}, time.Time{}, nil
	}
	biz, err := tx.Business(a.BusinessID)
	if err != nil {
		return time.Time{}, time.Time{}, err
	}
	return dayRange(biz, f.Day)
}

// Returns lists refunds (any token may read them, as it reads sales),
// through the store's listing in the order they were made, so a page of
// recent refunds, or of one day's, reads about that many.
func (s *Service) Returns(ctx context.Context, a *Actor, f ListFilter) ([]*ReturnEntry, string, error) {
	if err := f.check(); err != nil {
		return nil, "", err
	}
	out := []*ReturnEntry{}
	next := ""
	err := s.view(ctx, a, PermRead, func(tx Tx) error {
		from, to, err := s.listPrep(tx, a, &f)
		if err != nil {
			return err
		}
		var pg []*Return
		pg, next, err = pageThrough(f, func(cursor string, limit int) ([]*Return, string, error) {
			return tx.ListReturns(a.BusinessID, ReturnFilter{Cursor: cursor, Limit: limit, Newest: f.Newest})
		}, func(r *Return) bool {
			return (f.LocationID == "" || r.LocationID == f.LocationID) && (f.TillID == "" || r.TokenID == f.TillID) && inDay(&r.CreatedAt, from, to)
		}, func(r *Return) bool { return beyond(r.CreatedAt, from, to, f.Newest) })
		if err != nil {
			return err
		}
		for _, r := range pg {
			out = append(out, returnEntry(tx, r))
		}
		return nil
	})
	return out, next, err
}

// returnEntry is r with the number of its sale.
func returnEntry(tx Tx, r *Return) *ReturnEntry {
	e := &ReturnEntry{Return: r}
	if sl, err := tx.Sale(r.BusinessID, r.SaleID); err == nil {
		e.SaleNumber = sl.InvoiceNumber
	}
	return e
}

// scan runs fn on a snapshot with the Scanner reads, for actors with p.
func (s *Service) scan(ctx context.Context, a *Actor, p Permission, fn func(tx ScanTx) error) error {
	if err := a.Can(p); err != nil {
		return err
	}
	return Scan(ctx, s.store, fn)
}

// Receipts lists purchase receipts (owner or manager).
func (s *Service) Receipts(ctx context.Context, a *Actor, f ListFilter) ([]*Receipt, string, error) {
	if err := f.check(); err != nil {
		return nil, "", err
	}
	var out []*Receipt
	next := ""
	// Receipts are made by hand, a few a week: the list reads them all.
	err := s.scan(ctx, a, PermManage, func(tx ScanTx) error {
		from, to, err := s.listPrep(tx, a, &f)
		if err != nil {
			return err
		}
		var all []*Receipt
		err = tx.Receipts(a.BusinessID, func(r *Receipt) error {
			if (f.LocationID == "" || r.LocationID == f.LocationID) && (f.Status == "" || r.Status == f.Status) &&
				(!f.Numbered || r.ReceiptNumber != nil) && inDay(r.ApprovedAt, from, to) {
				all = append(all, r)
			}
			return nil
		})
		if err != nil {
			return err
		}
		out, next = page(all, f, func(r *Receipt) time.Time {
			if r.ApprovedAt != nil && (f.Day != "" || f.Numbered || f.Status == StatusApproved) {
				return *r.ApprovedAt
			}
			return r.CreatedAt
		}, func(r *Receipt) string { return r.ID })
		return nil
	})
	if out == nil {
		out = []*Receipt{}
	}
	return out, next, err
}

// Transfers lists transfers (owner or manager); LocationID matches either
// end.
func (s *Service) Transfers(ctx context.Context, a *Actor, f ListFilter) ([]*Transfer, string, error) {
	if err := f.check(); err != nil {
		return nil, "", err
	}
	var out []*Transfer
	next := ""
	// Transfers are made by hand, a few a week: the list reads them all.
	err := s.scan(ctx, a, PermManage, func(tx ScanTx) error {
		from, to, err := s.listPrep(tx, a, &f)
		if err != nil {
			return err
		}
		var all []*Transfer
		err = tx.Transfers(a.BusinessID, func(t *Transfer) error {
			if (f.LocationID == "" || t.FromLocationID == f.LocationID || t.ToLocationID == f.LocationID) && (f.Status == "" || t.Status == f.Status) &&
				(!f.Numbered || t.TransferNumber != nil) && inDay(t.SentAt, from, to) {
				all = append(all, t)
			}
			return nil
		})
		if err != nil {
			return err
		}
		out, next = page(all, f, func(t *Transfer) time.Time {
			if t.SentAt != nil && (f.Day != "" || f.Numbered) {
				return *t.SentAt
			}
			return t.CreatedAt
		}, func(t *Transfer) string { return t.ID })
		return nil
	})
	if out == nil {
		out = []*Transfer{}
	}
	return out, next, err
}

// NumberedDocument is the answer to GET /documents/{number}.
type NumberedDocument struct {
	Kind     DocKind `json:"kind"`
	Number   string  `json:"number"`
	Document any     `json:"document"`
}

// DocumentByNumber finds the document that carries a number (owner or
// manager): the journal's search by number.
func (s *Service) DocumentByNumber(ctx context.Context, a *Actor, number string) (*NumberedDocument, error) {
	number = strings.TrimSpace(number)
	if strings.HasPrefix(strings.ToUpper(number), PrefixZReport+"-") {
		// A Z's claim names its location's ID, which is lowercase:
		// Z-<location ID>-0001.
		number = PrefixZReport + number[1:]
	} else {
		number = strings.ToUpper(number)
	}
	if _, _, ok := ParseNumber(number); !ok {
		return nil, &Error{Code: ENOTFOUND, Message: fmt.Sprintf("no document is numbered %q; numbers look like INV-202611-0042", number)}
	}
	var out *NumberedDocument
	err := s.scan(ctx, a, PermManage, func(tx ScanTx) error {
		ref, err := tx.NumberOwner(a.BusinessID, number)
		if IsNotFound(err) {
			return &Error{Code: ENOTFOUND, Message: fmt.Sprintf("no document is numbered %s", number)}
		} else if err != nil {
			return err
		}
		var doc any
		switch ref.Kind {
		case KindSale:
			doc, err = tx.Sale(a.BusinessID, ref.ID)
		case KindReturn:
			var r *Return
			if r, err = tx.Return(a.BusinessID, ref.ID); err == nil {
				doc = returnEntry(tx, r)
			}
		case KindReceipt:
			doc, err = tx.Receipt(a.BusinessID, ref.ID)
		case KindTransfer:
			doc, err = tx.Transfer(a.BusinessID, ref.ID)
		case KindZReport:
			doc, err = tx.ZReport(a.BusinessID, ref.ID)
		default:
			err = Errorf(EINTERNAL, "number %s belongs to a %s", number, ref.Kind)
		}
		if err != nil {
			return err
		}
		out = &NumberedDocument{Kind: ref.Kind, Number: number, Document: doc}
		return nil
	})
	return out, err
}

// MovementEntry is one line of a product's stock history: the movement,
// the document's number when it has one, an adjustment's reason, and the
// stock at the location after it.
type MovementEntry struct {
	*Movement
	Number  string   `json:"number,omitempty"`
	Reason  string   `json:"reason,omitempty"`
	Balance Quantity `json:"balance"`
}

// ProductMovements lists a product's stock movements at a location, with
// the running stock (owner or manager). It walks the business's ledger,
// which is in order, once per call (Scanner.Movements): a look at one
// product's history, never on the sales' path, and an index per product
// would cost every sale line a second write.
func (s *Service) ProductMovements(ctx context.Context, a *Actor, productID, locationID string, f ListFilter) ([]*MovementEntry, string, error) {
	if err := f.check(); err != nil {
		return nil, "", err
	}
	var out []*MovementEntry
	next := ""
	err := s.scan(ctx, a, PermManage, func(tx ScanTx) error {
		if _, err := getProduct(tx, a.BusinessID, productID, "productId", true); err != nil {
			return err
		}
		if _, err := getLocation(tx, a.BusinessID, locationID, "locationId"); err != nil {
			return err
		}
		var all []*MovementEntry
		var bal Quantity
		err := tx.Movements(a.BusinessID, func(m *Movement) error {
			if m.ProductID != productID || m.LocationID != locationID {
				return nil
			}
			bal += m.Quantity
			all = append(all, &MovementEntry{Movement: m, Balance: bal})
			return nil
		})
		if err != nil {
			return err
		}
		// The ledger's order is the cursor: an entry's position.
		start := 0
		if f.Cursor != "" {
			n, err := strconv.Atoi(f.Cursor)
			if err != nil || n < 0 || n > len(all) {
				return fieldErr("cursor", "is not a cursor this server gave out")
			}
			start = n
		}
		if f.Newest {
			for i, j := 0, len(all)-1; i < j; i, j = i+1, j-1 {
				all[i], all[j] = all[j], all[i]
			}
		}
		end := min(start+f.Limit, len(all))
		out = all[start:end]
		if end < len(all) {
			next = strconv.Itoa(end)
		}
		for _, e := range out {
			switch e.Doc.Kind {
			case KindSale:
				if d, err := tx.Sale(a.BusinessID, e.Doc.ID); err == nil {
					e.Number = d.InvoiceNumber
				}
			case KindReturn:
				if d, err := tx.Return(a.BusinessID, e.Doc.ID); err == nil {
					e.Number = d.ReturnNumber
				}
			case KindReceipt:
				if d, err := tx.Receipt(a.BusinessID, e.Doc.ID); err == nil && d.ReceiptNumber != nil {
					e.Number = *d.ReceiptNumber
				}
			case KindTransfer:
				if d, err := tx.Transfer(a.BusinessID, e.Doc.ID); err == nil && d.TransferNumber != nil {
					e.Number = *d.TransferNumber
				}
			case KindAdjustment:
				if d, err := tx.Adjustment(a.BusinessID, e.Doc.ID); err == nil {
					e.Reason = d.Reason
				}
			}
		}
		return nil
	})
	if out == nil {
		out = []*MovementEntry{}
	}
	return out, next, err
}
