/*
 * The simulation's template database: the extension, a small fixture and
 * the checks the simulation runs after every step. Each seed runs in a
 * fresh copy of it (CREATE DATABASE ... TEMPLATE).
 *
 * Fixture: four municipalities; two consumer systems, KOMM (municipal)
 * and KY (monopoly_break); three services: CPR per call (0.50 a call,
 * 0.55 from 2022), SAG pool-billed on Serviceplatformen (0.01 a call) and
 * YDL on the support systems ordered by KY, with a yearly baseline of 400
 * calls (0.02 a call). Billing years 2019-2024 with their population.
 */
CREATE EXTENSION afregning;
SET search_path = afregning;

INSERT INTO municipality (code, name, region) VALUES
	('101', 'København', 'Hovedstaden'), ('147', 'Frederiksberg', 'Hovedstaden'),
	('461', 'Odense', 'Syddanmark'), ('751', 'Aarhus', 'Midtjylland');
INSERT INTO consumer_system (code, name, class) VALUES
	('KOMM', 'Kommunalt sagssystem', 'municipal'),
	('KY', 'Kommunernes Ydelsessystem', 'monopoly_break');
INSERT INTO service (code, name, platform, funding, billing) VALUES
	('CPR', 'CPR-opslag', 'serviceplatform', 'ordered', 'per_call'),
	('SAG', 'Sagsoverblik', 'serviceplatform', 'ordered', 'pool'),
	('YDL', 'Ydelsesindeks', 'support_system', 'ordered', 'pool');
INSERT INTO service_order (service_code, system_code, share) VALUES ('YDL', 'KY', 1);
INSERT INTO tariff (service_code, valid_from, unit_price) VALUES
	('CPR', '2015-01-01', 0.50), ('CPR', '2022-01-01', 0.55),
	('SAG', '2015-01-01', 0.01), ('YDL', '2015-01-01', 0.02);
INSERT INTO billing_year (year) SELECT generate_series(2019, 2024);
INSERT INTO population (year, municipality_code, citizens)
SELECT y, m.code, m.base + 997 * (y - 2019)
  FROM generate_series(2019, 2024) AS y
 CROSS JOIN (VALUES ('101', 640003), ('147', 104011), ('461', 205007), ('751', 350021)) AS m(code, base);
INSERT INTO baseline (year, system_code, service_code, calls)
SELECT y, 'KY', 'YDL', 400 FROM generate_series(2019, 2024) AS y;
RESET search_path;

/*
 * A fingerprint of every table of schema afregning: per table, the md5 of
 * its rows in a fixed order (usage with all its partitions), but for the
 * run log, which records each step that ran. A refused step must leave it
 * as it was. The function is written here, once the
 * extension's tables exist, as one static query, so that each session
 * plans it once.
 */
DO $do$
DECLARE
	q text;
