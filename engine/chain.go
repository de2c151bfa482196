package engine

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"time"
	"unicode/utf8"
)

// Every numbered document (a sale's INV, a refund's RET, an approved
// receipt's RCV, a sent transfer's TRF; Z reports later) is a link of a hash
// chain, one chain per series, so that changing, removing or reordering a
// document afterwards can be seen: its stored hash no longer matches its
// values, or the next document no longer chains to it. The link is made in
// the document's own commit, through the Store's Tx, so that every backend
// gets the same chain.
//
// # The link
//
// A document carries Hash and PreviousHash, lowercase hex SHA-256. Hash is
// the SHA-256 of the document's canonical form (below), which contains
// PreviousHash. PreviousHash is
//
//   - the Hash of the document numbered one lower in the same series;
//   - for the first document of a series (number 1), the Hash of the last
//     document of the same kind's previous series: the greatest series of
//     the same prefix whose name sorts before this one, that is the latest
//     earlier month with documents of that kind (INV-202611-0001 chains to
//     INV-202610's last sale, or to INV-202608's if September had none);
//   - GenesisHash (64 zeros) when there is no such series: the business's
//     first document of that kind.
//
// Each series' head (its last number and that document's hash) is kept by
// the Store (Tx.ChainHead, Tx.SetChainHead), so a commit reads one small
// record instead of the previous document.
//
// # The canonical form, version 1
//
// The canonical form is the JSON text of one object written as RFC 8785 (the
// JSON Canonicalization Scheme) writes it: no white space, keys in ascending
// byte order, strings in UTF-8 with only '"', '\\' and the control
// characters U+0000-U+001F escaped (\b \t \n \f \r, otherwise \u00xx with
// lowercase hex), integers in plain decimal. posd writes only strings,
// integers, booleans, arrays and objects, so any RFC 8785 library
// reproduces the bytes from the same values (testdata/chain holds vectors).
// Money is an integer in the currency's minor unit; quantities and tax rates
// are strings in the API's decimal form ("0.25", "2", "7.7"); times are UTC,
// RFC 3339 with exactly three fractional digits ("2026-11-15T12:00:00.000Z":
// the engine keeps milliseconds, and every backend stores them). Optional
// keys are left out when their value is empty, so a key added to a later
// document does not change the hash of an earlier one.
//
// Every form has "v" (the version, 1), "kind" (the prefix: "INV", "RET",
// "RCV", "TRF"), "business" (the business ID), "id" (the document ID),
// "number" (the document number) and "previousHash". Besides:
// (the till is the token: tokenId)
//
//	INV  createdAt, locationId, tokenId (the till's token), currency,
//	     lines [{productId, sku, name, quantity, unitPrice, taxRate,
//	     lineTotal, taxAmount}] in the sale's order, payments [{method,
//	     amount}] in the sale's order, total, taxTotal, paid, change.
//	     Optional (left out when the sale has none): cashierId, soldAt.
//	RET  createdAt, locationId, tokenId, currency, refundOf {id, number,
//	     hash} (the sale), restock, lines [{productId, sku, name, quantity,
//	     unitPrice, taxRate, lineTotal, taxAmount}], total, taxTotal.
//	     Optional: cashierId, soldAt, method (how the money went back).
//	Z    a Z report's figures, coverage and series heads (zreport_chain.go).
//	RCV  createdAt, approvedAt, locationId, supplier, lines [{productId,
//	     quantity, unitCost, lineTotal}], total.
//	TRF  createdAt, sentAt, fromLocationId, toLocationId, lines
//	     [{productId, quantity}].
//
// Only values fixed when the document is numbered are hashed: a sale's
// refunded quantities and its list of refunds, a transfer's receivedAt and
// every status change later are not, so a sale's hash stays valid after its
// refunds (each refund is a chained document of its own, and names the
// sale's hash). A Z report is one more kind ("Z") with its own form, in one
// series per location that never resets and starts at GenesisHash
// (zreport_chain.go).
//
// A change to the form is a new version: documents keep the version they
// were hashed with ("v" is inside the hashed bytes), and verification
// recomputes each document with its own version's form.

// ChainVersion is the version of the canonical form new documents are hashed
// with.
const ChainVersion = 1

// GenesisHash is what the first document of a kind in a business chains to.
const GenesisHash = "0000000000000000000000000000000000000000000000000000000000000000"

