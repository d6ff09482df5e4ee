/*
 * Poisoned inputs are refused at entry (issue: trust, item 9): NaN,
 * infinities, magnitudes and decimals beyond each column's unit, in
 * cost_entry.amount, tariff.unit_price, service_order.share and
 * charge_schedule.rate.  Every refusal is checked for its SQLSTATE and its
 * constraint, and then that no row of any table of the schema changed.
 * Order shares of any scale (SPEC S13: 1/3.0) and up to 10^9 are accepted
 * and every reader of shares gives exact, hand-worked figures.  Seeded
 * charge schedule rows are told apart from user rows.  run_settlement
 * refuses non-finite periods with 22023 and logs nothing.
 */
BEGIN;
SELECT plan(63);
SET LOCAL search_path = afregning, public;
SET LOCAL client_min_messages = warning;

/* ------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------ */

\ir ../lib/schema_digest.sql

/* SQLSTATE and message of the error a statement raises (and its DETAIL) */
CREATE FUNCTION pg_temp.refusal(p_sql text, p_with_detail boolean DEFAULT false) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	st text;
	m text;
	d text;
BEGIN
	EXECUTE p_sql;
	RETURN 'accepted';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL;
	RETURN st || ': ' || m || CASE WHEN p_with_detail THEN ' / ' || d ELSE '' END;
END
$$;

/* ------------------------------------------------------------------
 * Fixture
 *
 * Municipality 101 with 10 citizens in 2021.  Systems: ESDH (municipal),
 * KY (monopoly_break), LOS (municipal).  Service ORG is ordered by ESDH
 * with share 1/3.0 and by KY with share 2/3.0; service BIG by ESDH with
 * share 10^9 and by LOS with share 1/3 written to 25 decimals.
 * ------------------------------------------------------------------ */

INSERT INTO municipality VALUES ('101', 'København', 'Hovedstaden');
INSERT INTO consumer_system VALUES ('ESDH', 'ESDH', 'municipal'), ('KY', 'KY', 'monopoly_break'),
	('LOS', 'LOS', 'municipal');
INSERT INTO service VALUES ('ORG', 'Organisation', 'support_system', 'ordered', 'pool'),
	('BIG', 'Big', 'serviceplatform', 'ordered', 'pool'),
	('CPR', 'CPR', 'serviceplatform', 'ordered', 'per_call');
INSERT INTO billing_year (year) VALUES (2021);
INSERT INTO population VALUES (2021, '101', 10);
INSERT INTO tariff VALUES ('CPR', '2021-01-01', 0.2500);
INSERT INTO cost_entry (entry_key, year, cost_type, basis, amount) VALUES
	('E1', 2021, 'support_admin', 'expected', 100.00);

SELECT lives_ok($$INSERT INTO service_order VALUES ('ORG', 'ESDH', 1 / 3.0), ('ORG', 'KY', 2 / 3.0)$$,
	'shares 1/3.0 and 2/3.0 (20 decimals) are accepted (S13)');
SELECT lives_ok($$INSERT INTO service_order VALUES ('BIG', 'ESDH', 1e9), ('BIG', 'LOS', 0.3333333333333333333333333)$$,
	'a share of 10^9 beside one with 25 decimals is accepted');
SELECT is((SELECT share FROM service_order WHERE service_code = 'ORG' AND system_code = 'ESDH'),
	0.33333333333333333333, 'a share is stored as given, not rounded');

CREATE TEMP TABLE digest_before AS SELECT pg_temp.schema_digest() AS d;

/* ------------------------------------------------------------------
 * cost_entry.amount: finite, |amount| < 10^12, at most 2 decimals
 * ------------------------------------------------------------------ */

SELECT is(pg_temp.refusal($$INSERT INTO cost_entry (entry_key, year, cost_type, basis, amount)
							VALUES ('X', 2021, 'support_admin', 'expected', 'NaN')$$),
	'23514: new row for relation "cost_entry" violates check constraint "cost_entry_amount_finite"',
	'a NaN amount is refused (23514, cost_entry_amount_finite)');
