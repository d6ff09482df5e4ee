-- Routing matrix (SPEC §3): every row of the matrix, checked through the
-- cost_allocation view (cost entries) and rated_usage(year) (usage), with
-- the amounts worked out by hand in the comments.
BEGIN;
SELECT plan(50);
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
	('KSD',  'Kommunernes Sygedagpengesystem', 'monopoly_break'),
	('SAPA', 'SAPA', 'monopoly_break'),
	('UDKB', 'UDK Barsel', 'udk'),
	('NEMR', 'Nemrefusion', 'own_billing'),
	('KMDX', 'Kommunalt fagsystem', 'municipal'),
	('FLIS', 'FLIS (KOMBIT-projekt)', 'kombit_project'),
	('alfa', 'Fagsystem alfa', 'municipal'),
	('Zeta', 'Fagsystem Zeta', 'municipal');

INSERT INTO service (code, name, platform, funding, billing) VALUES
	('SS1',   'Støttesystem 1',             'support_system',  'ordered',          'pool'),
	('SP1',   'Serviceplatform-service 1',  'serviceplatform', 'ordered',          'pool'),
	('SP2',   'Serviceplatform-service 2',  'serviceplatform', 'ordered',          'pool'),
	('DEV',   'Udviklingspuljeservice',     'support_system',  'development_pool', 'pool'),
	('NOORD', 'Service uden bestillere',    'serviceplatform', 'ordered',          'pool'),
	('CPR',   'CPR-servicen',               'serviceplatform', 'ordered',          'per_call'),
	('CPRX',  'Ny pr.-opslag-service',      'serviceplatform', 'ordered',          'per_call'),
	('EST1',  'Ny funktion 1',              'serviceplatform', 'ordered',          'pool'),
	('EST2',  'Ny funktion 2',              'serviceplatform', 'ordered',          'pool'),
	('EST3',  'Ny funktion 3',              'serviceplatform', 'ordered',          'pool'),
	('EST4',  'Ny funktion 4',              'serviceplatform', 'ordered',          'pool'),
	('NOTAR', 'Støttesystem uden takst',    'support_system',  'ordered',          'pool'),
	('LATE',  'Service med takst fra juni', 'serviceplatform', 'ordered',          'pool');

INSERT INTO service_order (service_code, system_code, share) VALUES
	('SS1', 'KMDX', 2), ('SS1', 'KSD', 1), ('SS1', 'KY', 1),
	('SP1', 'KMDX', 1), ('SP1', 'SAPA', 1), ('SP1', 'UDKB', 1),
	('SP2', 'FLIS', 1), ('SP2', 'NEMR', 1),
	('DEV', 'KY', 1),
	('EST1', 'KSD', 0.5), ('EST1', 'KY', 0.25), ('EST1', 'SAPA', 0.25),
	('EST2', 'SAPA', 3), ('EST2', 'KY', 1),
	('EST3', 'KSD', 2), ('EST3', 'KY', 1), ('EST3', 'SAPA', 1),
	('EST4', 'alfa', 1), ('EST4', 'Zeta', 1);

INSERT INTO tariff (service_code, valid_from, unit_price) VALUES
	('CPR',  '2000-01-01', 0.0033),
	('CPR',  '2021-07-15', 0.0040),	-- inside July: applies from August
	('SP1',  '2020-01-01', 0.0100),
	('SS1',  '2020-01-01', 0.1000),
	('SS1',  '2021-03-15', 0.2000),	-- inside March: applies from April
	('LATE', '2021-06-01', 0.5000);

INSERT INTO billing_year (year) VALUES (2020), (2021), (2027);

-- ---------------------------------------------------------------------
-- Cost entries: establishment
-- ---------------------------------------------------------------------
INSERT INTO cost_entry (entry_key, year, cost_type, basis, service_code, system_code, amount) VALUES
	('E1', 2021, 'establishment', 'expected', 'SS1',  'KMDX', 1000.00),
	('E2', 2021, 'establishment', 'expected', 'EST1', NULL,   100.01),
	('E3', 2021, 'establishment', 'expected', 'EST2', NULL,     0.02),
	('E4', 2021, 'establishment', 'actual',   'EST3', NULL,     0.02),
	('E5', 2021, 'establishment', 'actual',   'EST4', NULL,     0.01),
	('E6', 2021, 'establishment', 'expected', 'EST3', NULL,  1000.00),
	('I1', 2021, 'infrastructure_establishment', 'expected', NULL,   'UDKB', 500.00),
	('I2', 2021, 'infrastructure_establishment', 'actual',   'EST1', NULL,   300.00);

