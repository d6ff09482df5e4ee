
/* ------------------------------------------------------------------
 * Operations: settlement runs with a log, and pg_cron scheduling
 * ------------------------------------------------------------------ */


CREATE FUNCTION @extschema@.run_settlement(p_job text, p_period date)
RETURNS @extschema@.settlement_run
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	run @extschema@.settlement_run;
	y integer;
	msg text;
	state text;
	before integer;
BEGIN
	IF p_job IS NULL OR p_job NOT IN ('bill_direct', 'announce_price', 'close_year', 'preview_price') THEN
		RAISE EXCEPTION USING
			ERRCODE = 'invalid_parameter_value',
			MESSAGE = format('unknown settlement job %s', coalesce(p_job, 'null')),
			HINT = 'Use bill_direct, announce_price, close_year or preview_price.';
	END IF;
	IF p_period IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed',
			MESSAGE = 'settlement period must not be null';
	END IF;
	IF NOT isfinite(p_period) THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = format('settlement period must be a finite date, not %s', p_period),
			HINT = 'Give the first day of the month to bill, or a day of the year to settle.';
	END IF;
	y := extract(year FROM p_period)::integer;

	INSERT INTO @extschema@.settlement_run (job, period, run_by)
	VALUES (p_job, p_period, session_user) RETURNING * INTO run;

	/* the same settlement twice at once: the second is refused, not queued */
	IF NOT pg_try_advisory_xact_lock(hashtext('afregning.run_settlement'),
									 hashtext(p_job || ':' || p_period)) THEN
		UPDATE @extschema@.settlement_run r
		   SET status = 'refused', finished_at = clock_timestamp(),
			   error_message = format('%s for %s is already running', p_job, p_period)
		 WHERE r.run_id = run.run_id RETURNING * INTO run;
		RAISE WARNING '%', run.error_message;
		RETURN run;
	END IF;

	BEGIN
		CASE p_job
			WHEN 'bill_direct' THEN
				SELECT count(*), sum(b.amount)::text INTO run.rows_posted, run.result
				  FROM @extschema@.bill_direct(p_period) b;
			WHEN 'announce_price' THEN
				/* what this run posted: a repeated announcement posts nothing */
				before := (SELECT count(*) FROM @extschema@.buffet_invoice i WHERE i.year = y);
				run.result := @extschema@.announce_price(y)::text;
				run.rows_posted := (SELECT count(*) FROM @extschema@.buffet_invoice i WHERE i.year = y) - before;
			WHEN 'close_year' THEN
				before := (SELECT count(*) FROM @extschema@.usage_line u WHERE u.year = y);
				run.result := @extschema@.close_year(y)::text;
				run.rows_posted := (SELECT count(*) FROM @extschema@.usage_line u WHERE u.year = y) - before;
			WHEN 'preview_price' THEN
				run.result := (SELECT pv::text FROM @extschema@.preview_price(y) pv);
				run.rows_posted := 0;
		END CASE;
		run.status := 'succeeded';
	EXCEPTION WHEN OTHERS THEN
		/* keep the log row: the failed settlement itself is rolled back */
		GET STACKED DIAGNOSTICS msg = MESSAGE_TEXT, state = RETURNED_SQLSTATE;
		run.status := 'failed';
		run.error_message := state || ': ' || msg;
		run.rows_posted := 0;
	END;
	UPDATE @extschema@.settlement_run r
	   SET status = run.status, finished_at = clock_timestamp(),
		   rows_posted = run.rows_posted, result = run.result,
		   error_message = run.error_message
	 WHERE r.run_id = run.run_id RETURNING * INTO run;
	IF run.status = 'failed' THEN
		RAISE WARNING 'settlement % for % failed: %', p_job, p_period, run.error_message;
	END IF;
	RETURN run;
END
$$;
COMMENT ON FUNCTION @extschema@.run_settlement(text, date) IS
	'Runs one settlement (bill_direct of a month, or announce/close/preview of the year of p_period) and logs it in settlement_run; a concurrent run of the same job and period is refused and logged; a failure is logged and rolled back';

CREATE FUNCTION @extschema@.schedule_jobs()
RETURNS TABLE (job_name text, schedule text, command text)
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	j record;
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'pg_cron') THEN
		RAISE EXCEPTION USING
			ERRCODE = 'object_not_in_prerequisite_state',
			MESSAGE = 'pg_cron is not installed in this database',
			DETAIL = 'The standard settlement jobs are pg_cron jobs.',
			HINT = 'Add pg_cron to shared_preload_libraries, set cron.database_name to this database and run CREATE EXTENSION pg_cron; or run afregning.run_settlement() from another scheduler.';
	END IF;
	/* pg_cron runs in GMT: every command computes its period explicitly in UTC */
	FOR j IN SELECT * FROM (VALUES
		('afregning-bill-direct',
		 '0 3 2 * *',
		 'SELECT afregning.run_settlement(''bill_direct'', (date_trunc(''month'', now() AT TIME ZONE ''UTC'') - interval ''1 month'')::date)'),
		('afregning-preview-next-year',
		 '0 4 1 3 *',
		 'SELECT afregning.run_settlement(''preview_price'', make_date(extract(year FROM now() AT TIME ZONE ''UTC'')::integer + 1, 1, 1))')
		) AS v(n, s, c)
	LOOP
		/* a job of the same name is updated in place, so this is idempotent */
		EXECUTE 'SELECT cron.schedule($1, $2, $3)' USING j.n, j.s, j.c;
		job_name := j.n; schedule := j.s; command := j.c;
		RETURN NEXT;
	END LOOP;
END
$$;
COMMENT ON FUNCTION @extschema@.schedule_jobs() IS
	'Registers the standard pg_cron jobs under stable names (idempotent): direct billing of the previous month on the 2nd at 03:00 GMT, and a preview of next year''s price on 1 March (before the spring announcement); refuses with 55000 when pg_cron is missing';
