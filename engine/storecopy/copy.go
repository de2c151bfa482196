package storecopy

import (
	"context"
	"fmt"
	"time"

	"posd/engine"
)

// Copy writes everything in src into dst, which should be empty, through
// dst's own Update (in transactions of batch writes each; 0 means 2000).
// It reads src in one View, so the copy is one consistent snapshot. dst
// rebuilds its stock levels from the movements it is given (a store keeps
// them in step); Compare afterwards proves they are the source's.
func Copy(ctx context.Context, src, dst engine.Store, batch int, progress func(string)) (*Figures, error) {
	sink := &TxSink{Store: dst, Batch: batch, Progress: progress}
	err := engine.Scan(ctx, src, func(tx engine.ScanTx) error { return Walk(ctx, tx, sink) })
	if err == nil {
		err = sink.Flush(ctx)
	}
	if err != nil {
		return nil, err
	}
	return &sink.Figures, nil
}

// Figures count what a copy wrote.
type Figures struct {
	Businesses, Sales, Documents, Movements, Numbers, Idempotency int
}

func (f Figures) String() string {
	return fmt.Sprintf("%d businesses, %d sales, %d other documents, %d movements, %d numbers, %d idempotency records",
		f.Businesses, f.Sales, f.Documents, f.Movements, f.Numbers, f.Idempotency)
}

// TxSink writes what it receives into a Store through engine.Tx, batch
// writes per Update. Stock levels are not written: AddMovement keeps them.
type TxSink struct {
	Store    engine.Store
	Batch    int
	Progress func(string)
	Figures  Figures
	ctx      context.Context
	ops      []func(engine.Tx) error
	last     time.Time
}

func (s *TxSink) add(op func(engine.Tx) error) error {
	s.ops = append(s.ops, op)
	if s.Batch <= 0 {
		s.Batch = 2000
	}
	if len(s.ops) >= s.Batch {
		return s.Flush(context.Background())
	}
	return nil
}

// Flush writes what is buffered, in one Update.
func (s *TxSink) Flush(ctx context.Context) error {
	if len(s.ops) == 0 {
		return nil
	}
	ops := s.ops
	err := s.Store.Update(ctx, func(tx engine.Tx) error {
		for _, op := range ops {
			if err := op(tx); err != nil {
				return err
			}
		}
		return nil
	})
	s.ops = s.ops[:0]
	if s.Progress != nil && time.Since(s.last) > 10*time.Second {
		s.last = time.Now()
		s.Progress("copied " + s.Figures.String())
	}
	return err
}

func (s *TxSink) Business(b *engine.Business) error {
	s.Figures.Businesses++
	return s.add(func(tx engine.Tx) error { return tx.PutBusiness(b) })
}
func (s *TxSink) Location(l *engine.Location) error {
	return s.add(func(tx engine.Tx) error { return tx.PutLocation(l) })
}
func (s *TxSink) Product(p *engine.Product) error {
	return s.add(func(tx engine.Tx) error { return tx.PutProduct(p) })
}
func (s *TxSink) Token(t *engine.Token) error {
	return s.add(func(tx engine.Tx) error { return tx.PutToken(t) })
}
func (s *TxSink) Sale(x *engine.Sale) error {
	s.Figures.Sales++
	return s.add(func(tx engine.Tx) error { return tx.PutSale(x) })
}
func (s *TxSink) Return(r *engine.Return) error {
	s.Figures.Documents++
	return s.add(func(tx engine.Tx) error { return tx.PutReturn(r) })
}
func (s *TxSink) Receipt(r *engine.Receipt) error {
	s.Figures.Documents++
	return s.add(func(tx engine.Tx) error { return tx.PutReceipt(r) })
}
func (s *TxSink) Transfer(t *engine.Transfer) error {
	s.Figures.Documents++
	return s.add(func(tx engine.Tx) error { return tx.PutTransfer(t) })
}
func (s *TxSink) Adjustment(a *engine.Adjustment) error {
	s.Figures.Documents++
	return s.add(func(tx engine.Tx) error { return tx.PutAdjustment(a) })
}
func (s *TxSink) Movement(m *engine.Movement) error {
	s.Figures.Movements++
	return s.add(func(tx engine.Tx) error { return tx.AddMovement(m) })
}

// Stock is not written: the target's AddMovement made the levels.
func (s *TxSink) Stock(string, string, engine.StockLevel) error { return nil }

// Counter advances the target's series to last, the one way engine.Tx
// moves a counter (a store keeps only the last value of a transaction's
// advances, so this is one write however large last is).
func (s *TxSink) Counter(biz string, series engine.Series, last uint64) error {
	return s.add(func(tx engine.Tx) error {
		for range last {
			if _, err := tx.NextNumber(biz, series); err != nil {
				return err
			}
		}
		return nil
	})
}
func (s *TxSink) Number(biz, number string, ref engine.DocRef) error {
	s.Figures.Numbers++
	return s.add(func(tx engine.Tx) error { return tx.ClaimNumber(biz, number, ref) })
}
func (s *TxSink) Idempotency(r *engine.IdempotencyRecord) error {
	s.Figures.Idempotency++
	return s.add(func(tx engine.Tx) error { return tx.PutIdempotency(r) })
}
func (s *TxSink) ChainHead(biz string, series engine.Series, h engine.ChainHead) error {
	return s.add(func(tx engine.Tx) error { return tx.SetChainHead(biz, series, h) })
}
func (s *TxSink) Pairing(p *engine.Pairing) error {
	return s.add(func(tx engine.Tx) error {
		ptx, ok := tx.(engine.PairingTx)
		if !ok {
			return engine.Errorf(engine.EINTERNAL, "the target store (%T) keeps no pairings", tx)
		}
		return ptx.PutPairing(p)
	})
}
func (s *TxSink) TillStatus(st *engine.TillStatus) error {
	return s.add(func(tx engine.Tx) error {
		stx, ok := tx.(engine.TillStatusTx)
		if !ok {
			return engine.Errorf(engine.EINTERNAL, "the target store (%T) keeps no till reports", tx)
		}
		return stx.PutTillStatus(st)
	})
}
func (s *TxSink) ProductImport(r *engine.ImportReport) error {
	return s.add(func(tx engine.Tx) error {
		itx, ok := tx.(engine.ImportTx)
		if !ok {
			return engine.Errorf(engine.EINTERNAL, "the target store (%T) keeps no product imports", tx)
		}
		return itx.PutProductImport(r)
	})
}
func (s *TxSink) Cashier(c *engine.Cashier) error {
	return s.add(func(tx engine.Tx) error { return tx.PutCashier(c) })
}
func (s *TxSink) Approval(a *engine.Approval) error {
	return s.add(func(tx engine.Tx) error { return tx.PutApproval(a) })
}
func (s *TxSink) Shift(sh *engine.Shift) error {
	return s.add(func(tx engine.Tx) error { return tx.PutShift(sh) })
}
func (s *TxSink) ZReport(z *engine.ZReport) error {
	s.Figures.Documents++
	return s.add(func(tx engine.Tx) error { return tx.PutZReport(z) })
}
func (s *TxSink) Done(string) error { return nil }
