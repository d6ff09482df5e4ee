/*
 * The DROP guard (SPEC §7): DDL must not delete ledger data, however the
 * command is spelled.  What a command names is checked, not its text, so
 * a schema merely called afregning_scratch can be dropped, while a DROP
 * EXTENSION built with EXECUTE, run with session_replication_role =
 * replica, DROP OWNED BY the owner, a DROP TABLE of a usage partition, a
 * DETACH PARTITION, a DROP COLUMN and a cascade from a dropped type are
 * refused with 55000 while the ledgers hold data; only a superuser who sets
 * afregning.allow_drop gets past.  TRUNCATE of population, tariff and
 * baseline is refused once a year they hold rows for is locked.
 *
 * Each refusal is checked for its SQLSTATE and against a digest of every
 * row of every table of the schema (usage partitions included).
 *
 * Fixture: municipality 101 with 1,000 citizens in 2019 and 2020; 2019
 * expected support_admin 1,000.00 -> price 1,000.00 / 1,000 = 1.00;
 * actual 900.00; closed with a difference of 900.00 - 1,000.00 = -100.00.
 * One CPR usage row in January 2019 (partition of 2019).
 */
BEGIN;
SELECT plan(44);
SET LOCAL search_path = afregning, public;
SET LOCAL client_min_messages = warning;

\ir ../lib/schema_digest.sql

-- an empty ledger may be dropped: nothing would be lost
SAVEPOINT empty;
SELECT lives_ok('DROP EXTENSION afregning', 'an extension with empty ledgers can be dropped');
ROLLBACK TO SAVEPOINT empty;

-- a schema whose name contains afregning is none of the guard's business
SELECT lives_ok($$CREATE SCHEMA afregning_scratch; CREATE TABLE afregning_scratch.t (x int);
				  INSERT INTO afregning_scratch.t VALUES (1); DROP SCHEMA afregning_scratch CASCADE$$,
	'DROP SCHEMA afregning_scratch CASCADE is allowed (ledgers empty)');

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
/* 900.00 + 3 × 0.50 per call is billed directly, not pooled: 900.00 - 1,000.00 */
SELECT is(close_year(2019), -100.00, 'fixture: 2019 closes with -100.00');

SELECT lives_ok($$CREATE SCHEMA afregning_scratch; CREATE TABLE afregning_scratch.t (x int);
				  INSERT INTO afregning_scratch.t VALUES (1); DROP SCHEMA afregning_scratch CASCADE$$,
	'DROP SCHEMA afregning_scratch CASCADE is allowed while the ledgers hold data');
SELECT is(to_regnamespace('afregning_scratch'), NULL, '(and afregning_scratch is gone)');

CREATE TEMP TABLE before AS SELECT pg_temp.schema_digest() AS d;
SELECT matches((SELECT d FROM before), ' over 2[0-9] tables$', '(the digest covers every table of the schema)');

/* ---- drops, each refused with 55000 and changing nothing ---------------- */

SELECT throws_ok($$DO 'BEGIN EXECUTE ''DROP EXTENSION afr'' || ''egning CASCADE''; END'$$, '55000', NULL,
	'DROP EXTENSION built with EXECUTE is refused');
SELECT is(pg_temp.schema_digest(), (SELECT d FROM before), '... nothing changed');

SAVEPOINT replica;
SET LOCAL session_replication_role = replica;
SELECT throws_ok('DROP EXTENSION afregning CASCADE', '55000', NULL,
	'DROP EXTENSION with session_replication_role = replica is refused');
ROLLBACK TO SAVEPOINT replica;
SELECT is(pg_temp.schema_digest(), (SELECT d FROM before), '... nothing changed');

SELECT throws_ok('DROP SCHEMA afregning CASCADE', '55000', NULL, 'DROP SCHEMA afregning CASCADE is refused');
SELECT is(pg_temp.schema_digest(), (SELECT d FROM before), '... nothing changed');

SELECT throws_ok(format('DROP OWNED BY %I', (SELECT e.extowner::regrole::text FROM pg_extension e
											  WHERE e.extname = 'afregning')),
	'55000', NULL, 'DROP OWNED BY the extension''s owner is refused');
SELECT is(pg_temp.schema_digest(), (SELECT d FROM before), '... nothing changed');

/* a role that owns one table of the schema (a partition, say) */
CREATE ROLE t_partition_owner NOLOGIN;
ALTER TABLE afregning.usage_y2019 OWNER TO t_partition_owner;
SELECT throws_ok('DROP OWNED BY t_partition_owner', '55000', NULL,
	'DROP OWNED BY the owner of a usage partition is refused');
SELECT is(pg_temp.schema_digest(), (SELECT d FROM before), '... nothing changed');
ALTER TABLE afregning.usage_y2019 OWNER TO CURRENT_USER;

SELECT throws_ok('DROP TABLE afregning.usage_y2019', '55000', NULL, 'DROP TABLE of a usage partition is refused');
SELECT is(pg_temp.schema_digest(), (SELECT d FROM before), '... nothing changed');

