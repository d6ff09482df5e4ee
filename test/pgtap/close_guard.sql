-- Closing a year too early (SPEC S16, S8): close_year(year) is refused with
-- 55000 before 1 January of the next year, or while the year has no actual
-- cost entry, unless called with force => true. Every refusal changes
-- nothing: a digest of every row of every table of the extension is the
-- same before and after.
--
-- "Today" is whatever the clock says when the suite runs, so the year that
-- has not ended is 2998 (it ends on 31 December 2998), and the year that has
-- ended is 2019.
BEGIN;
SELECT plan(16);
SET LOCAL search_path = afregning, public;

/* every row of every table of the extension, but for timestamps */
CREATE FUNCTION pg_temp.digest() RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	t record;
	cols text;
	part text;
	whole text := '';
BEGIN
	FOR t IN SELECT c.oid, c.relname FROM pg_catalog.pg_class c
			  WHERE c.relnamespace = 'afregning'::regnamespace AND c.relkind IN ('r', 'p')
				AND NOT c.relispartition
			  ORDER BY c.relname COLLATE "C"
	LOOP
		SELECT string_agg(format('%I', a.attname), ', ' ORDER BY a.attnum) INTO cols
		  FROM pg_catalog.pg_attribute a
		 WHERE a.attrelid = t.oid AND a.attnum > 0 AND NOT a.attisdropped
		   AND a.atttypid <> 'timestamptz'::regtype;
		EXECUTE format('SELECT coalesce(string_agg(r::text, E''\n'' ORDER BY r::text COLLATE "C"), '''')
						  FROM (SELECT %s FROM afregning.%I) r', cols, t.relname) INTO part;
		whole := whole || t.relname || E'\n' || part || E'\n';
	END LOOP;
	RETURN md5(whole);
END
$$;

/* ------------------------------------------------------------------
 * Fixture: 101 with 100 citizens and 147 with 50, 150 in all.
 *   2019 (carry_lag 2): expected 300.00 -> price 2.00, billed 300.00;
 *        no actual entry.
 *   2998 (carry_lag 1): expected 150.00 -> price 1.00, billed 150.00;
 *        actual 165.00.
 * ------------------------------------------------------------------ */
INSERT INTO municipality (code, name, region) VALUES
	('101', 'København', 'Hovedstaden'), ('147', 'Frederiksberg', 'Hovedstaden');
INSERT INTO billing_year (year, carry_lag) VALUES (2019, 2), (2998, 1);
INSERT INTO population (year, municipality_code, citizens)
SELECT y, m.code, m.citizens
  FROM unnest(ARRAY[2019, 2998]) y, (VALUES ('101', 100), ('147', 50)) AS m(code, citizens);
INSERT INTO cost_entry (entry_key, year, cost_type, basis, amount) VALUES
	('x19', 2019, 'support_admin', 'expected', 300.00),
	('x98', 2998, 'support_admin', 'expected', 150.00),
	('a98', 2998, 'support_admin', 'actual', 165.00);
SELECT is(announce_price(2019), 2.00, 'fixture: 2019 announced at 300.00 / 150 = 2.00');
SELECT is(announce_price(2998), 1.00, 'fixture: 2998 announced at 150.00 / 150 = 1.00');

/* ------------------------------------------------------------------
 * A year that has not ended
 * ------------------------------------------------------------------ */
CREATE TEMP TABLE d0 AS SELECT pg_temp.digest() AS d;
SELECT throws_ok($$SELECT close_year(2998)$$, '55000', 'cannot close 2998 before it has ended',
	'S16: 2998 has not ended: 55000');
SELECT is(pg_temp.digest(), (SELECT d FROM d0), '... and nothing changed');
SELECT throws_ok($$SELECT close_year(2998, force => NULL)$$, '55000', 'cannot close 2998 before it has ended',
	'S16: force => null is no force: 55000');
SELECT is(pg_temp.digest(), (SELECT d FROM d0), '... and nothing changed');

-- 165.00 + 0.00 - 150.00 = 15.00, carried into 2998 + 1 = 2999 (created)
SELECT is(close_year(2998, force => true), 15.00, 'S16: force => true closes 2998: 165.00 - 150.00 = 15.00');
SELECT results_eq(
	$$SELECT y.status::text, c.to_year FROM billing_year y JOIN year_close c USING (year) WHERE y.year = 2998$$,
	$$VALUES ('closed', 2999)$$, '2998 is closed and carried into 2999');

/* ------------------------------------------------------------------
 * A year that has ended but has no actual cost entry
 * ------------------------------------------------------------------ */
TRUNCATE d0;
INSERT INTO d0 SELECT pg_temp.digest();
SELECT throws_ok($$SELECT close_year(2019)$$, '55000', 'cannot close 2019 without actual costs',
	'S16: 2019 has no actual cost entry: 55000');
SELECT is(pg_temp.digest(), (SELECT d FROM d0), '... and nothing changed');

-- 0.00 + 0.00 - 300.00 = -300.00, carried into the first open year >= 2021
SELECT is(close_year(2019, force => true), -300.00, 'S16: force => true closes 2019: 0.00 - 300.00 = -300.00');
SELECT results_eq(
	$$SELECT from_year, to_year, amount FROM carry_posting ORDER BY from_year$$,
	$$VALUES (2019, 2021, -300.00), (2998, 2999, 15.00)$$,
	'the carries: 2019 into 2021 (created), 2998 into 2999');

/* S8: a closed year answers its difference, with or without force */
SELECT is(close_year(2019), -300.00, 'S8: a second close of 2019 returns -300.00 without force');
SELECT is(close_year(2998), 15.00, 'S8: a second close of 2998 returns 15.00 although 2998 has not ended');

/* an open year is still refused first for not being announced */
SELECT throws_ok($$SELECT close_year(2021, force => true)$$, '55000',
	'cannot close 2021 before its price is announced', 'force does not close an open year');

/* announcing a pool of zero or less: price 0.00 (the NOTICE is in sql/close_guard.sql) */
INSERT INTO population (year, municipality_code, citizens) VALUES (2021, '101', 100), (2021, '147', 50);
-- pool = 0.00 + (-300.00) = -300.00 < 0 -> 0.00
SELECT is(announce_price(2021), 0.00, 'a pool of -300.00 is announced at price 0.00');

SELECT * FROM finish();
ROLLBACK;
