-- Year lifecycle (SPEC R2, R3, R9, R10, §5, S2, S6-S8, S12): preview,
-- announce, close, explain_price and the views buffet_price,
-- carry_forward and cost_breakdown, on a three-municipality example
-- worked by hand (one citizen each, so price x 3 = billed).
BEGIN;
SELECT plan(74);
SET LOCAL search_path = afregning, public;

-- ---------------------------------------------------------------------
-- Fixture
-- ---------------------------------------------------------------------
INSERT INTO municipality (code, name, region) VALUES
	('101', 'København', 'Hovedstaden'),
	('147', 'Frederiksberg', 'Hovedstaden'),
	('151', 'Ballerup', 'Hovedstaden');
INSERT INTO consumer_system (code, name, class) VALUES
	('KY',   'Kommunernes Ydelsessystem', 'monopoly_break'),
	('SAPA', 'SAPA', 'monopoly_break'),
	('KMDX', 'Kommunalt fagsystem', 'municipal');
INSERT INTO service (code, name, platform) VALUES
	('OPS', 'Driftet service', 'serviceplatform'),
	('SP1', 'Serviceplatform-service 1', 'serviceplatform');
INSERT INTO service_order (service_code, system_code, share) VALUES
	('OPS', 'KY', 1), ('OPS', 'KMDX', 1);
INSERT INTO tariff (service_code, valid_from, unit_price) VALUES ('SP1', '2020-01-01', 0.0100);

INSERT INTO billing_year (year) VALUES (2021), (2022);
SELECT results_eq(
	$$SELECT year, status::text, carry_lag, price_decimals FROM billing_year ORDER BY year$$,
	$$VALUES (2021, 'open', 2, 2), (2022, 'open', 2, 2)$$,
	'a new billing year is open, with carry_lag 2 and price_decimals 2 by default');

INSERT INTO population (year, municipality_code, citizens) VALUES
	(2021, '101', 1), (2021, '147', 1), (2021, '151', 1),
	(2022, '101', 1), (2022, '147', 1), (2022, '151', 1);

-- 2021 expected: support_admin 900.00, operations on OPS 200.00 split KY 1 :
-- KMDX 1 -> KY 100.00 (system), KMDX 100.00 (pool). Expected pool 1000.00.
-- 2022 expected: support_admin 600.00, establishment 5000.00 for KY (system,
-- not in the pool).
INSERT INTO cost_entry (entry_key, year, cost_type, basis, service_code, system_code, amount) VALUES
	('x21-sa',  2021, 'support_admin', 'expected', NULL,  NULL, 900.00),
	('x21-ops', 2021, 'operations',    'expected', 'OPS', NULL, 200.00),
	('x22-sa',  2022, 'support_admin', 'expected', NULL,  NULL, 600.00),
	('x22-est', 2022, 'establishment', 'expected', NULL,  'KY', 5000.00);

-- ---------------------------------------------------------------------
-- 2021: preview, explain, announce
-- ---------------------------------------------------------------------
-- R2: 1000.00 / 3 = 333.333... -> 333.33
SELECT results_eq(
	$$SELECT year, expected_pool, carry_in, pool, citizens, price FROM preview_price(2021)$$,
	$$VALUES (2021, 1000.00, 0.00, 1000.00, 3::bigint, 333.33)$$,
	'preview 2021: 1000.00 / 3 citizens = 333.33');

-- explain_price: cost types + carry_in = pool; billed 3 x 333.33 = 999.99,
-- rounding residual 1000.00 - 999.99 = 0.01.
SELECT results_eq(
	$$SELECT item, amount FROM explain_price(2021)
	   WHERE item IN ('operations', 'support_admin', 'carry_in', 'pool', 'citizens', 'price', 'billed', 'rounding_residual')
	   ORDER BY line$$,
	$$VALUES ('operations', 100.00), ('support_admin', 900.00), ('carry_in', 0.00), ('pool', 1000.00),
			 ('citizens', 3), ('price', 333.33), ('billed', 999.99), ('rounding_residual', 0.01)$$,
	'explain 2021 (open): the waterfall by hand');
SELECT is(
	(SELECT sum(amount) FROM explain_price(2021)
	  WHERE item = ANY (labels('cost_type')) OR item = 'carry_in'),
	(SELECT amount FROM explain_price(2021) WHERE item = 'pool'),
	'explain 2021: cost-type lines + carry_in add up to the pool line');
