// Package pgstore keeps posd's data in PostgreSQL (14 or newer; tested on
// 15), for a chain: one database, several posd processes in front of it,
// and PostgreSQL's own replication for a database that survives a
// machine's death. It passes engine/storetest like engine/boltstore, and is
// the only package that imports pgx.
//
// The guarantees, and where they are kept:
//
//   - Serializable per business (engine.Store.Update): every write
//     transaction, before its first statement about a business, waits for
//     the business's turn in this process and then takes
//     pg_advisory_xact_lock on the business's key (txn.touch, queueLock),
//     held until COMMIT or ROLLBACK. The writes of one business therefore
//     run one at a time across every posd process, at READ COMMITTED,
//     where each statement sees every commit made before it: the engine's
//     read-check-write rules hold with plain reads and writes, and no
//     serialization failure arises to retry.
//   - Atomic, durable on return: one PostgreSQL transaction per Update;
//     COMMIT's answer comes after the server flushed it (synchronous_commit
//     as the server is set; on, and a synchronous standby, for a chain).
//     A failure before COMMIT rolls everything back; fn may then run again
//     on a fresh connection (Store.Update). A connection lost while COMMIT
//     was under way answers unavailable saying the outcome is unknown: the
//     client's retry with the same key finds out.
//   - Gapless numbers: a counter row per business and series (counters),
//     advanced in the document's own transaction under the business's lock
//     (NextNumber), never a sequence (a sequence does not give a number back
//     when its transaction fails). numbers_pkey refuses a number twice.
//   - One document per key: idempotency_pkey; the key is looked up under
//     the business's lock, so a second request with the key waits and
//     replays. The answer is kept as the document's JSON in bytea: jsonb
//     would reorder keys and normalise numbers.
//   - Stock equals its ledger: a transaction's movements and the change of
//     their stock levels are sent together in its own transaction.
//   - Sale lists in commit order: a new sale's list position comes from the
//     '#sale' counter under the lock, so positions are 1, 2, 3, … in commit
//     order on every process, and paging by position never misses a sale.
//   - Hash chains: a row per business and series (chain_heads) with the
//     number and hash of its last document, read with the counters in the
//     lock's round trip and written with them, so the next document of a
//     series always chains to the one committed before it.
//   - The back office's records (office.go): pairings with their code's
//     hash (pairings_hash_key: one pairing per code), the tills' last
//     reports, product imports' reports.
//   - The day's close (close.go): one cashier per business and PIN key
//     (cashiers_pin_key), one open shift per till (the partial unique
//     index shifts_open_till), a Z report never replaced (zreports_pkey);
//     refunds, shifts and Z reports hold a place in their business's
//     stored order from a counter under the lock ('#return', '#shift',
//     '#z'), by which a location's are listed; a till's open shift, which
//     every sale of the till asks for, is read in the lock's round trip.
//
// Round trips: writes are queued and travel with the next read or with
// COMMIT, in one pipelined batch; the lock travels with the reads every
// write transaction needs (the business, its catalogue version, its
// current series and their chain heads, its open shifts); locations and products come from a per-process cache
// that the catalogue version keeps exact (catalogue.go). A sale is two
// round trips while it holds its business's turn, and the turn passes to
// the next transaction as soon as COMMIT is on the wire.
//
// The schema is versioned in the binary (migrations/, schema_migrations)
// and a newer one is refused. Views are REPEATABLE READ READ ONLY
// transactions: one snapshot however many statements. The store's own
// tools: Import (an embedded database into an empty PostgreSQL one, with
// COPY, in one transaction), CheckIntegrity, Health, DumpRows.
package pgstore
