/*-------------------------------------------------------------------------
 *
 * apportion.c
 *	  Largest-remainder (Hamilton) apportionment at øre, as a window
 *	  function: afregning.apportion(total numeric, weight numeric) OVER (...).
 *
 * The total, rounded half away from zero to whole øre, is split over all
 * rows of the window partition in proportion to their weights so that the
 * parts sum exactly to the total (SPEC §4.4 and S2):
 *
 *	1. every row gets floor(|total| × weight / Σ weight) øre;
 *	2. the øre left over go one each to the rows with the largest
 *	   remainders; ties go to the larger weight, then to the row that comes
 *	   first in the window's ORDER BY;
 *	3. a negative total is split as the mirror image of its magnitude.
 *
 * The frame is ignored: on the first call of a partition every row of it
 * is read, all parts are computed at once and kept in partition-local
 * memory, and each call returns the part of the current row.
 *
 * The arithmetic is exact.  The total is an int64 in øre.  Weights of any
 * scale are accepted (SPEC S13: an order share of 1/3.0 has 20 decimals):
 * when every weight fits an int64 at their common scale (the largest number
 * of significant decimals among them, at most 18), the products
 * total × weight and their remainders are int128; otherwise the same steps
 * run in exact numeric arithmetic (products, truncating division and
 * remainders of numerics are exact), which gives the same parts, only
 * slower.  Weights are never rounded: only their ratios matter, and
 * rounding them would move øre between the rows.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/int.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/memutils.h"
#include "utils/numeric.h"
#include "windowapi.h"

#include "amount.h"

/* Most decimals of the int64 path: 10^18 is the largest power in int64. */
#define APPORTION_MAX_WEIGHT_SCALE	18

/* Argument numbers of apportion(total, weight) */
#define ARG_TOTAL	0
#define ARG_WEIGHT	1

/* What a partition keeps between calls, in partition-local memory */
typedef struct ApportionState
{
	bool		computed;		/* have the parts been computed yet? */
	int64		nrows;			/* number of rows in the partition */
	int64	   *parts;			/* part of each row in øre, by position */
} ApportionState;

/* A row that competes for a left-over øre */
typedef struct ApportionRow
{
	int128		remainder;		/* |total| × weight mod Σ weight */
	int64		weight;			/* weight at the common scale */
	int64		position;		/* position in the partition, from 0 */
} ApportionRow;

/* A row that competes for a left-over øre, on the exact numeric path */
typedef struct ApportionNumericRow
{
	Numeric		remainder;		/* |total| × weight mod Σ weight */
	Numeric		weight;			/* the weight as given */
	int64		position;		/* position in the partition, from 0 */
} ApportionNumericRow;

/* Text of a numeric, for error details */
static char *
numeric_text(Numeric value)
{
	return DatumGetCString(DirectFunctionCall1(numeric_out,
											   NumericGetDatum(value)));
}

/* Read argument argno of the row at position pos (from 0) of the partition */
static Datum
partition_arg(WindowObject winobj, int argno, int64 pos, bool *isnull)
{
	bool		isout;
	Datum		value;

	value = WinGetFuncArgInPartition(winobj, argno, (int) pos,
									 WINDOW_SEEK_HEAD, false,
									 isnull, &isout);
	if (isout)
		elog(ERROR, "apportion: row " INT64_FORMAT " is outside its partition",
			 pos + 1);
	if (*isnull && argno == ARG_TOTAL)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("apportion total must not be null"),
				 errdetail("Row " INT64_FORMAT " of the window partition has a null total.",
						   pos + 1),
				 errhint("Every row of a partition must carry the same total.")));
	if (*isnull)
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("apportion weight must not be null"),
				 errdetail("Row " INT64_FORMAT " of the window partition has a null weight.",
						   pos + 1),
				 errhint("Use coalesce(weight, 0) to give a row without a weight nothing.")));
	return value;
}

/*
 * Check one weight (finite, not negative).  If it has at most 18
 * significant decimals and fits an int64 at its own scale, store it there
 * in *scaled, its scale in *scale, and return true; otherwise return false
 * (the partition is then split on the exact numeric path).
 */
