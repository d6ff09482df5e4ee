/*
 * The run log (SPEC §6 settlement_status, §7): what a step records when it
 * is called by hand or through run_settlement(), what the view shows, who
 * may read it, and the refusals. What other sessions see while a step
 * runs, and CALL run_settlement_step() with its commits, are in
 * test/scenario/run_log.sh and test/scenario/cron.sh (a transaction block
 * cannot commit).
 *
 * Fixture: municipalities 101, 147, 751 with 600,000 + 100,000 + 300,000
 * = 1,000,000 citizens in 2021; expected support_admin 1,234,567.89, so
 * the 2021 price is 1.234... -> 1.23 and 3 invoices are written; CPR per
 * call at 0.50, January 2021 calls 101 1000, 147 100 -> 500.00 + 50.00 =
 * 550.00 in 2 lines. 2022 is open.
 */
BEGIN;
SELECT plan(45);
SET LOCAL search_path = afregning, public;
SET LOCAL client_min_messages = warning;

/* SQLSTATE, message, DETAIL and HINT of the error a statement raises */
CREATE FUNCTION pg_temp.error_of(p_sql text) RETURNS text
LANGUAGE plpgsql AS $$
DECLARE
	st text;
	m text;
	d text;
	h text;
BEGIN
	EXECUTE p_sql;
	RETURN 'accepted';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, m = MESSAGE_TEXT,
		d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
	RETURN st || '|' || m || '|' || coalesce(nullif(d, ''), '-') || '|' || coalesce(nullif(h, ''), '-');
END
$$;
GRANT EXECUTE ON FUNCTION pg_temp.error_of(text) TO PUBLIC;

INSERT INTO municipality (code, name, region) VALUES
	('101', 'København', 'Hovedstaden'), ('147', 'Frederiksberg', 'Hovedstaden'),
	('751', 'Aarhus', 'Midtjylland');
INSERT INTO consumer_system (code, name, class) VALUES ('KOMM', 'Kommunalt sagssystem', 'municipal');
INSERT INTO service (code, name, platform, funding, billing) VALUES
	('CPR', 'CPR-opslag', 'serviceplatform', 'ordered', 'per_call');
INSERT INTO tariff (service_code, valid_from, unit_price) VALUES ('CPR', '2020-01-01', 0.50);
INSERT INTO billing_year (year) VALUES (2021), (2022);
INSERT INTO population (year, municipality_code, citizens) VALUES
	(2021, '101', 600000), (2021, '147', 100000), (2021, '751', 300000);
INSERT INTO cost_entry (entry_key, year, cost_type, basis, amount) VALUES
	('e21-sa-exp', 2021, 'support_admin', 'expected', 1234567.89);
INSERT INTO usage_batch (batch_key) VALUES ('u2021');
INSERT INTO usage (period, municipality_code, system_code, service_code, calls, batch_key) VALUES
	('2021-01-01', '101', 'KOMM', 'CPR', 1000, 'u2021'),
	('2021-01-01', '147', 'KOMM', 'CPR', 100, 'u2021');

CREATE ROLE rl_admin NOLOGIN IN ROLE afregning_admin;
CREATE ROLE rl_reader NOLOGIN IN ROLE afregning_reader;
CREATE ROLE rl_kbh NOLOGIN IN ROLE afregning_municipality;
INSERT INTO municipality_role (role_name, municipality_code) VALUES ('rl_kbh', '101');

/* ---- shape ---------------------------------------------------------------- */

SELECT columns_are('afregning', 'settlement_run', ARRAY[
	'run_id', 'job', 'period', 'started_at', 'finished_at', 'status', 'rows_posted', 'result',
	'error_message', 'run_by', 'sqlstate', 'detail', 'hint', 'phase', 'backend_pid',
	'session_role', 'acting_role', 'entry'],
	'settlement_run keeps its 0.1.0 columns and gains SQLSTATE, DETAIL, HINT, phase, pid, roles and entry');
SELECT columns_are('afregning', 'settlement_status', ARRAY[
	'run_id', 'job', 'period', 'who', 'session_role', 'started', 'finished', 'state', 'sqlstate',
	'message', 'detail', 'hint', 'phase', 'rows_posted', 'result', 'entry'],
	'settlement_status has the columns of SPEC §6 plus phase');