SELECT is(
	(SELECT sum(amount) FROM explain_price(2021) WHERE item IN ('billed', 'rounding_residual')),
	(SELECT amount FROM explain_price(2021) WHERE item = 'pool'),
	'explain 2021: billed + rounding_residual = pool');

SELECT is(announce_price(2021), 333.33, 'announce 2021 locks 333.33');
SELECT results_eq(
	$$SELECT status::text, announced_at IS NOT NULL, closed_at IS NULL FROM billing_year WHERE year = 2021$$,
	$$VALUES ('announced', true, true)$$,
	'2021 is announced');
SELECT results_eq(
	$$SELECT expected_pool, carry_in, pool, citizens, price FROM price_announcement WHERE year = 2021$$,
	$$VALUES (1000.00, 0.00, 1000.00, 3::bigint, 333.33)$$,
	'the announcement records pool, carry-in, citizens and price');
SELECT results_eq(
	$$SELECT municipality_code COLLATE "default", citizens, price, amount FROM buffet_invoice WHERE year = 2021 ORDER BY 1$$,
	$$VALUES ('101', 1, 333.33, 333.33), ('147', 1, 333.33, 333.33), ('151', 1, 333.33, 333.33)$$,
	'one buffet invoice per municipality: 333.33 x 1');
-- S2/S12: 333.33 = 33333 øre / 4 = 8333.25 each; floors 4 x 8333 = 33332,
-- 1 øre left, a full tie: Q1 first -> 83.34, 83.33, 83.33, 83.33, due
-- 1 January, 1 April, 1 July, 1 October.
SELECT results_eq(
	$$SELECT quarter, due_date, amount FROM installment
	   WHERE year = 2021 AND municipality_code = '101' ORDER BY quarter$$,
	$$VALUES (1, DATE '2021-01-01', 83.34), (2, DATE '2021-04-01', 83.33),
			 (3, DATE '2021-07-01', 83.33), (4, DATE '2021-10-01', 83.33)$$,
	'S12: installments 83.34, 83.33, 83.33, 83.33 due 1 Jan, 1 Apr, 1 Jul, 1 Oct');
SELECT results_eq(
	$$SELECT i.municipality_code COLLATE "default", count(*), sum(i.amount)
		FROM installment i WHERE i.year = 2021 GROUP BY 1 ORDER BY 1$$,
	$$VALUES ('101', 4::bigint, 333.33), ('147', 4::bigint, 333.33), ('151', 4::bigint, 333.33)$$,
	'the four installments sum exactly to each invoice');
SELECT results_eq(
	$$SELECT route::text, payer_code COLLATE "default", amount FROM cost_line WHERE year = 2021 AND entry_key = 'x21-ops' ORDER BY route$$,
	$$VALUES ('pool', NULL::text, 100.00), ('system', 'KY', 100.00)$$,
	'announcement fixes the routing of the expected entries');

-- S8: announcing again posts nothing and returns the locked price
SELECT is(announce_price(2021), 333.33, 'S8: a second announce returns the locked price');
SELECT is(
	(SELECT count(*) FROM price_announcement WHERE year = 2021) || '/' ||
	(SELECT count(*) FROM buffet_invoice WHERE year = 2021) || '/' ||
	(SELECT count(*) FROM installment WHERE year = 2021) || '/' ||
	(SELECT count(*) FROM cost_line WHERE year = 2021),
	'1/3/12/3', 'S8: ... and posts nothing (1 announcement, 3 invoices, 12 installments, 3 cost lines)');

-- R3: an announced year takes no more expected costs and no population changes
SELECT throws_ok(
	$$INSERT INTO cost_entry (entry_key, year, cost_type, basis, amount)
	  VALUES ('x21-late', 2021, 'support_admin', 'expected', 50.00)$$,
	'55000', NULL, 'an expected cost for an announced year is refused');
SELECT throws_ok($$UPDATE population SET citizens = 2 WHERE year = 2021 AND municipality_code = '101'$$,
	'55000', NULL, 'the population of an announced year is locked');
SELECT results_eq(
	$$SELECT (SELECT count(*) FROM cost_entry WHERE year = 2021), (SELECT sum(citizens) FROM population WHERE year = 2021)$$,
	$$VALUES (2::bigint, 3::bigint)$$,
	'... nothing changed (2 entries, 3 citizens)');
