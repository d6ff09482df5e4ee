
/* ------------------------------------------------------------------
 * Direct charges: per-call billing of municipalities (SPEC R7, S3, S9,
 * S10) and graduated per-citizen charges (R11)
 * ------------------------------------------------------------------ */

CREATE FUNCTION @extschema@.per_call_lines(p_from date, p_to date)
RETURNS TABLE (month date, municipality_code text, service_code text, unit_price numeric,
			   calls bigint, amount numeric)
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	/*
	 * One pass over the months asked for (the BRIN index on usage (period)
	 * skips the rest of the year's partition), over the per-call services'
	 * rows only, grouped in C; then the same routing and pricing as the
	 * close of a year (rated_cells), so bill_direct and close_year give the
	 * same lines.
	 */
	WITH per_call AS MATERIALIZED (
		SELECT ARRAY(SELECT s.code FROM @extschema@.service s
					  WHERE s.billing = 'per_call') AS codes
	)
	SELECT c.period, c.payer_code, c.service_code, c.unit_price,
		   sum(c.calls)::bigint, @extschema@.rate(c.calls, c.unit_price)
	  FROM @extschema@.rated_cells(
			(SELECT @extschema@.usage_groups(u.period, u.municipality_code, u.system_code,
											 u.service_code, u.calls, per_call.codes)
			   FROM @extschema@.usage u, per_call
			  WHERE u.period BETWEEN p_from AND p_to
				AND u.service_code = ANY (per_call.codes)),
			p_from, p_to) c
	 WHERE c.route = 'municipality'
	 GROUP BY c.period, c.payer_code, c.service_code, c.unit_price
$$;
COMMENT ON FUNCTION @extschema@.per_call_lines(date, date) IS
	'Per-call charges the usage of the months p_from to p_to gives now: one line per month, municipality, service and tariff, calls × tariff rounded once to øre';

CREATE FUNCTION @extschema@.per_call_lines(p_month date)
RETURNS TABLE (municipality_code text, service_code text, unit_price numeric,
			   calls bigint, amount numeric)
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT l.municipality_code, l.service_code, l.unit_price, l.calls, l.amount
	  FROM @extschema@.per_call_lines(p_month, p_month) l
$$;
COMMENT ON FUNCTION @extschema@.per_call_lines(date) IS
	'Per-call charges a month''s usage gives now: one line per municipality, service and tariff, calls × tariff rounded once to øre';

CREATE FUNCTION @extschema@.post_direct(p_from date, p_to date)
RETURNS TABLE (month date, municipality_code text, service_code text, unit_price numeric,
			   calls bigint, amount numeric, kind @extschema@.charge_kind)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	m date;
BEGIN
	/* one run per month at a time, locked in calendar order; a second waits
	 * and then finds nothing new */
	FOR m IN SELECT generate_series(p_from, p_to, interval '1 month')::date
	LOOP
		PERFORM pg_advisory_xact_lock(hashtext('afregning.bill_direct'),
									  (extract(year FROM m) * 100 + extract(month FROM m))::integer);
	END LOOP;

	/* S10: post per key the difference between now and what was posted */
	RETURN QUERY
	WITH now_lines AS (
		SELECT * FROM @extschema@.per_call_lines(p_from, p_to)
	),
	posted AS (
		SELECT d.month, d.municipality_code, d.service_code, d.unit_price,
			   sum(d.calls)::bigint AS calls, sum(d.amount) AS amount
		  FROM @extschema@.direct_charge_line d
		 WHERE d.month BETWEEN p_from AND p_to
		 GROUP BY 1, 2, 3, 4
	),
	delta AS (
		SELECT coalesce(n.month, p.month) AS month,
			   coalesce(n.municipality_code, p.municipality_code) AS municipality_code,
			   coalesce(n.service_code, p.service_code) AS service_code,
			   coalesce(n.unit_price, p.unit_price) AS unit_price,
			   coalesce(n.calls, 0) - coalesce(p.calls, 0) AS calls,
			   coalesce(n.amount, 0) - coalesce(p.amount, 0) AS amount,
			   CASE WHEN p.municipality_code IS NULL THEN 'charge'
					WHEN n.municipality_code IS NULL THEN 'reversal'
					ELSE 'adjustment' END::@extschema@.charge_kind AS kind
		  FROM now_lines n
		  FULL JOIN posted p
			ON p.month = n.month
		   AND p.municipality_code = n.municipality_code
		   AND p.service_code = n.service_code
		   AND p.unit_price = n.unit_price
	)
	INSERT INTO @extschema@.direct_charge_line AS d
		(month, municipality_code, service_code, unit_price, calls, amount, kind)
	SELECT delta.month, delta.municipality_code, delta.service_code, delta.unit_price,
		   delta.calls, delta.amount, delta.kind
	  FROM delta
	 WHERE delta.calls <> 0 OR delta.amount <> 0
	 ORDER BY 1, 2, 3, 4
	RETURNING d.month, d.municipality_code, d.service_code, d.unit_price, d.calls, d.amount, d.kind;
