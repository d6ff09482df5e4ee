
/* ------------------------------------------------------------------
 * Direct charges: per-call billing of municipalities (SPEC R7, S3, S9,
 * S10) and graduated per-citizen charges (R11)
 * ------------------------------------------------------------------ */

/*
 * One row per month that per-call charges were posted for.  Posting a month
 * locks its row FOR UPDATE and bumps it whenever it posts, so two postings of
 * a month never overlap under any isolation level (S10): under READ
 * COMMITTED the second waits and then reads what the first posted; under
 * REPEATABLE READ or SERIALIZABLE, whose snapshot cannot see what the first
 * posted, the lock fails with 40001 and the caller retries.  close_year()
 * bumps every month of the year, so a posting that waited for a close sees
 * the year closed, or fails with 40001.
 *
 * A new table in 0.2.0, for fresh installs and upgrades alike: it starts
 * empty, since a month without a row is simply one not posted since the
 * upgrade.  It holds no figures (direct_charge_line does), only the lock
 * and a count; it is dumped with the ledgers so a restore is row for row.
 */
CREATE TABLE @extschema@.direct_posting (
	month			date NOT NULL,
	postings		bigint NOT NULL DEFAULT 0,
	last_posted_at	timestamptz,
	CONSTRAINT direct_posting_pkey PRIMARY KEY (month),
	CONSTRAINT direct_posting_month_first CHECK (extract(day FROM month) = 1 AND isfinite(month)),
	CONSTRAINT direct_posting_postings_not_negative CHECK (postings >= 0)
);
COMMENT ON TABLE @extschema@.direct_posting IS
	'Posting state of per-call charges (betaling pr. opslag) per month: the row bill_direct() and close_year() lock so that a month is never posted twice at once';
COMMENT ON COLUMN @extschema@.direct_posting.month IS 'Month of the charges: its first day';
COMMENT ON COLUMN @extschema@.direct_posting.postings IS 'How many runs posted lines for the month (or closed its year) since the row was created';
COMMENT ON COLUMN @extschema@.direct_posting.last_posted_at IS 'When a run last posted lines for the month or closed its year';
REVOKE ALL ON @extschema@.direct_posting FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('@extschema@.direct_posting', '');

CREATE FUNCTION @extschema@.per_call_lines(p_from date, p_to date)
RETURNS TABLE (month date, municipality_code text, service_code text, unit_price numeric,
			   calls bigint, amount numeric)
LANGUAGE sql STABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	/*
	 * The monthly sums of the months asked for (usage_summary, kept as
	 * usage loads), of the per-call services only, grouped in C; then the
	 * same routing and pricing as the close of a year (rated_cells), so
	 * bill_direct and close_year give the same lines.
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
			   FROM @extschema@.usage_summary u, per_call
			  WHERE u.period BETWEEN p_from AND p_to
				AND u.service_code = ANY (per_call.codes)),
			p_from, p_to) c
	 WHERE c.route = 'municipality'
	 GROUP BY c.period, c.payer_code, c.service_code, c.unit_price
$$;
COMMENT ON FUNCTION @extschema@.per_call_lines(date, date) IS
	'Per-call charges the usage of the months p_from to p_to gives now: one line per month, municipality, service and tariff, calls × tariff rounded once to øre';
REVOKE ALL ON FUNCTION @extschema@.per_call_lines(date, date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.per_call_lines(date, date) TO afregning_admin, afregning_reader;

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
REVOKE ALL ON FUNCTION @extschema@.per_call_lines(date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.per_call_lines(date) TO afregning_admin, afregning_reader;

/* Lock the posting rows of the months p_from to p_to, in calendar order. */
CREATE FUNCTION @extschema@.lock_direct_months(p_from date, p_to date)
RETURNS void
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	m date;
BEGIN
	FOR m IN SELECT generate_series(p_from, p_to, interval '1 month')::date
	LOOP
		BEGIN
			INSERT INTO @extschema@.direct_posting AS d (month) VALUES (m)
				ON CONFLICT (month) DO NOTHING;
			/* a second posting of the month waits here for the first */
			PERFORM 1 FROM @extschema@.direct_posting d WHERE d.month = m FOR UPDATE;
		EXCEPTION WHEN serialization_failure THEN
			RAISE EXCEPTION USING
				ERRCODE = 'serialization_failure',
				MESSAGE = format('per-call charges of %s were posted by a concurrent transaction',
								 to_char(m, 'YYYY-MM')),
				DETAIL = 'This transaction''s snapshot was taken before that posting committed, so it cannot see what was posted.',
				HINT = 'Retry the transaction: the retry posts only what is still missing. Under READ COMMITTED a second posting waits and posts only what is new.';
		END;
	END LOOP;
