/*-------------------------------------------------------------------------
 *
 * restore_mode.c
 *	  afregning.restore_mode: the explicit switch for replaying a dump.
 *
 * A dump replays announced and closed years before their population,
 * entries and usage, which the lifecycle guards would refuse.  Only a
 * superuser can switch this on (PGC_SUSET), its first use in a session is
 * written to the server log, and the append-only triggers stay on even
 * then.  afregning.allow_drop is its counterpart for the drop guard.
 * Both are C variables, not a string read with current_setting(): a
 * placeholder set before the library is loaded must never count.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "fmgr.h"
#include "miscadmin.h"
#include "utils/guc.h"

#include "restore_mode.h"

static bool restore_mode = false;
static bool restore_mode_logged = false;
static bool allow_drop = false;

void
restore_mode_define(void)
{
	DefineCustomBoolVariable("afregning.restore_mode",
							 "Lets a superuser replay a dump into locked billing years.",
							 "Only for pg_restore or a dump script; the append-only guards stay on.",
							 &restore_mode,
							 false,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);
	DefineCustomBoolVariable("afregning.allow_drop",
							 "Lets a superuser drop afregning, its ledger tables or usage partitions while the ledgers hold data.",
							 "For a deliberate removal after a pg_dump; the drop guard refuses otherwise.",
							 &allow_drop,
							 false,
							 PGC_SUSET,
							 0,
							 NULL, NULL, NULL);

	/*
	 * The prefix is not reserved: a database still at 0.1.0, running on this
	 * library until ALTER EXTENSION UPDATE, sets afregning.transition in its
	 * lifecycle functions, and reserving the prefix would stop it settling.
	 * No code of this version reads any afregning.* placeholder; the guards
	 * ask the C variables above.
	 */
}

/*
 * Both the current and the session user must be superusers: a value given
 * to a non-superuser with ALTER ROLE ... SET must not come alive inside
 * the SECURITY DEFINER settlement functions, which run as the owner.
 */
static bool
superuser_session(void)
{
	return superuser() && superuser_arg(GetSessionUserId());
}

bool
restore_mode_active(void)
{
	if (!restore_mode || !superuser_session())
		return false;
	if (!restore_mode_logged)
	{
		ereport(LOG,
				(errmsg("afregning restore mode is on in this session"),
				 errdetail("Session user \"%s\" may write rows of announced and closed billing years.",
						   GetUserNameFromId(GetSessionUserId(), false))));
		restore_mode_logged = true;
	}
	return true;
}

bool
drop_allowed(void)
{
	return allow_drop && superuser_session();
}

/*
 * restore_mode() returns boolean: the guards written in SQL ask this.
 */
PG_FUNCTION_INFO_V1(restore_mode_sql);

Datum
restore_mode_sql(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(restore_mode_active());
}
