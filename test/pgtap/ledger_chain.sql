-- The provable ledger (SPEC §7): the hash chain over every ledger row and
-- verify_ledger(), approvals of announce and close, and buffet invoice
-- numbers.  Links are appended when a transaction commits; this suite runs
-- in one transaction that is rolled back, so it asks for them with
-- ledger_link_pending() before each verification.
BEGIN;
SELECT plan(52);
SET LOCAL search_path = afregning, public;

-- ---------------------------------------------------------------------
-- Fixture, worked by hand
-- ---------------------------------------------------------------------
-- Two municipalities of 1,000 citizens (147 is loaded first, so invoice
-- numbers cannot come from load order). 2021 expected: support_admin
-- 2000.00 (pool); operations 300.01 on ORG ordered by KY and ESDH 1:1 ->
-- 150.005 each, the odd øre to the earlier key: ESDH 150.01 (municipal:
-- pool), KY 150.00 (monopoly_break: system). Pool 2150.01 / 2000 citizens
-- = 1.075005 -> price 1.08, billed 2160.00, residual -9.99.
-- Ledger rows after announce and close of 2021:
--   cost_entry 3 (e21, o21, a21), usage_batch 1, price_announcement 1,
--   approval 2 (announce, close), cost_line 4 (e21 pool; o21 ESDH pool and
--   KY system; a21 pool), buffet_invoice 2, installment 8, schedule_charge
--   2 (infrastructure), direct_charge_line 1 (CPR Jan 101: 40 calls),
--   usage_line 2 (CPR per call for 101 in January; ORG pool), year_close 1,
--   carry_posting 1 = 28 rows, so 28 links.
INSERT INTO municipality VALUES ('147', 'Frederiksberg', 'Hovedstaden'), ('101', 'København', 'Hovedstaden');
INSERT INTO consumer_system VALUES ('ESDH', 'ESDH', 'municipal'), ('KY', 'KY', 'monopoly_break');
INSERT INTO service VALUES ('CPR', 'CPR', 'serviceplatform', 'ordered', 'per_call'),
	('ORG', 'Organisation', 'support_system', 'ordered', 'pool');
INSERT INTO service_order VALUES ('ORG', 'KY', 1), ('ORG', 'ESDH', 1);
INSERT INTO tariff VALUES ('CPR', '2021-01-01', 0.1500), ('ORG', '2021-01-01', 0.0100);
INSERT INTO billing_year (year) VALUES (2021), (2022), (2023);
INSERT INTO population SELECT y, m, 1000 FROM generate_series(2021, 2023) y, unnest(ARRAY['147', '101']) m;
INSERT INTO cost_entry (entry_key, year, cost_type, basis, service_code, amount) VALUES
	('e21', 2021, 'support_admin', 'expected', NULL, 2000.00),
	('o21', 2021, 'operations', 'expected', 'ORG', 300.01),
	('a21', 2021, 'support_admin', 'actual', NULL, 1900.00);
INSERT INTO usage_batch (batch_key) VALUES ('u2021');
INSERT INTO usage VALUES
	('2021-01-01', '101', 'ESDH', 'CPR', 40, 'u2021'), ('2021-02-01', '147', 'KY', 'ORG', 150, 'u2021');

SELECT is(announce_price(2021), 1.08, 'fixture: 2021 is announced at 1.08');
SELECT ok(close_year(2021) IS NOT NULL, 'fixture: 2021 is closed');
SELECT is(ledger_link_pending(), 28, 'the 28 ledger rows of the transaction are linked on request');

-- a checksum of every ledger and of the chain, to show that refusals change nothing
CREATE TEMP TABLE ledger_sum AS
SELECT (SELECT md5(string_agg(l::text, '|' ORDER BY l.link_id)) FROM ledger_link l)
	|| (SELECT md5(string_agg(i::text, '|' ORDER BY i.municipality_code)) FROM buffet_invoice i)
	|| (SELECT md5(string_agg(a::text, '|' ORDER BY a.step)) FROM approval a) AS sum;

-- ---------------------------------------------------------------------
-- (a) A settled database verifies clean, and the chain is what it says
-- ---------------------------------------------------------------------
SELECT is_empty('SELECT * FROM verify_ledger()', 'verify_ledger() finds nothing after a full settle');
SELECT results_eq('SELECT count(*)::integer, min(link_id)::integer, max(link_id)::integer FROM ledger_link',
	'VALUES (28, 1, 28)', 'one link per ledger row: 28 links, numbered 1..28');
