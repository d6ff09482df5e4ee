/*-------------------------------------------------------------------------
 *
 * ledger_chain.c
 *	  The hash chain over the ledger rows (SPEC §7).
 *
 * Every row of a ledger table is linked once, in table ledger_link: its
 * key, a SHA-256 of its canonical content (row_digest) and the chain value
 * SHA-256(previous chain || row_digest).  An edit made with the triggers
 * off, by a superuser or in a dump file changes a row's digest, and a
 * removed or forged link breaks the chain after it; verify_ledger()
 * recomputes both.
 *
 * The canonical content of a row does not depend on any setting:
 *
 *		<table name> LF
 *		<column> '=' <byte length> ':' <value> LF		for every non-null column
 *
 * with the columns in byte order of their names (so a table made by an
 * upgrade, whose added columns come last, hashes like a fresh one), dates
 * and timestamps in ISO 8601 (timestamptz in UTC), bytea in hex and every
 * other type in its text output.  A row's key is its primary key: the one
 * value, or for several columns a record literal "(v1,v2)".
 *
 * An AFTER INSERT row trigger computes the key and digest of each new row
 * at once and queues them in memory; the links are appended just before
 * the transaction commits (XACT_EVENT_PRE_COMMIT), so a ledger-writing
 * transaction holds the chain's lock only while it commits, not while it
 * rates a year.  Appends are serialised by an EXCLUSIVE lock on ledger_link
 * (readers are not blocked), and the head is read with a fresh snapshot
 * after the lock is granted, so links never fork, whatever the isolation
 * level.  Queued rows of an aborted subtransaction are dropped with it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/genam.h"
#include "access/htup_details.h"
#include "access/table.h"
#include "access/xact.h"
#include "catalog/index.h"
#include "catalog/indexing.h"
#include "catalog/pg_type.h"
#include "commands/trigger.h"
#include "common/cryptohash.h"
#include "common/int.h"
#include "common/sha2.h"
#include "fmgr.h"
#include "funcapi.h"
#include "lib/stringinfo.h"
#include "miscadmin.h"
#include "storage/lmgr.h"
#include "utils/builtins.h"
#include "utils/json.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"
#include "utils/rel.h"
#include "utils/snapmgr.h"
#include "utils/typcache.h"

#include "restore_mode.h"

#define CHAIN_LEN	PG_SHA256_DIGEST_LENGTH

/* how a column's value is written into the canonical text */
typedef enum ValueStyle
{
	STYLE_OUTPUT,				/* the type's output function */
	STYLE_DATETIME,				/* ISO 8601, timestamptz in UTC */
	STYLE_BYTEA					/* lower-case hex */
} ValueStyle;

typedef struct LedgerColumn
{
	AttrNumber	attnum;
	char	   *name;
	Oid			typid;
	ValueStyle	style;
	FmgrInfo	output;
} LedgerColumn;

/* what is needed to hash rows of one ledger table; built once per call site */
typedef struct LedgerShape
{
	Oid			relid;
	Oid			rowtype;
	char	   *relname;
	Oid			linkrel;		/* ledger_link beside the table */
	int			ncolumns;
	LedgerColumn *columns;		/* non-dropped columns, by name */
	int			nkeys;
	LedgerColumn *keys;			/* primary key columns, in key order */
} LedgerShape;

/* the chain head of this transaction, valid while we hold the chain lock */
typedef struct ChainHead
{
	bool		valid;
	Oid			linkrel;
	int64		link_id;
	uint8		chain[CHAIN_LEN];
} ChainHead;

static ChainHead head = {false};
static bool callbacks_registered = false;

/* a row inserted by this transaction, waiting to be linked at commit */
typedef struct PendingLink
{
	SubTransactionId subid;		/* (sub)transaction that owns the row */
	Oid			linkrel;
	const char *ledger;
	char	   *row_key;
	uint8		digest[CHAIN_LEN];
} PendingLink;

static MemoryContext pending_cxt = NULL;	/* child of TopTransactionContext */
static PendingLink *pending = NULL;
static int	npending = 0;
static int	maxpending = 0;

static int
column_name_cmp(const void *a, const void *b)
{
	return strcmp(((const LedgerColumn *) a)->name, ((const LedgerColumn *) b)->name);
}