SELECT throws_ok($$UPDATE billing_year SET status = 'closed', closed_at = now() WHERE year = 2021$$,
	'55000', NULL, 'the status cannot be set directly');
SELECT is((SELECT status::text FROM billing_year WHERE year = 2021), 'announced', '... it is still announced');

-- New actual costs arrive and the orderers of OPS change (SAPA 2 joins:
-- the view would now give the pool 50.00 of x21-ops). The announced
-- figures do not move (S8, R3).
INSERT INTO cost_entry (entry_key, year, cost_type, basis, amount) VALUES
	('a21-sa', 2021, 'support_admin', 'actual', 1000.00);
INSERT INTO service_order (service_code, system_code, share) VALUES ('OPS', 'SAPA', 2);
SELECT is(
	(SELECT sum(amount) FROM cost_allocation WHERE entry_key = 'x21-ops' AND route = 'pool'), 50.00,
	'(the live routing of x21-ops changed: 200.00 x 1/4 = 50.00 pool)');
SELECT results_eq(
	$$SELECT year, expected_pool, carry_in, pool, citizens, price FROM preview_price(2021)$$,
	$$VALUES (2021, 1000.00, 0.00, 1000.00, 3::bigint, 333.33)$$,
	'S8: preview of an announced year returns the locked figures after new costs and new orders');
SELECT results_eq(
	$$SELECT item, amount FROM explain_price(2021) WHERE item IN ('operations', 'pool', 'billed') ORDER BY line$$,
	$$VALUES ('operations', 100.00), ('pool', 1000.00), ('billed', 999.99)$$,
	'explain_price of an announced year uses the fixed lines');

-- 2022: 600.00 / 3 = 200.00 (the establishment is not in the pool)
SELECT results_eq(
	$$SELECT year, expected_pool, carry_in, pool, citizens, price FROM preview_price(2022)$$,
	$$VALUES (2022, 600.00, 0.00, 600.00, 3::bigint, 200.00)$$,
	'preview 2022: only pool-routed expected costs: 600.00 / 3 = 200.00');
SELECT is(announce_price(2022), 200.00, 'announce 2022 at 200.00');

-- ---------------------------------------------------------------------
-- Close 2021: the rounding residual travels into 2023 (R9)
-- ---------------------------------------------------------------------
-- actual pool 1000.00 + carry_in 0.00 - billed 999.99 = 0.01 -> 2021 + 2 = 2023
SELECT is((SELECT count(*) FROM billing_year WHERE year = 2023), 0::bigint, '2023 has no billing_year row yet');
SELECT is(close_year(2021), 0.01, 'close 2021: 1000.00 + 0.00 - 999.99 = 0.01');
SELECT results_eq(
	$$SELECT actual_pool, carry_in, billed, difference, to_year FROM year_close WHERE year = 2021$$,
	$$VALUES (1000.00, 0.00, 999.99, 0.01, 2023)$$,
	'2021 carries its rounding residual of 0.01 into 2023');
SELECT results_eq(
	$$SELECT status::text, carry_lag, closed_at IS NOT NULL FROM billing_year WHERE year = 2021$$,
	$$VALUES ('closed', 2, true)$$, '2021 is closed');
SELECT results_eq(
	$$SELECT year, status::text, carry_lag FROM billing_year WHERE year = 2023$$,
	$$VALUES (2023, 'open', 2)$$,
	'S7: the missing billing_year 2023 was created, open');
-- S8: closing again posts nothing and returns the posted difference
SELECT is(close_year(2021), 0.01, 'S8: a second close returns the posted difference');
SELECT is(
	(SELECT count(*) FROM year_close) || '/' || (SELECT count(*) FROM billing_year) || '/' ||
	(SELECT count(*) FROM cost_line WHERE year = 2021 AND basis = 'actual'),
	'1/3/1', 'S8: ... and posts nothing');
SELECT throws_ok(
	$$INSERT INTO cost_entry (entry_key, year, cost_type, basis, amount)
	  VALUES ('a21-late', 2021, 'support_admin', 'actual', 5.00)$$,
	'55000', NULL, 'an actual cost for a closed year is refused');
SELECT is((SELECT count(*) FROM cost_entry WHERE year = 2021), 3::bigint, '... and not written');

