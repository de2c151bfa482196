//go:build posd_broken_numbertx

package engine

import (
	"context"
	"time"
)

// numberFirst, in this broken build, advances the series counter in a
// transaction of its own before the document's transaction runs, and makes
// the document take that number: a refusal, a crash or a lost race between
// the two leaves a gap.
func (s *Service) numberFirst(ctx context.Context, a *Actor, op string, fn func(Tx, time.Time) (*result, error)) func(Tx, time.Time) (*result, error) {
	prefix := map[string]string{opCreateSale: PrefixSale, opRefundSale: PrefixReturn, opApproveReceipt: PrefixReceipt, opSendTransfer: PrefixTransfer}[op]
	if prefix == "" {
		return fn
	}
	var series Series
	var n uint64
	err := s.store.Update(ctx, func(tx Tx) error {
		biz, err := tx.Business(a.BusinessID)
		if err != nil {
			return err
		}
		series = SeriesOf(prefix, s.now(), biz.Location())
		last, err := tx.LastNumber(a.BusinessID, series)
		if err != nil {
			return err
		}
		n = last + 1
		return tx.SetLastNumber(a.BusinessID, series, n)
	})
	if err != nil {
		return func(Tx, time.Time) (*result, error) { return nil, err }
	}
	return func(tx Tx, now time.Time) (*result, error) {
		return fn(preNumbered{Tx: tx, series: series, n: n}, now)
	}
}

// preNumbered makes nextNumber hand out the number taken beforehand.
type preNumbered struct {
	Tx
	series Series
	n      uint64
}

func (p preNumbered) LastNumber(biz string, s Series) (uint64, error) {
	if s == p.series {
		return p.n - 1, nil
	}
	return p.Tx.LastNumber(biz, s)
}

func (p preNumbered) SetLastNumber(biz string, s Series, n uint64) error {
	if s == p.series {
		return nil
	}
	return p.Tx.SetLastNumber(biz, s, n)
}