static void
column_init(LedgerColumn *col, Form_pg_attribute att, MemoryContext mcxt)
{
	Oid			base = getBaseType(att->atttypid);
	Oid			outfunc;
	bool		isvarlena;

	col->attnum = att->attnum;
	col->name = MemoryContextStrdup(mcxt, NameStr(att->attname));
	col->typid = base;
	switch (base)
	{
		case DATEOID:
		case TIMESTAMPOID:
		case TIMESTAMPTZOID:
			col->style = STYLE_DATETIME;
			break;
		case BYTEAOID:
			col->style = STYLE_BYTEA;
			break;
		case FLOAT4OID:
		case FLOAT8OID:
		case INTERVALOID:
		case MONEYOID:
		case TIMETZOID:
		case REGCLASSOID:
		case REGPROCOID:
		case REGTYPEOID:
		case REGROLEOID:
		case REGNAMESPACEOID:
			/* their text depends on settings or search_path: not a canonical form */
			ereport(ERROR,
					(errcode(ERRCODE_FEATURE_NOT_SUPPORTED),
					 errmsg("ledger column \"%s\" has type %s, which has no canonical text form",
							NameStr(att->attname), format_type_be(att->atttypid)),
					 errhint("Ledger columns hold numbers, codes, dates and timestamps.")));
			break;
		default:
			col->style = STYLE_OUTPUT;
			getTypeOutputInfo(base, &outfunc, &isvarlena);
			fmgr_info_cxt(outfunc, &col->output, mcxt);
			break;
	}
}

/* Build the shape of ledger table relid (row type rowtype) in mcxt. */
static LedgerShape *
shape_build(Oid relid, MemoryContext mcxt)
{
	Relation	rel = table_open(relid, AccessShareLock);
	TupleDesc	desc = RelationGetDescr(rel);
	LedgerShape *shape;
	Oid			pkey;
	int			i;

	shape = MemoryContextAllocZero(mcxt, sizeof(LedgerShape));
	shape->relid = relid;
	shape->rowtype = rel->rd_rel->reltype;
	shape->relname = MemoryContextStrdup(mcxt, RelationGetRelationName(rel));
	shape->linkrel = get_relname_relid("ledger_link", RelationGetNamespace(rel));
	shape->columns = MemoryContextAllocZero(mcxt, sizeof(LedgerColumn) * Max(desc->natts, 1));
	for (i = 0; i < desc->natts; i++)
	{
		Form_pg_attribute att = TupleDescAttr(desc, i);

		if (att->attisdropped)
			continue;
		column_init(&shape->columns[shape->ncolumns++], att, mcxt);
	}
	qsort(shape->columns, shape->ncolumns, sizeof(LedgerColumn), column_name_cmp);

	pkey = RelationGetPrimaryKeyIndex(rel);
	if (!OidIsValid(pkey))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("ledger table \"%s\" has no primary key", shape->relname),
				 errdetail("A ledger row is linked into the hash chain under its primary key.")));
	{
		Relation	idx = index_open(pkey, AccessShareLock);
		int			nkeys = idx->rd_index->indnkeyatts;

		shape->nkeys = nkeys;
		shape->keys = MemoryContextAllocZero(mcxt, sizeof(LedgerColumn) * nkeys);
		for (i = 0; i < nkeys; i++)
			column_init(&shape->keys[i],
						TupleDescAttr(desc, idx->rd_index->indkey.values[i] - 1), mcxt);
		index_close(idx, AccessShareLock);
	}
	table_close(rel, AccessShareLock);
	return shape;
}

/* The canonical text of one value. */
static char *
value_text(LedgerColumn *col, Datum value)
{
	static const int utc = 0;

	switch (col->style)
	{
		case STYLE_DATETIME:
			return JsonEncodeDateTime(NULL, value, col->typid, &utc);
		case STYLE_BYTEA:
			{
				bytea	   *b = DatumGetByteaPP(value);
				int			len = VARSIZE_ANY_EXHDR(b);
				char	   *out = palloc(2 * len + 1);
				int			n = hex_encode(VARDATA_ANY(b), len, out);

				out[n] = '\0';
				return out;
			}
		default:
			return OutputFunctionCall(&col->output, value);
	}
}

/* Append value to buf as an element of a record literal (record_out's quoting). */
static void
append_key_element(StringInfo buf, const char *value)
{
	bool		quote = (value[0] == '\0');
	const char *p;

	for (p = value; *p && !quote; p++)
		if (*p == '"' || *p == '\\' || *p == '(' || *p == ')' || *p == ',' ||
			isspace((unsigned char) *p))
			quote = true;
	if (!quote)
	{
		appendStringInfoString(buf, value);
		return;
	}
	appendStringInfoChar(buf, '"');
	for (p = value; *p; p++)
	{
		if (*p == '"' || *p == '\\')
			appendStringInfoChar(buf, *p);
		appendStringInfoChar(buf, *p);
	}
	appendStringInfoChar(buf, '"');
}

