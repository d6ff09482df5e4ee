
/* ------------------------------------------------------------------
 * Operations: settlement steps with a run log, their status, and
 * pg_cron scheduling (SPEC §6 settlement_status, §7)
 * ------------------------------------------------------------------ */

/* Internal: run one step; what it returned and the lines it posted. */
CREATE FUNCTION @extschema@.settle(p_job text, p_period date,
	OUT rows_posted integer, OUT result text)
RETURNS record
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	y integer := extract(year FROM p_period)::integer;
	before integer;
BEGIN
	CASE p_job
		WHEN 'bill_direct' THEN
			SELECT count(*), sum(b.amount)::text INTO rows_posted, result
			  FROM @extschema@.bill_direct(p_period::date) b;
		WHEN 'announce_price' THEN
			/* what this run posted: a repeated announcement posts nothing */
			before := (SELECT count(*) FROM @extschema@.buffet_invoice i WHERE i.year = y);
			result := @extschema@.announce_price(y::integer)::text;
			rows_posted := (SELECT count(*) FROM @extschema@.buffet_invoice i WHERE i.year = y) - before;
		WHEN 'close_year' THEN
			before := (SELECT count(*) FROM @extschema@.usage_line u WHERE u.year = y);
			result := @extschema@.close_year(y::integer, false::boolean)::text;
			rows_posted := (SELECT count(*) FROM @extschema@.usage_line u WHERE u.year = y) - before;
		WHEN 'preview_price' THEN
			result := (SELECT pv::text FROM @extschema@.preview_price(y) pv);
			rows_posted := 0;
	END CASE;
END
$$;
REVOKE ALL ON FUNCTION @extschema@.settle(text, date) FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.settle(text, date) IS
	'Internal: runs one settlement step (bill_direct of the month p_period, or announce_price, close_year or preview_price of its year) and returns the lines it posted and what it returned';

/* Internal: the same step for the same period twice at once: the second is refused, not queued. */
CREATE FUNCTION @extschema@.try_step_lock(p_job text, p_period date)
RETURNS boolean
LANGUAGE sql VOLATILE PARALLEL UNSAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT pg_try_advisory_xact_lock(hashtext('afregning.run_settlement'),
									 hashtext(p_job || ':' || to_char(p_period, 'YYYY-MM-DD')))
$$;
REVOKE ALL ON FUNCTION @extschema@.try_step_lock(text, date) FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.try_step_lock(text, date) IS
	'Internal: takes the transaction lock of one settlement step and period without waiting; false when another session holds it';

/* Internal: the step of a run that run_settlement_step() logged and committed as running. */
CREATE FUNCTION @extschema@.run_step(p_run bigint)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	r @extschema@.settlement_run;
	s record;
BEGIN
	SELECT * INTO r FROM @extschema@.settlement_run x
	 WHERE x.run_id = p_run AND x.status = 'running' AND x.backend_pid = pg_backend_pid();
	IF NOT FOUND THEN
		RAISE EXCEPTION USING
			ERRCODE = 'invalid_parameter_value',
			MESSAGE = format('run %s is not a running step of this session', coalesce(p_run::text, 'null'));
	END IF;
	IF NOT @extschema@.try_step_lock(r.job, r.period) THEN
		RAISE EXCEPTION USING
			ERRCODE = 'lock_not_available',
			MESSAGE = format('%s for %s is already running', r.job, to_char(r.period, 'YYYY-MM-DD')),
			HINT = 'Wait for the running step to finish (afregning.settlement_status shows it); a run afterwards posts only what is still missing.';
	END IF;
	s := @extschema@.settle(r.job, r.period);
	PERFORM @extschema@.report_phase(r.job, 'done'::text, s.rows_posted::bigint);
	PERFORM @extschema@.log_step_end(p_run, s.result, s.rows_posted);
	PERFORM @extschema@.progress_end();
