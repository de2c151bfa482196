-- Schema 1 of posd on PostgreSQL. Every key column is text COLLATE "C"
-- (byte order, as the embedded store sorts), every business-owned row
-- carries its business_id first, and each storage-level guarantee is a
-- constraint: one document per business and number (numbers_pkey), one
-- record per business and idempotency key (idempotency_pkey), one product
-- per business and SKU (products_sku_key).

CREATE TABLE businesses (
	id                text COLLATE "C" PRIMARY KEY,
	doc               jsonb NOT NULL,
	-- catalogue_version grows with every write of the business, its
	-- locations or its products: a posd process keeps the catalogue in
	-- memory and checks this number, read under the business's lock, to
	-- know its copy is current.
	catalogue_version bigint NOT NULL DEFAULT 0
);

CREATE TABLE locations (
	business_id text COLLATE "C" NOT NULL,
	id          text COLLATE "C" NOT NULL,
	doc         jsonb NOT NULL,
	CONSTRAINT locations_pkey PRIMARY KEY (business_id, id)
);

CREATE TABLE products (
	business_id text COLLATE "C" NOT NULL,
	id          text COLLATE "C" NOT NULL,
	sku         text COLLATE "C" NOT NULL,
	doc         jsonb NOT NULL,
	CONSTRAINT products_pkey PRIMARY KEY (business_id, id),
	CONSTRAINT products_sku_key UNIQUE (business_id, sku)
);

-- Quantities in thousandths (engine.Quantity). A level changes only in
-- the transaction that appends its movement.
CREATE TABLE stock (
	business_id text COLLATE "C" NOT NULL,
	location_id text COLLATE "C" NOT NULL,
	product_id  text COLLATE "C" NOT NULL,
	qty         bigint NOT NULL,
	CONSTRAINT stock_pkey PRIMARY KEY (business_id, location_id, product_id)
);

-- seq orders a business's ledger: movements of one business are written
-- under its lock, so their order is their commit order.
CREATE TABLE movements (
	business_id text COLLATE "C" NOT NULL,
	seq         bigint GENERATED ALWAYS AS IDENTITY,
	location_id text COLLATE "C" NOT NULL,
	product_id  text COLLATE "C" NOT NULL,
	qty         bigint NOT NULL,
	doc_kind    text NOT NULL,
	doc_id      text COLLATE "C" NOT NULL,
	at          timestamptz NOT NULL,
	CONSTRAINT movements_pkey PRIMARY KEY (business_id, seq)
);

-- pos is the sale's place in its business's list: 1, 2, 3, … in commit
-- order, taken from the '#sale' counter under the business's lock, so a
-- reader paging "after pos p" never misses a sale that commits later.
CREATE TABLE sales (
	business_id text COLLATE "C" NOT NULL,
	id          text COLLATE "C" NOT NULL,
	pos         bigint NOT NULL,
	location_id text COLLATE "C" NOT NULL,
	doc         jsonb NOT NULL,
	CONSTRAINT sales_pkey PRIMARY KEY (business_id, id),
	CONSTRAINT sales_pos_key UNIQUE (business_id, pos)
);
CREATE INDEX sales_location ON sales (business_id, location_id, pos);

-- pos is a refund's place in its business's stored order, from the
-- '#return' counter as a sale's is from '#sale': a Z report walks a
-- location's refunds by it (ReturnsAt).
CREATE TABLE returns (
	business_id text COLLATE "C" NOT NULL,
	id          text COLLATE "C" NOT NULL,
	pos         bigint NOT NULL,
	location_id text COLLATE "C" NOT NULL,
	doc         jsonb NOT NULL,
	CONSTRAINT returns_pkey PRIMARY KEY (business_id, id),
	CONSTRAINT returns_pos_key UNIQUE (business_id, pos)
);
CREATE INDEX returns_location ON returns (business_id, location_id, pos);
CREATE TABLE receipts (
	business_id text COLLATE "C" NOT NULL,
	id          text COLLATE "C" NOT NULL,
	doc         jsonb NOT NULL,
	CONSTRAINT receipts_pkey PRIMARY KEY (business_id, id)
);
CREATE TABLE transfers (
	business_id text COLLATE "C" NOT NULL,
	id          text COLLATE "C" NOT NULL,
	doc         jsonb NOT NULL,
	CONSTRAINT transfers_pkey PRIMARY KEY (business_id, id)
);
CREATE TABLE adjustments (
	business_id text COLLATE "C" NOT NULL,
	id          text COLLATE "C" NOT NULL,
	doc         jsonb NOT NULL,
	CONSTRAINT adjustments_pkey PRIMARY KEY (business_id, id)
);

-- One row per numbering series ('INV-202611') with its last number, and
-- the store's own sequences ('#sale'). Advanced in the document's own
-- transaction, never by a PostgreSQL sequence: a sequence does not give
-- its number back when the transaction fails.
CREATE TABLE counters (
	business_id text COLLATE "C" NOT NULL,
	series      text COLLATE "C" NOT NULL,
	last        bigint NOT NULL,
	CONSTRAINT counters_pkey PRIMARY KEY (business_id, series)
);

-- The head of each series' hash chain: the number and hash of its last
-- chained document, read and set in the document's own transaction under
-- the business's lock, as the counter is.
CREATE TABLE chain_heads (
	business_id text COLLATE "C" NOT NULL,
	series      text COLLATE "C" NOT NULL,
	number      bigint NOT NULL,
	hash        text NOT NULL,
	CONSTRAINT chain_heads_pkey PRIMARY KEY (business_id, series)
);

