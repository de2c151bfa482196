package api

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strings"

	"posd/engine"
)

// The product CSV: a header row and one product per row, in the columns
// sku, name, price, taxRate and archived (the last two optional). posd
// reads and writes it with encoding/csv, so quotes, commas in names and
// line breaks inside quotes are handled as spreadsheets write them.
//
// What the reader accepts, for files made by hand or by Excel: a UTF-8
// byte order mark (Excel's "CSV UTF-8"); commas or semicolons between
// fields (Excel writes semicolons where the decimal mark is a comma), told
// apart by the header row; in a semicolon file, prices with a decimal
// comma (12,50), since that is how those spreadsheets write them; header
// names in any case, with or without spaces, dashes or underscores
// ("Tax rate", "tax_rate"). Prices never carry a currency sign or a
// thousands separator. The export writes what the import reads: commas,
// dots, UTF-8 without a byte order mark.

// productColumns are the CSV's columns, in the export's order.
var productColumns = []string{"sku", "name", "price", "taxRate", "archived"}

// columnOf maps a header name, lower case without spaces, dashes and
// underscores, to its column.
var columnOf = map[string]string{
	"sku": "sku", "barcode": "sku", "ean": "sku",
	"name": "name", "product": "name",
	"price":   "price",
	"taxrate": "taxRate", "tax": "taxRate", "vat": "taxRate", "vatrate": "taxRate", "taxrate%": "taxRate",
	"archived": "archived",
}

// maxImportErrors bounds the problems one report lists.
const maxImportErrors = 500

// parseProductCSV reads a product file into rows; the problems of its
// form (header, quotes, columns) are returned with their lines.
func parseProductCSV(text string) (rows []engine.ProductRow, problems []engine.ImportError, sep string) {
	text = strings.TrimPrefix(text, "\ufeff")
	head, _, _ := strings.Cut(text, "\n")
	sep = ","
	if strings.Count(head, ";") > strings.Count(head, ",") {
		sep = ";"
	}
	r := csv.NewReader(strings.NewReader(text))
	r.Comma = rune(sep[0])
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	header, err := r.Read()
	if err == io.EOF {
		return nil, []engine.ImportError{{Line: 1, Reason: "the file is empty; the first row must name the columns: sku,name,price,taxRate"}}, sep
	}
	if err != nil {
		return nil, []engine.ImportError{csvProblem(err)}, sep
	}
	idx := map[string]int{}
	for i, h := range header {
		n := strings.NewReplacer(" ", "", "_", "", "-", "").Replace(strings.ToLower(strings.TrimSpace(h)))
		col, ok := columnOf[n]
		switch {
		case n == "":
			continue
		case !ok:
			problems = append(problems, engine.ImportError{Line: 1, Field: h, Reason: fmt.Sprintf("unknown column %q; the columns are sku, name, price, taxRate and archived", h)})
		default:
			if _, dup := idx[col]; dup {
				problems = append(problems, engine.ImportError{Line: 1, Field: h, Reason: fmt.Sprintf("the column %s appears twice", col)})
			}
			idx[col] = i
		}
	}
	for _, need := range []string{"sku", "name", "price"} {
		if _, ok := idx[need]; !ok {
			problems = append(problems, engine.ImportError{Line: 1, Field: need, Reason: fmt.Sprintf("the header has no %s column; the first row must name the columns: sku,name,price,taxRate", need)})
		}
	}
	if len(problems) > 0 {
		return nil, problems, sep
	}
	_, hasTax := idx["taxRate"]
	_, hasArch := idx["archived"]
	get := func(rec []string, col string) string {
		if i, ok := idx[col]; ok && i < len(rec) {
			return rec[i]
		}
		return ""
	}
	for len(problems) < maxImportErrors {
		rec, err := r.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			problems = append(problems, csvProblem(err))
			var pe *csv.ParseError
			if errors.As(err, &pe) && pe.Err == csv.ErrFieldCount {
				continue
			}
			if !errors.As(err, &pe) {
				break
			}
			continue
		}
		line, _ := r.FieldPos(0)
		if len(rec) != len(header) {
			if len(rec) == 1 && strings.TrimSpace(rec[0]) == "" {
				continue // a line of spaces
			}
			problems = append(problems, engine.ImportError{Line: line, Reason: fmt.Sprintf("the row has %d columns, the header %d (is a name with a %q not in quotes?)", len(rec), len(header), sep)})
			continue
		}
		rows = append(rows, engine.ProductRow{Line: line, SKU: uncell(get(rec, "sku")), Name: uncell(get(rec, "name")), Price: get(rec, "price"),
			TaxRate: get(rec, "taxRate"), Archived: get(rec, "archived"), HasTaxRate: hasTax, HasArchived: hasArch})
	}
	return rows, problems, sep
}

