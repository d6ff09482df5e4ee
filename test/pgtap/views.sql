-- The BI views of SPEC §6 on an example worked by hand: per_call_recovery,
-- price_waterfall, usage_month, invoice_preview, municipality_benchmark,
-- carry_forward with one row per posting, direct_charge without system
-- rows, the per_call route (SPEC §3), and the types and comments of every
-- view. What a municipality role sees is tested in test/scenario/odbc.sh,
-- in fresh connections.
BEGIN;
SELECT plan(31);
SET LOCAL search_path = afregning, public;

-- ---------------------------------------------------------------------
-- Fixture
--   citizens (2021 and 2022): 101 1,000; 147 2,000; 461 500; 751 4,000
--   = 7,500
--   CPR per call at 0.50; SAG pool-billed at 0.0125; NOTAR has no tariff
-- ---------------------------------------------------------------------
INSERT INTO municipality (code, name, region) VALUES
	('101', 'København', 'Hovedstaden'),
	('147', 'Frederiksberg', 'Hovedstaden'),
	('461', 'Odense', 'Syddanmark'),
	('751', 'Aarhus', 'Midtjylland');
INSERT INTO consumer_system (code, name, class) VALUES
	('KOMM', 'Kommunalt fagsystem', 'municipal'),
	('UDKX', 'UDK-system', 'udk');
INSERT INTO service (code, name, platform, billing) VALUES
	('CPR', 'CPR-servicen', 'serviceplatform', 'per_call'),
	('SAG', 'Sagsservice', 'serviceplatform', 'pool'),
	('NOTAR', 'Notar', 'support_system', 'pool');
INSERT INTO tariff (service_code, valid_from, unit_price) VALUES
	('CPR', '2000-01-01', 0.5000), ('SAG', '2000-01-01', 0.0125);

INSERT INTO billing_year (year, carry_spread) VALUES (2021, 2);
INSERT INTO billing_year (year) VALUES (2022);
INSERT INTO population (year, municipality_code, citizens) VALUES
	(2021, '101', 1000), (2021, '147', 2000), (2021, '461', 500), (2021, '751', 4000),
	(2022, '101', 1000), (2022, '147', 2000), (2022, '461', 500), (2022, '751', 4000);

INSERT INTO cost_entry (entry_key, year, cost_type, basis, service_code, system_code, amount) VALUES
	('e21-sa',  2021, 'support_admin',    'expected', NULL,  NULL,   7500.00),
	('e21-cpr', 2021, 'data_consumption', 'expected', 'CPR', NULL,   1000.00),
	('a21-sa',  2021, 'support_admin',    'actual',   NULL,  NULL,   8000.00),
	('a21-cpr', 2021, 'data_consumption', 'actual',   'CPR', NULL,    280.00),
	('a21-udk', 2021, 'data_consumption', 'actual',   'CPR', 'UDKX',   40.00),
	('e22-sa',  2022, 'support_admin',    'expected', NULL,  NULL,  15000.00);

-- ---------------------------------------------------------------------
-- SPEC §3: per-call cost entries take route per_call, never the pool
-- ---------------------------------------------------------------------
SELECT results_eq(
	$$SELECT entry_key::text COLLATE "C", route::text, payer_code::text COLLATE "C", amount
		FROM cost_allocation WHERE cost_type = 'data_consumption' ORDER BY entry_key$$,
	$$VALUES ('a21-cpr' COLLATE "C", 'per_call', NULL COLLATE "C", 280.00),
			 ('a21-udk', 'system', 'UDKX', 40.00),
			 ('e21-cpr', 'per_call', NULL, 1000.00)$$,
	'per-call data consumption: route per_call; a UDK system''s own: route system');
-- pool 7,500.00 (the 1,000.00 per-call entry is not in it) / 7,500 = 1.00
SELECT results_eq($$SELECT expected_pool, price FROM preview_price(2021)$$,
	$$VALUES (7500.00::numeric, 1.00::numeric)$$,
	'the expected pool holds no per_call entry: 7,500.00 / 7,500 = 1.00');