SELECT results_eq(
	$$SELECT ledger, count(*)::integer FROM ledger_link GROUP BY ledger ORDER BY ledger$$,
	$$VALUES ('approval', 2), ('buffet_invoice', 2), ('carry_posting', 1), ('cost_entry', 3),
			 ('cost_line', 4), ('direct_charge_line', 1), ('installment', 8),
			 ('price_announcement', 1), ('schedule_charge', 2), ('usage_batch', 1),
			 ('usage_line', 2), ('year_close', 1)$$,
	'every ledger row is linked, ledger by ledger');
SELECT is((SELECT row_key FROM ledger_link WHERE ledger = 'cost_entry' ORDER BY link_id LIMIT 1),
	'e21', 'a one-column key is its value');
SELECT ok(EXISTS (SELECT 1 FROM ledger_link WHERE ledger = 'installment' AND row_key = '(2021,147,3)'),
	'a key of several columns is a record literal');

-- the chain, recomputed here with the SQL sha256(): link 1 follows 32 zero bytes
SELECT is((SELECT count(*)::integer FROM (
			SELECT l.chain = sha256(coalesce(lag(l.chain) OVER (ORDER BY l.link_id),
											 decode(repeat('00', 32), 'hex')) || l.row_digest) AS good
			  FROM ledger_link l) c WHERE c.good), 28,
	'each link''s chain is SHA-256(previous chain || row digest)');

