/*-------------------------------------------------------------------------
 *
 * usage_groups.c
 *	  The grouping aggregate of the rating pass,
 *	  afregning.usage_groups(period, municipality_code, system_code,
 *							 service_code, calls, per_call_services).
 *
 * Rating a year (SPEC §3, §8) needs the sums of calls by month, system and
 * service, and by municipality as well for the per-call services.  A year
 * is hundreds of millions of usage rows but only some hundred thousand such
 * keys, so this aggregate does that grouping in one pass: the per-row work
 * is close to that of sum(), and its memory is bounded by the distinct keys,
 * never by the rows or by the planner's estimate.
 *
 * The text codes repeat (about 100 municipalities, a few dozen systems and
 * services), so each state interns them into small ids, and a group key is
 * four 16-bit ids packed into 64 bits: period, municipality (none unless the
 * service is per-call), system, service.  Groups live in an open-addressing
 * table with linear probing.  Each dictionary remembers the last code it
 * found, since consecutive rows of a batch often share month and
 * municipality.
 *
 * The result is a bytea: the serialized state, which usage_group_rows()
 * unpacks into rows.  The same bytea is the partial state of a parallel
 * aggregation, and usage_groups_merge(bytea) combines such values made
 * elsewhere (e.g. one per shard of a distributed table).
 *
 * Serialized state (all integers big-endian, as pq_send* writes them):
 *	 int32 magic, int32 format version
 *	 int32 n, then n × int32 period (DateADT)
 *	 int32 n, then n × (int32 length, bytes) municipality codes
 *	 int32 n, then n × (int32 length, bytes) system codes
 *	 int32 n, then n × (int32 length, bytes, int8 per-call flag) service codes
 *	 int64 n, then n × (int16 period id, int16 municipality id or -1,
 *						int16 system id, int16 service id, int64 calls)
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "catalog/pg_type.h"
#include "common/int.h"
#include "fmgr.h"
#include "funcapi.h"
#include "libpq/pqformat.h"
#include "miscadmin.h"
#include "utils/array.h"
#include "utils/builtins.h"
#include "utils/date.h"
#include "utils/lsyscache.h"
#include "utils/memutils.h"

#include "code_dict.h"

/* Format of the serialized state */
#define UG_MAGIC		0x41465547	/* "AFUG" */
#define UG_VERSION		1

/* Ids are 16 bits (code_dict.h); the all-ones id means "no municipality" */
#define UG_MAX_CODES	CODE_DICT_MAX
#define UG_NO_ID		0xFFFF

/* A packed key can never be all ones (a period id is below UG_MAX_CODES) */
#define UG_EMPTY_KEY	PG_UINT64_MAX

#define UG_KEY(period, muni, sys, svc) \
	(((uint64) (period) << 48) | ((uint64) (muni) << 32) | \
	 ((uint64) (sys) << 16) | (uint64) (svc))
#define UG_KEY_PERIOD(k)	((int) (((k) >> 48) & 0xFFFF))
#define UG_KEY_MUNI(k)		((int) (((k) >> 32) & 0xFFFF))
#define UG_KEY_SYSTEM(k)	((int) (((k) >> 16) & 0xFFFF))
#define UG_KEY_SERVICE(k)	((int) ((k) & 0xFFFF))


/* One slot of the group table */
typedef struct UGGroup
{
	uint64		key;			/* UG_KEY(...), or UG_EMPTY_KEY */
	int64		calls;
} UGGroup;

/* Transition state, allocated in the aggregate context */
typedef struct UGState
{
	MemoryContext cxt;			/* where everything below lives */

	/* periods: DateADT by id, searched linearly from the last one found */
	int			nperiods;
	int			period_cap;
	DateADT    *periods;
	int			last_period;

	CodeDict		muni;
	CodeDict		system;
	CodeDict		service;

	/* the services whose calls are kept per municipality */
	bool		per_call_known; /* per_call_list was read */
	int			n_per_call;
	char	  **per_call_codes;
	int		   *per_call_lens;

	/* groups: packed key -> calls, side by side so a probe reads one line */
	UGGroup    *groups;
	uint64		nslots;			/* power of two */
	uint64		ngroups;
} UGState;