-- E1: the entry names a system: all of it to that system, even though the
-- service (SS1) has other orderers and KMDX is a municipal system.
SELECT results_eq(
	$$SELECT route::text, payer_code::text COLLATE "default", amount::numeric FROM cost_allocation WHERE entry_key = 'E1'$$,
	$$VALUES ('system', 'KMDX', 1000.00)$$,
	'establishment with a system: all to the entry''s system');

-- E2: EST1 orderers KSD 0.5, KY 0.25, SAPA 0.25; 100.01 = 10001 øre.
-- Quotas 5000.5, 2500.25, 2500.25 øre; floors 5000+2500+2500 = 10000,
-- 1 øre left goes to the largest remainder (KSD .5):
-- KSD 50.01, KY 25.00, SAPA 25.00 (sum 100.01).
SELECT results_eq(
	$$SELECT route::text, payer_code::text COLLATE "default", amount::numeric FROM cost_allocation
	   WHERE entry_key = 'E2' ORDER BY payer_code COLLATE "C"$$,
	$$VALUES ('system', 'KSD', 50.01), ('system', 'KY', 25.00), ('system', 'SAPA', 25.00)$$,
	'establishment without a system: split over the orderers by share, largest remainder');

-- E6: EST3 weights KSD 2, KY 1, SAPA 1 do not sum to 1; normalised by 4:
-- 1000.00 -> 500.00, 250.00, 250.00.
SELECT results_eq(
	$$SELECT route::text, payer_code::text COLLATE "default", amount::numeric FROM cost_allocation
	   WHERE entry_key = 'E6' ORDER BY payer_code COLLATE "C"$$,
	$$VALUES ('system', 'KSD', 500.00), ('system', 'KY', 250.00), ('system', 'SAPA', 250.00)$$,
	'S1: order shares are weights normalised by their sum');

-- E3: EST2 weights SAPA 3, KY 1; 2 øre: quotas 1.5 and 0.5, floors 1 + 0,
-- 1 øre left, remainders tie (.5/.5): the larger weight wins, although KY
-- is the earlier code: SAPA 0.02, KY 0.00.
SELECT results_eq(
	$$SELECT route::text, payer_code::text COLLATE "default", amount::numeric FROM cost_allocation
	   WHERE entry_key = 'E3' ORDER BY payer_code COLLATE "C"$$,
	$$VALUES ('system', 'KY', 0.00), ('system', 'SAPA', 0.02)$$,
	'S1: a tie in remainders goes to the larger weight');

-- E4: EST3 weights KSD 2, KY 1, SAPA 1; 2 øre: quotas 1.0, 0.5, 0.5,
-- floors 1+0+0, 1 øre left, KY and SAPA tie in remainder and weight: the
-- byte-wise earlier code KY gets it: KSD 0.01, KY 0.01, SAPA 0.00.
SELECT results_eq(
	$$SELECT route::text, payer_code::text COLLATE "default", amount::numeric FROM cost_allocation
	   WHERE entry_key = 'E4' ORDER BY payer_code COLLATE "C"$$,
	$$VALUES ('system', 'KSD', 0.01), ('system', 'KY', 0.01), ('system', 'SAPA', 0.00)$$,
	'S1: a tie in remainder and weight goes to the earlier system code');

-- E5: EST4 alfa 1, Zeta 1; 1 øre: a full tie. Byte-wise 'Z' (0x5A) sorts
-- before 'a' (0x61), so Zeta gets the øre (a linguistic order would not).
SELECT results_eq(
	$$SELECT route::text, payer_code::text COLLATE "default", amount::numeric FROM cost_allocation
	   WHERE entry_key = 'E5' ORDER BY amount DESC$$,
	$$VALUES ('system', 'Zeta', 0.01), ('system', 'alfa', 0.00)$$,
	'S1: codes are compared byte-wise (COLLATE "C")');

-- I1/I2: infrastructure establishment routes like establishment.
-- I2: 300.00 over EST1 0.5/0.25/0.25 -> 150.00, 75.00, 75.00.
SELECT results_eq(
	$$SELECT entry_key::text COLLATE "default", route::text, payer_code::text COLLATE "default", amount::numeric FROM cost_allocation
	   WHERE entry_key IN ('I1', 'I2') ORDER BY entry_key, payer_code COLLATE "C"$$,
	$$VALUES ('I1', 'system', 'UDKB', 500.00),
			 ('I2', 'system', 'KSD', 150.00), ('I2', 'system', 'KY', 75.00),
			 ('I2', 'system', 'SAPA', 75.00)$$,
	'infrastructure_establishment: the entry''s system, else the orderers by share');

