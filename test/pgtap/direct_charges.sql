-- Direct charges and the system side (SPEC R4, R5, R7, R8, R11, §3, S3,
-- S9, S10, S11): bill_direct(month), per_call_lines(month), close_year's
-- posting of outstanding per-call charges, post_schedule_charges and the
-- views direct_charge, system_charge, cost_breakdown, carry_forward and
-- municipality_invoice.
--
-- Every expected value is worked out by hand in the comment next to it.
-- Rounding is half away from zero to øre, once per output line.
BEGIN;
SELECT plan(61);
SET LOCAL search_path = afregning, public;
-- the fixture is tiny: compiling plans to machine code would cost more than running them
SET LOCAL jit = off;

/* ------------------------------------------------------------------
 * Fixture
 *
 * Systems (byte-wise order): ESDH municipal, FLIS kombit_project,
 * KY and SAPA monopoly_break, NEMREF own_billing, UDK-BARSEL udk.
 * Services (byte-wise order):
 *   BESKED  support_system, ordered by ESDH 1, KY 2, SAPA 1, tariff 0.1000
 *   CPR     serviceplatform, per_call, tariff 0.0125 from 2020-01-01
 *   CVR     serviceplatform, ordered by ESDH 1, KY 1, UDK-BARSEL 1, tariff 0.0500
 *   DAR     serviceplatform, per_call, tariff only from 2021-07-01
 *   DEVSVC  serviceplatform, development_pool, ordered by KY
 *   SAGDOK  serviceplatform, ordered, no orderers
 * ------------------------------------------------------------------ */
INSERT INTO municipality (code, name, region) VALUES
	('101', 'København', 'Hovedstaden'),
	('147', 'Frederiksberg', 'Hovedstaden'),
	('151', 'Ballerup', 'Hovedstaden');

INSERT INTO consumer_system (code, name, class) VALUES
	('ESDH', 'Kommunalt ESDH', 'municipal'),
	('FLIS', 'FLIS-projektet', 'kombit_project'),
	('KY', 'Kommunernes Ydelsessystem', 'monopoly_break'),
	('NEMREF', 'Nemrefusion', 'own_billing'),
	('SAPA', 'SAPA', 'monopoly_break'),
	('UDK-BARSEL', 'UDK Barsel', 'udk');

INSERT INTO service (code, name, platform, funding, billing) VALUES
	('BESKED', 'Beskedfordeler', 'support_system', 'ordered', 'pool'),
	('CPR', 'CPR-opslag', 'serviceplatform', 'ordered', 'per_call'),
	('CVR', 'CVR-opslag', 'serviceplatform', 'ordered', 'pool'),
	('DAR', 'Adresseopslag', 'serviceplatform', 'ordered', 'per_call'),
	('DEVSVC', 'Puljeservice', 'serviceplatform', 'development_pool', 'pool'),
	('SAGDOK', 'Sags- og dokumentindeks', 'serviceplatform', 'ordered', 'pool');

INSERT INTO service_order (service_code, system_code, share) VALUES
	('BESKED', 'ESDH', 1), ('BESKED', 'KY', 2), ('BESKED', 'SAPA', 1),
	('CVR', 'ESDH', 1), ('CVR', 'KY', 1), ('CVR', 'UDK-BARSEL', 1),
	('DEVSVC', 'KY', 1);

INSERT INTO tariff (service_code, valid_from, unit_price) VALUES
	('BESKED', '2020-01-01', 0.1000),
	('CPR', '2020-01-01', 0.0125),
	('CVR', '2020-01-01', 0.0500),
	('DAR', '2021-07-01', 0.0100);

INSERT INTO billing_year (year) VALUES (2020), (2021);
INSERT INTO population (year, municipality_code, citizens) VALUES
	(2020, '101', 632340), (2020, '147', 104000), (2020, '151', 1786),
	(2021, '101', 640000), (2021, '147', 105000), (2021, '151', 1800);

INSERT INTO baseline (year, system_code, service_code, calls) VALUES
	(2020, 'KY', 'BESKED', 1500);

/* R11: the infrastructure price as data (seeded by CREATE EXTENSION with the
 * published 2020 schedule), and a newer flat schedule from 2022 */
INSERT INTO charge_schedule (schedule_code, valid_from_year, from_citizens, rate) VALUES
	('infrastructure', 2022, 0, 26.00);

/* Expected costs of 2020:
 *   x20-est-ky     establishment, system KY           90,000.00 -> system KY
 *   x20-ops-besked operations BESKED 400.00 over ESDH 1 : KY 2 : SAPA 1
 *                  -> ESDH 100.00 pool, KY 200.00 system, SAPA 100.00 system
 *   x20-supp       support_admin                   1,999,900.00 -> pool
 * expected pool = 1,999,900.00 + 100.00 = 2,000,000.00 */
INSERT INTO cost_entry (entry_key, year, cost_type, basis, service_code, system_code, amount) VALUES
	('x20-est-ky', 2020, 'establishment', 'expected', 'CVR', 'KY', 90000.00),
	('x20-ops-besked', 2020, 'operations', 'expected', 'BESKED', NULL, 400.00),
	('x20-supp', 2020, 'support_admin', 'expected', NULL, NULL, 1999900.00);

/* ------------------------------------------------------------------
 * Announce 2020 and the infrastructure price (R11)
 * ------------------------------------------------------------------ */

