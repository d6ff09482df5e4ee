/*-------------------------------------------------------------------------
 *
 * afregning.c
 *	  Module entry point of the afregning extension.
 *
 * The C code is split by concern: amount.c (exact money), apportion.c
 * (largest-remainder splits), rating.c (usage rating aggregate), pricing.c
 * (per-citizen prices and graduated charges), ledger_guard.c (append-only
 * ledgers), usage_guard.c (the check of every loaded usage row),
 * restore_mode.c (the switch for replaying a dump).
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"

#include "progress.h"
#include "restore_mode.h"

PG_MODULE_MAGIC;

void		_PG_init(void);

void
_PG_init(void)
{
	restore_mode_define();
	progress_define();
}
