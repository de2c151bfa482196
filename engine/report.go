package engine

import (
	"context"
	"sort"
	"time"
)

// DayReport is the answer to GET /reports/today: the business day so far
// in the business's time zone, beside the same weekday a week before up to
// the same time of day (and that whole day), with what needs the owner's
// eye in stock.
type DayReport struct {
	Day      string    `json:"day"`
	Timezone string    `json:"timezone"`
	From     time.Time `json:"from"`
	To       time.Time `json:"to"`
	// LocationID is the location reported on; nil for all.
	LocationID *string       `json:"locationId"`
	Sales      DayFigures    `json:"sales"`
	ByMethod   []MethodTotal `json:"byMethod"`
	ByTill     []TillTotal   `json:"byTill"`
	// LastWeek is the same weekday a week before, up to the same time;
	// LastWeekWholeDay the whole of that day.
	LastWeek         *DayFigures     `json:"lastWeek"`
	LastWeekWholeDay *DayFigures     `json:"lastWeekWholeDay"`
	NegativeStock    []NegativeStock `json:"negativeStock"`
}

// DayFigures are a span's takings: sales (gross, tax included), refunds
// and net (gross less refunds), in minor units.
type DayFigures struct {
	Day         string `json:"day"`
	Count       int    `json:"count"`
	Gross       Money  `json:"gross"`
	Tax         Money  `json:"tax"`
	Refunds     Money  `json:"refunds"`
	RefundCount int    `json:"refundCount"`
	Net         Money  `json:"net"`
}

// MethodTotal is what came in by one payment method; cash net of change.
type MethodTotal struct {
	Method string `json:"method"`
	Count  int    `json:"count"`
	Amount Money  `json:"amount"`
}

// TillTotal is one till's (one token's) takings.
type TillTotal struct {
	TillID  string `json:"tillId"`
	Name    string `json:"name"`
	Count   int    `json:"count"`
	Gross   Money  `json:"gross"`
	Refunds Money  `json:"refunds"`
	Net     Money  `json:"net"`
}

// NegativeStock is a product below zero at a location: sold more than
// posd knew was there.
type NegativeStock struct {
	LocationID string   `json:"locationId"`
	ProductID  string   `json:"productId"`
	SKU        string   `json:"sku"`
	Name       string   `json:"name"`
	Quantity   Quantity `json:"quantity"`
}

