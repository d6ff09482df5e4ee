
/* ------------------------------------------------------------------
 * Live monthly summaries of usage (SPEC §6 usage_month, §8)
 *
 * Every statement that loads usage adds its rows' calls to one sum per
 * month, municipality, consumer system and service, in the statement
 * itself: the usage CHECK adds each row it lets in to the statement's
 * sums in C (src/usage_summary.c), and an AFTER STATEMENT trigger writes
 * them, in key order so that two loads of the same keys cannot deadlock.
 * A month holds tens of thousands of such sums however many rows its
 * batches bring, so usage_month, bill_direct() and close_year() read the
 * sums and never the raw rows.
 *
 * The sums are written by the loading statement, so they commit or roll
 * back with the rows: a refused row refuses the statement, and nothing is
 * added.  Usage is append-only (UPDATE, DELETE and TRUNCATE are refused as
 * for every ledger), so loading is the only change the sums follow.  A key
 * that two transactions load at once is added to by both under READ
 * COMMITTED (the second waits for the first); under REPEATABLE READ or
 * SERIALIZABLE the second fails with 40001 and is retried.
 *
 * Loads go through afregning.usage, whose statement triggers these are
 * (only the extension's owner may insert into a partition directly, and
 * such rows are not summed).  A new table in 0.2.0: an upgrade fills it
 * from the usage it finds.  A dump carries it with the usage partitions;
 * in restore mode the check adds nothing, since the dump brings the sums.
 * ------------------------------------------------------------------ */

CREATE TABLE @extschema@.usage_summary (
	period				date NOT NULL,
	municipality_code	text COLLATE "C" NOT NULL,
	system_code			text COLLATE "C" NOT NULL,
	service_code		text COLLATE "C" NOT NULL,
	calls				bigint NOT NULL,
	usage_rows			bigint NOT NULL,
	CONSTRAINT usage_summary_pkey
		PRIMARY KEY (period, municipality_code, system_code, service_code),
	CONSTRAINT usage_summary_counts CHECK (calls >= 0 AND usage_rows > 0)
);
COMMENT ON TABLE @extschema@.usage_summary IS
	'Monthly sums of usage (månedligt forbrug) per municipality, consumer system and service, kept by the statements that load usage: what usage_month, bill_direct() and close_year() read';
COMMENT ON COLUMN @extschema@.usage_summary.period IS 'Month (first day)';
COMMENT ON COLUMN @extschema@.usage_summary.municipality_code IS 'Calling municipality';
COMMENT ON COLUMN @extschema@.usage_summary.system_code IS 'Calling consumer system';
COMMENT ON COLUMN @extschema@.usage_summary.service_code IS 'Service called';
COMMENT ON COLUMN @extschema@.usage_summary.calls IS 'Calls of the month loaded so far';
COMMENT ON COLUMN @extschema@.usage_summary.usage_rows IS 'Usage rows the sum is made of';
REVOKE ALL ON @extschema@.usage_summary FROM PUBLIC;
SELECT pg_catalog.pg_extension_config_dump('@extschema@.usage_summary', '');

/* an upgraded database: its usage so far (a fresh install has none) */
INSERT INTO @extschema@.usage_summary
	(period, municipality_code, system_code, service_code, calls, usage_rows)
SELECT u.period, u.municipality_code, u.system_code, u.service_code,
	   sum(u.calls)::bigint, count(*)
  FROM @extschema@.usage u
 GROUP BY 1, 2, 3, 4;

CREATE FUNCTION @extschema@.usage_summary_reset()
RETURNS trigger
AS 'MODULE_PATHNAME', 'usage_summary_reset'
LANGUAGE C VOLATILE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.usage_summary_reset() IS
	'Trigger: a statement loading usage starts with no pending monthly sums';
REVOKE ALL ON FUNCTION @extschema@.usage_summary_reset() FROM PUBLIC;

CREATE FUNCTION @extschema@.usage_summary_pending(OUT period date, OUT municipality_code text,
	OUT system_code text, OUT service_code text, OUT calls bigint, OUT usage_rows bigint)
RETURNS SETOF record
AS 'MODULE_PATHNAME', 'usage_summary_pending'
LANGUAGE C VOLATILE PARALLEL UNSAFE ROWS 10000;
COMMENT ON FUNCTION @extschema@.usage_summary_pending() IS
	'Internal: the monthly sums of the usage the current statement loaded, one row per month, municipality, system and service, in that order; reading them empties them';
REVOKE ALL ON FUNCTION @extschema@.usage_summary_pending() FROM PUBLIC;

CREATE FUNCTION @extschema@.usage_summary_apply()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	INSERT INTO @extschema@.usage_summary AS s
		(period, municipality_code, system_code, service_code, calls, usage_rows)
	/* in key order, as usage_summary_pending() returns them */
	SELECT p.period, p.municipality_code, p.system_code, p.service_code, p.calls, p.usage_rows
	  FROM @extschema@.usage_summary_pending() p
	ON CONFLICT (period, municipality_code, system_code, service_code)
	DO UPDATE SET calls = s.calls + excluded.calls,
				  usage_rows = s.usage_rows + excluded.usage_rows;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION @extschema@.usage_summary_apply() IS
	'Trigger: adds the monthly sums of the usage a statement loaded to usage_summary, in the statement''s own transaction';
REVOKE ALL ON FUNCTION @extschema@.usage_summary_apply() FROM PUBLIC;

CREATE TRIGGER usage_summary_start BEFORE INSERT ON @extschema@.usage
	FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.usage_summary_reset();
CREATE TRIGGER usage_summary_insert AFTER INSERT ON @extschema@.usage
	FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.usage_summary_apply();
/* also while a session replays in replica mode: the check decides */
ALTER TABLE @extschema@.usage ENABLE ALWAYS TRIGGER usage_summary_start;
ALTER TABLE @extschema@.usage ENABLE ALWAYS TRIGGER usage_summary_insert;