SELECT is((SELECT string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod), ', ' ORDER BY a.attnum)
			 FROM pg_attribute a WHERE a.attrelid = 'afregning.settlement_status'::regclass
			  AND a.attname IN ('job', 'who', 'state', 'sqlstate', 'started', 'rows_posted')),
	'job character varying(32), who character varying(63), started timestamp with time zone, '
	'state character varying(16), sqlstate character varying(5), rows_posted bigint',
	'its columns have definite types');
SELECT is((SELECT prokind::text || ' ' || prosecdef || ' ' || coalesce(array_to_string(proconfig, ','), 'none')
			 FROM pg_proc WHERE oid = 'afregning.run_settlement_step(text, date)'::regprocedure),
	'p false none',
	'run_settlement_step is a procedure without SECURITY DEFINER or SET (so that it may commit)');

/* ---- refusals before anything is logged --------------------------------------- */

SET LOCAL ROLE rl_admin;
SELECT is(pg_temp.error_of($$SELECT afregning.log_step_start('frobnicate', '2021-01-01')$$),
	'22023|unknown settlement job frobnicate|-|Use one of bill_direct, announce_price, close_year, preview_price.',
	'an unknown job is refused with 22023 and a HINT listing the jobs');
SELECT is(split_part(pg_temp.error_of($$SELECT afregning.log_step_start('close_year', NULL)$$), '|', 1),
	'22004', 'a null period is refused with 22004');
SELECT is(split_part(pg_temp.error_of($$SELECT afregning.log_step_start('close_year', 'infinity')$$), '|', 1),
	'22023', 'an infinite period is refused with 22023, like every bad parameter');
SELECT is(split_part(pg_temp.error_of($$SELECT afregning.log_step_start('close_year', '-infinity', 'direct')$$), '|', 1),
	'22023', 'so is minus infinity');
SELECT is(split_part(pg_temp.error_of($$SELECT afregning.log_step_start('close_year', '2021-01-01', 'cron')$$), '|', 1),
	'22023', 'an unknown way of calling is refused with 22023');
SELECT is(split_part(pg_temp.error_of($$SELECT * FROM afregning.run_settlement('bill_direct', 'infinity')$$), '|', 1),
	'22023', 'run_settlement refuses an infinite period with 22023');
SELECT is(split_part(pg_temp.error_of($$CALL afregning.run_settlement_step('bill_direct', 'infinity')$$), '|', 1),
	'22023', 'so does run_settlement_step, before it commits anything');
RESET ROLE;
SELECT is((SELECT count(*) FROM settlement_run), 0::bigint, 'the refusals logged nothing');

/* ---- a step called by hand ---------------------------------------------------- */

SET LOCAL ROLE rl_admin;
CREATE TEMP TABLE m1 AS SELECT afregning.log_step_start('announce_price', '2021-07-15') AS run_id;
SELECT is(afregning.log_step_start('announce_price', '2021-01-01'), (SELECT run_id FROM m1),
	'a second start of the same running step in this session returns the same run (no double row)');
RESET ROLE;
SELECT results_eq(
	$$SELECT job, period, status, entry, run_by, session_role, acting_role,
			 backend_pid = pg_backend_pid(), finished_at IS NULL
		FROM settlement_run$$,
	$$VALUES ('announce_price', '2021-01-01'::date, 'running', 'direct', session_user, session_user,
			  'rl_admin'::name, true, true)$$,
	'log_step_start records the step running under the first day of its year, with the session user and the role it SET ROLE to');
SET LOCAL ROLE rl_admin;
SELECT is(announce_price(2021), 1.23, 'the step runs (2021 at 1.23)');
SELECT lives_ok($$SELECT afregning.log_step_end((SELECT run_id FROM m1), '1.23', 3)$$,
	'log_step_end records what it returned and posted');
