/*-------------------------------------------------------------------------
 *
 * municipality_scope.c
 *	  The municipalities the current role may read: my_municipalities().
 *
 * Row-level security asks for them on every row a municipality role
 * reads.  As a SQL function the question ran its query per row, so the
 * policies wrapped it in a subquery to have it asked once, and a
 * subquery in a policy is what a distributed planner refuses.  Here the
 * answer is computed once per command and role and kept, so a policy is
 * a plain comparison: code = ANY (my_municipalities()).
 *
 * The answer is read by OID through the municipality_role mapping, as the
 * caller (with the mapping's own row-level security): a mapping row of a
 * dropped role, or of a namesake created since, grants nothing.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/proc.h"
#include "utils/builtins.h"
#include "utils/datum.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

/* The last answer and what it was the answer for */
static Datum cached_codes = (Datum) 0;
static LocalTransactionId cached_lxid = InvalidLocalTransactionId;
static CommandId cached_cid = InvalidCommandId;
static Oid	cached_user = InvalidOid;

/* Ask the mapping, in the schema the function lives in. */
static Datum
read_codes(Oid fn_oid)
{
	char	   *schema = get_namespace_name(get_func_namespace(fn_oid));
	char	   *query;
	Datum		codes;
	bool		isnull;

	query = psprintf("SELECT coalesce(pg_catalog.array_agg(DISTINCT m.municipality_code),"
					 " '{}'::pg_catalog.text[])"
					 "  FROM %s.municipality_role m"
					 " WHERE pg_catalog.pg_has_role(m.role_oid, 'MEMBER'::pg_catalog.text)",
					 quote_identifier(schema));
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute(query, true, 1) != SPI_OK_SELECT || SPI_processed != 1)
		elog(ERROR, "could not read the municipality role mapping");
	codes = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
	Assert(!isnull);
	/* into the caller's memory, past SPI_finish */
	codes = SPI_datumTransfer(codes, false, -1);
	SPI_finish();
	return codes;
}

PG_FUNCTION_INFO_V1(my_municipalities);

Datum
my_municipalities(PG_FUNCTION_ARGS)
{
	CommandId	cid = GetCurrentCommandId(false);
	Oid			user = GetUserId();

	if (cached_codes == (Datum) 0 || cached_lxid != MyProc->lxid ||
		cached_cid != cid || cached_user != user)
	{
		Datum		codes = read_codes(fcinfo->flinfo->fn_oid);
		MemoryContext old = MemoryContextSwitchTo(TopMemoryContext);

		if (cached_codes != (Datum) 0)
			pfree(DatumGetPointer(cached_codes));
		cached_codes = datumCopy(codes, false, -1);
		MemoryContextSwitchTo(old);
		cached_lxid = MyProc->lxid;
		cached_cid = cid;
		cached_user = user;
	}
	PG_RETURN_DATUM(datumCopy(cached_codes, false, -1));
}