-- citizens = 632,340 + 104,000 + 1,786 = 738,126
-- 2,000,000.00 / 738,126 = 2.7096 (738,126 x 2.705 = 1,996,630.83 < 2,000,000) -> 2.71
SELECT is(announce_price(2020), 2.71, 'announce 2020: 2,000,000.00 / 738,126 citizens = 2.71');

-- 101: 150,000 x 25.00 + (632,340 - 150,000) x 12.50 = 3,750,000.00 + 6,029,250.00 = 9,779,250.00
-- 147: 104,000 x 25.00 = 2,600,000.00 (all in the first tier)
-- 151:   1,786 x 25.00 =    44,650.00
-- the 2022 schedule is later than 2020 and does not apply
SELECT results_eq(
	$$SELECT municipality_code, schedule_code, citizens, amount
		FROM schedule_charge WHERE year = 2020 ORDER BY municipality_code$$,
	$$VALUES ('101' COLLATE "C", 'infrastructure' COLLATE "C", 632340, 9779250.00),
			 ('147', 'infrastructure', 104000, 2600000.00),
			 ('151', 'infrastructure', 1786, 44650.00)$$,
	'R11: infrastructure price 2020 (25.00, 12.50 above 150,000 citizens) per municipality');

/* ------------------------------------------------------------------
 * Usage of 2020
 *
 * January, batch b20-01:
 *   CPR  101 ESDH 333 + 101 KY 333 + 101 SAPA 333 -> 101: 999 calls (KY and SAPA are
 *                                              monopoly_break: their CPR calls are the
 *                                              municipality's)
 *   CPR  147 ESDH 1,000
 *   CPR  147 UDK-BARSEL 5,000, 151 NEMREF 2,000 -> systems, never a direct charge
 *   CVR  101 ESDH 2,000 (pool), 147 UDK-BARSEL 10,000 (system)
 *   BESKED 101 KY 1,000, 101 ESDH 250
 * February: BESKED 101 KY 300, 147 KY 500; March: BESKED 151 KY 400,
 *   CPR 151 ESDH 41; December: CPR 101 ESDH 200
 * ------------------------------------------------------------------ */
INSERT INTO usage_batch (batch_key) VALUES ('b20-01');
INSERT INTO usage (period, municipality_code, system_code, service_code, calls, batch_key) VALUES
	('2020-01-01', '101', 'ESDH', 'CPR', 333, 'b20-01'),
	('2020-01-01', '101', 'KY', 'CPR', 333, 'b20-01'),
	('2020-01-01', '101', 'SAPA', 'CPR', 333, 'b20-01'),
	('2020-01-01', '147', 'ESDH', 'CPR', 1000, 'b20-01'),
	('2020-01-01', '147', 'UDK-BARSEL', 'CPR', 5000, 'b20-01'),
	('2020-01-01', '151', 'NEMREF', 'CPR', 2000, 'b20-01'),
	('2020-01-01', '101', 'ESDH', 'CVR', 2000, 'b20-01'),
	('2020-01-01', '147', 'UDK-BARSEL', 'CVR', 10000, 'b20-01'),
	('2020-01-01', '101', 'KY', 'BESKED', 1000, 'b20-01'),
	('2020-01-01', '101', 'ESDH', 'BESKED', 250, 'b20-01'),
	('2020-02-01', '101', 'KY', 'BESKED', 300, 'b20-01'),
	('2020-02-01', '147', 'KY', 'BESKED', 500, 'b20-01'),
	('2020-03-01', '151', 'KY', 'BESKED', 400, 'b20-01'),
	('2020-03-01', '151', 'ESDH', 'CPR', 41, 'b20-01'),
	('2020-12-01', '101', 'ESDH', 'CPR', 200, 'b20-01');

-- 101: 999 x 0.0125 = 12.4875 -> 12.49 (one rounding per line; rounding per row
--      would give 3 x (333 x 0.0125 = 4.1625 -> 4.16) = 12.48)
-- 147: 1,000 x 0.0125 = 12.50; UDK-BARSEL and NEMREF calls are not included
SELECT results_eq(
	$$SELECT municipality_code, service_code, unit_price, calls, amount
		FROM per_call_lines('2020-01-01') ORDER BY municipality_code$$,
	$$VALUES ('101', 'CPR', 0.0125, 999::bigint, 12.49),
			 ('147', 'CPR', 0.0125, 1000::bigint, 12.50)$$,
	'per_call_lines: per municipality x service x tariff; udk/own_billing calls excluded');

CREATE TEMP TABLE run1 AS SELECT * FROM bill_direct('2020-01-01');

SELECT results_eq(
	$$SELECT municipality_code, service_code, unit_price, calls, amount, kind::text
		FROM run1 ORDER BY municipality_code$$,
	$$VALUES ('101', 'CPR', 0.0125, 999::bigint, 12.49, 'charge'),
			 ('147', 'CPR', 0.0125, 1000::bigint, 12.50, 'charge')$$,
	'bill_direct 2020-01: one charge per municipality, 12.49 and 12.50');

SELECT set_eq(
	$$SELECT municipality_code, service_code, unit_price, calls, amount, kind FROM run1$$,
	$$SELECT municipality_code, service_code, unit_price, calls, amount, kind
		FROM direct_charge_line WHERE month = '2020-01-01'$$,
	'bill_direct returns exactly the lines it posted');

SELECT is((SELECT count(*) FROM direct_charge_line WHERE month = '2020-01-01'), 2::bigint,
	'bill_direct 2020-01 posted two lines (udk/own_billing CPR calls not charged)');