-- Establishment with no system on a service without orderers has no payer.
SELECT throws_ok(
	$$INSERT INTO cost_entry (entry_key, year, cost_type, basis, service_code, amount)
	  VALUES ('E-none', 2021, 'establishment', 'expected', 'NOORD', 10.00)$$,
	'23514', NULL, 'establishment without system or orderers is refused');
SELECT is((SELECT count(*) FROM cost_entry WHERE entry_key = 'E-none'), 0::bigint,
	'... and no entry was written');

-- ---------------------------------------------------------------------
-- Cost entries: operations
-- ---------------------------------------------------------------------
INSERT INTO cost_entry (entry_key, year, cost_type, basis, service_code, system_code, amount) VALUES
	('O1', 2021, 'operations', 'expected', 'DEV',   NULL, 200.00),
	('O2', 2021, 'operations', 'expected', 'SS1',   NULL, 100.01),
	('O3', 2021, 'operations', 'actual',   'SP1',   NULL, 100.00),
	('O4', 2021, 'operations', 'expected', 'NOORD', NULL,  70.00),
	('O5', 2021, 'operations', 'expected', 'EST4',  NULL,  10.01),
	('O6', 2021, 'operations', 'expected', 'SP2',   NULL,   9.99),
	('O7', 2021, 'operations', 'actual',   'SS1',   NULL,  -0.02);

-- O1: DEV is funded by the development pool: pool, although KY (a
-- monopoly-break system) ordered it.
SELECT results_eq(
	$$SELECT route::text, payer_code::text COLLATE "default", amount::numeric FROM cost_allocation WHERE entry_key = 'O1'$$,
	$$VALUES ('pool', NULL::text, 200.00)$$,
	'operations of a development-pool service: pool');

-- O2: SS1 orderers KMDX 2 (municipal), KSD 1, KY 1 (monopoly_break);
-- 10001 øre / 4: quotas 5000.5, 2500.25, 2500.25; the left øre to KMDX (.5).
-- KMDX's 50.01 -> pool; KSD 25.00 and KY 25.00 -> their systems.
SELECT results_eq(
	$$SELECT route::text, payer_code::text COLLATE "default", amount::numeric FROM cost_allocation
	   WHERE entry_key = 'O2' ORDER BY route, payer_code COLLATE "C"$$,
	$$VALUES ('pool', NULL::text, 50.01), ('system', 'KSD', 25.00), ('system', 'KY', 25.00)$$,
	'operations with mixed orderers: monopoly_break shares to the systems, the rest to the pool');

-- O3: SP1 orderers KMDX, SAPA, UDKB at 1:1:1; 10000 øre / 3 = 3333.33 each,
-- floors 9999, 1 øre left, full tie: earliest code KMDX. KMDX 33.34 -> pool,
-- SAPA 33.33 -> system (monopoly_break), UDKB 33.33 -> system (udk).
SELECT results_eq(
	$$SELECT route::text, payer_code::text COLLATE "default", amount::numeric FROM cost_allocation
	   WHERE entry_key = 'O3' ORDER BY route, payer_code COLLATE "C"$$,
	$$VALUES ('pool', NULL::text, 33.34), ('system', 'SAPA', 33.33), ('system', 'UDKB', 33.33)$$,
	'operations: udk orderers pay their share like monopoly-break orderers');

-- O4: NOORD has no orderers: pool.
SELECT results_eq(
	$$SELECT route::text, payer_code::text COLLATE "default", amount::numeric FROM cost_allocation WHERE entry_key = 'O4'$$,
	$$VALUES ('pool', NULL::text, 70.00)$$,
	'operations without orderers: pool');

-- O5: EST4 orderers alfa, Zeta (both municipal); 1001 øre / 2 = 500.5 each,
-- the left øre to byte-wise earlier Zeta: 5.01 and 5.00, both pool.
SELECT results_eq(
	$$SELECT route::text, payer_code::text COLLATE "default", amount::numeric FROM cost_allocation
	   WHERE entry_key = 'O5' ORDER BY amount DESC$$,
	$$VALUES ('pool', NULL::text, 5.01), ('pool', NULL::text, 5.00)$$,
	'operations ordered by municipal systems only: all pool');

-- O6: SP2 orderers FLIS (kombit_project), NEMR (own_billing) 1:1; 999 øre:
-- 499.5 each, the left øre to FLIS (earlier code): 5.00 and 4.99, both pool
-- (only monopoly_break and udk orderers pay operations).
SELECT results_eq(
	$$SELECT route::text, payer_code::text COLLATE "default", amount::numeric FROM cost_allocation
	   WHERE entry_key = 'O6' ORDER BY amount DESC$$,
	$$VALUES ('pool', NULL::text, 5.00), ('pool', NULL::text, 4.99)$$,
	'operations ordered by kombit_project/own_billing systems: pool');