// ChainLink is a numbered document's place in its series' hash chain. It is
// empty on a document that is not numbered (a draft), and on one made
// before the database had chains until posd upgrades it.
type ChainLink struct {
	// Hash is the SHA-256 of the document's canonical form, which
	// includes PreviousHash.
	Hash string `json:"hash,omitempty"`
	// PreviousHash is the hash of the document before it in the chain.
	PreviousHash string `json:"previousHash,omitempty"`
}

// ChainHead is the last link of a series, what its next document chains to.
// The zero value is a series with no chained document.
type ChainHead struct {
	Number uint64 `json:"number"`
	Hash   string `json:"hash"`
}

// Anchor is a series' head as it was recorded outside the chain: in an
// export's manifest, on a printed or mailed Z report. A chain rewritten
// after the anchor was taken (a changed document whose whole tail was
// hashed again) passes every check the chain can make on itself; only the
// anchor, kept where the rewriter could not reach it, tells.
type Anchor struct {
	BusinessID string `json:"businessId"`
	Series     Series `json:"series"`
	Number     uint64 `json:"number"`
	Hash       string `json:"hash"`
	// Source says where the anchor came from, for the finding that names
	// it ("export manifest /mnt/usb/2026-11/manifest.json").
	Source string `json:"source"`
}

// chained is what the chain needs of a numbered document.
type chained interface {
	// chainNumber is the document's number, "" if it has none.
	chainNumber() string
	chainLink() *ChainLink
	// appendCanonical appends the canonical form of the document's values
	// and its PreviousHash, in the version v.
	appendCanonical(b []byte, v int) []byte
}

// chainHash returns the hash of d's canonical form, over d's PreviousHash.
// The calls are made on the concrete types so that the form is built in a
// buffer on the stack: a sale is hashed on the single writer.
func chainHash(d chained) string {
	var buf [1536]byte
	var form []byte
	switch d := d.(type) {
	case *Sale:
		form = d.appendCanonical(buf[:0], ChainVersion)
	case *Return:
		form = d.appendCanonical(buf[:0], ChainVersion)
	case *Receipt:
		form = d.appendCanonical(buf[:0], ChainVersion)
	case *Transfer:
		form = d.appendCanonical(buf[:0], ChainVersion)
	default:
		form = d.appendCanonical(nil, ChainVersion)
	}
	sum := sha256.Sum256(form)
	var h [64]byte
	hex.Encode(h[:], sum[:])
	return string(h[:])
}

// CanonicalForm returns the bytes a numbered document's hash is taken over:
// for auditors and tests. d is a *Sale, *Return, *Receipt, *Transfer or
// *ZReport.
func CanonicalForm(d any) ([]byte, bool) {
	c, ok := d.(chained)
	if !ok {
		return nil, false
	}
	return c.appendCanonical(nil, ChainVersion), true
}

// ComputeHash returns the hash a numbered document's values and its
// PreviousHash give; verification compares it with the stored Hash.
func ComputeHash(d any) (string, bool) {
	c, ok := d.(chained)
	if !ok {
		return "", false
	}
	return chainHash(c), true
}

func (s *Sale) chainNumber() string     { return s.InvoiceNumber }
func (s *Sale) chainLink() *ChainLink   { return &s.ChainLink }
func (r *Return) chainNumber() string   { return r.ReturnNumber }
func (r *Return) chainLink() *ChainLink { return &r.ChainLink }
func (r *Receipt) chainNumber() string {
	if r.ReceiptNumber == nil {
		return ""
	}
	return *r.ReceiptNumber
}
func (r *Receipt) chainLink() *ChainLink { return &r.ChainLink }
func (t *Transfer) chainNumber() string {
	if t.TransferNumber == nil {
		return ""
	}
	return *t.TransferNumber
}
func (t *Transfer) chainLink() *ChainLink { return &t.ChainLink }

// The canonical forms. Keys are written in ascending byte order by hand (a
// sale is hashed on the single writer, so no sorting at run time);
// TestCanonicalFormIsRFC8785 re-sorts and re-encodes every form with a
// generic encoder and requires the same bytes.