static bool
check_weight(Numeric weight, int64 pos, Numeric zero, Numeric limit,
			 int64 *scaled, int *scale)
{
	Numeric		product;
	bool		have_error = false;

	if (numeric_is_nan(weight) || numeric_is_inf(weight))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("apportion weight must be a finite number"),
				 errdetail("Row " INT64_FORMAT " of the window partition has weight %s.",
						   pos + 1, numeric_text(weight))));

	if (DatumGetInt32(DirectFunctionCall2(numeric_cmp, NumericGetDatum(weight),
										  NumericGetDatum(zero))) < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("apportion weight must not be negative"),
				 errdetail("Row " INT64_FORMAT " of the window partition has weight %s.",
						   pos + 1, numeric_text(weight)),
				 errhint("Weights are shares of the total; give a row that gets nothing weight 0.")));

	*scale = DatumGetInt32(DirectFunctionCall1(numeric_min_scale,
											   NumericGetDatum(weight)));
	if (*scale > APPORTION_MAX_WEIGHT_SCALE)
		return false;

	/* weight × 10^scale is an integer; it must not exceed int64 */
	product = numeric_mul_opt_error(weight,
									int64_to_numeric(pow10_int64(*scale)),
									&have_error);
	if (have_error ||
		DatumGetInt32(DirectFunctionCall2(numeric_cmp, NumericGetDatum(product),
										  NumericGetDatum(limit))) > 0)
		return false;

	*scaled = DatumGetInt64(DirectFunctionCall1(numeric_int8,
												NumericGetDatum(product)));
	return true;
}

/* qsort order of the rows that compete for a left-over øre: best first */
static int
compare_rows(const void *a, const void *b)
{
	const ApportionRow *ra = (const ApportionRow *) a;
	const ApportionRow *rb = (const ApportionRow *) b;

	if (ra->remainder != rb->remainder)
		return ra->remainder > rb->remainder ? -1 : 1;
	if (ra->weight != rb->weight)
		return ra->weight > rb->weight ? -1 : 1;
	if (ra->position != rb->position)
		return ra->position < rb->position ? -1 : 1;
	return 0;
}

/* qsort order on the exact numeric path: the same order as compare_rows */
static int
compare_numeric_rows(const void *a, const void *b)
{
	const ApportionNumericRow *ra = (const ApportionNumericRow *) a;
	const ApportionNumericRow *rb = (const ApportionNumericRow *) b;
	int			c;

	c = DatumGetInt32(DirectFunctionCall2(numeric_cmp,
										  NumericGetDatum(ra->remainder),
										  NumericGetDatum(rb->remainder)));
	if (c != 0)
		return -c;
	c = DatumGetInt32(DirectFunctionCall2(numeric_cmp,
										  NumericGetDatum(ra->weight),
										  NumericGetDatum(rb->weight)));
	if (c != 0)
		return -c;
	if (ra->position != rb->position)
		return ra->position < rb->position ? -1 : 1;
	return 0;
}

/* The øre left over are fewer than the rows with a remainder: check it */
static void
check_leftover(int128 leftover, int64 ncompeting)
{
	if (leftover < 0 || (leftover > 0 && leftover >= ncompeting))
		elog(ERROR, "apportion: " INT64_FORMAT " units left over for " INT64_FORMAT " remainders",
			 (int64) leftover, ncompeting);
}

/* Raise the error for a non-zero total over a total weight of zero */
static void
report_zero_weight(Numeric total)
{
	ereport(ERROR,
			(errcode(ERRCODE_DIVISION_BY_ZERO),
			 errmsg("cannot apportion a non-zero total over a total weight of zero"),
			 errdetail("The total is %s, but every weight of the window partition is 0.",
					   numeric_text(total)),
			 errhint("Give at least one row a positive weight.")));
}

/*
 * Split magnitude (øre, > 0) over int64 weights at a common scale into
 * parts[], largest remainders first.
 */