-- ---------------------------------------------------------------------
-- 2023: the carry-in shows in the price
-- ---------------------------------------------------------------------
INSERT INTO population (year, municipality_code, citizens) VALUES
	(2023, '101', 1), (2023, '147', 1), (2023, '151', 1);
INSERT INTO cost_entry (entry_key, year, cost_type, basis, amount) VALUES
	('x23-sa', 2023, 'support_admin', 'expected', 300.00);
-- (300.00 + 0.01) / 3 = 100.00333 -> 100.00
SELECT results_eq(
	$$SELECT year, expected_pool, carry_in, pool, citizens, price FROM preview_price(2023)$$,
	$$VALUES (2023, 300.00, 0.01, 300.01, 3::bigint, 100.00)$$,
	'preview 2023: (300.00 + carry-in 0.01) / 3 = 100.00');
SELECT results_eq(
	$$SELECT item, amount FROM explain_price(2023)
	   WHERE item IN ('support_admin', 'carry_in', 'pool', 'price', 'billed', 'rounding_residual') ORDER BY line$$,
	$$VALUES ('support_admin', 300.00), ('carry_in', 0.01), ('pool', 300.01), ('price', 100.00),
			 ('billed', 300.00), ('rounding_residual', 0.01)$$,
	'explain 2023: 300.00 + 0.01 = 300.01, billed 300.00, residual 0.01');
SELECT is(
	(SELECT sum(amount) FROM explain_price(2023)
	  WHERE item = ANY (labels('cost_type')) OR item = 'carry_in'),
	(SELECT amount FROM explain_price(2023) WHERE item = 'pool'),
	'explain 2023: cost-type lines + carry_in add up to the pool line');
SELECT is(announce_price(2023), 100.00, 'announce 2023 at 100.00');

-- ---------------------------------------------------------------------
-- Close 2022: actual costs below expected (S6 incl. rated usage)
-- ---------------------------------------------------------------------
-- actual 2022: support_admin 440.00 + usage SP1 1000 calls x 0.01 = 10.00
-- (pool) = 450.00; billed 600.00; difference 450.00 - 600.00 = -150.00 -> 2024
INSERT INTO cost_entry (entry_key, year, cost_type, basis, amount) VALUES
	('a22-sa', 2022, 'support_admin', 'actual', 440.00);
INSERT INTO usage_batch (batch_key) VALUES ('u2022');
INSERT INTO usage (period, municipality_code, system_code, service_code, calls, batch_key) VALUES
	('2022-05-01', '147', 'KMDX', 'SP1', 1000, 'u2022');
SELECT is(close_year(2022), -150.00, 'close 2022: 450.00 + 0.00 - 600.00 = -150.00');
SELECT results_eq(
	$$SELECT actual_pool, carry_in, billed, difference, to_year FROM year_close WHERE year = 2022$$,
	$$VALUES (450.00, 0.00, 600.00, -150.00, 2024)$$,
	'S6: actual pool 440.00 + rated pool usage 10.00; over-recovery of 150.00 goes to 2024');

-- ---------------------------------------------------------------------
-- 2024: a negative pool gives price 0 (R2); the rest is not lost (R9)
-- ---------------------------------------------------------------------
INSERT INTO population (year, municipality_code, citizens) VALUES
	(2024, '101', 1), (2024, '147', 1), (2024, '151', 1);
INSERT INTO cost_entry (entry_key, year, cost_type, basis, amount) VALUES
	('x24-sa', 2024, 'support_admin', 'expected', 100.00);
-- 100.00 - 150.00 = -50.00 -> price 0.00
SELECT results_eq(
	$$SELECT year, expected_pool, carry_in, pool, citizens, price FROM preview_price(2024)$$,
	$$VALUES (2024, 100.00, -150.00, -50.00, 3::bigint, 0.00)$$,
	'preview 2024: 100.00 - 150.00 = -50.00 gives price 0.00');
SELECT results_eq(
	$$SELECT item, amount FROM explain_price(2024)
	   WHERE item IN ('support_admin', 'carry_in', 'pool', 'price', 'billed', 'rounding_residual') ORDER BY line$$,
	$$VALUES ('support_admin', 100.00), ('carry_in', -150.00), ('pool', -50.00), ('price', 0.00),
			 ('billed', 0.00), ('rounding_residual', -50.00)$$,
	'explain 2024: billed 0.00, residual -50.00');