static void
sha256_bytes(const uint8 *a, size_t alen, const uint8 *b, size_t blen, uint8 *dest)
{
	pg_cryptohash_ctx *ctx = pg_cryptohash_create(PG_SHA256);

	if (pg_cryptohash_init(ctx) < 0 ||
		pg_cryptohash_update(ctx, a, alen) < 0 ||
		(b != NULL && pg_cryptohash_update(ctx, b, blen) < 0) ||
		pg_cryptohash_final(ctx, dest, CHAIN_LEN) < 0)
	{
		const char *msg = pg_cryptohash_error(ctx);

		pg_cryptohash_free(ctx);
		ereport(ERROR,
				(errcode(ERRCODE_INTERNAL_ERROR),
				 errmsg("could not compute a SHA-256 hash: %s", msg)));
	}
	pg_cryptohash_free(ctx);
}

/*
 * The key and digest of one row of a ledger.  values/nulls are the row in
 * attribute order.  Either output may be NULL when not wanted.
 */
static void
row_identity(LedgerShape *shape, Datum *values, bool *nulls,
			 char **key_out, uint8 *digest_out)
{
	int			i;

	if (key_out != NULL)
	{
		StringInfoData key;

		initStringInfo(&key);
		if (shape->nkeys == 1)
			appendStringInfoString(&key,
								   value_text(&shape->keys[0], values[shape->keys[0].attnum - 1]));
		else
		{
			appendStringInfoChar(&key, '(');
			for (i = 0; i < shape->nkeys; i++)
			{
				if (i > 0)
					appendStringInfoChar(&key, ',');
				append_key_element(&key,
								   value_text(&shape->keys[i], values[shape->keys[i].attnum - 1]));
			}
			appendStringInfoChar(&key, ')');
		}
		*key_out = key.data;
	}

	if (digest_out != NULL)
	{
		StringInfoData text;

		initStringInfo(&text);
		appendStringInfo(&text, "%s\n", shape->relname);
		for (i = 0; i < shape->ncolumns; i++)
		{
			LedgerColumn *col = &shape->columns[i];
			char	   *v;

			if (nulls[col->attnum - 1])
				continue;
			v = value_text(col, values[col->attnum - 1]);
			appendStringInfo(&text, "%s=%zu:", col->name, strlen(v));
			appendStringInfoString(&text, v);
			appendStringInfoChar(&text, '\n');
			pfree(v);
		}
		sha256_bytes((uint8 *) text.data, text.len, NULL, 0, digest_out);
		pfree(text.data);
	}
}

static bytea *
digest_bytea(const uint8 *digest)
{
	bytea	   *b = palloc(VARHDRSZ + CHAIN_LEN);

	SET_VARSIZE(b, VARHDRSZ + CHAIN_LEN);
	memcpy(VARDATA(b), digest, CHAIN_LEN);
	return b;
}

/* ------------------------------------------------------------------------
 * SQL: the key and digest of a row, given as the whole-row value t.*
 * ------------------------------------------------------------------------
 */

/* Deform a whole-row argument, with the shape of its table cached at the call site. */
static LedgerShape *
row_argument(FunctionCallInfo fcinfo, Datum **values, bool **nulls)
{
	HeapTupleHeader rec = PG_GETARG_HEAPTUPLEHEADER(0);
	Oid			typid = HeapTupleHeaderGetTypeId(rec);
	LedgerShape *shape = (LedgerShape *) fcinfo->flinfo->fn_extra;
	TupleDesc	desc;
	HeapTupleData tuple;

	if (shape == NULL || shape->rowtype != typid)
	{
		Oid			relid = get_typ_typrelid(typid);

		if (!OidIsValid(relid))
			ereport(ERROR,
					(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
					 errmsg("argument must be a row of a ledger table, not %s",
							format_type_be(typid))));
		shape = shape_build(relid, fcinfo->flinfo->fn_mcxt);
		fcinfo->flinfo->fn_extra = shape;
	}
	desc = lookup_rowtype_tupdesc(typid, HeapTupleHeaderGetTypMod(rec));
	tuple.t_len = HeapTupleHeaderGetDatumLength(rec);
	ItemPointerSetInvalid(&tuple.t_self);
	tuple.t_tableOid = InvalidOid;
	tuple.t_data = rec;
	*values = palloc(sizeof(Datum) * desc->natts);
	*nulls = palloc(sizeof(bool) * desc->natts);
	heap_deform_tuple(&tuple, desc, *values, *nulls);
	ReleaseTupleDesc(desc);
	return shape;
}

