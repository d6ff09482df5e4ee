--
-- Settlement end to end on a tiny data set: budget, preview and announce a
-- buffet price, quarterly installments, per-call billing (twice, and after
-- late usage), closing the year, and the dashboard views.
--
-- Everything runs in one transaction that is rolled back at the end, so
-- the database is left as it was; ON_ERROR_ROLLBACK keeps the transaction
-- alive after the refusals shown.
--
-- names print the same whatever role runs the test ("$user" is in the default path)
SET search_path = afregning, public;
\set SHOW_CONTEXT never
\set ON_ERROR_ROLLBACK on
-- progress NOTICEs carry elapsed seconds; the run log is tested elsewhere
SET client_min_messages = warning;
BEGIN;
SET LOCAL search_path = afregning, public;
SET LOCAL datestyle = 'ISO, YMD';

-- Reference data: three municipalities, three consumer systems, two services.
INSERT INTO municipality (code, name, region) VALUES
    ('101', 'København', 'Hovedstaden'),
    ('147', 'Frederiksberg', 'Hovedstaden'),
    ('151', 'Ballerup', 'Hovedstaden');
INSERT INTO consumer_system (code, name, class) VALUES
    ('ESDH', 'Kommunalt ESDH', 'municipal'),
    ('KY', 'Kommunernes Ydelsessystem', 'monopoly_break'),
    ('UDK-PENSION', 'UDK Pension', 'udk');
INSERT INTO service (code, name, platform, funding, billing) VALUES
    ('CPR', 'CPR-opslag', 'serviceplatform', 'ordered', 'per_call'),
    ('CVR', 'CVR-opslag', 'serviceplatform', 'ordered', 'pool');
-- CVR was ordered by ESDH and KY in equal shares.
INSERT INTO service_order (service_code, system_code, share) VALUES
    ('CVR', 'ESDH', 1), ('CVR', 'KY', 1);
INSERT INTO tariff (service_code, valid_from, unit_price) VALUES
    ('CPR', '2024-01-01', 0.0125),
    ('CVR', '2024-01-01', 0.0400);
-- The infrastructure price (R11) comes seeded: 25.00 per citizen, 12.50 above 150,000.
SELECT schedule_code, valid_from_year, from_citizens, rate
  FROM charge_schedule ORDER BY valid_from_year, from_citizens;

INSERT INTO billing_year (year) VALUES (2024), (2025);

-- Budget of 2024. Operations of CVR split 1:1: ESDH's half (municipal) is
-- pool-funded, KY's half (monopoly-break) is KY's own; establishment is KY's.
-- Expected pool = 1,500,000.00 + 300,000.00 + 100,000.00 = 1,900,000.00.
INSERT INTO cost_entry (entry_key, year, cost_type, basis, service_code, system_code, amount) VALUES
    ('2024-budget-support', 2024, 'support_admin', 'expected', NULL, NULL, 1500000.00),
    ('2024-budget-cvr-ops', 2024, 'operations', 'expected', 'CVR', NULL, 600000.00),
    ('2024-budget-devpool', 2024, 'development_pool', 'expected', NULL, NULL, 100000.00),
    ('2024-budget-cvr-est', 2024, 'establishment', 'expected', 'CVR', 'KY', 50000.00);

-- Population, first without Ballerup.
INSERT INTO population (year, municipality_code, citizens) VALUES
    (2024, '101', 600000), (2024, '147', 100003);

-- Preview: no citizens of 151 yet, 700,003 citizens:
-- 1,900,000.00 / 700,003 = 2.71427... -> 2.71
SELECT * FROM preview_price(2024);

-- Refused: the price cannot be announced without every municipality's population.
SELECT announce_price(2024);
SELECT :'LAST_ERROR_SQLSTATE';

INSERT INTO population (year, municipality_code, citizens) VALUES (2024, '151', 50001);

-- 750,004 citizens: 1,900,000.00 / 750,004 = 2.5333198... -> 2.53;
-- billed 2.53 x 750,004 = 1,897,510.12; the residual 2,489.88 is carried
-- forward at close.
SELECT * FROM explain_price(2024) ORDER BY line;

SELECT announce_price(2024);
-- A second announcement posts nothing and returns the locked price.
SELECT announce_price(2024);

-- Refused: the price of an announced year never changes.
INSERT INTO cost_entry (entry_key, year, cost_type, basis, amount)
VALUES ('2024-budget-late', 2024, 'support_admin', 'expected', 10000.00);
SELECT :'LAST_ERROR_SQLSTATE';

-- Quarterly installments, Q1 first on ties:
-- 101: 2.53 x 600,000 = 1,518,000.00 -> 4 x 379,500.00
-- 147: 2.53 x 100,003 =   253,007.59 -> 25,300,759 øre / 4 = 6,325,189 r 3:
--      Q1-Q3 63,251.90, Q4 63,251.89
-- 151: 2.53 x  50,001 =   126,502.53 -> 12,650,253 øre / 4 = 3,162,563 r 1:
--      Q1 31,625.64, Q2-Q4 31,625.63
SELECT municipality_code, quarter, due_date, amount
  FROM installment WHERE year = 2024 ORDER BY municipality_code, quarter;

