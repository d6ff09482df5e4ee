
/* ------------------------------------------------------------------
 * Month-local reads of usage (SPEC §8)
 *
 * Usage is partitioned by year and arrives month by month, so within a
 * partition the rows of a month lie together.  A BRIN index on period
 * (a few pages per year, next to nothing to maintain while loading) lets
 * a query of one month's raw rows (an audit of a batch, say) read that
 * month's block ranges instead of the whole year.  The settlement itself
 * reads the monthly sums (63_usage_summary.sql).
 *
 * The index is made on each partition, not on the partitioned table: an
 * index of the parent would belong to the extension, and a restored dump
 * would then bring each partition's index twice (once attached to the
 * parent's, once from the dump).  Made per partition, the dump carries
 * them like the partitions themselves.
 * ------------------------------------------------------------------ */

CREATE FUNCTION @extschema@.create_usage_period_index(p_year integer)
RETURNS void
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	IF to_regclass(format('%I.%I', '@extschema@', @extschema@.usage_partition(p_year))) IS NULL
	   OR to_regclass(format('%I.%I', '@extschema@', @extschema@.usage_partition(p_year) || '_period_brin')) IS NOT NULL THEN
		RETURN;
	END IF;
	EXECUTE format('CREATE INDEX %I ON %I.%I USING brin (period)',
				   @extschema@.usage_partition(p_year) || '_period_brin', '@extschema@', @extschema@.usage_partition(p_year));
	EXECUTE format('COMMENT ON INDEX %I.%I IS %L', '@extschema@', @extschema@.usage_partition(p_year) || '_period_brin',
				   'Block ranges of each month of the partition, so that a month is read without scanning its year');
END
$$;
COMMENT ON FUNCTION @extschema@.create_usage_period_index(integer) IS
	'Internal: creates the BRIN index on period of a year''s usage partition, if the partition exists and has none';
REVOKE ALL ON FUNCTION @extschema@.create_usage_period_index(integer) FROM PUBLIC;

CREATE FUNCTION @extschema@.create_usage_period_index_trigger()
RETURNS trigger
LANGUAGE plpgsql
SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
	/* a restored dump brings the partitions' indexes along */
	IF NOT @extschema@.restoring() THEN
		PERFORM @extschema@.create_usage_period_index(NEW.year::integer);
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION @extschema@.create_usage_period_index_trigger() IS
	'Trigger: gives the usage partition of a new billing year its BRIN index on period';
REVOKE ALL ON FUNCTION @extschema@.create_usage_period_index_trigger() FROM PUBLIC;

/* fires after billing_year_partition (triggers fire in name order) */
CREATE TRIGGER billing_year_period_index AFTER INSERT ON @extschema@.billing_year
	FOR EACH ROW EXECUTE FUNCTION @extschema@.create_usage_period_index_trigger();
ALTER TABLE @extschema@.billing_year ENABLE ALWAYS TRIGGER billing_year_period_index;

/* partitions made before an upgrade get theirs now; a fresh install has none */
SELECT @extschema@.create_usage_period_index(b.year)
  FROM @extschema@.billing_year b;