SELECT is(announce_price(2021), 1.00, 'announce 2021 at 1.00');
SELECT results_eq($$SELECT route::text, amount FROM cost_line WHERE entry_key = 'e21-cpr'$$,
	$$VALUES ('per_call', 1000.00)$$,
	'announcement fixes the per-call entry on route per_call');

-- ---------------------------------------------------------------------
-- Usage of 2021 and 2022, billed
--   January 2021: CPR 101 100 + 147 300 + 751 200 (KOMM); CPR 101 50 by
--   UDKX (route system); SAG 101 1,001; NOTAR 751 5; February: CPR 101 20
--   January 2022: CPR 147 10
-- ---------------------------------------------------------------------
INSERT INTO usage_batch (batch_key) VALUES ('b21'), ('b22');
INSERT INTO usage (period, municipality_code, system_code, service_code, calls, batch_key) VALUES
	('2021-01-01', '101', 'KOMM', 'CPR', 100, 'b21'),
	('2021-01-01', '147', 'KOMM', 'CPR', 300, 'b21'),
	('2021-01-01', '751', 'KOMM', 'CPR', 200, 'b21'),
	('2021-01-01', '101', 'UDKX', 'CPR', 50, 'b21'),
	('2021-01-01', '101', 'KOMM', 'SAG', 1001, 'b21'),
	('2021-01-01', '751', 'KOMM', 'NOTAR', 5, 'b21'),
	('2021-02-01', '101', 'KOMM', 'CPR', 20, 'b21'),
	('2022-01-01', '147', 'KOMM', 'CPR', 10, 'b22');
SELECT is((SELECT count(*) FROM bill_direct('2021-01-01')), 3::bigint, 'January 2021: 3 charge lines');
SELECT is((SELECT count(*) FROM bill_direct('2021-02-01')), 1::bigint, 'February 2021: 1 charge line');
SELECT is((SELECT count(*) FROM bill_direct('2022-01-01')), 1::bigint, 'January 2022: 1 charge line');

-- ---------------------------------------------------------------------
-- usage_month: calls x tariff of the month, one rounding per row
--   101 SAG 1,001 x 0.0125 = 12.5125 -> 12.51; NOTAR has no tariff: 0.00
-- ---------------------------------------------------------------------
SELECT results_eq(
	$$SELECT month, municipality_code::text COLLATE "C", system_code::text COLLATE "C",
			 service_code::text COLLATE "C", calls, unit_price, amount
		FROM usage_month WHERE year = 2021 ORDER BY 1, 2, 3, 4$$,
	$$VALUES ('2021-01-01'::date, '101' COLLATE "C", 'KOMM' COLLATE "C", 'CPR' COLLATE "C", 100::bigint, 0.5000, 50.00),
			 ('2021-01-01', '101', 'KOMM', 'SAG', 1001, 0.0125, 12.51),
			 ('2021-01-01', '101', 'UDKX', 'CPR', 50, 0.5000, 25.00),
			 ('2021-01-01', '147', 'KOMM', 'CPR', 300, 0.5000, 150.00),
			 ('2021-01-01', '751', 'KOMM', 'CPR', 200, 0.5000, 100.00),
			 ('2021-01-01', '751', 'KOMM', 'NOTAR', 5, NULL, 0.00),
			 ('2021-02-01', '101', 'KOMM', 'CPR', 20, 0.5000, 10.00)$$,
	'usage_month 2021: one row per month, municipality, system and service, rated so far');

