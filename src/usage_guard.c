/*-------------------------------------------------------------------------
 *
 * usage_guard.c
 *	  Checks of every loaded usage row, at the speed of COPY.
 *
 * A year of usage is hundreds of millions of rows.  Declarative foreign
 * keys run one query per row and key, which made a load fifty times
 * slower than COPY into a plain table; a statement trigger needs a
 * transition table holding every row, and a row trigger stops COPY from
 * inserting in batches.  The CHECK constraint usage_row_valid checks the
 * same things from a small cache instead: a row's municipality, system,
 * service and batch must exist (23503), its batch must have been
 * registered by the loading transaction itself (23505: S11, a batch loads
 * once), its period must be the first of a month (23514), and its year
 * must not be closed (55000).  A row that passes adds its calls to the
 * statement's monthly sums (usage_summary.c).  The cache lives for one
 * command; the first lookup of each code in a command locks the row it
 * found as a foreign key check would (see key_source), so a concurrent
 * delete or close cannot slip between the check and the commit.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "common/hashfn.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/tableam.h"
#include "access/xact.h"
#include "catalog/namespace.h"
#include "catalog/pg_collation.h"
#include "catalog/pg_type.h"
#include "datatype/timestamp.h"
#include "executor/spi.h"
#include "executor/tuptable.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "nodes/lockoptions.h"
#include "storage/lockdefs.h"
#include "storage/proc.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/fmgroids.h"
#include "utils/hsearch.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"

#include "restore_mode.h"
#include "usage_summary.h"

/* Longest code a cache key holds; longer codes are looked up every time */
#define KEY_CODE_MAX	64

/* What a cached code is: the reference it was checked against */
typedef enum KeyKind
{
	KEY_MUNICIPALITY = 0,
	KEY_SYSTEM,
	KEY_SERVICE,
	KEY_BATCH,
	KEY_YEAR,
	KEY_KINDS
} KeyKind;

/* What a lookup found */
typedef enum KeyAnswer
{
	ANSWER_OK = 0,				/* the row may be loaded */
	ANSWER_UNKNOWN,				/* no such code (23503) */
	ANSWER_BATCH_LOADED,		/* batch registered by an earlier, committed transaction (23505) */
	ANSWER_YEAR_CLOSED			/* the year is closed (55000) */
} KeyAnswer;

/* Cache entry: the kind and code as a string key, and the answer */
typedef struct KnownKey
{
	char		key[KEY_CODE_MAX + 2];	/* kind letter + code, NUL-ended */
	KeyAnswer	answer;
} KnownKey;

/*
 * Where each kind is looked up: table, key column, unique index on it, and
 * the row lock taken on what is found (NoLock: none).
 *
 * The lock is what makes the check hold under concurrency, where a plain
 * read would only see the statement's snapshot:
 *  - municipality, system, service: FOR KEY SHARE, like a foreign key, so
 *    a concurrent DELETE or code change waits for the loading transaction
 *    and then finds its usage (the usage_reference guards refuse it);
 *  - billing year: FOR SHARE, which conflicts with close_year()'s status
 *    update.  A load that waited for a close therefore sees the closed
 *    status under READ COMMITTED (the lock follows the row to its latest
 *    version) and fails with 40001 under REPEATABLE READ or SERIALIZABLE,
 *    instead of trusting the status in its pre-wait snapshot;
 *  - batch: no lock.  usage_batch is append-only (UPDATE, DELETE and
 *    TRUNCATE are refused), and a batch is accepted only from the
 *    transaction that registered it (S11), so nothing can change under us.
 */
typedef struct KeySource
{
	const char *table;
	const char *column;
	const char *index;
	LockTupleMode lockmode;
	bool		lock;
} KeySource;

static const KeySource key_source[KEY_KINDS] = {
	{"municipality", "code", "municipality_pkey", LockTupleKeyShare, true},
	{"consumer_system", "code", "consumer_system_pkey", LockTupleKeyShare, true},
	{"service", "code", "service_pkey", LockTupleKeyShare, true},
	{"usage_batch", "batch_key", "usage_batch_pkey", LockTupleKeyShare, false},
	{"billing_year", "year", "billing_year_pkey", LockTupleShare, true}
};

static const char *const key_name[KEY_KINDS] = {
	"municipality", "consumer system", "service", "usage batch", "year"
};

static HTAB *known_keys = NULL;

