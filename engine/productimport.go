package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// A product import upserts products by SKU from rows of a file (the API
// reads the CSV; the rules are here). A file with any bad row is refused
// as a whole, with every bad row listed by line and reason; a dry run says
// what would happen and writes nothing; importing the same file again
// changes nothing ("0 created, 0 changed").

// ProductRow is one data row of an import, its fields as text.
type ProductRow struct {
	// Line is the row's line in the file (the header is line 1).
	Line     int
	SKU      string
	Name     string
	Price    string
	TaxRate  string
	Archived string
	// HasTaxRate and HasArchived say whether the file has those columns:
	// without the column, an existing product keeps its value.
	HasTaxRate, HasArchived bool
}

// ImportError is one problem of a file: its line, column and what is wrong.
type ImportError struct {
	Line   int    `json:"line"`
	Field  string `json:"field,omitempty"`
	Reason string `json:"reason"`
}

// ImportPart applies only some rows of a file (From, 0-based among the
// data rows, and Count): a large file is imported in parts, each its own
// request with its own key, so the office can show progress. Every part
// still checks the whole file.
type ImportPart struct {
	From  int `json:"from"`
	Count int `json:"count"`
}

// ImportRequest is an import as the API hands it over.
type ImportRequest struct {
	Rows []ProductRow
	// Errors are the file's problems the reader found (bad header, quotes,
	// columns); they refuse the file like bad values do.
	Errors       []ImportError
	DecimalComma bool
	DryRun       bool
	Part         *ImportPart
	// Separator is reported back: "," or ";".
	Separator string
}

// ImportReport is the answer to an import: what it did (or, for a dry
// run, would do) and every bad row.
type ImportReport struct {
	ID     string `json:"id,omitempty"`
	DryRun bool   `json:"dryRun"`
	// Imported is true when the rows were written: not for a dry run, nor
	// for a file with any error (then nothing is).
	Imported  bool          `json:"imported"`
	Rows      int           `json:"rows"`
	Created   int           `json:"created"`
	Changed   int           `json:"changed"`
	Unchanged int           `json:"unchanged"`
	Errors    []ImportError `json:"errors"`
	Part      *ImportPart   `json:"part,omitempty"`
	Separator string        `json:"separator"`
}

// ImportTx is what a Store's transactions offer to remember imports by
// key: an import's answer is its report, which no document holds, so its
// record is kept by itself (forever: a few bytes per import), and a retry
// gets the first answer byte for byte.
type ImportTx interface {
	ProductImport(business, key string) (hash, answer []byte, err error)
	PutProductImport(business, key string, hash, answer []byte) error
}

// importMaxRows bounds the rows of one file.
const importMaxRows = 50000

type importRow struct {
	line     int
	sku      string
	name     string
	price    Money
	rate     *TaxRate
	archived *bool
}

func yesNo(s string) (*bool, bool) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "":
		return nil, true
	case "yes", "y", "true", "1", "x", "archived", "ja", "oui", "si", "sí":
		t := true
		return &t, true
	case "no", "n", "false", "0", "active", "nein", "non":
		f := false
		return &f, true
	}
	return nil, false
}

// checkRows parses every row's values and finds duplicate SKUs.
func checkRows(rows []ProductRow, currency string, decimalComma bool) ([]importRow, []ImportError) {
	var out []importRow
	var bad []ImportError
	seen := map[string]int{}
	example := "12.50"
	if MinorDigits(currency) == 0 {
		example = "1250"
	}
	for _, r := range rows {
		x := importRow{line: r.Line, sku: strings.TrimSpace(r.SKU), name: strings.TrimSpace(r.Name)}
		ok := true
		fail := func(field, format string, a ...any) {
			bad = append(bad, ImportError{Line: r.Line, Field: field, Reason: fmt.Sprintf(format, a...)})
			ok = false
		}
		if x.sku == "" {
			fail("sku", "the SKU is missing")
		} else if err := checkSKU(x.sku); err != nil {
			fail("sku", "the SKU %s", strings.TrimPrefix(ErrorMessage(err), "sku "))
		} else if first, dup := seen[x.sku]; dup {
			fail("sku", "the SKU %q is also on line %d; each product once", x.sku, first)
		} else {
			seen[x.sku] = r.Line
		}
		if x.name == "" {
			fail("name", "the name is missing")
		} else if err := checkText(x.name, "name", 1, 200); err != nil {
			fail("name", "the name %s", strings.TrimPrefix(ErrorMessage(err), "name "))
		}
		if p, okp := ParseDecimal(r.Price, currency, decimalComma); !okp {
			if strings.TrimSpace(r.Price) == "" {
				fail("price", "the price is missing; write it like %s (tax included)", example)
			} else {
				fail("price", "the price %q is not an amount like %s: a dot before the cents, no currency sign, no thousands separator", r.Price, example)
			}
		} else {
			x.price = p
		}
		if t := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(r.TaxRate), "%")); t != "" {
			if decimalComma {
				t = strings.Replace(t, ",", ".", 1)
			}
			rate, err := parseTaxRate(json.RawMessage(t), "taxRate")
			if err != nil || !validJSONNumber(t) {
				fail("taxRate", "the tax rate %q is unknown: write a percentage such as 20 or 7.7 (0 for none)", r.TaxRate)
			} else {
				x.rate = &rate
			}
		} else if r.HasTaxRate {
			zero := TaxRate(0)
			x.rate = &zero
		}
		if r.HasArchived {
			a, oka := yesNo(r.Archived)
			if !oka {
				fail("archived", "archived %q must be yes or no (empty: no)", r.Archived)
			}
			if a == nil {
				f := false
				a = &f
			}
			x.archived = a
		}
		if ok {
			out = append(out, x)
		}
	}
	return out, bad
}