-- O7: S2 mirror image of a negative total: -2 øre over KMDX 2, KSD 1, KY 1:
-- quotas 1, .5, .5 -> KMDX 1, then the left øre to KSD (tie with KY, earlier
-- code): KMDX -0.01 (pool), KSD -0.01, KY 0.00.
SELECT results_eq(
	$$SELECT route::text, payer_code::text COLLATE "default", amount::numeric FROM cost_allocation
	   WHERE entry_key = 'O7' ORDER BY route, payer_code COLLATE "C"$$,
	$$VALUES ('pool', NULL::text, -0.01), ('system', 'KSD', -0.01), ('system', 'KY', 0.00)$$,
	'S2: a negative amount is split as the mirror image of its magnitude');

-- ---------------------------------------------------------------------
-- Cost entries: support_admin, development_pool, dissemination,
-- data_consumption
-- ---------------------------------------------------------------------
INSERT INTO cost_entry (entry_key, year, cost_type, basis, service_code, system_code, amount) VALUES
	('SA1', 2021, 'support_admin',    'expected', NULL,  'KY',   300.00),
	('DP1', 2021, 'development_pool', 'expected', 'DEV', NULL,   400.00),
	('DI1', 2021, 'dissemination',    'expected', NULL,  'FLIS',  50.00),
	('DI2', 2021, 'dissemination',    'expected', NULL,  'KY',    40.00),
	('DI3', 2021, 'dissemination',    'actual',   NULL,  NULL,    30.00),
	('DC1', 2021, 'data_consumption', 'expected', 'SP1', 'UDKB',  20.00),
	('DC2', 2021, 'data_consumption', 'actual',   NULL,  'NEMR',  15.00),
	('DC3', 2021, 'data_consumption', 'expected', 'CPR', NULL,    12.00),
	('DC4', 2021, 'data_consumption', 'expected', 'CPR', 'UDKB',  11.00),
	('DC5', 2021, 'data_consumption', 'expected', 'SP1', 'KY',     8.00),
	('DC6', 2021, 'data_consumption', 'actual',   NULL,  NULL,     7.00),
	('DC7', 2021, 'data_consumption', 'expected', 'CPR', 'KMDX',   6.00);

SELECT results_eq(
	$$SELECT entry_key::text COLLATE "default", route::text, payer_code::text COLLATE "default", amount::numeric FROM cost_allocation
	   WHERE entry_key IN ('SA1', 'DP1') ORDER BY entry_key$$,
	$$VALUES ('DP1', 'pool', NULL::text, 400.00), ('SA1', 'pool', NULL::text, 300.00)$$,
	'support_admin and development_pool: pool, whatever system they name');

SELECT results_eq(
	$$SELECT route::text, payer_code::text COLLATE "default", amount::numeric FROM cost_allocation WHERE entry_key = 'DI1'$$,
	$$VALUES ('system', 'FLIS', 50.00)$$,
	'dissemination for a kombit_project system: that system');

SELECT results_eq(
	$$SELECT entry_key::text COLLATE "default", route::text, payer_code::text COLLATE "default", amount::numeric FROM cost_allocation
	   WHERE entry_key IN ('DI2', 'DI3') ORDER BY entry_key$$,
	$$VALUES ('DI2', 'pool', NULL::text, 40.00), ('DI3', 'pool', NULL::text, 30.00)$$,
	'dissemination otherwise: pool');

SELECT results_eq(
	$$SELECT entry_key::text COLLATE "default", route::text, payer_code::text COLLATE "default", amount::numeric FROM cost_allocation
	   WHERE entry_key IN ('DC1', 'DC2', 'DC4') ORDER BY entry_key$$,
	$$VALUES ('DC1', 'system', 'UDKB', 20.00), ('DC2', 'system', 'NEMR', 15.00),
			 ('DC4', 'system', 'UDKB', 11.00)$$,
	'data_consumption of a udk or own_billing system: that system (also on a per-call service)');

SELECT results_eq(
	$$SELECT entry_key::text COLLATE "default", route::text, payer_code::text COLLATE "default", amount::numeric FROM cost_allocation
	   WHERE entry_key IN ('DC3', 'DC7') ORDER BY entry_key$$,
	$$VALUES ('DC3', 'per_call', NULL::text, 12.00), ('DC7', 'per_call', NULL::text, 6.00)$$,
	'data_consumption of a per_call service: route per_call (SPEC §3), no payer, never the municipality route');

