package engine

// The rounding rules, for the golden vectors of money_vectors_test.go
// (which the till's money.js is held to as well).
var (
	LineAmount  = lineAmount
	IncludedTax = includedTax
)
