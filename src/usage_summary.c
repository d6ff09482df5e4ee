/*-------------------------------------------------------------------------
 *
 * usage_summary.c
 *	  The monthly sums of the usage a statement loads.
 *
 * usage_summary holds one sum of calls per month, municipality, system and
 * service, so that readers never scan raw usage.  The sums must grow with
 * every load, inside the loading statement, at the speed of COPY.  A row
 * trigger would stop COPY from inserting in batches, and a statement
 * trigger with a transition table would hold every loaded row a second
 * time and group them in SQL.  So the CHECK that already sees every row
 * (usage_row_check, in usage_guard.c) adds the row's calls here, to a hash
 * table of the statement's sums, once the row has passed its checks; a
 * BEFORE STATEMENT trigger empties the table, and an AFTER STATEMENT
 * trigger takes the sums (usage_summary_pending) and adds them to
 * usage_summary.  The table holds one entry per key the statement
 * loaded, whatever the number of rows.
 *
 * A statement that fails leaves its sums unread: the next statement's
 * BEFORE trigger, or a new transaction, empties them first.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "commands/trigger.h"
#include "common/int.h"
#include "fmgr.h"
#include "funcapi.h"
#include "miscadmin.h"
#include "storage/proc.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/tuplestore.h"

#include "usage_summary.h"

/*
 * A key is the period as 8 hex digits and the three codes, each ended by
 * a unit separator: at most 8 + 4 + 33 + 65 bytes, since the codes'
 * format checks bound them to 3, 32 and 64 characters.
 */
#define SUMMARY_KEY_LEN		128
#define CODE_SEPARATOR		'\x1f'

typedef struct PendingSum
{
	char		key[SUMMARY_KEY_LEN];
	int64		calls;
	int64		rows;
} PendingSum;

static HTAB *pending = NULL;
static LocalTransactionId pending_lxid = InvalidLocalTransactionId;

/* Empty the pending sums. */
static void
pending_reset(void)
{
	HASHCTL		ctl;

	if (pending != NULL)
		hash_destroy(pending);
	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = SUMMARY_KEY_LEN;
	ctl.entrysize = sizeof(PendingSum);
	ctl.hcxt = TopMemoryContext;
	pending = hash_create("afregning pending usage sums", 1024, &ctl,
						  HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	pending_lxid = MyProc->lxid;
}

/* Append a code and its separator to a key; false when it does not fit. */
static bool
key_append(char *key, int *len, text *code)
{
	int			n = VARSIZE_ANY_EXHDR(code);

	if (*len + n + 1 >= SUMMARY_KEY_LEN)
		return false;
	memcpy(key + *len, VARDATA_ANY(code), n);
	*len += n;
	key[(*len)++] = CODE_SEPARATOR;
	return true;
}

void
usage_summary_add(DateADT period, text *municipality, text *system, text *service,
				  int64 calls)
{
	char		key[SUMMARY_KEY_LEN];
	int			len;
	PendingSum *sum;
	bool		found;

	/* sums left by another transaction are not ours */
	if (pending == NULL || pending_lxid != MyProc->lxid)
		pending_reset();

	snprintf(key, sizeof(key), "%08x", (uint32) period);
	len = 8;
	if (!key_append(key, &len, municipality) || !key_append(key, &len, system) ||
		!key_append(key, &len, service))
		ereport(ERROR,
				(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
				 errmsg("usage codes are too long to be summed"),
				 errdetail("Municipality, system and service codes together may have at most %d bytes.",
						   SUMMARY_KEY_LEN - 12)));
	key[len] = '\0';

	sum = (PendingSum *) hash_search(pending, key, HASH_ENTER, &found);
	if (!found)
	{
		sum->calls = 0;
		sum->rows = 0;
	}
	if (pg_add_s64_overflow(sum->calls, calls, &sum->calls) ||
		pg_add_s64_overflow(sum->rows, 1, &sum->rows))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("calls of one month, municipality, system and service are out of range"),
				 errdetail("A load's calls per key must sum to at most %lld.",
						   (long long) PG_INT64_MAX)));
}

/*
 * usage_summary_reset(): the BEFORE STATEMENT trigger of usage.  A
 * statement starts with no pending sums, whatever an earlier, failed
 * statement of the transaction left.
 */
PG_FUNCTION_INFO_V1(usage_summary_reset);

Datum
usage_summary_reset(PG_FUNCTION_ARGS)
{
	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("usage_summary_reset() must be called as a trigger")));
	pending_reset();
	return PointerGetDatum(NULL);
}

/* The text of a code in a key, up to its separator; advances *p past it. */
static Datum
key_code(const char **p)
{
	const char *end = strchr(*p, CODE_SEPARATOR);
	Datum		code;

	Assert(end != NULL);
	code = PointerGetDatum(cstring_to_text_with_len(*p, end - *p));
	*p = end + 1;
	return code;
}

/*
 * usage_summary_pending(): the sums the current statement loaded, one row
 * per key, and empties them.  Called by the AFTER STATEMENT trigger.
 */
PG_FUNCTION_INFO_V1(usage_summary_pending);

Datum
usage_summary_pending(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	HASH_SEQ_STATUS seq;
	PendingSum *sum;

	InitMaterializedSRF(fcinfo, 0);
	if (pending == NULL || pending_lxid != MyProc->lxid)
		PG_RETURN_VOID();

	hash_seq_init(&seq, pending);
	while ((sum = (PendingSum *) hash_seq_search(&seq)) != NULL)
	{
		Datum		values[6];
		bool		nulls[6] = {false, false, false, false, false, false};
		const char *p = sum->key + 8;
		char		hex[9];

		memcpy(hex, sum->key, 8);
		hex[8] = '\0';
		values[0] = DateADTGetDatum((DateADT) strtoul(hex, NULL, 16));
		values[1] = key_code(&p);
		values[2] = key_code(&p);
		values[3] = key_code(&p);
		values[4] = Int64GetDatum(sum->calls);
		values[5] = Int64GetDatum(sum->rows);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	pending_reset();
	PG_RETURN_VOID();
}
