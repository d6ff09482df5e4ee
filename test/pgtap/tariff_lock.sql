/*
 * SPEC S15: only months of closed years are locked against tariff changes.
 * An announced year's tariffs may still change after a later year has
 * closed, as long as the price in force in every month of the closed year
 * stays what it was when that year was rated.
 *
 * Fixture: service ADR (pool-billed) has one tariff, 0.0100 from
 * 2020-01-01.  2020 is announced, 2021 announced and closed (a year may
 * close before an earlier one: carry_lag 2, and 2019 has no row), 2022 is
 * open (2023 gets the carry of 2021).  Closed 2021 rated 100 calls at 0.0100 = 1.00.
 */
BEGIN;
SELECT plan(19);
SET LOCAL search_path = afregning, public;
SET LOCAL client_min_messages = warning;

/* SQLSTATE and hint of the error a statement raises */
CREATE FUNCTION pg_temp.refusal(p_sql text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	st text;
	h text;
BEGIN
	EXECUTE p_sql;
	RETURN 'accepted';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, h = PG_EXCEPTION_HINT;
	RETURN st || ': ' || coalesce(h, '');
END
$$;

CREATE FUNCTION pg_temp.tariffs() RETURNS text
LANGUAGE sql AS $$
	SELECT string_agg(t.service_code || ' ' || t.valid_from || ' ' || t.unit_price, ', '
					  ORDER BY t.service_code, t.valid_from)
	  FROM afregning.tariff t
$$;

INSERT INTO municipality VALUES ('101', 'København', 'Hovedstaden');
INSERT INTO consumer_system VALUES ('ESDH', 'ESDH', 'municipal');
INSERT INTO service VALUES ('ADR', 'Adresse', 'serviceplatform', 'ordered', 'pool');
INSERT INTO tariff VALUES ('ADR', '2020-01-01', 0.0100);
INSERT INTO billing_year (year) VALUES (2020), (2021), (2022);
INSERT INTO population SELECT y, '101', 100 FROM generate_series(2020, 2022) y;
INSERT INTO cost_entry (entry_key, year, cost_type, basis, amount) VALUES
	('E20', 2020, 'support_admin', 'expected', 100.00),
	('E21', 2021, 'support_admin', 'expected', 100.00),
	('A21', 2021, 'support_admin', 'actual', 100.00);
INSERT INTO usage_batch (batch_key) VALUES ('U21');
INSERT INTO usage VALUES ('2021-03-01', '101', 'ESDH', 'ADR', 100, 'U21');
SELECT announce_price(2020);
SELECT announce_price(2021);
SELECT close_year(2021);

SELECT results_eq($$SELECT year, status::text FROM billing_year ORDER BY year$$,
	$$VALUES (2020, 'announced'), (2021, 'closed'), (2022, 'open'), (2023, 'open')$$,
	'fixture: 2020 announced, 2021 closed, 2022 open, 2023 made by the carry of 2021');
SELECT is((SELECT sum(amount) FROM usage_line WHERE year = 2021), 1.00,
	'fixture: closed 2021 rated 100 ADR calls at 0.0100 = 1.00');

/* ---- refused: the price in force in a month of 2021 would change ---- */

SELECT matches(pg_temp.refusal($$INSERT INTO tariff VALUES ('ADR', '2020-06-01', 0.0200)$$),
	'^55000: .*2021-01',
	'a new price from June 2020 with no later tariff would reach closed 2021 (from 2021-01): refused');
SELECT is(pg_temp.refusal($$INSERT INTO tariff VALUES ('ADR', '2020-12-15', 0.0200)$$) ~ '^55000', true,
	'a tariff dated 15 December 2020 takes effect in January 2021 (closed): refused');
SELECT is(pg_temp.refusal($$INSERT INTO tariff VALUES ('ADR', '2021-07-01', 0.0200)$$) ~ '^55000', true,
	'a tariff from July 2021 (closed) is refused');
SELECT is(pg_temp.refusal($$UPDATE tariff SET unit_price = 0.0200 WHERE valid_from = '2020-01-01'$$) ~ '^55000', true,
	'changing the price that rated 2021 is refused');
SELECT is(pg_temp.refusal($$DELETE FROM tariff WHERE valid_from = '2020-01-01'$$) ~ '^55000', true,
	'deleting the tariff that rated 2021 is refused');
SELECT is(pg_temp.tariffs(), 'ADR 2020-01-01 0.0100', 'no tariff changed');

/* ---- accepted: months of announced 2020 only ---- */

SELECT is(pg_temp.refusal($$INSERT INTO tariff VALUES ('ADR', '2021-01-01', 0.0100)$$), 'accepted',
	'a tariff from January 2021 that restates the price in force there changes nothing: accepted');
SELECT is(pg_temp.refusal($$INSERT INTO tariff VALUES ('ADR', '2020-06-01', 0.0200)$$), 'accepted',
	'now a new price from June 2020 ends before closed 2021: accepted for announced 2020 (S15)');
SELECT is(pg_temp.refusal($$UPDATE tariff SET unit_price = 0.0300 WHERE valid_from = '2020-06-01'$$), 'accepted',
	'and it may change again while 2020 is not closed');
SELECT is(pg_temp.refusal($$UPDATE tariff SET valid_from = '2020-09-01' WHERE valid_from = '2020-06-01'$$), 'accepted',
	'or move within 2020');
SELECT is(pg_temp.refusal($$INSERT INTO tariff VALUES ('ADR', '2022-01-01', 0.0400)$$), 'accepted',
	'a tariff from January 2022 (open) is accepted');
SELECT is(pg_temp.tariffs(),
	'ADR 2020-01-01 0.0100, ADR 2020-09-01 0.0300, ADR 2021-01-01 0.0100, ADR 2022-01-01 0.0400',
	'the accepted changes were written');

/* ---- the boundary tariff now guards 2021 ---- */

SELECT is(pg_temp.refusal($$DELETE FROM tariff WHERE valid_from = '2021-01-01'$$) ~ '^55000', true,
	'deleting the January 2021 tariff would let 0.0300 reach 2021: refused');
SELECT is(pg_temp.refusal($$UPDATE tariff SET valid_from = '2021-02-01' WHERE valid_from = '2021-01-01'$$) ~ '^55000', true,
	'moving it to February 2021 would price January 2021 at 0.0300: refused');
SELECT is(pg_temp.refusal($$UPDATE tariff SET valid_from = '2020-12-01' WHERE valid_from = '2020-09-01'$$), 'accepted',
	'the 2020 tariff may still move inside 2020');
SELECT is(pg_temp.tariffs(),
	'ADR 2020-01-01 0.0100, ADR 2020-12-01 0.0300, ADR 2021-01-01 0.0100, ADR 2022-01-01 0.0400',
	'only the accepted change was written');
SELECT is((SELECT sum(amount) FROM usage_line WHERE year = 2021), 1.00,
	'closed 2021 still holds its rating at 0.0100');

SELECT * FROM finish();
ROLLBACK;
