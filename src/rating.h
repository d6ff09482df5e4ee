/*-------------------------------------------------------------------------
 *
 * rating.h
 *	  The usage rating aggregate afregning.rate(calls, unit_price) and the
 *	  exact conversion of tariffs and rates it shares with pricing.c.
 *
 *-------------------------------------------------------------------------
 */
#ifndef AFREGNING_RATING_H
#define AFREGNING_RATING_H

#include "postgres.h"
#include "utils/numeric.h"

/*
 * numeric_to_exact_scaled
 *		Return a non-negative numeric times 10^scale as an int64 without
 *		rounding: NaN, infinities, negative values and values with more
 *		than 'scale' significant decimals are refused (22023), values that
 *		do not fit are out of range (22003); 'what' names the value in the
 *		messages.
 */
extern int64 numeric_to_exact_scaled(Numeric value, int scale,
									 const char *what);

#endif							/* AFREGNING_RATING_H */