-- a row digest, recomputed here from the canonical text: the table name,
-- then name=length:value for each non-null column by name, dates in ISO
-- 8601 in UTC (to_json's form with TimeZone UTC)
SET LOCAL TimeZone = 'UTC';
SELECT is((SELECT l.row_digest FROM ledger_link l WHERE l.ledger = 'cost_entry' AND l.row_key = 'e21'),
	(SELECT sha256(convert_to(
		E'cost_entry\n'
		|| E'amount=7:2000.00\n'
		|| E'basis=8:expected\n'
		|| E'cost_type=13:support_admin\n'
		|| E'entry_key=3:e21\n'
		|| 'recorded_at=' || length(to_json(c.recorded_at) #>> '{}') || ':' || (to_json(c.recorded_at) #>> '{}') || E'\n'
		|| E'year=4:2021\n', 'UTF8'))
	   FROM cost_entry c WHERE c.entry_key = 'e21'),
	'a row digest is the SHA-256 of its canonical text');
SET LOCAL TimeZone = 'America/New_York';
SET LOCAL DateStyle = 'SQL, DMY';
SELECT is((SELECT count(*)::integer FROM buffet_invoice i
			 JOIN ledger_link l ON l.ledger = 'buffet_invoice' AND l.row_key = ledger_row_key(i)
			WHERE l.row_digest = ledger_row_digest(i)), 2,
	'row digests do not depend on TimeZone or DateStyle');
SELECT is_empty('SELECT * FROM verify_ledger()', 'nor does verify_ledger()');
RESET TimeZone;
RESET DateStyle;

-- ---------------------------------------------------------------------
-- (b) An amount changed by a superuser with the triggers off is found
-- ---------------------------------------------------------------------
SAVEPOINT tamper;
SET LOCAL session_replication_role = replica;
SELECT throws_ok($$UPDATE buffet_invoice SET citizens = 999, amount = 1078.92 WHERE municipality_code = '101'$$,
	'0A000', NULL, 'replica mode does not switch the append-only guard off');
RESET session_replication_role;
ALTER TABLE buffet_invoice DISABLE TRIGGER ALL;
-- 999 citizens x 1.08 = 1078.92: the invoice still satisfies its CHECK
UPDATE buffet_invoice SET citizens = 999, amount = 1078.92 WHERE year = 2021 AND municipality_code = '101';
SELECT results_eq('SELECT * FROM verify_ledger()',
	$$SELECT link_id, 'buffet_invoice'::text, '(2021,101)'::text, 'row changed'::text
		FROM ledger_link WHERE ledger = 'buffet_invoice' AND row_key = '(2021,101)'$$,
	'verify_ledger() names the changed buffet invoice');
ROLLBACK TO SAVEPOINT tamper;

-- a change of a timestamp alone is found too
ALTER TABLE price_announcement DISABLE TRIGGER ALL;
UPDATE price_announcement SET announced_at = announced_at + interval '1 microsecond';
SELECT results_eq('SELECT ledger, row_key, problem FROM verify_ledger()',
	$$VALUES ('price_announcement', '2021', 'row changed')$$,
	'a timestamp moved by one microsecond is found');
ROLLBACK TO SAVEPOINT tamper;

-- ---------------------------------------------------------------------
-- (c) A row deleted with the triggers off is found
-- ---------------------------------------------------------------------
ALTER TABLE installment DISABLE TRIGGER ALL;
DELETE FROM installment WHERE year = 2021 AND municipality_code = '147' AND quarter = 3;
SELECT results_eq('SELECT * FROM verify_ledger()',
	$$SELECT link_id, 'installment'::text, '(2021,147,3)'::text, 'row missing'::text
		FROM ledger_link WHERE ledger = 'installment' AND row_key = '(2021,147,3)'$$,
	'verify_ledger() names the deleted installment');
ROLLBACK TO SAVEPOINT tamper;

-- a row slipped in with the triggers off has no link
ALTER TABLE cost_entry DISABLE TRIGGER ALL;
INSERT INTO cost_entry (entry_key, year, cost_type, basis, amount)
VALUES ('slipped', 2021, 'support_admin', 'actual', 1.00);
SELECT results_eq('SELECT * FROM verify_ledger()',
	$$VALUES (NULL::bigint, 'cost_entry', 'slipped', 'row not linked')$$,
	'a row inserted with the triggers off is not linked');
ROLLBACK TO SAVEPOINT tamper;

-- ---------------------------------------------------------------------
-- The chain itself: removed or forged links
-- ---------------------------------------------------------------------
ALTER TABLE ledger_link DISABLE TRIGGER ALL;
DELETE FROM ledger_link WHERE link_id = 10;
SELECT results_eq('SELECT link_id, problem FROM verify_ledger()',
	$$VALUES (11::bigint, 'chain broken')$$,
	'a link removed from the middle breaks the chain at the next link');
ROLLBACK TO SAVEPOINT tamper;

ALTER TABLE ledger_link DISABLE TRIGGER ALL;
DELETE FROM ledger_link WHERE link_id = 28;
SELECT results_eq('SELECT * FROM verify_ledger()',
	$$VALUES (NULL::bigint, 'carry_posting', '(2021,2023)', 'row not linked')$$,
	'removing the last link leaves its row unlinked');
ROLLBACK TO SAVEPOINT tamper;

-- an edit whose link is rehashed too: the following link no longer follows
ALTER TABLE buffet_invoice DISABLE TRIGGER ALL;
ALTER TABLE ledger_link DISABLE TRIGGER ALL;
UPDATE buffet_invoice SET citizens = 999, amount = 1078.92 WHERE year = 2021 AND municipality_code = '101';
UPDATE ledger_link l SET row_digest = ledger_row_digest(i),
		chain = sha256((SELECT p.chain FROM ledger_link p WHERE p.link_id = l.link_id - 1) || ledger_row_digest(i))
  FROM buffet_invoice i
 WHERE l.ledger = 'buffet_invoice' AND l.row_key = '(2021,101)' AND i.municipality_code = '101';
SELECT results_eq('SELECT link_id, problem FROM verify_ledger()',
	$$SELECT link_id + 1, 'chain broken'::text FROM ledger_link
	   WHERE ledger = 'buffet_invoice' AND row_key = '(2021,101)'$$,
	'a forged link breaks the chain at the link after it');
ROLLBACK TO SAVEPOINT tamper;
RELEASE SAVEPOINT tamper;

SELECT is_empty('SELECT * FROM verify_ledger()', 'every tampering was rolled back: clean again');

-- ---------------------------------------------------------------------
-- The chain is append-only and written by the triggers only
-- ---------------------------------------------------------------------
SELECT throws_ok('UPDATE ledger_link SET ledger = ledger', '0A000', NULL, 'links cannot be updated');
SELECT throws_ok('DELETE FROM ledger_link', '0A000', NULL, 'links cannot be deleted');
SELECT throws_ok('TRUNCATE ledger_link', '0A000', NULL, 'the chain cannot be truncated');
SELECT throws_ok($$INSERT INTO ledger_link VALUES (29, 'cost_entry', 'x', '\x00', '\x00')$$,
	'42501', NULL, 'links cannot be inserted by hand');
SET LOCAL session_replication_role = replica;
SELECT throws_ok('DELETE FROM ledger_link', '0A000', NULL, 'not even in replica mode');
RESET session_replication_role;
SELECT is((SELECT sum FROM ledger_sum),
	(SELECT md5(string_agg(l::text, '|' ORDER BY l.link_id)) FROM ledger_link l)
	|| (SELECT md5(string_agg(i::text, '|' ORDER BY i.municipality_code)) FROM buffet_invoice i)
	|| (SELECT md5(string_agg(a::text, '|' ORDER BY a.step)) FROM approval a),
	'the refused statements changed no link, invoice or approval');

-- a new ledger row is linked after the last link
INSERT INTO cost_entry (entry_key, year, cost_type, basis, amount)
VALUES ('e22', 2022, 'support_admin', 'expected', 10.00);
SELECT is(ledger_link_pending(), 1, 'one more row to link');
SELECT results_eq($$SELECT link_id::integer, ledger, row_key FROM ledger_link WHERE link_id > 28$$,
	$$VALUES (29, 'cost_entry', 'e22')$$, 'a new ledger row becomes link 29');
SELECT is_empty('SELECT * FROM verify_ledger()', 'and the chain verifies');

-- rows of a rolled-back savepoint are never linked; those of a released one are
SAVEPOINT a;
INSERT INTO cost_entry (entry_key, year, cost_type, basis, amount)
VALUES ('s1', 2022, 'support_admin', 'expected', 1.00);
SAVEPOINT b;
INSERT INTO cost_entry (entry_key, year, cost_type, basis, amount)
VALUES ('s2', 2022, 'support_admin', 'expected', 2.00);
ROLLBACK TO SAVEPOINT b;
RELEASE SAVEPOINT a;
SAVEPOINT c;
INSERT INTO cost_entry (entry_key, year, cost_type, basis, amount)
VALUES ('s3', 2022, 'support_admin', 'expected', 3.00);
ROLLBACK TO SAVEPOINT c;
RELEASE SAVEPOINT c;
SELECT is(ledger_link_pending(), 1, 'of three rows in savepoints, the one not rolled back is linked');
SELECT results_eq($$SELECT link_id::integer, ledger, row_key FROM ledger_link WHERE link_id > 29$$,
	$$VALUES (30, 'cost_entry', 's1')$$, 'it becomes link 30');
SELECT throws_ok('SELECT ledger_link_pending()', '25001', NULL,
	'ledger_link_pending() refuses to run inside a subtransaction');

-- ---------------------------------------------------------------------
-- Roles: verify_ledger is for the administrator and the reader
-- ---------------------------------------------------------------------
SELECT ok(has_function_privilege('afregning_admin', 'afregning.verify_ledger()', 'EXECUTE'),
	'the administrator may run verify_ledger()');
SELECT ok(has_function_privilege('afregning_reader', 'afregning.verify_ledger()', 'EXECUTE'),
	'the reader may run verify_ledger()');
SELECT ok(NOT has_function_privilege('afregning_municipality', 'afregning.verify_ledger()', 'EXECUTE'),
	'a municipality role may not');
SELECT ok(NOT has_table_privilege('afregning_admin', 'afregning.ledger_link', 'INSERT'),
	'nobody but the triggers writes links');

-- ---------------------------------------------------------------------
-- Buffet invoice numbers: 1..n per year in code order
-- ---------------------------------------------------------------------
SELECT results_eq(
	$$SELECT municipality_code COLLATE "default", invoice_number FROM buffet_invoice WHERE year = 2021 ORDER BY invoice_number$$,
	$$VALUES ('101', 1), ('147', 2)$$,
	'2021 invoices are numbered 101 -> 1, 147 -> 2 (code order, not load order)');
SELECT throws_ok($$INSERT INTO buffet_invoice (year, municipality_code, citizens, price, amount, invoice_number)
				   VALUES (2021, '101', 1, 1.08, 1.08, 2)$$,
	'23505', NULL, 'a number is unique within its year');

-- ---------------------------------------------------------------------
-- Approvals
-- ---------------------------------------------------------------------
SELECT is((SELECT string_agg(step, ',' ORDER BY step) FROM approval_log
			WHERE year = 2021 AND session_user_name = session_user::text
			  AND current_user_name = current_user::text),
	'announce,close', 'announce and close of 2021 name the session and current user');
SELECT is((SELECT approved_at FROM approval_log WHERE year = 2021 AND step = 'announce'),
	(SELECT announced_at FROM price_announcement WHERE year = 2021),
	'the announcement is approved when it is announced');
-- the waterfall worked by hand above
SELECT is((SELECT waterfall FROM approval WHERE year = 2021 AND step = 'announce'),
	E'1|establishment|0.00\n2|infrastructure_establishment|0.00\n3|operations|150.01\n'
	|| E'4|support_admin|2000.00\n5|data_consumption|0.00\n6|dissemination|0.00\n'
	|| E'7|development_pool|0.00\n8|carry_in|0.00\n9|pool|2150.01\n10|citizens|2000\n'
	|| E'11|price_unrounded|1.0750050000\n12|price|1.08\n13|billed|2160.00\n14|rounding_residual|-9.99',
	'the approval keeps the waterfall the announcement saw');
SELECT is((SELECT waterfall_sha256 FROM approval_log WHERE year = 2021 AND step = 'announce'),
	(SELECT encode(sha256(convert_to(string_agg(w.line || '|' || w.item || '|' || coalesce(w.amount::text, ''),
												   E'\n' ORDER BY w.line), 'UTF8')), 'hex')::varchar
	   FROM explain_price(2021) w),
	'its hash is the SHA-256 of the waterfall text, computed here');
SELECT is((SELECT waterfall_sha256 FROM approval_log WHERE year = 2021 AND step = 'close'),
	(SELECT waterfall_sha256 FROM approval_log WHERE year = 2021 AND step = 'announce'),
	'the close saw the same waterfall (the price of a year never changes)');
SELECT throws_ok('UPDATE approval SET session_user_name = current_user', '0A000', NULL,
	'approvals are append-only');
SELECT results_eq(
	$$SELECT a.attname::text COLLATE "default", format_type(a.atttypid, a.atttypmod)
		FROM pg_attribute a WHERE a.attrelid = 'afregning.approval_log'::regclass AND a.attnum > 0 ORDER BY a.attnum$$,
	$$VALUES ('year', 'integer'), ('step', 'character varying(8)'),
			 ('session_user_name', 'character varying(64)'), ('current_user_name', 'character varying(64)'),
			 ('approved_at', 'timestamp with time zone'), ('waterfall_sha256', 'character varying(64)')$$,
	'approval_log has typed columns');
SELECT ok((SELECT 'security_invoker=true' = ANY (c.reloptions) FROM pg_class c
			WHERE c.oid = 'afregning.approval_log'::regclass), 'approval_log is security_invoker');
SELECT ok(obj_description('afregning.approval_log'::regclass, 'pg_class') IS NOT NULL
		  AND NOT EXISTS (SELECT 1 FROM pg_attribute a
						   WHERE a.attrelid = 'afregning.approval_log'::regclass AND a.attnum > 0
							 AND col_description(a.attrelid, a.attnum) IS NULL),
	'approval_log and its columns are commented');
SELECT ok(has_table_privilege('afregning_reader', 'afregning.approval_log', 'SELECT')
		  AND has_table_privilege('afregning_admin', 'afregning.approval_log', 'SELECT'),
	'the administrator and the reader can read approval_log');

-- restore mode: rows come with their links and approvals, nothing is added
SET LOCAL afregning.restore_mode = on;
INSERT INTO cost_entry (entry_key, year, cost_type, basis, amount)
VALUES ('r22', 2022, 'support_admin', 'expected', 1.00);
SELECT is(ledger_link_pending(), 0, 'in restore mode a ledger row is not queued');
SELECT is((SELECT max(link_id)::integer FROM ledger_link), 30, 'in restore mode a ledger row is not linked again');
INSERT INTO ledger_link VALUES (31, 'cost_entry', 'r22', '\x00', '\x00');
SELECT is((SELECT max(link_id)::integer FROM ledger_link), 31, 'in restore mode the dumped links load');

SELECT * FROM finish();
ROLLBACK;
