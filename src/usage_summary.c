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
 * trigger takes the sums in key order (usage_summary_pending) and adds
 * them to usage_summary.
 *
 * The codes are interned to small ids (code_dict.h, as in the grouping
 * aggregate), so a sum's key is 16 bytes and its entry 32: a year's few hundred thousand keys stay near the cache, and
 * memory is bounded by the keys the statement loaded, whatever its rows.
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

#include "code_dict.h"
#include "usage_summary.h"

typedef enum CodeKind
{
	CODE_MUNICIPALITY = 0,
	CODE_SYSTEM,
	CODE_SERVICE,
	CODE_KINDS
} CodeKind;

typedef struct SumKey
{
	DateADT		period;
	uint32		code[CODE_KINDS];
} SumKey;

typedef struct PendingSum
{
	SumKey		key;
	int64		calls;
	int64		rows;
} PendingSum;

/* The statement's sums, in a memory context of their own */
typedef struct Pending
{
	MemoryContext cxt;
	LocalTransactionId lxid;
	HTAB	   *sums;
	CodeDict	dict[CODE_KINDS];
} Pending;

static Pending pending = {NULL, InvalidLocalTransactionId, NULL};

/* Empty the pending sums: a fresh context, table and dictionaries. */
static void
pending_reset(void)
{
	static const char *const what[CODE_KINDS] = {"municipality_code", "system_code", "service_code"};
	HASHCTL		ctl;
	int			kind;

	if (pending.cxt != NULL)
		MemoryContextDelete(pending.cxt);
	memset(&pending, 0, sizeof(pending));
	pending.cxt = AllocSetContextCreate(TopMemoryContext, "afregning pending usage sums",
										ALLOCSET_DEFAULT_SIZES);
	pending.lxid = MyProc->lxid;

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = sizeof(SumKey);
	ctl.entrysize = sizeof(PendingSum);
	ctl.hcxt = pending.cxt;
	pending.sums = hash_create("afregning pending usage sums", 1024, &ctl,
							   HASH_ELEM | HASH_BLOBS | HASH_CONTEXT);
	for (kind = 0; kind < CODE_KINDS; kind++)
		code_dict_init(pending.cxt, &pending.dict[kind], what[kind]);
}

/* The id of a code, interned on first sight. */
static uint32
code_id(CodeKind kind, text *code)
{
	bool		is_new;

	return (uint32) code_dict_intern(pending.cxt, &pending.dict[kind], VARDATA_ANY(code),
									 VARSIZE_ANY_EXHDR(code), &is_new);
}

void
usage_summary_add(DateADT period, text *municipality, text *system, text *service,
				  int64 calls)
{
	SumKey		key;
	PendingSum *sum;
	bool		found;

	/* sums left by another transaction are not ours */
	if (pending.cxt == NULL || pending.lxid != MyProc->lxid)
		pending_reset();

	memset(&key, 0, sizeof(key));
	key.period = period;
	key.code[CODE_MUNICIPALITY] = code_id(CODE_MUNICIPALITY, municipality);
	key.code[CODE_SYSTEM] = code_id(CODE_SYSTEM, system);
	key.code[CODE_SERVICE] = code_id(CODE_SERVICE, service);

	sum = (PendingSum *) hash_search(pending.sums, &key, HASH_ENTER, &found);
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

/* Key order: period, then the codes as bytes (the "C" collation of the table). */
static int
sum_cmp(const void *a, const void *b)
{
	const PendingSum *x = *(PendingSum *const *) a;
	const PendingSum *y = *(PendingSum *const *) b;
	int			kind;

	if (x->key.period != y->key.period)
		return x->key.period < y->key.period ? -1 : 1;
	for (kind = 0; kind < CODE_KINDS; kind++)
	{
		CodeDict   *d = &pending.dict[kind];
		int			a = x->key.code[kind];
		int			b = y->key.code[kind];
		int			c;

		if (a == b)
			continue;
		c = memcmp(d->codes[a], d->codes[b], Min(d->lens[a], d->lens[b]));
		return c != 0 ? c : (d->lens[a] < d->lens[b] ? -1 : 1);
	}
	return 0;
}

/*
 * usage_summary_pending(): the sums the current statement loaded, one row
 * per key in key order (so that two loads lock shared sums in the same
 * order), and empties them.  Called by the AFTER STATEMENT trigger.
 */
PG_FUNCTION_INFO_V1(usage_summary_pending);

Datum
usage_summary_pending(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	HASH_SEQ_STATUS seq;
	PendingSum *sum;
	PendingSum **sorted;
	long		n = 0;
	long		i;

	InitMaterializedSRF(fcinfo, 0);
	if (pending.cxt == NULL || pending.lxid != MyProc->lxid)
		PG_RETURN_VOID();

	sorted = MemoryContextAlloc(pending.cxt,
								Max(hash_get_num_entries(pending.sums), 1) * sizeof(PendingSum *));
	hash_seq_init(&seq, pending.sums);
	while ((sum = (PendingSum *) hash_seq_search(&seq)) != NULL)
		sorted[n++] = sum;
	qsort(sorted, n, sizeof(PendingSum *), sum_cmp);

	for (i = 0; i < n; i++)
	{
		Datum		values[6];
		bool		nulls[6] = {false, false, false, false, false, false};
		int			kind;

		sum = sorted[i];
		values[0] = DateADTGetDatum(sum->key.period);
		for (kind = 0; kind < CODE_KINDS; kind++)
		{
			CodeDict   *d = &pending.dict[kind];
			int			id = sum->key.code[kind];

			values[1 + kind] = PointerGetDatum(cstring_to_text_with_len(d->codes[id], d->lens[id]));
		}
		values[4] = Int64GetDatum(sum->calls);
		values[5] = Int64GetDatum(sum->rows);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	pending_reset();
	PG_RETURN_VOID();
}