END
$$;
REVOKE ALL ON FUNCTION @extschema@.run_step(bigint) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.run_step(bigint) TO afregning_admin;
COMMENT ON FUNCTION @extschema@.run_step(bigint) IS
	'Internal: runs the step of a run this session logged as running (run_settlement_step) and logs it as succeeded in the same transaction; 55P03 when the same step and period is already running elsewhere';

/*
 * The scheduled way to run a step.  A procedure, so that it can commit
 * between its parts: the running row is committed first (other sessions
 * see it, and settlement_status shows its live phase), then the step runs
 * and commits with its outcome.  A failure rolls the step back, is logged
 * with its SQLSTATE, message, DETAIL and HINT and committed, and is then
 * raised again, so that pg_cron marks the job failed.
 *
 * Transaction control is not allowed in a procedure with SET clauses or
 * SECURITY DEFINER, so this one has neither: it runs as the caller and
 * calls only schema-qualified functions with exact argument types, which
 * pin search_path themselves.
 */
CREATE PROCEDURE @extschema@.run_settlement_step(p_job text, p_period date)
LANGUAGE plpgsql
AS $$
DECLARE
	v_run bigint;
	v_state pg_catalog.text;
	v_message pg_catalog.text;
	v_detail pg_catalog.text;
	v_hint pg_catalog.text;
	v_failed boolean := false;
BEGIN
	v_run := @extschema@.log_step_start(p_job, p_period, 'procedure'::pg_catalog.text);
	COMMIT;
	BEGIN
		PERFORM @extschema@.run_step(v_run);
	EXCEPTION WHEN OTHERS OR query_canceled THEN
		GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_message = MESSAGE_TEXT,
			v_detail = PG_EXCEPTION_DETAIL, v_hint = PG_EXCEPTION_HINT;
		v_failed := true;
	END;
	IF v_failed THEN
		PERFORM @extschema@.log_step_failed(v_run, v_state, v_message, v_detail, v_hint);
		COMMIT;
		PERFORM @extschema@.reraise(v_state, v_message, v_detail, v_hint);
	END IF;
END
$$;
REVOKE ALL ON PROCEDURE @extschema@.run_settlement_step(text, date) FROM PUBLIC;
GRANT EXECUTE ON PROCEDURE @extschema@.run_settlement_step(text, date) TO afregning_admin;
COMMENT ON PROCEDURE @extschema@.run_settlement_step(text, date) IS
	'Runs one settlement step (bill_direct of the month p_period, or announce_price, close_year or preview_price of its year) with a run log others can follow: commits the running row first, then the step with its outcome; a failure is logged with SQLSTATE, message, DETAIL and HINT, committed, and raised again (so pg_cron marks the job failed); 55P03 when the same step is already running. CALL it outside a transaction block; the standard pg_cron jobs do';

CREATE FUNCTION @extschema@.run_settlement(p_job text, p_period date)
RETURNS @extschema@.settlement_run
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_run bigint;
	run @extschema@.settlement_run;
	s record;
BEGIN
	v_run := @extschema@.log_step_start(p_job, p_period, 'function'::text);
	SELECT * INTO run FROM @extschema@.settlement_run r WHERE r.run_id = v_run;
	IF NOT @extschema@.try_step_lock(run.job, run.period) THEN
		UPDATE @extschema@.settlement_run r
		   SET status = 'refused', finished_at = clock_timestamp(), sqlstate = '55P03',
			   error_message = format('%s for %s is already running', run.job, to_char(run.period, 'YYYY-MM-DD')),
			   hint = 'Wait for the running step to finish; a run afterwards posts only what is still missing.'
		 WHERE r.run_id = v_run RETURNING * INTO run;
		PERFORM @extschema@.progress_end();
		RAISE WARNING '%', run.error_message;
		RETURN run;
	END IF;
	/* a failure raises: the step and its log row roll back together */
	s := @extschema@.settle(run.job, run.period);
	PERFORM @extschema@.report_phase(run.job, 'done'::text, s.rows_posted::bigint);
	PERFORM @extschema@.log_step_end(v_run, s.result, s.rows_posted);
	PERFORM @extschema@.progress_end();
	SELECT * INTO run FROM @extschema@.settlement_run r WHERE r.run_id = v_run;
	RETURN run;