CREATE TABLE numbers (
	business_id text COLLATE "C" NOT NULL,
	number      text COLLATE "C" NOT NULL,
	doc_kind    text NOT NULL,
	doc_id      text COLLATE "C" NOT NULL,
	CONSTRAINT numbers_pkey PRIMARY KEY (business_id, number)
);

-- The key-to-document link, kept as long as the document.
CREATE TABLE idempotency (
	business_id text COLLATE "C" NOT NULL,
	key         text COLLATE "C" NOT NULL,
	op          text NOT NULL,
	target      text NOT NULL,
	hash        bytea NOT NULL,
	version     integer NOT NULL, -- the answer version the first answer was given in
	doc_kind    text NOT NULL,
	doc_id      text COLLATE "C" NOT NULL,
	created_at  timestamptz NOT NULL,
	expires_at  timestamptz NOT NULL,
	CONSTRAINT idempotency_pkey PRIMARY KEY (business_id, key)
);

-- The document as first answered, until the answer expires: its JSON, kept
-- as bytes (jsonb would reorder its keys and normalise its numbers; the
-- snapshot is kept exactly as posd wrote it, for the API to render the
-- replay from).
CREATE TABLE idempotency_answers (
	business_id text COLLATE "C" NOT NULL,
	key         text COLLATE "C" NOT NULL,
	expires_at  timestamptz NOT NULL,
	body        bytea NOT NULL,
	CONSTRAINT idempotency_answers_pkey PRIMARY KEY (business_id, key)
);
CREATE INDEX idempotency_answers_expiry ON idempotency_answers (expires_at);

-- A token is stored only as the SHA-256 of its secret.
CREATE TABLE tokens (
	hash        bytea PRIMARY KEY,
	business_id text COLLATE "C" NOT NULL,
	id          text COLLATE "C" NOT NULL,
	doc         jsonb NOT NULL,
	CONSTRAINT tokens_id_key UNIQUE (business_id, id)
);

-- The back office's: pairing codes (stored only as hashes; one pairing per
-- code), the tills' last status reports, and product imports' reports.
CREATE TABLE pairings (
	business_id text COLLATE "C" NOT NULL,
	id          text COLLATE "C" NOT NULL,
	hash        bytea NOT NULL,
	doc         jsonb NOT NULL,
	CONSTRAINT pairings_pkey PRIMARY KEY (business_id, id),
	CONSTRAINT pairings_hash_key UNIQUE (hash)
);
CREATE TABLE till_statuses (
	business_id text COLLATE "C" NOT NULL,
	till_id     text COLLATE "C" NOT NULL,
	doc         jsonb NOT NULL,
	CONSTRAINT till_statuses_pkey PRIMARY KEY (business_id, till_id)
);
CREATE TABLE product_imports (
	business_id text COLLATE "C" NOT NULL,
	id          text COLLATE "C" NOT NULL,
	doc         jsonb NOT NULL,
	CONSTRAINT product_imports_pkey PRIMARY KEY (business_id, id)
);

-- The day's close. A cashier's PIN is kept only as its key (engine.PINKey:
-- a slow hash of the PIN and the business), unique per business
-- (cashiers_pin_key: a PIN names one person; NULL, no PIN, repeats).
CREATE TABLE cashiers (
	business_id text COLLATE "C" NOT NULL,
	id          text COLLATE "C" NOT NULL,
	pin         bytea,
	pin_scheme  text NOT NULL DEFAULT '',
	doc         jsonb NOT NULL,
	CONSTRAINT cashiers_pkey PRIMARY KEY (business_id, id),
	CONSTRAINT cashiers_pin_key UNIQUE (business_id, pin)
);
CREATE TABLE approvals (
	business_id text COLLATE "C" NOT NULL,
	id          text COLLATE "C" NOT NULL,
	doc         jsonb NOT NULL,
	CONSTRAINT approvals_pkey PRIMARY KEY (business_id, id)
);
-- Shifts in the order they were opened (pos, from '#shift'); one open
-- shift per till (shifts_open_till).
CREATE TABLE shifts (
	business_id text COLLATE "C" NOT NULL,
	id          text COLLATE "C" NOT NULL,
	pos         bigint NOT NULL,
	location_id text COLLATE "C" NOT NULL,
	till_id     text COLLATE "C" NOT NULL,
	open        boolean NOT NULL,
	doc         jsonb NOT NULL,
	CONSTRAINT shifts_pkey PRIMARY KEY (business_id, id),
	CONSTRAINT shifts_pos_key UNIQUE (business_id, pos)
);
CREATE INDEX shifts_location ON shifts (business_id, location_id, pos);
CREATE UNIQUE INDEX shifts_open_till ON shifts (business_id, till_id) WHERE open;
-- Z reports in the order they were made (pos, from '#z'); written once
-- (zreports_pkey refuses a second row for an ID: a Z is never changed).
CREATE TABLE zreports (
	business_id text COLLATE "C" NOT NULL,
	id          text COLLATE "C" NOT NULL,
	pos         bigint NOT NULL,
	location_id text COLLATE "C" NOT NULL,
	doc         jsonb NOT NULL,
	CONSTRAINT zreports_pkey PRIMARY KEY (business_id, id),
	CONSTRAINT zreports_pos_key UNIQUE (business_id, pos)
);
CREATE INDEX zreports_location ON zreports (business_id, location_id, pos);