/* ------------------------------------------------------------------
 * Errors
 * ------------------------------------------------------------------ */

static void
pg_attribute_noreturn()
not_in_aggregate(const char *function)
{
	ereport(ERROR,
			(errcode(ERRCODE_WRONG_OBJECT_TYPE),
			 errmsg("%s can only be called by the aggregates afregning.usage_groups and afregning.usage_groups_merge",
					function),
			 errdetail("It is a support function of the aggregate and keeps its state in aggregate memory."),
			 errhint("Use afregning.usage_groups(period, municipality_code, system_code, service_code, calls, per_call_services).")));
}

static void
pg_attribute_noreturn()
calls_out_of_range(void)
{
	ereport(ERROR,
			(errcode(ERRCODE_NUMERIC_VALUE_OUT_OF_RANGE),
			 errmsg("sum of calls is out of range"),
			 errdetail("The calls of one month, municipality, system and service are summed in a bigint and must fit it.")));
}

static void
pg_attribute_noreturn()
invalid_state(const char *detail)
{
	ereport(ERROR,
			(errcode(ERRCODE_INVALID_BINARY_REPRESENTATION),
			 errmsg("invalid usage groups value"),
			 errdetail("%s", detail),
			 errhint("Pass a value made by afregning.usage_groups or afregning.usage_groups_merge.")));
}


/* ------------------------------------------------------------------
 * The state
 * ------------------------------------------------------------------ */

static UGState *
state_new(MemoryContext cxt)
{
	UGState    *state = MemoryContextAllocZero(cxt, sizeof(UGState));

	state->cxt = cxt;
	state->period_cap = 16;
	state->periods = MemoryContextAlloc(cxt, state->period_cap * sizeof(DateADT));
	state->last_period = -1;
	code_dict_init(cxt, &state->muni, "municipality_code");
	code_dict_init(cxt, &state->system, "system_code");
	code_dict_init(cxt, &state->service, "service_code");
	state->nslots = 1024;
	state->groups = MemoryContextAlloc(cxt, state->nslots * sizeof(UGGroup));
	memset(state->groups, 0xFF, state->nslots * sizeof(UGGroup));
	state->ngroups = 0;
	return state;
}

static int
state_period(UGState *state, DateADT period)
{
	int			id;

	if (state->last_period >= 0 && state->periods[state->last_period] == period)
		return state->last_period;
	for (id = 0; id < state->nperiods; id++)
	{
		if (state->periods[id] == period)
		{
			state->last_period = id;
			return id;
		}
	}
	if (state->nperiods >= UG_MAX_CODES)
		code_dict_too_many("period");
	if (state->nperiods == state->period_cap)
	{
		state->period_cap = Min(state->period_cap * 2, UG_MAX_CODES);
		state->periods = repalloc(state->periods, state->period_cap * sizeof(DateADT));
	}
	id = state->nperiods++;
	state->periods[id] = period;
	state->last_period = id;
	return id;
}

/* A 64-bit mix of a packed key (the finalizer of splitmix64). */
static inline uint64
key_hash(uint64 k)
{
	k ^= k >> 30;
	k *= UINT64CONST(0xbf58476d1ce4e5b9);
	k ^= k >> 27;
	k *= UINT64CONST(0x94d049bb133111eb);
	k ^= k >> 31;
	return k;
}

/* Double the group table and place the groups again. */
static void
state_grow(UGState *state)
{
	uint64		nslots = state->nslots * 2;
	uint64		mask = nslots - 1;
	UGGroup    *groups;
	uint64		s;

	groups = MemoryContextAllocHuge(state->cxt, nslots * sizeof(UGGroup));
	memset(groups, 0xFF, nslots * sizeof(UGGroup));
	for (s = 0; s < state->nslots; s++)
	{
		uint64		k = state->groups[s].key;
		uint64		i;

		if (k == UG_EMPTY_KEY)
			continue;
		i = key_hash(k) & mask;
		while (groups[i].key != UG_EMPTY_KEY)
			i = (i + 1) & mask;
		groups[i] = state->groups[s];
	}
	pfree(state->groups);
	state->groups = groups;
	state->nslots = nslots;
}

