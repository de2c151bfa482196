// Package boltstore is posd's embedded engine.Store: one bbolt file, one
// writer goroutine, fsync on every commit. It is also the reference for a
// second backend: what follows is what it keeps, how, and why. It passes
// engine/storetest, on its own and behind storetest.Rerunning.
//
// # Buckets and keys
//
// The layout is flat (keys.go): one bucket per kind of value, and every key
// of an object a business owns starts with the business ID and a NUL, so a
// prefix scan lists one business and no key of one business can be built
// from another's. Sequence numbers in keys are 8 bytes big-endian, so keys
// sort in sequence order.
//
//	meta         "schema" → decimal version; "created" → RFC 3339
//	businesses   id → Business (JSON)
//	locations    biz\0id → Location (JSON)
//	products     biz\0id → Product (JSON)
//	skus         biz\0sku → product id (the SKU index, kept by PutProduct)
//	stock        biz\0loc\0product → int64 quantity (thousandths)
//	moves        biz\0seq → Movement (compact); seq from counters biz\0#move
//	sales        biz\0id → Sale (compact since schema 3; JSON before)
//	sale_seq     biz\0seq → sale id: the business's list, in stored order
//	sale_loc     biz\0loc\0seq → sale id: the same per location
//	returns, receipts, transfers, adjustments
//	             biz\0id → the document (JSON)
//	counters     biz\0series → uint64 last number given (NextNumber);
//	             biz\0#name → uint64 internal sequence (#move, #sale)
//	numbers      biz\0number → DocRef (compact): the claim (ClaimNumber)
//	idem         biz\0key → idempotency record (compact)
//	idem_exp     expiry ms\0biz\0key → the record's answer until it expires
//	             (a sale's may name the sale: schema 7)
//	tokens       sha256(secret) → token with business and hash (JSON)
//	token_ids    biz\0id → sha256(secret)
//	chains       biz\0series → the series' chain head (compact: number,
//	             hash): ChainHead/SetChainHead (schema 5)
//	cashiers     biz\0id → cashier with its PIN's key (JSON)
//	cashier_pins biz\0PIN key → cashier id (the PIN index, kept by PutCashier)
//	approvals    biz\0id → Approval (JSON)
//	shifts       biz\0id → Shift (JSON)
//	shift_loc    biz\0loc\0seq → shift id, in the order opened (#shift)
//	shift_open   biz\0till → shift id\0location, while the till's shift is open
//	zreports     biz\0id → ZReport (JSON, with its chain link), written once
//	z_loc        biz\0loc\0seq → Z id (#z)
//	ret_loc      biz\0loc\0seq → return id: a location's refunds in stored
//	             order (#return), as sale_loc lists its sales
//
// The buckets from cashiers on (close.go) came with schema 6: a file of an
// older posd opened read-only (verify, backup) lacks them, and every read
// treats a missing bucket as empty. A Z report's number is claimed in
// numbers and counted in counters (biz\0Z-<location id>) as any document's,
// and its chain head is in chains under the same series.
//
// The back office's buckets (office.go) are made when a file is opened for
// writing and read as empty when missing, so a file of an older posd still
// verifies and backs up: till_pairings (biz\0id → Pairing, JSON, with its
// code's hash), till_pairing_codes (sha256(code) → biz\0id), till_status
// (biz\0till → a till's last report) and product_imports (biz\0id → an
// import's report).
//
// Compact values start with a tag byte (encoding.go), JSON values with '{',
// so each reader takes both. Buckets whose keys arrive in (nearly)
// ascending order are packed fuller than bbolt's default (fillPercent).
//
// # Writes: overlays and group commit
//
// Update queues its fn for the one writer goroutine (store.go), which takes
// the first waiting operation and every other already waiting (up to
// MaxBatch, 512), runs them one after the other in one bbolt transaction,
// commits with fsync, and only then answers all of them: a lone till is
// served at once, and under load the operations that arrive during one
// fsync share the next. That single writer is what makes Update
// serializable (engine.Store.Update): fns run one at a time, each seeing
// every write applied before it.
//
// Each operation writes to its own overlay (txn.go), not to bbolt: reads
// look at the overlay first, then at the bbolt transaction, and the overlay
// reaches bbolt only when fn returns nil (apply). A failed or panicking
// operation is dropped without rolling back or re-running the others; put
// checks what bbolt would refuse (key and value sizes), so apply cannot
// fail half way. NextNumber is a get and a put of the counter in the
// overlay. If the commit itself fails, every operation of the group gets
// an unavailable error and nothing was written. Store never runs an fn
// twice, though the contract allows it.
//
// # Reads
//
// View runs fn on a bbolt read transaction: a consistent snapshot that
// costs next to nothing and never waits for the writer. So boltstore
// implements engine.ReplayFromView: a retry of a finished request is
// answered from a View without queueing for the writer. Its Tx also
// implements engine.Scanner (Verify's whole-business walks).
//
// # Caches
//
// objCache (cache.go) keeps the decoded businesses, locations and products
// the writer reads for nearly every sale. Only the writer uses it, so it
// has no lock. It holds committed state only: a key written in the current
// group is dropped at apply and not cached again until the group committed,
// and a failed commit empties it. Callers get copies.
//
// tokenCache (tokencache.go) keeps decoded tokens by hash for read
// transactions, since every request authenticates. A revocation must work
// the moment it is answered: after committing a group that wrote a token,
// the writer bumps the cache's generation and empties it before answering,
// and a reader adds what it read only if the generation is still the one
// it saw before its snapshot began.
//
// # Idempotency records and their answers
//
// A record (key, route, request hash, answer version, document, times) is
// small and lives in idem under the client's key. Its answer lives apart,
// in idem_exp under the answer's expiry time (idempotency.go): that bucket
// is written in time order, so answers pack full pages, and
// SweepIdempotency drops expired answers from its front in small
// transactions, keeping the records (the link from a key to its document
// is kept as long as the document). An answer is the answered document
// itself in its own bucket's encoding: a sale compact, anything else (a
// created token without its secret) as JSON; the API renders it in the
// record's answer version on each replay. Since schema 7 the answer to a
// new sale stored by the same operation is instead 5 bytes naming that
// sale (tagSaleAnswer and a CRC-32C of the sale as answered): read back,
// it is the stored sale without its refunds, which are all that changes a
// sale, and the CRC proves it; a sale changed otherwise (a tampered file)
// reads as an expired answer. This keeps a sale's bytes out of idem_exp,
// a third of what a sale wrote. An upgrade that rewrites stored sales
// must turn these answers back into copies first.
//
// # Schema versions
//
// meta's schema is the layout version (SchemaVersion). Open refuses a file
// with a newer one, reads older ones as they are, and marks a file it opens
// for writing with the current version, so that an older posd refuses it
// rather than misread it. Every reader takes the older encodings; what is
// changed in place is the chain links of schema 5 and the refund index of
// schema 6, each after a copy of the file.
//
//   - 1: every value JSON; a record holds its answer's bytes inline (idem_exp
//     entries empty), with the answer's HTTP status.
//   - 2: records, movements and number claims compact; a record's answer
//     moves to idem_exp (the answer's JSON bytes).
//   - 3: sales compact; the answer to a new sale kept as the compact sale.
//   - 4: records carry the answer version (engine.AnswerVersion) instead of
//     an HTTP status (the API picks the status per route). idem_exp keeps
//     the answered document; for a sale that is the compact sale and for
//     any other document its JSON, exactly the bytes schemas 2 and 3 kept,
//     so their answers read back as documents that render (version 1) to
//     the bytes first answered. Records from before schema 4 read as
//     version 1.
//   - 5: hash chains (engine/chain.go). The chains bucket holds each
//     series' head; a linked sale is compact with its hash and previous
//     hash (tagSaleLinked, 32 raw bytes each), the other documents carry
//     them in their JSON. Opening an older file that holds documents for
//     writing first copies it beside itself as pre-chains-<UTC time>.db
//     (UpgradeBackup; logged), then marks it; engine.Service.UpgradeChains
//     (serve runs it before it listens) links the documents in number
//     order. A file of schema 4 or older opened read-only has no chains
//     bucket: its heads read as empty, and verification is told it
//     predates chains (backup.Config.ChainsSince).
//   - 6: the day's close (CloseSchema): the buckets of cashiers, approvals,
//     shifts, Z reports and ret_loc. A sale with a soldAt, cashierId or
//     shiftId is tagged tagSaleClosing and has them after its hashes;
//     others keep tagSaleLinked. Opening a file of schema 5 that holds
//     documents for writing first copies it beside itself as
//     pre-close-<UTC time>.db (logged; a file of schema 4 or older gets the
//     one pre-chains copy and goes through 5 to 6), then lists its refunds
//     in ret_loc, in ID order (IDs are time-ordered), so that Z reports
//     find them.
//   - 7: an answer to a new sale may name the stored sale (tagSaleAnswer,
//     above) instead of copying it (SaleAnswerSchema). Nothing stored
//     before changes, so a file of schema 6 is marked 7 without a copy
//     beside it; an older posd refuses the marked file, which it would
//     misread.
package boltstore