static void
split_int64(int64 magnitude, const int64 *weights, int64 nrows,
			int64 *parts, Numeric total)
{
	int128		weight_sum = 0;
	int128		floor_sum = 0;
	int128		leftover;
	ApportionRow *rows;
	int64		ncompeting = 0;
	int64		pos;

	/* fewer than 2^31 weights below 2^63 sum to less than 2^94 */
	for (pos = 0; pos < nrows; pos++)
		weight_sum += weights[pos];
	if (weight_sum == 0)
		report_zero_weight(total);

	/*
	 * Floor of each quota, in int128: magnitude × weight < 2^63 × 2^63 =
	 * 2^126; each quotient is at most the magnitude, and so is their sum.
	 */
	rows = (ApportionRow *) palloc_extended(sizeof(ApportionRow) * nrows,
											MCXT_ALLOC_HUGE);
	for (pos = 0; pos < nrows; pos++)
	{
		int128		product = (int128) magnitude * weights[pos];
		int128		quotient = product / weight_sum;
		int128		remainder = product % weight_sum;

		parts[pos] = (int64) quotient;
		floor_sum += quotient;
		if (remainder > 0)
		{
			rows[ncompeting].remainder = remainder;
			rows[ncompeting].weight = weights[pos];
			rows[ncompeting].position = pos;
			ncompeting++;
		}
	}

	/*
	 * The øre left over are the sum of the fractional parts of the quotas,
	 * each below 1, so there are fewer of them than rows with a remainder.
	 */
	leftover = (int128) magnitude - floor_sum;
	check_leftover(leftover, ncompeting);
	if (leftover > 0)
	{
		qsort(rows, ncompeting, sizeof(ApportionRow), compare_rows);
		for (int64 i = 0; i < (int64) leftover; i++)
			parts[rows[i].position]++;
	}
	pfree(rows);
}

/*
 * Split magnitude (øre, > 0) over weights that do not fit int64, in exact
 * numeric arithmetic: quota floor div(|total| × w, Σ w), remainder
 * mod(|total| × w, Σ w).  Every quotient is at most the magnitude, so
 * it fits int64.  The weights are read again from the partition (they
 * were validated by the first pass), so that the fast path never keeps a
 * copy of them.
 */
static void
split_numeric(WindowObject winobj, int64 magnitude, int64 nrows,
			  int64 *parts, Numeric total)
{
	Numeric    *weights;
	Numeric		weight_sum = int64_to_numeric(0);
	Numeric		mag = int64_to_numeric(magnitude);
	Numeric		zero = int64_to_numeric(0);
	ApportionNumericRow *rows;
	int64		ncompeting = 0;
	int128		floor_sum = 0;
	int128		leftover;
	int64		pos;
	bool		isnull;
	bool		have_error = false;

	weights = (Numeric *) palloc_extended(sizeof(Numeric) * nrows,
										  MCXT_ALLOC_HUGE);
	for (pos = 0; pos < nrows; pos++)
	{
		weights[pos] = DatumGetNumericCopy(partition_arg(winobj, ARG_WEIGHT,
														 pos, &isnull));
		weight_sum = numeric_add_opt_error(weight_sum, weights[pos],
										   &have_error);
		if (have_error)
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("apportion weights are out of range"),
					 errdetail("The sum of the weights of the window partition does not fit numeric.")));
		CHECK_FOR_INTERRUPTS();
	}
	if (DatumGetInt32(DirectFunctionCall2(numeric_cmp,
										  NumericGetDatum(weight_sum),
										  NumericGetDatum(zero))) == 0)
		report_zero_weight(total);

	rows = (ApportionNumericRow *)
		palloc_extended(sizeof(ApportionNumericRow) * nrows, MCXT_ALLOC_HUGE);
	for (pos = 0; pos < nrows; pos++)
	{
		Numeric		product;
		Numeric		quotient;
		Numeric		remainder;

		product = numeric_mul_opt_error(mag, weights[pos], &have_error);
		if (have_error)
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("apportion weight is out of range"),
					 errdetail("Row " INT64_FORMAT " of the window partition has weight %s; the total times it does not fit numeric.",
							   pos + 1, numeric_text(weights[pos]))));
		quotient = DatumGetNumeric(DirectFunctionCall2(numeric_div_trunc,
													   NumericGetDatum(product),
													   NumericGetDatum(weight_sum)));
		remainder = DatumGetNumeric(DirectFunctionCall2(numeric_mod,
														NumericGetDatum(product),
														NumericGetDatum(weight_sum)));
		/* 0 <= quotient <= magnitude, so it fits int64 */
		parts[pos] = DatumGetInt64(DirectFunctionCall1(numeric_int8,
													   NumericGetDatum(quotient)));
		floor_sum += parts[pos];
		if (DatumGetInt32(DirectFunctionCall2(numeric_cmp,
											  NumericGetDatum(remainder),
											  NumericGetDatum(zero))) > 0)
		{
			rows[ncompeting].remainder = remainder;
			rows[ncompeting].weight = weights[pos];
			rows[ncompeting].position = pos;
			ncompeting++;
		}
		CHECK_FOR_INTERRUPTS();
	}

	leftover = (int128) magnitude - floor_sum;
	check_leftover(leftover, ncompeting);
	if (leftover > 0)
	{
		qsort(rows, ncompeting, sizeof(ApportionNumericRow),
			  compare_numeric_rows);
		for (int64 i = 0; i < (int64) leftover; i++)
			parts[rows[i].position]++;
	}
}