SELECT throws_ok('DROP TABLE afregning.population, afregning.cost_entry CASCADE', '55000', NULL,
	'DROP TABLE of a ledger is refused');
SELECT is(pg_temp.schema_digest(), (SELECT d FROM before), '... nothing changed');

SELECT throws_ok('ALTER TABLE afregning.usage DETACH PARTITION afregning.usage_y2019', '55000', NULL,
	'DETACH PARTITION of a usage partition is refused');
SELECT is((SELECT count(*)::integer FROM pg_inherits WHERE inhrelid = 'afregning.usage_y2019'::regclass), 1,
	'... the partition is still attached');
SELECT is(pg_temp.schema_digest(), (SELECT d FROM before), '... nothing changed');

SELECT throws_ok('ALTER TABLE afregning.cost_entry DROP COLUMN amount CASCADE', '55000', NULL,
	'DROP COLUMN of a ledger column is refused');
SELECT is(pg_temp.schema_digest(), (SELECT d FROM before), '... nothing changed');

SELECT throws_ok('ALTER TABLE afregning.usage_y2019 SET SCHEMA public', '55000', NULL,
	'moving a usage partition out of the schema (to drop it there) is refused');
SELECT is(pg_temp.schema_digest(), (SELECT d FROM before), '... nothing changed');

/* the second line of defence: what is dropped, looked at after the fact */
SAVEPOINT second_line;
ALTER EVENT TRIGGER afregning_guard_ddl DISABLE;
SELECT throws_ok('DROP TABLE afregning.usage_y2019', '55000', NULL,
	'with the ddl_command_start guard off, the sql_drop guard still refuses DROP TABLE of a partition');
ROLLBACK TO SAVEPOINT second_line;
SELECT is(pg_temp.schema_digest(), (SELECT d FROM before), '... nothing changed');

/* ---- TRUNCATE of the inputs of locked years ---------------------------- */

SELECT throws_ok('TRUNCATE afregning.population', '55000', NULL,
	'TRUNCATE population is refused: 2019 is closed');
SELECT throws_ok('TRUNCATE afregning.tariff', '55000', NULL,
	'TRUNCATE tariff is refused: the 2019 tariff rated a closed year');
/* a baseline row of closed 2019 can only come from a dump: replay it */
SET LOCAL afregning.restore_mode = on;
INSERT INTO baseline VALUES (2019, 'ESDH', 'CPR', 1);
SET LOCAL afregning.restore_mode = off;
CREATE TEMP TABLE before_baseline AS SELECT pg_temp.schema_digest() AS d;
SELECT throws_ok('TRUNCATE afregning.baseline', '55000', NULL,
	'TRUNCATE baseline is refused: it holds a row of closed 2019');
SELECT is(pg_temp.schema_digest(), (SELECT d FROM before_baseline), '... nothing changed by the three TRUNCATEs');
SELECT throws_ok('TRUNCATE afregning.population, afregning.baseline', '55000', NULL,
	'TRUNCATE of two of them at once is refused as well');
/* rows of open years only: nothing settled depends on them */
SAVEPOINT open_rows;
SET LOCAL afregning.restore_mode = on;
DELETE FROM baseline;
SET LOCAL afregning.restore_mode = off;
INSERT INTO baseline VALUES (2020, 'ESDH', 'CPR', 1);
SELECT lives_ok('TRUNCATE afregning.baseline', 'TRUNCATE baseline holding only rows of open 2020 is allowed');
ROLLBACK TO SAVEPOINT open_rows;

/* ---- the deliberate drop ------------------------------------------------ */

SAVEPOINT placeholder;
/* a made-up afregning.* placeholder is never read: only the real, superuser-only setting counts */
SELECT set_config('afregning.allow_drops', 'on', true);
SELECT throws_ok('DROP EXTENSION afregning', '55000', NULL,
	'a placeholder named like the switch lets no drop through');
ROLLBACK TO SAVEPOINT placeholder;

SAVEPOINT allowed;
SET LOCAL afregning.allow_drop = on;
/* the steps run above are logged by a deferred trigger: fire it before the drop */
SET CONSTRAINTS ALL IMMEDIATE;
SELECT lives_ok('DROP EXTENSION afregning', 'a superuser with afregning.allow_drop = on can drop the extension');
SELECT is((SELECT count(*)::integer FROM pg_extension WHERE extname = 'afregning'), 0, '... and it is gone');
ROLLBACK TO SAVEPOINT allowed;
SELECT has_extension('afregning', 'rolled back: the extension is back');
SELECT is(pg_temp.schema_digest(), (SELECT d FROM before_baseline), 'rolled back: every row is back');

SAVEPOINT allowed_table;
SET LOCAL afregning.allow_drop = on;
SELECT lives_ok('DROP TABLE afregning.usage_y2019', 'with afregning.allow_drop = on a usage partition can be dropped');
ROLLBACK TO SAVEPOINT allowed_table;

SELECT is(current_setting('afregning.allow_drop'), 'off', 'afregning.allow_drop is off again');
SELECT is(pg_temp.schema_digest(), (SELECT d FROM before_baseline), 'at the end nothing has changed');

SELECT * FROM finish();
ROLLBACK;
