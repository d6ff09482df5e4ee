/*
 * Restore mode is explicit (SPEC §7): outside it nothing changes a closed
 * year, not even a superuser with row_security = off (what 0.1.0 took for
 * a restore); inside it, switched on by a superuser, a dump's rows of
 * locked years are let in.  A billing year's status moves only through
 * set_year_status(), whose flag no session can set: the old placeholder
 * settings are gone and afregning.* names only real settings.
 *
 * Fixture: municipality 101 with 1,000 citizens; 2019 expected
 * support_admin 1,000.00 -> price 1.00, actual 900.00, closed (difference
 * -100.00 carried to 2021); 2020 open.  One CPR usage row in 2019.
 */
BEGIN;
SELECT plan(22);
SET LOCAL search_path = afregning, public;
SET LOCAL client_min_messages = warning;

\ir ../lib/schema_digest.sql

INSERT INTO municipality VALUES ('101', 'København', 'Hovedstaden');
INSERT INTO consumer_system VALUES ('ESDH', 'ESDH', 'municipal');
INSERT INTO service VALUES ('CPR', 'CPR', 'serviceplatform', 'ordered', 'per_call');
INSERT INTO tariff VALUES ('CPR', '2019-01-01', 0.5000);
INSERT INTO billing_year (year) VALUES (2019), (2020);
INSERT INTO population VALUES (2019, '101', 1000), (2020, '101', 1000);
INSERT INTO cost_entry (entry_key, year, cost_type, basis, amount) VALUES
	('e19', 2019, 'support_admin', 'expected', 1000.00),
	('a19', 2019, 'support_admin', 'actual', 900.00);
INSERT INTO usage_batch (batch_key) VALUES ('u19');
INSERT INTO usage VALUES ('2019-01-01', '101', 'ESDH', 'CPR', 3, 'u19');
SELECT is(announce_price(2019), 1.00, 'fixture: 2019 is announced at 1.00');
SELECT is(close_year(2019), -100.00, 'fixture: 2019 closes with 900.00 - 1,000.00 = -100.00');
CREATE TEMP TABLE before AS SELECT pg_temp.schema_digest() AS d;

/* ---- outside restore mode -------------------------------------------------- */

SELECT is(current_setting('afregning.restore_mode'), 'off', 'restore mode is off by default');
SELECT is(restoring(), false, 'restoring() is false');

SET LOCAL row_security = off;
SELECT throws_ok($$INSERT INTO cost_entry (entry_key, year, cost_type, basis, amount)
				   VALUES ('late19', 2019, 'support_admin', 'actual', 500.00)$$,
	'55000', NULL, 'a superuser with row_security = off cannot book an actual cost into closed 2019');
SELECT throws_ok($$INSERT INTO usage VALUES ('2019-02-01', '101', 'ESDH', 'CPR', 7, 'u19')$$,
	'55000', NULL, '... nor load usage into it');
SELECT throws_ok($$DELETE FROM population WHERE year = 2019$$,
	'55000', NULL, '... nor delete its population');
SELECT throws_ok($$UPDATE population SET citizens = 1 WHERE year = 2019$$,
	'55000', NULL, '... nor change its population');
SELECT throws_ok($$UPDATE billing_year SET status = 'open', closed_at = NULL WHERE year = 2019$$,
	'55000', NULL, '... nor reopen it');
SELECT throws_ok($$UPDATE billing_year SET status = 'announced', announced_at = now() WHERE year = 2020$$,
	'55000', NULL, '... nor announce 2020 by hand');
SELECT throws_ok($$SELECT afregning.set_year_status(2020, 'announced')$$,
	'55000', NULL, 'set_year_status() itself refuses to announce 2020 without its price announcement');
SELECT is(status_change_allowed(2020), false, 'outside set_year_status() no status change is allowed');
SET LOCAL row_security = on;
SELECT is(pg_temp.schema_digest(), (SELECT d FROM before), 'nothing changed');

/* no made-up setting counts: the 0.1.0 flag is a placeholder nobody reads */
SELECT throws_ok($$SELECT set_config('afregning.transition', '2020', true);
				   UPDATE billing_year SET status = 'announced', announced_at = now() WHERE year = 2020$$,
	'55000', NULL, 'afregning.transition set as in 0.1.0 lets no status change through');
SELECT throws_ok($$SELECT set_config('afregning.restore_modes', 'on', true);
				   INSERT INTO cost_entry (entry_key, year, cost_type, basis, amount)
				   VALUES ('x-late', 2019, 'support_admin', 'actual', 1.00)$$,
	'55000', NULL, 'nor does a placeholder named like restore mode');
SELECT is(pg_temp.schema_digest(), (SELECT d FROM before), 'nothing changed');

/* ---- in restore mode ------------------------------------------------------- */

SAVEPOINT restore;
SET LOCAL afregning.restore_mode = on;
SELECT is(restoring(), true, 'a superuser who sets afregning.restore_mode is restoring');
SELECT lives_ok($$INSERT INTO cost_entry (entry_key, year, cost_type, basis, amount)
				  VALUES ('late19', 2019, 'support_admin', 'actual', 500.00)$$,
	'in restore mode a dump''s actual cost of closed 2019 is let in');
SELECT lives_ok($$INSERT INTO usage VALUES ('2019-02-01', '101', 'ESDH', 'CPR', 7, 'u19')$$,
	'... and its usage');
SELECT throws_ok($$UPDATE cost_entry SET amount = 0 WHERE entry_key = 'a19'$$, '0A000', NULL,
	'the append-only guard stays on in restore mode');
ROLLBACK TO SAVEPOINT restore;

SELECT is(current_setting('afregning.restore_mode'), 'off', 'restore mode is off again');
SELECT is(pg_temp.schema_digest(), (SELECT d FROM before), 'and every row is as before');

SELECT * FROM finish();
ROLLBACK;
