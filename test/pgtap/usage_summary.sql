-- Live monthly summaries (SPEC §6 usage_month, §8): every statement that
-- loads usage keeps usage_summary equal to the sums of
-- the raw rows, a refused or rolled-back load adds nothing, a restore adds
-- nothing, and usage_month, bill_direct and close_year read the sums.
BEGIN;
SELECT plan(20);
SET LOCAL search_path = afregning, public;

INSERT INTO municipality VALUES ('101', 'A', 'Hovedstaden'), ('147', 'B', 'Hovedstaden');
INSERT INTO consumer_system VALUES ('ESDH', 'ESDH', 'municipal');
INSERT INTO service VALUES ('CVR', 'CVR', 'serviceplatform', 'ordered', 'pool'),
	('CPR', 'CPR', 'serviceplatform', 'ordered', 'per_call');
INSERT INTO tariff VALUES ('CPR', '2020-12-01', 0.25);
INSERT INTO billing_year (year) VALUES (2021);
INSERT INTO usage_batch (batch_key) VALUES ('b1'), ('b2');

-- the summary as text, key by key, and the same sums made from the raw rows
CREATE FUNCTION pg_temp.summary() RETURNS text LANGUAGE sql AS $$
	SELECT coalesce(string_agg(format('%s %s %s %s %s/%s', to_char(period, 'MM'), municipality_code,
									  system_code, service_code, calls, usage_rows), ', '
							   ORDER BY period, municipality_code, system_code, service_code), '')
	  FROM afregning.usage_summary
$$;
CREATE FUNCTION pg_temp.from_rows() RETURNS text LANGUAGE sql AS $$
	SELECT coalesce(string_agg(format('%s %s %s %s %s/%s', to_char(period, 'MM'), municipality_code,
									  system_code, service_code, calls, n), ', '
							   ORDER BY period, municipality_code, system_code, service_code), '')
	  FROM (SELECT period, municipality_code, system_code, service_code, sum(calls) AS calls,
				   count(*) AS n
			  FROM afregning.usage GROUP BY 1, 2, 3, 4) g
$$;

-- one statement, two rows of one key: one sum of 10 + 5 calls from 2 rows
INSERT INTO usage VALUES ('2021-01-01', '101', 'ESDH', 'CVR', 10, 'b1'),
	('2021-01-01', '101', 'ESDH', 'CVR', 5, 'b1'),
	('2021-01-01', '147', 'ESDH', 'CVR', 7, 'b1'),
	('2021-01-01', '101', 'ESDH', 'CPR', 40, 'b1');
SELECT is(pg_temp.summary(),
	'01 101 ESDH CPR 40/1, 01 101 ESDH CVR 15/2, 01 147 ESDH CVR 7/1',
	'a load adds its rows'' calls per month, municipality, system and service');

-- a later statement adds to the same sum; a row of 0 calls still counts as a row
INSERT INTO usage VALUES ('2021-01-01', '101', 'ESDH', 'CVR', 1, 'b2'),
	('2021-02-01', '101', 'ESDH', 'CVR', 0, 'b2');
SELECT is(pg_temp.summary(),
	'01 101 ESDH CPR 40/1, 01 101 ESDH CVR 16/3, 01 147 ESDH CVR 7/1, 02 101 ESDH CVR 0/1',
	'a second statement adds to the sums: 15 + 1 calls from 3 rows; February starts at 0 calls, 1 row');

-- a COPY is a statement like any other
COPY usage (period, municipality_code, system_code, service_code, calls, batch_key) FROM stdin;
2021-02-01	147	ESDH	CVR	3	b2
2021-02-01	147	ESDH	CVR	4	b2
\.
SELECT is((SELECT calls || '/' || usage_rows FROM usage_summary
			WHERE period = '2021-02-01' AND municipality_code = '147'),
	'7/2', 'COPY adds its rows: 3 + 4 calls from 2 rows');

-- refused and rolled-back loads add nothing
SELECT throws_ok($$INSERT INTO usage VALUES ('2021-01-01', '101', 'ESDH', 'CVR', 100, 'b1'),
											 ('2021-01-01', '999', 'ESDH', 'CVR', 100, 'b1')$$,
	'23503', NULL, 'a load with an unknown municipality is refused');
SELECT throws_ok($$INSERT INTO usage VALUES ('2021-01-01', '101', 'ESDH', 'CVR', -1, 'b1')$$,
	'23514', NULL, 'a load with negative calls is refused');
SAVEPOINT before_load;
INSERT INTO usage VALUES ('2021-01-01', '101', 'ESDH', 'CVR', 1000, 'b1');
ROLLBACK TO SAVEPOINT before_load;
SELECT is(pg_temp.summary(),
	'01 101 ESDH CPR 40/1, 01 101 ESDH CVR 16/3, 01 147 ESDH CVR 7/1, 02 101 ESDH CVR 0/1, 02 147 ESDH CVR 7/2',
	'refused and rolled-back loads left every sum as it was');