/*
 * Number of rows of the partition.  Rows are addressed by int offsets, and
 * split_int64() bounds its int128 sum of the weights by that count, so
 * more than PG_INT32_MAX rows are refused.
 */
static int64
partition_row_count(WindowObject winobj)
{
	int64		nrows = WinGetPartitionRowCount(winobj);

	if (nrows < 1)
		elog(ERROR, "apportion: called on an empty partition");
	if (nrows > PG_INT32_MAX)
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("apportion window partition is too large"),
				 errdetail("The partition has " INT64_FORMAT " rows; at most %d are supported.",
						   nrows, PG_INT32_MAX)));
	return nrows;
}

/*
 * The total of the first row in øre.  *first_total gets an exact copy of
 * it in the current memory context: the other rows' totals are compared
 * with it, and error details quote it.
 */
static int64
read_total(WindowObject winobj, Numeric *first_total)
{
	bool		isnull;
	int64		total;

	*first_total = DatumGetNumericCopy(partition_arg(winobj, ARG_TOTAL, 0,
													 &isnull));
	total = numeric_to_scaled(*first_total, AMOUNT_SCALE, "apportion total");
	/* the magnitude of PG_INT64_MIN does not fit int64 */
	if (total == PG_INT64_MIN)
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("apportion total is out of range"),
				 errdetail("The magnitude of the total times 100 must fit a 64-bit integer.")));
	return total;
}

/* The total of the row at position pos must equal the first row's */
static void
check_row_total(WindowObject winobj, int64 pos, Numeric first_total)
{
	bool		isnull;
	Numeric		row_total;

	row_total = DatumGetNumeric(partition_arg(winobj, ARG_TOTAL, pos,
											  &isnull));
	if (DatumGetInt32(DirectFunctionCall2(numeric_cmp,
										  NumericGetDatum(row_total),
										  NumericGetDatum(first_total))) != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("apportion total must be the same on every row of the window partition"),
				 errdetail("Row 1 of the window partition has total %s, but row " INT64_FORMAT " has %s.",
						   numeric_text(first_total), pos + 1,
						   numeric_text(row_total)),
				 errhint("Partition the window by what identifies the total, e.g. OVER (PARTITION BY invoice_id).")));
}

/*
 * Read every row of the partition once, forwards: check its total against
 * first_total and its weight.  Each weight goes to weights[] as an integer
 * at its own scale, that scale to scales[], and the largest scale to
 * *common_scale.  Returns false if some weight does not fit the int64 path.
 */
static bool
read_rows(WindowObject winobj, int64 nrows, Numeric first_total,
		  int64 *weights, uint8 *scales, int *common_scale)
{
	MemoryContext workcxt = CurrentMemoryContext;
	MemoryContext rowcxt;
	Numeric		zero = int64_to_numeric(0);
	Numeric		limit = int64_to_numeric(PG_INT64_MAX);
	bool		fits_int64 = true;
	int64		pos;

	/* Per-row scratch (detoasted values, numeric temporaries) */
	rowcxt = AllocSetContextCreate(workcxt, "apportion row",
								   ALLOCSET_SMALL_SIZES);

	for (pos = 0; pos < nrows; pos++)
	{
		Numeric		weight;
		bool		isnull;
		int			scale = 0;
		int64		scaled = 0;

		MemoryContextSwitchTo(rowcxt);

		check_row_total(winobj, pos, first_total);

		weight = DatumGetNumeric(partition_arg(winobj, ARG_WEIGHT, pos,
											   &isnull));
		if (!check_weight(weight, pos, zero, limit, &scaled, &scale))
			fits_int64 = false;
		weights[pos] = scaled;
		scales[pos] = (uint8) scale;
		if (scale > *common_scale)
			*common_scale = scale;

		MemoryContextSwitchTo(workcxt);
		MemoryContextReset(rowcxt);
		CHECK_FOR_INTERRUPTS();
	}
	MemoryContextDelete(rowcxt);
	return fits_int64;
}

/*
 * Bring every weight from its own scale to the common scale, in place.
 * Returns false if one of them then overflows int64.
 */