func (s *Sale) appendCanonical(b []byte, _ int) []byte {
	b = append(b, `{"business":`...)
	b = appendCanonString(b, s.BusinessID)
	if s.CashierID != nil {
		b = append(b, `,"cashierId":`...)
		b = appendCanonString(b, *s.CashierID)
	}
	b = append(b, `,"change":`...)
	b = strconv.AppendInt(b, int64(s.Change), 10)
	b = append(b, `,"createdAt":`...)
	b = appendCanonTime(b, s.CreatedAt)
	b = append(b, `,"currency":`...)
	b = appendCanonString(b, s.Currency)
	b = append(b, `,"id":`...)
	b = appendCanonString(b, s.ID)
	b = append(b, `,"kind":"INV","lines":[`...)
	for i := range s.Items {
		l := &s.Items[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = appendCanonLine(b, l.LineTotal, l.Name, l.ProductID, l.Quantity, l.SKU, l.TaxAmount, l.TaxRate, l.UnitPrice)
	}
	b = append(b, `],"locationId":`...)
	b = appendCanonString(b, s.LocationID)
	b = append(b, `,"number":`...)
	b = appendCanonString(b, s.InvoiceNumber)
	b = append(b, `,"paid":`...)
	b = strconv.AppendInt(b, int64(s.Paid), 10)
	b = append(b, `,"payments":[`...)
	for i, p := range s.Payments {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"amount":`...)
		b = strconv.AppendInt(b, int64(p.Amount), 10)
		b = append(b, `,"method":`...)
		b = appendCanonString(b, p.Method)
		b = append(b, '}')
	}
	b = append(b, `],"previousHash":`...)
	b = appendCanonString(b, s.PreviousHash)
	if s.SoldAt != nil {
		b = append(b, `,"soldAt":`...)
		b = appendCanonTime(b, *s.SoldAt)
	}
	b = append(b, `,"taxTotal":`...)
	b = strconv.AppendInt(b, int64(s.TaxTotal), 10)
	b = append(b, `,"tokenId":`...)
	b = appendCanonString(b, s.TokenID)
	b = append(b, `,"total":`...)
	b = strconv.AppendInt(b, int64(s.Total), 10)
	return append(b, `,"v":1}`...)
}

// appendCanonLine writes a sale's or a refund's line; the arguments are in
// key order.
func appendCanonLine(b []byte, lineTotal Money, name, productID string, q Quantity, sku string, tax Money, rate TaxRate, unitPrice Money) []byte {
	b = append(b, `{"lineTotal":`...)
	b = strconv.AppendInt(b, int64(lineTotal), 10)
	b = append(b, `,"name":`...)
	b = appendCanonString(b, name)
	b = append(b, `,"productId":`...)
	b = appendCanonString(b, productID)
	b = append(b, `,"quantity":"`...)
	b = q.Append(b)
	b = append(b, `","sku":`...)
	b = appendCanonString(b, sku)
	b = append(b, `,"taxAmount":`...)
	b = strconv.AppendInt(b, int64(tax), 10)
	b = append(b, `,"taxRate":"`...)
	b = rate.Append(b)
	b = append(b, `","unitPrice":`...)
	b = strconv.AppendInt(b, int64(unitPrice), 10)
	return append(b, '}')
}

func (r *Return) appendCanonical(b []byte, _ int) []byte {
	b = append(b, `{"business":`...)
	b = appendCanonString(b, r.BusinessID)
	if r.CashierID != nil {
		b = append(b, `,"cashierId":`...)
		b = appendCanonString(b, *r.CashierID)
	}
	b = append(b, `,"createdAt":`...)
	b = appendCanonTime(b, r.CreatedAt)
	b = append(b, `,"currency":`...)
	b = appendCanonString(b, r.Currency)
	b = append(b, `,"id":`...)
	b = appendCanonString(b, r.ID)
	b = append(b, `,"kind":"RET","lines":[`...)
	for i := range r.Items {
		l := &r.Items[i]
		if i > 0 {
			b = append(b, ',')
		}
		b = appendCanonLine(b, l.LineTotal, l.Name, l.ProductID, l.Quantity, l.SKU, l.TaxAmount, l.TaxRate, l.UnitPrice)
	}
	b = append(b, `],"locationId":`...)
	b = appendCanonString(b, r.LocationID)
	if r.Method != "" {
		b = append(b, `,"method":`...)
		b = appendCanonString(b, r.Method)
	}
	b = append(b, `,"number":`...)
	b = appendCanonString(b, r.ReturnNumber)
	b = append(b, `,"previousHash":`...)
	b = appendCanonString(b, r.PreviousHash)
	b = append(b, `,"refundOf":{"hash":`...)
	b = appendCanonString(b, r.SaleHash)
	b = append(b, `,"id":`...)
	b = appendCanonString(b, r.SaleID)
	b = append(b, `,"number":`...)
	b = appendCanonString(b, r.SaleNumber)
	b = append(b, `},"restock":`...)
	b = strconv.AppendBool(b, r.Restock)
	if r.SoldAt != nil {
		b = append(b, `,"soldAt":`...)
		b = appendCanonTime(b, *r.SoldAt)
	}
	b = append(b, `,"taxTotal":`...)
	b = strconv.AppendInt(b, int64(r.TaxTotal), 10)
	b = append(b, `,"tokenId":`...)
	b = appendCanonString(b, r.TokenID)
	b = append(b, `,"total":`...)
	b = strconv.AppendInt(b, int64(r.Total), 10)
	return append(b, `,"v":1}`...)
}

func (r *Receipt) appendCanonical(b []byte, _ int) []byte {
	b = append(b, `{"approvedAt":`...)
	if r.ApprovedAt != nil {
		b = appendCanonTime(b, *r.ApprovedAt)
	} else {
		b = append(b, `""`...)
	}
	b = append(b, `,"business":`...)
	b = appendCanonString(b, r.BusinessID)
	b = append(b, `,"createdAt":`...)
	b = appendCanonTime(b, r.CreatedAt)
	b = append(b, `,"id":`...)
	b = appendCanonString(b, r.ID)
	b = append(b, `,"kind":"RCV","lines":[`...)
	for i, l := range r.Items {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"lineTotal":`...)
		b = strconv.AppendInt(b, int64(l.LineTotal), 10)
		b = append(b, `,"productId":`...)
		b = appendCanonString(b, l.ProductID)
		b = append(b, `,"quantity":"`...)
		b = l.Quantity.Append(b)
		b = append(b, `","unitCost":`...)
		b = strconv.AppendInt(b, int64(l.UnitCost), 10)
		b = append(b, '}')
	}
	b = append(b, `],"locationId":`...)
	b = appendCanonString(b, r.LocationID)
	b = append(b, `,"number":`...)
	b = appendCanonString(b, r.chainNumber())
	b = append(b, `,"previousHash":`...)
	b = appendCanonString(b, r.PreviousHash)
	b = append(b, `,"supplier":`...)
	b = appendCanonString(b, r.Supplier)
	b = append(b, `,"total":`...)
	b = strconv.AppendInt(b, int64(r.Total), 10)
	return append(b, `,"v":1}`...)
}

func (t *Transfer) appendCanonical(b []byte, _ int) []byte {
	b = append(b, `{"business":`...)
	b = appendCanonString(b, t.BusinessID)
	b = append(b, `,"createdAt":`...)
	b = appendCanonTime(b, t.CreatedAt)
	b = append(b, `,"fromLocationId":`...)
	b = appendCanonString(b, t.FromLocationID)
	b = append(b, `,"id":`...)
	b = appendCanonString(b, t.ID)
	b = append(b, `,"kind":"TRF","lines":[`...)
	for i, l := range t.Items {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"productId":`...)
		b = appendCanonString(b, l.ProductID)
		b = append(b, `,"quantity":"`...)
		b = l.Quantity.Append(b)
		b = append(b, `"}`...)
	}
	b = append(b, `],"number":`...)
	b = appendCanonString(b, t.chainNumber())
	b = append(b, `,"previousHash":`...)
	b = appendCanonString(b, t.PreviousHash)
	b = append(b, `,"sentAt":`...)
	if t.SentAt != nil {
		b = appendCanonTime(b, *t.SentAt)
	} else {
		b = append(b, `""`...)
	}
	b = append(b, `,"toLocationId":`...)
	b = appendCanonString(b, t.ToLocationID)
	return append(b, `,"v":1}`...)
}

// appendCanonTime writes t in UTC with exactly three fractional digits.
func appendCanonTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.UTC().AppendFormat(b, "2006-01-02T15:04:05.000Z")
	return append(b, '"')
}

// appendCanonString writes s as RFC 8785 does. Text that is not valid UTF-8
// (the engine stores none: requests are decoded as JSON) has each bad byte
// written as U+FFFD, so that the form is always valid JSON.
func appendCanonString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\t':
				b = append(b, '\\', 't')
			case '\n':
				b = append(b, '\\', 'n')
			case '\f':
				b = append(b, '\\', 'f')
			case '\r':
				b = append(b, '\\', 'r')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, "\uFFFD"...)
			i++
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

const hexDigits = "0123456789abcdef"
