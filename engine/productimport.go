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
// run, would do) and every bad row. The report of an import that wrote is
// kept (ImportTx) as the import's document, so that a retry with its key
// is answered with it, byte for byte, however late.
type ImportReport struct {
	ID         string `json:"id,omitempty"`
	BusinessID string `json:"-"`
	DryRun     bool   `json:"dryRun"`
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

// ImportTx is what a Store's transactions offer to keep the reports of
// imports that wrote. An import's answer is its report, which no other
// document holds, so it is kept as a document of its own (a few hundred
// bytes per import, forever, like other documents): the idempotency record
// points at it (KindImport), and a replay after the answer TTL is that
// report.
type ImportTx interface {
	// ProductImport returns the report of an import of a business by ID.
	ProductImport(business, id string) (*ImportReport, error)
	// PutProductImport stores a report under its business and ID.
	PutProductImport(r *ImportReport) error
}

func importTx(tx Tx) (ImportTx, error) {
	i, ok := tx.(ImportTx)
	if !ok {
		return nil, Errorf(EINTERNAL, "the store's transactions (%T) do not keep product imports", tx)
	}
	return i, nil
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
// A file with any bad row writes nothing. An import that writes is an
// idempotent write like any other, recorded with its key; a dry run and a
// refused file write nothing, so they are answered (not replayed: there is
// nothing to replay) without looking at the key.
func (s *Service) ImportProducts(ctx context.Context, a *Actor, key IdempotencyKey, in ImportRequest) (*Outcome[*ImportReport], error) {
	if err := a.Can(PermManage); err != nil {
		return nil, err
	}
	if key == "" {
		return nil, ErrIdempotencyMissing
	}
	if len(in.Rows) > importMaxRows {
		return nil, &Error{Code: ETOOLARGE, Message: fmt.Sprintf("the file has %d rows; import at most %d at a time", len(in.Rows), importMaxRows)}
	}
	if in.Part != nil && (in.Part.From < 0 || in.Part.Count < 1 || in.Part.Count > 5000 || in.Part.From >= max(len(in.Rows), 1)) {
		return nil, fieldErr("part", "must have from (0 to %d) and count (1 to 5000)", max(len(in.Rows)-1, 0))
	}
	var biz *Business
	if err := s.store.View(ctx, func(tx Tx) error {
		var err error
		biz, err = tx.Business(a.BusinessID)
		return err
	}); err != nil {
		return nil, err
	}
	rows, bad := checkRows(in.Rows, biz.Currency, in.DecimalComma)
	problems := append(append([]ImportError{}, in.Errors...), bad...)
	if len(in.Rows) == 0 && len(problems) == 0 {
		problems = append(problems, ImportError{Line: 2, Reason: "the file has no product rows under its header"})
	}
	// apply counts (and, if write, makes) what the rows change, in a new
	// report: a store may run it twice, and each run starts from nothing.
	apply := func(tx Tx, now time.Time, write bool) (*ImportReport, error) {
		rep := &ImportReport{BusinessID: a.BusinessID, DryRun: in.DryRun, Rows: len(in.Rows), Errors: problems, Part: in.Part, Separator: in.Separator}
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
						return nil, err
					}
				}
				continue
			} else if err != nil {
				return nil, err
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
					return nil, err
				}
			}
		}
		return rep, nil
	}
	if in.DryRun || len(problems) > 0 {
		// Nothing is written: a dry run says what would happen, a bad file
		// is refused whole. Neither is recorded; both answer 200.
		var rep *ImportReport
		err := s.store.View(ctx, func(tx Tx) error {
			var err error
			rep, err = apply(tx, s.now(), false)
			return err
		})
		if err != nil {
			return nil, err
		}
		return &Outcome[*ImportReport]{Doc: rep, Version: AnswerVersion}, nil
	}
	hashed := struct {
		Rows []ProductRow
		Part *ImportPart
		DC   bool
	}{in.Rows, in.Part, in.DecimalComma}
	return write(s, ctx, a, key, opImportProducts, "", hashed, func(tx Tx, now time.Time) (*ImportReport, DocRef, error) {
		itx, err := importTx(tx)
		if err != nil {
			return nil, DocRef{}, err
		}
		rep, err := apply(tx, now, true)
		if err != nil {
			return nil, DocRef{}, err
		}
		rep.ID, rep.Imported = NewID(now), true
		if err := itx.PutProductImport(rep); err != nil {
			return nil, DocRef{}, err
		}
		return rep, DocRef{Kind: KindImport, ID: rep.ID}, nil
	})
}
