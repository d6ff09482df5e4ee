-- What-if previews and the price forecast (SPEC §9): they only read.
BEGIN;
SELECT plan(27);
SET LOCAL search_path = afregning, public;

INSERT INTO municipality VALUES ('101', 'A', 'Hovedstaden'), ('147', 'B', 'Hovedstaden'),
	('151', 'C', 'Sjælland');
INSERT INTO billing_year (year, carry_lag) VALUES (2019, 1), (2020, 1), (2021, 1);
INSERT INTO population SELECT y, c, 1 FROM generate_series(2019, 2021) y,
	unnest(ARRAY['101', '147', '151']) c;
INSERT INTO cost_entry (entry_key, year, cost_type, basis, amount) VALUES
	('e19', 2019, 'support_admin', 'expected', 1000.00),
	('e20', 2020, 'support_admin', 'expected', 1200.00),
	('e21', 2021, 'support_admin', 'expected', 1500.00);

-- 2019: pool 1000.00 over 3 citizens -> 333.33; +300.00 operations -> 1300.00 / 3 = 433.33
SELECT results_eq(
	$$SELECT expected_pool, pool, citizens, price, price_change FROM what_if_price(2019, '{"operations": 300}')$$,
	$$VALUES (1300.00::numeric, 1300.00::numeric, 3::bigint, 433.33::numeric, 100.00::numeric)$$,
	'what-if adds a pool-routed expected cost by type');
-- 1000.00 - 100.00 + 50.005 (rounded to 50.01) = 950.01 over 4 citizens = 237.5025 -> 237.50
SELECT results_eq(
	$$SELECT expected_pool, citizens, price FROM what_if_price(2019, '{"support_admin": -100, "dissemination": 50.005}', 4)$$,
	$$VALUES (950.01::numeric, 4::bigint, 237.50::numeric)$$,
	'what-if with several types and another citizen count');
SELECT is((SELECT price FROM what_if_price(2019)), 333.33, 'no adjustment gives the preview price');
SELECT is((SELECT count(*)::integer FROM cost_entry), 3, 'what-if wrote nothing');
SELECT throws_ok($$SELECT * FROM what_if_price(2019, '{"bogus": 1}')$$, '22023', NULL,
	'an unknown cost type is refused');
SELECT throws_ok($$SELECT * FROM what_if_price(2019, '{"operations": "many"}')$$, '22023', NULL,
	'a non-numeric adjustment is refused');
SELECT throws_ok($$SELECT * FROM what_if_price(2019, '[1]')$$, '22023', NULL,
	'adjustments must be an object');
SELECT throws_ok($$SELECT * FROM what_if_price(2019, '{}', 0)$$, '22023', NULL,
	'citizens must be positive');
SELECT throws_ok($$SELECT * FROM what_if_price(2030)$$, '22023', NULL,
	'an unknown year is refused');

/* ------------------------------------------------------------------
 * S14: adjustments go through the routing matrix like real entries.
 * Base 2019: expected pool 1000.00 over 3 citizens = 333.33.
 * ORG is ordered by KY (monopoly_break) 1 and ESDH (municipal) 3; DEV is
 * funded by the development pool; CPR is per_call.
 * ------------------------------------------------------------------ */
INSERT INTO consumer_system VALUES ('ESDH', 'ESDH', 'municipal'), ('KY', 'KY', 'monopoly_break'),
	('UDK1', 'UDK Pension', 'udk'), ('KP', 'KOMBIT projekt', 'kombit_project'),
	('NR', 'Nemrefusion', 'own_billing');
INSERT INTO service VALUES ('ORG', 'Organisation', 'support_system', 'ordered', 'pool'),
	('DEV', 'Udvikling', 'serviceplatform', 'development_pool', 'pool'),
	('CPR', 'CPR', 'serviceplatform', 'ordered', 'per_call');
INSERT INTO service_order VALUES ('ORG', 'KY', 1), ('ORG', 'ESDH', 3), ('DEV', 'KY', 1);

