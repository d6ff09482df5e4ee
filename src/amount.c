/*-------------------------------------------------------------------------
 *
 * amount.c
 *	  Exact money arithmetic shared by apportionment, rating and pricing.
 *
 * Amounts travel between SQL and C as numeric and are computed on as
 * scaled int64 (øre) with 128-bit intermediates; every step that could
 * overflow is checked, because PGXS compiles with -fwrapv and a wrapped
 * sum would be a silently wrong invoice.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"

#include "amount.h"

static const int64 pow10_table[] = {
	INT64CONST(1), INT64CONST(10), INT64CONST(100), INT64CONST(1000),
	INT64CONST(10000), INT64CONST(100000), INT64CONST(1000000),
	INT64CONST(10000000), INT64CONST(100000000), INT64CONST(1000000000),
	INT64CONST(10000000000), INT64CONST(100000000000),
	INT64CONST(1000000000000), INT64CONST(10000000000000),
	INT64CONST(100000000000000), INT64CONST(1000000000000000),
	INT64CONST(10000000000000000), INT64CONST(100000000000000000),
	INT64CONST(1000000000000000000)
};

static void
report_out_of_range(const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
			 errmsg("%s is out of range", what),
			 errdetail("Amounts are computed exactly in 64-bit integers of the smallest unit and must fit them.")));
}

/* Round half away from zero, then scale; numeric_round already rounds so. */
int64
numeric_to_scaled(Numeric value, int scale, const char *what)
{
	Datum		rounded;
	Datum		factor;
	Datum		scaled;
	bool		have_error = false;
	int64		result;

	Assert(scale >= 0 && scale <= 18);

	if (numeric_is_nan(value) || numeric_is_inf(value))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be a finite number", what)));

	rounded = DirectFunctionCall2(numeric_round, NumericGetDatum(value),
								  Int32GetDatum(scale));
	factor = NumericGetDatum(int64_to_numeric(pow10_table[scale]));
	scaled = NumericGetDatum(numeric_mul_opt_error(DatumGetNumeric(rounded),
												   DatumGetNumeric(factor),
												   &have_error));
	if (have_error)
		report_out_of_range(what);

	/* numeric_int8 would raise its own message; keep ours with the name */
	{
		Numeric		lo = int64_to_numeric(PG_INT64_MIN);
		Numeric		hi = int64_to_numeric(PG_INT64_MAX);

		if (DatumGetInt32(DirectFunctionCall2(numeric_cmp, scaled,
											  NumericGetDatum(lo))) < 0 ||
			DatumGetInt32(DirectFunctionCall2(numeric_cmp, scaled,
											  NumericGetDatum(hi))) > 0)
			report_out_of_range(what);
	}
	result = DatumGetInt64(DirectFunctionCall1(numeric_int8, scaled));
	return result;
}

Numeric
scaled_to_numeric(int64 value, int scale)
{
	Assert(scale >= 0 && scale <= 18);
	return int64_div_fast_to_numeric(value, scale);
}

int64
int128_round_shift(int128 num, int shift, const char *what)
{
	int128		div;
	int128		q;
	int128		r;
	bool		negative = num < 0;

	Assert(shift >= 0 && shift <= 18);
	div = (int128) pow10_table[shift];

	/* work on the magnitude so rounding is symmetric around zero */
	if (negative)
		num = -num;
	q = num / div;
	r = num % div;
	if (r * 2 >= div)
		q++;
	if (negative)
		q = -q;

	if (q > (int128) PG_INT64_MAX || q < (int128) PG_INT64_MIN)
		report_out_of_range(what);
	return (int64) q;
}

Numeric
int128_to_numeric(int128 num, int scale)
{
	char		buf[64];
	char	   *p = buf + sizeof(buf) - 1;
	bool		negative = num < 0;
	int			digits = 0;
	uint128		mag = negative ? (uint128) (-(num + 1)) + 1 : (uint128) num;

	/* print the magnitude with a decimal point 'scale' digits from the end */
	*p = '\0';
	do
	{
		if (digits == scale && scale > 0)
			*--p = '.';
		*--p = '0' + (int) (mag % 10);
		mag /= 10;
		digits++;
	} while (mag > 0 || digits <= scale);
	if (negative)
		*--p = '-';

	return DatumGetNumeric(DirectFunctionCall3(numeric_in, CStringGetDatum(p),
											   ObjectIdGetDatum(InvalidOid),
											   Int32GetDatum(-1)));
}

int64
pow10_int64(int exponent)
{
	Assert(exponent >= 0 && exponent <= 18);
	return pow10_table[exponent];
}

/* A non-negative numeric with at most 'scale' decimals, times 10^scale. */
int64
numeric_to_exact_scaled(Numeric value, int scale, const char *what)
{
	Datum		min_scale;

	if (numeric_is_nan(value) || numeric_is_inf(value))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be a finite number", what)));

	if (DatumGetBool(DirectFunctionCall2(numeric_lt, NumericGetDatum(value),
										 NumericGetDatum(int64_to_numeric(0)))))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must not be negative", what)));

	min_scale = DirectFunctionCall1(numeric_min_scale, NumericGetDatum(value));
	if (DatumGetInt32(min_scale) > scale)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s has more than %d decimal places", what, scale),
				 errdetail("Tariffs and rates are exact to 1/10000 DKK, like numeric(12,4); they are never rounded."),
				 errhint("Round the value to %d decimal places before using it.",
						 scale)));

	/* exact now, so numeric_to_scaled only scales and range-checks */
	return numeric_to_scaled(value, scale, what);
}
