-- Smoothing (SPEC §9): a closed year's difference spread over several open
-- years, with the parts summing exactly to it (R10).
BEGIN;
SELECT plan(11);
SET LOCAL search_path = afregning, public;

INSERT INTO municipality VALUES ('101', 'A', 'Hovedstaden'), ('147', 'B', 'Hovedstaden'),
	('151', 'C', 'Sjælland');
INSERT INTO billing_year (year, carry_lag, carry_spread) VALUES (2021, 1, 3);
INSERT INTO billing_year (year, carry_lag) VALUES (2022, 1);
INSERT INTO population SELECT y, c, 1 FROM generate_series(2021, 2022) y,
	unnest(ARRAY['101', '147', '151']) c;

SELECT throws_ok($$INSERT INTO billing_year (year, carry_spread) VALUES (2030, 0)$$, '23514', NULL,
	'carry_spread 0 is refused');
SELECT throws_ok($$INSERT INTO billing_year (year, carry_spread) VALUES (2030, 6)$$, '23514', NULL,
	'carry_spread above 5 is refused');

-- 2021: pool 1000.00 over 3 citizens -> 333.33, billed 999.99;
-- actual 1100.00 -> difference 1100.00 + 0.00 - 999.99 = 100.01
INSERT INTO cost_entry (entry_key, year, cost_type, basis, amount) VALUES
	('e21', 2021, 'support_admin', 'expected', 1000.00),
	('a21', 2021, 'support_admin', 'actual', 1100.00);
SELECT is(announce_price(2021), 333.33, '2021 announced at 333.33');
SELECT throws_ok($$UPDATE billing_year SET carry_spread = 2 WHERE year = 2021$$, '55000', NULL,
	'carry_spread locks with the announcement');
SELECT is((SELECT carry_spread FROM billing_year WHERE year = 2021), 3, 'and stays 3');
SELECT is(close_year(2021), 100.01, 'close returns the whole difference, 100.01');

-- 10001 øre over 1:1:1 -> 3333 each + 2 øre to the earliest two years
SELECT results_eq(
	$$SELECT to_year, amount FROM carry_posting WHERE from_year = 2021 ORDER BY to_year$$,
	$$VALUES (2022, 33.34::numeric), (2023, 33.34::numeric), (2024, 33.33::numeric)$$,
	'the difference is spread over 2022, 2023 and 2024: 33.34 + 33.34 + 33.33');
SELECT is((SELECT string_agg(year::text || ':' || status, ',' ORDER BY year) FROM billing_year),
	'2021:closed,2022:open,2023:open,2024:open', 'the missing receiving years were created open');

SELECT throws_ok($$UPDATE carry_posting SET amount = 0 WHERE from_year = 2021$$, '0A000', NULL,
	'carry postings are append-only');

-- 2022 has no expected costs: pool = carry-in 33.34 -> 33.34 / 3 = 11.1133 -> 11.11
SELECT results_eq($$SELECT carry_in, pool, price FROM preview_price(2022)$$,
	$$VALUES (33.34::numeric, 33.34::numeric, 11.11::numeric)$$,
	'2022''s price carries only its part');

-- R10: actual pool 1100.00 = billed 999.99 + carried into open years 100.01
SELECT is((SELECT sum(difference) FROM open_carry_forward)
		  + (SELECT sum(billed) FROM (SELECT DISTINCT from_year, billed FROM carry_forward) c), 1100.00,
	'billed + open carry-forwards = actual pool of the closed year');

SELECT * FROM finish();
ROLLBACK;
