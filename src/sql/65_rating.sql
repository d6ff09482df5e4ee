
/* ------------------------------------------------------------------
 * Rating of usage (SPEC §3, §4.3, S3-S5)
 *
 * A year is hundreds of millions of usage rows; loading keeps their monthly
 * sums per municipality, system and service (usage_summary), and the one
 * pass over those sums does nothing but add them up by month, system and
 * service (and municipality for per-call services), in the C aggregate
 * usage_groups();
 * routing, tariffs, baselines and the rate() aggregate then work on those
 * sums, which are bounded by the number of output cells, not of rows.
 * Closing a year (rated_usage) and billing per-call months (per_call_lines)
 * both price the sums through rated_cells(), so per-call charges come from
 * one pipeline.
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
		DETAIL = format('Service %s has calls in %s, and calls of a per-call service are charged at the tariff in force on the first of their month.',
						p_service, to_char(p_period, 'YYYY-MM')),
		HINT = format('Add a tariff valid from %s or earlier: INSERT INTO afregning.tariff (service_code, valid_from, unit_price) VALUES (%L, %L, ...).',
					  to_char(p_period, 'YYYY-MM-DD'), p_service, to_char(p_period, 'YYYY-MM-DD'));
END
$$;
COMMENT ON FUNCTION @extschema@.refuse_missing_tariff(text, date) IS
	'Raises the 55000 error for usage of a per-call service in a month without a tariff in force (a per-call service never rates at 0)';
REVOKE ALL ON FUNCTION @extschema@.refuse_missing_tariff(text, date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.refuse_missing_tariff(text, date) TO afregning_admin, afregning_reader;

CREATE FUNCTION @extschema@.usage_pair()
RETURNS TABLE (system_code text, service_code text, route @extschema@.route,
			   baseline_subject boolean, per_call boolean)
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	/* the routing matrix once per (system, service) pair, never per usage row */
	SELECT c.code, s.code, r.route,
		   r.route = 'pool' AND @extschema@.baseline_applies(c.class, s.platform),
		   s.billing = 'per_call'
	  FROM @extschema@.consumer_system c
	 CROSS JOIN @extschema@.service s
	 /* OFFSET 0: route each pair once, not once per use of the route */
	 CROSS JOIN LATERAL (SELECT @extschema@.usage_route(c.class, s.billing) AS route OFFSET 0) r
$$;
COMMENT ON FUNCTION @extschema@.usage_pair() IS
	'Route of the usage of every consumer system on every service (SPEC §3), and whether a baseline can apply to it';
REVOKE ALL ON FUNCTION @extschema@.usage_pair() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.usage_pair() TO afregning_admin, afregning_reader;

/*
 * The grouping aggregate of the one pass (usage_groups.c).  Its state is
 * internal (interned codes and an open-addressing table of sums in aggregate
 * memory), so the transition functions cannot be STRICT; it travels between
 * processes, and is returned, as a bytea that usage_group_rows() unpacks
 * and usage_groups_merge() combines.
 */
CREATE FUNCTION @extschema@.usage_groups_accum(internal, date, text, text, text, bigint, text[])
	RETURNS internal
	AS 'MODULE_PATHNAME', 'usage_groups_accum'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.usage_groups_accum(internal, date, text, text, text, bigint, text[]) IS
	'Transition function of usage_groups(): adds the calls of one usage row to its group; rows without calls are skipped';
REVOKE ALL ON FUNCTION @extschema@.usage_groups_accum(internal, date, text, text, text, bigint, text[]) FROM PUBLIC;

CREATE FUNCTION @extschema@.usage_groups_merge_accum(internal, bytea)
	RETURNS internal
	AS 'MODULE_PATHNAME', 'usage_groups_merge_accum'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.usage_groups_merge_accum(internal, bytea) IS
	'Transition function of usage_groups_merge(): adds the groups of one usage_groups() value';
REVOKE ALL ON FUNCTION @extschema@.usage_groups_merge_accum(internal, bytea) FROM PUBLIC;

CREATE FUNCTION @extschema@.usage_groups_combine(internal, internal)
	RETURNS internal
	AS 'MODULE_PATHNAME', 'usage_groups_combine'
	LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.usage_groups_combine(internal, internal) IS
	'Combine function of usage_groups() and usage_groups_merge(): adds two partial states of a parallel or partial aggregation';
