/*-------------------------------------------------------------------------
 *
 * progress.h
 *	  Progress of a settlement step: the setting afregning.progress.
 *
 *-------------------------------------------------------------------------
 */
#ifndef AFREGNING_PROGRESS_H
#define AFREGNING_PROGRESS_H

/* define afregning.progress; called once from _PG_init */
extern void progress_define(void);

#endif							/* AFREGNING_PROGRESS_H */