SELECT is(pg_temp.refusal($$INSERT INTO cost_entry (entry_key, year, cost_type, basis, amount)
							VALUES ('X', 2021, 'support_admin', 'expected', 'Infinity')$$),
	'23514: new row for relation "cost_entry" violates check constraint "cost_entry_amount_finite"',
	'an infinite amount is refused');
SELECT is(pg_temp.refusal($$INSERT INTO cost_entry (entry_key, year, cost_type, basis, amount)
							VALUES ('X', 2021, 'support_admin', 'actual', '-Infinity')$$),
	'23514: new row for relation "cost_entry" violates check constraint "cost_entry_amount_finite"',
	'a minus infinite amount is refused');
SELECT is(pg_temp.refusal($$INSERT INTO cost_entry (entry_key, year, cost_type, basis, amount)
							VALUES ('X', 2021, 'support_admin', 'expected', 1e12)$$),
	'23514: new row for relation "cost_entry" violates check constraint "cost_entry_amount_range"',
	'an amount of 10^12 is refused (cost_entry_amount_range)');
SELECT is(pg_temp.refusal($$INSERT INTO cost_entry (entry_key, year, cost_type, basis, amount)
							VALUES ('X', 2021, 'support_admin', 'expected', -1e30)$$),
	'23514: new row for relation "cost_entry" violates check constraint "cost_entry_amount_range"',
	'an amount of -10^30 is refused');
SELECT is(pg_temp.refusal($$INSERT INTO cost_entry (entry_key, year, cost_type, basis, amount)
							VALUES ('X', 2021, 'support_admin', 'expected', 10.005)$$),
	'23514: new row for relation "cost_entry" violates check constraint "cost_entry_amount_whole_ore"',
	'an amount of 10.005 is refused, not rounded (cost_entry_amount_whole_ore)');
SELECT is(pg_temp.refusal($$INSERT INTO cost_entry (entry_key, year, cost_type, basis, amount)
							VALUES ('X', 2021, 'support_admin', 'expected', 0.001)$$),
	'23514: new row for relation "cost_entry" violates check constraint "cost_entry_amount_whole_ore"',
	'an amount of 0.001 is refused');
SELECT throws_ok($$COPY cost_entry (entry_key, year, cost_type, basis, amount) FROM PROGRAM 'echo X,2021,support_admin,expected,NaN' (FORMAT csv)$$,
	'23514', NULL, 'a NaN amount is refused by COPY too');

/* ------------------------------------------------------------------
 * tariff.unit_price: finite, 0 <= price < 10^8, at most 4 decimals
 * ------------------------------------------------------------------ */

SELECT is(pg_temp.refusal($$INSERT INTO tariff VALUES ('ORG', '2021-03-01', 'NaN')$$),
	'23514: new row for relation "tariff" violates check constraint "tariff_unit_price_finite"',
	'a NaN tariff is refused (23514, tariff_unit_price_finite)');
SELECT is(pg_temp.refusal($$INSERT INTO tariff VALUES ('ORG', '2021-03-01', 'Infinity')$$),
	'23514: new row for relation "tariff" violates check constraint "tariff_unit_price_finite"',
	'an infinite tariff is refused');
SELECT is(pg_temp.refusal($$INSERT INTO tariff VALUES ('ORG', '2021-03-01', 1e8)$$),
	'23514: new row for relation "tariff" violates check constraint "tariff_unit_price_range"',
	'a tariff of 10^8 is refused (tariff_unit_price_range)');
SELECT is(pg_temp.refusal($$INSERT INTO tariff VALUES ('ORG', '2021-03-01', 0.00004)$$),
	'23514: new row for relation "tariff" violates check constraint "tariff_unit_price_scale"',
	'a tariff of 0.00004 is refused, not stored as 0.0000 (tariff_unit_price_scale)');
SELECT is(pg_temp.refusal($$INSERT INTO tariff VALUES ('ORG', '2021-03-01', -0.0001)$$),
	'23514: new row for relation "tariff" violates check constraint "tariff_unit_price_not_negative"',
	'a negative tariff is refused');
