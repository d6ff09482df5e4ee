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
 * service and batch must exist (23503), its period must be the first of
 * a month (23514), and its year must not be closed (55000).  The cache
 * lives for one command, so rows see the reference data as of their
 * statement, as foreign key checks would.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "access/xact.h"
#include "catalog/pg_type.h"
#include "datatype/timestamp.h"
#include "executor/spi.h"
#include "fmgr.h"
#include "miscadmin.h"
#include "storage/proc.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/datetime.h"
#include "utils/hsearch.h"
#include "utils/memutils.h"
#include "utils/rls.h"

#include "restore_mode.h"

/* Longest code a cache key holds; longer codes are looked up every time */
#define KEY_CODE_MAX	64

/* What a cached code is: the reference it was checked against */
typedef enum KeyKind
{
	KEY_MUNICIPALITY = 0,
	KEY_SYSTEM,
	KEY_SERVICE,
	KEY_BATCH,
	KEY_CLOSED_YEAR,
	KEY_KINDS
} KeyKind;

/* Cache entry: the kind and code as a string key, and the answer */
typedef struct KnownKey
{
	char		key[KEY_CODE_MAX + 2];	/* kind letter + code, NUL-ended */
	bool		found;			/* the row exists (for years: is closed) */
} KnownKey;

static const char *const key_query[KEY_KINDS] = {
	"SELECT 1 FROM afregning.municipality WHERE code = $1",
	"SELECT 1 FROM afregning.consumer_system WHERE code = $1",
	"SELECT 1 FROM afregning.service WHERE code = $1",
	"SELECT 1 FROM afregning.usage_batch WHERE batch_key = $1",
	"SELECT 1 FROM afregning.billing_year WHERE year = $1::integer AND status = 'closed'"
};

static const char *const key_name[KEY_KINDS] = {
	"municipality", "consumer system", "service", "usage batch", "year"
};

static HTAB *known_keys = NULL;

/* The last code found per kind: consecutive rows of a load mostly repeat it */
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

/* Ask the reference table whether a code exists (or a year is closed). */
static bool
lookup_key(KeyKind kind, const char *code)
{
	Oid			argtype = TEXTOID;
	Datum		arg = CStringGetTextDatum(code);
	bool		found;

	if (SPI_connect() != SPI_OK_CONNECT)
		elog(ERROR, "SPI_connect failed");
	if (SPI_execute_with_args(key_query[kind], 1, &argtype, &arg, NULL, true, 1) != SPI_OK_SELECT)
		elog(ERROR, "SPI_execute_with_args failed for \"%s\"", key_query[kind]);
	found = SPI_processed > 0;
	SPI_finish();
	return found;
}

/* Whether a code (not NUL-ended) exists, from the cache where possible. */
static bool
key_found(KeyKind kind, const char *code, int len)
{
	char		key[KEY_CODE_MAX + 2];
	KnownKey   *entry;
	bool		hit;

	if (len > KEY_CODE_MAX)
		return lookup_key(kind, pnstrdup(code, len));
	if (last_len[kind] == len && memcmp(last_code[kind], code, len) == 0)
		return true;

	key[0] = 'a' + (char) kind;
	memcpy(key + 1, code, len);
	key[len + 1] = '\0';

	entry = (KnownKey *) hash_search(known_keys, key, HASH_FIND, NULL);
	if (entry != NULL)
		hit = entry->found;
	else
	{
		hit = lookup_key(kind, key + 1);
		entry = (KnownKey *) hash_search(known_keys, key, HASH_ENTER, NULL);
		entry->found = hit;
	}
	if (hit)
	{
		memcpy(last_code[kind], code, len);
		last_len[kind] = len;
	}
	return hit;
}

/* Refuse a row whose text column names a code that does not exist. */
static void
check_reference(Datum value, bool isnull, const char *column, KeyKind kind)
{
	text	   *t;

	if (isnull)
		return;					/* NOT NULL has its own check, after triggers */

	/* codes are short and stored inline: no copy on the way to the cache */
	t = DatumGetTextPP(value);
	if (!key_found(kind, VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t)))
	{
		char	   *code = text_to_cstring(t);

		ereport(ERROR,
				(errcode(ERRCODE_FOREIGN_KEY_VIOLATION),
				 errmsg("usage row refers to unknown %s \"%s\"", key_name[kind], code),
				 errdetail("Key (%s)=(%s) is not present in the reference data.", column, code),
				 errhint("Register the %s before loading its usage.", key_name[kind])));
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
	if (key_found(KEY_CLOSED_YEAR, year_text, strlen(year_text)))
		ereport(ERROR,
				(errcode(ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE),
				 errmsg("usage of year %d is locked", year),
				 errdetail("Billing year %d is closed.", year),
				 errhint("Usage of a closed year was rated at close; book a late cost as an actual data_consumption entry of an open year with \"corrects\" set.")));
}

/*
 * Check one usage row as it is stored: usage_row_valid(period,
 * municipality_code, system_code, service_code, batch_key) is the CHECK
 * constraint usage_row_valid.  A CHECK, not a row trigger, because any
 * BEFORE ROW trigger makes COPY insert row by row instead of in batches,
 * which alone costs two thirds of its speed.  It raises the specific error
 * itself and otherwise returns true; nulls are left to NOT NULL.
 */
PG_FUNCTION_INFO_V1(usage_row_valid);

Datum
usage_row_valid(PG_FUNCTION_ARGS)
{
	/* a dump replays closed years' usage, in restore mode only */
	if (restore_mode_active())
		PG_RETURN_BOOL(true);

	reset_cache_if_stale();

	if (!PG_ARGISNULL(0))
		check_period(PG_GETARG_DATEADT(0));
	check_reference(PG_GETARG_DATUM(1), PG_ARGISNULL(1), "municipality_code", KEY_MUNICIPALITY);
	check_reference(PG_GETARG_DATUM(2), PG_ARGISNULL(2), "system_code", KEY_SYSTEM);
	check_reference(PG_GETARG_DATUM(3), PG_ARGISNULL(3), "service_code", KEY_SERVICE);
	check_reference(PG_GETARG_DATUM(4), PG_ARGISNULL(4), "batch_key", KEY_BATCH);

	PG_RETURN_BOOL(true);
}
