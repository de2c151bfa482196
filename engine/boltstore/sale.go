package boltstore

import (
	"encoding/binary"
	"strconv"

	"posd/engine"
)

// Sale implements engine.Tx.
func (t *txn) Sale(biz, id string) (*engine.Sale, error) {
	b := t.get(bSales, key(biz, id))
	if b == nil {
		return nil, notFound("sale")
	}
	s := new(engine.Sale)
	if err := decodeSale(b, s); err != nil {
		return nil, corrupt(bSales, err)
	}
	s.BusinessID = biz
	return s, nil
}

// PutSale implements engine.Tx. A new sale gets the next list position of
// its business and of its location.
func (t *txn) PutSale(s *engine.Sale) error {
	k := t.key(s.BusinessID, s.ID)
	if t.get(bSales, k) == nil {
		seq, err := t.nextSeq(s.BusinessID, "sale")
		if err != nil {
			return err
		}
		id := append(t.alloc(len(s.ID))[:0], s.ID...)
		if err := t.put(bSaleSeq, t.seqKey(seq, s.BusinessID), id); err != nil {
			return err
		}
		if err := t.put(bSaleLoc, t.seqKey(seq, s.BusinessID, s.LocationID), id); err != nil {
			return err
		}
	}
	return t.put(bSales, k, encodeSale(s))
}

// Sales implements engine.Tx. The cursor is the list position to start at.
func (t *txn) Sales(biz string, f engine.SaleFilter) ([]*engine.Sale, string, error) {
	bucket, p := bSaleSeq, prefix(biz)
	if f.LocationID != "" {
		bucket, p = bSaleLoc, prefix(biz, f.LocationID)
	}
	var from []byte
	if f.Cursor != "" {
		seq, err := strconv.ParseUint(f.Cursor, 10, 64)
		if err != nil || seq == 0 {
			return nil, "", engine.FieldError("cursor", "is not a cursor this server gave out")
		}
		from = seqKey(p, seq)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	var out []*engine.Sale
	next := ""
	err := t.scan(bucket, p, from, f.Newest, func(k, v []byte) error {
		if len(out) == limit {
			next = strconv.FormatUint(binary.BigEndian.Uint64(k[len(k)-8:]), 10)
			return errStop
		}
		b := t.get(bSales, key(biz, string(v)))
		if b == nil {
			return corrupt(bSales, errMissing(string(v)))
		}
		s := new(engine.Sale)
		if err := decodeSale(b, s); err != nil {
			return corrupt(bSales, err)
		}
		s.BusinessID = biz
		out = append(out, s)
		return nil
	})
	return out, next, err
}

type errMissing string

func (e errMissing) Error() string { return "index points at missing document " + string(e) }