SELECT is((SELECT count(*) FROM bill_direct('2020-01-01')), 0::bigint,
	'a second run of bill_direct 2020-01 posts nothing');

SELECT is((SELECT count(*) FROM direct_charge_line WHERE month = '2020-01-01'), 2::bigint,
	'still two lines for 2020-01 after the second run');

/* Late usage (S10, S11): a new batch for the billed month. */
INSERT INTO usage_batch (batch_key) VALUES ('b20-01-late');
INSERT INTO usage (period, municipality_code, system_code, service_code, calls, batch_key) VALUES
	('2020-01-01', '101', 'ESDH', 'CPR', 2, 'b20-01-late');

-- now 101 has 999 + 2 = 1,001 calls: 1,001 x 0.0125 = 12.5125 -> 12.51
-- adjustment = 12.51 - 12.49 = 0.02 for 2 calls
-- (rating the late batch alone would give 2 x 0.0125 = 0.025 -> 0.03, total 12.52)
SELECT results_eq(
	$$SELECT municipality_code, service_code, unit_price, calls, amount, kind::text
		FROM bill_direct('2020-01-01')$$,
	$$VALUES ('101', 'CPR', 0.0125, 2::bigint, 0.02, 'adjustment')$$,
	'late usage: the next run posts an adjustment of 2 calls, 0.02');

-- a first run over all usage: 101: 1,001 x 0.0125 = 12.51; 147: 12.50; month 25.01
SELECT results_eq(
	$$SELECT payer_code::text, calls, amount FROM direct_charge
		WHERE payer_kind = 'municipality' AND month = '2020-01-01' ORDER BY payer_code$$,
	$$VALUES ('101' COLLATE "C", 1001::bigint, 12.51), ('147', 1000::bigint, 12.50)$$,
	'after the adjustment each key equals a first run over all the usage');

SELECT is((SELECT sum(amount) FROM direct_charge_line WHERE month = '2020-01-01'), 25.01,
	'January total 12.49 + 12.50 + 0.02 = 25.01 = 12.51 + 12.50');

/* More late usage that no bill_direct run sees before the close. */
INSERT INTO usage_batch (batch_key) VALUES ('b20-01-late2');
INSERT INTO usage (period, municipality_code, system_code, service_code, calls, batch_key) VALUES
	('2020-01-01', '147', 'ESDH', 'CPR', 1, 'b20-01-late2');

/* ------------------------------------------------------------------
 * Actual costs of 2020 (route by §3, splits by S1/S2)
 *   a20-est-cvr    establishment CVR 100.00 over ESDH 1 : KY 1 : UDK-BARSEL 1
 *                  10,000 øre / 3 = 3,333.33 each, 1 øre left, tie -> earliest key ESDH
 *                  -> ESDH 33.34, KY 33.33, UDK-BARSEL 33.33 (all system)
 *   a20-est-besked establishment BESKED 1,000.00 over ESDH 1 : KY 2 : SAPA 1
 *                  -> ESDH 250.00, KY 500.00, SAPA 250.00 (all system)
 *   a20-ops-cvr    operations CVR 300.01: 30,001 øre / 3 = 10,000.33, 1 øre to ESDH
 *                  -> ESDH 100.01 pool (municipal), KY 100.00 system, UDK-BARSEL 100.00 system
 *   a20-ops-dev    operations DEVSVC (development pool)      500.00 -> pool
 *   a20-ops-sag    operations SAGDOK (no orderers)            50.00 -> pool
 *   a20-dis-flis   dissemination, system FLIS (kombit)       800.00 -> system FLIS
 *   a20-dis        dissemination, no system                  250.00 -> pool
 *   a20-dc-udk     data_consumption CVR, system UDK-BARSEL 1,200.00 -> system
 *   a20-dc-nem     data_consumption CPR, system NEMREF       600.00 -> system
 *   a20-dc-cpr     data_consumption CPR (per_call)           700.00 -> per_call
 *   a20-dc-cvr     data_consumption CVR                      900.00 -> pool
 *   a20-supp       support_admin                    1,990,000.00 -> pool
 *   a20-devpool    development_pool                     2,000.00 -> pool
 *   a20-infra      infrastructure_establishment, SAPA  10,000.00 -> system
 * pool   = 100.01 + 500 + 50 + 250 + 900 + 1,990,000 + 2,000 = 1,993,800.01
 * system = 100 + 1,000 + 200 + 800 + 1,200 + 600 + 10,000  =    13,900.00
 * per_call                                                  =       700.00
 * total                                                     = 2,008,400.01
 * ------------------------------------------------------------------ */