// cell guards a text for spreadsheets: one that starts with = + - @ would
// be run as a formula when the file is opened, so it gets a leading
// apostrophe, which spreadsheets hide and the import takes off again.
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// uncell undoes cell.
func uncell(s string) string {
	if len(s) > 1 && s[0] == '\'' && strings.ContainsRune("=+-@\t\r", rune(s[1])) {
		return s[1:]
	}
	return s
}

func csvProblem(err error) engine.ImportError {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		reason := "the row cannot be read: " + pe.Err.Error()
		if errors.Is(pe.Err, csv.ErrQuote) || errors.Is(pe.Err, csv.ErrBareQuote) {
			reason = "a quote (\") is out of place: put the whole field in quotes and double the quotes inside it"
		}
		return engine.ImportError{Line: pe.StartLine, Reason: reason}
	}
	return engine.ImportError{Line: 1, Reason: "the file cannot be read: " + err.Error()}
}

// ImportInput is the body of POST /api/products/import.
type ImportInput struct {
	CSV    string             `json:"csv"`
	DryRun bool               `json:"dryRun,omitempty"`
	Part   *engine.ImportPart `json:"part,omitempty"`
}

// importProducts checks (dryRun) or imports a product CSV file. The answer
// is a report, 200 either way; a file with any bad row is not imported
// ("imported": false, every problem in "errors"). An import that wrote is
// recorded with its key and replayed byte for byte; a dry run or a refused
// file wrote nothing and is answered afresh each time.
func importProducts(s *Server, w http.ResponseWriter, r *http.Request, a *engine.Actor) {
	key, in, err := readWrite[ImportInput](r, reports)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	rows, problems, sep := parseProductCSV(in.CSV)
	out, err := s.svc.ImportProducts(r.Context(), a, key, engine.ImportRequest{Rows: rows, Errors: problems,
		DecimalComma: sep == ";", DryRun: in.DryRun, Part: in.Part, Separator: sep})
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	wrote := out.Replayed || out.Doc.Imported
	if !wrote && len(out.Doc.Errors) > maxImportErrors {
		out.Doc.Errors = out.Doc.Errors[:maxImportErrors]
	}
	s.answerWrite(w, r, reports, out.Doc, out.Replayed, out.Current, out.Version, wrote)
}

// exportProducts writes every product, archived ones too, in the columns
// the import reads.
func exportProducts(s *Server, w http.ResponseWriter, r *http.Request, a *engine.Actor) {
	b, err := s.svc.Business(r.Context(), a)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ps, err := s.svc.Products(r.Context(), a, true)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	sort.Slice(ps, func(i, j int) bool { return ps[i].SKU < ps[j].SKU })
	var buf bytes.Buffer
	cw := csv.NewWriter(&buf)
	cw.Write(productColumns)
	for _, p := range ps {
		rate, _ := p.TaxRate.MarshalJSON()
		arch := "no"
		if p.Archived {
			arch = "yes"
		}
		cw.Write([]string{cell(p.SKU), cell(p.Name), engine.FormatDecimal(p.Price, b.Currency), string(rate), arch})
	}
	cw.Flush()
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="products.csv"`)
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	w.Write(buf.Bytes())
}