// TodayReport works out today's figures (owner or manager). It reads the
// sales and the refunds of the last eight days, newest first, and no
// older ones: the office asks for it every few seconds.
func (s *Service) TodayReport(ctx context.Context, a *Actor, locationID string) (*DayReport, error) {
	var out *DayReport
	err := s.view(ctx, a, PermManage, func(tx Tx) error {
		biz, err := tx.Business(a.BusinessID)
		if err != nil {
			return err
		}
		if locationID != "" {
			if _, err := getLocation(tx, a.BusinessID, locationID, "locationId"); err != nil {
				return err
			}
		}
		zone := biz.Location()
		now := s.now().In(zone)
		from := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, zone)
		// AddDate on the local day keeps "the same time of day" across a
		// change to or from summer time.
		lwFrom := from.AddDate(0, 0, -7)
		lwTo := now.AddDate(0, 0, -7)
		lwEnd := lwFrom.AddDate(0, 0, 1)
		out = &DayReport{Day: from.Format("2006-01-02"), Timezone: biz.Timezone, From: from.UTC(), To: now.UTC(),
			ByMethod: []MethodTotal{}, ByTill: []TillTotal{}, NegativeStock: []NegativeStock{},
			LastWeek: &DayFigures{Day: lwFrom.Format("2006-01-02")}, LastWeekWholeDay: &DayFigures{Day: lwFrom.Format("2006-01-02")}}
		out.Sales.Day = out.Day
		if locationID != "" {
			out.LocationID = &locationID
		}
		methods := map[string]*MethodTotal{}
		tills := map[string]*TillTotal{}
		till := func(id string) *TillTotal {
			t := tills[id]
			if t == nil {
				t = &TillTotal{TillID: id}
				tills[id] = t
			}
			return t
		}
		cursor := ""
	scan:
		for {
			sales, next, err := tx.Sales(a.BusinessID, SaleFilter{LocationID: locationID, Cursor: cursor, Limit: 500, Newest: true})
			if err != nil {
				return err
			}
			for _, sl := range sales {
				t := sl.CreatedAt
				switch {
				case t.Before(lwFrom):
					break scan
				case !t.Before(from):
					out.Sales.Count++
					out.Sales.Gross += sl.Total
					out.Sales.Tax += sl.TaxTotal
					for _, p := range sl.Payments {
						m := methods[p.Method]
						if m == nil {
							m = &MethodTotal{Method: p.Method}
							methods[p.Method] = m
						}
						m.Count++
						m.Amount += p.Amount
						if p.Method == MethodCash {
							m.Amount -= sl.Change
						}
					}
					tt := till(sl.TokenID)
					tt.Count++
					tt.Gross += sl.Total
				case t.Before(lwEnd):
					out.LastWeekWholeDay.Count++
					out.LastWeekWholeDay.Gross += sl.Total
					out.LastWeekWholeDay.Tax += sl.TaxTotal
					if !t.After(lwTo) {
						out.LastWeek.Count++
						out.LastWeek.Gross += sl.Total
						out.LastWeek.Tax += sl.TaxTotal
					}
				}
			}
			if next == "" {
				break
			}
			cursor = next
		}
		// Refunds newest first, back to the start of last week's day.
		cursor = ""
	refunds:
		for {
			rets, next, err := tx.ListReturns(a.BusinessID, ReturnFilter{Cursor: cursor, Limit: 500, Newest: true})
			if err != nil {
				return err
			}
			for _, r := range rets {
				t := r.CreatedAt
				if t.Before(lwFrom) {
					break refunds
				}
				if locationID != "" && r.LocationID != locationID {
					continue
				}
				switch {
				case !t.Before(from):
					out.Sales.Refunds += r.Total
					out.Sales.RefundCount++
					till(r.TokenID).Refunds += r.Total
				case t.Before(lwEnd):
					out.LastWeekWholeDay.Refunds += r.Total
					out.LastWeekWholeDay.RefundCount++
					if !t.After(lwTo) {
						out.LastWeek.Refunds += r.Total
						out.LastWeek.RefundCount++
					}
				}
			}
			if next == "" {
				break
			}
			cursor = next
		}
		for _, f := range []*DayFigures{&out.Sales, out.LastWeek, out.LastWeekWholeDay} {
			f.Net = f.Gross - f.Refunds
		}
		toks, err := tx.Tokens(a.BusinessID)
		if err != nil {
			return err
		}
		names := map[string]string{}
		for _, t := range toks {
			names[t.ID] = t.Name
		}
		for id, t := range tills {
			t.Net = t.Gross - t.Refunds
			if t.Name = names[id]; t.Name == "" {
				t.Name = "a removed till"
			}
			out.ByTill = append(out.ByTill, *t)
		}
		sort.Slice(out.ByTill, func(i, j int) bool { return out.ByTill[i].Net > out.ByTill[j].Net })
		for _, m := range methods {
			out.ByMethod = append(out.ByMethod, *m)
		}
		sort.Slice(out.ByMethod, func(i, j int) bool { return out.ByMethod[i].Amount > out.ByMethod[j].Amount })
		out.NegativeStock, err = negativeStock(tx, a.BusinessID, locationID)
		return err
	})
	return out, err
}

// negativeStock lists the products below zero at one location, or at all.
func negativeStock(tx Tx, business, locationID string) ([]NegativeStock, error) {
	locs := []string{locationID}
	if locationID == "" {
		ls, err := tx.Locations(business)
		if err != nil {
			return nil, err
		}
		locs = locs[:0]
		for _, l := range ls {
			locs = append(locs, l.ID)
		}
	}
	out := []NegativeStock{}
	for _, l := range locs {
		levels, err := tx.StockAt(business, l)
		if err != nil {
			return nil, err
		}
		for _, lv := range levels {
			if lv.Quantity >= 0 {
				continue
			}
			n := NegativeStock{LocationID: l, ProductID: lv.ProductID, Quantity: lv.Quantity}
			if p, err := tx.Product(business, lv.ProductID); err == nil {
				n.SKU, n.Name = p.SKU, p.Name
			}
			out = append(out, n)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Quantity < out[j].Quantity })
	return out, nil
}