PG_FUNCTION_INFO_V1(ledger_row_key);

Datum
ledger_row_key(PG_FUNCTION_ARGS)
{
	Datum	   *values;
	bool	   *nulls;
	LedgerShape *shape = row_argument(fcinfo, &values, &nulls);
	char	   *key;

	row_identity(shape, values, nulls, &key, NULL);
	PG_RETURN_TEXT_P(cstring_to_text(key));
}

PG_FUNCTION_INFO_V1(ledger_row_digest);

Datum
ledger_row_digest(PG_FUNCTION_ARGS)
{
	Datum	   *values;
	bool	   *nulls;
	LedgerShape *shape = row_argument(fcinfo, &values, &nulls);
	uint8		digest[CHAIN_LEN];

	row_identity(shape, values, nulls, NULL, digest);
	PG_RETURN_BYTEA_P(digest_bytea(digest));
}

/*
 * ledger_chain_step(chain bytea, row_digest bytea) -> SHA-256(chain || row_digest):
 * the transition of aggregate ledger_chain(), whose running value over the
 * links in link order is what each link's chain must be.
 */
PG_FUNCTION_INFO_V1(ledger_chain_step);

Datum
ledger_chain_step(PG_FUNCTION_ARGS)
{
	bytea	   *prev = PG_GETARG_BYTEA_PP(0);
	bytea	   *digest = PG_GETARG_BYTEA_PP(1);
	uint8		next[CHAIN_LEN];

	sha256_bytes((uint8 *) VARDATA_ANY(prev), VARSIZE_ANY_EXHDR(prev),
				 (uint8 *) VARDATA_ANY(digest), VARSIZE_ANY_EXHDR(digest), next);
	PG_RETURN_BYTEA_P(digest_bytea(next));
}

/* ------------------------------------------------------------------------
 * Appending to the chain
 * ------------------------------------------------------------------------
 */

static void flush_pending(void);

static void
chain_xact_callback(XactEvent event, void *arg)
{
	switch (event)
	{
		case XACT_EVENT_PRE_COMMIT:
		case XACT_EVENT_PRE_PREPARE:
			flush_pending();
			break;
		default:
			/* the queue lived in the transaction's memory; the next one starts afresh */
			pending_cxt = NULL;
			pending = NULL;
			npending = maxpending = 0;
			head.valid = false;
			break;
	}
}

static void
chain_subxact_callback(SubXactEvent event, SubTransactionId mySubid,
					   SubTransactionId parentSubid, void *arg)
{
	/* rows queued since a subtransaction began are at the tail */
	if (event == SUBXACT_EVENT_ABORT_SUB)
	{
		while (npending > 0 && pending[npending - 1].subid == mySubid)
			npending--;
		/* links it appended are gone, and maybe the lock too */
		head.valid = false;
	}
	else if (event == SUBXACT_EVENT_COMMIT_SUB)
	{
		int			i;

		for (i = npending - 1; i >= 0 && pending[i].subid == mySubid; i--)
			pending[i].subid = parentSubid;
	}
}

static void
register_callbacks(void)
{
	if (!callbacks_registered)
	{
		RegisterXactCallback(chain_xact_callback, NULL);
		RegisterSubXactCallback(chain_subxact_callback, NULL);
		callbacks_registered = true;
	}
}

