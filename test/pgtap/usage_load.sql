-- Loading usage: the usage_row_valid check stands in for foreign keys
-- (SPEC §6, §8), so its referential half is tested here.
BEGIN;
SELECT plan(17);
SET LOCAL search_path = afregning, public;

INSERT INTO municipality VALUES ('101', 'A', 'Hovedstaden'), ('147', 'B', 'Hovedstaden');
INSERT INTO consumer_system VALUES ('ESDH', 'ESDH', 'municipal');
INSERT INTO service VALUES ('CVR', 'CVR', 'serviceplatform', 'ordered', 'pool'),
	('OIS', 'OIS', 'serviceplatform', 'ordered', 'pool');
INSERT INTO billing_year (year) VALUES (2021);
INSERT INTO usage_batch (batch_key) VALUES ('b1');
INSERT INTO usage VALUES ('2021-01-01', '101', 'ESDH', 'CVR', 10, 'b1');

SELECT throws_ok($$DELETE FROM municipality WHERE code = '101'$$, '23503', NULL,
	'a municipality with usage cannot be deleted');
SELECT throws_ok($$UPDATE service SET code = 'CVR2' WHERE code = 'CVR'$$, '23503', NULL,
	'a service with usage cannot change its code');
SELECT throws_ok($$DELETE FROM consumer_system WHERE code = 'ESDH'$$, '23503', NULL,
	'a consumer system with usage cannot be deleted');
SELECT is((SELECT count(*)::integer FROM municipality) + (SELECT count(*)::integer FROM service)
		  + (SELECT count(*)::integer FROM consumer_system), 5, 'nothing was deleted or renamed');
SELECT lives_ok($$UPDATE service SET name = 'CVR-opslag' WHERE code = 'CVR'$$,
	'a service with usage may still be renamed in words');
SELECT lives_ok($$DELETE FROM municipality WHERE code = '147'$$,
	'a municipality without usage can be deleted');

-- one bad row refuses the whole statement
SELECT throws_ok($$INSERT INTO usage VALUES ('2021-02-01', '101', 'ESDH', 'CVR', 5, 'b1'),
											 ('2021-02-01', '999', 'ESDH', 'CVR', 5, 'b1')$$,
	'23503', NULL, 'a load with one unknown municipality is refused');
SELECT is((SELECT sum(calls)::integer FROM usage), 10, 'and none of its rows was written');

-- the check sees reference data as of its statement: register, then load
INSERT INTO municipality VALUES ('999', 'C', 'Sjælland');
SELECT lives_ok($$INSERT INTO usage VALUES ('2021-02-01', '999', 'ESDH', 'OIS', 5, 'b1')$$,
	'usage of a municipality registered by the previous statement is accepted');
SELECT is((SELECT sum(calls)::integer FROM usage), 15, 'usage now holds 10 + 5 calls');


-- S11: a batch takes rows from the transaction that registered it, in any
-- statement of it (also when registered in a subtransaction); another
-- transaction's batch is refused with 23505 (test/scenario/races.sh)
SAVEPOINT register;
INSERT INTO usage_batch (batch_key) VALUES ('b2');
RELEASE SAVEPOINT register;
SELECT lives_ok($$INSERT INTO usage VALUES ('2021-03-01', '101', 'ESDH', 'CVR', 1, 'b2')$$,
	'a batch registered in a released subtransaction of this transaction takes rows');
SELECT lives_ok($$INSERT INTO usage VALUES ('2021-04-01', '101', 'ESDH', 'CVR', 2, 'b2')$$,
	'... and more rows in a later statement of the same transaction');
SELECT throws_ok($$INSERT INTO usage VALUES ('2021-04-01', '101', 'ESDH', 'CVR', 4, 'b9')$$,
	'23503', NULL, 'usage of an unregistered batch: 23503');
SELECT is((SELECT sum(calls)::integer FROM usage), 18, 'usage holds 10 + 5 + 1 + 2 calls');

-- registering a batch key again: 23505 with a hint, and nothing changes
SELECT throws_ok($$INSERT INTO usage_batch (batch_key) VALUES ('b1')$$,
	'23505', 'usage batch "b1" is already registered', 'a batch key registered again: 23505');
CREATE FUNCTION pg_temp.hint_of(q text) RETURNS text LANGUAGE plpgsql AS $f$
DECLARE h text;
BEGIN
	EXECUTE q;
	RETURN NULL;
EXCEPTION WHEN unique_violation THEN
	GET STACKED DIAGNOSTICS h = PG_EXCEPTION_HINT;
	RETURN h;
END
$f$;
SELECT is(pg_temp.hint_of($$INSERT INTO usage_batch (batch_key) VALUES ('b2')$$),
	'Deliver late or corrected usage as a new batch with its own key.',
	'... with a hint to deliver a new batch');
SELECT is((SELECT count(*)::integer || '/' || sum(calls)::integer FROM usage) || ' ' ||
		  (SELECT string_agg(batch_key, ',' ORDER BY batch_key) FROM usage_batch),
	'4/18 b1,b2', 'the refused registrations changed nothing');

SELECT * FROM finish();
ROLLBACK;