-- ---------------------------------------------------------------------
-- direct_charge: municipalities by month only (the UDKX calls are a
-- system's, settled per year in system_charge)
-- ---------------------------------------------------------------------
SELECT results_eq(
	$$SELECT month, payer_kind::text, payer_code::text COLLATE "C", calls, amount
		FROM direct_charge WHERE month < '2022-01-01' ORDER BY 1, 3$$,
	$$VALUES ('2021-01-01'::date, 'municipality', '101' COLLATE "C", 100::bigint, 50.00),
			 ('2021-01-01', 'municipality', '147', 300, 150.00),
			 ('2021-01-01', 'municipality', '751', 200, 100.00),
			 ('2021-02-01', 'municipality', '101', 20, 10.00)$$,
	'direct_charge 2021: per-call charges of municipalities by month, no system row');

-- ---------------------------------------------------------------------
-- per_call_recovery 2021, CPR, before the close (live routing):
--   expected 1,000.00; actual cost 280.00; charged 50 + 10 + 150 + 100 =
--   310.00 for 620 calls; difference 310.00 - 280.00 = 30.00; the UDKX
--   entry (40.00, route system) is not a per-call cost
-- ---------------------------------------------------------------------
SELECT results_eq(
	$$SELECT year, service_code::text COLLATE "C", expected_cost, cost, calls, charged, difference
		FROM per_call_recovery ORDER BY year$$,
	$$VALUES (2021, 'CPR' COLLATE "C", 1000.00, 280.00, 620::bigint, 310.00, 30.00),
			 (2022, 'CPR', 0.00, 0.00, 10, 5.00, 5.00)$$,
	'per_call_recovery before the close: cost entries of route per_call beside the charges');

-- ---------------------------------------------------------------------
-- municipality_benchmark 2021
--   calls per 1,000: 101 120/1,000 = 120.0; 147 300/2,000 = 150.0;
--   461 0.0; 751 200/4,000 = 50.0 -> sorted 0, 50, 120, 150
--   q1 = 0 + 0.75 x 50 = 37.5; median = 50 + 0.5 x 70 = 85.0;
--   q3 = 120 + 0.25 x 30 = 127.5; mean = 320 / 4 = 80.0
--   charges per 1,000: 101 60.00; 147 75.00; 461 0.00; 751 25.00
--   -> sorted 0, 25, 60, 75: q1 = 18.75; median = 25 + 0.5 x 35 = 42.50;
--   q3 = 60 + 0.25 x 15 = 63.75; mean = 160 / 4 = 40.00
--   rank (1 = highest): 147 1, 101 2, 751 3, 461 4
-- ---------------------------------------------------------------------
SELECT results_eq(
	$$SELECT municipality_code::text COLLATE "C", citizens, calls, direct_amount,
			 calls_per_1000_citizens, direct_per_1000_citizens, calls_rank, direct_rank, municipalities
		FROM municipality_benchmark WHERE year = 2021 ORDER BY municipality_code$$,
	$$VALUES ('101' COLLATE "C", 1000::bigint, 120::bigint, 60.00, 120.0, 60.00, 2, 2, 4),
			 ('147', 2000, 300, 150.00, 150.0, 75.00, 1, 1, 4),
			 ('461', 500, 0, 0.00, 0.0, 0.00, 4, 4, 4),
			 ('751', 4000, 200, 100.00, 50.0, 25.00, 3, 3, 4)$$,
	'municipality_benchmark 2021: own figures and rank among all municipalities');
SELECT results_eq(
	$$SELECT DISTINCT calls_per_1000_q1, calls_per_1000_median, calls_per_1000_q3, calls_per_1000_mean,
			 direct_per_1000_q1, direct_per_1000_median, direct_per_1000_q3, direct_per_1000_mean
		FROM municipality_benchmark WHERE year = 2021$$,
	$$VALUES (37.5, 85.0, 127.5, 80.0, 18.75, 42.50, 63.75, 40.00)$$,
	'municipality_benchmark 2021: the national quartiles and mean');

-- ---------------------------------------------------------------------
-- invoice_preview 2022 (open): price 15,000.00 / 7,500 = 2.00;
-- infrastructure 25.00 a citizen (all below 150,000); direct: 147's
-- January 10 x 0.50 = 5.00
-- ---------------------------------------------------------------------
SELECT results_eq(
	$$SELECT year, municipality_code::text COLLATE "C", citizens, price, buffet_amount,
			 direct_amount, infrastructure_amount, total
		FROM invoice_preview ORDER BY municipality_code$$,
	$$VALUES (2022, '101' COLLATE "C", 1000::bigint, 2.00, 2000.00, 0.00, 25000.00, 27000.00),
			 (2022, '147', 2000, 2.00, 4000.00, 5.00, 50000.00, 54005.00),
			 (2022, '461', 500, 2.00, 1000.00, 0.00, 12500.00, 13500.00),
			 (2022, '751', 4000, 2.00, 8000.00, 0.00, 100000.00, 108000.00)$$,
	'invoice_preview: only the open year 2022, at the previewed price');

-- ---------------------------------------------------------------------
-- Close 2021, its difference spread over two years (carry_spread 2)
--   actual pool = 8,000.00 + SAG 12.51 + NOTAR 0.00 = 8,012.51
--   billed 7,500.00; difference 512.51 -> 2023 256.26, 2024 256.25
--   (51,251 øre in two: the earlier year takes the odd øre)
-- ---------------------------------------------------------------------
SELECT is(close_year(2021), 512.51, 'close 2021: 8,012.51 - 7,500.00 = 512.51');
SELECT results_eq(
	$$SELECT from_year, to_year, actual_pool, carry_in, billed, difference, posted
		FROM carry_forward ORDER BY to_year$$,
	$$VALUES (2021, 2023, 8012.51, 0.00, 7500.00, 512.51, 256.26),
			 (2021, 2024, 8012.51, 0.00, 7500.00, 512.51, 256.25)$$,
	'carry_forward: one row per posting, posted parts of the whole difference');
-- R10 from the view alone: actual pool = billed + posted into open years
SELECT is(
	(SELECT sum(actual_pool) - sum(billed)
	   FROM (SELECT DISTINCT from_year, actual_pool, billed FROM carry_forward) y)
	- (SELECT sum(c.posted) FROM carry_forward c
		WHERE year_status(c.to_year) <> 'closed'),
	0.00, 'R10 from carry_forward: 8,012.51 - 7,500.00 - (256.26 + 256.25) = 0');

-- after the close, per_call_recovery reads the fixed cost lines: same figures
SELECT results_eq(
	$$SELECT expected_cost, cost, calls, charged, difference FROM per_call_recovery WHERE year = 2021$$,
	$$VALUES (1000.00, 280.00, 620::bigint, 310.00, 30.00)$$,
	'per_call_recovery after the close: the same figures from the fixed cost lines');
SELECT results_eq($$SELECT route::text, amount FROM cost_line WHERE entry_key = 'a21-cpr'$$,
	$$VALUES ('per_call', 280.00)$$,
	'the close fixes the actual per-call entry on route per_call');

-- cost_breakdown 2021 actual: municipality = the charges 310.00 only;
-- per_call = the cost 280.00; system = UDKX 40.00 + its usage 25.00;
-- pool = 8,000.00 + 12.51
SELECT results_eq(
	$$SELECT route::text, amount FROM cost_breakdown
		WHERE year = 2021 AND basis = 'actual' AND cost_type = 'data_consumption' ORDER BY route$$,
	$$VALUES ('municipality', 310.00), ('per_call', 280.00), ('pool', 12.51), ('system', 65.00)$$,
	'cost_breakdown: per-call cost and per-call charges side by side, never added together');

-- system usage is settled per year in system_charge
SELECT results_eq(
	$$SELECT year, system_code::text COLLATE "C", cost_type::text, basis::text, calls, amount
		FROM system_charge ORDER BY year$$,
	$$VALUES (2021, 'UDKX' COLLATE "C", 'data_consumption', 'actual', 50::bigint, 65.00)$$,
	'system_charge 2021: UDKX''s own entry 40.00 and its 50 calls rated at 25.00, per year');

-- ---------------------------------------------------------------------
-- price_waterfall: announced and closed years only, typed columns
-- ---------------------------------------------------------------------
SELECT results_eq(
	$$SELECT line, item::text, amount, citizens, unrounded FROM price_waterfall
		WHERE year = 2021 ORDER BY line$$,
	$$VALUES (1, 'establishment', 0.00, NULL::bigint, NULL::numeric),
			 (2, 'infrastructure_establishment', 0.00, NULL, NULL),
			 (3, 'operations', 0.00, NULL, NULL),
			 (4, 'support_admin', 7500.00, NULL, NULL),
			 (5, 'data_consumption', 0.00, NULL, NULL),
			 (6, 'dissemination', 0.00, NULL, NULL),
			 (7, 'development_pool', 0.00, NULL, NULL),
			 (8, 'carry_in', 0.00, NULL, NULL),
			 (9, 'pool', 7500.00, NULL, NULL),
			 (10, 'citizens', NULL, 7500, NULL),
			 (11, 'price_unrounded', NULL, NULL, 1.0000000000),
			 (12, 'price', 1.00, NULL, NULL),
			 (13, 'billed', 7500.00, NULL, NULL),
			 (14, 'rounding_residual', 0.00, NULL, NULL)$$,
	'price_waterfall 2021: the per-call entry is not in data_consumption; money, counts and the unrounded price apart');
SELECT is((SELECT array_agg(DISTINCT year ORDER BY year) FROM price_waterfall), ARRAY[2021],
	'price_waterfall: only announced and closed years (2022, 2023, 2024 are open)');

-- invoice_preview leaves the closed year out
SELECT is((SELECT array_agg(DISTINCT year ORDER BY year) FROM invoice_preview), ARRAY[2022],
	'invoice_preview: open years with citizens only');

-- ---------------------------------------------------------------------
-- Every view: typed columns, comments, readable by every role
-- ---------------------------------------------------------------------
SELECT is_empty(
	$$SELECT c.relname, a.attname FROM pg_class c
		JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
		JOIN pg_type t ON t.oid = a.atttypid
	   WHERE c.relnamespace = 'afregning'::regnamespace AND c.relkind = 'v'
		 AND (t.typtype = 'e' OR a.atttypid = 'text'::regtype
			  OR (a.atttypid IN ('numeric'::regtype, 'varchar'::regtype) AND a.atttypmod < 0))$$,
	'no view column is text, an enum, or numeric/varchar without a size');
SELECT is_empty(
	$$SELECT c.relname, a.attname FROM pg_class c
		JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
	   WHERE c.relnamespace = 'afregning'::regnamespace AND c.relkind = 'v'
		 AND a.attname ~ '(amount|_pool|carry_in|billed|difference|^posted$|^price$|charged|cost$|total|expected$|actual$|change$)'
		 AND format_type(a.atttypid, a.atttypmod) <> 'numeric(14,2)'$$,
	'every money column of every view is numeric(14,2)');
SELECT is_empty(
	$$SELECT c.relname, a.attname FROM pg_class c
		JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
	   WHERE c.relnamespace = 'afregning'::regnamespace AND c.relkind = 'v'
		 AND a.attname IN ('citizens', 'calls') AND a.atttypid <> 'bigint'::regtype$$,
	'citizens and calls are bigint in every view');
SELECT is_empty(
	$$SELECT c.relname, a.attname FROM pg_class c
		JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
	   WHERE c.relnamespace = 'afregning'::regnamespace AND c.relkind = 'v'
		 AND col_description(c.oid, a.attnum) IS NULL$$,
	'every view column has a comment');
SELECT is_empty(
	$$SELECT c.relname FROM pg_class c
	   WHERE c.relnamespace = 'afregning'::regnamespace AND c.relkind = 'v'
		 AND obj_description(c.oid, 'pg_class') IS NULL$$,
	'every view has a comment');
SELECT is_empty(
	$$SELECT c.relname, r.rolname FROM pg_class c CROSS JOIN pg_roles r
	   WHERE c.relnamespace = 'afregning'::regnamespace AND c.relkind = 'v'
		 AND r.rolname IN ('afregning_admin', 'afregning_reader', 'afregning_municipality')
		 AND NOT has_table_privilege(r.oid, c.oid, 'SELECT')$$,
	'every role may select from every view');

/* a name longer than its view column is refused at entry, not cut in a view */
SELECT throws_ok($$INSERT INTO municipality (code, name, region) VALUES ('999', repeat('x', 101), 'Sjælland')$$,
	'23514', NULL, 'a municipality name of 101 characters is refused (23514)');
SELECT is((SELECT count(*) FROM municipality), 4::bigint, 'nothing added by the refused insert');

SELECT * FROM finish();
ROLLBACK;