SELECT is(
	(SELECT sum(amount) FROM explain_price(2024) WHERE item IN ('billed', 'rounding_residual')),
	(SELECT amount FROM explain_price(2024) WHERE item = 'pool'),
	'explain 2024: billed + rounding_residual = pool');
SELECT is(announce_price(2024), 0.00, 'announce 2024 at 0.00');
SELECT is(
	(SELECT count(*) FROM installment WHERE year = 2024 AND amount = 0.00) || '/' ||
	(SELECT sum(amount) FROM buffet_invoice WHERE year = 2024),
	'12/0.00', 'price 0: invoices and installments of 0.00');

-- Close 2023: 300.00 + 0.01 - 300.00 = 0.01 -> 2025
INSERT INTO cost_entry (entry_key, year, cost_type, basis, amount) VALUES
	('a23-sa', 2023, 'support_admin', 'actual', 300.00),
	('a24-sa', 2024, 'support_admin', 'actual', 100.00);
SELECT is(close_year(2023), 0.01, 'close 2023: 300.00 + 0.01 - 300.00 = 0.01');
-- Close 2024: 100.00 + (-150.00) - 0.00 = -50.00 -> 2026
SELECT is(close_year(2024), -50.00, 'close 2024: 100.00 - 150.00 - 0.00 = -50.00, carried although the price was 0');

SELECT results_eq(
	$$SELECT from_year, to_year, actual_pool, carry_in, billed, difference FROM carry_forward
	   WHERE from_year BETWEEN 2021 AND 2024 ORDER BY from_year$$,
	$$VALUES (2021, 2023, 1000.00, 0.00, 999.99, 0.01),
			 (2022, 2024, 450.00, 0.00, 600.00, -150.00),
			 (2023, 2025, 300.00, 0.01, 300.00, 0.01),
			 (2024, 2026, 100.00, -150.00, 0.00, -50.00)$$,
	'carry_forward: every close of the example');

-- 2025 shows 2023's residual in its price: (299.99 + 0.01) / 3 = 100.00
INSERT INTO population (year, municipality_code, citizens) VALUES
	(2025, '101', 1), (2025, '147', 1), (2025, '151', 1);
INSERT INTO cost_entry (entry_key, year, cost_type, basis, amount) VALUES
	('x25-sa', 2025, 'support_admin', 'expected', 299.99);
SELECT results_eq(
	$$SELECT year, expected_pool, carry_in, pool, citizens, price FROM preview_price(2025)$$,
	$$VALUES (2025, 299.99, 0.01, 300.00, 3::bigint, 100.00)$$,
	'preview 2025: (299.99 + 0.01) / 3 = 100.00');

-- buffet_price: locked figures for announced/closed years, live preview
-- for open ones; 2026 has carry-in -50.00 and no population yet (price null)
SELECT results_eq(
	$$SELECT year, status::text, expected_pool, carry_in, pool, citizens, price, announced_at IS NOT NULL
		FROM buffet_price WHERE year BETWEEN 2021 AND 2026 ORDER BY year$$,
	$$VALUES (2021, 'closed', 1000.00, 0.00, 1000.00, 3::bigint, 333.33, true),
			 (2022, 'closed', 600.00, 0.00, 600.00, 3::bigint, 200.00, true),
			 (2023, 'closed', 300.00, 0.01, 300.01, 3::bigint, 100.00, true),
			 (2024, 'closed', 100.00, -150.00, -50.00, 3::bigint, 0.00, true),
			 (2025, 'open', 299.99, 0.01, 300.00, 3::bigint, 100.00, false),
			 (2026, 'open', 0.00, -50.00, -50.00, 0::bigint, NULL::numeric, false)$$,
	'buffet_price: every year of the example');

-- cost_breakdown of 2021 and 2022: fixed routing (expected at announcement,
-- actual at close), plus rated usage of 2022 as actual data consumption
SELECT results_eq(
	$$SELECT year, cost_type::text, basis::text, route::text, amount FROM cost_breakdown
	   WHERE year IN (2021, 2022) ORDER BY year, basis, cost_type, route$$,
	$$VALUES (2021, 'support_admin', 'actual', 'pool', 1000.00),
			 (2021, 'operations', 'expected', 'pool', 100.00),
			 (2021, 'operations', 'expected', 'system', 100.00),
			 (2021, 'support_admin', 'expected', 'pool', 900.00),
			 (2022, 'data_consumption', 'actual', 'pool', 10.00),
			 (2022, 'support_admin', 'actual', 'pool', 440.00),
			 (2022, 'establishment', 'expected', 'system', 5000.00),
			 (2022, 'support_admin', 'expected', 'pool', 600.00)$$,
	'cost_breakdown: by year, cost type, basis and route');