SELECT is(pg_temp.refusal($$UPDATE tariff SET unit_price = 'NaN' WHERE service_code = 'CPR'$$),
	'23514: new row for relation "tariff" violates check constraint "tariff_unit_price_finite"',
	'changing a tariff to NaN is refused');

/* ------------------------------------------------------------------
 * service_order.share: finite, 0 < share <= 10^9, at most 1000 decimals
 * ------------------------------------------------------------------ */

SELECT is(pg_temp.refusal($$INSERT INTO service_order VALUES ('CPR', 'ESDH', 'NaN')$$),
	'23514: new row for relation "service_order" violates check constraint "service_order_share_finite"',
	'a NaN share is refused (23514, service_order_share_finite)');
SELECT is(pg_temp.refusal($$INSERT INTO service_order VALUES ('CPR', 'ESDH', 'Infinity')$$),
	'23514: new row for relation "service_order" violates check constraint "service_order_share_finite"',
	'an infinite share is refused');
SELECT is(pg_temp.refusal($$INSERT INTO service_order VALUES ('CPR', 'ESDH', 1e30)$$),
	'23514: new row for relation "service_order" violates check constraint "service_order_share_range"',
	'a share of 10^30 is refused (service_order_share_range)');
SELECT is(pg_temp.refusal($$INSERT INTO service_order VALUES ('CPR', 'ESDH', 1000000000.0000000001)$$),
	'23514: new row for relation "service_order" violates check constraint "service_order_share_range"',
	'a share just above 10^9 is refused');
SELECT is(pg_temp.refusal(format($$INSERT INTO service_order VALUES ('CPR', 'ESDH', %s)$$,
								 '0.' || repeat('3', 1001))),
	'23514: new row for relation "service_order" violates check constraint "service_order_share_scale"',
	'a share with 1001 decimals is refused (service_order_share_scale)');
SELECT is(pg_temp.refusal($$INSERT INTO service_order VALUES ('CPR', 'ESDH', 0)$$),
	'23514: new row for relation "service_order" violates check constraint "service_order_share_positive"',
	'a share of 0 is refused');
SELECT is(pg_temp.refusal($$UPDATE service_order SET share = 'NaN' WHERE service_code = 'ORG'$$),
	'23514: new row for relation "service_order" violates check constraint "service_order_share_finite"',
	'changing a share to NaN is refused');

/* ------------------------------------------------------------------
 * charge_schedule.rate: finite, 0 <= rate < 10^8, at most 4 decimals
 * ------------------------------------------------------------------ */

SELECT is(pg_temp.refusal($$INSERT INTO charge_schedule (schedule_code, valid_from_year, from_citizens, rate)
							VALUES ('extra', 2021, 0, 'NaN')$$),
	'23514: new row for relation "charge_schedule" violates check constraint "charge_schedule_rate_finite"',
	'a NaN rate is refused (23514, charge_schedule_rate_finite)');
SELECT is(pg_temp.refusal($$INSERT INTO charge_schedule (schedule_code, valid_from_year, from_citizens, rate)
							VALUES ('extra', 2021, 0, 'Infinity')$$),
	'23514: new row for relation "charge_schedule" violates check constraint "charge_schedule_rate_finite"',
	'an infinite rate is refused');
SELECT is(pg_temp.refusal($$INSERT INTO charge_schedule (schedule_code, valid_from_year, from_citizens, rate)
							VALUES ('extra', 2021, 0, 1e8)$$),
	'23514: new row for relation "charge_schedule" violates check constraint "charge_schedule_rate_range"',
	'a rate of 10^8 is refused (charge_schedule_rate_range)');
SELECT is(pg_temp.refusal($$INSERT INTO charge_schedule (schedule_code, valid_from_year, from_citizens, rate)
							VALUES ('extra', 2021, 0, 12.50005)$$),
	'23514: new row for relation "charge_schedule" violates check constraint "charge_schedule_rate_scale"',
	'a rate with 5 decimals is refused (charge_schedule_rate_scale)');
