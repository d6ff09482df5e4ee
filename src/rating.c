/*-------------------------------------------------------------------------
 *
 * rating.c
 *	  The usage rating aggregate afregning.rate(calls, unit_price).
 *
 * Rated usage is the sum of calls × unit price over the rows of one output
 * line, rounded once, half away from zero, to øre (SPEC §4.3), never row by
 * row.  The transition state sums the exact products in 1/10000 DKK (the
 * scale of a tariff, numeric(12,4)) in a 128-bit integer; the final
 * function does the one rounding.
 *
 * The aggregate is parallel safe: partial states are combined, and travel
 * between processes as a fixed 24-byte bytea written field by field.
 *
 * A year of usage is hundreds of millions of rows, so the per-row path does
 * no numeric arithmetic: each state remembers the bytes of the last unit
 * price it converted, and the rows of one output line share one tariff.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/int.h"
#include "fmgr.h"
#include "libpq/pqformat.h"
#include "utils/builtins.h"
#include "utils/fmgrprotos.h"
#include "utils/numeric.h"

#include "amount.h"

/* Longest unit price, in bytes of varlena data, whose conversion is cached */
#define RATE_PRICE_CACHE_BYTES	24

/* Size of a serialized state: the sum as two 64-bit halves, the row count */
#define RATE_STATE_BYTES	24

/* Transition state of afregning.rate, allocated in the aggregate context */
typedef struct RateState
{
	int128		sum;			/* sum of calls × unit price, 1/10000 DKK */
	int64		rows;			/* rows with neither input null */
	int64		cached_price;	/* cached_bytes as 1/10000 DKK */
	int			cached_len;		/* bytes in cached_bytes, -1 if none */
	char		cached_bytes[RATE_PRICE_CACHE_BYTES];	/* last price seen */
} RateState;

/* Refuse a call of a support function outside the aggregate. */
static void
pg_attribute_noreturn()
not_in_aggregate(const char *function)
{
	ereport(ERROR,
			(errcode(ERRCODE_WRONG_OBJECT_TYPE),
			 errmsg("%s can only be called by the aggregate afregning.rate",
					function),
			 errdetail("It is a support function of the aggregate and keeps its state in aggregate memory."),
			 errhint("Use afregning.rate(calls, unit_price).")));
}

/* Refuse a sum that does not fit the 128-bit accumulator. */
static void
pg_attribute_noreturn()
sum_out_of_range(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
			 errmsg("rated amount is out of range"),
			 errdetail("The sum of calls times unit price is computed exactly in a 128-bit integer of 1/10000 DKK and must fit it.")));
}

/* Allocate an empty state in the aggregate context. */
static RateState *
rate_state_new(MemoryContext aggcontext)
{
	RateState  *state;

	state = (RateState *) MemoryContextAllocZero(aggcontext, sizeof(RateState));
	state->cached_len = -1;
	return state;
}

/* The unit price of a row in 1/10000 DKK, converted once per distinct price. */
static int64
rate_state_price(RateState *state, Datum price_datum)
{
	struct varlena *packed;
	Size		len;
	int64		price;

	/* compare the stored bytes without copying a short-header varlena */
	packed = pg_detoast_datum_packed((struct varlena *) DatumGetPointer(price_datum));
	len = VARSIZE_ANY_EXHDR(packed);
	if (state->cached_len >= 0 && (Size) state->cached_len == len &&
		memcmp(state->cached_bytes, VARDATA_ANY(packed), len) == 0)
		return state->cached_price;

	price = numeric_to_exact_scaled(DatumGetNumeric(price_datum), TARIFF_SCALE,
									"unit price");
	if (len <= RATE_PRICE_CACHE_BYTES)
	{
		memcpy(state->cached_bytes, VARDATA_ANY(packed), len);
		state->cached_len = (int) len;
		state->cached_price = price;
	}
	return price;
}

/* Transition function: add calls × unit price of one row. */
PG_FUNCTION_INFO_V1(rate_accum);

Datum
rate_accum(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext;
	RateState  *state;
	int64		calls;
	int64		price;
	int128		product;

	if (!AggCheckCallContext(fcinfo, &aggcontext))
		not_in_aggregate("afregning.rate_accum");

	state = PG_ARGISNULL(0) ? NULL : (RateState *) PG_GETARG_POINTER(0);

	/* a row with a null input is skipped, as sum() skips it */
	if (PG_ARGISNULL(1) || PG_ARGISNULL(2))
	{
		if (state == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(state);
	}

	calls = PG_GETARG_INT64(1);
	if (calls < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("calls must not be negative"),
				 errdetail("A usage row counts calls made; it was %lld.",
						   (long long) calls),
				 errhint("Correct a usage count with a later batch, not a negative row.")));

	if (state == NULL)
		state = rate_state_new(aggcontext);

	price = rate_state_price(state, PG_GETARG_DATUM(2));

	/* both factors are below 2^63, so the product is below 2^126 */
	product = (int128) calls * (int128) price;
	if (__builtin_add_overflow(state->sum, product, &state->sum))
		sum_out_of_range();
	if (pg_add_s64_overflow(state->rows, 1, &state->rows))
		sum_out_of_range();

	PG_RETURN_POINTER(state);
}

