/*
 * Ledger guards and lifecycle locks (SPEC §5, §7): the ledgers are
 * append-only, also with session_replication_role = replica; an announced
 * year locks its price, population, expected costs and settings; a closed
 * year also locks its actual costs, usage, baselines and tariffs; the
 * lifecycle functions refuse what is not ready, and change nothing then.
 */
BEGIN;
SELECT plan(174);
SET LOCAL search_path = afregning, public;
SET LOCAL client_min_messages = warning;

/* ------------------------------------------------------------------
 * Helpers
 * ------------------------------------------------------------------ */

/* row count and a digest of every row of a table, to show it did not change */
CREATE FUNCTION pg_temp.fingerprint(p_table text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	r text;
BEGIN
	EXECUTE format('SELECT count(*) || '' rows '' || coalesce(md5(string_agg(x::text, ''|'' ORDER BY x::text)), '''') '
				   'FROM afregning.%I x', p_table) INTO r;
	RETURN r;
END
$$;

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

/* the usage partition holding a year (its name is the extension's business) */
CREATE FUNCTION pg_temp.usage_partition(p_year integer) RETURNS text
LANGUAGE sql AS $$
	SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
	 WHERE i.inhparent = 'afregning.usage'::regclass
	   AND pg_get_expr(c.relpartbound, c.oid) LIKE format('%%FROM (''%s-01-01'')%%', p_year)
$$;

/* ------------------------------------------------------------------
 * Fixture: 2021 announced and closed, 2022 announced, 2023 and 2024 open
 *
 * Citizens 1000 + 500 + 250 = 1750 in every year.
 * 2021: expected pool = support_admin 1000.00 (the 300.00 establishment
 *       goes to orderer KY); price = 1000.00 / 1750 = 0.5714.. -> 0.57;
 *       billed = 0.57 * 1750 = 997.50.
 *       usage: 100 CPR calls of 101 by ESDH at 0.25 -> per-call 25.00;
 *       300 ADR calls by KY, baseline 100: 100 system (1.00), 200 pool (2.00).
 *       actual pool = 1100.00 + 2.00 = 1102.00;
 *       difference = 1102.00 + 0.00 - 997.50 = 104.50, carried to 2023.
 * 2022: price = 2000.00 / 1750 = 1.1428.. -> 1.14.
 * ------------------------------------------------------------------ */

INSERT INTO municipality (code, name, region) VALUES
	('101', 'København', 'Hovedstaden'),
	('147', 'Frederiksberg', 'Hovedstaden'),
	('151', 'Ballerup', 'Hovedstaden');
INSERT INTO billing_year (year) VALUES (2021), (2022), (2023), (2024);
INSERT INTO population (year, municipality_code, citizens)
SELECT y, m, c FROM generate_series(2021, 2024) AS y,
	(VALUES ('101', 1000), ('147', 500), ('151', 250)) AS p(m, c);
INSERT INTO consumer_system (code, name, class) VALUES
	('KY', 'Kommunernes Ydelsessystem', 'monopoly_break'),
	('ESDH', 'Kommunalt ESDH', 'municipal');
INSERT INTO service (code, name, platform, funding, billing) VALUES
	('CPR', 'CPR-servicen', 'serviceplatform', 'ordered', 'per_call'),
	('CPRX', 'Ny opslagsservice', 'serviceplatform', 'ordered', 'per_call'),
	('ADR', 'Adresseservice', 'support_system', 'ordered', 'pool');
INSERT INTO service_order (service_code, system_code, share) VALUES ('ADR', 'KY', 1);
INSERT INTO tariff (service_code, valid_from, unit_price) VALUES
	('CPR', '2020-01-01', 0.2500), ('ADR', '2020-01-01', 0.0100);
INSERT INTO baseline (year, system_code, service_code, calls) VALUES
	(2021, 'KY', 'ADR', 100), (2022, 'KY', 'ADR', 100);
INSERT INTO cost_entry (entry_key, year, cost_type, basis, service_code, amount) VALUES
	('2021-E-ADM', 2021, 'support_admin', 'expected', NULL, 1000.00),
	('2021-E-EST', 2021, 'establishment', 'expected', 'ADR', 300.00),
	('2021-A-ADM', 2021, 'support_admin', 'actual', NULL, 1100.00),
	('2022-E-ADM', 2022, 'support_admin', 'expected', NULL, 2000.00);
INSERT INTO usage_batch (batch_key) VALUES ('U2021-01'), ('U2022-03');
INSERT INTO usage (period, municipality_code, system_code, service_code, calls, batch_key) VALUES
	('2021-01-01', '101', 'ESDH', 'CPR', 100, 'U2021-01'),
	('2021-01-01', '101', 'KY', 'ADR', 300, 'U2021-01'),
	('2022-03-01', '147', 'ESDH', 'CPR', 40, 'U2022-03'),
	('2022-03-01', '147', 'ESDH', 'CPRX', 7, 'U2022-03');

SELECT is(announce_price(2021), 0.57, 'fixture: 2021 announced at 1000.00 / 1750 = 0.57');
SELECT is(close_year(2021), 104.50, 'fixture: 2021 closed, difference 1102.00 - 997.50 = 104.50');
SELECT is(announce_price(2022), 1.14, 'fixture: 2022 announced at 2000.00 / 1750 = 1.14');

/* a fourth municipality arrives after 2022 was announced: it has 2024's count, not 2023's */
INSERT INTO municipality (code, name, region) VALUES ('153', 'Brøndby', 'Hovedstaden');
INSERT INTO population (year, municipality_code, citizens) VALUES (2024, '153', 100);

SELECT results_eq($$SELECT year, status::text FROM billing_year ORDER BY year$$,
	$$VALUES (2021, 'closed'), (2022, 'announced'), (2023, 'open'), (2024, 'open')$$,
	'fixture: 2021 closed, 2022 announced, 2023 and 2024 open');
SELECT results_eq($$SELECT year, actual_pool, carry_in, billed, difference, to_year FROM year_close$$,
	$$VALUES (2021, 1102.00, 0.00, 997.50, 104.50, 2023)$$,
	'fixture: the close of 2021 as worked out by hand');
SELECT results_eq($$SELECT route::text, calls, amount FROM usage_line ORDER BY route, calls$$,
	$$VALUES ('municipality', 100::bigint, 25.00), ('pool', 200, 2.00), ('system', 100, 1.00)$$,
	'fixture: 2021 usage rated into three lines');

/* every ledger has rows, so that row triggers have something to refuse */
SELECT results_eq($$
	SELECT t, n
	  FROM (SELECT 'cost_entry' AS t, (SELECT count(*)::integer FROM cost_entry) AS n
			UNION ALL SELECT 'usage', (SELECT count(*)::integer FROM usage)
			UNION ALL SELECT 'usage_batch', (SELECT count(*)::integer FROM usage_batch)
			UNION ALL SELECT 'price_announcement', (SELECT count(*)::integer FROM price_announcement)
			UNION ALL SELECT 'buffet_invoice', (SELECT count(*)::integer FROM buffet_invoice)
			UNION ALL SELECT 'installment', (SELECT count(*)::integer FROM installment)
			UNION ALL SELECT 'year_close', (SELECT count(*)::integer FROM year_close)
			UNION ALL SELECT 'usage_line', (SELECT count(*)::integer FROM usage_line)
			UNION ALL SELECT 'direct_charge_line', (SELECT count(*)::integer FROM direct_charge_line)
			UNION ALL SELECT 'schedule_charge', (SELECT count(*)::integer FROM schedule_charge)
			UNION ALL SELECT 'cost_line', (SELECT count(*)::integer FROM cost_line)) x
$$, $$VALUES ('cost_entry', 4), ('usage', 4), ('usage_batch', 2),
			 ('price_announcement', 2),			/* 2021, 2022 */
			 ('buffet_invoice', 6),				/* 3 municipalities x 2 years */
			 ('installment', 24),				/* 6 invoices x 4 quarters */
			 ('year_close', 1),
			 ('usage_line', 3),
			 ('direct_charge_line', 1),			/* CPR, January 2021, 101 */
			 ('schedule_charge', 6),			/* 3 municipalities x 2 years */
			 ('cost_line', 4)$$,				/* 2021: 2 expected + 1 actual; 2022: 1 expected */
	'fixture: rows in every ledger');

/* ------------------------------------------------------------------
 * Append-only ledgers: UPDATE, DELETE and TRUNCATE are refused (0A000)
 * and every ledger is unchanged; once as usual, once as a replica.
 * ------------------------------------------------------------------ */

CREATE TEMP TABLE ledger (n integer, t text, change text);
INSERT INTO ledger VALUES
	(1, 'cost_entry', 'note = ''changed'''),
	(2, 'usage', 'calls = calls + 1'),
	(3, 'usage_batch', 'note = ''changed'''),
	(4, 'price_announcement', 'price = price + 1'),
	(5, 'buffet_invoice', 'amount = amount + 1'),
	(6, 'installment', 'amount = amount + 1'),
	(7, 'year_close', 'difference = difference + 1'),
	(8, 'usage_line', 'amount = amount + 1'),
	(9, 'direct_charge_line', 'amount = amount + 1'),
	(10, 'schedule_charge', 'amount = amount + 1'),
	(11, 'cost_line', 'amount = amount + 1');
CREATE TEMP TABLE snapshot AS SELECT t, pg_temp.fingerprint(t) AS state FROM ledger;
CREATE TEMP TABLE step (n integer, action text);
INSERT INTO step VALUES (1, 'update'), (2, 'delete'), (3, 'truncate'), (4, 'unchanged');

/*
 * One assertion per ledger and step. TRUNCATE ... CASCADE, and the exact
 * message, so that the refusal is the guard's and not the foreign keys'.
 */
SELECT CASE s.action
		WHEN 'update' THEN throws_ok(format('UPDATE afregning.%I SET %s', l.t, l.change),
			'0A000', NULL, format('%s: UPDATE is refused', l.t))
		WHEN 'delete' THEN throws_ok(format('DELETE FROM afregning.%I', l.t),
			'0A000', NULL, format('%s: DELETE is refused', l.t))
		WHEN 'truncate' THEN throws_ok(format('TRUNCATE afregning.%I CASCADE', l.t),
			'0A000', format('cannot truncate ledger table "%s"', l.t), format('%s: TRUNCATE is refused', l.t))
		ELSE is(pg_temp.fingerprint(l.t), (SELECT state FROM snapshot WHERE snapshot.t = l.t),
			format('%s: unchanged', l.t))
	   END
  FROM ledger l CROSS JOIN step s
 ORDER BY l.n, s.n;

/* statements naming a usage partition directly */
SELECT throws_ok(format('UPDATE afregning.%I SET calls = 0', pg_temp.usage_partition(2021)),
	'0A000', NULL, 'usage partition of 2021: UPDATE is refused');
SELECT throws_ok(format('DELETE FROM afregning.%I', pg_temp.usage_partition(2021)),
	'0A000', NULL, 'usage partition of 2021: DELETE is refused');
SELECT throws_ok(format('TRUNCATE afregning.%I', pg_temp.usage_partition(2021)),
	'0A000', format('cannot truncate ledger table "%s"', pg_temp.usage_partition(2021)),
	'usage partition of 2021: TRUNCATE is refused');
SELECT is(pg_temp.fingerprint('usage'), (SELECT state FROM snapshot WHERE t = 'usage'),
	'usage: unchanged after the partition statements');

/* replica mode switches ordinary triggers off, not ENABLE ALWAYS ones */
SET LOCAL session_replication_role = replica;

SELECT CASE s.action
		WHEN 'update' THEN throws_ok(format('UPDATE afregning.%I SET %s', l.t, l.change),
			'0A000', NULL, format('%s: UPDATE is refused as a replica', l.t))
		WHEN 'delete' THEN throws_ok(format('DELETE FROM afregning.%I', l.t),
			'0A000', NULL, format('%s: DELETE is refused as a replica', l.t))
		WHEN 'truncate' THEN throws_ok(format('TRUNCATE afregning.%I CASCADE', l.t),
			'0A000', format('cannot truncate ledger table "%s"', l.t),
			format('%s: TRUNCATE is refused as a replica', l.t))
		ELSE is(pg_temp.fingerprint(l.t), (SELECT state FROM snapshot WHERE snapshot.t = l.t),
			format('%s: unchanged (replica)', l.t))
	   END
  FROM ledger l CROSS JOIN step s
 ORDER BY l.n, s.n;

SELECT throws_ok(format('UPDATE afregning.%I SET calls = 0', pg_temp.usage_partition(2021)),
	'0A000', NULL, 'usage partition of 2021: UPDATE is refused as a replica');
SELECT throws_ok(format('DELETE FROM afregning.%I', pg_temp.usage_partition(2021)),
	'0A000', NULL, 'usage partition of 2021: DELETE is refused as a replica');
SELECT throws_ok(format('TRUNCATE afregning.%I', pg_temp.usage_partition(2021)),
	'0A000', format('cannot truncate ledger table "%s"', pg_temp.usage_partition(2021)),
	'usage partition of 2021: TRUNCATE is refused as a replica');
SELECT is(pg_temp.fingerprint('usage'), (SELECT state FROM snapshot WHERE t = 'usage'),
	'usage: unchanged after the partition statements (replica)');
/* the year locks hold for a replica too */
SELECT throws_ok($$INSERT INTO usage VALUES ('2021-06-01', '101', 'ESDH', 'CPR', 5, 'U2021-01')$$,
	'55000', NULL, 'usage of closed 2021 is refused as a replica');
SELECT throws_ok($$UPDATE population SET citizens = 1 WHERE year = 2022 AND municipality_code = '101'$$,
	'55000', NULL, 'population of announced 2022 cannot change as a replica');
SELECT results_eq($$SELECT (SELECT count(*)::integer FROM usage WHERE period = '2021-06-01'),
						   (SELECT citizens FROM population WHERE year = 2022 AND municipality_code = '101')$$,
	$$VALUES (0, 1000)$$, 'no usage written, population unchanged (replica)');

SET LOCAL session_replication_role = origin;

/* ------------------------------------------------------------------
 * Locks of an announced year (2022)
 * ------------------------------------------------------------------ */

SELECT throws_ok($$INSERT INTO cost_entry (entry_key, year, cost_type, basis, amount)
				   VALUES ('2022-E-LATE', 2022, 'operations', 'expected', 50.00)$$, '55000', NULL,
	'an expected entry for announced 2022 is refused');
SELECT is_empty($$SELECT 1 FROM cost_entry WHERE entry_key = '2022-E-LATE'$$,
	'the expected entry was not written');
SELECT results_eq($$SELECT expected_pool, pool, price FROM preview_price(2022)$$,
	$$VALUES (2000.00, 2000.00, 1.14)$$, 'the announced figures of 2022 are unchanged');

SELECT throws_ok($$INSERT INTO population VALUES (2022, '153', 100)$$, '55000', NULL,
	'a population row for announced 2022 is refused');
SELECT throws_ok($$UPDATE population SET citizens = 2000 WHERE year = 2022 AND municipality_code = '101'$$,
	'55000', NULL, 'changing the population of announced 2022 is refused');
SELECT throws_ok($$DELETE FROM population WHERE year = 2022 AND municipality_code = '151'$$,
	'55000', NULL, 'deleting population of announced 2022 is refused');
SELECT throws_ok($$UPDATE population SET year = 2022 WHERE year = 2023 AND municipality_code = '147'$$,
	'55000', NULL, 'moving a 2023 population row into announced 2022 is refused');
SELECT results_eq($$SELECT year, municipality_code COLLATE "default", citizens FROM population
					WHERE year IN (2022, 2023) ORDER BY 1, 2$$,
	$$VALUES (2022, '101', 1000), (2022, '147', 500), (2022, '151', 250),
			 (2023, '101', 1000), (2023, '147', 500), (2023, '151', 250)$$,
	'population of 2022 and 2023 unchanged');

SELECT throws_ok($$UPDATE billing_year SET carry_lag = 1 WHERE year = 2022$$, '55000', NULL,
	'changing carry_lag of announced 2022 is refused');
SELECT throws_ok($$UPDATE billing_year SET price_decimals = 0 WHERE year = 2022$$, '55000', NULL,
	'changing price_decimals of announced 2022 is refused');
SELECT throws_ok($$UPDATE billing_year SET carry_lag = 3 WHERE year = 2021$$, '55000', NULL,
	'changing carry_lag of closed 2021 is refused');
SELECT results_eq($$SELECT year, carry_lag, price_decimals FROM billing_year WHERE year IN (2021, 2022) ORDER BY 1$$,
	$$VALUES (2021, 2, 2), (2022, 2, 2)$$, 'settings of 2021 and 2022 unchanged');

CREATE TEMP TABLE years_before AS SELECT * FROM billing_year;

SELECT throws_ok($$UPDATE billing_year SET status = 'announced', announced_at = now() WHERE year = 2023$$,
	'55000', NULL, 'setting open 2023 to announced directly is refused');
SELECT throws_ok($$UPDATE billing_year SET status = 'closed', closed_at = now() WHERE year = 2022$$,
	'55000', NULL, 'setting announced 2022 to closed directly is refused');
SELECT throws_ok($$UPDATE billing_year SET status = 'open', announced_at = NULL, closed_at = NULL WHERE year = 2021$$,
	'55000', NULL, 'reopening closed 2021 is refused');
SELECT throws_ok($$UPDATE billing_year SET announced_at = announced_at - interval '1 day' WHERE year = 2022$$,
	'55000', NULL, 'changing announced_at of 2022 is refused');
SELECT throws_ok($$UPDATE billing_year SET year = 2099 WHERE year = 2023$$,
	'55000', NULL, 'changing the year of a billing year is refused');
SELECT throws_ok($$INSERT INTO billing_year (year, status, announced_at, closed_at)
				   VALUES (2030, 'closed', now(), now())$$,
	'55000', NULL, 'inserting a billing year as closed is refused');
/* the 0.1.0 transition flag is an unread placeholder now: setting it lets nothing through */
SELECT throws_ok($$SELECT set_config('afregning.transition', '2021', true);
				   UPDATE billing_year SET status = 'open', announced_at = NULL, closed_at = NULL WHERE year = 2021$$,
	'55000', NULL, 'reopening closed 2021 is refused also with the old transition flag set');
SELECT throws_ok($$SELECT set_config('afregning.transition', '2023', true);
				   UPDATE billing_year SET status = 'announced', announced_at = now() WHERE year = 2023$$,
	'55000', NULL, 'announcing 2023 without a price is refused also with the old transition flag set');
/* set_year_status() moves a year only after the ledger row of the step exists */
SELECT throws_ok($$SELECT afregning.set_year_status(2023, 'announced')$$,
	'55000', NULL, 'announcing 2023 through set_year_status without a price is refused');
SELECT throws_ok($$DELETE FROM billing_year WHERE year = 2022$$, '55000', NULL,
	'deleting announced 2022 is refused');
SELECT throws_ok($$DELETE FROM billing_year WHERE year = 2021$$, '55000', NULL,
	'deleting closed 2021 is refused');
SELECT results_eq($$SELECT * FROM billing_year ORDER BY year$$,
	$$SELECT * FROM years_before ORDER BY year$$,
	'no billing year changed, none was added or deleted');

/* what an announced year still takes */
SELECT lives_ok($$INSERT INTO cost_entry (entry_key, year, cost_type, basis, amount)
				  VALUES ('2022-A-OPS', 2022, 'operations', 'actual', 75.00)$$,
	'an actual entry for announced 2022 is accepted');
SELECT lives_ok($$INSERT INTO tariff VALUES ('ADR', '2022-07-01', 0.0200)$$,
	'a tariff from July 2022 (after the last closed year) is accepted');
SELECT results_eq($$SELECT (SELECT count(*)::integer FROM cost_entry WHERE entry_key = '2022-A-OPS'),
						   (SELECT count(*)::integer FROM tariff WHERE valid_from = '2022-07-01')$$,
	$$VALUES (1, 1)$$, 'the actual entry and the tariff were written');

/* ------------------------------------------------------------------
 * Locks of a closed year (2021)
 * ------------------------------------------------------------------ */

SELECT throws_ok($$INSERT INTO cost_entry (entry_key, year, cost_type, basis, amount)
				   VALUES ('2021-A-LATE', 2021, 'operations', 'actual', 40.00)$$, '55000', NULL,
	'an actual entry for closed 2021 is refused');
SELECT matches(pg_temp.refusal($$INSERT INTO cost_entry (entry_key, year, cost_type, basis, amount)
								 VALUES ('2021-A-LATE', 2021, 'operations', 'actual', 40.00)$$),
	'^55000: .*corrects', 'the refusal hints at a correction with "corrects"');
SELECT throws_ok($$INSERT INTO cost_entry (entry_key, year, cost_type, basis, amount)
				   VALUES ('2021-E-LATE', 2021, 'operations', 'expected', 40.00)$$, '55000', NULL,
	'an expected entry for closed 2021 is refused');
SELECT is((SELECT count(*)::integer FROM cost_entry WHERE year = 2021), 3,
	'2021 still has its 3 entries');

SELECT throws_ok($$INSERT INTO usage VALUES ('2021-06-01', '101', 'ESDH', 'CPR', 5, 'U2021-01')$$, '55000', NULL,
	'usage of closed 2021 is refused');
SELECT throws_ok($$INSERT INTO usage VALUES ('2022-06-01', '101', 'ESDH', 'CPR', 5, 'U2022-03'),
											  ('2021-12-01', '101', 'ESDH', 'CPR', 5, 'U2022-03')$$, '55000', NULL,
	'a load with one row of closed 2021 is refused as a whole');
SELECT throws_ok(format($$INSERT INTO afregning.%I VALUES ('2021-06-01', '101', 'ESDH', 'CPR', 5, 'U2021-01')$$,
						pg_temp.usage_partition(2021)), '55000', NULL,
	'usage of closed 2021 is refused also when inserted into its partition');
SELECT results_eq($$SELECT (SELECT count(*)::integer FROM usage WHERE period >= '2021-02-01' AND period < '2022-01-01'),
						   (SELECT count(*)::integer FROM usage WHERE period = '2022-06-01')$$,
	$$VALUES (0, 0)$$, 'no usage was written');

SELECT throws_ok($$INSERT INTO baseline VALUES (2021, 'KY', 'CPR', 10)$$, '55000', NULL,
	'a baseline for closed 2021 is refused');
SELECT throws_ok($$UPDATE baseline SET calls = 300 WHERE year = 2021$$, '55000', NULL,
	'changing a baseline of closed 2021 is refused');
SELECT throws_ok($$DELETE FROM baseline WHERE year = 2021$$, '55000', NULL,
	'deleting a baseline of closed 2021 is refused');
SELECT throws_ok($$UPDATE baseline SET year = 2021 WHERE year = 2022$$, '55000', NULL,
	'moving a 2022 baseline into closed 2021 is refused');
SELECT results_eq($$SELECT year, system_code COLLATE "default", service_code COLLATE "default", calls FROM baseline ORDER BY year$$,
	$$VALUES (2021, 'KY', 'ADR', 100::bigint), (2022, 'KY', 'ADR', 100::bigint)$$,
	'baselines unchanged');

SELECT throws_ok($$INSERT INTO tariff VALUES ('ADR', '2021-06-01', 0.0200)$$, '55000', NULL,
	'a tariff from June 2021 (closed) is refused');
SELECT throws_ok($$INSERT INTO tariff VALUES ('CPR', '2021-01-01', 0.3000)$$, '55000', NULL,
	'a tariff from 1 January 2021 (closed) is refused');
SELECT throws_ok($$UPDATE tariff SET unit_price = 0.3000 WHERE service_code = 'CPR' AND valid_from = '2020-01-01'$$,
	'55000', NULL, 'changing the tariff that rated 2021 is refused');
SELECT throws_ok($$UPDATE tariff SET valid_from = '2022-01-01' WHERE service_code = 'CPR' AND valid_from = '2020-01-01'$$,
	'55000', NULL, 'moving the tariff that rated 2021 out of it is refused');
SELECT throws_ok($$DELETE FROM tariff WHERE service_code = 'CPR'$$, '55000', NULL,
	'deleting the tariff that rated 2021 is refused');
SELECT results_eq($$SELECT service_code COLLATE "default", valid_from, unit_price FROM tariff ORDER BY 1, 2$$,
	$$VALUES ('ADR', '2020-01-01'::date, 0.0100), ('ADR', '2022-07-01', 0.0200), ('CPR', '2020-01-01', 0.2500)$$,
	'tariffs unchanged');

SELECT throws_ok($$INSERT INTO population VALUES (2021, '153', 100)$$, '55000', NULL,
	'a population row for closed 2021 is refused');
SELECT is((SELECT sum(citizens)::integer FROM population WHERE year = 2021), 1750,
	'population of 2021 unchanged: 1000 + 500 + 250');

/* a correction of closed 2021 is an actual entry of an open year */
SELECT lives_ok($$INSERT INTO cost_entry (entry_key, year, cost_type, basis, amount, corrects, note)
				  VALUES ('2023-A-FIX', 2023, 'support_admin', 'actual', -60.00, '2021-A-ADM',
						  'support 2021 was 1040.00, not 1100.00')$$,
	'an actual entry of open 2023 correcting an entry of closed 2021 is accepted');
SELECT results_eq($$SELECT year, basis::text, amount, corrects COLLATE "default" FROM cost_entry WHERE entry_key = '2023-A-FIX'$$,
	$$VALUES (2023, 'actual', -60.00, '2021-A-ADM')$$, 'the correction was written as given');
SELECT is((SELECT difference FROM year_close WHERE year = 2021), 104.50,
	'the close of 2021 is not touched by the correction');

/* ------------------------------------------------------------------
 * Lifecycle refusals
 * ------------------------------------------------------------------ */

CREATE TEMP TABLE posted_before AS
SELECT (SELECT count(*) FROM price_announcement) AS announcements,
	   (SELECT count(*) FROM buffet_invoice) AS invoices,
	   (SELECT count(*) FROM installment) AS installments,
	   (SELECT count(*) FROM schedule_charge) AS schedule_charges,
	   (SELECT count(*) FROM cost_line) AS cost_lines,
	   (SELECT count(*) FROM year_close) AS closes,
	   (SELECT count(*) FROM usage_line) AS usage_lines,
	   (SELECT count(*) FROM direct_charge_line) AS direct_lines,
	   (SELECT count(*) FROM billing_year) AS years;
CREATE FUNCTION pg_temp.nothing_posted() RETURNS boolean LANGUAGE sql AS $$
	SELECT (SELECT count(*) FROM afregning.price_announcement) = p.announcements
	   AND (SELECT count(*) FROM afregning.buffet_invoice) = p.invoices
	   AND (SELECT count(*) FROM afregning.installment) = p.installments
	   AND (SELECT count(*) FROM afregning.schedule_charge) = p.schedule_charges
	   AND (SELECT count(*) FROM afregning.cost_line) = p.cost_lines
	   AND (SELECT count(*) FROM afregning.year_close) = p.closes
	   AND (SELECT count(*) FROM afregning.usage_line) = p.usage_lines
	   AND (SELECT count(*) FROM afregning.direct_charge_line) = p.direct_lines
	   AND (SELECT count(*) FROM afregning.billing_year) = p.years
	  FROM posted_before p
$$;

SELECT throws_ok($$SELECT close_year(2023)$$, '55000', NULL,
	'closing open (unannounced) 2023 is refused');
SELECT ok(pg_temp.nothing_posted() AND year_status(2023) = 'open',
	'nothing posted, 2023 still open');

/* 2023 has citizens for 101, 147, 151 but not for 153 */
SELECT throws_ok($$SELECT announce_price(2023)$$, '55000', NULL,
	'announcing 2023 without citizens for municipality 153 is refused');
SELECT ok(pg_temp.nothing_posted() AND year_status(2023) = 'open',
	'nothing posted, 2023 still open');

/* 2024 has every municipality's citizens, but 2024 - 2 = 2022 is only announced */
SELECT throws_ok($$SELECT announce_price(2024)$$, '55000', NULL,
	'announcing 2024 while 2022 is not closed is refused');
SELECT ok(pg_temp.nothing_posted() AND year_status(2024) = 'open',
	'nothing posted, 2024 still open');

SELECT throws_ok($$SELECT * FROM preview_price(2030)$$, '22023', NULL, 'previewing unknown year 2030 is refused');
SELECT throws_ok($$SELECT announce_price(2030)$$, '22023', NULL, 'announcing unknown year 2030 is refused');
SELECT throws_ok($$SELECT close_year(2030)$$, '22023', NULL, 'closing unknown year 2030 is refused');
SELECT throws_ok($$SELECT * FROM explain_price(2030)$$, '22023', NULL, 'explaining unknown year 2030 is refused');
SELECT ok(pg_temp.nothing_posted() AND NOT EXISTS (SELECT 1 FROM billing_year WHERE year = 2030),
	'nothing posted, no billing year 2030 created');

SELECT throws_ok($$SELECT * FROM bill_direct('2019-01-15')$$, '22023', NULL,
	'bill_direct of a day that is not the first of a month is refused');
SELECT throws_ok($$SELECT * FROM bill_direct(NULL)$$, '22004', 'the month to bill must not be null',
	'bill_direct without a month is refused with 22004');
SELECT ok(pg_temp.nothing_posted(), 'nothing posted');

/* March 2022: 40 CPR calls (tariff 0.25) and 7 CPRX calls (no tariff) of 147 */
SELECT throws_ok($$SELECT * FROM bill_direct('2022-03-01')$$, '55000', NULL,
	'bill_direct of a month with calls of a per-call service without a tariff is refused');
SELECT ok(pg_temp.nothing_posted() AND NOT EXISTS (SELECT 1 FROM direct_charge_line WHERE month = '2022-03-01'),
	'nothing posted for March 2022, not even the CPR calls that have a tariff');

/* with a tariff the same month bills: 40 x 0.25 = 10.00, 7 x 0.50 = 3.50 */
INSERT INTO tariff VALUES ('CPRX', '2022-01-01', 0.5000);
SELECT results_eq($$SELECT municipality_code::text, service_code::text, calls, amount, kind::text
					  FROM bill_direct('2022-03-01') ORDER BY service_code$$,
	$$VALUES ('147', 'CPR', 40::bigint, 10.00, 'charge'), ('147', 'CPRX', 7::bigint, 3.50, 'charge')$$,
	'once CPRX has a tariff, March 2022 bills both services');

SELECT * FROM finish();
ROLLBACK;
