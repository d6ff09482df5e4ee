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

/* Decimal places of amounts (øre) and of tariffs (numeric(12,4)). */
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

/* Overflow-checked int64 helpers raising 22003 with 'what' in the message. */
extern int64 checked_add(int64 a, int64 b, const char *what);
extern int64 checked_mul(int64 a, int64 b, const char *what);

#endif							/* AFREGNING_AMOUNT_H */