INSERT INTO cost_entry (entry_key, year, cost_type, basis, service_code, system_code, amount) VALUES
	('a20-est-cvr', 2020, 'establishment', 'actual', 'CVR', NULL, 100.00),
	('a20-est-besked', 2020, 'establishment', 'actual', 'BESKED', NULL, 1000.00),
	('a20-ops-cvr', 2020, 'operations', 'actual', 'CVR', NULL, 300.01),
	('a20-ops-dev', 2020, 'operations', 'actual', 'DEVSVC', NULL, 500.00),
	('a20-ops-sag', 2020, 'operations', 'actual', 'SAGDOK', NULL, 50.00),
	('a20-dis-flis', 2020, 'dissemination', 'actual', NULL, 'FLIS', 800.00),
	('a20-dis', 2020, 'dissemination', 'actual', NULL, NULL, 250.00),
	('a20-dc-udk', 2020, 'data_consumption', 'actual', 'CVR', 'UDK-BARSEL', 1200.00),
	('a20-dc-nem', 2020, 'data_consumption', 'actual', 'CPR', 'NEMREF', 600.00),
	('a20-dc-cpr', 2020, 'data_consumption', 'actual', 'CPR', NULL, 700.00),
	('a20-dc-cvr', 2020, 'data_consumption', 'actual', 'CVR', NULL, 900.00),
	('a20-supp', 2020, 'support_admin', 'actual', NULL, NULL, 1990000.00),
	('a20-devpool', 2020, 'development_pool', 'actual', NULL, NULL, 2000.00),
	('a20-infra', 2020, 'infrastructure_establishment', 'actual', NULL, 'SAPA', 10000.00);

CREATE TEMP TABLE before_close AS SELECT max(line_id) AS last_line FROM direct_charge_line;

/* ------------------------------------------------------------------
 * Close 2020 (S9)
 *
 * Rated usage of 2020 (tariffs: CPR 0.0125, CVR 0.0500, BESKED 0.1000):
 *   pool:   CVR ESDH 2,000 x 0.05 = 100.00
 *           BESKED: KY baseline 1,500 filled from January (S4): Jan 1,000 within,
 *           Feb 800 of which 500 within and 300 above, Mar 400 above;
 *           pool = 300 + 400 + ESDH 250 = 950 calls x 0.10 = 95.00
 *   system: UDK-BARSEL CVR 10,000 x 0.05 = 500.00, UDK-BARSEL CPR 5,000 x 0.0125 = 62.50,
 *           NEMREF CPR 2,000 x 0.0125 = 25.00, KY BESKED 1,500 x 0.10 = 150.00 -> 737.50
 *   municipality: Jan 101 1,001 -> 12.51, Jan 147 1,001 -> 12.5125 -> 12.51,
 *           Mar 151 41 x 0.0125 = 0.5125 -> 0.51, Dec 101 200 x 0.0125 = 2.50 -> 28.03
 *   usage total = 195.00 + 737.50 + 28.03 = 960.53
 * actual pool = 1,993,800.01 + 195.00 = 1,993,995.01
 * billed = 2.71 x 738,126 = 2,000,321.46
 * difference = 1,993,995.01 + 0.00 - 2,000,321.46 = -6,326.45, carried to 2022
 * ------------------------------------------------------------------ */
SELECT is(close_year(2020), -6326.45, 'close 2020 carries 1,993,995.01 - 2,000,321.46 = -6,326.45');

SELECT results_eq(
	$$SELECT month, municipality_code, service_code, unit_price, calls, amount, kind::text
		FROM direct_charge_line, before_close WHERE line_id > last_line
		ORDER BY month, municipality_code$$,
	$$VALUES ('2020-01-01'::date, '147' COLLATE "C", 'CPR' COLLATE "C", 0.0125, 1::bigint, 0.01, 'adjustment'),
			 ('2020-03-01'::date, '151', 'CPR', 0.0125, 41::bigint, 0.51, 'charge'),
			 ('2020-12-01'::date, '101', 'CPR', 0.0125, 200::bigint, 2.50, 'charge')$$,
	'S9: close_year posts the per-call charges not yet posted (147: 12.51 - 12.50 = 0.01)');

SELECT results_eq(
	$$SELECT period, payer_code, service_code, unit_price, calls, amount
		FROM usage_line WHERE year = 2020 AND route = 'municipality'
		ORDER BY period, payer_code$$,
	$$VALUES ('2020-01-01'::date, '101' COLLATE "C", 'CPR' COLLATE "C", 0.0125, 1001::bigint, 12.51),
			 ('2020-01-01'::date, '147', 'CPR', 0.0125, 1001::bigint, 12.51),
			 ('2020-03-01'::date, '151', 'CPR', 0.0125, 41::bigint, 0.51),
			 ('2020-12-01'::date, '101', 'CPR', 0.0125, 200::bigint, 2.50)$$,
	'rated per-call usage of 2020: one line per month x municipality x service x tariff');

SELECT set_eq(
	$$SELECT month, municipality_code, service_code, unit_price, sum(calls)::bigint AS calls, sum(amount) AS amount
		FROM direct_charge_line WHERE month BETWEEN '2020-01-01' AND '2020-12-01'
		GROUP BY 1, 2, 3, 4$$,
	$$SELECT period, payer_code, service_code, unit_price, calls, amount
		FROM usage_line WHERE year = 2020 AND route = 'municipality'$$,
	'S9: the closed year''s direct charges equal its rated per-call usage lines');

-- direct_charge holds municipalities' per-call charges by month only; the
-- usage that systems carry (KY baseline 1,500 BESKED calls 150.00, NEMREF
-- 2,000 CPR calls 25.00, UDK-BARSEL 5,000 CPR 62.50 + 10,000 CVR 500.00) is
-- settled per year and shows in system_charge below, never as a month here
SELECT results_eq(
	$$SELECT month, payer_kind::text, payer_code::text, service_code::text, calls, amount FROM direct_charge
		WHERE month < '2021-01-01' ORDER BY payer_kind, month, payer_code, service_code$$,
	$$VALUES ('2020-01-01'::date, 'municipality', '101' COLLATE "C", 'CPR' COLLATE "C", 1001::bigint, 12.51),
			 ('2020-01-01'::date, 'municipality', '147', 'CPR', 1001::bigint, 12.51),
			 ('2020-03-01'::date, 'municipality', '151', 'CPR', 41::bigint, 0.51),
			 ('2020-12-01'::date, 'municipality', '101', 'CPR', 200::bigint, 2.50)$$,
	'direct_charge 2020: municipalities'' per-call charges by month, no system rows');