-- Usage of January 2024.
-- CPR: 101 1,001 calls x 0.0125 = 12.5125 -> 12.51; 147 ESDH 333 + KY 333
-- = 666 x 0.0125 = 8.325 -> 8.33 (one rounding per line; per row it would be
-- 333 x 0.0125 = 4.1625 -> 4.16 twice = 8.32); UDK-PENSION's 4,000 calls are
-- its own (4,000 x 0.0125 = 50.00), never a municipality's.
-- CVR: ESDH 10,000 x 0.04 = 400.00 pool; UDK-PENSION 2,500 x 0.04 = 100.00 system.
INSERT INTO usage_batch (batch_key) VALUES ('2024-01-a');
INSERT INTO usage (period, municipality_code, system_code, service_code, calls, batch_key) VALUES
    ('2024-01-01', '101', 'ESDH', 'CPR', 1001, '2024-01-a'),
    ('2024-01-01', '147', 'ESDH', 'CPR', 333, '2024-01-a'),
    ('2024-01-01', '147', 'KY', 'CPR', 333, '2024-01-a'),
    ('2024-01-01', '151', 'UDK-PENSION', 'CPR', 4000, '2024-01-a'),
    ('2024-01-01', '101', 'ESDH', 'CVR', 10000, '2024-01-a'),
    ('2024-01-01', '147', 'UDK-PENSION', 'CVR', 2500, '2024-01-a');

SELECT * FROM bill_direct('2024-01-01') ORDER BY municipality_code, service_code, unit_price;
-- Run again: nothing new to post.
SELECT * FROM bill_direct('2024-01-01') ORDER BY municipality_code, service_code, unit_price;

-- Refused: a month is given by its first day.
SELECT * FROM bill_direct('2024-01-15');
SELECT :'LAST_ERROR_SQLSTATE';

-- The February delivery brings late usage for January: 147 now has 667
-- calls x 0.0125 = 8.3375 -> 8.34, an adjustment of 8.34 - 8.33 = 0.01;
-- 151 is new: 40 x 0.0125 = 0.50. February itself: 101 800 x 0.0125 = 10.00,
-- not billed before the close.
INSERT INTO usage_batch (batch_key) VALUES ('2024-02-a');
INSERT INTO usage (period, municipality_code, system_code, service_code, calls, batch_key) VALUES
    ('2024-01-01', '147', 'ESDH', 'CPR', 1, '2024-02-a'),
    ('2024-01-01', '151', 'ESDH', 'CPR', 40, '2024-02-a'),
    ('2024-02-01', '101', 'ESDH', 'CPR', 800, '2024-02-a');

SELECT * FROM bill_direct('2024-01-01') ORDER BY municipality_code, service_code, unit_price;

-- Actual costs of 2024. Establishment of CVR 45,000.01 over ESDH 1 : KY 1:
-- 4,500,001 øre / 2 = 2,250,000 r 1 each, the øre to the earlier key ESDH.
INSERT INTO cost_entry (entry_key, year, cost_type, basis, service_code, system_code, amount) VALUES
    ('2024-support', 2024, 'support_admin', 'actual', NULL, NULL, 1480000.00),
    ('2024-cvr-ops', 2024, 'operations', 'actual', 'CVR', NULL, 600000.00),
    ('2024-devpool', 2024, 'development_pool', 'actual', NULL, NULL, 100000.00),
    ('2024-cvr-est', 2024, 'establishment', 'actual', 'CVR', NULL, 45000.01),
    ('2024-cpr-data', 2024, 'data_consumption', 'actual', 'CPR', NULL, 900.00),
    ('2024-udk-data', 2024, 'data_consumption', 'actual', 'CVR', 'UDK-PENSION', 1000.00);

-- Close 2024: February's per-call charge is posted first (S9).
-- actual pool = 1,480,000.00 + 300,000.00 + 100,000.00 + CVR usage 400.00
--             = 1,880,400.00
-- difference  = 1,880,400.00 + 0.00 - 1,897,510.12 = -17,110.12, into 2026
SELECT close_year(2024);
-- A second close posts nothing and returns the same difference.
SELECT close_year(2024);

-- Refused: 2025 cannot be closed before its price is announced.
SELECT close_year(2025);
SELECT :'LAST_ERROR_SQLSTATE';

-- Every direct charge line posted, in posting order.
SELECT month, municipality_code, service_code, unit_price, calls, amount, kind
  FROM direct_charge_line ORDER BY line_id;

-- 2026 was created by the carry-forward; open years show a live preview
-- (no population yet, so no price).
SELECT year, status, expected_pool, carry_in, pool, citizens, price
  FROM buffet_price ORDER BY year;

-- One row per posting; nothing is spread here, so posted = difference.
SELECT from_year, to_year, actual_pool, carry_in, billed, difference, posted
  FROM carry_forward ORDER BY from_year, to_year;

