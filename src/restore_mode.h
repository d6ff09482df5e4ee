/*-------------------------------------------------------------------------
 *
 * restore_mode.h
 *	  The one switch that lets rows of locked years in: the superuser-only
 *	  setting afregning.restore_mode, for replaying a dump.
 *
 *-------------------------------------------------------------------------
 */
#ifndef AFREGNING_RESTORE_MODE_H
#define AFREGNING_RESTORE_MODE_H

/* define the setting; called once from _PG_init */
extern void restore_mode_define(void);

/*
 * restore_mode_active
 *		Whether this session replays a dump: afregning.restore_mode is on
 *		and the current and the session user are superusers.  Logs the
 *		first use per session.
 */
extern bool restore_mode_active(void);

/*
 * drop_allowed
 *		Whether afregning.allow_drop is on and the current and the session
 *		user are superusers: the drop guard then lets ledger data be dropped.
 */
extern bool drop_allowed(void);

#endif							/* AFREGNING_RESTORE_MODE_H */