SELECT results_eq(
	$$SELECT service_code, calls, amount FROM usage_line
		WHERE year = 2020 AND route = 'pool' ORDER BY service_code$$,
	$$VALUES ('BESKED' COLLATE "C", 950::bigint, 95.00), ('CVR', 2000::bigint, 100.00)$$,
	'pool usage 2020: BESKED above the KY baseline (700) + ESDH (250) = 950 calls, CVR 2,000 calls');

/* ------------------------------------------------------------------
 * The system side (R4, R5, R6, R7, R8), expected and actual apart
 *   expected: KY establishment 90,000.00; KY operations 200.00; SAPA operations 100.00
 *   actual:   ESDH establishment 33.34 + 250.00 = 283.34
 *             FLIS dissemination 800.00
 *             KY establishment 33.33 + 500.00 = 533.33, operations 100.00,
 *                data_consumption (baseline) 150.00
 *             NEMREF data_consumption 600.00 + 25.00 = 625.00
 *             SAPA establishment 250.00, infrastructure_establishment 10,000.00
 *             UDK-BARSEL establishment 33.33, operations 100.00,
 *                data_consumption 1,200.00 + 500.00 + 62.50 = 1,762.50
 *   actual sum = 13,900.00 + 737.50 = 14,637.50
 * ------------------------------------------------------------------ */
SELECT results_eq(
	$$SELECT basis::text, system_code::text, system_class::text, cost_type::text, calls, amount FROM system_charge
		WHERE year = 2020 ORDER BY basis, system_code, cost_type$$,
	$$VALUES ('actual', 'ESDH' COLLATE "C", 'municipal', 'establishment', NULL::bigint, 283.34),
			 ('actual', 'FLIS', 'kombit_project', 'dissemination', NULL, 800.00),
			 ('actual', 'KY', 'monopoly_break', 'data_consumption', 1500, 150.00),
			 ('actual', 'KY', 'monopoly_break', 'establishment', NULL, 533.33),
			 ('actual', 'KY', 'monopoly_break', 'operations', NULL, 100.00),
			 ('actual', 'NEMREF', 'own_billing', 'data_consumption', 2000, 625.00),
			 ('actual', 'SAPA', 'monopoly_break', 'establishment', NULL, 250.00),
			 ('actual', 'SAPA', 'monopoly_break', 'infrastructure_establishment', NULL, 10000.00),
			 ('actual', 'UDK-BARSEL', 'udk', 'data_consumption', 15000, 1762.50),
			 ('actual', 'UDK-BARSEL', 'udk', 'establishment', NULL, 33.33),
			 ('actual', 'UDK-BARSEL', 'udk', 'operations', NULL, 100.00),
			 ('expected', 'KY', 'monopoly_break', 'establishment', NULL, 90000.00),
			 ('expected', 'KY', 'monopoly_break', 'operations', NULL, 200.00),
			 ('expected', 'SAPA', 'monopoly_break', 'operations', NULL, 100.00)$$,
	'system_charge 2020: establishment, operations shares, own data consumption, baseline, KOMBIT dissemination');

/* ------------------------------------------------------------------
 * Closing identity of 2020
 *   pool         = 1,993,800.01 + 195.00 = 1,993,995.01
 *   system       =    13,900.00 + 737.50 =    14,637.50
 *   municipality =         0.00 +  28.03 =        28.03  (the per-call charges)
 *   per_call     =       700.00 +   0.00 =       700.00  (the cost they recover, SPEC §3)
 *   total        = 2,008,400.01 + 960.53 = 2,009,360.54
 * ------------------------------------------------------------------ */
SELECT results_eq(
	$$SELECT route::text, sum(amount) FROM cost_breakdown
		WHERE year = 2020 AND basis = 'actual' GROUP BY route ORDER BY route$$,
	$$VALUES ('municipality', 28.03), ('per_call', 700.00), ('pool', 1993995.01), ('system', 14637.50)$$,
	'cost_breakdown 2020 actual by route: per-call cost entries on route per_call, not added to the municipality route');

SELECT is((SELECT sum(amount) FROM cost_breakdown WHERE year = 2020 AND basis = 'actual'),
	2009360.54, 'the four routes add up to entries 2,008,400.01 + rated usage 960.53 = 2,009,360.54');

SELECT is(
	(SELECT sum(amount) FROM cost_entry WHERE year = 2020 AND basis = 'actual')
	+ (SELECT sum(amount) FROM usage_line WHERE year = 2020),
	2009360.54, 'actual cost entries plus rated usage lines of 2020 total 2,009,360.54');

SELECT is_empty(
	$$SELECT e.entry_key FROM cost_entry e
		LEFT JOIN (SELECT entry_key, sum(amount) AS routed, count(*) AS parts
					 FROM cost_line WHERE basis = 'actual' GROUP BY entry_key) l USING (entry_key)
		WHERE e.year = 2020 AND e.basis = 'actual'
		  AND (l.routed IS DISTINCT FROM e.amount
			   OR l.parts > (CASE e.entry_key WHEN 'a20-est-cvr' THEN 3 WHEN 'a20-est-besked' THEN 3
											  WHEN 'a20-ops-cvr' THEN 3 ELSE 1 END))$$,
	'every actual cost entry of 2020 is routed once and in full (split entries in one part per orderer)');