-- Actual data consumption: municipality = the per-call usage (the charges)
-- 12.51 + 8.34 + 0.50 + 10.00 = 31.35; per_call = the CPR cost entry 900.00
-- that the charges recover, never added to them (SPEC §3); pool = CVR usage
-- 400.00; system = 1,000.00 + UDK-PENSION usage 50.00 + 100.00 = 1,150.00.
-- Establishment 45,000.01 all system; operations 300,000.00 pool and system.
SELECT year, basis, cost_type, route, amount
  FROM cost_breakdown ORDER BY year, basis, cost_type, route;

-- Municipalities' per-call charges by month; UDK-PENSION's usage is its own,
-- settled per year in system_charge below, never shown as a month.
SELECT month, payer_kind, payer_code, service_code, calls, amount
  FROM direct_charge ORDER BY month, payer_kind, payer_code, service_code;

-- ESDH pays its 22,500.01 share of CVR's establishment, KY 22,500.00 and its
-- operations share; UDK-PENSION its own data consumption: the entry 1,000.00
-- and its 4,000 + 2,500 = 6,500 calls rated at 50.00 + 100.00, for the year.
SELECT year, basis, system_code, system_class, cost_type, calls, amount
  FROM system_charge ORDER BY year, basis, system_code, cost_type;

-- 101: buffet 1,518,000.00; CPR 12.51 + 10.00 = 22.51;
--      infrastructure 150,000 x 25.00 + 450,000 x 12.50 = 9,375,000.00
--      total 10,893,022.51
-- 147: 253,007.59 + 8.34 + 100,003 x 25.00 = 2,500,075.00 -> 2,753,090.93
-- 151: 126,502.53 + 0.50 + 50,001 x 25.00 = 1,250,025.00 -> 1,376,528.03
SELECT year, municipality_code, municipality_name, citizens, buffet_amount,
       direct_amount, infrastructure_amount, total
  FROM municipality_invoice ORDER BY year, municipality_code;

-- Does the CPR tariff cover its cost? Charged 31.35 for 1,801 + 667 + 40 =
-- 2,508 calls against the cost entry 900.00: 31.35 - 900.00 = -868.65.
SELECT year, service_code, expected_cost, cost, calls, charged, difference
  FROM per_call_recovery ORDER BY year, service_code;

-- The waterfall of 2024 in typed columns: 1,900,000.00 / 750,004 =
-- 2.5333198223 -> 2.53; billed 1,897,510.12; residual 2,489.88.
SELECT year, line, item, amount, citizens, unrounded
  FROM price_waterfall ORDER BY year, line;

-- Usage loaded so far, rated per row: 147 ESDH 333 + 1 = 334 x 0.0125 =
-- 4.175 -> 4.18 and 147 KY 333 -> 4.1625 -> 4.16 (no routing, no baseline).
SELECT year, month, municipality_code, system_code, service_code, calls, unit_price, amount
  FROM usage_month ORDER BY month, municipality_code, system_code, service_code;

-- Benchmark 2024, calls per 1,000 citizens: 101 1,801 / 600 = 3.0017 -> 3.0;
-- 147 667 / 100.003 = 6.6698 -> 6.7; 151 40 / 50.001 = 0.79998 -> 0.8.
-- Sorted 0.8, 3.0, 6.7: q1 0.8 + 0.5 x 2.2 = 1.9, median 3.0, q3 3.0 + 0.5 x
-- 3.7 = 4.85 -> 4.9, mean 10.5 / 3 = 3.5. Charges per 1,000 citizens: 101
-- 22.51 / 600 = 0.0375 -> 0.04; 147 8.34 / 100.003 = 0.0834 -> 0.08; 151
-- 0.50 / 50.001 = 0.0100 -> 0.01. Rank 147 1, 101 2, 151 3 on both.
SELECT municipality_code, calls, calls_per_1000_citizens, calls_rank,
       calls_per_1000_q1, calls_per_1000_median, calls_per_1000_q3, calls_per_1000_mean,
       direct_amount, direct_per_1000_citizens, direct_rank,
       direct_per_1000_q1, direct_per_1000_median, direct_per_1000_q3, direct_per_1000_mean
  FROM municipality_benchmark WHERE year = 2024 ORDER BY municipality_code;

-- The budget of 2025: 750,004.00 over the same 750,004 citizens = 1.00.
-- Preview of what each municipality would pay: 101 600,000.00 +
-- 9,375,000.00 = 9,975,000.00; 147 100,003.00 + 2,500,075.00 =
-- 2,600,078.00; 151 50,001.00 + 1,250,025.00 = 1,300,026.00.
INSERT INTO population (year, municipality_code, citizens) VALUES
    (2025, '101', 600000), (2025, '147', 100003), (2025, '151', 50001);
INSERT INTO cost_entry (entry_key, year, cost_type, basis, amount)
VALUES ('2025-budget-support', 2025, 'support_admin', 'expected', 750004.00);
SELECT year, municipality_code, municipality_name, citizens, price, buffet_amount,
       direct_amount, infrastructure_amount, total
  FROM invoice_preview ORDER BY year, municipality_code;

ROLLBACK;
