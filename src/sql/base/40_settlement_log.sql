
/* ------------------------------------------------------------------
 * Operations: the log of settlement runs
 * ------------------------------------------------------------------ */

CREATE TABLE @extschema@.settlement_run (
	run_id			bigint GENERATED ALWAYS AS IDENTITY,
	job				text NOT NULL,
	period			date NOT NULL,
	started_at		timestamptz NOT NULL DEFAULT pg_catalog.clock_timestamp(),
	finished_at		timestamptz,
	status			text NOT NULL DEFAULT 'running',
	rows_posted		integer,
	result			text,
	error_message	text,
	run_by			name NOT NULL DEFAULT CURRENT_USER,
	CONSTRAINT settlement_run_pkey PRIMARY KEY (run_id),
	CONSTRAINT settlement_run_status CHECK (status IN ('running', 'succeeded', 'failed', 'refused'))
);
CREATE INDEX settlement_run_job_idx ON @extschema@.settlement_run (job, period);
COMMENT ON TABLE @extschema@.settlement_run IS
	'Log of settlement runs (kørselslog) started through run_settlement(), e.g. by pg_cron: what, for which period, when, outcome, rows posted';
COMMENT ON COLUMN @extschema@.settlement_run.run_id IS 'Run number';
COMMENT ON COLUMN @extschema@.settlement_run.job IS 'The step (its CHECK, added with settlement_jobs(), is in 16_run_log.sql)';
COMMENT ON COLUMN @extschema@.settlement_run.period IS 'Month (bill_direct) or first day of the year settled';
COMMENT ON COLUMN @extschema@.settlement_run.started_at IS 'When the run started';
COMMENT ON COLUMN @extschema@.settlement_run.finished_at IS 'When the run ended';
COMMENT ON COLUMN @extschema@.settlement_run.status IS 'running, succeeded, failed, or refused (the same settlement was already running)';
COMMENT ON COLUMN @extschema@.settlement_run.rows_posted IS 'Ledger lines posted by the run';
COMMENT ON COLUMN @extschema@.settlement_run.result IS 'Price, difference or preview the run returned';
COMMENT ON COLUMN @extschema@.settlement_run.error_message IS 'Error of a failed or refused run';
COMMENT ON COLUMN @extschema@.settlement_run.run_by IS 'Role that started the run';