-- expected: pool 1,999,900.00 + 100.00 = 2,000,000.00; system 90,000 + 200 + 100 = 90,300.00
SELECT results_eq(
	$$SELECT route::text, sum(amount) FROM cost_breakdown
		WHERE year = 2020 AND basis = 'expected' GROUP BY route ORDER BY route$$,
	$$VALUES ('pool', 2000000.00), ('system', 90300.00)$$,
	'cost_breakdown 2020 expected kept apart: pool 2,000,000.00, system 90,300.00');

SELECT results_eq(
	$$SELECT from_year, to_year, actual_pool, carry_in, billed, difference
		FROM carry_forward ORDER BY from_year$$,
	$$VALUES (2020, 2022, 1993995.01, 0.00, 2000321.46, -6326.45)$$,
	'carry_forward 2020 -> 2022');

/* ------------------------------------------------------------------
 * municipality_invoice 2020 (price 2.71)
 *   101: 2.71 x 632,340 = 1,713,641.40; direct 12.51 + 2.50 = 15.01; infra 9,779,250.00
 *        total 11,492,906.41
 *   147: 2.71 x 104,000 =   281,840.00; direct 12.51; infra 2,600,000.00; total 2,881,852.51
 *   151: 2.71 x   1,786 =     4,840.06; direct 0.51;  infra    44,650.00; total    49,490.57
 * ------------------------------------------------------------------ */
SELECT results_eq(
	$$SELECT municipality_code::text, municipality_name::text, citizens, buffet_amount, direct_amount,
			 infrastructure_amount, total
		FROM municipality_invoice WHERE year = 2020 ORDER BY municipality_code$$,
	$$VALUES ('101' COLLATE "C", 'København', 632340::bigint, 1713641.40, 15.01, 9779250.00, 11492906.41),
			 ('147', 'Frederiksberg', 104000, 281840.00, 12.51, 2600000.00, 2881852.51),
			 ('151', 'Ballerup', 1786, 4840.06, 0.51, 44650.00, 49490.57)$$,
	'municipality_invoice 2020: buffet + per-call charges of the year''s months + infrastructure');

/* ------------------------------------------------------------------
 * 2021: tariff changes (the last closed year is now 2020)
 *   CPR 0.0150 from 2021-01-01; 0.0200 valid from 2021-03-15 (applies from April)
 * ------------------------------------------------------------------ */
INSERT INTO tariff (service_code, valid_from, unit_price) VALUES
	('CPR', '2021-01-01', 0.0150),
	('CPR', '2021-03-15', 0.0200);
INSERT INTO usage_batch (batch_key) VALUES ('b21');
INSERT INTO usage (period, municipality_code, system_code, service_code, calls, batch_key) VALUES
	('2021-01-01', '101', 'ESDH', 'CPR', 200, 'b21'),
	('2021-03-01', '101', 'ESDH', 'CPR', 500, 'b21'),
	('2021-04-01', '101', 'ESDH', 'CPR', 500, 'b21'),
	('2021-05-01', '101', 'ESDH', 'CPR', 333, 'b21'),
	('2021-06-01', '101', 'ESDH', 'CPR', 100, 'b21'),
	('2021-06-01', '101', 'ESDH', 'DAR', 100, 'b21');

-- January 2021: 200 x 0.0150 = 3.00 (December 2020 was 200 x 0.0125 = 2.50)
SELECT results_eq(
	$$SELECT municipality_code, unit_price, calls, amount, kind::text FROM bill_direct('2021-01-01')$$,
	$$VALUES ('101', 0.0150, 200::bigint, 3.00, 'charge')$$,
	'tariff change between months: January 2021 at 0.0150 (December 2020 at 0.0125)');

-- March 2021: the 2021-03-15 tariff is not in force yet: 500 x 0.0150 = 7.50
SELECT results_eq(
	$$SELECT municipality_code, unit_price, calls, amount, kind::text FROM bill_direct('2021-03-01')$$,
	$$VALUES ('101', 0.0150, 500::bigint, 7.50, 'charge')$$,
	'a tariff valid from inside March does not apply to March');

-- April 2021: 500 x 0.0200 = 10.00
SELECT results_eq(
	$$SELECT municipality_code, unit_price, calls, amount, kind::text FROM bill_direct('2021-04-01')$$,
	$$VALUES ('101', 0.0200, 500::bigint, 10.00, 'charge')$$,
	'it applies from the next month: April at 0.0200');

-- May 2021: 333 x 0.0200 = 6.66
SELECT results_eq(
	$$SELECT municipality_code, unit_price, calls, amount, kind::text FROM bill_direct('2021-05-01')$$,
	$$VALUES ('101', 0.0200, 333::bigint, 6.66, 'charge')$$,
	'May 2021 billed at 0.0200');

/* A new tariff dated before the billed month May (valid from 2021-04-20,
 * so in force from May) changes May's key from 0.0200 to 0.0180. */
INSERT INTO tariff (service_code, valid_from, unit_price) VALUES ('CPR', '2021-04-20', 0.0180);
CREATE TEMP TABLE before_may AS SELECT max(line_id) AS last_line FROM direct_charge_line;
CREATE TEMP TABLE run_may AS SELECT * FROM bill_direct('2021-05-01');