// validJSONNumber keeps parseTaxRate from reading text that is not a
// number, such as "20abc".
func validJSONNumber(s string) bool {
	var v json.Number
	return json.Unmarshal([]byte(s), &v) == nil
}

// ImportProducts checks a file and, unless it is a dry run, upserts its
// rows (or a part of them) by SKU in one transaction (owner or manager).
// A file with any bad row writes nothing.
func (s *Service) ImportProducts(ctx context.Context, a *Actor, key IdempotencyKey, in ImportRequest) (*ImportReport, []byte, bool, error) {
	if err := a.Can(PermManage); err != nil {
		return nil, nil, false, err
	}
	if key == "" {
		return nil, nil, false, ErrIdempotencyMissing
	}
	if len(in.Rows) > importMaxRows {
		return nil, nil, false, &Error{Code: ETOOLARGE, Message: fmt.Sprintf("the file has %d rows; import at most %d at a time", len(in.Rows), importMaxRows)}
	}
	rep := &ImportReport{DryRun: in.DryRun, Rows: len(in.Rows), Errors: append([]ImportError{}, in.Errors...), Part: in.Part, Separator: in.Separator}
	if in.Part != nil && (in.Part.From < 0 || in.Part.Count < 1 || in.Part.Count > 5000 || in.Part.From >= max(len(in.Rows), 1)) {
		return nil, nil, false, fieldErr("part", "must have from (0 to %d) and count (1 to 5000)", max(len(in.Rows)-1, 0))
	}
	var biz *Business
	if err := s.store.View(ctx, func(tx Tx) error {
		var err error
		biz, err = tx.Business(a.BusinessID)
		return err
	}); err != nil {
		return nil, nil, false, err
	}
	rows, bad := checkRows(in.Rows, biz.Currency, in.DecimalComma)
	rep.Errors = append(rep.Errors, bad...)
	if len(in.Rows) == 0 && len(rep.Errors) == 0 {
		rep.Errors = append(rep.Errors, ImportError{Line: 2, Reason: "the file has no product rows under its header"})
	}
	// apply counts (and, writing, makes) what the rows change.
	apply := func(tx Tx, now time.Time, write bool) error {
		rep.Created, rep.Changed, rep.Unchanged = 0, 0, 0
		from, to := 0, len(rows)
		if in.Part != nil {
			from, to = in.Part.From, min(in.Part.From+in.Part.Count, len(rows))
		}
		for _, r := range rows[from:to] {
			p, err := tx.ProductBySKU(a.BusinessID, r.sku)
			if IsNotFound(err) {
				rep.Created++
				if write {
					np := &Product{ID: NewID(now), SKU: r.sku, Name: r.name, Price: r.price, CreatedAt: now, UpdatedAt: now, BusinessID: a.BusinessID}
					if r.rate != nil {
						np.TaxRate = *r.rate
					}
					if r.archived != nil {
						np.Archived = *r.archived
					}
					if err := tx.PutProduct(np); err != nil {
						return err
					}
				}
				continue
			} else if err != nil {
				return err
			}
			changed := p.Name != r.name || p.Price != r.price || (r.rate != nil && p.TaxRate != *r.rate) || (r.archived != nil && p.Archived != *r.archived)
			if !changed {
				rep.Unchanged++
				continue
			}
			rep.Changed++
			if write {
				p.Name, p.Price, p.UpdatedAt = r.name, r.price, now
				if r.rate != nil {
					p.TaxRate = *r.rate
				}
				if r.archived != nil {
					p.Archived = *r.archived
				}
				if err := tx.PutProduct(p); err != nil {
					return err
				}
			}
		}
		return nil
	}
	if in.DryRun || len(rep.Errors) > 0 {
		// Nothing is written: a dry run says what would happen, a bad file
		// is refused whole. Neither is recorded; both answer 200.
		err := s.store.View(ctx, func(tx Tx) error { return apply(tx, s.now(), false) })
		return rep, nil, false, err
	}
	hash := requestHash("product.import", "", struct {
		Rows []ProductRow
		Part *ImportPart
		DC   bool
	}{in.Rows, in.Part, in.DecimalComma})
	var answer []byte
	replayed := false
	err := s.store.Update(ctx, func(tx Tx) error {
		itx, ok := tx.(ImportTx)
		if !ok {
			return Errorf(EINTERNAL, "the store's transactions (%T) do not record imports", tx)
		}
		h, b, err := itx.ProductImport(a.BusinessID, string(key))
		if err == nil {
			if string(h) != string(hash) {
				return ErrIdempotencyReused
			}
			answer, replayed = b, true
			return nil
		} else if !IsNotFound(err) {
			return err
		}
		now := s.now()
		if err := apply(tx, now, true); err != nil {
			return err
		}
		rep.ID, rep.Imported = NewID(now), true
		answer = mustJSON(rep)
		return itx.PutProductImport(a.BusinessID, string(key), hash, answer)
	})
	if err != nil {
		return nil, nil, false, err
	}
	return nil, answer, replayed, nil
}