SELECT results_eq(
	$$SELECT entry_key::text COLLATE "default", route::text, payer_code::text COLLATE "default", amount::numeric FROM cost_allocation
	   WHERE entry_key IN ('DC5', 'DC6') ORDER BY entry_key$$,
	$$VALUES ('DC5', 'pool', NULL::text, 8.00), ('DC6', 'pool', NULL::text, 7.00)$$,
	'data_consumption otherwise (also by a monopoly_break system): pool');

-- Every entry is routed in full and exactly once (its parts sum to it).
SELECT is(
	(SELECT count(*) FROM cost_entry e
	  WHERE e.amount IS DISTINCT FROM
			(SELECT sum(a.amount) FROM cost_allocation a WHERE a.entry_key = e.entry_key)),
	0::bigint, 'every cost entry''s parts sum exactly to its amount');

-- Pool total of the expected 2021 entries, by hand:
-- O1 200.00 + O2 50.01 + O4 70.00 + O5 10.01 + O6 9.99 + SA1 300.00
-- + DP1 400.00 + DI2 40.00 + DC5 8.00 = 1088.01
SELECT is(
	(SELECT sum(amount) FROM cost_allocation WHERE year = 2021 AND basis = 'expected' AND route = 'pool'),
	1088.01, 'expected 2021 pool total from the matrix');

-- ---------------------------------------------------------------------
-- Usage
-- ---------------------------------------------------------------------
INSERT INTO baseline (year, system_code, service_code, calls) VALUES
	(2021, 'KY',   'SS1', 170),		-- applies (S4)
	(2021, 'KMDX', 'SS1', 1000),	-- municipal system: no effect
	(2021, 'KY',   'SP1', 1000),	-- Serviceplatform service: no effect
	(2020, 'KY',   'SS1', 10000);	-- another year: no effect on 2021

INSERT INTO usage_batch (batch_key) VALUES ('u2021'), ('ones');

INSERT INTO usage (period, municipality_code, system_code, service_code, calls, batch_key) VALUES
	-- per-call service by udk / own_billing systems
	('2021-01-01', '101', 'UDKB', 'CPR', 1000, 'u2021'),
	('2021-01-01', '147', 'NEMR', 'CPR',  500, 'u2021'),
	-- per-call service by other systems (municipal, monopoly_break)
	('2021-01-01', '101', 'KMDX', 'CPR', 1000, 'u2021'),
	('2021-01-01', '101', 'KY',   'CPR',  500, 'u2021'),
	('2021-01-01', '147', 'KMDX', 'CPR',    1, 'u2021'),
	('2021-07-01', '101', 'KMDX', 'CPR', 1000, 'u2021'),
	('2021-08-01', '101', 'KMDX', 'CPR', 1000, 'u2021'),
	-- other services by udk / own_billing systems
	('2021-03-01', '101', 'UDKB', 'SP1', 2000, 'u2021'),
	('2021-01-01', '147', 'NEMR', 'SS1',  100, 'u2021'),
	-- KY (monopoly_break) on SS1 (support_system) with a baseline of 170
	('2021-01-01', '101', 'KY', 'SS1', 30, 'u2021'),
	('2021-01-01', '147', 'KY', 'SS1', 20, 'u2021'),
	('2021-02-01', '151', 'KY', 'SS1', 50, 'u2021'),
	('2021-03-01', '101', 'KY', 'SS1', 50, 'u2021'),
	('2021-04-01', '101', 'KY', 'SS1', 25, 'u2021'),
	('2021-04-01', '151', 'KY', 'SS1', 25, 'u2021'),
	('2021-05-01', '147', 'KY', 'SS1', 50, 'u2021'),
	('2021-06-01', '101', 'KY', 'SS1', 50, 'u2021'),
	-- other usage: pool
	('2021-01-01', '101', 'KMDX', 'SS1',   40, 'u2021'),
	('2021-05-01', '101', 'KMDX', 'SS1',   10, 'u2021'),
	('2021-02-01', '147', 'SAPA', 'SS1',   10, 'u2021'),
	('2021-01-01', '101', 'KMDX', 'SP1', 1234, 'u2021'),
	('2021-03-01', '101', 'KY',   'SP1',  300, 'u2021'),
	('2021-06-01', '147', 'FLIS', 'SP1',   66, 'u2021'),
	('2021-01-01', '101', 'KMDX', 'NOTAR', 5000, 'u2021'),
	('2021-05-01', '101', 'KMDX', 'LATE',  100, 'u2021'),
	('2021-06-01', '101', 'KMDX', 'LATE',  100, 'u2021');