-- new key: 333 x 0.0180 = 5.994 -> 5.99; old key reversed: -333 calls, -6.66
SELECT results_eq(
	$$SELECT municipality_code, service_code, unit_price, calls, amount, kind::text
		FROM run_may ORDER BY unit_price$$,
	$$VALUES ('101', 'CPR', 0.0180, 333::bigint, 5.99, 'charge'),
			 ('101', 'CPR', 0.0200, -333::bigint, -6.66, 'reversal')$$,
	'a key that disappears is reversed and the new key charged');

SELECT set_eq(
	$$SELECT municipality_code, service_code, unit_price, calls, amount, kind FROM run_may$$,
	$$SELECT municipality_code, service_code, unit_price, calls, amount, kind
		FROM direct_charge_line, before_may WHERE line_id > last_line$$,
	'bill_direct returns exactly the reversal and the charge it posted');

-- 6.66 - 6.66 + 5.99 = 5.99 = a first run at 0.0180
SELECT results_eq(
	$$SELECT calls, amount FROM direct_charge WHERE payer_kind = 'municipality' AND month = '2021-05-01'$$,
	$$VALUES (333::bigint, 5.99)$$,
	'May 2021 now totals 333 calls, 5.99');

SELECT is((SELECT count(*) FROM bill_direct('2021-04-01')), 0::bigint,
	'April is not touched by the May tariff: a re-run posts nothing');

/* ------------------------------------------------------------------
 * Bad input: a clear SQLSTATE and nothing posted
 * lines so far: 2020-01 3, close 3, 2021-01 1, 03 1, 04 1, 05 1 + 2 = 12
 * ------------------------------------------------------------------ */
SELECT throws_ok($$SELECT * FROM bill_direct('2021-02-15')$$, '22023',
	NULL, 'bill_direct of a day that is not the first of a month: 22023');
SELECT is((SELECT count(*) FROM direct_charge_line), 12::bigint,
	'nothing posted by the refused call (12 lines)');

SELECT throws_ok($$SELECT * FROM bill_direct(NULL)$$, '22004',
	'the month to bill must not be null', 'bill_direct of a null month: 22004');
SELECT is((SELECT count(*) FROM direct_charge_line), 12::bigint,
	'nothing posted by the refused call (still 12 lines)');

-- June 2021 has CPR usage (tariff 0.0180) and DAR usage (DAR tariff only from July)
SELECT throws_ok($$SELECT * FROM bill_direct('2021-06-01')$$, '55000',
	NULL, 'per-call usage in a month without a tariff in force: 55000');
SELECT is((SELECT count(*) FROM direct_charge_line WHERE month = '2021-06-01'), 0::bigint,
	'nothing posted for June, not even its CPR calls');

-- usage rows so far: 15 + 1 + 1 + 6 = 23
SELECT throws_ok($$INSERT INTO usage (period, municipality_code, system_code, service_code, calls, batch_key)
		VALUES ('2021-07-01', '101', 'ESDH', 'NOPE', 10, 'b21')$$, '23503',
	NULL, 'usage of an unknown service: 23503');
SELECT is((SELECT count(*) FROM usage), 23::bigint, 'no usage row added (23 rows)');
SELECT throws_ok($$INSERT INTO usage (period, municipality_code, system_code, service_code, calls, batch_key)
		VALUES ('2021-07-01', '101', 'NOPE', 'CPR', 10, 'b21')$$, '23503',
	NULL, 'usage of an unknown system: 23503');
SELECT is((SELECT count(*) FROM usage), 23::bigint, 'no usage row added (23 rows)');
SELECT throws_ok($$INSERT INTO usage (period, municipality_code, system_code, service_code, calls, batch_key)
		VALUES ('2021-07-01', '999', 'ESDH', 'CPR', 10, 'b21')$$, '23503',
	NULL, 'usage of an unknown municipality: 23503');
SELECT is((SELECT count(*) FROM usage), 23::bigint, 'no usage row added (23 rows)');
SELECT is((SELECT count(*) FROM bill_direct('2021-07-01')), 0::bigint,
	'and July has nothing to bill');
SELECT is((SELECT count(*) FROM direct_charge_line), 12::bigint, 'still 12 direct charge lines');

/* ------------------------------------------------------------------
 * Schedules by year (R11): the 2020 schedule applies to 2021, the newer
 * flat 26.00 schedule replaces it from 2022
 * ------------------------------------------------------------------ */
-- 2021 has no expected costs and no carry-in: price 0.00
SELECT is(announce_price(2021), 0.00, 'announce 2021: empty pool, price 0.00');

-- 101: 150,000 x 25.00 + 490,000 x 12.50 = 3,750,000.00 + 6,125,000.00 = 9,875,000.00
-- 147: 105,000 x 25.00 = 2,625,000.00;  151: 1,800 x 25.00 = 45,000.00
SELECT results_eq(
	$$SELECT municipality_code, citizens, amount FROM schedule_charge
		WHERE year = 2021 ORDER BY municipality_code$$,
	$$VALUES ('101' COLLATE "C", 640000, 9875000.00), ('147', 105000, 2625000.00), ('151', 1800, 45000.00)$$,
	'2021 uses the 2020 schedule; the 2022 schedule does not apply to an earlier year');

