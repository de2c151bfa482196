package engine

import "strconv"

// linePaths are the field paths an error names for one line of a list:
// items[2].quantity and the like. Every sale passes each of its lines'
// paths to the parsers and lookups before it knows whether any is wrong, so
// the paths of the first lines are made once here instead of by fmt for
// every sale.
type linePaths struct {
	line, productID, quantity, unitPrice, method, amount string
}

func newLinePaths(list string, i int) linePaths {
	l := list + "[" + strconv.Itoa(i) + "]"
	return linePaths{line: l, productID: l + ".productId", quantity: l + ".quantity", unitPrice: l + ".unitPrice", method: l + ".method", amount: l + ".amount"}
}

var itemPathTable, paymentPathTable = pathTable("items"), pathTable("payments")

func pathTable(list string) []linePaths {
	t := make([]linePaths, 16)
	for i := range t {
		t[i] = newLinePaths(list, i)
	}
	return t
}

// itemPaths returns the paths of items[i]; paymentPaths those of
// payments[i].
func itemPaths(i int) linePaths    { return pathOf(itemPathTable, "items", i) }
func paymentPaths(i int) linePaths { return pathOf(paymentPathTable, "payments", i) }

func pathOf(t []linePaths, list string, i int) linePaths {
	if i < len(t) {
		return t[i]
	}
	return newLinePaths(list, i)
}
