
/* ------------------------------------------------------------------
 * The run log (kørselslog): every settlement step, by hand or scheduled
 *
 * settlement_run is a 0.1.0 table: its new columns are added here, so
 * that an upgraded database keeps its old runs (backfilled below) and a
 * fresh install ends alike.
 * ------------------------------------------------------------------ */

ALTER TABLE @extschema@.settlement_run
	ADD COLUMN sqlstate text,
	ADD COLUMN detail text,
	ADD COLUMN hint text,
	ADD COLUMN phase text,
	ADD COLUMN backend_pid integer,
	ADD COLUMN session_role name,
	ADD COLUMN acting_role name,
	ADD COLUMN entry text;

/* 0.1.0 runs all came through run_settlement(), which logged a failure as 'SQLSTATE: message' */
UPDATE @extschema@.settlement_run r
   SET session_role = r.run_by,
	   acting_role = r.run_by,
	   entry = 'function',
	   sqlstate = CASE WHEN r.error_message ~ '^[0-9A-Z]{5}: ' THEN substr(r.error_message, 1, 5) END,
	   error_message = CASE WHEN r.error_message ~ '^[0-9A-Z]{5}: ' THEN substr(r.error_message, 8)
							ELSE r.error_message END;
/* a 0.1.0 run can never be running any more: its transaction has ended */
UPDATE @extschema@.settlement_run r
   SET status = 'failed', sqlstate = '57P01',
	   finished_at = coalesce(r.finished_at, r.started_at),
	   error_message = 'the run ended without recording its outcome'
 WHERE r.status = 'running';
/* 0.1.0 logged a refusal without a SQLSTATE: it was a lock not available */
UPDATE @extschema@.settlement_run r
   SET sqlstate = '55P03'
 WHERE r.status = 'refused' AND r.sqlstate IS NULL;

/*
 * The settlement steps, named once: the run log's CHECK and
 * log_step_start() read them here, and settle() dispatches on them.
 */
CREATE FUNCTION @extschema@.settlement_jobs()
RETURNS text[]
LANGUAGE sql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT ARRAY['bill_direct', 'announce_price', 'close_year', 'preview_price']::text[]
$$;
REVOKE ALL ON FUNCTION @extschema@.settlement_jobs() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.settlement_jobs() TO afregning_admin;
COMMENT ON FUNCTION @extschema@.settlement_jobs() IS
	'Internal: the names of the settlement steps (afregningstrin) the run log accepts: bill_direct, announce_price, close_year, preview_price';

ALTER TABLE @extschema@.settlement_run
	ALTER COLUMN session_role SET DEFAULT SESSION_USER,
	ALTER COLUMN session_role SET NOT NULL,
	ALTER COLUMN acting_role SET NOT NULL,
	ALTER COLUMN entry SET NOT NULL,
	DROP CONSTRAINT IF EXISTS settlement_run_job,
	ADD CONSTRAINT settlement_run_job
		CHECK (job = ANY (@extschema@.settlement_jobs())),
	ADD CONSTRAINT settlement_run_entry CHECK (entry IN ('procedure', 'function', 'direct')),
	ADD CONSTRAINT settlement_run_sqlstate CHECK (sqlstate ~ '^[0-9A-Z]{5}$'),
	ADD CONSTRAINT settlement_run_outcome
		CHECK ((status = 'running') = (finished_at IS NULL)
			   AND (sqlstate IS NULL OR status IN ('failed', 'refused')));
CREATE INDEX settlement_run_running_idx ON @extschema@.settlement_run (backend_pid)
	WHERE status = 'running';

COMMENT ON TABLE @extschema@.settlement_run IS
	'Log of settlement steps (kørselslog): every announce_price, close_year, bill_direct and preview, whether called by hand, through run_settlement() or scheduled through CALL run_settlement_step(); who ran it, for which period, when, its phase and outcome. Read it through settlement_status';
COMMENT ON COLUMN @extschema@.settlement_run.job IS
	'The step: bill_direct, announce_price, close_year or preview_price';
COMMENT ON COLUMN @extschema@.settlement_run.status IS
	'running, succeeded, failed, or refused (the same step for the same period was already running). A step called by hand is one transaction: it is logged when it commits (succeeded); its failure rolls its row back, so failures are logged only by CALL run_settlement_step(), which commits the running row first and the outcome after';