REVOKE ALL ON FUNCTION @extschema@.usage_groups_combine(internal, internal) FROM PUBLIC;

CREATE FUNCTION @extschema@.usage_groups_serialize(internal)
	RETURNS bytea
	AS 'MODULE_PATHNAME', 'usage_groups_serialize'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.usage_groups_serialize(internal) IS
	'Serialize and final function of usage_groups() and usage_groups_merge(): the state as a bytea (codes once, then 16 bytes a group)';
REVOKE ALL ON FUNCTION @extschema@.usage_groups_serialize(internal) FROM PUBLIC;

CREATE FUNCTION @extschema@.usage_groups_deserialize(bytea, internal)
	RETURNS internal
	AS 'MODULE_PATHNAME', 'usage_groups_deserialize'
	LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.usage_groups_deserialize(bytea, internal) IS
	'Deserialize function of usage_groups() and usage_groups_merge(): reads and validates a state written by usage_groups_serialize';
REVOKE ALL ON FUNCTION @extschema@.usage_groups_deserialize(bytea, internal) FROM PUBLIC;

CREATE AGGREGATE @extschema@.usage_groups(period date, municipality_code text, system_code text,
										  service_code text, calls bigint, per_call_services text[]) (
	SFUNC = @extschema@.usage_groups_accum,
	STYPE = internal,
	SSPACE = 65536,
	FINALFUNC = @extschema@.usage_groups_serialize,
	COMBINEFUNC = @extschema@.usage_groups_combine,
	SERIALFUNC = @extschema@.usage_groups_serialize,
	DESERIALFUNC = @extschema@.usage_groups_deserialize,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.usage_groups(date, text, text, text, bigint, text[]) IS
	'Sums of usage calls (forbrug) by period, system and service, and by municipality too for the services in per_call_services (read from the first row), in one pass whose memory is bounded by the distinct keys; returns a bytea for usage_group_rows() or usage_groups_merge(), null over no rows. Rows with null calls are skipped. Errors: 22004 a null period, system or service (or municipality of a per-call service); 22023 negative calls; 22003 a sum beyond bigint; 54000 more than 65535 distinct values of one key. Parallel safe.';
REVOKE ALL ON FUNCTION @extschema@.usage_groups(date, text, text, text, bigint, text[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.usage_groups(date, text, text, text, bigint, text[])
	TO afregning_admin, afregning_reader, afregning_municipality;

CREATE AGGREGATE @extschema@.usage_groups_merge(groups bytea) (
	SFUNC = @extschema@.usage_groups_merge_accum,
	STYPE = internal,
	SSPACE = 65536,
	FINALFUNC = @extschema@.usage_groups_serialize,
	COMBINEFUNC = @extschema@.usage_groups_combine,
	SERIALFUNC = @extschema@.usage_groups_serialize,
	DESERIALFUNC = @extschema@.usage_groups_deserialize,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE @extschema@.usage_groups_merge(bytea) IS
	'Combines usage_groups() values made apart (e.g. one per shard or per partition) into one, adding the calls of equal keys; null values are skipped. Errors: 22P03 a value not made by usage_groups(); 22003 a sum beyond bigint. Parallel safe.';
REVOKE ALL ON FUNCTION @extschema@.usage_groups_merge(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.usage_groups_merge(bytea)
	TO afregning_admin, afregning_reader, afregning_municipality;

CREATE FUNCTION @extschema@.usage_group_rows(p_groups bytea)
RETURNS TABLE (period date, municipality_code text, system_code text, service_code text,
			   calls bigint)
AS 'MODULE_PATHNAME', 'usage_group_rows'
LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 50000;
COMMENT ON FUNCTION @extschema@.usage_group_rows(bytea) IS
	'The groups of a usage_groups() value as rows: period, municipality_code (null unless the service is per-call), system_code, service_code and the sum of calls, in no particular order. Errors: 22P03 a value not made by usage_groups()';
REVOKE ALL ON FUNCTION @extschema@.usage_group_rows(bytea) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.usage_group_rows(bytea)
	TO afregning_admin, afregning_reader, afregning_municipality;

CREATE FUNCTION @extschema@.rated_cells(p_groups bytea, p_from date, p_to date)
RETURNS TABLE (period date, service_code text, route @extschema@.route, baseline_calls bigint,
			   payer_code text, tariff_from date, unit_price numeric, calls bigint)
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
/*
 * Tens of thousands of sums meet a thousand pairs and a few hundred month
 * tariffs: hash joins and a hash aggregate, whatever the estimates of the
 * function scans (sorting the sums for merge joins took twice as long)
 */
SET enable_mergejoin = off
SET enable_nestloop = off
SET enable_sort = off
AS $$
	/* the routing matrix once per (system, service) pair, never per group */
	WITH pair AS MATERIALIZED (
		SELECT * FROM @extschema@.usage_pair()
	),
	tariff AS MATERIALIZED (
		SELECT * FROM @extschema@.month_tariff(p_from, p_to)
	)
	/* cells of month x line key; a per-call month without a tariff is an error */
	SELECT r.period, r.service_code, p.route, b.calls,
		   CASE WHEN p.route = 'municipality' THEN r.municipality_code
				WHEN p.route = 'system' OR b.calls IS NOT NULL THEN r.system_code
		   END,
		   t.tariff_from, coalesce(t.unit_price, 0), sum(r.calls)::bigint
	  FROM @extschema@.usage_group_rows(p_groups) r
	  JOIN pair p ON p.system_code = r.system_code AND p.service_code = r.service_code
	  JOIN tariff t ON t.service_code = r.service_code AND t.period = r.period
	  /* S4: the baseline of the usage month's year */
	  LEFT JOIN @extschema@.baseline b
		ON p.baseline_subject AND b.year = extract(year FROM r.period)::integer
	   AND b.system_code = r.system_code AND b.service_code = r.service_code
	 /* the join with the months' tariffs keeps only the months asked for */
	 WHERE CASE WHEN p.per_call AND t.unit_price IS NULL
				THEN @extschema@.refuse_missing_tariff(r.service_code, r.period)
				ELSE true END
	 GROUP BY 1, 2, 3, 4, 5, 6, 7
$$;
COMMENT ON FUNCTION @extschema@.rated_cells(bytea, date, date) IS
	'Internal: the usage_groups() sums of the months p_from to p_to routed and priced (SPEC §3): calls per month, service, route, baseline, payer and tariff; refuses per-call usage without a tariff. rated_usage() and per_call_lines() both rate through it';
REVOKE ALL ON FUNCTION @extschema@.rated_cells(bytea, date, date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.rated_cells(bytea, date, date)
	TO afregning_admin, afregning_reader;

CREATE FUNCTION @extschema@.rated_usage(p_year integer)
RETURNS TABLE (route @extschema@.route, payer_code text, service_code text,
			   period date, tariff_from date, unit_price numeric,
			   calls bigint, amount numeric)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	/* only per-call lines are kept per municipality */
	per_call_services text[] := ARRAY(SELECT s.code FROM @extschema@.service s
									  WHERE s.billing = 'per_call');
	groups bytea;
BEGIN
	/*
	 * The one pass: the year's monthly sums (usage_summary, kept as usage
	 * loads), grouped in C; its memory is bounded by the distinct keys
	 * whatever the planner estimates.
	 */
	SELECT @extschema@.usage_groups(u.period, u.municipality_code, u.system_code,
									u.service_code, u.calls, per_call_services)
	  INTO groups
	  FROM @extschema@.usage_summary u
	 WHERE u.period >= make_date(p_year, 1, 1) AND u.period < make_date(p_year + 1, 1, 1);
	IF groups IS NULL THEN
		RETURN;
	END IF;

	RETURN QUERY
	WITH cell AS (
		SELECT * FROM @extschema@.rated_cells(groups, make_date(p_year, 1, 1), make_date(p_year, 12, 1))
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
	 GROUP BY 1, 2, 3, 4, 5, 6;
END
$$;
COMMENT ON FUNCTION @extschema@.rated_usage(integer) IS
	'Rates a year''s usage (afregning af forbrug): one line per route, payer, service and tariff period (per month for per-call lines), calls × tariff rounded once per line to øre by the rate aggregate; refuses per-call usage without a tariff';
REVOKE ALL ON FUNCTION @extschema@.rated_usage(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.rated_usage(integer) TO afregning_admin, afregning_reader;
