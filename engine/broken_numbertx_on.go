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
func (s *Service) numberFirst(ctx context.Context, a *Actor, op string, fn opFunc) opFunc {
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
		n, err = tx.NextNumber(a.BusinessID, series)
		return err
	})
	if err != nil {
		return func(Tx, time.Time) (any, DocRef, error) { return nil, DocRef{}, err }
	}
	return func(tx Tx, now time.Time) (any, DocRef, error) {
		return fn(preNumbered{Tx: tx, series: series, n: n}, now)
	}
}

// preNumbered makes nextNumber hand out the number taken beforehand.
type preNumbered struct {
	Tx
	series Series
	n      uint64
}

func (p preNumbered) NextNumber(biz string, s Series) (uint64, error) {
	if s == p.series {
		return p.n, nil
	}
	return p.Tx.NextNumber(biz, s)
}