-- direct amounts of 2021's months for 101: 3.00 + 7.50 + 10.00 + 5.99 = 26.49
SELECT results_eq(
	$$SELECT municipality_code::text, buffet_amount, direct_amount, infrastructure_amount, total
		FROM municipality_invoice WHERE year = 2021 ORDER BY municipality_code$$,
	$$VALUES ('101' COLLATE "C", 0.00, 26.49, 9875000.00, 9875026.49),
			 ('147', 0.00, 0.00, 2625000.00, 2625000.00),
			 ('151', 0.00, 0.00, 45000.00, 45000.00)$$,
	'municipality_invoice 2021: only 2021 months count as direct charges');

-- 2022 exists since the carry of 2020 was posted into it; 2020 (= 2022 - 2) is closed
INSERT INTO population (year, municipality_code, citizens) VALUES
	(2022, '101', 650000), (2022, '147', 106000), (2022, '151', 1790);
-- pool = 0.00 + carry-in -6,326.45 < 0 -> price 0.00
SELECT is(announce_price(2022), 0.00, 'announce 2022: negative pool, price 0.00');

-- flat 26.00, no second tier: 650,000 x 26 = 16,900,000.00; 106,000 x 26 = 2,756,000.00;
-- 1,790 x 26 = 46,540.00
SELECT results_eq(
	$$SELECT municipality_code, citizens, amount FROM schedule_charge
		WHERE year = 2022 ORDER BY municipality_code$$,
	$$VALUES ('101' COLLATE "C", 650000, 16900000.00), ('147', 106000, 2756000.00), ('151', 1790, 46540.00)$$,
	'from 2022 the newer schedule replaces the older one as a whole');


/* ------------------------------------------------------------------
 * Closed years keep their routing (S9, §3): 2020 is closed
 *
 * Usage of 2020 by system and service (see above): ESDH (municipal) on
 * CPR, CVR, BESKED; KY (monopoly_break) on CPR, BESKED; SAPA
 * (monopoly_break) on CPR; UDK-BARSEL (udk) on CPR, CVR; NEMREF
 * (own_billing) on CPR.
 * ------------------------------------------------------------------ */
CREATE TEMP TABLE routing_before AS
SELECT (SELECT string_agg(code || ':' || class, ',' ORDER BY code) FROM consumer_system) AS systems,
	   (SELECT string_agg(code || ':' || billing || ':' || platform, ',' ORDER BY code) FROM service) AS services,
	   (SELECT count(*) FROM direct_charge_line) AS lines;

-- ESDH municipal -> udk: its CPR calls of 2020 would move from the municipalities to ESDH
SELECT throws_ok($$UPDATE consumer_system SET class = 'udk' WHERE code = 'ESDH'$$, '55000',
	'usage routing of year 2020 is locked', 'a class change re-routing 2020 usage (ESDH to udk): 55000');
-- CPR per_call -> pool: 2020's CPR calls would leave the municipalities
SELECT throws_ok($$UPDATE service SET billing = 'pool' WHERE code = 'CPR'$$, '55000',
	'usage routing of year 2020 is locked', 'a billing change re-routing 2020 usage (CPR to pool): 55000');
-- BESKED support_system -> serviceplatform: KY's 2020 baseline would no longer apply
SELECT throws_ok($$UPDATE service SET platform = 'serviceplatform' WHERE code = 'BESKED'$$, '55000',
	'usage routing of year 2020 is locked', 'a platform change dropping a 2020 baseline (BESKED): 55000');
SELECT results_eq(
	$$SELECT (SELECT string_agg(code || ':' || class, ',' ORDER BY code) FROM consumer_system),
			 (SELECT string_agg(code || ':' || billing || ':' || platform, ',' ORDER BY code) FROM service)$$,
	$$SELECT systems, services FROM routing_before$$,
	'... and no system or service changed');

-- changes that give no 2020 usage another route are allowed:
-- ESDH municipal -> kombit_project: per_call still to the municipality, the rest still pool
SELECT lives_ok($$UPDATE consumer_system SET class = 'kombit_project' WHERE code = 'ESDH'$$,
	'a class change that keeps every route (ESDH to kombit_project) is allowed');
-- CVR to support_system: its 2020 callers ESDH and UDK-BARSEL have no baseline either way
SELECT lives_ok($$UPDATE service SET platform = 'support_system' WHERE code = 'CVR'$$,
	'a platform change no 2020 caller notices (CVR) is allowed');
-- FLIS has no usage at all
SELECT lives_ok($$UPDATE consumer_system SET class = 'udk' WHERE code = 'FLIS'$$,
	'a system without usage in a closed year may change class');

/* Even if a superuser bypasses the guard, bill_direct never posts into a
 * month of a closed year: with ESDH as udk, January 2020 would otherwise be
 * reversed (its CPR calls of 101 and 147 became system calls). */
ALTER TABLE consumer_system DISABLE TRIGGER consumer_system_usage_routing;
UPDATE consumer_system SET class = 'udk' WHERE code = 'ESDH';
ALTER TABLE consumer_system ENABLE ALWAYS TRIGGER consumer_system_usage_routing;
SELECT is((SELECT count(*) FROM bill_direct('2020-01-01')), 0::bigint,
	'S9: bill_direct of a closed year''s month posts nothing');
SELECT is((SELECT count(*) FROM direct_charge_line), (SELECT lines FROM routing_before),
	'... and no line was added');

SELECT * FROM finish();
ROLLBACK;