RESET ROLE;
SET CONSTRAINTS afregning.settlement_run_finish_at_commit IMMEDIATE;
SET CONSTRAINTS afregning.settlement_run_finish_at_commit DEFERRED;
SELECT results_eq(
	$$SELECT status, result, rows_posted, finished_at >= started_at, sqlstate FROM settlement_run$$,
	$$VALUES ('succeeded', '1.23', 3, true, NULL::text)$$,
	'the run has succeeded with its result, lines and end');

/* a step that records only its start is recorded as succeeded when it commits */
SET LOCAL ROLE rl_admin;
CREATE TEMP TABLE m2 AS SELECT afregning.log_step_start('preview_price', '2022-01-01') AS run_id;
SELECT is((SELECT citizens FROM preview_price(2022)), 0::bigint, 'the 2022 preview runs (no citizens yet)');
RESET ROLE;
SELECT is((SELECT status FROM settlement_run WHERE run_id = (SELECT run_id FROM m2)), 'running',
	'until it commits the step is running');
/* what the commit does: the deferred trigger fires */
SET CONSTRAINTS afregning.settlement_run_finish_at_commit IMMEDIATE;
SET CONSTRAINTS afregning.settlement_run_finish_at_commit DEFERRED;
SELECT results_eq(
	$$SELECT status, entry, finished_at >= started_at FROM settlement_run WHERE run_id = (SELECT run_id FROM m2)$$,
	$$VALUES ('succeeded', 'direct', true)$$,
	'at commit it is recorded as succeeded');

SET LOCAL ROLE rl_admin;
SELECT is(pg_temp.error_of($$SELECT afregning.log_step_end(-1, 'x', 0)$$),
	'22023|run -1 is not a step of this session|-|Pass the run_id that log_step_start() returned.',
	'log_step_end of a run that is not this session''s is refused with 22023');
SELECT is(split_part(pg_temp.error_of($$SELECT afregning.log_step_failed((SELECT run_id FROM m2), '55000', 'x', NULL, NULL)$$), '|', 1),
	'22023', 'a finished run cannot be marked failed');

/* ---- run_settlement: success returns the run, failure raises ---------------------- */

CREATE TEMP TABLE r1 AS SELECT * FROM afregning.run_settlement('preview_price', '2022-03-01');
SELECT results_eq($$SELECT job, period, status, rows_posted, entry, phase FROM r1$$,
	$$VALUES ('preview_price', '2022-01-01'::date, 'succeeded', 0, 'function', 'done')$$,
	'run_settlement returns its succeeded run, with the last phase reported');
SELECT is(pg_temp.error_of($$SELECT afregning.run_settlement('close_year', '2022-01-01')$$),
	'55000|cannot close 2022 before its price is announced|-|Announce it first with afregning.announce_price(2022).',
	'a failing run_settlement raises the step''s own error, SQLSTATE and HINT (no success with a warning)');
RESET ROLE;
SELECT is((SELECT count(*) FROM settlement_run), 3::bigint, 'its log row rolled back with it (3 runs)');
SELECT is((SELECT status FROM billing_year WHERE year = 2022), 'open', 'and 2022 is still open');

/* ---- reraise: an error from its parts ------------------------------------------- */

SET LOCAL ROLE rl_admin;
SELECT is(pg_temp.error_of($$SELECT afregning.reraise('55000', 'boom', 'the detail', 'the hint')$$),
	'55000|boom|the detail|the hint', 'reraise raises the SQLSTATE, message, DETAIL and HINT it is given');
SELECT is(pg_temp.error_of($$SELECT afregning.reraise('23505', 'dup', NULL, '')$$),
	'23505|dup|-|-', 'a null or empty DETAIL or HINT is left out');
SELECT is(split_part(pg_temp.error_of($$SELECT afregning.reraise('5500', 'x', NULL, NULL)$$), '|', 1),
	'22023', 'a malformed SQLSTATE is refused with 22023');
SELECT is(split_part(pg_temp.error_of($$SELECT afregning.reraise('01000', 'x', NULL, NULL)$$), '|', 1),
	'22023', 'so is one that is not an error (a warning)');
SELECT is(split_part(pg_temp.error_of($$SELECT afregning.reraise('55000', NULL, NULL, NULL)$$), '|', 1),
	'22004', 'a null message is refused with 22004');
