
/* ------------------------------------------------------------------
 * Live monthly summaries of usage (SPEC §6 usage_month, §8)
 *
 * Every statement that loads usage adds its rows' calls to one sum per
 * month, municipality, consumer system and service, in the statement
 * itself: a statement trigger reads the rows it loaded (its transition
 * table), groups them once and adds the sums, in key order so that two
 * loads of the same keys cannot deadlock.  A month holds tens of
 * thousands of such sums however many rows its batches bring, so
 * usage_month, bill_direct() and close_year() read the sums and never
 * the raw rows.
 *
 * The sums are written by the loading transaction, so they commit or
 * roll back with the rows: a refused row refuses the statement, and
 * nothing is added.  A key that two transactions load at once is added
 * to by both under READ COMMITTED (the second waits for the first); under
 * REPEATABLE READ or SERIALIZABLE the second fails with 40001 and is
 * retried, like any concurrent update.
 *
 * A new table in 0.2.0: an upgrade fills it from the usage it finds.
 * A dump carries it with the usage partitions, whose rows it restores
 * directly into each partition (no trigger fires); restored through the
 * partitioned table with afregning.restore_mode on, the trigger adds
 * nothing either, since the dump brings the sums.
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

/*
 * Add the rows a statement loaded, one sum per key.  Usage is append-only
 * (its UPDATE, DELETE and TRUNCATE are refused as for every ledger), so
 * loading is the only change the sums follow.
 */
CREATE FUNCTION @extschema@.usage_summary_apply()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	/* a restore brings the sums with the rows */
	IF @extschema@.restoring() THEN
		RETURN NULL;
	END IF;
	INSERT INTO @extschema@.usage_summary AS s
		(period, municipality_code, system_code, service_code, calls, usage_rows)
	SELECT n.period, n.municipality_code, n.system_code, n.service_code,
		   sum(n.calls)::bigint, count(*)
	  FROM new_rows n
	 GROUP BY 1, 2, 3, 4
	 ORDER BY 1, 2, 3, 4
	ON CONFLICT (period, municipality_code, system_code, service_code)
	DO UPDATE SET calls = s.calls + excluded.calls,
				  usage_rows = s.usage_rows + excluded.usage_rows;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION @extschema@.usage_summary_apply() IS
	'Trigger: adds the calls of the usage rows a statement loaded to usage_summary, in the statement''s own transaction';
REVOKE ALL ON FUNCTION @extschema@.usage_summary_apply() FROM PUBLIC;

CREATE TRIGGER usage_summary_insert AFTER INSERT ON @extschema@.usage
	REFERENCING NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION @extschema@.usage_summary_apply();
/* also while a session replays in replica mode: the function decides */
ALTER TABLE @extschema@.usage ENABLE ALWAYS TRIGGER usage_summary_insert;
