-- What close_year and announce_price say when a year is closed too early
-- or its pool is empty (SPEC S16): the messages, details and hints.
-- Rolled back, so the tests after this one start from an empty database.
BEGIN;
\set ON_ERROR_ROLLBACK on
\set SHOW_CONTEXT never
SET LOCAL search_path = afregning;
-- the phases of each step are not reported here: they carry timings
SET LOCAL afregning.progress = off;
INSERT INTO municipality (code, name, region) VALUES ('101', 'København', 'Hovedstaden');
INSERT INTO billing_year (year, carry_lag) VALUES (2019, 2), (2998, 1);
INSERT INTO population (year, municipality_code, citizens) VALUES (2019, '101', 100), (2998, '101', 100);
INSERT INTO cost_entry (entry_key, year, cost_type, basis, amount) VALUES
	('x98', 2998, 'support_admin', 'expected', 250.00),
	('a98', 2998, 'support_admin', 'actual', 1.00);
-- 2019 has no costs at all: pool 0.00, so a NOTICE with the figures
SELECT announce_price(2019);
-- 250.00 / 100 = 2.50: no NOTICE
SELECT announce_price(2998);
-- no actual cost entry for 2019
SELECT close_year(2019);
-- 2998 has not ended (the detail names today's date, so it is left out here)
\set VERBOSITY terse
SELECT close_year(2998);
\set VERBOSITY default
-- 0.00 + 0.00 - 0.00 = 0.00
SELECT close_year(2019, force => true);
SELECT year, status FROM billing_year ORDER BY year;
ROLLBACK;