COMMENT ON COLUMN @extschema@.settlement_run.error_message IS 'Message of the error of a failed or refused run';
COMMENT ON COLUMN @extschema@.settlement_run.run_by IS 'Session user that ran the step (as in 0.1.0; same as session_role)';
COMMENT ON COLUMN @extschema@.settlement_run.sqlstate IS 'SQLSTATE of the error of a failed or refused run';
COMMENT ON COLUMN @extschema@.settlement_run.detail IS 'DETAIL of the error of a failed run';
COMMENT ON COLUMN @extschema@.settlement_run.hint IS 'HINT of the error of a failed run';
COMMENT ON COLUMN @extschema@.settlement_run.phase IS 'Last phase the step reported (e.g. rating usage); while it runs, settlement_status shows the live phase';
COMMENT ON COLUMN @extschema@.settlement_run.backend_pid IS 'Process id of the backend that ran the step';
COMMENT ON COLUMN @extschema@.settlement_run.session_role IS 'Session user (the login role; for pg_cron the job''s user)';
COMMENT ON COLUMN @extschema@.settlement_run.acting_role IS 'Current user of the session when the step was called (after SET ROLE)';
COMMENT ON COLUMN @extschema@.settlement_run.entry IS
	'How the step was called: procedure (CALL run_settlement_step, e.g. by pg_cron), function (run_settlement) or direct (announce_price, close_year or bill_direct by hand)';

/*
 * Log the start of a step.  Called by run_settlement_step(), by
 * run_settlement() and at the start of announce_price(), close_year() and
 * bill_direct().  A step already logged as running by this backend for the
 * same job and period (a lifecycle function called by run_settlement or
 * the procedure) is not logged twice: its run is returned.
 */
CREATE FUNCTION @extschema@.log_step_start(p_job text, p_period date, p_entry text)
RETURNS bigint
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
	v_run bigint;
BEGIN
	IF p_job IS NULL OR p_job <> ALL (@extschema@.settlement_jobs()) THEN
		RAISE EXCEPTION USING
			ERRCODE = 'invalid_parameter_value',
			MESSAGE = format('unknown settlement job %s', coalesce(p_job, 'null')),
			HINT = format('Use one of %s.', array_to_string(@extschema@.settlement_jobs(), ', '));
	END IF;
	IF p_period IS NULL THEN
		RAISE EXCEPTION USING ERRCODE = 'null_value_not_allowed',
			MESSAGE = 'settlement period must not be null',
			HINT = 'Pass the month (bill_direct) or the first day of the year, e.g. ''2021-01-01''.';
	END IF;
	IF NOT isfinite(p_period) THEN
		RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
			MESSAGE = format('settlement period must be a finite date, not %s', p_period),
			HINT = 'Pass the month (bill_direct) or the first day of the year, e.g. ''2021-01-01''.';
	END IF;
	IF p_entry IS NULL OR p_entry NOT IN ('procedure', 'function', 'direct') THEN
		RAISE EXCEPTION USING
			ERRCODE = 'invalid_parameter_value',
			MESSAGE = format('unknown way to run a step %s', coalesce(p_entry, 'null')),
			HINT = 'Use procedure, function or direct.';
	END IF;

	/* a year's step is logged under the first day of its year */
	IF p_job <> 'bill_direct' THEN
		p_period := make_date(extract(year FROM p_period)::integer, 1, 1);
	END IF;

	/* nested: the step's own function, called by the procedure or run_settlement */
	SELECT r.run_id INTO v_run
	  FROM @extschema@.settlement_run r
	 WHERE r.status = 'running' AND r.backend_pid = pg_backend_pid()
	   AND r.job = p_job AND r.period = p_period
	   AND r.started_at >= (SELECT a.backend_start FROM pg_stat_activity a
							 WHERE a.pid = pg_backend_pid())
	 ORDER BY r.run_id DESC
	 LIMIT 1;
	IF FOUND THEN
		RETURN v_run;
	END IF;

	INSERT INTO @extschema@.settlement_run
		(job, period, status, run_by, session_role, acting_role, backend_pid, entry)
	VALUES (p_job, p_period, 'running', session_user, session_user,
			@extschema@.outer_role(), pg_backend_pid(), p_entry)
	RETURNING run_id INTO v_run;
	PERFORM @extschema@.progress_begin(
		p_job || ' ' || CASE WHEN p_job = 'bill_direct' THEN to_char(p_period, 'YYYY-MM')
							 ELSE to_char(p_period, 'YYYY') END);
	RETURN v_run;
