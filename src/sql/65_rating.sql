
/* ------------------------------------------------------------------
 * Rating of usage (SPEC §3, §4.3, S3-S5)
 *
 * A year is hundreds of millions of usage rows, so the one pass over them
 * does nothing but sum calls by month, system and service (and municipality
 * for per-call services);
 * routing, tariffs, baselines and the rate() aggregate then work on those
 * sums, which are bounded by the number of output cells, not of rows.
 * ------------------------------------------------------------------ */

CREATE FUNCTION @extschema@.refuse_missing_tariff(p_service text, p_period date)
RETURNS boolean
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	RAISE EXCEPTION USING
		ERRCODE = 'object_not_in_prerequisite_state',
		MESSAGE = format('per-call service %s has no tariff in force for %s',
						 p_service, to_char(p_period, 'YYYY-MM')),
		DETAIL = 'Calls of a per-call service are charged at the service''s tariff.',
		HINT = 'Add a tariff for the service that is valid from the month or earlier.';
END
$$;
COMMENT ON FUNCTION @extschema@.refuse_missing_tariff(text, date) IS
	'Raises the 55000 error for usage of a per-call service in a month without a tariff in force (a per-call service never rates at 0)';

CREATE FUNCTION @extschema@.usage_pair()
RETURNS TABLE (system_code text, service_code text, route @extschema@.route,
			   baseline_subject boolean, per_call boolean)
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	/* the routing matrix once per (system, service) pair, never per usage row */
	SELECT c.code, s.code, @extschema@.usage_route(c.class, s.billing),
		   @extschema@.usage_route(c.class, s.billing) = 'pool'
		   AND @extschema@.baseline_applies(c.class, s.platform),
		   s.billing = 'per_call'
	  FROM @extschema@.consumer_system c
	 CROSS JOIN @extschema@.service s
$$;
COMMENT ON FUNCTION @extschema@.usage_pair() IS
	'Route of the usage of every consumer system on every service (SPEC §3), and whether a baseline can apply to it';

CREATE FUNCTION @extschema@.rated_usage(p_year integer)
RETURNS TABLE (route @extschema@.route, payer_code text, service_code text,
			   period date, tariff_from date, unit_price numeric,
			   calls bigint, amount numeric)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	/* only per-call lines are kept per municipality */
	per_call_services text[] := ARRAY(SELECT s.code FROM @extschema@.service s
									  WHERE s.billing = 'per_call');
BEGIN
	IF to_regclass(format('%I.%I', '@extschema@', 'usage_y' || p_year)) IS NULL THEN
		RETURN;					/* no billing year, no partition, no usage */
	END IF;
	/*
	 * The one pass reads the year's partition by name, with no range filter:
	 * a filter on a freshly loaded, not yet analyzed partition is estimated
	 * at a few thousand rows, and the planner then sorts the whole year on
	 * disk instead of hashing it.
	 */
	RETURN QUERY EXECUTE format($query$
	WITH pair AS MATERIALIZED (
		SELECT p.*, b.calls AS baseline_calls
		  FROM @extschema@.usage_pair() p
		  LEFT JOIN @extschema@.baseline b
			ON b.year = $1 AND b.system_code = p.system_code
		   AND b.service_code = p.service_code AND p.baseline_subject
	),
	tariff AS MATERIALIZED (
		SELECT * FROM @extschema@.month_tariff(make_date($1, 1, 1), make_date($1, 12, 1))
	),
	/* the one pass over the year's usage: plain sums */
	raw AS (
		SELECT u.period, u.system_code, u.service_code,
			   CASE WHEN u.service_code = ANY ($2) THEN u.municipality_code END
				   AS municipality_code,
			   sum(u.calls)::bigint AS calls
		  FROM %I.%I u
		 GROUP BY 1, 2, 3, 4
	),
	/* cells of month x line key; a per-call month without a tariff is an error */
	cell AS (
		SELECT r.period, r.service_code, p.route, p.baseline_calls,
			   CASE WHEN p.route = 'municipality' THEN r.municipality_code
					WHEN p.route = 'system' OR p.baseline_calls IS NOT NULL THEN r.system_code
			   END AS payer_code,
			   t.tariff_from, coalesce(t.unit_price, 0) AS unit_price,
			   sum(r.calls)::bigint AS calls
		  FROM raw r
		  JOIN pair p ON p.system_code = r.system_code AND p.service_code = r.service_code
		  JOIN tariff t ON t.service_code = r.service_code AND t.period = r.period
		 WHERE CASE WHEN p.per_call AND t.unit_price IS NULL
					THEN @extschema@.refuse_missing_tariff(r.service_code, r.period)
					ELSE true END
		 GROUP BY 1, 2, 3, 4, 5, 6, 7
	),
	/* S4: a baseline is filled month by month from January */
	base AS (
		SELECT cell.*,
			   least(cell.calls,
					 greatest(0, cell.baseline_calls
								 - coalesce(sum(cell.calls) OVER (
										PARTITION BY cell.payer_code, cell.service_code
										ORDER BY cell.period
										ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0))
			   )::bigint AS within
		  FROM cell
		 WHERE cell.baseline_calls IS NOT NULL
	),
	part AS (
		SELECT cell.route, cell.payer_code, cell.service_code, cell.period,
			   cell.tariff_from, cell.unit_price, cell.calls
		  FROM cell WHERE cell.baseline_calls IS NULL
		UNION ALL
		SELECT 'system', base.payer_code, base.service_code, base.period,
			   base.tariff_from, base.unit_price, base.within
		  FROM base WHERE base.within > 0
		UNION ALL
		SELECT 'pool', NULL, base.service_code, base.period,
			   base.tariff_from, base.unit_price, base.calls - base.within
		  FROM base WHERE base.calls > base.within
	)
	/* S3: per-call lines per month; pool and system lines per tariff period */
	SELECT part.route, part.payer_code, part.service_code,
		   CASE WHEN part.route = 'municipality' THEN part.period END,
		   part.tariff_from, part.unit_price,
		   sum(part.calls)::bigint, @extschema@.rate(part.calls, part.unit_price)
	  FROM part
	 GROUP BY 1, 2, 3, 4, 5, 6
	$query$, '@extschema@', 'usage_y' || p_year)
	USING p_year, per_call_services;
END
$$;
COMMENT ON FUNCTION @extschema@.rated_usage(integer) IS
	'Rates a year''s usage (afregning af forbrug): one line per route, payer, service and tariff period (per month for per-call lines), calls × tariff rounded once per line to øre by the rate aggregate; refuses per-call usage without a tariff';
