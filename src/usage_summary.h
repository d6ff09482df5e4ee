/*-------------------------------------------------------------------------
 *
 * usage_summary.h
 *	  The monthly sums a loading statement adds to usage_summary.
 *
 *-------------------------------------------------------------------------
 */
#ifndef AFREGNING_USAGE_SUMMARY_H
#define AFREGNING_USAGE_SUMMARY_H

#include "postgres.h"

#include "utils/date.h"

/* add one checked usage row to the statement's pending sums */
extern void usage_summary_add(DateADT period, text *municipality, text *system,
							  text *service, int64 calls);

#endif							/* AFREGNING_USAGE_SUMMARY_H */