-- 200 rows of one call each
INSERT INTO usage (period, municipality_code, system_code, service_code, calls, batch_key)
SELECT '2021-02-01', '151', 'KMDX', 'CPR', 1, 'ones' FROM generate_series(1, 200);

CREATE TEMP TABLE rated ON COMMIT DROP AS SELECT * FROM rated_usage(2021);

-- per-call service by udk / own_billing: system lines (S3), not direct charges.
-- UDKB 1000 x 0.0033 = 3.30; NEMR 500 x 0.0033 = 1.65
SELECT results_eq(
	$$SELECT route::text, payer_code::text COLLATE "default", period, tariff_from, unit_price, calls, amount FROM rated
	   WHERE service_code = 'CPR' AND route <> 'municipality' ORDER BY payer_code COLLATE "C"$$,
	$$VALUES ('system', 'NEMR', NULL::date, DATE '2000-01-01', 0.0033, 500::bigint, 1.65),
			 ('system', 'UDKB', NULL::date, DATE '2000-01-01', 0.0033, 1000::bigint, 3.30)$$,
	'usage of a per_call service by udk/own_billing systems: system lines');

-- per-call service otherwise: one line per month x municipality x unit price.
-- Jan 101: KMDX 1000 + KY 500 = 1500 x 0.0033 = 4.95
-- Jan 147: 1 x 0.0033 = 0.0033 -> 0.00
-- Feb 151: 200 rows x 1 call = 200 x 0.0033 = 0.66
-- Jul 101: 1000 x 0.0033 = 3.30 (the tariff of 15 July is not yet in force)
-- Aug 101: 1000 x 0.0040 = 4.00 (in force from 1 August)
SELECT results_eq(
	$$SELECT route::text, payer_code::text COLLATE "default", period, tariff_from, unit_price, calls, amount FROM rated
	   WHERE route = 'municipality' ORDER BY period, payer_code COLLATE "C"$$,
	$$VALUES ('municipality', '101', DATE '2021-01-01', DATE '2000-01-01', 0.0033, 1500::bigint, 4.95),
			 ('municipality', '147', DATE '2021-01-01', DATE '2000-01-01', 0.0033,    1::bigint, 0.00),
			 ('municipality', '151', DATE '2021-02-01', DATE '2000-01-01', 0.0033,  200::bigint, 0.66),
			 ('municipality', '101', DATE '2021-07-01', DATE '2000-01-01', 0.0033, 1000::bigint, 3.30),
			 ('municipality', '101', DATE '2021-08-01', DATE '2021-08-01', 0.0040, 1000::bigint, 4.00)$$,
	'usage of a per_call service otherwise: municipality line per month x municipality x unit price');

-- One rounding per line: 200 rows of 1 call at 0.0033 are one line of 0.66;
-- rounding each row (0.0033 -> 0.00) would have given 0.00.
SELECT is((SELECT amount FROM rated WHERE route = 'municipality' AND payer_code = '151'), 0.66,
	'many one-call rows make a single line rounded once (0.66, not 200 x 0.00)');

-- A tariff whose valid_from is inside a month applies from the next month.
SELECT is(
	(SELECT array_agg(unit_price ORDER BY period) FROM rated
	  WHERE route = 'municipality' AND payer_code = '101' AND period IN ('2021-07-01', '2021-08-01')),
	ARRAY[0.0033, 0.0040]::numeric[],
	'a tariff valid from 15 July rates August, not July');

-- Other services by udk / own_billing systems: system lines.
-- UDKB on SP1: 2000 x 0.01 = 20.00; NEMR on SS1 (January): 100 x 0.1 = 10.00
SELECT results_eq(
	$$SELECT route::text, payer_code::text COLLATE "default", service_code COLLATE "default", tariff_from, unit_price, calls, amount FROM rated
	   WHERE payer_code IN ('UDKB', 'NEMR') AND service_code <> 'CPR' ORDER BY payer_code COLLATE "C"$$,
	$$VALUES ('system', 'NEMR', 'SS1', DATE '2020-01-01', 0.1000, 100::bigint, 10.00),
			 ('system', 'UDKB', 'SP1', DATE '2020-01-01', 0.0100, 2000::bigint, 20.00)$$,
	'usage of other services by udk/own_billing systems: system lines');

