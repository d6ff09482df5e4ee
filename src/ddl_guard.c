/*-------------------------------------------------------------------------
 *
 * ddl_guard.c
 *	  Keep DDL from deleting ledger data, and keep billing year status
 *	  changes inside the settlement code.
 *
 * guard_ddl_start() is an event trigger on ddl_command_start.  It reads the
 * parse tree of the command, never its text, so a DROP built with EXECUTE
 * or a schema whose name merely contains "afregning" is judged by what the
 * command names: the extension, its schema, a table of its schema (the
 * ledgers and the usage partitions), a partition detached from or a column
 * dropped off such a table, such a table moved to another schema, or the
 * objects of a role that owns them (DROP OWNED).  Such a command is refused while the ledgers hold data, unless a
 * superuser has set afregning.allow_drop.  It has to be decided before the
 * command runs: a sql_drop trigger of the extension is dropped together
 * with the extension and never fires, and a dropped table's rows can no
 * longer be counted.
 *
 * set_year_status() moves a billing year to its next status.  While it
 * runs its UPDATE, and only then, status_change_allowed(year) is true,
 * which is what the billing_year guard trigger asks.  The flag is a C
 * variable that only this function sets and always clears (also on error),
 * so no session can forge it the way it could set a placeholder setting;
 * and set_year_status() itself is executable by the extension's owner
 * only, that is by announce_price() and close_year(), which run as the
 * owner.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "catalog/indexing.h"
#include "catalog/namespace.h"
#include "catalog/pg_extension.h"
#include "catalog/pg_type.h"
#include "commands/event_trigger.h"
#include "commands/extension.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/parsenodes.h"
#include "utils/acl.h"
#include "utils/builtins.h"
#include "utils/fmgroids.h"
#include "utils/lsyscache.h"
#include "utils/rel.h"

#include "restore_mode.h"

/* ---- the DROP guard ----------------------------------------------------- */

/* owner and schema of the extension (PostgreSQL 15 exports neither) */
static void
extension_owner_schema(Oid extoid, Oid *owner, Oid *nsp)
{
	Relation	rel;
	ScanKeyData key;
	SysScanDesc scan;
	HeapTuple	tuple;

	*owner = InvalidOid;
	*nsp = InvalidOid;

	rel = table_open(ExtensionRelationId, AccessShareLock);
	ScanKeyInit(&key, Anum_pg_extension_oid, BTEqualStrategyNumber, F_OIDEQ,
				ObjectIdGetDatum(extoid));
	scan = systable_beginscan(rel, ExtensionOidIndexId, true, NULL, 1, &key);
	tuple = systable_getnext(scan);
	if (HeapTupleIsValid(tuple))
	{
		*owner = ((Form_pg_extension) GETSTRUCT(tuple))->extowner;
		*nsp = ((Form_pg_extension) GETSTRUCT(tuple))->extnamespace;
	}
	systable_endscan(scan);
	table_close(rel, AccessShareLock);
}

/* the relation a name list or RangeVar names, if it is in schema nsp */
static Oid
relation_in_schema(RangeVar *rv, Oid nsp)
{
	Oid			relid = RangeVarGetRelid(rv, NoLock, true);

	if (OidIsValid(relid) && get_rel_namespace(relid) == nsp)
		return relid;
	return InvalidOid;
}

/* run a one-boolean query through SPI */
static bool
spi_bool(const char *sql, int nargs, Oid *argtypes, Datum *values)
{
	bool		result;
	bool		isnull;
	int			ret;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	ret = SPI_execute_with_args(sql, nargs, argtypes, values, NULL, true, 1);
	if (ret != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "unexpected result of \"%s\"", sql);
	result = DatumGetBool(SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull));
	SPI_finish();
	return !isnull && result;
}

/*
 * What the command would do to the extension's tables, as words for the
 * error message ("drop table afregning.usage_y2019"); NULL if nothing.
 */