/* Take the chain lock and read the last link with a snapshot taken after it. */
static void
chain_head_load(Oid linkrel)
{
	Relation	rel;
	Relation	idx;
	Oid			pkey;
	Snapshot	snap;
	SysScanDesc scan;
	HeapTuple	tup;

	register_callbacks();

	/* appends wait for each other here; readers of ledger_link do not */
	LockRelationOid(linkrel, ExclusiveLock);
	/* our own earlier links become visible, and so do committed ones */
	CommandCounterIncrement();

	rel = table_open(linkrel, AccessShareLock);
	pkey = RelationGetPrimaryKeyIndex(rel);
	if (!OidIsValid(pkey))
		elog(ERROR, "ledger_link has no primary key");
	idx = index_open(pkey, AccessShareLock);
	snap = RegisterSnapshot(GetLatestSnapshot());
	scan = systable_beginscan_ordered(rel, idx, snap, 0, NULL);
	tup = systable_getnext_ordered(scan, BackwardScanDirection);
	head.linkrel = linkrel;
	if (HeapTupleIsValid(tup))
	{
		bool		isnull;
		Datum		id = heap_getattr(tup, 1, RelationGetDescr(rel), &isnull);
		Datum		chain = heap_getattr(tup, 5, RelationGetDescr(rel), &isnull);
		bytea	   *cb;

		if (isnull)
			elog(ERROR, "last link of ledger_link has no chain value");
		cb = DatumGetByteaPP(chain);
		if (VARSIZE_ANY_EXHDR(cb) != CHAIN_LEN)
			ereport(ERROR,
					(errcode(ERRCODE_DATA_CORRUPTED),
					 errmsg("last link of the ledger chain is damaged"),
					 errhint("Run afregning.verify_ledger() to find the first broken link.")));
		head.link_id = DatumGetInt64(id);
		memcpy(head.chain, VARDATA_ANY(cb), CHAIN_LEN);
	}
	else
	{
		head.link_id = 0;
		memset(head.chain, 0, CHAIN_LEN);
	}
	systable_endscan_ordered(scan);
	UnregisterSnapshot(snap);
	index_close(idx, AccessShareLock);
	table_close(rel, AccessShareLock);
	head.valid = true;
}

/*
 * Append the link of one row to ledger_link (link_id, ledger, row_key,
 * row_digest, chain), opened by the caller with its indexes: a plain heap
 * insert plus index entries, with no triggers, rules or privilege checks.
 */
static void
chain_append(Relation rel, CatalogIndexState indstate,
			 const char *ledger, const char *row_key, const uint8 *digest)
{
	Datum		values[5];
	bool		nulls[5] = {false, false, false, false, false};
	uint8		next[CHAIN_LEN];
	int64		link_id;
	HeapTuple	tup;

	if (pg_add_s64_overflow(head.link_id, 1, &link_id))
		ereport(ERROR,
				(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
				 errmsg("ledger chain is full")));
	sha256_bytes(head.chain, CHAIN_LEN, digest, CHAIN_LEN, next);

	values[0] = Int64GetDatum(link_id);
	values[1] = CStringGetTextDatum(ledger);
	values[2] = CStringGetTextDatum(row_key);
	values[3] = PointerGetDatum(digest_bytea(digest));
	values[4] = PointerGetDatum(digest_bytea(next));
	tup = heap_form_tuple(RelationGetDescr(rel), values, nulls);
	CatalogTupleInsertWithInfo(rel, tup, indstate);

	head.link_id = link_id;
	memcpy(head.chain, next, CHAIN_LEN);
}

/* Queue the link of a row inserted by the current (sub)transaction. */
static void
queue_link(Oid linkrel, const char *ledger, const char *row_key, const uint8 *digest)
{
	PendingLink *p;

	register_callbacks();
	if (pending_cxt == NULL)
		pending_cxt = AllocSetContextCreate(TopTransactionContext,
											"afregning ledger links",
											ALLOCSET_DEFAULT_SIZES);
	if (npending == maxpending)
	{
		int			newmax = maxpending == 0 ? 256 : maxpending * 2;

		if (pending == NULL)
			pending = MemoryContextAllocHuge(pending_cxt, sizeof(PendingLink) * newmax);
		else
			pending = repalloc_huge(pending, sizeof(PendingLink) * newmax);
		maxpending = newmax;
	}
	p = &pending[npending];
	p->subid = GetCurrentSubTransactionId();
	p->linkrel = linkrel;
	/* ledger names are few: keep one copy of the last one */
	if (npending > 0 && strcmp(pending[npending - 1].ledger, ledger) == 0)
		p->ledger = pending[npending - 1].ledger;
	else
		p->ledger = MemoryContextStrdup(pending_cxt, ledger);
	p->row_key = MemoryContextStrdup(pending_cxt, row_key);
	memcpy(p->digest, digest, CHAIN_LEN);
	npending++;
}

