package engine

import (
	"context"
	"slices"
	"time"
)

// ChainUpgrade says what UpgradeChains did.
type ChainUpgrade struct {
	// Documents counts the documents linked now; Series the series they
	// are in.
	Documents int
	Series    int
	Took      time.Duration
}

// upgradeBatch is how many documents one upgrade transaction links: small
// enough that a transaction stays short, large enough that a million
// documents take a thousand commits, not a million.
const upgradeBatch = 1000

// UpgradeChains links every numbered document that has no place in its
// series' chain yet: those of a database written before posd had chains.
// It works series by series (sales first, so that a refund can name its
// sale's hash), each in number order from the series' head on, in
// transactions of upgradeBatch documents; each transaction advances the
// head with its documents, so an upgrade cut short goes on where it
// stopped, and a document once linked is never hashed again. It is cheap
// when there is nothing to do (one read per series), so serve runs it at
// every start, before it takes requests.
//
// A refund made before chains gets, with its hash, the values its canonical
// form holds that such refunds lacked: its sale's number and hash, and each
// line's tax rate and share of the sale line's tax, worked out from the
// sale and the refunds before it exactly as RefundSale works them out.
func (s *Service) UpgradeChains(ctx context.Context) (*ChainUpgrade, error) {
	start := time.Now()
	out := &ChainUpgrade{}
	var bizs []*Business
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		bizs, err = tx.Businesses()
		return err
	})
	if err != nil {
		return nil, err
	}
	for _, b := range bizs {
		if err := s.upgradeBusiness(ctx, b, out); err != nil {
			return nil, err
		}
	}
	out.Took = time.Since(start)
	return out, nil
}

type upgradeSeries struct {
	s          Series
	from, last uint64
}

func (s *Service) upgradeBusiness(ctx context.Context, biz *Business, out *ChainUpgrade) error {
	var todo []upgradeSeries
	err := Scan(ctx, s.store, func(tx ScanTx) error {
		counters, err := tx.Series(biz.ID)
		if err != nil {
			return err
		}
		names := make([]Series, 0, len(counters))
		for name := range counters {
			names = append(names, name)
		}
		slices.SortFunc(names, seriesOrder)
		for _, name := range names {
			h, err := tx.ChainHead(biz.ID, name)
			if err != nil {
				return err
			}
			if h.Number < counters[name] {
				todo = append(todo, upgradeSeries{s: name, from: h.Number + 1, last: counters[name]})
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, u := range todo {
		out.Series++
		for n := u.from; n <= u.last; n += upgradeBatch {
			if err := ctx.Err(); err != nil {
				return err
			}
			to := min(n+upgradeBatch-1, u.last)
			refs := make([]*DocRef, 0, to-n+1)
			err := Scan(ctx, s.store, func(tx ScanTx) error {
				refs = refs[:0]
				for k := n; k <= to; k++ {
					ref, err := tx.NumberOwner(biz.ID, FormatNumber(u.s, k))
					if IsNotFound(err) {
						refs = append(refs, nil)
						continue
					}
					if err != nil {
						return err
					}
					refs = append(refs, &ref)
				}
				return nil
			})
			if err != nil {
				return err
			}
			linked := 0
			err = s.store.Update(ctx, func(tx Tx) error {
				linked = 0
				for i, ref := range refs {
					k := n + uint64(i)
					ok, err := upgradeOne(tx, biz, u.s, k, ref)
					if err != nil {
						return err
					}
					if ok {
						linked++
					}
				}
				return nil
			})
			if err != nil {
				return err
			}
			out.Documents += linked
		}
	}
	return nil
}

// upgradeOne links document k of series s, which ref names (nil: the
// number has no document, and the head moves past it so that the chain
// goes on; verification reports the gap).
func upgradeOne(tx Tx, biz *Business, s Series, k uint64, ref *DocRef) (bool, error) {
	if ref == nil {
		prev, err := previousHash(tx, biz, s, k)
		if err != nil {
			return false, err
		}
		return false, tx.SetChainHead(biz.ID, s, ChainHead{Number: k, Hash: prev})
	}
	var d chained
	var put func() error
	var err error
	switch ref.Kind {
	case KindSale:
		var v *Sale
		if v, err = tx.Sale(biz.ID, ref.ID); err == nil {
			d, put = v, func() error { return tx.PutSale(v) }
		}
	case KindReturn:
		var v *Return
		if v, err = tx.Return(biz.ID, ref.ID); err == nil {
			d, put = v, func() error { return tx.PutReturn(v) }
			if v.Hash == "" {
				err = completeReturn(tx, biz.ID, v)
			}
		}
	case KindReceipt:
		var v *Receipt
		if v, err = tx.Receipt(biz.ID, ref.ID); err == nil {
			d, put = v, func() error { return tx.PutReceipt(v) }
		}
	case KindTransfer:
		var v *Transfer
		if v, err = tx.Transfer(biz.ID, ref.ID); err == nil {
			d, put = v, func() error { return tx.PutTransfer(v) }
		}
	case KindZReport:
		// Zs are linked when they are made (there were none before
		// chains), and never rewritten: only a lost head is set again.
		var v *ZReport
		if v, err = tx.ZReport(biz.ID, ref.ID); err == nil {
			d, put = v, func() error {
				return Errorf(EINTERNAL, "%s has no hash, and a Z report is never rewritten: run posd verify", FormatNumber(s, k))
			}
		}
	default:
		return false, Errorf(EINTERNAL, "%s is claimed for a %s", FormatNumber(s, k), ref.Kind)
	}
	if IsNotFound(err) {
		return upgradeOne(tx, biz, s, k, nil)
	}
	if err != nil {
		return false, err
	}
	if h := d.chainLink().Hash; h != "" {
		// Linked already, its head lost: only the head is set again.
		return false, tx.SetChainHead(biz.ID, s, ChainHead{Number: k, Hash: h})
	}
	if err := link(tx, biz, s, k, d); err != nil {
		return false, err
	}
	return true, put()
}

// completeReturn gives a refund made before chains the values its
// canonical form holds: its sale's number and hash, and per line the sale
// line's tax rate and the share of its tax, by replaying the sale's
// refunds in the order they were made as RefundSale assigned their lines.
func completeReturn(tx Tx, biz string, r *Return) error {
	sale, err := tx.Sale(biz, r.SaleID)
	if IsNotFound(err) {
		return nil // verification reports the refund of a missing sale
	}
	if err != nil {
		return err
	}
	r.SaleNumber, r.SaleHash = sale.InvoiceNumber, sale.Hash
	refunded := make([]Quantity, len(sale.Items))
	for _, id := range sale.Returns {
		ret := r
		if id != r.ID {
			if ret, err = tx.Return(biz, id); err != nil {
				if IsNotFound(err) {
					continue
				}
				return err
			}
		}
		var taxTotal Money
		for i := range ret.Items {
			l := &ret.Items[i]
			j := -1
			for jj := range sale.Items {
				sl := &sale.Items[jj]
				if sl.ProductID == l.ProductID && refunded[jj] < sl.Quantity {
					j = jj
					break
				}
			}
			if j < 0 {
				continue
			}
			sl := &sale.Items[j]
			tax := refundShare(sl.TaxAmount, refunded[j], l.Quantity, sl.Quantity)
			refunded[j] += l.Quantity
			if ret == r {
				l.TaxRate, l.TaxAmount = sl.TaxRate, tax
				taxTotal += tax
			}
		}
		if ret == r {
			r.TaxTotal = taxTotal
			return nil
		}
	}
	return nil
}
