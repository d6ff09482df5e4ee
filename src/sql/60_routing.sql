
/* ------------------------------------------------------------------
 * Routing (SPEC §3): who carries each cost line and each rated call.
 *
 * The matrix lives here and nowhere else: usage_route() and
 * baseline_applies() for usage, the cost_allocation view for cost
 * entries. Preview, announcement, close and the views all read these.
 * ------------------------------------------------------------------ */

CREATE FUNCTION @extschema@.usage_route(p_class @extschema@.system_class,
										p_billing @extschema@.billing_method)
RETURNS @extschema@.route
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT CASE
			WHEN p_class IN ('udk', 'own_billing') THEN 'system'
			WHEN p_billing = 'per_call' THEN 'municipality'
			ELSE 'pool'
		   END::@extschema@.route
$$;
COMMENT ON FUNCTION @extschema@.usage_route(@extschema@.system_class, @extschema@.billing_method) IS
	'Route of usage (dataforbrug) by a system class on a service: udk and own-billing systems carry their own, per-call services are charged to the calling municipality, the rest is pool-funded (baselines aside, see baseline_applies)';
REVOKE ALL ON FUNCTION @extschema@.usage_route(@extschema@.system_class, @extschema@.billing_method) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.usage_route(@extschema@.system_class, @extschema@.billing_method) TO afregning_admin, afregning_reader, afregning_municipality;

CREATE FUNCTION @extschema@.baseline_applies(p_class @extschema@.system_class,
											 p_platform @extschema@.platform)
RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT p_class = 'monopoly_break' AND p_platform = 'support_system'
$$;
COMMENT ON FUNCTION @extschema@.baseline_applies(@extschema@.system_class, @extschema@.platform) IS
	'Whether a baseline (baseline forbrug) limits pool funding: only monopoly-break systems on support-system services (SPEC S4)';
REVOKE ALL ON FUNCTION @extschema@.baseline_applies(@extschema@.system_class, @extschema@.platform) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.baseline_applies(@extschema@.system_class, @extschema@.platform) TO afregning_admin, afregning_reader, afregning_municipality;

/*
 * The matrix for cost entries, written once: cost_allocation applies it to
 * the cost entries, what_if_price() to adjustments that are not entries.
 * It takes the entries as arrays so that a split is apportioned over the
 * orderers with one window per entry, as in a single query.
 */
CREATE FUNCTION @extschema@.route_costs(p_key text[], p_cost_type @extschema@.cost_type[],
	p_service text[], p_system text[], p_amount numeric[])
