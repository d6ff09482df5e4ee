
/* ------------------------------------------------------------------
 * Rating of usage (SPEC §3, §4.3, S3-S5)
 * ------------------------------------------------------------------ */

CREATE FUNCTION @extschema@.check_per_call_tariffs(p_from date, p_to date)
RETURNS void
LANGUAGE plpgsql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	missing record;
BEGIN
	SELECT u.service_code, u.period INTO missing
	  FROM @extschema@.usage u
	  JOIN @extschema@.service s ON s.code = u.service_code AND s.billing = 'per_call'
	  JOIN @extschema@.month_tariff(p_from, p_to) mt
		ON mt.service_code = u.service_code AND mt.period = u.period
	 WHERE u.period BETWEEN p_from AND p_to
	   AND mt.unit_price IS NULL
	 LIMIT 1;
	IF FOUND THEN
		RAISE EXCEPTION USING
			ERRCODE = 'object_not_in_prerequisite_state',
			MESSAGE = format('per-call service %s has no tariff in force for %s',
							 missing.service_code, to_char(missing.period, 'YYYY-MM')),
			DETAIL = 'Calls of a per-call service are charged to the municipality at the service''s tariff.',
			HINT = 'Add a tariff for the service that is valid from the month or earlier.';
	END IF;
END
$$;
COMMENT ON FUNCTION @extschema@.check_per_call_tariffs(date, date) IS
	'Refuses (55000) usage of a per-call service in a month without a tariff in force';

CREATE FUNCTION @extschema@.rated_usage(p_year integer)
RETURNS TABLE (route @extschema@.route, payer_code text, service_code text,
			   period date, tariff_from date, unit_price numeric,
			   calls bigint, amount numeric)
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	/* a per-call service without a tariff is an error, never a silent 0 (§3) */
	SELECT @extschema@.check_per_call_tariffs(make_date(p_year, 1, 1), make_date(p_year, 12, 1));
	WITH tariff AS (
		SELECT * FROM @extschema@.month_tariff(make_date(p_year, 1, 1), make_date(p_year, 12, 1))
	),
	/* the one pass over the year's usage: cells of month x line key */
	cell AS (
		SELECT u.period, u.service_code, k.route, k.baseline_calls,
			   CASE WHEN k.route = 'municipality' THEN u.municipality_code
					WHEN k.route = 'system' OR k.baseline_calls IS NOT NULL THEN u.system_code
			   END AS payer_code,
			   t.tariff_from, coalesce(t.unit_price, 0) AS unit_price,
			   sum(u.calls)::bigint AS calls
		  FROM @extschema@.usage u
		  JOIN @extschema@.consumer_system c ON c.code = u.system_code
		  JOIN @extschema@.service s ON s.code = u.service_code
		  JOIN tariff t ON t.service_code = u.service_code AND t.period = u.period
		  LEFT JOIN @extschema@.baseline b
			ON b.year = p_year AND b.system_code = u.system_code AND b.service_code = u.service_code
		 CROSS JOIN LATERAL (
				SELECT @extschema@.usage_route(c.class, s.billing) AS route,
					   CASE WHEN @extschema@.usage_route(c.class, s.billing) = 'pool'
								 AND @extschema@.baseline_applies(c.class, s.platform)
							THEN b.calls END AS baseline_calls) k
		 WHERE u.period >= make_date(p_year, 1, 1)
		   AND u.period < make_date(p_year + 1, 1, 1)
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
		SELECT route, payer_code, service_code, period, tariff_from, unit_price, calls
		  FROM cell WHERE baseline_calls IS NULL
		UNION ALL
		SELECT 'system', payer_code, service_code, period, tariff_from, unit_price, within
		  FROM base WHERE within > 0
		UNION ALL
		SELECT 'pool', NULL, service_code, period, tariff_from, unit_price, calls - within
		  FROM base WHERE calls > within
	)
	/* S3: per-call lines per month; pool and system lines per tariff period */
	SELECT part.route, part.payer_code, part.service_code,
		   CASE WHEN part.route = 'municipality' THEN part.period END,
		   part.tariff_from, part.unit_price,
		   sum(part.calls)::bigint, @extschema@.rate(part.calls, part.unit_price)
	  FROM part
	 GROUP BY 1, 2, 3, 4, 5, 6
$$;
COMMENT ON FUNCTION @extschema@.rated_usage(integer) IS
	'Rates a year''s usage (afregning af forbrug): one line per route, payer, service and tariff period (per month for per-call lines), calls × tariff rounded once per line to øre by the rate aggregate';