/* Add calls to the group of a key. */
static inline void
state_add(UGState *state, uint64 key, int64 calls)
{
	uint64		mask = state->nslots - 1;
	uint64		i = key_hash(key) & mask;
	UGGroup    *g;

	for (;;)
	{
		g = &state->groups[i];
		if (g->key == key)
		{
			if (pg_add_s64_overflow(g->calls, calls, &g->calls))
				calls_out_of_range();
			return;
		}
		if (g->key == UG_EMPTY_KEY)
			break;
		i = (i + 1) & mask;
	}
	g->key = key;
	g->calls = calls;
	state->ngroups++;
	/* at most half full, so that probes stay short */
	if (state->ngroups * 2 > state->nslots)
		state_grow(state);
}

/* Read the per-call services of the first row into the state. */
static void
state_read_per_call(UGState *state, ArrayType *arr)
{
	Datum	   *elems;
	bool	   *nulls;
	int			n;
	int			i;
	MemoryContext old;

	if (ARR_NDIM(arr) > 1)
		ereport(ERROR,
				(errcode(ERRCODE_ARRAY_SUBSCRIPT_ERROR),
				 errmsg("per_call_services must be a one-dimensional array")));
	deconstruct_array(arr, TEXTOID, -1, false, TYPALIGN_INT, &elems, &nulls, &n);
	old = MemoryContextSwitchTo(state->cxt);
	state->per_call_codes = palloc(Max(n, 1) * sizeof(char *));
	state->per_call_lens = palloc(Max(n, 1) * sizeof(int));
	state->n_per_call = 0;
	for (i = 0; i < n; i++)
	{
		text	   *t;

		if (nulls[i])
			continue;
		t = DatumGetTextPP(elems[i]);
		state->per_call_lens[state->n_per_call] = VARSIZE_ANY_EXHDR(t);
		state->per_call_codes[state->n_per_call] =
			pnstrdup(VARDATA_ANY(t), VARSIZE_ANY_EXHDR(t));
		state->n_per_call++;
	}
	MemoryContextSwitchTo(old);
	state->per_call_known = true;
}

static bool
state_is_per_call(UGState *state, const char *bytes, int len)
{
	int			i;

	for (i = 0; i < state->n_per_call; i++)
		if (state->per_call_lens[i] == len &&
			memcmp(state->per_call_codes[i], bytes, len) == 0)
			return true;
	return false;
}

/* The bytes of a text argument, without copying a short-header value. */
static inline const char *
text_arg(FunctionCallInfo fcinfo, int argno, int *len)
{
	text	   *t = (text *) PG_DETOAST_DATUM_PACKED(PG_GETARG_DATUM(argno));

	*len = VARSIZE_ANY_EXHDR(t);
	return VARDATA_ANY(t);
}

/* ------------------------------------------------------------------
 * Transition functions
 * ------------------------------------------------------------------ */

PG_FUNCTION_INFO_V1(usage_groups_accum);

/*
 * usage_groups_accum(state, period, municipality_code, system_code,
 *					  service_code, calls, per_call_services)
 */