RETURNS TABLE (entry_key text, route text, payer_code text, amount numeric)
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	WITH entry AS (
		SELECT a.entry_key, a.cost_type, a.service_code, a.system_code, a.amount,
			   c.class AS system_class, s.funding, s.billing,
			   /* entries split over the service's orderers by share (S1) */
			   CASE
				WHEN a.cost_type IN ('establishment', 'infrastructure_establishment')
					THEN a.system_code IS NULL
				WHEN a.cost_type = 'operations'
					THEN s.funding IS DISTINCT FROM 'development_pool'
						 AND EXISTS (SELECT 1 FROM @extschema@.service_order o
									 WHERE o.service_code = a.service_code)
				ELSE false
			   END AS split
		  FROM unnest(p_key, p_cost_type, p_service, p_system, p_amount)
			   AS a(entry_key, cost_type, service_code, system_code, amount)
		  LEFT JOIN @extschema@.consumer_system c ON c.code = a.system_code
		  LEFT JOIN @extschema@.service s ON s.code = a.service_code
	)
	SELECT entry.entry_key, r.route,
		   CASE WHEN r.route = 'system' THEN entry.system_code END,
		   entry.amount
	  FROM entry
	 CROSS JOIN LATERAL (SELECT CASE
			WHEN entry.cost_type IN ('establishment', 'infrastructure_establishment') THEN 'system'
			WHEN entry.cost_type IN ('operations', 'support_admin', 'development_pool') THEN 'pool'
			WHEN entry.cost_type = 'dissemination' THEN
				CASE WHEN entry.system_class = 'kombit_project' THEN 'system' ELSE 'pool' END
			WHEN entry.cost_type = 'data_consumption' THEN
				CASE WHEN entry.system_class IN ('udk', 'own_billing') THEN 'system'
					 /* recovered by the per-call charges, never the pool's (SPEC §3) */
					 WHEN entry.billing = 'per_call' THEN 'per_call'
					 ELSE 'pool' END
		   END::text AS route) r
	 WHERE NOT entry.split
	UNION ALL
	SELECT p.entry_key,
		   CASE WHEN p.cost_type <> 'operations' OR p.orderer_class IN ('monopoly_break', 'udk')
				THEN 'system' ELSE 'pool' END::text,
		   CASE WHEN p.cost_type <> 'operations' OR p.orderer_class IN ('monopoly_break', 'udk')
				THEN p.orderer END,
		   p.part
	  FROM (SELECT entry.entry_key, entry.cost_type,
				   o.system_code AS orderer, oc.class AS orderer_class,
				   @extschema@.apportion(entry.amount::numeric, o.share::numeric)
					   OVER (PARTITION BY entry.entry_key ORDER BY o.system_code COLLATE "C") AS part
			  FROM entry
			  JOIN @extschema@.service_order o ON o.service_code = entry.service_code
			  JOIN @extschema@.consumer_system oc ON oc.code = o.system_code
			 WHERE entry.split) p
$$;
COMMENT ON FUNCTION @extschema@.route_costs(text[], @extschema@.cost_type[], text[], text[], numeric[]) IS
	'The routing matrix of SPEC §3 for cost entries given as parallel arrays (key, cost type, service, system, amount): one row per entry and route part (pool, system, per_call), split entries apportioned exactly over the orderers by share';