END
$$;
COMMENT ON FUNCTION @extschema@.post_direct(date, date) IS
	'Internal: posts per month, municipality, service and tariff the difference between the per-call charges the months p_from to p_to give now and what was posted before; bill_direct() for one month, close_year() for the whole year in one pass';

CREATE FUNCTION @extschema@.bill_direct(p_month date)
RETURNS TABLE (municipality_code text, service_code text, unit_price numeric,
			   calls bigint, amount numeric, kind @extschema@.charge_kind)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF p_month IS NULL OR extract(day FROM p_month) <> 1 OR NOT isfinite(p_month) THEN
		RAISE EXCEPTION USING
			ERRCODE = 'invalid_parameter_value',
			MESSAGE = format('month must be the first day of a month, not %s', coalesce(p_month::text, 'null')),
			HINT = format('Pass e.g. %L.', coalesce(date_trunc('month', p_month)::date::text, '2021-01-01'));
	END IF;
	RETURN QUERY
	SELECT p.municipality_code, p.service_code, p.unit_price, p.calls, p.amount, p.kind
	  FROM @extschema@.post_direct(p_month, p_month) p;
END
$$;
COMMENT ON FUNCTION @extschema@.bill_direct(date) IS
	'Posts the per-call charges (betaling pr. opslag, e.g. CPR) of a month to the calling municipalities; a re-run posts per key only the difference since the last run (adjustment, or reversal of a key that disappeared) and returns the lines it posted';

CREATE FUNCTION @extschema@.post_schedule_charges(p_year integer)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	n integer;
BEGIN
	/* R11: the schedule in force is the one with the latest valid_from_year <= year */
	INSERT INTO @extschema@.schedule_charge (year, municipality_code, schedule_code, citizens, amount)
	SELECT i.year, i.municipality_code, s.schedule_code, i.citizens,
		   @extschema@.graduated_charge(i.citizens, s.from_citizens, s.rates)
	  FROM @extschema@.buffet_invoice i
	 CROSS JOIN (
			SELECT c.schedule_code,
				   array_agg(c.from_citizens ORDER BY c.from_citizens) AS from_citizens,
				   array_agg(c.rate ORDER BY c.from_citizens) AS rates
			  FROM @extschema@.charge_schedule c
			 WHERE c.valid_from_year = (SELECT max(c2.valid_from_year)
										  FROM @extschema@.charge_schedule c2
										 WHERE c2.schedule_code = c.schedule_code
										   AND c2.valid_from_year <= p_year)
			 GROUP BY c.schedule_code) s
	 WHERE i.year = p_year;
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN n;
END
$$;
COMMENT ON FUNCTION @extschema@.post_schedule_charges(integer) IS
	'Bills the graduated per-citizen charges in force for a year (e.g. infrastrukturpris) to every municipality; called by announce_price()';
