/*-------------------------------------------------------------------------
 *
 * ledger_guard.c
 *	  Trigger that keeps the ledgers append-only.
 *
 * Privileges alone do not protect a ledger: the table owner and superusers
 * bypass them, and session_replication_role = replica silences ordinary
 * triggers.  The install script therefore attaches this trigger with
 * ENABLE ALWAYS to UPDATE, DELETE and TRUNCATE of every ledger table, so
 * that a correction can only ever be a new row.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "commands/trigger.h"
#include "fmgr.h"
#include "utils/rel.h"

/* Refuse UPDATE, DELETE and TRUNCATE of a ledger table. */
PG_FUNCTION_INFO_V1(refuse_ledger_change);

Datum
refuse_ledger_change(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	const char *action;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("refuse_ledger_change() must be called as a trigger")));

	if (!TRIGGER_FIRED_BEFORE(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("refuse_ledger_change() must be fired before the change")));

	if (TRIGGER_FIRED_BY_UPDATE(trigdata->tg_event))
		action = "update";
	else if (TRIGGER_FIRED_BY_DELETE(trigdata->tg_event))
		action = "delete from";
	else if (TRIGGER_FIRED_BY_TRUNCATE(trigdata->tg_event))
		action = "truncate";
	else
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("refuse_ledger_change() fires only on update, delete and truncate")));

	ereport(ERROR,
			(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
			 errmsg("cannot %s ledger table \"%s\"", action,
					RelationGetRelationName(trigdata->tg_relation)),
			 errdetail("Ledger tables of afregning are append-only, so that every posted amount stays reproducible."),
			 errhint("Enter a correcting row instead, e.g. an actual cost entry of an open year whose \"corrects\" names the entry it corrects.")));

	PG_RETURN_NULL();			/* not reached */
}