REVOKE ALL ON FUNCTION @extschema@.route_costs(text[], @extschema@.cost_type[], text[], text[], numeric[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.route_costs(text[], @extschema@.cost_type[], text[], text[], numeric[])
	TO afregning_admin, afregning_reader, afregning_municipality;

CREATE VIEW @extschema@.cost_allocation WITH (security_invoker = true) AS
/* typed for BI tools (SPEC §6): enum values as varchar, money numeric(14,2) */
SELECT r.entry_key::varchar(200) AS entry_key, e.year,
	   e.cost_type::text::varchar(32) AS cost_type,
	   e.basis::text::varchar(16) AS basis,
	   r.route::varchar(16) AS route,
	   r.payer_code::varchar(32) AS payer_code,
	   r.amount::numeric(14,2) AS amount
  FROM (SELECT array_agg(c.entry_key) AS k, array_agg(c.cost_type) AS t,
			   array_agg(c.service_code) AS sv, array_agg(c.system_code) AS sy,
			   array_agg(c.amount) AS am
		  FROM @extschema@.cost_entry c) a
 CROSS JOIN LATERAL @extschema@.route_costs(a.k, a.t, a.sv, a.sy, a.am) r
  JOIN @extschema@.cost_entry e ON e.entry_key = r.entry_key;
COMMENT ON VIEW @extschema@.cost_allocation IS
	'Routing of every cost entry as the matrix of SPEC §3 gives it today (fordeling af omkostninger): one row per entry and route part; split entries are apportioned exactly over the orderers by share';
COMMENT ON COLUMN @extschema@.cost_allocation.entry_key IS 'Cost entry';
COMMENT ON COLUMN @extschema@.cost_allocation.year IS 'Year of the entry';
COMMENT ON COLUMN @extschema@.cost_allocation.cost_type IS 'Cost type (omkostningstype)';
COMMENT ON COLUMN @extschema@.cost_allocation.basis IS 'expected (forventet) or actual (faktisk)';
COMMENT ON COLUMN @extschema@.cost_allocation.route IS 'pool (buffetpris), system (anvendersystem) or per_call (data consumption of a per-call service: recovered through the per-call charges, betaling pr. opslag)';
COMMENT ON COLUMN @extschema@.cost_allocation.payer_code IS 'Consumer system carrying the part, for route system; null otherwise';
COMMENT ON COLUMN @extschema@.cost_allocation.amount IS 'Part of the entry on this route, DKK';
GRANT SELECT ON @extschema@.cost_allocation
	TO afregning_admin, afregning_reader, afregning_municipality;

CREATE FUNCTION @extschema@.fixed_cost_lines(p_year integer, p_basis @extschema@.cost_basis)
RETURNS integer
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	unrouted text;
	n integer;
BEGIN
	/* every entry must be routed in full before its year is locked */
	SELECT string_agg(e.entry_key, ', ' ORDER BY e.entry_key) INTO unrouted
	  FROM @extschema@.cost_entry e
	  LEFT JOIN (SELECT a.entry_key, sum(a.amount) AS routed
				   FROM @extschema@.cost_allocation a
				  WHERE a.year = p_year AND a.basis = p_basis::text
				  GROUP BY a.entry_key) a USING (entry_key)
	 WHERE e.year = p_year AND e.basis = p_basis
	   AND a.routed IS DISTINCT FROM e.amount;
	IF unrouted IS NOT NULL THEN
		RAISE EXCEPTION USING
			ERRCODE = 'object_not_in_prerequisite_state',
			MESSAGE = format('%s cost entries of %s cannot be routed', p_basis, p_year),
			DETAIL = format('Entries without a payer: %s.', unrouted),
			HINT = 'Establishment needs a consumer system or a service with orderers.';
	END IF;
	INSERT INTO @extschema@.cost_line (entry_key, year, cost_type, basis, route, payer_code, amount)
	/* the view speaks varchar (SPEC §6); the ledger keeps the enums */
	SELECT a.entry_key, a.year, a.cost_type::@extschema@.cost_type, a.basis::@extschema@.cost_basis,
		   a.route::@extschema@.route, a.payer_code, a.amount
	  FROM @extschema@.cost_allocation a
	 WHERE a.year = p_year AND a.basis = p_basis::text
	   AND a.amount <> 0;
	GET DIAGNOSTICS n = ROW_COUNT;
	RETURN n;
END
$$;
COMMENT ON FUNCTION @extschema@.fixed_cost_lines(integer, @extschema@.cost_basis) IS
	'Fixes the routing of a year''s expected (at announcement) or actual (at close) cost entries into cost_line; refuses entries that cannot be routed in full';

CREATE FUNCTION @extschema@.month_tariff(p_from date, p_to date)
RETURNS TABLE (service_code text, period date, tariff_from date, unit_price numeric)
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
/* a few months x services, but estimated at 1000 x 780 rows: JIT costs ~0.3 s a call */
SET jit = off
AS $$
	SELECT s.code, m.period::date, t.tariff_from, t.unit_price
	  FROM @extschema@.service s
	 CROSS JOIN generate_series(p_from, p_to, interval '1 month') AS m(period)
	  LEFT JOIN LATERAL (
			SELECT @extschema@.tariff_effective_month(t.valid_from) AS tariff_from, t.unit_price
			  FROM @extschema@.tariff t
			 WHERE t.service_code = s.code
			   AND @extschema@.tariff_effective_month(t.valid_from) <= m.period
			 ORDER BY t.valid_from DESC
			 LIMIT 1) t ON true
$$;
COMMENT ON FUNCTION @extschema@.month_tariff(date, date) IS
	'Tariff in force (takst) for every service and month from p_from to p_to: the latest tariff whose effective month is not after the month; null where the service has none';
REVOKE ALL ON FUNCTION @extschema@.month_tariff(date, date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.month_tariff(date, date) TO afregning_admin, afregning_reader;