SELECT is(pg_temp.summary(), pg_temp.from_rows(), 'the sums equal the raw rows'' sums');

-- a refused statement's sums are never written by the next one: the first
-- row below passes the check (its 500 calls are summed) before the second
-- is refused; then a good load adds its own 2 calls only
DO $$
BEGIN
	INSERT INTO afregning.usage VALUES ('2021-02-01', '147', 'ESDH', 'CVR', 500, 'b2'),
		('2021-02-01', '999', 'ESDH', 'CVR', 1, 'b2');
EXCEPTION WHEN foreign_key_violation THEN
	NULL;
END
$$;
INSERT INTO usage VALUES ('2021-02-01', '147', 'ESDH', 'CVR', 2, 'b2');
SELECT is((SELECT calls || '/' || usage_rows FROM usage_summary
			WHERE period = '2021-02-01' AND municipality_code = '147'),
	'9/3', 'after a refused load caught in PL/pgSQL, a good load adds its 2 calls only: 7 + 2 = 9 from 3 rows');

-- readers answer from the sums
SELECT is((SELECT calls FROM usage_month
			WHERE month = '2021-01-01' AND municipality_code = '101' AND service_code = 'CVR'),
	16::bigint, 'usage_month: 101''s January CVR calls are 10 + 5 + 1 = 16');
SELECT is((SELECT amount FROM usage_month
			WHERE month = '2021-01-01' AND municipality_code = '101' AND service_code = 'CPR'),
	10.00::numeric(14,2), 'usage_month: 40 CPR calls × 0.25 = 10.00');
\ir ../lib/plan_of.sql
SELECT unalike(pg_temp.plan_of('SELECT * FROM afregning.usage_month WHERE month = ''2021-01-01'''),
	'%usage_y2021%', 'usage_month never reads the raw usage rows');
SELECT alike(pg_temp.plan_of('SELECT * FROM afregning.usage_month WHERE month = ''2021-01-01'''),
	'%usage_summary%', 'usage_month reads usage_summary');
SELECT is((SELECT string_agg(municipality_code || ' ' || calls || ' ' || amount, ', ')
			 FROM per_call_lines('2021-01-01'::date)),
	'101 40 10.00', 'per_call_lines (what bill_direct posts) reads the sums: 40 CPR calls, 10.00');

-- usage is append-only, so nothing else can move a sum
SELECT throws_ok($$DELETE FROM usage WHERE period = '2021-01-01'$$,
	'0A000', NULL, 'a DELETE of usage is refused');
SELECT throws_ok($$UPDATE usage SET calls = 20 WHERE calls = 10$$,
	'0A000', NULL, 'an UPDATE of usage is refused');
SELECT is(pg_temp.summary(), pg_temp.from_rows(), 'the sums still equal the raw rows'' sums');

-- the sums cannot be written by hand, not even by the administrator
SELECT throws_ok($$SET LOCAL ROLE afregning_admin;
				   INSERT INTO afregning.usage_summary VALUES ('2021-03-01', '101', 'ESDH', 'CVR', 1, 1)$$,
	'42501', NULL, 'afregning_admin cannot write usage_summary');
RESET ROLE;

-- a restore brings the sums with the rows: its loads add nothing
SAVEPOINT restore;
SET LOCAL afregning.restore_mode = on;
INSERT INTO usage VALUES ('2021-03-01', '101', 'ESDH', 'CVR', 9, 'b2');
SELECT is((SELECT count(*)::integer FROM usage_summary WHERE period = '2021-03-01'), 0,
	'in restore mode a load adds no sum (the dump brings them)');
ROLLBACK TO SAVEPOINT restore;
SELECT is(current_setting('afregning.restore_mode'), 'off', 'restore mode is off again');

-- close_year rates the sums: pool usage 16 + 7 + 9 = 32 CVR calls (no tariff: 0.00) and
-- 40 CPR calls at 0.25 = 10.00 for municipality 101
INSERT INTO population VALUES (2021, '101', 1000), (2021, '147', 1000);
SELECT announce_price(2021);
SELECT close_year(2021, true);
SELECT is((SELECT string_agg(route || ' ' || coalesce(payer_code, '-') || ' ' || service_code
							 || ' ' || calls || ' ' || amount, ', ' ORDER BY route, service_code)
			 FROM usage_line WHERE year = 2021),
	'pool - CVR 32 0.00, municipality 101 CPR 40 10.00',
	'close_year rates the sums: 32 pool calls, 40 per-call calls for 10.00');

SELECT * FROM finish();
ROLLBACK;