/* The last code found loadable per kind: consecutive rows of a load mostly repeat it */
static char last_code[KEY_KINDS][KEY_CODE_MAX];
static int	last_len[KEY_KINDS];
static LocalTransactionId known_lxid = InvalidLocalTransactionId;
static CommandId known_cid = InvalidCommandId;

/* Forget the cache when a new command or transaction starts. */
static void
reset_cache_if_stale(void)
{
	CommandId	cid = GetCurrentCommandId(false);
	HASHCTL		ctl;

	if (known_keys != NULL && known_lxid == MyProc->lxid && known_cid == cid)
		return;
	if (known_keys != NULL)
		hash_destroy(known_keys);

	memset(&ctl, 0, sizeof(ctl));
	ctl.keysize = KEY_CODE_MAX + 2;
	ctl.entrysize = sizeof(KnownKey);
	ctl.hcxt = TopMemoryContext;
	known_keys = hash_create("afregning usage guard keys", 256, &ctl,
							 HASH_ELEM | HASH_STRINGS | HASH_CONTEXT);
	known_lxid = MyProc->lxid;
	known_cid = cid;
	memset(last_len, -1, sizeof(last_len));
}

/* The OID of one of our relations, by name. */
static Oid
our_relation(const char *name)
{
	Oid			nsp = get_namespace_oid("afregning", false);
	Oid			relid = get_relname_relid(name, nsp);

	if (!OidIsValid(relid))
		elog(ERROR, "relation afregning.%s does not exist", name);
	return relid;
}

/*
 * Find the row of a code (or year) in its reference table and lock it as
 * key_source says; return what it means for the usage row.
 *
 * The row is found with the statement's snapshot and then locked as
 * SELECT ... FOR KEY SHARE / FOR SHARE would: under READ COMMITTED the
 * lock waits for a concurrent writer and then follows the row to its
 * latest committed version, which is the one judged; under REPEATABLE
 * READ and SERIALIZABLE a row changed since the snapshot is a
 * serialization failure (40001), so the caller retries rather than load
 * against data that no longer holds.
 */
static KeyAnswer
lookup_key(KeyKind kind, const char *code)
{
	const KeySource *src = &key_source[kind];
	Oid			relid = our_relation(src->table);
	Oid			indexid = our_relation(src->index);
	Relation	rel;
	AttrNumber	attno;
	ScanKeyData skey;
	SysScanDesc scan;
	HeapTuple	tuple;
	Datum		keyvalue;
	Snapshot	snapshot = GetActiveSnapshot();
	KeyAnswer	answer = ANSWER_UNKNOWN;

	rel = table_open(relid, src->lock ? RowShareLock : AccessShareLock);
	attno = get_attnum(relid, src->column);
	if (attno == InvalidAttrNumber)
		elog(ERROR, "column %s of afregning.%s does not exist", src->column, src->table);

	if (kind == KEY_YEAR)
	{
		int32		year = pg_strtoint32(code);

		keyvalue = Int32GetDatum(year);
		ScanKeyInit(&skey, attno, BTEqualStrategyNumber, F_INT4EQ, keyvalue);
	}
	else
	{
		keyvalue = CStringGetTextDatum(code);
		ScanKeyInit(&skey, attno, BTEqualStrategyNumber, F_TEXTEQ, keyvalue);
	}

	scan = systable_beginscan(rel, indexid, true, snapshot, 1, &skey);
	tuple = systable_getnext(scan);
	if (HeapTupleIsValid(tuple))
	{
		ItemPointerData tid = tuple->t_self;
		TupleTableSlot *slot = table_slot_create(rel, NULL);
		bool		exists = true;

		if (src->lock)
		{
			TM_FailureData tmfd;
			TM_Result	result;

			result = table_tuple_lock(rel, &tid, snapshot, slot,
									  GetCurrentCommandId(false), src->lockmode,
									  LockWaitBlock,
									  IsolationUsesXactSnapshot() ? 0 : TUPLE_LOCK_FLAG_FIND_LAST_VERSION,
									  &tmfd);
			switch (result)
			{
				case TM_Ok:
				case TM_SelfModified:
					break;
				case TM_Updated:
				case TM_Deleted:
					if (IsolationUsesXactSnapshot())
						ereport(ERROR,
								(errcode(ERRCODE_T_R_SERIALIZATION_FAILURE),
								 errmsg("could not serialize access due to concurrent change of %s \"%s\"",
										key_name[kind], code),
								 errdetail("The %s was changed by a transaction that committed after this load's snapshot.",
										   key_name[kind]),
								 errhint("Retry the transaction.")));
					/* READ COMMITTED: the row was deleted meanwhile */
					exists = false;
					break;
				default:
					elog(ERROR, "unexpected result %d locking a reference row", (int) result);
			}
			if (result == TM_SelfModified)
				ExecForceStoreHeapTuple(tuple, slot, false);	/* our own change */
			/* the latest version may carry another key (a renamed code) */
			if (exists)
			{
				bool		isnull;
				Datum		now = slot_getattr(slot, attno, &isnull);

				if (isnull)
					exists = false;
				else if (kind == KEY_YEAR)
					exists = DatumGetInt32(now) == DatumGetInt32(keyvalue);
				else
					exists = DatumGetBool(DirectFunctionCall2Coll(texteq, C_COLLATION_OID,
																  now, keyvalue));
			}
		}
		else
			ExecForceStoreHeapTuple(tuple, slot, false);

		if (!exists)
			answer = ANSWER_UNKNOWN;
		else if (kind == KEY_YEAR)
		{
			bool		isnull;
			Datum		status = slot_getattr(slot, get_attnum(relid, "status"), &isnull);
			char	   *label;

			/* year_status is an enum: compare its label */
			label = isnull ? NULL : DatumGetCString(DirectFunctionCall1(enum_out, status));
			answer = (label != NULL && strcmp(label, "closed") == 0) ? ANSWER_YEAR_CLOSED : ANSWER_OK;
		}
		else if (kind == KEY_BATCH)
		{
			bool		isnull;
			TransactionId xmin;

			/*
			 * S11: a batch is loaded by the transaction that registers it.
			 * Once that transaction has committed, the batch is loaded and
			 * takes no more rows, in any later statement or session.
			 */
			xmin = DatumGetTransactionId(slot_getsysattr(slot, MinTransactionIdAttributeNumber, &isnull));
			answer = TransactionIdIsCurrentTransactionId(xmin) ? ANSWER_OK : ANSWER_BATCH_LOADED;
		}
		else
			answer = ANSWER_OK;

		ExecDropSingleTupleTableSlot(slot);
	}
	systable_endscan(scan);
	/* keep the table lock until the end of the transaction, as a query would */
	table_close(rel, NoLock);
	return answer;
}