-- Baseline (S4): KY on SS1, baseline 170, calls by month (all municipalities):
-- Jan 30+20 = 50 (cum 50), Feb 50 (100), Mar 50 (150): all within, tariff
-- 0.1 (Jan-Mar) -> 150 x 0.1 = 15.00.
-- Apr 25+25 = 50 crosses: 20 within (to 170) at tariff 0.2 (from April)
-- -> 20 x 0.2 = 4.00; 30 above -> pool.
-- May 50, Jun 50: above the baseline -> pool.
SELECT results_eq(
	$$SELECT route::text, payer_code::text COLLATE "default", tariff_from, unit_price, calls, amount FROM rated
	   WHERE payer_code = 'KY' ORDER BY tariff_from$$,
	$$VALUES ('system', 'KY', DATE '2020-01-01', 0.1000, 150::bigint, 15.00),
			 ('system', 'KY', DATE '2021-04-01', 0.2000,  20::bigint,  4.00)$$,
	'S4: calls up to the baseline are the system''s, filled from January, crossing month split across the tariff change');

-- Pool lines of SS1, one per tariff period:
-- 0.1 period (Jan-Mar): KMDX Jan 40 + SAPA Feb 10 (monopoly_break without a
-- baseline) = 50 -> 5.00 (KMDX's baseline row has no effect).
-- 0.2 period (Apr-): KY Apr 30 + May 50 + Jun 50 = 130, KMDX May 10 -> 140
-- x 0.2 = 28.00
SELECT results_eq(
	$$SELECT route::text, payer_code::text COLLATE "default", tariff_from, unit_price, calls, amount FROM rated
	   WHERE service_code = 'SS1' AND route = 'pool' ORDER BY tariff_from$$,
	$$VALUES ('pool', NULL::text, DATE '2020-01-01', 0.1000,  50::bigint,  5.00),
			 ('pool', NULL::text, DATE '2021-04-01', 0.2000, 140::bigint, 28.00)$$,
	'S4: calls above the baseline are pool, in the right tariff period');

-- Baseline rows of a municipal system or on a Serviceplatform service have
-- no effect: no system line for KMDX, and none for KY on SP1.
SELECT is(
	(SELECT count(*) FROM rated WHERE route = 'system' AND (payer_code = 'KMDX' OR (payer_code = 'KY' AND service_code = 'SP1'))),
	0::bigint, 'baselines of other classes or on Serviceplatform services have no effect');

-- Other usage: pool. SP1: KMDX 1234 + KY 300 (baseline on a Serviceplatform
-- service ignored) + FLIS 66 (kombit_project) = 1600 x 0.01 = 16.00
SELECT results_eq(
	$$SELECT route::text, payer_code::text COLLATE "default", tariff_from, unit_price, calls, amount FROM rated
	   WHERE service_code = 'SP1' AND route = 'pool'$$,
	$$VALUES ('pool', NULL::text, DATE '2020-01-01', 0.0100, 1600::bigint, 16.00)$$,
	'other usage: one pool line per service and tariff period');

-- S5: a service without any tariff rates at 0 (NOTAR 5000 calls -> 0.00);
-- LATE has a tariff from June only: May 100 calls -> 0.00, June 100 x 0.5 = 50.00.
SELECT results_eq(
	$$SELECT service_code COLLATE "default", route::text, tariff_from, unit_price, calls, amount FROM rated
	   WHERE service_code IN ('NOTAR', 'LATE') ORDER BY service_code, tariff_from NULLS FIRST$$,
	$$VALUES ('LATE',  'pool', NULL::date, 0::numeric, 100::bigint, 0.00),
			 ('LATE',  'pool', DATE '2021-06-01', 0.5000, 100::bigint, 50.00),
			 ('NOTAR', 'pool', NULL::date, 0::numeric, 5000::bigint, 0.00)$$,
	'S5: no tariff in force rates at 0');

-- Every call is on exactly one line: 17 lines in all (5 municipality, 6
-- system, 6 pool), and the lines' calls sum to the calls loaded.
SELECT is((SELECT count(*) FROM rated), 17::bigint, 'rated_usage(2021) has 17 lines');
SELECT is((SELECT sum(calls) FROM rated), (SELECT sum(calls) FROM usage WHERE period >= '2021-01-01' AND period < '2022-01-01'),
	'every call of the year is on exactly one line');

-- The usage of 2020 is empty
SELECT is((SELECT count(*) FROM rated_usage(2020)), 0::bigint, 'a year without usage rates to no lines');

-- ---------------------------------------------------------------------
-- The routing is what the lifecycle fixes: announce and close 2021 and
-- compare the fixed lines with the hand-worked figures.
-- ---------------------------------------------------------------------
INSERT INTO population (year, municipality_code, citizens) VALUES
	(2021, '101', 1000), (2021, '147', 1000), (2021, '151', 1000);
-- expected pool 1088.01 / 3000 citizens = 0.36267 -> 0.36
SELECT is(announce_price(2021), 0.36, 'announce 2021: 1088.01 / 3000 = 0.36');
SELECT is(
	(SELECT sum(amount) FROM cost_line WHERE year = 2021 AND basis = 'expected' AND route = 'pool'),
	1088.01, 'the expected pool lines fixed at announcement are the matrix''s');
SELECT is(
	(SELECT count(*) FROM cost_line WHERE year = 2021 AND amount = 0), 0::bigint,
	'zero parts are not fixed as cost lines');

-- Actual pool at close (S6). Actual entries routed to the pool:
-- O3 33.34 + O7 -0.01 + DI3 30.00 + DC6 7.00 = 70.33;
-- rated pool usage: 5.00 + 28.00 + 16.00 + 0.00 + 0.00 + 50.00 = 99.00;
-- actual pool 169.33. Billed 0.36 x 3000 = 1080.00.
-- Difference 169.33 + 0 - 1080.00 = -910.67.
SELECT is(close_year(2021), -910.67, 'close 2021: difference 169.33 - 1080.00 = -910.67');
SELECT is((SELECT actual_pool FROM year_close WHERE year = 2021), 169.33,
	'actual pool = pool-routed actual entries + pool-rated usage');
SELECT results_eq(
	$$SELECT route::text, payer_code::text COLLATE "default", service_code COLLATE "default", period, tariff_from, unit_price, calls, amount
		FROM usage_line WHERE year = 2021
	   ORDER BY route, payer_code COLLATE "C", service_code COLLATE "C", period, tariff_from$$,
	$$SELECT route::text, payer_code::text COLLATE "default", service_code COLLATE "default", period, tariff_from, unit_price, calls, amount
		FROM rated
	   ORDER BY route, payer_code COLLATE "C", service_code COLLATE "C", period, tariff_from$$,
	'close fixes exactly the rated lines as usage lines');
-- Per-call lines are posted as direct charges (S9): 4.95 + 0.00 + 0.66 + 3.30 + 4.00 = 12.91
SELECT is((SELECT sum(amount) FROM direct_charge_line WHERE month >= '2021-01-01' AND month < '2022-01-01'),
	12.91, 'the per-call lines were charged to the municipalities at close');
-- Actual cost lines: E4 0.02, E5 0.01, I2 300.00, O3 100.00, O7 -0.02,
-- DI3 30.00, DC2 15.00, DC6 7.00 = 452.01, of which pool 70.33 and system
-- 0.01+0.01 + 0.01 + 150+75+75 + 33.33+33.33 + (-0.01) + 15.00 = 381.68
SELECT results_eq(
	$$SELECT route::text, sum(amount) FROM cost_line WHERE year = 2021 AND basis = 'actual'
	   GROUP BY route ORDER BY route$$,
	$$VALUES ('pool', 70.33), ('system', 381.68)$$,
	'actual 2021 cost lines by route');

-- ---------------------------------------------------------------------
-- A per_call service without a tariff is an error, not a rate of 0.
-- ---------------------------------------------------------------------
INSERT INTO population (year, municipality_code, citizens) VALUES
	(2027, '101', 10), (2027, '147', 10), (2027, '151', 10);
INSERT INTO usage_batch (batch_key) VALUES ('u2027');
INSERT INTO usage (period, municipality_code, system_code, service_code, calls, batch_key) VALUES
	('2027-01-01', '101', 'KMDX', 'CPRX', 10, 'u2027');
SELECT throws_ok($$SELECT * FROM bill_direct('2027-01-01')$$, '55000', NULL,
	'bill_direct refuses usage of a per_call service without a tariff');
SELECT is((SELECT count(*) FROM direct_charge_line WHERE month = '2027-01-01'), 0::bigint,
	'... and posts nothing');
SELECT is(announce_price(2027), 0.00, 'announce 2027 (no costs): price 0.00');
SELECT throws_ok($$SELECT close_year(2027)$$, '55000', NULL,
	'close refuses a year with per_call usage without a tariff');
SELECT is((SELECT status::text FROM billing_year WHERE year = 2027) || '/' ||
		  (SELECT count(*) FROM year_close WHERE year = 2027) || '/' ||
		  (SELECT count(*) FROM usage_line WHERE year = 2027),
	'announced/0/0', '... and the year stays announced with nothing posted');

SELECT * FROM finish();
ROLLBACK;
