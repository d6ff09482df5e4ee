/*-------------------------------------------------------------------------
 *
 * pricing.c
 *	  Per-citizen prices: the buffet price (buffetpris pr. borger, SPEC R2)
 *	  and graduated per-citizen charges such as the infrastructure price
 *	  (infrastrukturpris, SPEC R11).
 *
 * Both are exact: amounts are int64 øre, rates int64 1/10000 DKK, and the
 * products and quotients are int128, rounded once, half away from zero, at
 * the end.  Nothing goes through floating point or numeric division.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/numeric.h"

#include "amount.h"

/* Most decimals a per-citizen price may be given with */
#define PRICE_MAX_DECIMALS	4

/* Buffet price: pool / citizens, half away from zero to 'decimals' places. */
PG_FUNCTION_INFO_V1(per_citizen_price);

Datum
per_citizen_price(PG_FUNCTION_ARGS)
{
	Numeric		pool = PG_GETARG_NUMERIC(0);
	int64		citizens = PG_GETARG_INT64(1);
	int32		decimals = PG_GETARG_INT32(2);
	int64		pool_ore;
	int128		num;
	int128		den;
	int128		quotient;
	int128		remainder;

	if (decimals < 0 || decimals > PRICE_MAX_DECIMALS)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("price decimals must be between 0 and %d",
						PRICE_MAX_DECIMALS),
				 errdetail("The price was asked for with %d decimals.", decimals)));
	if (citizens < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("citizens must not be negative"),
				 errdetail("The pool was to be divided among %lld citizens.",
						   (long long) citizens)));
	if (citizens == 0)
		ereport(ERROR,
				(errcode(ERRCODE_DIVISION_BY_ZERO),
				 errmsg("no citizens to divide the pool among"),
				 errdetail("A price per citizen needs at least one citizen."),
				 errhint("Load the population of every municipality for the year first.")));

	/* the pool is an amount: whole øre, half away from zero */
	pool_ore = numeric_to_scaled(pool, AMOUNT_SCALE, "pool");

	/* R2: a negative pool gives price 0; the rest is carried forward (R9) */
	if (pool_ore <= 0)
		PG_RETURN_NUMERIC(scaled_to_numeric(0, decimals));

	/* price × 10^decimals = pool_ore × 10^decimals / (100 × citizens) */
	num = (int128) pool_ore;
	den = (int128) citizens;
	if (decimals >= AMOUNT_SCALE)
		num *= pow10_int64(decimals - AMOUNT_SCALE);
	else
		den *= pow10_int64(AMOUNT_SCALE - decimals);

	/* both below 2^63 × 10^2, so neither product above can overflow */
	quotient = num / den;
	remainder = num % den;
	if (remainder >= den - remainder)
		quotient++;

	PG_RETURN_NUMERIC(int128_to_numeric(quotient, decimals));
}

/* Check that a tier array is one-dimensional, not empty, without nulls. */
static void
check_tier_array(ArrayType *array, const char *name)
{
	if (ARR_NDIM(array) == 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must not be empty", name),
				 errdetail("A charge schedule has at least one tier.")));
	if (ARR_NDIM(array) != 1)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must be a one-dimensional array", name),
				 errdetail("It has %d dimensions.", ARR_NDIM(array))));
	if (array_contains_nulls(array))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("%s must not contain nulls", name),
				 errdetail("Every tier needs a start and a rate.")));
}

/* Graduated charge: each tier's rate times the citizens within the tier. */
PG_FUNCTION_INFO_V1(graduated_charge);

Datum
graduated_charge(PG_FUNCTION_ARGS)
{
	int64		citizens = PG_GETARG_INT64(0);
	ArrayType  *from_array = PG_GETARG_ARRAYTYPE_P(1);
	ArrayType  *rate_array = PG_GETARG_ARRAYTYPE_P(2);
	Datum	   *from_datums;
	Datum	   *rate_datums;
	int			ntiers;
	int			nrates;
	int64	   *rates;
	int128		total = 0;
	int64		amount;
	char		what[64];

	if (citizens < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("citizens must not be negative"),
				 errdetail("The charge was asked for %lld citizens.",
						   (long long) citizens)));

	check_tier_array(from_array, "from_citizens");
	check_tier_array(rate_array, "rates");
	deconstruct_array(from_array, INT4OID, sizeof(int32), true, TYPALIGN_INT,
					  &from_datums, NULL, &ntiers);
	deconstruct_array(rate_array, NUMERICOID, -1, false, TYPALIGN_INT,
					  &rate_datums, NULL, &nrates);
	if (ntiers != nrates)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("from_citizens and rates must have the same length"),
				 errdetail("from_citizens has %d elements and rates has %d.",
						   ntiers, nrates),
				 errhint("Give one rate for each tier start.")));

	/* validate every tier, also those above this citizen count */
	rates = (int64 *) palloc(sizeof(int64) * ntiers);
	for (int i = 0; i < ntiers; i++)
	{
		int32		from = DatumGetInt32(from_datums[i]);

		if (i == 0 && from != 0)
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("the first tier must start at 0 citizens"),
					 errdetail("It starts at %d, so the citizens below would not be charged.",
							   from)));
		if (i > 0 && from <= DatumGetInt32(from_datums[i - 1]))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("tier starts must increase strictly"),
					 errdetail("Tier %d starts at %d citizens, tier %d at %d.",
							   i, DatumGetInt32(from_datums[i - 1]),
							   i + 1, from)));
		snprintf(what, sizeof(what), "rate of tier %d", i + 1);
		rates[i] = numeric_to_exact_scaled(DatumGetNumeric(rate_datums[i]),
										   TARIFF_SCALE, what);
		/* an array of millions of tiers must not outlast a cancel */
		CHECK_FOR_INTERRUPTS();
	}

	/* tier i covers the citizens above from[i] up to from[i + 1] */
	for (int i = 0; i < ntiers; i++)
	{
		int64		lower = DatumGetInt32(from_datums[i]);
		int64		upper;
		int128		product;

		CHECK_FOR_INTERRUPTS();
		if (citizens <= lower)
			break;
		upper = (i + 1 < ntiers) ? DatumGetInt32(from_datums[i + 1]) : citizens;
		if (upper > citizens)
			upper = citizens;

		/* both factors are below 2^63, so the product is below 2^126 */
		product = (int128) (upper - lower) * (int128) rates[i];
		if (__builtin_add_overflow(total, product, &total))
			ereport(ERROR,
					(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
					 errmsg("graduated charge is out of range"),
					 errdetail("The charge is computed exactly in a 128-bit integer of 1/10000 DKK and must fit it.")));
	}

	/* one rounding, half away from zero, to øre */
	amount = int128_round_shift(total, TARIFF_SCALE - AMOUNT_SCALE,
								"graduated charge");
	PG_RETURN_NUMERIC(scaled_to_numeric(amount, AMOUNT_SCALE));
}