/* What a code (not NUL-ended) means, from the cache where possible. */
static KeyAnswer
key_answer(KeyKind kind, const char *code, int len)
{
	char		key[KEY_CODE_MAX + 2];
	KnownKey   *entry;
	KeyAnswer	answer;

	if (len > KEY_CODE_MAX)
		return lookup_key(kind, pnstrdup(code, len));
	if (last_len[kind] == len && memcmp(last_code[kind], code, len) == 0)
		return ANSWER_OK;

	key[0] = 'a' + (char) kind;
	memcpy(key + 1, code, len);
	key[len + 1] = '\0';

	entry = (KnownKey *) hash_search(known_keys, key, HASH_FIND, NULL);
	if (entry != NULL)
		answer = entry->answer;
	else
	{
		answer = lookup_key(kind, key + 1);
		entry = (KnownKey *) hash_search(known_keys, key, HASH_ENTER, NULL);
		entry->answer = answer;
	}
	if (answer == ANSWER_OK)
	{
		memcpy(last_code[kind], code, len);
		last_len[kind] = len;
	}
	return answer;
}

/* Refuse a row whose text column names a code that does not exist. */
static void
check_reference(Datum value, bool isnull, const char *column, KeyKind kind)
{
	text	   *t;

	if (isnull)
		return;					/* NOT NULL is checked before any CHECK: a null never
								 * comes here from the constraint */

	/* codes are short and stored inline: no copy on the way to the cache */
	t = DatumGetTextPP(value);
	switch (key_answer(kind, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t)))
	{
		case ANSWER_OK:
			break;
		case ANSWER_BATCH_LOADED:
			{
				char	   *code = text_to_cstring(t);

				ereport(ERROR,
						(errcode(ERRCODE_UNIQUE_VIOLATION),
						 errmsg("usage batch \"%s\" is already loaded", code),
						 errdetail("Batch \"%s\" was registered and loaded by a transaction that has committed; a batch is loaded once.", code),
						 errhint("Usage of a batch is loaded in the transaction that registers it in afregning.usage_batch; deliver late or corrected usage as a new batch.")));
			}
			break;
		default:
			{
				char	   *code = text_to_cstring(t);

				ereport(ERROR,
						(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
						 errmsg("usage row refers to unknown %s \"%s\"", key_name[kind], code),
						 errdetail("Key (%s)=(%s) is not present in the reference data.", column, code),
						 errhint("Register the %s before loading its usage.", key_name[kind])));
			}
	}
}