SELECT is(pg_temp.refusal($$UPDATE charge_schedule SET rate = 'NaN' WHERE from_citizens = 0$$),
	'23514: new row for relation "charge_schedule" violates check constraint "charge_schedule_rate_finite"',
	'changing the seeded rate to NaN is refused');

/* ------------------------------------------------------------------
 * Other input limits, unchanged since 0.1.0
 * ------------------------------------------------------------------ */

SELECT throws_ok($$UPDATE population SET citizens = 0$$, '23514', NULL,
	'a population of 0 citizens is refused');
SELECT throws_ok($$UPDATE billing_year SET price_decimals = 3$$, '23514', NULL,
	'price_decimals 3 is refused');

/* ------------------------------------------------------------------
 * Typos in a value list: 22P02 with the valid values (SPEC §6)
 * ------------------------------------------------------------------ */

SELECT is(pg_temp.refusal($$INSERT INTO municipality VALUES ('998', 'Prøve', 'Jylland')$$, true),
	'22P02: invalid input value for region: "Jylland" / A region is one of: Hovedstaden, Sjælland, Syddanmark, Midtjylland, Nordjylland.',
	'a region typo (Jylland) is refused with 22P02 and the five regions');
SELECT is(pg_temp.refusal($$INSERT INTO cost_entry (entry_key, year, cost_type, basis, amount)
							 VALUES ('typo', 2021, 'drift', 'expected', 1.00)$$, true),
	'22P02: invalid input value for cost_type: "drift" / A cost_type is one of: establishment, infrastructure_establishment, operations, support_admin, data_consumption, dissemination, development_pool.',
	'a cost type typo (drift for operations) is refused with 22P02 and the seven cost types');
SELECT throws_ok($$INSERT INTO cost_entry (entry_key, year, cost_type, basis, amount)
				   VALUES ('typo', 2021, 'operations', 'forventet', 1.00)$$,
	'22P02', 'invalid input value for cost_basis: "forventet"', 'a basis typo is refused with 22P02');
SELECT throws_ok($$INSERT INTO consumer_system VALUES ('TYPO', 'Prøve', 'monopoly')$$,
	'22P02', 'invalid input value for system_class: "monopoly"', 'a system class typo is refused with 22P02');
SELECT throws_ok($$INSERT INTO service (code, name, platform, billing) VALUES ('TYPO', 'Prøve', 'serviceplatform', 'per call')$$,
	'22P02', 'invalid input value for billing_method: "per call"', 'a billing method typo is refused with 22P02');
SELECT throws_ok($$UPDATE service SET platform = 'Serviceplatformen' WHERE code = 'ORG'$$,
	'22P02', 'invalid input value for platform: "Serviceplatformen"', 'a platform typo in an UPDATE is refused with 22P02');
SELECT throws_ok($$INSERT INTO service (code, name, platform, funding) VALUES ('TYPO', 'Prøve', 'serviceplatform', 'pool')$$,
	'22P02', 'invalid input value for funding: "pool"', 'a funding typo is refused with 22P02');

SELECT is(pg_temp.schema_digest(), (SELECT d FROM digest_before),
	'no row of any table changed through all the refusals');

/* ------------------------------------------------------------------
 * What is accepted, at the limits
 * ------------------------------------------------------------------ */

SELECT lives_ok($$INSERT INTO cost_entry (entry_key, year, cost_type, basis, amount)
				  VALUES ('L1', 2021, 'support_admin', 'actual', 999999999999.99),
						 ('L2', 2021, 'support_admin', 'actual', -999999999999.99),
						 ('L3', 2021, 'support_admin', 'actual', 10.5)$$,
	'amounts of ±999,999,999,999.99 and 10.5 are accepted');
SELECT lives_ok($$INSERT INTO tariff VALUES ('ORG', '2021-03-01', 0.0001), ('ORG', '2021-04-01', 99999999.9999)$$,
	'tariffs of 0.0001 and 99,999,999.9999 are accepted');
SELECT results_eq($$SELECT unit_price::text FROM tariff WHERE service_code = 'ORG' ORDER BY valid_from$$,
	$$VALUES ('0.0001'), ('99999999.9999')$$, 'tariffs are stored exactly as given');
