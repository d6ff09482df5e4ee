
/* ------------------------------------------------------------------
 * Pricing and the year lifecycle (SPEC R1-R3, R9, R10, §5, S6-S9)
 * ------------------------------------------------------------------ */

/* Lock a billing year row for a settlement step, or refuse an unknown year. */
CREATE FUNCTION @extschema@.lock_year(p_year integer)
RETURNS @extschema@.billing_year
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	y @extschema@.billing_year;
BEGIN
	IF p_year IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed',
			MESSAGE = 'billing year must not be null';
	END IF;
	/*
	 * A second settlement of the same year waits here for the first; under
	 * READ COMMITTED it then reads the row as the first left it.  Under
	 * REPEATABLE READ or SERIALIZABLE a row changed since this transaction's
	 * snapshot (announced, closed, or touched by a close carrying into it)
	 * cannot be locked: 40001, retry.
	 */
	BEGIN
		SELECT * INTO y FROM @extschema@.billing_year b WHERE b.year = p_year FOR UPDATE;
	EXCEPTION WHEN serialization_failure THEN
		RAISE EXCEPTION USING
			ERRCODE = 'serialization_failure',
			MESSAGE = format('billing year %s was changed by a concurrent transaction', p_year),
			DETAIL = 'This transaction''s snapshot was taken before that change committed.',
			HINT = 'Retry the transaction.';
	END;
	IF NOT FOUND THEN
		RAISE EXCEPTION USING
			ERRCODE = 'invalid_parameter_value',
			MESSAGE = format('billing year %s does not exist', p_year),
			HINT = 'Create it first: INSERT INTO afregning.billing_year (year) VALUES (...).';
	END IF;
	RETURN y;
END
$$;
COMMENT ON FUNCTION @extschema@.lock_year(integer) IS
	'Locks a billing year row for announcement or close (so concurrent runs serialise); 22023 for an unknown year, 40001 when the row changed after this transaction''s snapshot';

/*
 * Lock a year that a close may carry its difference into (R9, S7),
 * creating it open if it has no row yet, and say whether it is still open.
 * The status is read from the locked row: an announcement that committed
 * while we waited makes the year no target (READ COMMITTED), or fails the
 * lock with 40001 (REPEATABLE READ, SERIALIZABLE).  A year that stays a
 * target gets a new row version, so an announcement whose snapshot
 * predates this close fails its lock with 40001 rather than miss the carry.
 */
CREATE FUNCTION @extschema@.lock_carry_target(p_year integer)
RETURNS boolean
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	y @extschema@.billing_year;
BEGIN
	IF NOT EXISTS (SELECT 1 FROM @extschema@.billing_year b WHERE b.year = p_year) THEN
		/* a concurrent close creating the same year is waited for */
		INSERT INTO @extschema@.billing_year AS b (year) VALUES (p_year)
			ON CONFLICT (year) DO NOTHING;
	END IF;
	y := @extschema@.lock_year(p_year);
	IF y.status <> 'open' THEN
		RETURN false;
	END IF;
	UPDATE @extschema@.billing_year b SET year = b.year WHERE b.year = p_year;
	RETURN true;
END
$$;
COMMENT ON FUNCTION @extschema@.lock_carry_target(integer) IS
	'Internal: locks (creating it if missing) a year a closing year may carry into, and returns whether it is still open after the lock';

/*
 * Move a year to its next status; the guard trigger only lets this through.
 * In C: it raises a flag for its own UPDATE that no session can forge
 * (ddl_guard.c); executable by the extension's owner only.
 */
CREATE FUNCTION @extschema@.set_year_status(p_year integer, p_status @extschema@.year_status)
RETURNS void
AS 'MODULE_PATHNAME', 'set_year_status'
LANGUAGE C VOLATILE
SET search_path = pg_catalog, pg_temp;
COMMENT ON FUNCTION @extschema@.set_year_status(integer, @extschema@.year_status) IS
	'Internal: moves a billing year to its next status on behalf of announce_price() and close_year()';

