
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
	k text;
	v jsonb;
	delta numeric := 0;
BEGIN
	IF p_adjustments IS NULL OR jsonb_typeof(p_adjustments) <> 'object' THEN
		RAISE EXCEPTION USING
			ERRCODE = 'invalid_parameter_value',
			MESSAGE = 'adjustments must be a JSON object of cost type to amount',
			HINT = 'E.g. ''{"data_consumption": 250000, "operations": -50000}''.';
	END IF;
	FOR k, v IN SELECT * FROM jsonb_each(p_adjustments)
	LOOP
		IF NOT k = ANY (enum_range(NULL::@extschema@.cost_type)::text[]) THEN
			RAISE EXCEPTION USING
				ERRCODE = 'invalid_parameter_value',
				MESSAGE = format('unknown cost type %s in adjustments', k),
				HINT = format('Use one of %s.', array_to_string(enum_range(NULL::@extschema@.cost_type)::text[], ', '));
		END IF;
		IF jsonb_typeof(v) <> 'number' THEN
			RAISE EXCEPTION USING
				ERRCODE = 'invalid_parameter_value',
				MESSAGE = format('adjustment of %s must be a number of DKK', k);
		END IF;
		delta := delta + round((v #>> '{}')::numeric, 2);
	END LOOP;
	IF p_citizens IS NOT NULL AND p_citizens <= 0 THEN
		RAISE EXCEPTION USING
			ERRCODE = 'invalid_parameter_value',
			MESSAGE = 'citizens must be positive';
	END IF;

	year := p_year;
	/* an adjustment is a change of the pool-routed expected costs of that type */
	expected_pool := base.expected_pool + delta;
	carry_in := base.carry_in;
	pool := expected_pool + carry_in;
	citizens := coalesce(p_citizens, base.citizens);
	price := CASE WHEN citizens > 0 THEN @extschema@.per_citizen_price(pool, citizens, decimals) END;
	price_change := price - base.price;
END
$$;
COMMENT ON FUNCTION @extschema@.what_if_price(integer, jsonb, bigint) IS
	'What-if (hvad nu hvis) preview of a year''s buffet price: pool-routed expected costs changed by cost type ({"cost_type": DKK, ...}) and optionally another citizen count; writes nothing';

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

	RETURN QUERY
	SELECT t, round(mean_y + slope * (t - mean_x), 2),
		   coalesce((SELECT sum(c.amount) FROM @extschema@.carry_posting c WHERE c.to_year = t), 0),
		   round(mean_y + slope * (t - mean_x), 2)
		   + coalesce((SELECT sum(c.amount) FROM @extschema@.carry_posting c WHERE c.to_year = t), 0),
		   pop,
		   @extschema@.per_citizen_price(
			   round(mean_y + slope * (t - mean_x), 2)
			   + coalesce((SELECT sum(c.amount) FROM @extschema@.carry_posting c WHERE c.to_year = t), 0),
			   pop, 2)
	  FROM generate_series(last_closed + 1, last_closed + p_years) AS t;
END
$$;
COMMENT ON FUNCTION @extschema@.forecast_price(integer) IS
	'Forecast (prognose) of the buffet price of the years after the last closed one, from the linear trend of actual pool costs, the carry-forwards already posted and the latest population; for municipal budgets, not a commitment';
