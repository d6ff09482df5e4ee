/*-------------------------------------------------------------------------
 *
 * amount.h
 *	  Exact money: conversions between numeric and scaled 64-bit integers
 *	  (øre for amounts, 1/10000 DKK for tariffs), and rounding of 128-bit
 *	  quotients half away from zero, as the billing model prescribes.
 *
 *-------------------------------------------------------------------------
 */
#ifndef AFREGNING_AMOUNT_H
#define AFREGNING_AMOUNT_H

#include "postgres.h"
#include "utils/numeric.h"

#ifndef HAVE_INT128
#error "afregning needs a compiler with a 128-bit integer type"
#endif

/* Decimal places of amounts (øre) and of tariffs and rates (1/10000 DKK). */
#define AMOUNT_SCALE	2
#define TARIFF_SCALE	4

/*
 * numeric_to_scaled
 *		Round a numeric half away from zero to 'scale' decimals and return it
 *		times 10^scale; 'what' names the value in the out-of-range error.
 */
extern int64 numeric_to_scaled(Numeric value, int scale, const char *what);

/* scaled_to_numeric: the inverse, an exact numeric of that scale */
extern Numeric scaled_to_numeric(int64 value, int scale);

/*
 * int128_round_shift
 *		Return num / 10^shift rounded half away from zero, checked to fit
 *		int64; 'what' names the value in the out-of-range error.
 */
extern int64 int128_round_shift(int128 num, int shift, const char *what);

/* int128_to_numeric: exact numeric of num / 10^scale */
extern Numeric int128_to_numeric(int128 num, int scale);

/* pow10_int64: 10^exponent for 0 <= exponent <= 18 */
extern int64 pow10_int64(int exponent);

/*
 * numeric_to_exact_scaled
 *		Return a non-negative numeric times 10^scale as an int64 without
 *		rounding: NaN, infinities, negative values and values with more
 *		than 'scale' significant decimals are refused (22023), values that
 *		do not fit are out of range (22003); 'what' names the value in the
 *		messages.  For tariffs and rates, which are never rounded.
 */
extern int64 numeric_to_exact_scaled(Numeric value, int scale,
									 const char *what);

#endif							/* AFREGNING_AMOUNT_H */