SELECT results_eq(
	$$SELECT year, cost_type::text, basis::text, route::text, amount FROM cost_breakdown WHERE year = 2025$$,
	$$VALUES (2025, 'support_admin', 'expected', 'pool', 299.99)$$,
	'cost_breakdown of an open year: its live routing');

-- R10 over the example: closed 2021-2024.
-- Σ actual pool 1000.00 + 450.00 + 300.00 + 100.00 = 1850.00
-- Σ billed 999.99 + 600.00 + 300.00 + 0.00 = 1899.99
-- Σ carry into years not closed: 0.01 (2025) - 50.00 (2026) = -49.99
-- 1899.99 - 49.99 = 1850.00
SELECT is(
	(SELECT sum(billed) FROM year_close WHERE year BETWEEN 2021 AND 2024)
	+ (SELECT sum(difference) FROM year_close c WHERE year BETWEEN 2021 AND 2024
		  AND year_status(c.to_year) <> 'closed'),
	1850.00, 'R10: 1899.99 billed + (-49.99) carried = 1850.00 actual pool');

-- ---------------------------------------------------------------------
-- S7: the carry target skips a year already announced
-- ---------------------------------------------------------------------
-- 2031 (carry_lag 2) and 2033 (carry_lag 1; 2032 has no row, so it can be
-- announced at once). 2031: 30.00 / 3 = 10.00; actual 36.00 -> +6.00.
-- 2033 is announced, so the target is 2034, whose row is created.
INSERT INTO billing_year (year, carry_lag) VALUES (2031, 2), (2033, 1);
INSERT INTO population (year, municipality_code, citizens)
SELECT y, m, 1 FROM unnest(ARRAY[2031, 2033]) y, unnest(ARRAY['101', '147', '151']) m;
INSERT INTO cost_entry (entry_key, year, cost_type, basis, amount) VALUES
	('x31-sa', 2031, 'support_admin', 'expected', 30.00),
	('x33-sa', 2033, 'support_admin', 'expected', 3.00),
	('a31-sa', 2031, 'support_admin', 'actual', 36.00);
SELECT is(announce_price(2031), 10.00, 'announce 2031 at 10.00');
SELECT is(announce_price(2033), 1.00, 'announce 2033 at 1.00 (3.00 / 3)');
SELECT is(close_year(2031, force => true), 6.00, 'close 2031: 36.00 + 0.00 - 30.00 = 6.00');
SELECT is((SELECT to_year FROM year_close WHERE year = 2031), 2034,
	'S7: 2033 is announced, so the difference goes to 2034');
SELECT results_eq(
	$$SELECT status::text, carry_lag FROM billing_year WHERE year = 2034$$,
	$$VALUES ('open', 2)$$, 'S7: the billing_year 2034 was created');
SELECT is((SELECT carry_in FROM price_announcement WHERE year = 2033), 0.00,
	'the announced 2033 keeps its carry-in of 0.00');
SELECT is((SELECT carry_in FROM preview_price(2034)), 6.00, '2034 previews a carry-in of 6.00');

-- ---------------------------------------------------------------------
-- carry_lag 1
-- ---------------------------------------------------------------------
-- 2041, 2042 with carry_lag 1: 2042 can be announced only after 2041 closes.
INSERT INTO billing_year (year, carry_lag) VALUES (2041, 1), (2042, 1);
INSERT INTO population (year, municipality_code, citizens)
SELECT y, m, 1 FROM unnest(ARRAY[2041, 2042]) y, unnest(ARRAY['101', '147', '151']) m;
INSERT INTO cost_entry (entry_key, year, cost_type, basis, amount) VALUES
	('x41-sa', 2041, 'support_admin', 'expected', 90.00),
	('a41-sa', 2041, 'support_admin', 'actual', 93.00),
	('x42-sa', 2042, 'support_admin', 'expected', 60.00);
SELECT is(announce_price(2041), 30.00, 'announce 2041 at 90.00 / 3 = 30.00');
SELECT throws_ok($$SELECT announce_price(2042)$$, '55000', NULL,
	'carry_lag 1: 2042 cannot be announced before 2041 is closed');