/* Refuse a period that is not a first of a month, or of a closed year. */
static void
check_period(DateADT period)
{
	int			year,
				month,
				day;
	char		year_text[16];

	if (DATE_NOT_FINITE(period))
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("usage period must be a finite date")));
	j2date(period + POSTGRES_EPOCH_JDATE, &year, &month, &day);
	if (day != 1)
		ereport(ERROR,
				(errcode(ERRCODE_CHECK_VIOLATION),
				 errmsg("usage period %04d-%02d-%02d is not the first day of a month",
						year, month, day),
				 errdetail("Usage is counted per month and keyed by the month's first day."),
				 errhint("Use %04d-%02d-01.", year, month)));

	snprintf(year_text, sizeof(year_text), "%d", year);
	if (key_answer(KEY_YEAR, year_text, strlen(year_text)) == ANSWER_YEAR_CLOSED)
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("usage of year %d is locked", year),
				 errdetail("Billing year %d is closed.", year),
				 errhint("Usage of a closed year was rated at close; book a late cost as an actual data_consumption entry of an open year with \"corrects\" set.")));
}

/*
 * Check one usage row as it is stored (arguments period,
 * municipality_code, system_code, service_code, then the batch_key at
 * batch_arg): the CHECK constraint usage_row_valid.  A CHECK, not a row
 * trigger, because any BEFORE ROW trigger makes COPY insert row by row
 * instead of in batches, which alone costs two thirds of its speed.  It
 * raises the specific error itself; nulls are left to NOT NULL.
 */
static void
check_row(FunctionCallInfo fcinfo, int batch_arg)
{
	reset_cache_if_stale();

	if (!PG_ARGISNULL(0))
		check_period(PG_GETARG_DATEADT(0));
	check_reference(PG_GETARG_DATUM(1), PG_ARGISNULL(1), "municipality_code", KEY_MUNICIPALITY);
	check_reference(PG_GETARG_DATUM(2), PG_ARGISNULL(2), "system_code", KEY_SYSTEM);
	check_reference(PG_GETARG_DATUM(3), PG_ARGISNULL(3), "service_code", KEY_SERVICE);
	check_reference(PG_GETARG_DATUM(batch_arg), PG_ARGISNULL(batch_arg), "batch_key", KEY_BATCH);
}

/* The check as 0.1.0 declared it, for a database not yet updated. */
PG_FUNCTION_INFO_V1(usage_row_valid);

Datum
usage_row_valid(PG_FUNCTION_ARGS)
{
	/* a dump replays closed years' usage, in restore mode only */
	if (restore_mode_active())
		PG_RETURN_BOOL(true);
	check_row(fcinfo, 4);
	PG_RETURN_BOOL(true);
}

/*
 * usage_row_check(period, municipality_code, system_code, service_code,
 * calls, batch_key): the check, and then the row's calls added to the
 * statement's monthly sums (usage_summary.c), which the AFTER STATEMENT
 * trigger of usage writes to usage_summary.  In restore mode nothing is
 * checked or added: the dump brings the sums.
 */
PG_FUNCTION_INFO_V1(usage_row_check);

Datum
usage_row_check(PG_FUNCTION_ARGS)
{
	if (restore_mode_active())
		PG_RETURN_BOOL(true);
	check_row(fcinfo, 5);
	/* a null is refused by NOT NULL, which runs before any CHECK */
	if (!PG_ARGISNULL(0) && !PG_ARGISNULL(1) && !PG_ARGISNULL(2) &&
		!PG_ARGISNULL(3) && !PG_ARGISNULL(4))
		usage_summary_add(PG_GETARG_DATEADT(0), PG_GETARG_TEXT_PP(1), PG_GETARG_TEXT_PP(2),
						  PG_GETARG_TEXT_PP(3), PG_GETARG_INT64(4));
	PG_RETURN_BOOL(true);
}

/*
 * A fingerprint of the rows of a small table that a snapshot sees: their
 * number and a sum of hashes of their tuple ids.  An insert, a delete and
 * an update (which writes a new tuple) each change it.
 */
