
/* ------------------------------------------------------------------
 * Tables of the provable ledger (SPEC §7): row keys for the hash chain,
 * the chain itself, approvals and buffet invoice numbers.
 *
 * Runs on a fresh install and on an upgrade from 0.1.0 with rows in the
 * tables; the append-only triggers are not there yet (50_guards.sql).
 * ------------------------------------------------------------------ */

/* Every ledger row is linked under its primary key: give the two ledgers
 * that had none a posting-order key (existing rows are numbered as found). */
ALTER TABLE @extschema@.usage_line
	ADD COLUMN line_id bigint GENERATED ALWAYS AS IDENTITY,
	ADD CONSTRAINT usage_line_pkey PRIMARY KEY (line_id);
COMMENT ON COLUMN @extschema@.usage_line.line_id IS 'Posting order';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.usage_line_line_id_seq', '');

ALTER TABLE @extschema@.cost_line
	ADD COLUMN line_id bigint GENERATED ALWAYS AS IDENTITY,
	ADD CONSTRAINT cost_line_pkey PRIMARY KEY (line_id);
COMMENT ON COLUMN @extschema@.cost_line.line_id IS 'Posting order';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.cost_line_line_id_seq', '');

/* Buffet invoice numbers: 1..n per year in municipality code order.
 * Invoices of years announced before the upgrade are numbered here. */
ALTER TABLE @extschema@.buffet_invoice ADD COLUMN invoice_number integer;
UPDATE @extschema@.buffet_invoice i
   SET invoice_number = n.number
  FROM (SELECT b.year, b.municipality_code,
			   pg_catalog.row_number() OVER (PARTITION BY b.year
											 ORDER BY b.municipality_code COLLATE "C") AS number
		  FROM @extschema@.buffet_invoice b) n
 WHERE n.year = i.year AND n.municipality_code = i.municipality_code;
ALTER TABLE @extschema@.buffet_invoice
	ALTER COLUMN invoice_number SET NOT NULL,
	ADD CONSTRAINT buffet_invoice_number_positive CHECK (invoice_number > 0),
	ADD CONSTRAINT buffet_invoice_number_unique UNIQUE (year, invoice_number);
COMMENT ON COLUMN @extschema@.buffet_invoice.invoice_number IS
	'Invoice number (fakturanummer) within the year: 1..n in municipality code order, without gaps';

CREATE TABLE @extschema@.ledger_link (
	link_id		bigint NOT NULL,
	ledger		text NOT NULL,
	row_key		text NOT NULL,
	row_digest	bytea NOT NULL,
	chain		bytea NOT NULL,
	CONSTRAINT ledger_link_pkey PRIMARY KEY (link_id),
	CONSTRAINT ledger_link_row_unique UNIQUE (ledger, row_key)
);
COMMENT ON TABLE @extschema@.ledger_link IS
	'Hash chain over the ledger rows (hovedbog): one link per row, appended when the row''s transaction commits; afregning.verify_ledger() checks it';
COMMENT ON COLUMN @extschema@.ledger_link.link_id IS 'Position in the chain, 1, 2, 3, ... without gaps';
COMMENT ON COLUMN @extschema@.ledger_link.ledger IS 'Ledger table of the row';
COMMENT ON COLUMN @extschema@.ledger_link.row_key IS 'Primary key of the row as text: the value, or "(v1,v2)" for a key of several columns';
COMMENT ON COLUMN @extschema@.ledger_link.row_digest IS
	'SHA-256 of the row''s canonical text: the table name, then name=length:value of every non-null column in byte order of the names, each on a line of its own; dates and timestamps in ISO 8601 (timestamptz in UTC), bytea in hex, anything else in its text output';
COMMENT ON COLUMN @extschema@.ledger_link.chain IS
	'SHA-256(chain of the previous link || row_digest); the first link follows 32 zero bytes';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.ledger_link', '');

CREATE TABLE @extschema@.approval (
	year				integer NOT NULL,
	step				text NOT NULL,
	session_user_name	text NOT NULL,
	current_user_name	text NOT NULL,
	approved_at			timestamptz NOT NULL DEFAULT pg_catalog.now(),
	waterfall			text NOT NULL,
	waterfall_sha256	bytea NOT NULL,
	CONSTRAINT approval_pkey PRIMARY KEY (year, step),
	CONSTRAINT approval_year_fkey FOREIGN KEY (year)
		REFERENCES @extschema@.price_announcement (year),
	CONSTRAINT approval_step CHECK (step IN ('announce', 'close')),
	CONSTRAINT approval_sha256_length CHECK (pg_catalog.length(waterfall_sha256) = 32)
);
COMMENT ON TABLE @extschema@.approval IS
	'Who announced (udmeldte) and who closed (afsluttede) each year, when, and the price waterfall they saw; written by triggers on price_announcement and year_close';
COMMENT ON COLUMN @extschema@.approval.year IS 'Billing year';
COMMENT ON COLUMN @extschema@.approval.step IS 'announce or close';
COMMENT ON COLUMN @extschema@.approval.session_user_name IS 'The login role of the session (session_user)';
COMMENT ON COLUMN @extschema@.approval.current_user_name IS 'The role the step ran as, as SET ROLE left it (current_user of the caller)';
COMMENT ON COLUMN @extschema@.approval.approved_at IS 'When the step ran (its transaction''s start)';
COMMENT ON COLUMN @extschema@.approval.waterfall IS
	'explain_price(year) as the step saw it: one line per row, "line|item|amount" in line order, amount in numeric text (empty for null), lines joined by a line feed';
COMMENT ON COLUMN @extschema@.approval.waterfall_sha256 IS 'SHA-256 of waterfall (UTF-8)';
SELECT pg_catalog.pg_extension_config_dump('@extschema@.approval', '');