SELECT lives_ok($$INSERT INTO charge_schedule (schedule_code, valid_from_year, from_citizens, rate)
				  VALUES ('extra', 2021, 0, 0.0125)$$,
	'a rate with 4 decimals is accepted');

/* ------------------------------------------------------------------
 * Every reader of shares works for any scale, exactly (S13)
 *
 * ORG operations 100.00 over ESDH 1/3.0 and KY 2/3.0 (sum exactly 1):
 * 10000 øre -> floors 3333 and 6666, remainders 0.33.. and 0.66..; the
 * left-over øre goes to KY: ESDH 33.33 (municipal: pool), KY 66.67
 * (monopoly_break: system).
 * BIG establishment 1000.00 over ESDH 10^9 and LOS 0.333.. (25 decimals):
 * W = 1000000000.3333333333333333333333333; 100000 øre × 10^9 / W =
 * 99999.99996666.. -> 99999, remainder 10^14 - 99999 W = 999966667.0000..;
 * LOS: 100000 × 0.333.. / W -> 0, remainder 33333.33..; the left-over øre
 * goes to ESDH: ESDH 1000.00, LOS 0.00 (both system).
 * Expected pool of 2021: support_admin 100.00 + 33.33 = 133.33; price over
 * 10 citizens = 13.333 -> 13.33.
 * ------------------------------------------------------------------ */

INSERT INTO cost_entry (entry_key, year, cost_type, basis, service_code, amount) VALUES
	('OPS', 2021, 'operations', 'expected', 'ORG', 100.00),
	('EST', 2021, 'establishment', 'expected', 'BIG', 1000.00);

SELECT results_eq(
	$$SELECT entry_key::text COLLATE "default", route::text, payer_code::text COLLATE "default", amount::numeric FROM cost_allocation
	   WHERE entry_key IN ('OPS', 'EST') ORDER BY entry_key, payer_code NULLS FIRST$$,
	$$VALUES ('EST', 'system', 'ESDH', 1000.00), ('EST', 'system', 'LOS', 0.00),
			 ('OPS', 'pool', NULL, 33.33), ('OPS', 'system', 'KY', 66.67)$$,
	'cost_allocation splits by shares 1/3.0, 2/3.0, 10^9 and one of 25 decimals exactly');
SELECT results_eq($$SELECT expected_pool, carry_in, pool, citizens, price FROM preview_price(2021)$$,
	$$VALUES (133.33::numeric, 0.00::numeric, 133.33::numeric, 10::bigint, 13.33::numeric)$$,
	'preview_price reads the shares: 133.33 over 10 citizens is 13.33');
SELECT results_eq(
	$$SELECT cost_type::text, route::text, sum(amount) FROM cost_breakdown
	   WHERE year = 2021 AND basis::text = 'expected' GROUP BY 1, 2 ORDER BY 1, 2$$,
	$$VALUES ('establishment', 'system', 1000.00), ('operations', 'pool', 33.33),
			 ('operations', 'system', 66.67), ('support_admin', 'pool', 100.00)$$,
	'cost_breakdown reads the shares');
SELECT is(announce_price(2021), 13.33, 'announce_price reads the shares: 13.33');
SELECT results_eq(
	$$SELECT entry_key COLLATE "default", route::text, payer_code COLLATE "default", amount FROM cost_line
	   WHERE entry_key IN ('OPS', 'EST') ORDER BY entry_key, payer_code NULLS FIRST$$,
	$$VALUES ('EST', 'system', 'ESDH', 1000.00),
			 ('OPS', 'pool', NULL, 33.33), ('OPS', 'system', 'KY', 66.67)$$,
	'the fixed cost lines hold the exact split (the 0.00 part is not fixed)');

/* ------------------------------------------------------------------
 * Seeded charge schedule rows (they must survive a dump and restore;
 * test/scenario/seed_dump.sh restores one)
 * ------------------------------------------------------------------ */