/* Combine function: add the partial state arg1 into arg0. */
PG_FUNCTION_INFO_V1(rate_combine);

Datum
rate_combine(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext;
	RateState  *state;
	RateState  *other;

	if (!AggCheckCallContext(fcinfo, &aggcontext))
		not_in_aggregate("afregning.rate_combine");

	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_POINTER(PG_GETARG_POINTER(0));
	}
	other = (RateState *) PG_GETARG_POINTER(1);

	/* arg1 may live in a shorter-lived context: copy it into ours */
	if (PG_ARGISNULL(0))
	{
		state = rate_state_new(aggcontext);
		state->sum = other->sum;
		state->rows = other->rows;
		PG_RETURN_POINTER(state);
	}
	state = (RateState *) PG_GETARG_POINTER(0);

	if (__builtin_add_overflow(state->sum, other->sum, &state->sum))
		sum_out_of_range();
	if (pg_add_s64_overflow(state->rows, other->rows, &state->rows))
		sum_out_of_range();

	PG_RETURN_POINTER(state);
}

/* Serialize function: the state as sum (high, low 64 bits) and row count. */
PG_FUNCTION_INFO_V1(rate_serialize);

Datum
rate_serialize(PG_FUNCTION_ARGS)
{
	RateState  *state;
	StringInfoData buf;
	uint128		sum;

	if (!AggCheckCallContext(fcinfo, NULL))
		not_in_aggregate("afregning.rate_serialize");

	state = (RateState *) PG_GETARG_POINTER(0);
	sum = (uint128) state->sum;

	pq_begintypsend(&buf);
	pq_sendint64(&buf, (uint64) (sum >> 64));
	pq_sendint64(&buf, (uint64) sum);
	pq_sendint64(&buf, (uint64) state->rows);

	PG_RETURN_BYTEA_P(pq_endtypsend(&buf));
}

/* Deserialize function: read and validate a state written by rate_serialize. */
PG_FUNCTION_INFO_V1(rate_deserialize);

Datum
rate_deserialize(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext;
	bytea	   *bytes;
	int			len;
	StringInfoData buf;
	uint64		high;
	uint64		low;
	int64		rows;
	int128		sum;
	RateState  *state;

	if (!AggCheckCallContext(fcinfo, &aggcontext))
		not_in_aggregate("afregning.rate_deserialize");

	bytes = PG_GETARG_BYTEA_PP(0);
	len = VARSIZE_ANY_EXHDR(bytes);
	/* each message written out, so that it can be translated */
	if (len < RATE_STATE_BYTES)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("rate state is truncated"),
				 errdetail("A serialized rate state has %d bytes, this one %d.",
						   RATE_STATE_BYTES, len)));
	if (len > RATE_STATE_BYTES)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("rate state has trailing data"),
				 errdetail("A serialized rate state has %d bytes, this one %d.",
						   RATE_STATE_BYTES, len)));

	initStringInfo(&buf);
	appendBinaryStringInfo(&buf, VARDATA_ANY(bytes), len);
	high = (uint64) pq_getmsgint64(&buf);
	low = (uint64) pq_getmsgint64(&buf);
	rows = pq_getmsgint64(&buf);
	pq_getmsgend(&buf);
	pfree(buf.data);

	sum = (int128) (((uint128) high << 64) | (uint128) low);

	/* calls and prices are never negative, and no rows sum to nothing */
	if (sum < 0 || rows < 0 || (rows == 0 && sum != 0))
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
				 errmsg("rate state is invalid"),
				 errdetail("Its sum and row count cannot come from calls and unit prices, which are never negative.")));

	state = rate_state_new(aggcontext);
	state->sum = sum;
	state->rows = rows;
	PG_RETURN_POINTER(state);
}

/* Final function: the sum rounded once, half away from zero, to øre. */
PG_FUNCTION_INFO_V1(rate_final);

Datum
rate_final(PG_FUNCTION_ARGS)
{
	RateState  *state;
	int64		amount;

	if (!AggCheckCallContext(fcinfo, NULL))
		not_in_aggregate("afregning.rate_final");

	/* no row with both inputs present: null, as sum() of no rows */
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	state = (RateState *) PG_GETARG_POINTER(0);
	if (state->rows == 0)
		PG_RETURN_NULL();

	amount = int128_round_shift(state->sum, TARIFF_SCALE - AMOUNT_SCALE,
								"rated amount");
	PG_RETURN_NUMERIC(scaled_to_numeric(amount, AMOUNT_SCALE));
}