END
$$;
REVOKE ALL ON FUNCTION @extschema@.log_step_start(text, date, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.log_step_start(text, date, text) TO afregning_admin;
COMMENT ON FUNCTION @extschema@.log_step_start(text, date, text) IS
	'Logs the start of a settlement step (job, period, how it was called) as running in settlement_run and returns its run_id; a step this backend already logged as running for the same job and period returns that run instead (a lifecycle function inside run_settlement or run_settlement_step). 22023 for an unknown job, 22004 for a null period, 22023 for an infinite one';

CREATE FUNCTION @extschema@.log_step_start(p_job text, p_period date)
RETURNS bigint
LANGUAGE sql VOLATILE PARALLEL UNSAFE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
	SELECT @extschema@.log_step_start(p_job, p_period, 'direct'::text)
$$;
REVOKE ALL ON FUNCTION @extschema@.log_step_start(text, date) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.log_step_start(text, date) TO afregning_admin;
COMMENT ON FUNCTION @extschema@.log_step_start(text, date) IS
	'Logs the start of a settlement step called by hand (announce_price, close_year, bill_direct call it first) and returns its run_id; recorded as succeeded when the transaction commits (log_step_end adds the result)';

/*
 * The outcome of a step.  succeeded: in the step's own transaction, so it
 * is seen exactly when the step's postings are.
 */
CREATE FUNCTION @extschema@.log_step_end(p_run bigint, p_result text, p_rows integer)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	UPDATE @extschema@.settlement_run r
	   SET status = 'succeeded', finished_at = clock_timestamp(),
		   result = p_result, rows_posted = p_rows,
		   phase = coalesce(@extschema@.progress_phase(), r.phase)
	 WHERE r.run_id = p_run AND r.backend_pid = pg_backend_pid()
	   AND r.status IN ('running', 'succeeded');
	IF NOT FOUND THEN
		RAISE EXCEPTION USING
			ERRCODE = 'invalid_parameter_value',
			MESSAGE = format('run %s is not a step of this session', coalesce(p_run::text, 'null')),
			HINT = 'Pass the run_id that log_step_start() returned.';
	END IF;
END
$$;
REVOKE ALL ON FUNCTION @extschema@.log_step_end(bigint, text, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.log_step_end(bigint, text, integer) TO afregning_admin;
COMMENT ON FUNCTION @extschema@.log_step_end(bigint, text, integer) IS
	'Logs a settlement step of this session as succeeded, with what it returned and the lines it posted; seen by others when the step commits. 22023 for a run that is not this session''s';

CREATE FUNCTION @extschema@.log_step_failed(p_run bigint, p_sqlstate text, p_message text,
	p_detail text, p_hint text)
RETURNS void
LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	UPDATE @extschema@.settlement_run r
	   SET status = CASE WHEN p_sqlstate = '55P03' THEN 'refused' ELSE 'failed' END,
		   finished_at = clock_timestamp(),
		   sqlstate = p_sqlstate, error_message = p_message,
		   detail = nullif(p_detail, ''), hint = nullif(p_hint, ''),
		   rows_posted = 0,
		   phase = coalesce(@extschema@.progress_phase(), r.phase)
	 WHERE r.run_id = p_run AND r.backend_pid = pg_backend_pid() AND r.status = 'running';
	IF NOT FOUND THEN
		RAISE EXCEPTION USING
			ERRCODE = 'invalid_parameter_value',
			MESSAGE = format('run %s is not a running step of this session', coalesce(p_run::text, 'null'));
	END IF;
	PERFORM @extschema@.progress_end();
END
$$;
REVOKE ALL ON FUNCTION @extschema@.log_step_failed(bigint, text, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.log_step_failed(bigint, text, text, text, text) TO afregning_admin;
COMMENT ON FUNCTION @extschema@.log_step_failed(bigint, text, text, text, text) IS
	'Logs a running settlement step of this session as failed (refused for 55P03: the same step was already running) with the error''s SQLSTATE, message, DETAIL and HINT; run_settlement_step() calls it after the step rolled back, and commits it before it re-raises the error';

/*
 * A step called by hand is one transaction: whatever it did not record
 * itself is recorded when it commits.  Rows of run_settlement_step() stay
 * running across its commits; it records their outcome itself.
 */
CREATE FUNCTION @extschema@.finish_direct_step()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	UPDATE @extschema@.settlement_run r
	   SET status = 'succeeded', finished_at = clock_timestamp(),
		   phase = coalesce(@extschema@.progress_phase(), r.phase)
	 WHERE r.run_id = NEW.run_id AND r.status = 'running' AND r.entry <> 'procedure';
	IF FOUND THEN
		PERFORM @extschema@.progress_end();
	END IF;
	RETURN NULL;
END
$$;
REVOKE ALL ON FUNCTION @extschema@.finish_direct_step() FROM PUBLIC;
COMMENT ON FUNCTION @extschema@.finish_direct_step() IS
	'Trigger: at commit, a step called by hand (or through run_settlement) that is still running is recorded as succeeded';
CREATE CONSTRAINT TRIGGER settlement_run_finish_at_commit
	AFTER INSERT ON @extschema@.settlement_run
	DEFERRABLE INITIALLY DEFERRED
	FOR EACH ROW EXECUTE FUNCTION @extschema@.finish_direct_step();
COMMENT ON TRIGGER settlement_run_finish_at_commit ON @extschema@.settlement_run IS
	'Records a step called by hand as succeeded when its transaction commits';
