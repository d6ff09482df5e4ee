
/* ------------------------------------------------------------------
 * Month-local reads of usage (SPEC §8)
 *
 * Usage is partitioned by year and arrives month by month, so within a
 * partition the rows of a month lie together.  A BRIN index on period
 * (a few pages per year, next to nothing to maintain while loading) lets
 * bill_direct(month) read that month's block ranges instead of the whole
 * year.  Created on the partitioned table, it is built for the existing
 * partitions (an upgrade with data) and comes with every new one.
 * ------------------------------------------------------------------ */

CREATE INDEX usage_period_brin ON @extschema@.usage USING brin (period);
COMMENT ON INDEX @extschema@.usage_period_brin IS
	'Block ranges of each month in the usage partitions, so that a month is read without scanning its year';