-- establishment is paid by the orderers, never by the pool (R4, R8)
SELECT results_eq(
	$$SELECT expected_pool, price, price_change FROM what_if_price(2019, '{"establishment": 300, "infrastructure_establishment": 700}')$$,
	$$VALUES (1000.00::numeric, 333.33::numeric, 0.00::numeric)$$,
	'establishment and infrastructure establishment adjustments never reach the pool');
SELECT results_eq(
	$$SELECT expected_pool, price FROM what_if_price(2019, '[{"cost_type": "establishment", "service_code": "ORG", "amount": 300}]')$$,
	$$VALUES (1000.00::numeric, 333.33::numeric)$$,
	'establishment of an ordered service goes to its orderers, not the pool');
-- operations of ORG 100.00 split 1:3: KY 25.00 (system), ESDH 75.00 (pool)
-- -> 1075.00 / 3 = 358.333.. -> 358.33, change 25.00
SELECT results_eq(
	$$SELECT expected_pool, price, price_change FROM what_if_price(2019, '[{"cost_type": "operations", "service_code": "ORG", "amount": 100.00}]')$$,
	$$VALUES (1075.00::numeric, 358.33::numeric, 25.00::numeric)$$,
	'operations are split by the orderers: the monopoly-break share leaves the pool');
-- operations of a development-pool service: all 90.00 to the pool -> 1090.00 / 3 = 363.33
SELECT is((SELECT expected_pool FROM what_if_price(2019, '[{"cost_type": "operations", "service_code": "DEV", "amount": 90}]')),
	1090.00, 'operations of a development-pool service are pool-funded');