SELECT results_eq(
	$$SELECT schedule_code COLLATE "default", valid_from_year, from_citizens, rate, seeded FROM charge_schedule ORDER BY 1, 2, 3$$,
	$$VALUES ('extra', 2021, 0, 0.0125, false),
			 ('infrastructure', 2020, 0, 25.00, true), ('infrastructure', 2020, 150000, 12.50, true)$$,
	'the seed is marked seeded, a row added by the administrator is not');
SELECT is((SELECT condition FROM (SELECT unnest(e.extconfig)::regclass AS tab, unnest(e.extcondition) AS condition
									FROM pg_extension e WHERE e.extname = 'afregning') c
			WHERE c.tab = 'afregning.charge_schedule'::regclass),
	'WHERE NOT seeded', 'the dump leaves out seeded rows only');
SELECT lives_ok($$INSERT INTO charge_schedule (schedule_code, valid_from_year, from_citizens, rate, seeded)
				  VALUES ('extra', 2021, 1000, 0.0100, true)$$,
	'a row written with seeded = true is accepted ...');
SELECT is((SELECT seeded FROM charge_schedule WHERE schedule_code = 'extra' AND from_citizens = 1000), false,
	'... as user data: only CREATE EXTENSION seeds');
UPDATE charge_schedule SET rate = 30.00 WHERE schedule_code = 'infrastructure' AND from_citizens = 0;
SELECT results_eq(
	$$SELECT from_citizens, rate, seeded FROM charge_schedule WHERE schedule_code = 'infrastructure' ORDER BY 1$$,
	$$VALUES (0, 30.00, false), (150000, 12.50, false)$$,
	'editing one seeded tier makes the whole seeded schedule user data (both tiers are dumped)');
SELECT throws_ok($$DELETE FROM charge_schedule WHERE schedule_code = 'infrastructure'$$, '55000', NULL,
	'a seeded schedule cannot be emptied (a restore would bring the seed back)');
SELECT lives_ok($$DELETE FROM charge_schedule WHERE schedule_code = 'infrastructure' AND from_citizens = 150000$$,
	'one tier of it can be deleted');
SELECT results_eq(
	$$SELECT from_citizens, rate, seeded FROM charge_schedule WHERE schedule_code = 'infrastructure' ORDER BY 1$$,
	$$VALUES (0, 30.00, false)$$, 'the schedule is now the administrator''s single tier');
SELECT throws_ok($$UPDATE charge_schedule SET valid_from_year = 2022 WHERE schedule_code = 'infrastructure'$$,
	'55000', NULL, 'moving the last row out of the seeded schedule is refused too');
SELECT results_eq(
	$$SELECT schedule_code COLLATE "default", valid_from_year, from_citizens, rate, seeded FROM charge_schedule ORDER BY 1, 2, 3$$,
	$$VALUES ('extra', 2021, 0, 0.0125, false), ('extra', 2021, 1000, 0.0100, false),
			 ('infrastructure', 2020, 0, 30.00, false)$$,
	'the refused changes left the schedules as they were');

/* ------------------------------------------------------------------
 * run_settlement: a non-finite period is refused before anything else
 * ------------------------------------------------------------------ */

CREATE TEMP TABLE runs_before AS SELECT count(*) AS n FROM settlement_run;
SELECT is(pg_temp.refusal($$SELECT run_settlement('bill_direct', 'infinity')$$),
	'22023: settlement period must be a finite date, not infinity',
	'run_settlement(bill_direct, infinity) is refused with 22023');
SELECT throws_ok($$SELECT run_settlement('close_year', '-infinity')$$, '22023', NULL,
	'run_settlement(close_year, -infinity) is refused with 22023');
SELECT throws_ok($$SELECT run_settlement('preview_price', 'infinity')$$, '22023', NULL,
	'run_settlement(preview_price, infinity) is refused with 22023');
SELECT is((SELECT count(*) FROM settlement_run), (SELECT n FROM runs_before),
	'the refused runs logged nothing');
SELECT is((SELECT status FROM run_settlement('preview_price', '2021-06-01')), 'succeeded',
	'a finite period still runs');

SELECT * FROM finish();
ROLLBACK;
