/*-------------------------------------------------------------------------
 *
 * code_dict.c
 *	  Text codes interned to small ids (see code_dict.h): making a
 *	  dictionary and adding a code to it.
 *
 *-------------------------------------------------------------------------
 */
#include "postgres.h"

#include "utils/memutils.h"

#include "code_dict.h"

/* More distinct values of a column than ids (periods included). */
void
code_dict_too_many(const char *what)
{
	ereport(ERROR,
			(errcode(ERRCODE_PROGRAM_LIMIT_EXCEEDED),
			 errmsg("too many distinct values of %s in one usage grouping", what),
			 errdetail("A grouping holds at most %d distinct values of each key column.",
					   CODE_DICT_MAX),
			 errhint("Group fewer rows at a time, e.g. one year.")));
}

void
code_dict_init(MemoryContext cxt, CodeDict *dict, const char *what)
{
	dict->what = what;
	dict->n = 0;
	dict->cap = 16;
	dict->codes = MemoryContextAlloc(cxt, dict->cap * sizeof(char *));
	dict->lens = MemoryContextAlloc(cxt, dict->cap * sizeof(int));
	dict->w0 = MemoryContextAlloc(cxt, dict->cap * sizeof(uint64));
	dict->w1 = MemoryContextAlloc(cxt, dict->cap * sizeof(uint64));
	dict->flag = MemoryContextAllocZero(cxt, dict->cap * sizeof(bool));
	dict->nslots = 64;
	dict->slots = MemoryContextAllocZero(cxt, dict->nslots * sizeof(uint16));
	dict->last = -1;
}

/* Double the slots of a dictionary and place its codes again. */
static void
grow_slots(MemoryContext cxt, CodeDict *dict)
{
	int			nslots = dict->nslots * 2;
	uint16	   *slots = MemoryContextAllocZero(cxt, nslots * sizeof(uint16));
	int			id;

	for (id = 0; id < dict->n; id++)
	{
		uint32		i = code_hash(dict->w0[id], dict->w1[id], dict->lens[id]) & (nslots - 1);

		while (slots[i] != 0)
			i = (i + 1) & (nslots - 1);
		slots[i] = (uint16) (id + 1);
	}
	pfree(dict->slots);
	dict->slots = slots;
	dict->nslots = nslots;
}

/*
 * Add a code not yet in the dictionary, into the empty slot its lookup
 * ended on; its id.
 */
int
code_dict_add(MemoryContext cxt, CodeDict *dict, const char *bytes, int len,
			  uint64 w0, uint64 w1, uint32 slot)
{
	int			id;

	if (dict->n >= CODE_DICT_MAX)
		code_dict_too_many(dict->what);
	if (dict->n == dict->cap)
	{
		int			cap = Min(dict->cap * 2, CODE_DICT_MAX);

		dict->codes = repalloc(dict->codes, cap * sizeof(char *));
		dict->lens = repalloc(dict->lens, cap * sizeof(int));
		dict->w0 = repalloc(dict->w0, cap * sizeof(uint64));
		dict->w1 = repalloc(dict->w1, cap * sizeof(uint64));
		dict->flag = repalloc(dict->flag, cap * sizeof(bool));
		memset(dict->flag + dict->cap, 0, (cap - dict->cap) * sizeof(bool));
		dict->cap = cap;
	}
	id = dict->n++;
	dict->codes[id] = MemoryContextAlloc(cxt, Max(len, 1));
	memcpy(dict->codes[id], bytes, len);
	dict->lens[id] = len;
	dict->w0[id] = w0;
	dict->w1[id] = w1;
	dict->slots[slot] = (uint16) (id + 1);
	dict->last = id;

	if (dict->n * 2 > dict->nslots)
		grow_slots(cxt, dict);
	return id;
}