CREATE FUNCTION @extschema@.preview_price(p_year integer,
	OUT year integer, OUT expected_pool numeric, OUT carry_in numeric,
	OUT pool numeric, OUT citizens bigint, OUT price numeric)
RETURNS record
LANGUAGE plpgsql STABLE PARALLEL SAFE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	y @extschema@.billing_year;
BEGIN
	SELECT * INTO y FROM @extschema@.billing_year b WHERE b.year = p_year;
	IF NOT FOUND THEN
		RAISE EXCEPTION USING
			ERRCODE = 'invalid_parameter_value',
			MESSAGE = format('billing year %s does not exist', p_year),
			HINT = format('Create it first: INSERT INTO afregning.billing_year (year) VALUES (%s).', p_year);
	END IF;
	year := p_year;
	IF y.status <> 'open' THEN
		/* S8: the announced figures, never recomputed */
		SELECT a.expected_pool, a.carry_in, a.pool, a.citizens, a.price
		  INTO expected_pool, carry_in, pool, citizens, price
		  FROM @extschema@.price_announcement a WHERE a.year = p_year;
		RETURN;
	END IF;
	SELECT coalesce(sum(a.amount), 0)::numeric(14,2) INTO expected_pool
	  FROM @extschema@.cost_allocation a
	 WHERE a.year = p_year AND a.basis = 'expected' AND a.route = 'pool';
	SELECT coalesce(sum(c.amount), 0)::numeric(14,2) INTO carry_in
	  FROM @extschema@.carry_posting c WHERE c.to_year = p_year;
	pool := expected_pool + carry_in;
	SELECT coalesce(sum(p.citizens), 0) INTO citizens
	  FROM @extschema@.population p WHERE p.year = p_year;
	price := CASE WHEN citizens > 0
				  THEN @extschema@.per_citizen_price(pool, citizens, y.price_decimals) END;
END
$$;
COMMENT ON FUNCTION @extschema@.preview_price(integer) IS
	'Buffet price of a year (buffetpris): expected pool-routed costs plus carry-in, divided by all citizens and rounded half away from zero; locked figures once announced; price null while no population is loaded';