SELECT is(split_part(pg_temp.error_of($$SELECT afregning.report_phase(NULL, 'x', 1)$$), '|', 1),
	'22004', 'report_phase without a job is refused with 22004');
SELECT lives_ok($$SELECT afregning.report_phase('close_year', 'rating usage', NULL)$$,
	'report_phase without rows is fine');
RESET ROLE;

/* ---- the view: states, live phase, and steps whose session is gone ------------------ */

INSERT INTO settlement_run (job, period, status, run_by, session_role, acting_role, backend_pid, entry)
VALUES ('close_year', '2021-01-01', 'running', 'x', 'x', 'x', 0, 'procedure'),
	   ('close_year', '2022-01-01', 'running', 'y', 'y', 'y', pg_backend_pid(), 'procedure');
INSERT INTO settlement_run (job, period, status, finished_at, sqlstate, error_message, run_by, session_role,
							acting_role, backend_pid, entry)
VALUES ('bill_direct', '2021-02-01', 'refused', now(), '55P03', 'bill_direct for 2021-02-01 is already running',
		'z', 'z', 'z', 1, 'procedure');
SELECT is((SELECT string_agg(who || '|' || state || '|' || coalesce(sqlstate, '-') || '|' || coalesce(message, '-')
						   || '|' || coalesce(phase, '-'), '; ' ORDER BY who)
			 FROM settlement_status WHERE who IN ('x', 'y', 'z')),
	'x|failed|57P01|the session ended before the step finished|-; '
	'y|running|-|-|running; '
	'z|failed|55P03|bill_direct for 2021-02-01 is already running|-',
	'settlement_status: a running step of a gone session is failed (57P01), a live one running, a refused one failed (55P03)');
SELECT throws_ok($$INSERT INTO settlement_run (job, period, status, run_by, session_role, acting_role, entry)
				   VALUES ('close_year', '2021-01-01', 'succeeded', 'x', 'x', 'x', 'direct')$$, '23514', NULL,
	'a finished state needs an end (the outcome check)');
SELECT throws_ok($$INSERT INTO settlement_run (job, period, status, run_by, session_role, acting_role, entry)
				   VALUES ('vacuum', '2021-01-01', 'running', 'x', 'x', 'x', 'direct')$$, '23514', NULL,
	'the job check still holds');

/* ---- who may read and run ---------------------------------------------------- */

CREATE TEMP TABLE counted AS SELECT count(*) AS n FROM settlement_status;
GRANT SELECT ON counted TO PUBLIC;
SET LOCAL ROLE rl_kbh;
SELECT is((SELECT count(*) FROM afregning.settlement_status), (SELECT n FROM counted),
	'a municipality role reads the whole of settlement_status (national, like the price)');
SELECT throws_ok('SELECT * FROM afregning.settlement_run', '42501', NULL,
	'but not the table behind it');
SELECT throws_ok($$SELECT afregning.log_step_start('close_year', '2021-01-01')$$, '42501', NULL,
	'nor log a step');
SELECT throws_ok($$CALL afregning.run_settlement_step('close_year', '2021-01-01')$$, '42501', NULL,
	'nor run one');
RESET ROLE;
SET LOCAL ROLE rl_reader;
SELECT is((SELECT count(*) FROM afregning.settlement_status), (SELECT n FROM counted),
	'the reader role reads settlement_status');
SELECT throws_ok($$SELECT afregning.run_step(1)$$, '42501', NULL, 'but cannot run a step');
RESET ROLE;
SELECT is((SELECT count(*) FROM settlement_run), (SELECT n FROM counted),
	'and none of them changed the log');

/* in a transaction block the procedure cannot commit: it says so and commits nothing */
SET LOCAL ROLE rl_admin;
SELECT is(split_part(pg_temp.error_of($$CALL afregning.run_settlement_step('close_year', '2021-01-01')$$), '|', 1),
	'2D000', 'CALL run_settlement_step inside a transaction block is refused with 2D000');
RESET ROLE;
SELECT is((SELECT count(*) FROM settlement_run), (SELECT n FROM counted), 'and leaves no row');

SELECT * FROM finish();
ROLLBACK;
