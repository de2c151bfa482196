// Package engine is posd's domain: businesses, locations, products, stock
// and its ledger, sales, refunds, purchase receipts, transfers and tokens,
// with every rule about them. It imports only the standard library; storage
// sits behind the Store interface (engine/boltstore is the embedded one).
//
// The invariants, and where they are enforced:
//
//   - Atomic: an idempotent write (Service.write) runs in one Store.Update.
//     The idempotency lookup, the document number, the document, its stock
//     movements and the idempotency record are committed together or not at
//     all, and the caller is answered only after the commit returned.
//   - One document per key: the key is looked up inside that transaction,
//     and Tx.PutIdempotency refuses a second record for a key.
//   - Gapless numbers per series: nextNumber reads and advances the series
//     counter inside the same transaction and Tx.ClaimNumber refuses a
//     number twice; a failed transaction gives its number back, so a series
//     is exactly 1, 2, 3, … (FormatNumber: at least four digits, growing past
//     9999). The series month is the business's local month at commit.
//   - Stock equals the sum of its movements: stock only changes through
//     Tx.AddMovement, which writes the ledger entry with the change.
//   - Tenancy: every method scopes reads and writes to the Actor's business;
//     another business's object is reported exactly as a missing one.
//   - A sale or refund is never refused for lack of stock; a transfer is.
package engine