static void
relation_fingerprint(Oid relid, Snapshot snapshot, int64 *rows, uint64 *sum)
{
	Relation	rel = table_open(relid, AccessShareLock);
	TableScanDesc scan;
	TupleTableSlot *slot = table_slot_create(rel, NULL);

	*rows = 0;
	*sum = 0;
	snapshot = RegisterSnapshot(snapshot);
	scan = table_beginscan(rel, snapshot, 0, NULL);
	while (table_scan_getnextslot(scan, ForwardScanDirection, slot))
	{
		uint64		tid;

		CHECK_FOR_INTERRUPTS();
		tid = ((uint64) ItemPointerGetBlockNumber(&slot->tts_tid) << 16) |
			ItemPointerGetOffsetNumber(&slot->tts_tid);
		(*rows)++;
		*sum += hash_bytes_uint32((uint32) tid) ^ ((uint64) hash_bytes_uint32((uint32) (tid >> 32)) << 32);
	}
	table_endscan(scan);
	UnregisterSnapshot(snapshot);
	ExecDropSingleTupleTableSlot(slot);
	table_close(rel, NoLock);
}

/*
 * relation_snapshot_current(regclass) -- whether this transaction's
 * snapshot sees a small table as it stands now.
 *
 * announce_price() and close_year() lock the billing year, and the guards
 * of cost entries and population lock it FOR SHARE, so a step waits for
 * rows still being written into its year.  Under REPEATABLE READ and
 * SERIALIZABLE the step's snapshot was taken before that wait, and rows
 * committed meanwhile would be missed without an error: the step refuses
 * (40001) when this is false.  Always true under READ COMMITTED.
 */
PG_FUNCTION_INFO_V1(relation_snapshot_current);

Datum
relation_snapshot_current(PG_FUNCTION_ARGS)
{
	Oid			relid = PG_GETARG_OID(0);
	int64		seen_rows,
				latest_rows;
	uint64		seen_sum,
				latest_sum;

	if (!IsolationUsesXactSnapshot())
		PG_RETURN_BOOL(true);
	relation_fingerprint(relid, GetTransactionSnapshot(), &seen_rows, &seen_sum);
	relation_fingerprint(relid, GetLatestSnapshot(), &latest_rows, &latest_sum);
	PG_RETURN_BOOL(seen_rows == latest_rows && seen_sum == latest_sum);
}

/* Whether usage has a row with column = code, as a snapshot sees it. */
static bool
usage_refers(const char *column, text *code, Snapshot snapshot)
{
	char		query[128];
	Oid			argtype = TEXTOID;
	Datum		arg = PointerGetDatum(code);
	SPIPlanPtr	plan;
	bool		found;

	snprintf(query, sizeof(query),
			 "SELECT 1 FROM afregning.usage WHERE %s = $1 LIMIT 1", column);
	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	plan = SPI_prepare(query, 1, &argtype);
	if (plan == NULL)
		elog(ERROR, "SPI_prepare failed for \"%s\"", query);
	if (SPI_execute_snapshot(plan, &arg, NULL, snapshot, InvalidSnapshot,
							 true, false, 1) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_snapshot failed for \"%s\"", query);
	found = SPI_processed > 0;
	SPI_finish();
	return found;
}

/*
 * usage_reference_unseen(column, code) -- whether usage committed after
 * this transaction's snapshot refers to a code.
 *
 * The usage_reference guards refuse to delete or re-key a municipality,
 * system or service that usage refers to, judged by the deleting
 * statement's snapshot.  Under READ COMMITTED that is enough: a load locks
 * the codes it uses FOR KEY SHARE (see key_source), so the DELETE waits
 * for it and its guard then runs with a snapshot that sees the load.
 * Under REPEATABLE READ and SERIALIZABLE the guard keeps the transaction's
 * older snapshot and would miss that load; a foreign key would look with a
 * current snapshot, and so does this function, so that the delete fails
 * with 40001 instead of leaving usage that refers to nothing.  Always
 * false under READ COMMITTED.
 */
PG_FUNCTION_INFO_V1(usage_reference_unseen);

Datum
usage_reference_unseen(PG_FUNCTION_ARGS)
{
	char	   *column = text_to_cstring(PG_GETARG_TEXT_PP(0));
	text	   *code = PG_GETARG_TEXT_PP(1);

	if (strcmp(column, "municipality_code") != 0 &&
		strcmp(column, "system_code") != 0 &&
		strcmp(column, "service_code") != 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("usage has no code column \"%s\"", column)));
	if (!IsolationUsesXactSnapshot())
		PG_RETURN_BOOL(false);
	PG_RETURN_BOOL(usage_refers(column, code, GetLatestSnapshot()) &&
				   !usage_refers(column, code, GetTransactionSnapshot()));
}
