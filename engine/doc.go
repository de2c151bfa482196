// Package engine is posd's domain: businesses, locations, products, stock
// and its ledger, sales, refunds, purchase receipts, transfers, tokens,
// cashiers, shifts and Z reports, with every rule about them. It imports only the standard library and
// speaks no HTTP: its writes return documents (Outcome), and the API
// renders them. Storage sits behind the Store interface (engine/boltstore is
// the embedded one). Its tests live in engine/storetest, the conformance
// suite every Store runs: go test ./engine/... runs them on boltstore.
//
// The invariants, and where they are enforced:
//
//   - Atomic: an idempotent write (Service.write) runs in one Store.Update.
//     The idempotency lookup, the document number, the document, its stock
//     movements and the idempotency record are committed together or not at
//     all, and the caller is answered only after the commit returned.
//   - One document per key: the key is looked up inside that transaction,
//     and Tx.PutIdempotency refuses a second record for a key. A request
//     that loses that race (ErrDuplicateKey, possible on a store that checks
//     keys at commit) is answered as a replay of the winner.
//   - Gapless numbers per series: nextNumber advances the series counter
//     inside the same transaction (Tx.NextNumber) and Tx.ClaimNumber refuses
//     a number twice; a failed transaction gives its number back, so a
//     series is exactly 1, 2, 3, … (FormatNumber: at least four digits,
//     growing past 9999). The series month is the business's local month at
//     commit.
//   - Stock equals the sum of its movements: stock only changes through
//     Tx.AddMovement, which writes the ledger entry with the change.
//   - Tenancy: every method scopes reads and writes to the Actor's business;
//     another business's object is reported exactly as a missing one.
//   - A sale or refund is never refused for lack of stock; a transfer is.
//     Nor for want of an open shift: it is then outside one.
//   - A Z report covers exactly the location's documents stored after the
//     previous Z's coverage marks, read in the Z's own transaction, and its
//     number comes from the series Z-<location> in that transaction: no
//     document is in two Zs, none is left out, and Z numbers are 1, 2, 3, …
//     per location (zreport.go). Tx.PutZReport refuses to write a Z twice.
//   - A PIN is kept only as its PINKey, unique per business
//     (Tx.PutCashier); no record holds a PIN (cashier.go).
//   - Tamper evidence: every numbered document, Z reports included, is
//     linked into its series' hash chain in its own commit (chain.go,
//     chain_link.go): its hash covers its values and the previous
//     document's hash, and the series head advances with it through
//     Tx.SetChainHead. VerifyChains recomputes every chain and checks it
//     against anchors kept outside and against the heads each Z recorded
//     (chain_verify.go); Export writes the accountant's files and the
//     manifest that is such an anchor (export.go).
//
// # Serializable updates, and fns that may run twice
//
// The numbering, the refund limit (RefundSale), the stock check of a
// transfer (SendTransfer) and the state machines of receipts and transfers
// read, check and then write. They take no locks: Store.Update promises
// that the updates of one business behave as if they ran one at a time.
// The Concurrent… cases of engine/storetest hold a store to it.
//
// Store.Update may also run an fn more than once (a database retrying after
// a serialization failure); only the last run's writes commit. Every fn the
// engine hands to Update is safe for that:
//
//   - it reads and writes only through its Tx, whose writes of a discarded
//     run are discarded with it;
//   - it assigns, and never appends or adds, to the variables it shares
//     with its caller (write's out; UpdateProduct's out; CreateBusiness's
//     biz and loc; RenameTill's out), and makes anew what it counts
//     (ImportProducts' report), so the last run's values are the ones
//     returned;
//   - it takes the time (Service.now) and makes its IDs (NewID) and
//     secrets (newSecret) inside the run, so a second run makes new ones
//     and only the committed run's are answered. What fns capture from
//     outside (parsed lines, payments, a token hash made before the call)
//     they only read.
//
// storetest.Rerunning runs every fn once with its writes discarded before
// running it for real; boltstore passes the whole suite behind it.
//
// # Answers and byte-identical replays
//
// A write returns an Outcome: the document it made or changed (a *Sale,
// *Return, *Receipt, *Transfer, *Adjustment, *Location, *Product,
// *CreatedToken, or for the back office a *PairingCode, *Paired or
// *ImportReport), whether it is a replay, and the AnswerVersion to render
// it in. The idempotency record keeps that document as it was answered
// (IdempotencyRecord.Answer, a typed snapshot: boltstore keeps a sale in
// its compact encoding and the others as JSON) with its version, for the
// answer TTL. The API renders a first answer and every replay of it with
// one deterministic function of (document, version), after the commit, so
// a replay is byte for byte the first answer by construction; no rendered
// bytes are stored and nothing is rendered on a store's writer. Secrets
// are the one thing never kept (secretBearer): a created token's replay
// carries "token": null. The two pairing writes (pairing.go) are contract
// §5's exception: within the answer TTL their replay makes a new secret
// for the same pairing or till, in a write transaction (request.reissue),
// and revokes the unheard one; after it they too carry null.
//
// An upgrade that changes the JSON of a document raises AnswerVersion; the
// API keeps rendering every older version as it did, so a replay of an
// answer given before the upgrade keeps the old bytes, while a GET (and a
// replay after the TTL, whose answer is the document as it is now) shows
// the new form. That is how contract §7's "a replay of a document answered
// before the upgrade carries no hash (GET of that document does)" will
// hold when documents gain hash chains.
//
// # What the day's close asks of a store
//
// Cashiers, approvals, shifts and Z reports add to Tx only what storage
// must guarantee, each held to it by engine/storetest's close cases
// (Cashiers, PINLockout, Shifts, ZReportFigures with the Z chain and the
// export of the days, ZReportsAreWrittenOnce, ReturnListing and, among
// the serialisation cases, ConcurrentZReports, which fails on a store
// whose updates are not serializable):
//
//   - Cashier, CashierByPIN, Cashiers, PutCashier: a PIN's key is unique
//     per business at storage level (ErrDuplicatePIN);
//   - Approval, PutApproval;
//   - Shift, OpenShift, Shifts, PutShift: at most one open shift per till
//     (ErrShiftOpen), OpenShift one small read a sale can afford;
//   - ZReport, ZReports, PutZReport: a Z is written once
//     (ErrZReportExists) and listed per location in number order;
//   - ReturnsAt: a location's refunds in stored order, as Sales lists
//     its sales.
//
// A Z's number and chain need nothing new: its series is Z-<location ID>
// in NextNumber, ClaimNumber, ChainHead and SetChainHead like any other.
//
// # What a store may choose
//
// A Store that implements ReplayFromView lets Service answer a retry of a
// finished request from a View, before queueing for a write transaction
// (boltstore does: its views are nearly free and its single writer is the
// ceiling); any other store gets the lookup inside the write transaction
// only. The reads that only checks need (Verify, the fault harness) are in
// Scanner, implemented by a View's Tx, so the write path's contract (Tx)
// stays small.
package engine