Datum
usage_groups_accum(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext;
	UGState    *state;
	int64		calls;
	const char *bytes;
	int			len;
	int			period_id;
	int			muni_id = UG_NO_ID;
	int			system_id;
	int			service_id;
	bool		is_new;

	if (!AggCheckCallContext(fcinfo, &aggcontext))
		not_in_aggregate("afregning.usage_groups_accum");

	state = PG_ARGISNULL(0) ? NULL : (UGState *) PG_GETARG_POINTER(0);

	/* a row without calls adds nothing, as sum() skips it */
	if (PG_ARGISNULL(5))
	{
		if (state == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(state);
	}
	if (PG_ARGISNULL(1) || PG_ARGISNULL(3) || PG_ARGISNULL(4))
		ereport(ERROR,
				(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
				 errmsg("period, system_code and service_code of a usage row must not be null")));

	calls = PG_GETARG_INT64(5);
	if (calls < 0)
		ereport(ERROR,
				(errcode(ERRCODE_INVALID_PARAMETER_VALUE),
				 errmsg("calls must not be negative"),
				 errdetail("A usage row counts calls made; it was %lld.",
						   (long long) calls),
				 errhint("Correct a usage count with a later batch, not a negative row.")));

	if (state == NULL)
		state = state_new(aggcontext);
	if (!state->per_call_known)
	{
		if (PG_ARGISNULL(6))
			state->per_call_known = true;	/* no per-call services */
		else
			state_read_per_call(state, PG_GETARG_ARRAYTYPE_P(6));
	}

	period_id = state_period(state, PG_GETARG_DATEADT(1));

	bytes = text_arg(fcinfo, 3, &len);
	system_id = code_dict_intern(aggcontext, &state->system, bytes, len, &is_new);

	bytes = text_arg(fcinfo, 4, &len);
	service_id = code_dict_intern(aggcontext, &state->service, bytes, len, &is_new);
	if (is_new)
		state->service.flag[service_id] = state_is_per_call(state, bytes, len);

	if (state->service.flag[service_id])
	{
		if (PG_ARGISNULL(2))
			ereport(ERROR,
					(errcode(ERRCODE_NULL_VALUE_NOT_ALLOWED),
					 errmsg("municipality_code of a usage row of a per-call service must not be null")));
		bytes = text_arg(fcinfo, 2, &len);
		muni_id = code_dict_intern(aggcontext, &state->muni, bytes, len, &is_new);
	}

	state_add(state, UG_KEY(period_id, muni_id, system_id, service_id), calls);
	PG_RETURN_POINTER(state);
}

/* ------------------------------------------------------------------
 * Combining: the groups of one state added into another
 * ------------------------------------------------------------------ */

/*
 * The ids of another state's codes in this state, interned if new; for
 * services the per-call flag travels along.
 */
static int *
dict_map(MemoryContext cxt, CodeDict *into, int n, char **codes, int *lens,
		 bool *per_call)
{
	int		   *map = palloc(Max(n, 1) * sizeof(int));
	int			id;
	bool		is_new;

	for (id = 0; id < n; id++)
	{
		map[id] = code_dict_intern(cxt, into, codes[id], lens[id], &is_new);
		if (per_call != NULL && per_call[id])
			into->flag[map[id]] = true;
	}
	return map;
}

/* Add the groups of 'other' into 'state'. */
static void
state_merge(UGState *state, UGState *other)
{
	int		   *period_map;
	int		   *muni_map;
	int		   *system_map;
	int		   *service_map;
	uint64		s;
	int			id;

	period_map = palloc(Max(other->nperiods, 1) * sizeof(int));
	for (id = 0; id < other->nperiods; id++)
		period_map[id] = state_period(state, other->periods[id]);
	muni_map = dict_map(state->cxt, &state->muni, other->muni.n,
						other->muni.codes, other->muni.lens, NULL);
	system_map = dict_map(state->cxt, &state->system, other->system.n,
						  other->system.codes, other->system.lens, NULL);
	service_map = dict_map(state->cxt, &state->service, other->service.n,
						   other->service.codes, other->service.lens,
						   other->service.flag);

	for (s = 0; s < other->nslots; s++)
	{
		uint64		k = other->groups[s].key;
		int			muni;

		if (k == UG_EMPTY_KEY)
			continue;
		if ((s & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
		muni = UG_KEY_MUNI(k);
		state_add(state,
				  UG_KEY(period_map[UG_KEY_PERIOD(k)],
						 muni == UG_NO_ID ? UG_NO_ID : muni_map[muni],
						 system_map[UG_KEY_SYSTEM(k)],
						 service_map[UG_KEY_SERVICE(k)]),
				  other->groups[s].calls);
	}
	pfree(period_map);
	pfree(muni_map);
	pfree(system_map);
	pfree(service_map);
}

PG_FUNCTION_INFO_V1(usage_groups_combine);

Datum
usage_groups_combine(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext;
	UGState    *state;
	UGState    *other;

	if (!AggCheckCallContext(fcinfo, &aggcontext))
		not_in_aggregate("afregning.usage_groups_combine");

	if (PG_ARGISNULL(1))
	{
		if (PG_ARGISNULL(0))
			PG_RETURN_NULL();
		PG_RETURN_POINTER(PG_GETARG_POINTER(0));
	}
	other = (UGState *) PG_GETARG_POINTER(1);

	/* arg1 may live in a shorter-lived context: add it into a state of ours */
	state = PG_ARGISNULL(0) ? state_new(aggcontext) : (UGState *) PG_GETARG_POINTER(0);
	state_merge(state, other);
	PG_RETURN_POINTER(state);
}

/* ------------------------------------------------------------------
 * Serialization
 * ------------------------------------------------------------------ */

static void
send_dict(StringInfo buf, CodeDict *dict, bool with_flag)
{
	int			id;

	pq_sendint32(buf, (uint32) dict->n);
	for (id = 0; id < dict->n; id++)
	{
		pq_sendint32(buf, (uint32) dict->lens[id]);
		pq_sendbytes(buf, dict->codes[id], dict->lens[id]);
		if (with_flag)
			pq_sendbyte(buf, dict->flag[id] ? 1 : 0);
	}
}

static bytea *
state_serialize(UGState *state)
{
	StringInfoData buf;
	uint64		s;
	int			id;

	pq_begintypsend(&buf);
	pq_sendint32(&buf, UG_MAGIC);
	pq_sendint32(&buf, UG_VERSION);
	pq_sendint32(&buf, (uint32) state->nperiods);
	for (id = 0; id < state->nperiods; id++)
		pq_sendint32(&buf, (uint32) state->periods[id]);
	send_dict(&buf, &state->muni, false);
	send_dict(&buf, &state->system, false);
	send_dict(&buf, &state->service, true);
	pq_sendint64(&buf, state->ngroups);
	for (s = 0; s < state->nslots; s++)
	{
		uint64		k = state->groups[s].key;

		if (k == UG_EMPTY_KEY)
			continue;
		if ((s & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
		pq_sendint16(&buf, (uint16) UG_KEY_PERIOD(k));
		pq_sendint16(&buf, (uint16) UG_KEY_MUNI(k));
		pq_sendint16(&buf, (uint16) UG_KEY_SYSTEM(k));
		pq_sendint16(&buf, (uint16) UG_KEY_SERVICE(k));
		pq_sendint64(&buf, (uint64) state->groups[s].calls);
	}
	return pq_endtypsend(&buf);
}

/* A bounds-checked reader of a serialized state */
typedef struct UGReader
{
	const unsigned char *p;
	const unsigned char *end;
} UGReader;

static void
reader_need(UGReader *r, Size n)
{
	if ((Size) (r->end - r->p) < n)
		invalid_state("The value ends before its last field.");
}

static uint32
read_u32(UGReader *r)
{
	uint32		v;

	reader_need(r, 4);
	v = ((uint32) r->p[0] << 24) | ((uint32) r->p[1] << 16) |
		((uint32) r->p[2] << 8) | (uint32) r->p[3];
	r->p += 4;
	return v;
}

static uint16
read_u16(UGReader *r)
{
	uint16		v;

	reader_need(r, 2);
	v = (uint16) (((uint16) r->p[0] << 8) | (uint16) r->p[1]);
	r->p += 2;
	return v;
}

static uint64
read_u64(UGReader *r)
{
	uint64		high = read_u32(r);

	return (high << 32) | read_u32(r);
}

static int
read_count(UGReader *r, const char *what)
{
	uint32		n = read_u32(r);

	if (n > UG_MAX_CODES)
		invalid_state(psprintf("It has %u values of %s, more than %d.",
							   n, what, UG_MAX_CODES));
	return (int) n;
}

/* Read a dictionary of codes and intern each into 'into'; the id map. */
static int *
read_dict(UGReader *r, MemoryContext cxt, CodeDict *into, bool with_flag, int *n)
{
	int		   *map;
	int			id;

	*n = read_count(r, into->what);
	map = palloc(Max(*n, 1) * sizeof(int));
	for (id = 0; id < *n; id++)
	{
		uint32		len = read_u32(r);
		const char *bytes;
		bool		is_new;

		if (len > 1024)
			invalid_state(psprintf("A value of %s is %u bytes long.", into->what, len));
		reader_need(r, len);
		bytes = (const char *) r->p;
		r->p += len;
		if (memchr(bytes, '\0', len) != NULL)
			invalid_state(psprintf("A value of %s holds a zero byte.", into->what));
		map[id] = code_dict_intern(cxt, into, bytes, (int) len, &is_new);
		if (with_flag)
		{
			reader_need(r, 1);
			if (r->p[0] > 1)
				invalid_state("A per-call flag is neither 0 nor 1.");
			if (r->p[0] == 1)
				into->flag[map[id]] = true;
			r->p += 1;
		}
	}
	return map;
}

/* Add the groups of a serialized state into 'state'. */
static void
state_merge_bytes(UGState *state, bytea *bytes)
{
	UGReader	r;
	int			nperiods;
	int			nmuni;
	int			nsystem;
	int			nservice;
	int		   *period_map;
	int		   *muni_map;
	int		   *system_map;
	int		   *service_map;
	uint64		ngroups;
	uint64		g;
	int			id;

	r.p = (const unsigned char *) VARDATA_ANY(bytes);
	r.end = r.p + VARSIZE_ANY_EXHDR(bytes);

	if (read_u32(&r) != UG_MAGIC)
		invalid_state("It does not start with the usage groups magic number.");
	if (read_u32(&r) != UG_VERSION)
		invalid_state("Its format version is not one this version of afregning reads.");

	nperiods = read_count(&r, "period");
	period_map = palloc(Max(nperiods, 1) * sizeof(int));
	for (id = 0; id < nperiods; id++)
	{
		DateADT		period = (DateADT) read_u32(&r);

		if (!DATE_NOT_FINITE(period) && !IS_VALID_DATE(period))
			invalid_state("A period is not a valid date.");
		period_map[id] = state_period(state, period);
	}
	muni_map = read_dict(&r, state->cxt, &state->muni, false, &nmuni);
	system_map = read_dict(&r, state->cxt, &state->system, false, &nsystem);
	service_map = read_dict(&r, state->cxt, &state->service, true, &nservice);

	ngroups = read_u64(&r);
	if (ngroups > (uint64) (r.end - r.p) / 16)
		invalid_state("It counts more groups than it holds.");
	for (g = 0; g < ngroups; g++)
	{
		int			p = read_u16(&r);
		int			m = read_u16(&r);
		int			sy = read_u16(&r);
		int			sv = read_u16(&r);
		int64		calls = (int64) read_u64(&r);

		if ((g & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
		if (p >= nperiods || sy >= nsystem || sv >= nservice ||
			(m != UG_NO_ID && m >= nmuni))
			invalid_state("A group refers to a code the value does not hold.");
		if (calls < 0)
			invalid_state("A group has a negative sum of calls.");
		state_add(state,
				  UG_KEY(period_map[p], m == UG_NO_ID ? UG_NO_ID : muni_map[m],
						 system_map[sy], service_map[sv]),
				  calls);
	}
	if (r.p != r.end)
		invalid_state("It has bytes after its last group.");
	pfree(period_map);
	pfree(muni_map);
	pfree(system_map);
	pfree(service_map);
}

PG_FUNCTION_INFO_V1(usage_groups_serialize);

/* Serialize function, and the final function of both aggregates. */
Datum
usage_groups_serialize(PG_FUNCTION_ARGS)
{
	if (!AggCheckCallContext(fcinfo, NULL))
		not_in_aggregate("afregning.usage_groups_serialize");
	if (PG_ARGISNULL(0))
		PG_RETURN_NULL();
	PG_RETURN_BYTEA_P(state_serialize((UGState *) PG_GETARG_POINTER(0)));
}

PG_FUNCTION_INFO_V1(usage_groups_deserialize);

Datum
usage_groups_deserialize(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext;
	UGState    *state;

	if (!AggCheckCallContext(fcinfo, &aggcontext))
		not_in_aggregate("afregning.usage_groups_deserialize");
	state = state_new(aggcontext);
	state_merge_bytes(state, PG_GETARG_BYTEA_PP(0));
	PG_RETURN_POINTER(state);
}

PG_FUNCTION_INFO_V1(usage_groups_merge_accum);

/* Transition function of usage_groups_merge(bytea): adds one value. */
Datum
usage_groups_merge_accum(PG_FUNCTION_ARGS)
{
	MemoryContext aggcontext;
	UGState    *state;

	if (!AggCheckCallContext(fcinfo, &aggcontext))
		not_in_aggregate("afregning.usage_groups_merge_accum");

	state = PG_ARGISNULL(0) ? NULL : (UGState *) PG_GETARG_POINTER(0);
	if (PG_ARGISNULL(1))
	{
		if (state == NULL)
			PG_RETURN_NULL();
		PG_RETURN_POINTER(state);
	}
	if (state == NULL)
	{
		state = state_new(aggcontext);
		state->per_call_known = true;
	}
	state_merge_bytes(state, PG_GETARG_BYTEA_PP(1));
	PG_RETURN_POINTER(state);
}

/* ------------------------------------------------------------------
 * usage_group_rows(bytea): the groups as rows
 * ------------------------------------------------------------------ */

PG_FUNCTION_INFO_V1(usage_group_rows);

Datum
usage_group_rows(PG_FUNCTION_ARGS)
{
	ReturnSetInfo *rsinfo = (ReturnSetInfo *) fcinfo->resultinfo;
	MemoryContext work;
	MemoryContext old;
	UGState    *state;
	uint64		s;

	InitMaterializedSRF(fcinfo, 0);

	work = AllocSetContextCreate(CurrentMemoryContext, "usage_group_rows",
								 ALLOCSET_DEFAULT_SIZES);
	old = MemoryContextSwitchTo(work);
	state = state_new(work);
	state->per_call_known = true;
	state_merge_bytes(state, PG_GETARG_BYTEA_PP(0));

	for (s = 0; s < state->nslots; s++)
	{
		uint64		k = state->groups[s].key;
		Datum		values[5];
		bool		nulls[5] = {false, false, false, false, false};
		int			m;
		int			id;

		if (k == UG_EMPTY_KEY)
			continue;
		if ((s & 0xFFFF) == 0)
			CHECK_FOR_INTERRUPTS();
		values[0] = DateADTGetDatum(state->periods[UG_KEY_PERIOD(k)]);
		m = UG_KEY_MUNI(k);
		if (m == UG_NO_ID)
		{
			nulls[1] = true;
			values[1] = (Datum) 0;
		}
		else
			values[1] = PointerGetDatum(cstring_to_text_with_len(state->muni.codes[m],
																 state->muni.lens[m]));
		id = UG_KEY_SYSTEM(k);
		values[2] = PointerGetDatum(cstring_to_text_with_len(state->system.codes[id],
															 state->system.lens[id]));
		id = UG_KEY_SERVICE(k);
		values[3] = PointerGetDatum(cstring_to_text_with_len(state->service.codes[id],
															 state->service.lens[id]));
		values[4] = Int64GetDatum(state->groups[s].calls);
		tuplestore_putvalues(rsinfo->setResult, rsinfo->setDesc, values, nulls);
	}
	MemoryContextSwitchTo(old);
	MemoryContextDelete(work);
	return (Datum) 0;
}
