
/* ------------------------------------------------------------------
 * C functions: largest-remainder apportionment
 * ------------------------------------------------------------------ */

/*
 * IMMUTABLE like core's row_number(): the result depends only on the rows
 * of the partition and their order.  Not STRICT: a null total or weight on
 * any row of the partition is an error (22004), not a null part.
 */
CREATE FUNCTION @extschema@.apportion(total numeric, weight numeric)
	RETURNS numeric
	AS 'MODULE_PATHNAME', 'apportion'
	LANGUAGE C WINDOW IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.apportion(numeric, numeric) IS
	'Window function: this row''s part of total, split over all rows of the window partition in proportion to weight by largest-remainder (Hamilton) apportionment at øre (fordeling efter største rest), so that the parts sum exactly to total. total is rounded half away from zero to two decimals first and must be the same on every row of the partition; weights need not sum to 1 and must not be negative; zero weights get 0.00. Left-over øre go to the largest remainders, ties to the larger weight, then to the row first in the window''s ORDER BY (use ORDER BY key COLLATE "C" for byte-wise key order; without ORDER BY the tie order is unspecified). A negative total is split as the mirror image of its magnitude. The window frame is ignored. Errors: 22004 null total or weight (the function is not STRICT), 22023 negative weight or totals that differ within the partition, 22012 non-zero total over zero total weight, 22003 a total whose øre do not fit a 64-bit integer. Weights are never rounded: any scale and size is split exactly (in 64-bit integers when they fit at a common scale, in numeric otherwise).';
REVOKE ALL ON FUNCTION @extschema@.apportion(numeric, numeric) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION @extschema@.apportion(numeric, numeric) TO afregning_admin, afregning_reader, afregning_municipality;
