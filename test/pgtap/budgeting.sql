-- What-if previews and the price forecast (SPEC §9): they only read.
BEGIN;
SELECT plan(14);
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
SELECT throws_ok($$SELECT * FROM forecast_price(0)$$, '22023', NULL, 'horizon 0 is refused');
SELECT is((SELECT count(*)::integer FROM year_close), 2, 'forecast wrote nothing');

SELECT * FROM finish();
ROLLBACK;
