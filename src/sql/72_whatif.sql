
/* ------------------------------------------------------------------
 * Budgeting aids (SPEC §9): what-if previews and a price forecast.
 * Both only read; nothing is written.
 * ------------------------------------------------------------------ */

CREATE FUNCTION @extschema@.what_if_price(p_year integer,
	p_adjustments jsonb DEFAULT '{}',
	p_citizens bigint DEFAULT NULL,
	OUT year integer, OUT expected_pool numeric, OUT carry_in numeric,
	OUT pool numeric, OUT citizens bigint, OUT price numeric, OUT price_change numeric)
RETURNS record
LANGUAGE plpgsql STABLE PARALLEL SAFE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	base record := @extschema@.preview_price(p_year);
	decimals integer := (SELECT b.price_decimals FROM @extschema@.billing_year b WHERE b.year = p_year);
	cost_types text[] := @extschema@.labels('cost_type'::text);
	k text;
	v jsonb;
	item jsonb;
	i integer := 0;
	adj_type text[] := '{}';
	adj_service text[] := '{}';
	adj_system text[] := '{}';
	adj_amount numeric[] := '{}';
	delta numeric;
BEGIN
	/*
	 * Two forms: {"cost_type": DKK, ...}, an entry of that type naming no
	 * service or system, or [{"cost_type": ..., "amount": DKK,
	 * "service_code": ..., "system_code": ...}, ...], entries like real
	 * cost entries.  Either way each adjustment is routed as an expected
	 * cost entry would be (SPEC S14), so only its pool-routed part moves
	 * the price: establishment never does, operations of a service are
	 * split over its orderers by share, and so on.
	 */
	IF jsonb_typeof(p_adjustments) = 'object' THEN
		FOR k, v IN SELECT * FROM jsonb_each(p_adjustments)
		LOOP
			adj_type := adj_type || k;
			adj_service := adj_service || NULL::text;
			adj_system := adj_system || NULL::text;
			IF jsonb_typeof(v) <> 'number' THEN
				RAISE EXCEPTION USING
					ERRCODE = 'invalid_parameter_value',
					MESSAGE = format('adjustment of %s must be a number of DKK', k);
			END IF;
			adj_amount := adj_amount || (v #>> '{}')::numeric;
		END LOOP;
	ELSIF jsonb_typeof(p_adjustments) = 'array' THEN
		FOR item IN SELECT * FROM jsonb_array_elements(p_adjustments)
		LOOP
			i := i + 1;
			IF jsonb_typeof(item) <> 'object'
			   OR jsonb_typeof(item -> 'cost_type') IS DISTINCT FROM 'string'
			   OR jsonb_typeof(item -> 'amount') IS DISTINCT FROM 'number'
			   OR coalesce(jsonb_typeof(item -> 'service_code'), 'null') NOT IN ('string', 'null')
			   OR coalesce(jsonb_typeof(item -> 'system_code'), 'null') NOT IN ('string', 'null')
			   OR EXISTS (SELECT 1 FROM jsonb_object_keys(item) AS o(key)
						  WHERE o.key NOT IN ('cost_type', 'amount', 'service_code', 'system_code')) THEN
				RAISE EXCEPTION USING
					ERRCODE = 'invalid_parameter_value',
					MESSAGE = format('adjustment %s must be an object with a cost_type and a number amount', i),
					DETAIL = format('It is %s.', item),
					HINT = 'E.g. ''[{"cost_type": "operations", "service_code": "ORG", "amount": 250000}]''; service_code and system_code are optional.';
			END IF;
			adj_type := adj_type || (item ->> 'cost_type');
			adj_service := adj_service || (item ->> 'service_code');
			adj_system := adj_system || (item ->> 'system_code');
			adj_amount := adj_amount || (item ->> 'amount')::numeric;
			IF (item ->> 'service_code') IS NOT NULL
			   AND NOT EXISTS (SELECT 1 FROM @extschema@.service s WHERE s.code = item ->> 'service_code') THEN
				RAISE EXCEPTION USING
					ERRCODE = 'invalid_parameter_value',
					MESSAGE = format('unknown service %s in adjustment %s', item ->> 'service_code', i);
			END IF;
			IF (item ->> 'system_code') IS NOT NULL
			   AND NOT EXISTS (SELECT 1 FROM @extschema@.consumer_system c WHERE c.code = item ->> 'system_code') THEN
				RAISE EXCEPTION USING
					ERRCODE = 'invalid_parameter_value',
					MESSAGE = format('unknown consumer system %s in adjustment %s', item ->> 'system_code', i);
			END IF;
		END LOOP;
	ELSE
		RAISE EXCEPTION USING
			ERRCODE = 'invalid_parameter_value',
			MESSAGE = 'adjustments must be a JSON object of cost type to amount, or an array of adjustment objects',
			HINT = 'E.g. ''{"data_consumption": 250000, "operations": -50000}''.';
	END IF;
	FOREACH k IN ARRAY adj_type
	LOOP
		IF NOT k = ANY (cost_types) THEN
			RAISE EXCEPTION USING
				ERRCODE = 'invalid_parameter_value',
				MESSAGE = format('unknown cost type %s in adjustments', k),
				HINT = format('Use one of %s.', array_to_string(cost_types, ', '));
		END IF;
	END LOOP;
	IF p_citizens IS NOT NULL AND p_citizens <= 0 THEN
		RAISE EXCEPTION USING
			ERRCODE = 'invalid_parameter_value',
			MESSAGE = 'citizens must be positive';
	END IF;

	/*
	 * The pool-routed part of the adjustments, by the same matrix as the
	 * cost entries (amounts rounded half away from zero to øre, as
	 * apportion does).
	 */
	SELECT coalesce(sum(r.amount), 0) INTO delta
	  FROM @extschema@.route_costs(
			ARRAY(SELECT g::text FROM generate_series(1, cardinality(adj_type)) g),
			adj_type::@extschema@.cost_type[], adj_service, adj_system,
			ARRAY(SELECT round(x, 2) FROM unnest(adj_amount) WITH ORDINALITY AS u(x, n) ORDER BY n)) r
	 WHERE r.route = 'pool';

	year := p_year;
	/* an adjustment changes the expected costs; its pool-routed part, the pool */
	expected_pool := base.expected_pool + delta;
	carry_in := base.carry_in;
	pool := expected_pool + carry_in;
	citizens := coalesce(p_citizens, base.citizens);
	price := CASE WHEN citizens > 0 THEN @extschema@.per_citizen_price(pool::numeric, citizens::bigint, decimals::integer) END;
	price_change := price - base.price;
END
$$;
COMMENT ON FUNCTION @extschema@.what_if_price(integer, jsonb, bigint) IS
	'What-if (hvad nu hvis) preview of a year''s buffet price under changed expected costs and optionally another citizen count; writes nothing. Adjustments are {"cost_type": DKK, ...} or [{"cost_type": ..., "amount": DKK, "service_code": ..., "system_code": ...}, ...], and each is routed like an expected cost entry (SPEC S14): only its pool-routed part changes the pool, so establishment never does and operations of a service are split over its orderers';
REVOKE ALL ON FUNCTION @extschema@.what_if_price(integer, jsonb, bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.what_if_price(integer, jsonb, bigint) TO afregning_admin, afregning_reader, afregning_municipality;

CREATE FUNCTION @extschema@.forecast_price(p_years integer DEFAULT 3)
RETURNS TABLE (year integer, forecast_pool numeric, carry_in numeric, pool numeric,
			   citizens bigint, price numeric)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	n integer;
	mean_x numeric;
	mean_y numeric;
	slope numeric;
	last_closed integer;
	pop bigint;
	t integer;
	locked @extschema@.price_announcement;
	decimals integer;
BEGIN
	IF p_years IS NULL OR p_years NOT BETWEEN 1 AND 10 THEN
		RAISE EXCEPTION USING
			ERRCODE = 'invalid_parameter_value',
			MESSAGE = 'forecast horizon must be 1 to 10 years';
	END IF;
	SELECT count(*), avg(c.year), avg(c.actual_pool), max(c.year)
	  INTO n, mean_x, mean_y, last_closed
	  FROM @extschema@.year_close c;
	IF n < 2 THEN
		RAISE EXCEPTION USING
			ERRCODE = 'object_not_in_prerequisite_state',
			MESSAGE = 'a forecast needs at least two closed years',
			DETAIL = format('%s closed year(s) so far.', n);
	END IF;
	/* least-squares trend of the actual pool, in exact numeric */
	SELECT sum((c.year - mean_x) * (c.actual_pool - mean_y)) / sum((c.year - mean_x) ^ 2)
	  INTO slope
	  FROM @extschema@.year_close c;
	/* the latest population known stands in for later years */
	SELECT sum(p.citizens) INTO pop
	  FROM @extschema@.population p
	 WHERE p.year = (SELECT max(p2.year) FROM @extschema@.population p2);

	FOR t IN last_closed + 1 .. last_closed + p_years
	LOOP
		year := t;
		SELECT * INTO locked FROM @extschema@.price_announcement a WHERE a.year = t;
		IF FOUND THEN
			/* S14: an announced (or closed) year has its locked price */
			forecast_pool := locked.expected_pool;
			carry_in := locked.carry_in;
			pool := locked.pool;
			citizens := locked.citizens;
			price := locked.price;
		ELSE
			forecast_pool := round(mean_y + slope * (t - mean_x), 2);
			carry_in := coalesce((SELECT sum(c.amount) FROM @extschema@.carry_posting c
								   WHERE c.to_year = t), 0);
			pool := forecast_pool + carry_in;
			citizens := pop;
			/* the year's own setting; a year without a row yet gets the default */
			decimals := coalesce((SELECT b.price_decimals FROM @extschema@.billing_year b
								   WHERE b.year = t), 2);
			price := @extschema@.per_citizen_price(pool::numeric, pop::bigint, decimals::integer);
		END IF;
		RETURN NEXT;
	END LOOP;
END
$$;
COMMENT ON FUNCTION @extschema@.forecast_price(integer) IS
	'Forecast (prognose) of the buffet price of the years after the last closed one, for municipal budgets, not a commitment: an announced year shows its locked price (SPEC S14); an open year the linear trend of actual pool costs plus the carry-forwards already posted, over the latest population, rounded to the year''s price_decimals';
REVOKE ALL ON FUNCTION @extschema@.forecast_price(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.forecast_price(integer) TO afregning_admin, afregning_reader, afregning_municipality;