-- data consumption of a udk or own-billing system, or of a per_call service: not the pool;
-- dissemination of a KOMBIT project: its system; of ESDH: the pool (60.00 -> 1060.00)
SELECT is((SELECT expected_pool FROM what_if_price(2019,
			'[{"cost_type": "data_consumption", "system_code": "UDK1", "amount": 50},
			  {"cost_type": "data_consumption", "system_code": "NR", "amount": 40},
			  {"cost_type": "data_consumption", "service_code": "CPR", "amount": 30},
			  {"cost_type": "dissemination", "system_code": "KP", "amount": 20},
			  {"cost_type": "dissemination", "system_code": "ESDH", "amount": 60}]')),
	1060.00, 'data consumption and dissemination are routed by system class and billing');
SELECT throws_ok($$SELECT * FROM what_if_price(2019, '[{"cost_type": "operations", "service_code": "NOPE", "amount": 1}]')$$,
	'22023', NULL, 'an adjustment of an unknown service is refused');
SELECT throws_ok($$SELECT * FROM what_if_price(2019, '[{"cost_type": "operations"}]')$$,
	'22023', NULL, 'an adjustment without an amount is refused');
SELECT throws_ok($$SELECT * FROM what_if_price(2019, '[{"cost_type": "operations", "amount": 1, "colour": "red"}]')$$,
	'22023', NULL, 'an adjustment with an unknown key is refused');

-- the same adjustments as real expected entries move the preview exactly as what-if said
INSERT INTO billing_year (year) VALUES (2022);
INSERT INTO population SELECT 2022, c, 1 FROM unnest(ARRAY['101', '147', '151']) c;
CREATE TEMP TABLE wi AS
SELECT (what_if_price(2022, '[{"cost_type": "operations", "service_code": "ORG", "amount": 333.33},
							  {"cost_type": "establishment", "service_code": "ORG", "amount": 100},
							  {"cost_type": "dissemination", "system_code": "KP", "amount": 20},
							  {"cost_type": "support_admin", "amount": 10.01}]')).*;
INSERT INTO cost_entry (entry_key, year, cost_type, basis, service_code, system_code, amount) VALUES
	('w1', 2022, 'operations', 'expected', 'ORG', NULL, 333.33),
	('w2', 2022, 'establishment', 'expected', 'ORG', NULL, 100.00),
	('w3', 2022, 'dissemination', 'expected', NULL, 'KP', 20.00),
	('w4', 2022, 'support_admin', 'expected', NULL, NULL, 10.01);
-- ORG operations 333.33 = 33333 øre split 1:3: KY 8333.25 -> 8333, ESDH 24999.75 -> 24999;
-- the left-over øre goes to the larger remainder (.75): ESDH 250.00 to the pool, KY 83.33;
-- establishment and KOMBIT dissemination leave the pool: pool = 250.00 + 10.01 = 260.01
SELECT results_eq($$SELECT expected_pool, price FROM preview_price(2022)$$,
	$$SELECT expected_pool, price FROM wi$$,
	'what-if of entries equals the preview once they are booked');
SELECT is((SELECT expected_pool FROM wi), 260.01, 'that pool is 250.00 + 10.01 = 260.01');

-- forecast needs two closed years
SELECT throws_ok($$SELECT * FROM forecast_price(2)$$, '55000', NULL,
	'a forecast needs two closed years');

-- 2019 announced at 333.33 (billed 999.99), actual 900.00 -> difference -99.99 into 2020
-- 2020: pool 1200.00 - 99.99 = 1100.01 / 3 = 366.67 (billed 1100.01), actual 1400.00
--       -> difference 1400.00 - 99.99 - 1100.01 = 200.00 into 2021
INSERT INTO cost_entry (entry_key, year, cost_type, basis, amount) VALUES
	('a19', 2019, 'support_admin', 'actual', 900.00);
SELECT announce_price(2019);
SELECT close_year(2019);
INSERT INTO cost_entry (entry_key, year, cost_type, basis, amount) VALUES
	('a20', 2020, 'support_admin', 'actual', 1400.00);
SELECT announce_price(2020);
SELECT close_year(2020);
SELECT is((SELECT difference FROM carry_forward WHERE from_year = 2020), 200.00,
	'fixture: 2020 carried 200.00 into 2021');

-- trend of actual pool: 900.00 (2019), 1400.00 (2020): slope 500.00 a year
-- 2021: 1900.00 + carry-in 200.00 = 2100.00 / 3 = 700.00
-- 2022: 2400.00 + 0 = 2400.00 / 3 = 800.00
SELECT results_eq(
	$$SELECT year, forecast_pool, carry_in, pool, citizens, price FROM forecast_price(2) ORDER BY year$$,
	$$VALUES (2021, 1900.00::numeric, 200.00::numeric, 2100.00::numeric, 3::bigint, 700.00::numeric),
			 (2022, 2400.00::numeric, 0::numeric, 2400.00::numeric, 3::bigint, 800.00::numeric)$$,
	'forecast from the linear trend of actual pool costs plus posted carry-ins');
-- price_decimals of the forecast year: 2023 trend 2900.00 / 3 = 966.666..
-- -> 966.7 at 1 decimal (its billing_year row); 2024 has no row: 2 decimals,
-- 3400.00 / 3 = 1133.33
INSERT INTO billing_year (year, price_decimals) VALUES (2023, 1);
SELECT results_eq(
	$$SELECT year, forecast_pool, price FROM forecast_price(4) WHERE year >= 2023 ORDER BY year$$,
	$$VALUES (2023, 2900.00::numeric, 966.7::numeric), (2024, 3400.00::numeric, 1133.33::numeric)$$,
	'the forecast rounds to each year''s price_decimals');
-- S14: once 2021 is announced, its forecast is the locked price:
-- 1500.00 + carry-in 200.00 = 1700.00 / 3 = 566.666.. -> 566.67
SELECT is(announce_price(2021), 566.67, 'fixture: 2021 announced at 566.67');
SELECT results_eq(
	$$SELECT year, forecast_pool, carry_in, pool, citizens, price FROM forecast_price(2) ORDER BY year$$,
	$$VALUES (2021, 1500.00::numeric, 200.00::numeric, 1700.00::numeric, 3::bigint, 566.67::numeric),
			 (2022, 2400.00::numeric, 0::numeric, 2400.00::numeric, 3::bigint, 800.00::numeric)$$,
	'an announced year is forecast at its locked price, not the trend');
SELECT throws_ok($$SELECT * FROM forecast_price(0)$$, '22023', NULL, 'horizon 0 is refused');
SELECT is((SELECT count(*)::integer FROM year_close), 2, 'forecast wrote nothing');

SELECT * FROM finish();
ROLLBACK;