END
$$;
COMMENT ON FUNCTION @extschema@.lock_direct_months(date, date) IS
	'Internal: locks the posting state rows of the months p_from to p_to in calendar order (creating them), or fails with 40001 when this transaction''s snapshot predates a posting of one of them';

CREATE FUNCTION @extschema@.post_direct(p_from date, p_to date, p_closing boolean)
RETURNS TABLE (month date, municipality_code text, service_code text, unit_price numeric,
			   calls bigint, amount numeric, kind @extschema@.charge_kind)
LANGUAGE plpgsql
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	PERFORM @extschema@.lock_direct_months(p_from, p_to);

	/*
	 * S9: months of closed years are never posted to; their charges were
	 * completed when the year closed.  Read after the lock, so a posting
	 * that waited for close_year() sees the year closed.
	 */
	IF NOT p_closing AND EXISTS (
			SELECT 1 FROM generate_series(p_from, p_to, interval '1 month') AS g(m)
			 WHERE @extschema@.year_status(extract(year FROM g.m)::integer) = 'closed') THEN
		RAISE NOTICE USING
			MESSAGE = format('nothing posted: %s belongs to a closed year',
							 CASE WHEN p_from = p_to THEN to_char(p_from, 'YYYY-MM')
								  ELSE to_char(p_from, 'YYYY-MM') || '..' || to_char(p_to, 'YYYY-MM') END),
			DETAIL = 'Per-call charges of a closed year''s months were completed when the year closed (S9).',
			HINT = 'Book a late cost as an actual data_consumption entry of an open year with "corrects" set.';
		RETURN;
	END IF;

	/*
	 * S10: post per key the difference between now and what was posted.
	 * A month is rated by per_call_lines(); a closing year has just rated
	 * all of its usage into usage_line, whose municipality lines are the
	 * same lines (rated_cells, then rate() per month, municipality, service
	 * and tariff), so the year is not read a second time.
	 */
	RETURN QUERY
	WITH now_lines AS (
		SELECT l.month, l.municipality_code, l.service_code, l.unit_price, l.calls, l.amount
		  FROM @extschema@.per_call_lines(p_from, p_to) l
		 WHERE NOT p_closing
		UNION ALL
		SELECT u.period, u.payer_code, u.service_code, u.unit_price, u.calls, u.amount
		  FROM @extschema@.usage_line u
		 WHERE p_closing
		   AND u.year = extract(year FROM p_from)::integer
		   AND u.route = 'municipality'
		   AND u.period BETWEEN p_from AND p_to
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
	),
	ins AS (
		INSERT INTO @extschema@.direct_charge_line AS d
			(month, municipality_code, service_code, unit_price, calls, amount, kind)
		SELECT delta.month, delta.municipality_code, delta.service_code, delta.unit_price,
			   delta.calls, delta.amount, delta.kind
		  FROM delta
		 WHERE delta.calls <> 0 OR delta.amount <> 0
		 ORDER BY 1, 2, 3, 4
		RETURNING d.month, d.municipality_code, d.service_code, d.unit_price, d.calls, d.amount, d.kind
	),
	/* a new row version for every month posted (or closed): a concurrent
	 * posting with an older snapshot then fails its lock with 40001 */
	bump AS (
		UPDATE @extschema@.direct_posting s
		   SET postings = s.postings + 1, last_posted_at = now()
		 WHERE s.month BETWEEN p_from AND p_to
		   AND (p_closing OR s.month IN (SELECT ins.month FROM ins))
	)
	SELECT ins.month, ins.municipality_code, ins.service_code, ins.unit_price,
		   ins.calls, ins.amount, ins.kind
	  FROM ins;