SELECT is(
	(SELECT status::text FROM billing_year WHERE year = 2042) || '/' ||
	(SELECT count(*) FROM price_announcement WHERE year = 2042) || '/' ||
	(SELECT count(*) FROM buffet_invoice WHERE year = 2042),
	'open/0/0', '... 2042 stays open with nothing posted');
SELECT throws_ok($$SELECT close_year(2042)$$, '55000', NULL, 'an open year cannot be closed');
SELECT is(
	(SELECT status::text FROM billing_year WHERE year = 2042) || '/' ||
	(SELECT count(*) FROM year_close WHERE year = 2042),
	'open/0', '... 2042 stays open, no close posted');
-- 93.00 + 0.00 - 90.00 = 3.00 -> 2041 + 1 = 2042
SELECT is(close_year(2041, force => true), 3.00, 'close 2041: 93.00 - 90.00 = 3.00');
SELECT is((SELECT to_year FROM year_close WHERE year = 2041), 2042, 'carry_lag 1: into 2042');
-- (60.00 + 3.00) / 3 = 21.00
SELECT is(announce_price(2042), 21.00, 'announce 2042: (60.00 + 3.00) / 3 = 21.00');
SELECT is((SELECT carry_in FROM price_announcement WHERE year = 2042), 3.00, '2042 locked carry-in 3.00');

-- R10 over everything closed: 2021-2024, 2031, 2041
-- Σ actual 1850.00 + 36.00 + 93.00 = 1979.00
-- Σ billed 1899.99 + 30.00 + 90.00 = 2019.99
-- carried into years not closed: 0.01 + (-50.00) + 6.00 + 3.00 = -40.99
SELECT results_eq(
	$$SELECT sum(actual_pool), sum(billed),
			 sum(difference) FILTER (WHERE year_status(to_year) <> 'closed')
		FROM year_close$$,
	$$VALUES (1979.00, 2019.99, -40.99)$$,
	'R10: 1979.00 = 2019.99 - 40.99');

-- ---------------------------------------------------------------------
-- The views' documented columns (SPEC §6), each with a comment
-- ---------------------------------------------------------------------
SELECT is(
	ARRAY(SELECT column_name::text FROM information_schema.columns
		   WHERE table_schema = 'afregning' AND table_name = 'buffet_price'
			 AND column_name IN ('year', 'status', 'expected_pool', 'carry_in', 'pool', 'citizens', 'price', 'announced_at')
		   ORDER BY ordinal_position),
	ARRAY['year', 'status', 'expected_pool', 'carry_in', 'pool', 'citizens', 'price', 'announced_at'],
	'buffet_price has the documented columns, in order');
SELECT is(
	ARRAY(SELECT column_name::text FROM information_schema.columns
		   WHERE table_schema = 'afregning' AND table_name = 'carry_forward'
			 AND column_name IN ('from_year', 'to_year', 'actual_pool', 'carry_in', 'billed', 'difference')
		   ORDER BY ordinal_position),
	ARRAY['from_year', 'to_year', 'actual_pool', 'carry_in', 'billed', 'difference'],
	'carry_forward has the documented columns, in order');
SELECT is(
	ARRAY(SELECT column_name::text FROM information_schema.columns
		   WHERE table_schema = 'afregning' AND table_name = 'cost_breakdown'
			 AND column_name IN ('year', 'cost_type', 'basis', 'route', 'amount')
		   ORDER BY ordinal_position),
	ARRAY['year', 'cost_type', 'basis', 'route', 'amount'],
	'cost_breakdown has the documented columns, in order');
SELECT is(
	(SELECT count(*) FROM pg_attribute a
	  WHERE a.attrelid IN ('afregning.buffet_price'::regclass, 'afregning.carry_forward'::regclass,
						   'afregning.cost_breakdown'::regclass)
		AND a.attnum > 0 AND NOT a.attisdropped
		AND col_description(a.attrelid, a.attnum) IS NULL),
	0::bigint, 'every column of the three views has a comment');
SELECT is(
	(SELECT count(*) FROM unnest(ARRAY['afregning.buffet_price', 'afregning.carry_forward',
									   'afregning.cost_breakdown']::regclass[]) v
	  WHERE obj_description(v, 'pg_class') IS NULL),
	0::bigint, 'the three views have a comment');

SELECT * FROM finish();
ROLLBACK;