BEGIN
	SELECT string_agg(format('SELECT %L AS t, md5(coalesce(string_agg(x::text, E''\n'' ORDER BY x::text COLLATE "C"), '''')) AS d FROM afregning.%I x',
							 c.relname, c.relname), E'\n\t\t\tUNION ALL ' ORDER BY c.relname)
	  INTO q
	  FROM pg_class c
	 WHERE c.relnamespace = 'afregning'::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition
	   /* the run log records every step run, also one that posted nothing */
	   AND c.relname <> 'settlement_run';
	EXECUTE format($f$
		CREATE FUNCTION public.sim_checksum()
		RETURNS json
		LANGUAGE plpgsql AS $body$
		BEGIN
			RETURN (SELECT json_object_agg(t, d) FROM (%s) s);
		END
		$body$
	$f$, q);
END
$do$;

/*
 * Per-call charges worked out from the raw usage, independently of the
 * extension's code: per month, municipality and per-call service, the
 * calls of every system that is not udk/own_billing times the tariff in
 * force on the first of the month (all fixture tariffs start on a 1st),
 * rounded once to øre (round() on numeric is half away from zero), set
 * beside what direct_charge_line holds for the key.
 */
CREATE FUNCTION public.sim_direct_mismatch(p_months date[])
RETURNS TABLE (month date, municipality_code text, service_code text,
			   want_calls numeric, want_amount numeric, posted_calls numeric, posted_amount numeric)
LANGUAGE plpgsql AS $$
BEGIN
	RETURN QUERY
	WITH want AS (
		SELECT u.period AS month, u.municipality_code, u.service_code, sum(u.calls) AS calls,
			   round(sum(u.calls) * (SELECT t.unit_price FROM afregning.tariff t
									  WHERE t.service_code = u.service_code AND t.valid_from <= u.period
									  ORDER BY t.valid_from DESC LIMIT 1), 2) AS amount
		  FROM afregning.usage u
		  JOIN afregning.service s ON s.code = u.service_code AND s.billing::text = 'per_call'
		  JOIN afregning.consumer_system c ON c.code = u.system_code
			   AND c.class::text NOT IN ('udk', 'own_billing')
		 WHERE u.period = ANY (p_months)
		 GROUP BY 1, 2, 3
	), posted AS (
		SELECT d.month, d.municipality_code, d.service_code,
			   sum(d.calls) AS calls, sum(d.amount) AS amount
		  FROM afregning.direct_charge_line d
		 WHERE d.month = ANY (p_months)
		 GROUP BY 1, 2, 3
	)
	SELECT coalesce(w.month, p.month), coalesce(w.municipality_code, p.municipality_code),
		   coalesce(w.service_code, p.service_code), w.calls, w.amount, p.calls, p.amount
	  FROM want w
	  FULL JOIN posted p USING (month, municipality_code, service_code)
	 WHERE coalesce(w.calls, 0) <> coalesce(p.calls, 0)
		OR coalesce(w.amount, 0) <> coalesce(p.amount, 0)
	 ORDER BY 1, 2, 3;
END
$$;

/*
 * The invariants, one text per violation (none when all hold).
 *
 * R10, derived from R9 and the ledgers. Closing year X writes year_close
 *   difference(X) = actual_pool(X) + carry_in(X) - billed(X)
 * and carry_posting rows from X whose amounts sum to difference(X). The
 * carry-in of a year Y is fixed at its announcement and must be every
 * posting into Y:
 *   carry_in(Y) = Σ carry_posting.amount WHERE to_year = Y.
 * Sum the first identity over the closed years C:
 *   Σ_C difference = Σ_C actual_pool + Σ_C carry_in - Σ_C billed.
 * Every posting comes from a closed year, so Σ_C difference is all
 * postings, those into closed years plus those into years not yet closed
 * (N); and Σ_C carry_in is exactly the postings into closed years. These
 * cancel, leaving R10:
 *   Σ_C actual_pool = Σ_C billed + Σ carry_posting.amount WHERE to_year ∈ N.
 * Checked here as that sum and as the per-year identities it rests on
 * (each closed year's postings = its difference; each locked year's
 * carry_in = the postings into it), which name the year that breaks.
 *
 * Beside R10: a locked year's ledgers hold what was booked for it (every
 * expected entry of an announced year and every actual entry of a closed
 * year is in cost_line, in full; every usage call of a closed year is in
 * usage_line); billed is the sum of the invoices; the actual pool is the
 * pool's cost lines and usage lines (S6); and a closed year's direct
 * charges equal its rated per-call usage (S9), in total and per month,
 * municipality and service against the charges worked out from usage.
 * p_months adds months whose charges must be up to date (after bill_direct).
 */
CREATE FUNCTION public.sim_check(p_months date[])
RETURNS SETOF text
LANGUAGE plpgsql AS $$
DECLARE
	r record;
	closed_months date[];
BEGIN
	SELECT (SELECT coalesce(sum(c.actual_pool), 0) FROM afregning.year_close c
			  JOIN afregning.billing_year b ON b.year = c.year AND b.status::text = 'closed') AS actual,
		   (SELECT coalesce(sum(c.billed), 0) FROM afregning.year_close c
			  JOIN afregning.billing_year b ON b.year = c.year AND b.status::text = 'closed') AS billed,
		   (SELECT coalesce(sum(p.amount), 0) FROM afregning.carry_posting p
			 WHERE NOT EXISTS (SELECT 1 FROM afregning.billing_year b
								WHERE b.year = p.to_year AND b.status::text = 'closed')) AS carried
	  INTO r;
	IF r.actual <> r.billed + r.carried THEN
		RETURN NEXT format('R10: closed years'' actual pool %s <> billed %s + carried into years not closed %s (off by %s)',
						   r.actual, r.billed, r.carried, r.billed + r.carried - r.actual);
	END IF;

	FOR r IN SELECT b.year, b.status::text AS status,
					EXISTS (SELECT 1 FROM afregning.price_announcement a WHERE a.year = b.year) AS announced,
					EXISTS (SELECT 1 FROM afregning.year_close c WHERE c.year = b.year) AS closed
			   FROM afregning.billing_year b
	LOOP
		IF (r.status <> 'open') <> r.announced OR (r.status = 'closed') <> r.closed THEN
			RETURN NEXT format('status: year %s is %s, announcement %s, close %s',
							   r.year, r.status, r.announced, r.closed);
		END IF;
	END LOOP;

	FOR r IN SELECT c.year, c.difference, coalesce(sum(p.amount), 0) AS posted
			   FROM afregning.year_close c
			   LEFT JOIN afregning.carry_posting p ON p.from_year = c.year
			  GROUP BY c.year, c.difference
			 HAVING c.difference <> coalesce(sum(p.amount), 0)
	LOOP
		RETURN NEXT format('R9: closed year %s has difference %s but posted %s', r.year, r.difference, r.posted);
	END LOOP;

	FOR r IN SELECT a.year, a.carry_in, c.carry_in AS close_carry_in,
					(SELECT coalesce(sum(p.amount), 0) FROM afregning.carry_posting p
					  WHERE p.to_year = a.year) AS posted
			   FROM afregning.price_announcement a
			   LEFT JOIN afregning.year_close c ON c.year = a.year
	LOOP
		IF r.carry_in <> r.posted OR r.close_carry_in <> r.carry_in THEN
			RETURN NEXT format('R9: year %s was announced with carry_in %s (closed with %s) but %s is posted into it',
							   r.year, r.carry_in, coalesce(r.close_carry_in::text, '-'), r.posted);
		END IF;
	END LOOP;

	FOR r IN SELECT c.year, c.billed,
					(SELECT coalesce(sum(i.amount), 0) FROM afregning.buffet_invoice i WHERE i.year = c.year) AS invoiced,
					c.actual_pool,
					(SELECT coalesce(sum(l.amount), 0) FROM afregning.cost_line l
					  WHERE l.year = c.year AND l.basis::text = 'actual' AND l.route::text = 'pool')
					+ (SELECT coalesce(sum(u.amount), 0) FROM afregning.usage_line u
						WHERE u.year = c.year AND u.route::text = 'pool') AS pool_lines
			   FROM afregning.year_close c
	LOOP
		IF r.billed <> r.invoiced THEN
			RETURN NEXT format('close %s: billed %s but invoiced %s', r.year, r.billed, r.invoiced);
		END IF;
		IF r.actual_pool <> r.pool_lines THEN
			RETURN NEXT format('close %s: actual pool %s but its pool lines sum to %s', r.year, r.actual_pool, r.pool_lines);
		END IF;
	END LOOP;

	/* booked entries of locked years are fixed in full */
	FOR r IN SELECT e.entry_key, e.year, e.basis::text AS basis, e.amount,
					(SELECT coalesce(sum(l.amount), 0) FROM afregning.cost_line l
					  WHERE l.entry_key = e.entry_key AND l.basis = e.basis) AS fixed
			   FROM afregning.cost_entry e
			   JOIN afregning.billing_year b ON b.year = e.year
			  WHERE (e.basis::text = 'expected' AND b.status::text <> 'open')
				 OR (e.basis::text = 'actual' AND b.status::text = 'closed')
	LOOP
		IF r.amount IS DISTINCT FROM r.fixed THEN
			RETURN NEXT format('locked year: %s entry %s of %s is %s, but %s is fixed in cost_line',
							   r.basis, r.entry_key, r.year, r.amount, r.fixed);
		END IF;
	END LOOP;

	FOR r IN SELECT b.year,
					(SELECT coalesce(sum(u.calls), 0) FROM afregning.usage u
					  WHERE u.period >= make_date(b.year, 1, 1) AND u.period < make_date(b.year + 1, 1, 1)) AS calls,
					(SELECT coalesce(sum(l.calls), 0) FROM afregning.usage_line l WHERE l.year = b.year) AS rated,
					(SELECT coalesce(sum(l.amount), 0) FROM afregning.usage_line l
					  WHERE l.year = b.year AND l.route::text = 'municipality') AS rated_per_call,
					(SELECT coalesce(sum(d.amount), 0) FROM afregning.direct_charge_line d
					  WHERE d.month >= make_date(b.year, 1, 1) AND d.month < make_date(b.year + 1, 1, 1)) AS charged
			   FROM afregning.billing_year b
			  WHERE b.status::text = 'closed'
	LOOP
		IF r.calls <> r.rated THEN
			RETURN NEXT format('closed year %s holds %s usage calls but %s are rated', r.year, r.calls, r.rated);
		END IF;
		IF r.charged <> r.rated_per_call THEN
			RETURN NEXT format('S9: closed year %s has direct charges %s but rated per-call usage %s',
							   r.year, r.charged, r.rated_per_call);
		END IF;
	END LOOP;

	closed_months := ARRAY(SELECT make_date(b.year, m, 1)
							 FROM afregning.billing_year b CROSS JOIN generate_series(1, 12) AS m
							WHERE b.status::text = 'closed');
	FOR r IN SELECT * FROM public.sim_direct_mismatch(closed_months || coalesce(p_months, '{}'))
	LOOP
		RETURN NEXT format('direct charges of %s %s %s: usage gives %s calls, %s; posted %s calls, %s',
						   to_char(r.month, 'YYYY-MM'), r.municipality_code, r.service_code,
						   coalesce(r.want_calls, 0), coalesce(r.want_amount, 0),
						   coalesce(r.posted_calls, 0), coalesce(r.posted_amount, 0));
	END LOOP;
END
$$;

/*
 * Everything the simulation looks at between two steps, in one round trip:
 * the invariants after the last step, the fingerprint, the rows and calls
 * of every batch, every year's status and carry_lag, and for the next step
 * whether its batch key is registered and whether the entry it corrects
 * exists; verify_ledger()'s rows when the extension has it (null otherwise).
 * p_last is the fingerprint of the last look: when no table changed since,
 * the invariants are not worked out again.
 */
CREATE FUNCTION public.sim_observe(p_months date[], p_batch text, p_corrects text, p_last text)
RETURNS json
LANGUAGE plpgsql AS $$
DECLARE
	verify json;
	checksum json := public.sim_checksum();
	violations json := '[]';
BEGIN
	/* nothing changed since the last look (p_last), nothing new to check */
	IF checksum::text IS DISTINCT FROM p_last OR cardinality(p_months) > 0 THEN
		SELECT coalesce(json_agg(v), '[]') INTO violations FROM public.sim_check(p_months) v;
	END IF;
	/* verify_ledger() as the extension has it: callable without arguments */
	IF EXISTS (SELECT 1 FROM pg_proc p WHERE p.pronamespace = 'afregning'::regnamespace
				  AND p.proname = 'verify_ledger' AND p.pronargs = p.pronargdefaults) THEN
		EXECUTE 'SELECT coalesce(json_agg(v), ''[]'') FROM afregning.verify_ledger() v' INTO verify;
	END IF;
	RETURN json_build_object(
		'violations', violations,
		'checksum', checksum,
		'checksum_text', checksum::text,
		'batches', (SELECT coalesce(json_object_agg(b.batch_key,
										json_build_array(coalesce(u.n, 0), coalesce(u.calls, 0))), '{}')
					  FROM afregning.usage_batch b
					  LEFT JOIN (SELECT u.batch_key, count(*) AS n, sum(u.calls) AS calls
								   FROM afregning.usage u GROUP BY 1) u USING (batch_key)),
		'orphans', (SELECT count(*) FROM afregning.usage u
					 WHERE NOT EXISTS (SELECT 1 FROM afregning.usage_batch b WHERE b.batch_key = u.batch_key)),
		'status', (SELECT json_object_agg(y.year, y.status) FROM afregning.billing_year y),
		'lag', (SELECT json_object_agg(y.year, y.carry_lag) FROM afregning.billing_year y),
		'batch_exists', EXISTS (SELECT 1 FROM afregning.usage_batch b WHERE b.batch_key = p_batch),
		'corrects_exists', EXISTS (SELECT 1 FROM afregning.cost_entry e
									WHERE e.entry_key = p_corrects AND e.basis::text = 'actual'),
		'verify', verify);
END
$$;