END
$$;
COMMENT ON FUNCTION @extschema@.post_direct(date, date, boolean) IS
	'Internal: posts per month, municipality, service and tariff the difference between the per-call charges the months p_from to p_to give now and what was posted before, under the months'' posting locks; bill_direct() for one month (nothing for a closed year''s month), close_year() (p_closing) for the whole year from the municipality lines it has just written to usage_line';

CREATE FUNCTION @extschema@.bill_direct(p_month date)
RETURNS TABLE (municipality_code text, service_code text, unit_price numeric,
			   calls bigint, amount numeric, kind @extschema@.charge_kind)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_run bigint;
	n bigint;
	v_message text;
	v_detail text;
	v_hint text;
BEGIN
	IF p_month IS NULL THEN
		RAISE EXCEPTION USING
			ERRCODE = 'null_value_not_allowed',
			MESSAGE = 'the month to bill must not be null',
			HINT = 'Pass the first day of the month, e.g. ''2021-01-01''.';
	END IF;
	IF NOT isfinite(p_month) OR extract(day FROM p_month) <> 1 THEN
		RAISE EXCEPTION USING
			ERRCODE = 'invalid_parameter_value',
			MESSAGE = format('month must be the first day of a month, not %s', coalesce(p_month::text, 'null')),
			HINT = format('Pass e.g. %L.', CASE WHEN isfinite(p_month)
												THEN date_trunc('month', p_month)::date::text
												ELSE '2021-01-01' END);
	END IF;
	v_run := @extschema@.log_step_start('bill_direct'::text, p_month);
	BEGIN
		RETURN QUERY
		SELECT p.municipality_code, p.service_code, p.unit_price, p.calls, p.amount, p.kind
		  FROM @extschema@.post_direct(p_month, p_month, false) p;
	EXCEPTION WHEN object_not_in_prerequisite_state THEN
		/* raised deep in the rating pipeline: say it here, without its SQL as context */
		GET STACKED DIAGNOSTICS v_message = MESSAGE_TEXT, v_detail = PG_EXCEPTION_DETAIL,
			v_hint = PG_EXCEPTION_HINT;
		RAISE EXCEPTION USING ERRCODE = 'object_not_in_prerequisite_state',
			MESSAGE = v_message, DETAIL = v_detail, HINT = v_hint;
	END;
	GET DIAGNOSTICS n = ROW_COUNT;
	PERFORM @extschema@.report_phase('bill_direct'::text, 'per-call charges'::text, n);
	PERFORM @extschema@.log_step_end(v_run, NULL::text, n::integer);
END
$$;
COMMENT ON FUNCTION @extschema@.bill_direct(date) IS
	'Posts the per-call charges (betaling pr. opslag, e.g. CPR) of a month to the calling municipalities; a re-run posts per key only the difference since the last run (adjustment, or reversal of a key that disappeared) and returns the lines it posted; a month of a closed year posts nothing (S9); safe to run concurrently under any isolation level (a second run waits, or fails with 40001 to be retried)';
REVOKE ALL ON FUNCTION @extschema@.bill_direct(date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.bill_direct(date) TO afregning_admin;

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
		   @extschema@.graduated_charge(i.citizens::bigint, s.from_citizens::integer[], s.rates::numeric[])
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