END
$$;
REVOKE ALL ON FUNCTION @extschema@.run_settlement(text, date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.run_settlement(text, date) TO afregning_admin;
COMMENT ON FUNCTION @extschema@.run_settlement(text, date) IS
	'Runs one settlement step in the caller''s transaction (bill_direct of the month p_period, or announce/close/preview of its year), logs it in settlement_run and returns the run; a failure raises its error (the step and its log row roll back: use CALL run_settlement_step() to keep failures in the log); a concurrent run of the same step and period is refused, logged and returned with a warning';

/*
 * The run log for every reader of settlement_status: the table itself
 * stays readable by staff only.
 */
CREATE FUNCTION @extschema@.settlement_runs()
RETURNS SETOF @extschema@.settlement_run
LANGUAGE sql STABLE PARALLEL SAFE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT * FROM @extschema@.settlement_run
$$;
REVOKE ALL ON FUNCTION @extschema@.settlement_runs() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.settlement_runs() TO afregning_admin, afregning_reader, afregning_municipality;
COMMENT ON FUNCTION @extschema@.settlement_runs() IS
	'The rows of settlement_run, for settlement_status (a municipality role reads the run log through the view only)';

/*
 * Live phase of a running step: pg_stat_activity shows another role's
 * query only to superusers and pg_read_all_stats, so this reads it as the
 * extension's owner and returns only what report_phase() wrote there.
 */
CREATE FUNCTION @extschema@.live_phase(p_pid integer, p_started timestamptz)
RETURNS text
LANGUAGE sql STABLE PARALLEL UNSAFE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT CASE WHEN a.query LIKE 'afregning: %'
				THEN regexp_replace(a.query, '^afregning: [a-z_]+( [0-9-]+)?: ', '')
				ELSE 'running' END
	  FROM pg_stat_activity a
	 WHERE a.pid = p_pid AND a.backend_start <= p_started
$$;
REVOKE ALL ON FUNCTION @extschema@.live_phase(integer, timestamptz) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.live_phase(integer, timestamptz) TO afregning_admin, afregning_reader, afregning_municipality;
COMMENT ON FUNCTION @extschema@.live_phase(integer, timestamptz) IS
	'What the backend p_pid, if it is alive and started before p_started, reports now (the text report_phase() wrote as its activity, without the afregning prefix and step label; running when there is none); null when that backend is gone';

CREATE VIEW @extschema@.settlement_status WITH (security_invoker = true) AS
SELECT r.run_id,
	   r.job::varchar(32) AS job,
	   r.period,
	   r.acting_role::varchar(63) AS who,
	   r.session_role::varchar(63) AS session_role,
	   r.started_at AS started,
	   r.finished_at AS finished,
	   (CASE WHEN r.status = 'running' AND l.live IS NULL THEN 'failed'
			 WHEN r.status = 'refused' THEN 'failed'
			 ELSE r.status END)::varchar(16) AS state,
	   (CASE WHEN r.status = 'running' AND l.live IS NULL THEN '57P01'
			 ELSE r.sqlstate END)::varchar(5) AS sqlstate,
	   /*
	    * Texts are cut to 255 characters: psqlODBC hands a longer varchar to
	    * BI tools as a memo field. settlement_run keeps them whole.
	    */
	   left(CASE WHEN r.status = 'running' AND l.live IS NULL
				 THEN 'the session ended before the step finished'
				 ELSE r.error_message END, 255)::varchar(255) AS message,
	   left(r.detail, 255)::varchar(255) AS detail,
	   left(r.hint, 255)::varchar(255) AS hint,
	   left(coalesce(l.live, r.phase), 255)::varchar(255) AS phase,
	   r.rows_posted::bigint AS rows_posted,
	   left(r.result, 255)::varchar(255) AS result,
	   r.entry::varchar(16) AS entry
  FROM @extschema@.settlement_runs() r
  LEFT JOIN LATERAL (
		SELECT @extschema@.live_phase(r.backend_pid, r.started_at) AS live
		 WHERE r.status = 'running') l ON true;
GRANT SELECT ON @extschema@.settlement_status TO afregning_admin, afregning_reader, afregning_municipality;
COMMENT ON VIEW @extschema@.settlement_status IS
	'Every settlement step run (kørselsstatus), by hand or scheduled: who ran it, when, its state and error; a running step shows its live phase. A step called by hand appears when it commits; a failed step appears only when it ran through CALL run_settlement_step() (as pg_cron runs it)';
COMMENT ON COLUMN @extschema@.settlement_status.run_id IS 'Run number';
COMMENT ON COLUMN @extschema@.settlement_status.job IS 'The step: bill_direct, announce_price, close_year or preview_price';
COMMENT ON COLUMN @extschema@.settlement_status.period IS 'Month (bill_direct) or first day of the year settled';
COMMENT ON COLUMN @extschema@.settlement_status.who IS 'Role that ran the step (the current user of its session)';
COMMENT ON COLUMN @extschema@.settlement_status.session_role IS 'Login role of the session (for pg_cron: the job''s user)';
COMMENT ON COLUMN @extschema@.settlement_status.started IS 'When the step started';
COMMENT ON COLUMN @extschema@.settlement_status.finished IS 'When the step ended; null while it runs';
COMMENT ON COLUMN @extschema@.settlement_status.state IS 'running, succeeded or failed (a step refused because it was already running is failed with SQLSTATE 55P03; a running step whose session ended is failed with 57P01)';
COMMENT ON COLUMN @extschema@.settlement_status.sqlstate IS 'SQLSTATE of the error of a failed step';
COMMENT ON COLUMN @extschema@.settlement_status.message IS 'Error message of a failed step (its first 255 characters; settlement_run.error_message holds it whole)';
COMMENT ON COLUMN @extschema@.settlement_status.detail IS 'DETAIL of the error of a failed step (first 255 characters)';
COMMENT ON COLUMN @extschema@.settlement_status.hint IS 'HINT of the error of a failed step (first 255 characters)';
COMMENT ON COLUMN @extschema@.settlement_status.phase IS 'While running: the phase it reports now, with its rows and seconds so far (fase); afterwards the last phase it reported';
COMMENT ON COLUMN @extschema@.settlement_status.rows_posted IS 'Ledger lines the step posted';
COMMENT ON COLUMN @extschema@.settlement_status.result IS 'Price, difference, amount or preview the step returned';
COMMENT ON COLUMN @extschema@.settlement_status.entry IS 'procedure (CALL run_settlement_step, e.g. pg_cron), function (run_settlement) or direct (by hand)';

/*
 * pg_cron runs a job as the user recorded with it.  Jobs must run as a
 * login role of the administrator role, never as the superuser who happens
 * to set them up: they are registered for p_run_as, by default the
 * session user.  A superuser may name any such login; anyone else only
 * itself.
 */
CREATE FUNCTION @extschema@.schedule_jobs(p_run_as name)
RETURNS TABLE (job_name text, schedule text, command text)
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	j record;
	old bigint;
	caller_is_superuser boolean :=
		(SELECT r.rolsuper FROM pg_roles r WHERE r.rolname = session_user);
	target pg_roles;
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'pg_cron') THEN
		RAISE EXCEPTION USING
			ERRCODE = 'object_not_in_prerequisite_state',
			MESSAGE = 'pg_cron is not installed in this database',
			DETAIL = 'The standard settlement jobs are pg_cron jobs.',
			HINT = 'Add pg_cron to shared_preload_libraries, set cron.database_name to this database and run CREATE EXTENSION pg_cron; or CALL afregning.run_settlement_step() from another scheduler.';
	END IF;
	IF p_run_as IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed',
			MESSAGE = 'the role the jobs run as must not be null',
			HINT = 'Name a login role that is a member of afregning_admin.';
	END IF;
	SELECT * INTO target FROM pg_roles r WHERE r.rolname = p_run_as;
	IF NOT FOUND THEN
		RAISE EXCEPTION USING ERRCODE = 'undefined_object',
			MESSAGE = format('role "%s" does not exist', p_run_as),
			HINT = 'Name a login role that is a member of afregning_admin.';
	END IF;
	IF p_run_as <> session_user AND NOT coalesce(caller_is_superuser, false) THEN
		RAISE EXCEPTION USING ERRCODE = 'insufficient_privilege',
			MESSAGE = format('only a superuser can schedule the settlement jobs for role "%s"', p_run_as),
			HINT = 'Call afregning.schedule_jobs() to schedule them for yourself.';
	END IF;
	IF target.rolsuper OR NOT target.rolcanlogin
	   OR NOT pg_has_role(target.oid, 'afregning_admin', 'MEMBER') THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = format('the settlement jobs cannot run as role "%s"', p_run_as),
			DETAIL = CASE WHEN target.rolsuper THEN 'It is a superuser: the jobs run with the administrator''s rights only.'
						  WHEN NOT target.rolcanlogin THEN 'It cannot log in, and pg_cron starts each job as a login.'
						  ELSE 'It is not a member of afregning_admin.' END,
			HINT = 'Create a login for the jobs, e.g. CREATE ROLE afregning_jobs LOGIN IN ROLE afregning_admin, and run SELECT afregning.schedule_jobs(''afregning_jobs'') as a superuser, or schedule_jobs() while logged in as it.';
	END IF;

	/* pg_cron runs in GMT: every command computes its period explicitly in UTC */
	FOR j IN SELECT * FROM (VALUES
		('afregning-bill-direct',
		 '0 3 2 * *',
		 'CALL afregning.run_settlement_step(''bill_direct'', (date_trunc(''month'', now() AT TIME ZONE ''UTC'') - interval ''1 month'')::date)'),
		('afregning-preview-next-year',
		 '0 4 1 3 *',
		 'CALL afregning.run_settlement_step(''preview_price'', make_date(extract(year FROM now() AT TIME ZONE ''UTC'')::integer + 1, 1, 1))')
		) AS v(n, s, c)
	LOOP
		/* a job of this name for this database, under another user (e.g. one
		 * registered by 0.1.0 as the superuser), is moved: unscheduled here */
		FOR old IN EXECUTE 'SELECT jobid FROM cron.job WHERE jobname = $1 AND database = $2 AND username <> $3'
			USING j.n, current_database(), p_run_as::text
		LOOP
			EXECUTE 'SELECT cron.unschedule($1)' USING old;
		END LOOP;
		/* a job of the same name and user is updated in place, so this is idempotent */
		EXECUTE 'SELECT cron.schedule_in_database($1, $2, $3, $4, $5, true)'
			USING j.n, j.s, j.c, current_database()::text, p_run_as::text;
		job_name := j.n; schedule := j.s; command := j.c;
		RETURN NEXT;
	END LOOP;
END
$$;
REVOKE ALL ON FUNCTION @extschema@.schedule_jobs(name) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.schedule_jobs(name) TO afregning_admin;
COMMENT ON FUNCTION @extschema@.schedule_jobs(name) IS
	'Registers the standard pg_cron jobs under stable names (idempotent), to run as p_run_as, a login role in afregning_admin that is not a superuser (a superuser may name any such role; others only themselves): CALL run_settlement_step for direct billing of the previous month on the 2nd at 03:00 GMT, and for a preview of next year''s price on 1 March; moves jobs of these names registered under another user; 55000 when pg_cron is missing';

CREATE FUNCTION @extschema@.schedule_jobs()
RETURNS TABLE (job_name text, schedule text, command text)
LANGUAGE sql VOLATILE PARALLEL UNSAFE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT * FROM @extschema@.schedule_jobs(session_user)
$$;
REVOKE ALL ON FUNCTION @extschema@.schedule_jobs() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.schedule_jobs() TO afregning_admin;
COMMENT ON FUNCTION @extschema@.schedule_jobs() IS
	'Registers the standard pg_cron jobs (see schedule_jobs(name)) to run as the session user, which must be a login role in afregning_admin and not a superuser';