REVOKE ALL ON FUNCTION @extschema@.preview_price(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.preview_price(integer) TO afregning_admin, afregning_reader, afregning_municipality;

/*
 * A settlement step locks its billing year, and the guards of cost
 * entries and population lock it FOR SHARE: the step waits for rows still
 * being written into its year.  Under REPEATABLE READ the step's snapshot
 * predates that wait, so it asks whether it still sees those tables as
 * they stand, and refuses (40001) rather than miss a committed row.
 */
CREATE FUNCTION @extschema@.relation_snapshot_current(p_table regclass)
RETURNS boolean
AS 'MODULE_PATHNAME', 'relation_snapshot_current'
LANGUAGE C VOLATILE STRICT;
COMMENT ON FUNCTION @extschema@.relation_snapshot_current(regclass) IS
	'Internal: whether this transaction''s snapshot sees a small table as it stands now (always true under READ COMMITTED); announce_price() and close_year() refuse with 40001 otherwise';
REVOKE ALL ON FUNCTION @extschema@.relation_snapshot_current(regclass) FROM PUBLIC;

CREATE FUNCTION @extschema@.refuse_stale_snapshot(p_year integer, p_step text, p_tables regclass[])
RETURNS void
LANGUAGE plpgsql VOLATILE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	t regclass;
BEGIN
	FOREACH t IN ARRAY p_tables
	LOOP
		IF NOT @extschema@.relation_snapshot_current(t) THEN
			RAISE EXCEPTION USING
				ERRCODE = 'serialization_failure',
				MESSAGE = format('cannot %s %s: %s changed after this transaction''s snapshot', p_step, p_year, t),
				DETAIL = 'Rows committed while this step waited for its billing year would be missed.',
				HINT = 'Retry the transaction.';
		END IF;
	END LOOP;
END
$$;
COMMENT ON FUNCTION @extschema@.refuse_stale_snapshot(integer, text, regclass[]) IS
	'Internal: raises 40001 when one of the tables (cost entries, population, baselines, usage batches) changed after the snapshot of an announce or close that waited for its year';
REVOKE ALL ON FUNCTION @extschema@.refuse_stale_snapshot(integer, text, regclass[]) FROM PUBLIC;

CREATE FUNCTION @extschema@.announce_price(p_year integer)
RETURNS numeric
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	y @extschema@.billing_year := @extschema@.lock_year(p_year);
	prior @extschema@.billing_year;
	missing text;
	n_missing integer;
	pv record;
	v_run bigint := @extschema@.log_step_start('announce_price'::text, make_date(p_year, 1, 1));
	n bigint;
	n_invoices integer;
BEGIN
	IF y.status <> 'open' THEN
		RETURN (SELECT a.price FROM @extschema@.price_announcement a WHERE a.year = p_year);
	END IF;
	PERFORM @extschema@.refuse_stale_snapshot(p_year, 'announce'::text,
		ARRAY['@extschema@.cost_entry'::regclass, '@extschema@.population'::regclass]);

	SELECT * INTO prior FROM @extschema@.billing_year b WHERE b.year = p_year - y.carry_lag;
	IF FOUND AND prior.status <> 'closed' THEN
		RAISE EXCEPTION USING
			ERRCODE = 'object_not_in_prerequisite_state',
			MESSAGE = format('cannot announce %s before %s is closed', p_year, prior.year),
			DETAIL = format('The price of %s absorbs the difference of %s (carry_lag %s).',
							p_year, prior.year, y.carry_lag),
			HINT = format('Close %s first with afregning.close_year(%s).', prior.year, prior.year);
	END IF;

	SELECT count(*), string_agg(m.code, ', ' ORDER BY m.code) FILTER (WHERE rn <= 10)
	  INTO n_missing, missing
	  FROM (SELECT m.code, row_number() OVER (ORDER BY m.code) AS rn
			  FROM @extschema@.municipality m
			 WHERE NOT EXISTS (SELECT 1 FROM @extschema@.population p
							   WHERE p.year = p_year AND p.municipality_code = m.code)) m;
	IF n_missing > 0 THEN
		RAISE EXCEPTION USING
			ERRCODE = 'object_not_in_prerequisite_state',
			MESSAGE = format('population of %s is missing for %s %s', p_year, n_missing,
							 CASE WHEN n_missing = 1 THEN 'municipality' ELSE 'municipalities' END),
			DETAIL = format('No citizens for: %s.', missing),
			HINT = 'Load afregning.population for every municipality of the year.';
	END IF;

	pv := @extschema@.preview_price(p_year);
	PERFORM @extschema@.report_phase('announce_price'::text, 'price'::text, NULL::bigint);
	IF pv.citizens = 0 THEN
		RAISE EXCEPTION USING
			ERRCODE = 'object_not_in_prerequisite_state',
			MESSAGE = format('year %s has no citizens', p_year),
			HINT = 'Load municipalities and their population first.';
	END IF;

	IF pv.pool <= 0 THEN
		RAISE NOTICE USING
			MESSAGE = format('the pool of %s is %s: price %s', p_year, pv.pool, pv.price),
			DETAIL = format('Expected pool %s + carry-in %s = pool %s over %s citizens.',
							pv.expected_pool, pv.carry_in, pv.pool, pv.citizens),
			HINT = 'A pool of zero or less is billed at price 0; what it does not recover is carried forward when the year closes (R9).';
	END IF;

	INSERT INTO @extschema@.price_announcement
		(year, expected_pool, carry_in, pool, citizens, price)
	VALUES (p_year, pv.expected_pool, pv.carry_in, pv.pool, pv.citizens, pv.price);
	PERFORM @extschema@.fixed_cost_lines(p_year, 'expected'::@extschema@.cost_basis);
	INSERT INTO @extschema@.buffet_invoice (year, municipality_code, citizens, price, amount)
	SELECT p_year, p.municipality_code, p.citizens, pv.price, pv.price * p.citizens
	  FROM @extschema@.population p WHERE p.year = p_year;
	GET DIAGNOSTICS n_invoices = ROW_COUNT;
	PERFORM @extschema@.report_phase('announce_price'::text, 'buffet invoices'::text, n_invoices::bigint);
	/* S12: four installments, Q1 first on ties (apportion's key order) */
	INSERT INTO @extschema@.installment (year, municipality_code, quarter, due_date, amount)
	SELECT i.year, i.municipality_code, q,
		   make_date(i.year, 3 * q - 2, 1),
		   @extschema@.apportion(i.amount::numeric, 1::numeric)
			   OVER (PARTITION BY i.municipality_code ORDER BY q)
	  FROM @extschema@.buffet_invoice i
	 CROSS JOIN generate_series(1, 4) AS q
	 WHERE i.year = p_year;
	GET DIAGNOSTICS n = ROW_COUNT;
	PERFORM @extschema@.report_phase('announce_price'::text, 'installments'::text, n);
	n := @extschema@.post_schedule_charges(p_year);
	PERFORM @extschema@.report_phase('announce_price'::text, 'graduated charges'::text, n);
	PERFORM @extschema@.set_year_status(p_year, 'announced'::@extschema@.year_status);
	PERFORM @extschema@.log_step_end(v_run, pv.price::text, n_invoices);
	RETURN pv.price;
END
$$;
COMMENT ON FUNCTION @extschema@.announce_price(integer) IS
	'Announces (udmelder) and locks the buffet price of a year: writes the price, one buffet invoice per municipality with four quarterly installments, and the graduated charges; a second call returns the locked price';
REVOKE ALL ON FUNCTION @extschema@.announce_price(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.announce_price(integer) TO afregning_admin;

CREATE FUNCTION @extschema@.close_year(p_year integer, force boolean DEFAULT false)
RETURNS numeric
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	y @extschema@.billing_year := @extschema@.lock_year(p_year);
	a @extschema@.price_announcement;
	v_actual numeric;
	v_billed numeric;
	v_diff numeric;
	target integer;
	targets integer[] := '{}';
	/* the year ends at midnight in Denmark, whatever the session's time zone */
	today date := (now() AT TIME ZONE 'Europe/Copenhagen')::date;
	v_run bigint := @extschema@.log_step_start('close_year'::text, make_date(p_year, 1, 1));
	n bigint;
	n_usage integer;
	v_message text;
	v_detail text;
	v_hint text;
BEGIN
	IF y.status = 'closed' THEN
		RETURN (SELECT c.difference FROM @extschema@.year_close c WHERE c.year = p_year);
	ELSIF y.status = 'open' THEN
		RAISE EXCEPTION USING
			ERRCODE = 'object_not_in_prerequisite_state',
			MESSAGE = format('cannot close %s before its price is announced', p_year),
			HINT = format('Announce it first with afregning.announce_price(%s).', p_year);
	END IF;

	/* S16: a year closes once it has ended and its actual costs are booked */
	IF NOT coalesce(force, false) THEN
		IF today < make_date(p_year + 1, 1, 1) THEN
			RAISE EXCEPTION USING
				ERRCODE = 'object_not_in_prerequisite_state',
				MESSAGE = format('cannot close %s before it has ended', p_year),
				DETAIL = format('Today is %s (Europe/Copenhagen); %s ends on %s.', today, p_year,
								make_date(p_year, 12, 31)),
				HINT = format('Close it from %s, or call afregning.close_year(%s, force => true) to close it now.',
							  make_date(p_year + 1, 1, 1), p_year);
		END IF;
		IF NOT EXISTS (SELECT 1 FROM @extschema@.cost_entry e
						WHERE e.year = p_year AND e.basis = 'actual') THEN
			RAISE EXCEPTION USING
				ERRCODE = 'object_not_in_prerequisite_state',
				MESSAGE = format('cannot close %s without actual costs', p_year),
				DETAIL = format('No actual cost entry is booked for %s.', p_year),
				HINT = format('Book the year''s actual costs first, or call afregning.close_year(%s, force => true) if it really has none.', p_year);
		END IF;
	END IF;

	/* no usage may arrive while the year is being rated */
	EXECUTE format('LOCK TABLE %I.%I IN SHARE MODE', '@extschema@', @extschema@.usage_partition(p_year));
	/*
	 * Under REPEATABLE READ the snapshot predates that lock and the wait for
	 * the year: it must see every entry, baseline and load committed before
	 * them.  A batch's rows are loaded by the transaction that registered it
	 * (S11), so a load it cannot see shows as a usage_batch row it cannot see.
	 */
	PERFORM @extschema@.refuse_stale_snapshot(p_year, 'close'::text,
		ARRAY['@extschema@.cost_entry'::regclass, '@extschema@.baseline'::regclass,
			  '@extschema@.usage_batch'::regclass]);

	BEGIN
		n := @extschema@.fixed_cost_lines(p_year, 'actual'::@extschema@.cost_basis);
		PERFORM @extschema@.report_phase('close_year'::text, 'actual cost lines'::text, n);
		/* the one read of the year's usage */
		INSERT INTO @extschema@.usage_line
			(year, route, payer_code, service_code, period, tariff_from, unit_price, calls, amount)
		SELECT p_year, r.route, r.payer_code, r.service_code, r.period, r.tariff_from,
			   r.unit_price, r.calls, r.amount
		  FROM @extschema@.rated_usage(p_year) r;
		GET DIAGNOSTICS n_usage = ROW_COUNT;
		PERFORM @extschema@.report_phase('close_year'::text, 'rating usage'::text, n_usage::bigint);

		/* S9: per-call charges of every month are completed before the year
		 * locks, from the municipality lines just rated */
		SELECT count(*) INTO n
		  FROM @extschema@.post_direct(make_date(p_year, 1, 1), make_date(p_year, 12, 1), true);
		PERFORM @extschema@.report_phase('close_year'::text, 'per-call charges'::text, n);
	EXCEPTION WHEN object_not_in_prerequisite_state THEN
		/* a missing tariff or an unroutable entry, raised deep in the rating
		 * pipeline: say it here, without its SQL as context */
		GET STACKED DIAGNOSTICS v_message = MESSAGE_TEXT, v_detail = PG_EXCEPTION_DETAIL,
			v_hint = PG_EXCEPTION_HINT;
		RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
			MESSAGE = v_message, DETAIL = v_detail, HINT = v_hint;
	END;

	SELECT * INTO a FROM @extschema@.price_announcement pa WHERE pa.year = p_year;
	/* S6: actual pool = actual entries routed to the pool + rated pool usage */
	v_actual := (SELECT coalesce(sum(l.amount), 0) FROM @extschema@.cost_line l
				  WHERE l.year = p_year AND l.basis = 'actual' AND l.route = 'pool')
			  + (SELECT coalesce(sum(u.amount), 0) FROM @extschema@.usage_line u
				  WHERE u.year = p_year AND u.route = 'pool');
	v_billed := (SELECT coalesce(sum(i.amount), 0) FROM @extschema@.buffet_invoice i
				  WHERE i.year = p_year);
	v_diff := v_actual + a.carry_in - v_billed;

	/*
	 * R9, S7: the first year >= year + carry_lag that is still open, or with
	 * smoothing the first carry_spread such years; a missing year is created.
	 * Candidates are locked in ascending order and judged by their locked
	 * row, so a year announced meanwhile is passed over for the next open
	 * one, and an announcement still to come waits for this close and then
	 * counts its carry in.
	 */
	target := p_year + y.carry_lag;
	WHILE cardinality(targets) < y.carry_spread
	LOOP
		IF target > 2999 THEN
			RAISE EXCEPTION USING
				ERRCODE = 'object_not_in_prerequisite_state',
				MESSAGE = format('no open year after %s to carry the difference of %s into', p_year, p_year),
				HINT = 'Billing years run to 2999.';
		END IF;
		IF @extschema@.year_status(target) = 'open'
		   AND @extschema@.lock_carry_target(target) THEN
			targets := targets || target;
		END IF;
		target := target + 1;
	END LOOP;

	INSERT INTO @extschema@.year_close (year, actual_pool, carry_in, billed, difference, to_year)
	VALUES (p_year, v_actual, a.carry_in, v_billed, v_diff, targets[1]);
	/* R10: the parts sum exactly to the difference; the earliest year takes the odd øre */
	INSERT INTO @extschema@.carry_posting (from_year, to_year, amount)
	SELECT p_year, t, @extschema@.apportion(v_diff::numeric, 1::numeric) OVER (ORDER BY t)
	  FROM unnest(targets) AS t;
	GET DIAGNOSTICS n = ROW_COUNT;
	PERFORM @extschema@.report_phase('close_year'::text, 'carry-forward'::text, n);
	PERFORM @extschema@.set_year_status(p_year, 'closed'::@extschema@.year_status);
	PERFORM @extschema@.log_step_end(v_run, v_diff::text, n_usage);
	RETURN v_diff;
END
$$;
COMMENT ON FUNCTION @extschema@.close_year(integer, boolean) IS
	'Closes (afslutter) an announced year: posts outstanding per-call charges, rates the year''s usage, fixes the actual pool and carries the difference (actual pool + carry-in - billed) into the first open year >= year + carry_lag; returns that difference, also on a second call. Refused (55000) before the year has ended (Europe/Copenhagen) or while it has no actual cost entry, unless force => true (S16)';
REVOKE ALL ON FUNCTION @extschema@.close_year(integer, boolean) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.close_year(integer, boolean) TO afregning_admin;

CREATE FUNCTION @extschema@.explain_price(p_year integer)
RETURNS TABLE (line integer, item text, amount numeric)
LANGUAGE plpgsql STABLE PARALLEL SAFE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	pv record := @extschema@.preview_price(p_year);
	st @extschema@.year_status := @extschema@.year_status(p_year);
	/* one line per cost type, then the lines below, numbered on from there */
	types integer := cardinality(@extschema@.labels('cost_type'::text));
BEGIN
	/* the cost-type lines and carry_in add up exactly to the pool line */
	RETURN QUERY
	SELECT ct.n::integer, ct.name,
		   coalesce((SELECT sum(x.amount)::numeric(14,2) FROM (
						SELECT l.amount FROM @extschema@.cost_line l
						 WHERE st <> 'open' AND l.year = p_year AND l.basis = 'expected'
						   AND l.route = 'pool' AND l.cost_type = ct.name
						UNION ALL
						SELECT a.amount FROM @extschema@.cost_allocation a
						 WHERE st = 'open' AND a.year = p_year AND a.basis = 'expected'
						   AND a.route = 'pool' AND a.cost_type = ct.name) x), 0.00)
	  FROM unnest(@extschema@.labels('cost_type'::text)) WITH ORDINALITY AS ct(name, n)
	 ORDER BY ct.n;
	line := types + 1; item := 'carry_in'; amount := pv.carry_in; RETURN NEXT;
	line := types + 2; item := 'pool'; amount := pv.pool; RETURN NEXT;
	line := types + 3; item := 'citizens'; amount := pv.citizens; RETURN NEXT;
	line := types + 4; item := 'price_unrounded';
	amount := CASE WHEN pv.citizens > 0 THEN round(pv.pool / pv.citizens, 10) END; RETURN NEXT;
	line := types + 5; item := 'price'; amount := pv.price; RETURN NEXT;
	line := types + 6; item := 'billed'; amount := pv.price * pv.citizens; RETURN NEXT;
	line := types + 7; item := 'rounding_residual'; amount := pv.pool - pv.price * pv.citizens; RETURN NEXT;
END
$$;
COMMENT ON FUNCTION @extschema@.explain_price(integer) IS
	'Waterfall of a year''s buffet price (prisudregning): expected pool by cost type, carry-in, pool, citizens, unrounded and rounded price, billed amount and the rounding residual that is carried forward at close';
REVOKE ALL ON FUNCTION @extschema@.explain_price(integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.explain_price(integer) TO afregning_admin, afregning_reader, afregning_municipality;