static bool
to_common_scale(int64 *weights, const uint8 *scales, int64 nrows,
				int common_scale)
{
	int64		pos;

	for (pos = 0; pos < nrows; pos++)
	{
		if (scales[pos] < common_scale &&
			pg_mul_s64_overflow(weights[pos],
								pow10_int64(common_scale - scales[pos]),
								&weights[pos]))
			return false;
	}
	return true;
}

/*
 * Split total (øre) into parts[]: over the int64 weights if fits_int64,
 * otherwise on the exact numeric path.
 */
static void
split_total(WindowObject winobj, int64 total, const int64 *weights,
			bool fits_int64, int64 nrows, int64 *parts, Numeric first_total)
{
	int64		magnitude = total < 0 ? -total : total;
	int64		pos;

	if (magnitude == 0)
		memset(parts, 0, sizeof(int64) * nrows);
	else if (fits_int64)
		split_int64(magnitude, weights, nrows, parts, first_total);
	else
		split_numeric(winobj, magnitude, nrows, parts, first_total);

	/* A negative total is split as the mirror image of its magnitude */
	if (total < 0)
	{
		for (pos = 0; pos < nrows; pos++)
			parts[pos] = -parts[pos];
	}
}

/*
 * Read the whole partition, validate it and store every row's part in
 * state->parts (allocated in the partition's memory context).
 *
 * The partition is read once, forwards: rewinding a tuplestore that has
 * spilled to disk is slow.  Each weight is kept as an integer at its own
 * scale and brought to the common scale afterwards; only when a weight
 * does not fit is the partition read a second time, by split_numeric().
 */
static void
compute_parts(WindowObject winobj, ApportionState *state)
{
	/* partition-local memory lives in the context reset with the partition */
	MemoryContext partcxt = GetMemoryChunkContext(state);
	MemoryContext callcxt = CurrentMemoryContext;
	MemoryContext workcxt;
	MemoryContext oldcxt;
	int64		nrows;
	Numeric		first_total;
	int64		total;
	int64	   *weights;
	uint8	   *scales;
	int			common_scale = 0;
	bool		fits_int64;

	nrows = partition_row_count(winobj);

	/* everything of this call but the parts goes when it is done */
	workcxt = AllocSetContextCreate(callcxt, "apportion",
									ALLOCSET_DEFAULT_SIZES);
	oldcxt = MemoryContextSwitchTo(workcxt);

	weights = (int64 *) palloc_extended(sizeof(int64) * nrows, MCXT_ALLOC_HUGE);
	scales = (uint8 *) palloc_extended(sizeof(uint8) * nrows, MCXT_ALLOC_HUGE);

	total = read_total(winobj, &first_total);
	fits_int64 = read_rows(winobj, nrows, first_total, weights, scales,
						   &common_scale);
	if (fits_int64)
		fits_int64 = to_common_scale(weights, scales, nrows, common_scale);

	state->parts = (int64 *) MemoryContextAllocHuge(partcxt,
													sizeof(int64) * nrows);
	state->nrows = nrows;
	split_total(winobj, total, weights, fits_int64, nrows, state->parts,
				first_total);

	/*
	 * No row is read again: move this function's mark to the end of the
	 * partition once, so that the tuplestore need not keep rows for it.
	 */
	WinSetMarkPosition(winobj, nrows - 1);

	MemoryContextSwitchTo(oldcxt);
	MemoryContextDelete(workcxt);
	state->computed = true;
}

/*
 * apportion(total numeric, weight numeric) OVER (...): this row's part of
 * the partition's total, in DKK at two decimals.
 */
PG_FUNCTION_INFO_V1(apportion);

Datum
apportion(PG_FUNCTION_ARGS)
{
	WindowObject winobj = PG_WINDOW_OBJECT();
	ApportionState *state;
	int64		curpos;

	state = (ApportionState *)
		WinGetPartitionLocalMemory(winobj, sizeof(ApportionState));
	if (!state->computed)
		compute_parts(winobj, state);

	curpos = WinGetCurrentPosition(winobj);
	if (curpos < 0 || curpos >= state->nrows)
		elog(ERROR, "apportion: current row " INT64_FORMAT " is outside its partition of " INT64_FORMAT " rows",
			 curpos + 1, state->nrows);

	PG_RETURN_NUMERIC(scaled_to_numeric(state->parts[curpos], AMOUNT_SCALE));
}