/* Append the queued links, in the order the rows were inserted. */
static void
flush_pending(void)
{
	MemoryContext link_cxt;
	MemoryContext old;
	int			i = 0;

	if (npending == 0)
		return;
	link_cxt = AllocSetContextCreate(CurrentMemoryContext, "afregning link",
									 ALLOCSET_SMALL_SIZES);
	while (i < npending)
	{
		Oid			linkrel = pending[i].linkrel;
		Relation	rel;
		CatalogIndexState indstate;

		if (!head.valid || head.linkrel != linkrel)
			chain_head_load(linkrel);
		rel = table_open(linkrel, RowExclusiveLock);
		if (RelationGetDescr(rel)->natts != 5)
			elog(ERROR, "ledger_link has an unexpected shape");
		indstate = CatalogOpenIndexes(rel);
		for (; i < npending && pending[i].linkrel == linkrel; i++)
		{
			CHECK_FOR_INTERRUPTS();
			old = MemoryContextSwitchTo(link_cxt);
			chain_append(rel, indstate, pending[i].ledger, pending[i].row_key,
						 pending[i].digest);
			MemoryContextSwitchTo(old);
			MemoryContextReset(link_cxt);
		}
		CatalogCloseIndexes(indstate);
		table_close(rel, RowExclusiveLock);
	}
	MemoryContextDelete(link_cxt);

	npending = 0;
	if (pending_cxt != NULL)
	{
		MemoryContextReset(pending_cxt);
		pending = NULL;
		maxpending = 0;
	}
}

/*
 * Trigger (AFTER INSERT, for each row, ENABLE ALWAYS) on every ledger
 * table: queues the new row's link for commit.  In restore mode nothing is
 * linked: the dumped links come back with the dump.
 */
PG_FUNCTION_INFO_V1(ledger_link_row);

Datum
ledger_link_row(PG_FUNCTION_ARGS)
{
	TriggerData *trigdata = (TriggerData *) fcinfo->context;
	Relation	rel;
	LedgerShape *shape;
	TupleDesc	desc;
	Datum	   *values;
	bool	   *nulls;
	char	   *key;
	uint8		digest[CHAIN_LEN];
	Oid			linkrel;

	if (!CALLED_AS_TRIGGER(fcinfo))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("ledger_link_row() must be called as a trigger")));
	if (!TRIGGER_FIRED_AFTER(trigdata->tg_event) ||
		!TRIGGER_FIRED_FOR_ROW(trigdata->tg_event) ||
		!TRIGGER_FIRED_BY_INSERT(trigdata->tg_event))
		ereport(ERROR,
				(errcode(ERRCODE_E_R_I_E_TRIGGER_PROTOCOL_VIOLATED),
				 errmsg("ledger_link_row() fires only after insert, for each row")));

	if (restore_mode_active())
		return PointerGetDatum(NULL);

	rel = trigdata->tg_relation;
	shape = (LedgerShape *) fcinfo->flinfo->fn_extra;
	if (shape == NULL || shape->relid != RelationGetRelid(rel))
	{
		shape = shape_build(RelationGetRelid(rel), fcinfo->flinfo->fn_mcxt);
		fcinfo->flinfo->fn_extra = shape;
	}

	linkrel = shape->linkrel;
	if (!OidIsValid(linkrel))
		elog(ERROR, "table ledger_link is missing");

	desc = RelationGetDescr(rel);
	values = palloc(sizeof(Datum) * desc->natts);
	nulls = palloc(sizeof(bool) * desc->natts);
	heap_deform_tuple(trigdata->tg_trigtuple, desc, values, nulls);
	row_identity(shape, values, nulls, &key, digest);
	queue_link(linkrel, shape->relname, key, digest);

	pfree(values);
	pfree(nulls);
	pfree(key);
	return PointerGetDatum(NULL);
}

/*
 * ledger_link_pending() -> integer: appends the links of the rows this
 * transaction has inserted so far now rather than at commit (so that
 * verify_ledger() sees them inside the transaction), and returns how many.
 * The chain stays locked until the transaction ends.  Not inside a
 * subtransaction: its rollback would take the links but not the rows.
 */
PG_FUNCTION_INFO_V1(ledger_link_pending);

Datum
ledger_link_pending(PG_FUNCTION_ARGS)
{
	int			n = npending;

	if (GetCurrentTransactionNestLevel() > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ACTIVE_SQL_TRANSACTION),
				 errmsg("ledger_link_pending() cannot run inside a subtransaction"),
				 errhint("Call it outside savepoints and exception blocks.")));
	flush_pending();
	PG_RETURN_INT32(n);
}

/*
 * invoking_user() -> name: the role that called, as SET ROLE left it,
 * which a SECURITY DEFINER function does not change (current_user does).
 */
PG_FUNCTION_INFO_V1(invoking_user);

Datum
invoking_user(PG_FUNCTION_ARGS)
{
	PG_RETURN_DATUM(DirectFunctionCall1(namein,
										CStringGetDatum(GetUserNameFromId(GetOuterUserId(), false))));
}