static char *
ledger_target(Node *parsetree, Oid owner, Oid nsp)
{
	ListCell   *lc;

	switch (nodeTag(parsetree))
	{
		case T_DropStmt:
			{
				DropStmt   *stmt = (DropStmt *) parsetree;
				char	   *nspname = get_namespace_name(nsp);

				foreach(lc, stmt->objects)
				{
					Node	   *object = lfirst(lc);

					if (stmt->removeType == OBJECT_EXTENSION &&
						strcmp(strVal(object), "afregning") == 0)
						return pstrdup("drop extension afregning");
					if (stmt->removeType == OBJECT_SCHEMA && nspname != NULL &&
						strcmp(strVal(object), nspname) == 0)
						return psprintf("drop schema %s", nspname);
					if (stmt->removeType == OBJECT_TABLE)
					{
						RangeVar   *rv = makeRangeVarFromNameList(castNode(List, object));
						Oid			relid = relation_in_schema(rv, nsp);

						if (OidIsValid(relid))
							return psprintf("drop table %s.%s", nspname, get_rel_name(relid));
					}
				}
				break;
			}
		case T_DropOwnedStmt:
			{
				DropOwnedStmt *stmt = (DropOwnedStmt *) parsetree;

				foreach(lc, stmt->roles)
				{
					RoleSpec   *spec = lfirst_node(RoleSpec, lc);
					Oid			roleid = get_rolespec_oid(spec, true);
					Oid			argtypes[2] = {OIDOID, OIDOID};
					Datum		values[2] = {ObjectIdGetDatum(nsp), ObjectIdGetDatum(roleid)};

					if (!OidIsValid(roleid))
						continue;
					if (roleid == owner ||
						spi_bool("SELECT EXISTS (SELECT 1 FROM pg_catalog.pg_class c "
								 "WHERE c.relnamespace = $1 AND c.relowner = $2)",
								 2, argtypes, values))
						return psprintf("drop the objects of role %s, among them afregning's tables",
										GetUserNameFromId(roleid, false));
				}
				break;
			}
		case T_AlterTableStmt:
			{
				AlterTableStmt *stmt = (AlterTableStmt *) parsetree;
				Oid			relid;

				if (stmt->relation == NULL)
					break;
				relid = relation_in_schema(stmt->relation, nsp);
				if (!OidIsValid(relid))
					break;
				foreach(lc, stmt->cmds)
				{
					AlterTableCmd *cmd = lfirst_node(AlterTableCmd, lc);

					if (cmd->subtype == AT_DetachPartition ||
						cmd->subtype == AT_DetachPartitionFinalize)
						return psprintf("detach a partition of table %s.%s",
										get_namespace_name(nsp), get_rel_name(relid));
					if (cmd->subtype == AT_DropColumn)
						return psprintf("drop column %s of table %s.%s", cmd->name,
										get_namespace_name(nsp), get_rel_name(relid));
				}
				break;
			}
		case T_AlterObjectSchemaStmt:
			{
				/* moved out of the schema, a table would be dropped unguarded */
				AlterObjectSchemaStmt *stmt = (AlterObjectSchemaStmt *) parsetree;
				Oid			relid;

				if (stmt->relation == NULL)
					break;
				relid = relation_in_schema(stmt->relation, nsp);
				if (OidIsValid(relid))
					return psprintf("move table %s.%s to another schema",
									get_namespace_name(nsp), get_rel_name(relid));
				break;
			}
		default:
			break;
	}
	return NULL;
}

PG_FUNCTION_INFO_V1(guard_ddl_start);

Datum
guard_ddl_start(PG_FUNCTION_ARGS)
{
	EventTriggerData *trigdata;
	Oid			extoid;
	Oid			owner;
	Oid			nsp;
	char	   *target;
	char	   *sql;

	if (!CALLED_AS_EVENT_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("guard_ddl_start() must be called as an event trigger")));
	trigdata = (EventTriggerData *) fcinfo->context;

	extoid = get_extension_oid("afregning", true);
	if (!OidIsValid(extoid))
		PG_RETURN_VOID();
	extension_owner_schema(extoid, &owner, &nsp);
	if (!OidIsValid(nsp))
		PG_RETURN_VOID();

	target = ledger_target(trigdata->parsetree, owner, nsp);
	if (target == NULL || drop_allowed())
		PG_RETURN_VOID();

	sql = psprintf("SELECT %s.ledgers_hold_data()", quote_identifier(get_namespace_name(nsp)));
	if (spi_bool(sql, 0, NULL, NULL))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("refusing to %s while the ledgers of afregning hold data", target),
				 errdetail("The command would delete posted costs, usage, invoices or carry-forwards."),
				 errhint("Take a pg_dump first; then a superuser may SET afregning.allow_drop = on for the session and repeat the command.")));
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(drop_allowed_sql);

Datum
drop_allowed_sql(PG_FUNCTION_ARGS)
{
	PG_RETURN_BOOL(drop_allowed());
}

/* ---- billing year status changes ------------------------------------- */

static bool status_change_active = false;
static int32 status_change_year = 0;

PG_FUNCTION_INFO_V1(set_year_status);

Datum
set_year_status(PG_FUNCTION_ARGS)
{
	int32		year;
	Oid		   *argtypes;
	int			nargs;
	Datum		values[2];
	char	   *sql;
	bool		saved_active = status_change_active;
	int32		saved_year = status_change_year;
	int			ret = 0;

	if (PG_ARGISNULL(0) || PG_ARGISNULL(1))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("billing year and status must not be null")));
	year = PG_GETARG_INT32(0);
	values[0] = Int32GetDatum(year);
	values[1] = PG_GETARG_DATUM(1);
	/* the declared types: integer and our year_status enum */
	get_func_signature(fcinfo->flinfo->fn_oid, &argtypes, &nargs);
	Assert(nargs == 2);

	sql = psprintf("UPDATE %s.billing_year b SET status = $2, "
				   "announced_at = CASE WHEN $2::pg_catalog.text = 'announced' THEN pg_catalog.now() ELSE b.announced_at END, "
				   "closed_at = CASE WHEN $2::pg_catalog.text = 'closed' THEN pg_catalog.now() ELSE b.closed_at END "
				   "WHERE b.year = $1",
				   quote_identifier(get_namespace_name(get_func_namespace(fcinfo->flinfo->fn_oid))));

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	PG_TRY();
	{
		status_change_active = true;
		status_change_year = year;
		ret = SPI_execute_with_args(sql, 2, argtypes, values, NULL, false, 0);
	}
	PG_FINALLY();
	{
		status_change_active = saved_active;
		status_change_year = saved_year;
	}
	PG_END_TRY();
	if (ret != SPI_OK_UPDATE)
		elog(ERROR, "unexpected result of the billing year update: %d", ret);
	SPI_finish();
	PG_RETURN_VOID();
}

PG_FUNCTION_INFO_V1(status_change_allowed);

Datum
status_change_allowed(PG_FUNCTION_ARGS)
{
	if (PG_ARGISNULL(0))
		PG_RETURN_BOOL(false);
	PG_RETURN_BOOL(status_change_active && status_change_year == PG_GETARG_INT32(0));
}
