/*-------------------------------------------------------------------------
 *
 * code_dict.h
 *	  Text codes interned to small ids: the dictionaries of the usage
 *	  grouping aggregate and of a load's monthly sums.
 *
 * Codes are short and repeat (about a hundred municipalities, a few dozen
 * systems and services), so each column's codes get 16-bit ids in an
 * open-addressing table.  A code is compared and hashed through its first
 * 16 bytes as two words, and the code found last is tried first, since
 * consecutive rows of a batch often repeat it.
 *
 *-------------------------------------------------------------------------
 */
#ifndef AFREGNING_CODE_DICT_H
#define AFREGNING_CODE_DICT_H

#include "postgres.h"

/* Ids are 16 bits; the all-ones id is left free as "none" */
#define CODE_DICT_MAX	65535

typedef struct CodeDict
{
	const char *what;			/* column name, for errors */
	int			n;				/* codes interned */
	int			cap;			/* room in codes/lens/flag */
	char	  **codes;			/* id -> bytes (not terminated) */
	int		   *lens;			/* id -> length */
	uint64	   *w0;				/* id -> bytes 1-8, zero-padded */
	uint64	   *w1;				/* id -> bytes 9-16, zero-padded */
	bool	   *flag;			/* id -> a mark of the caller's (false when new) */
	uint16	   *slots;			/* open addressing: id + 1, 0 = empty */
	int			nslots;			/* power of two, at least 2 × n */
	int			last;			/* id found last, -1 if none */
} CodeDict;

extern void code_dict_init(MemoryContext cxt, CodeDict *dict, const char *what);
extern void code_dict_too_many(const char *what) pg_attribute_noreturn();
extern int	code_dict_add(MemoryContext cxt, CodeDict *dict, const char *bytes, int len,
						  uint64 w0, uint64 w1, uint32 slot);

/*
 * The first 16 bytes of a code as two zero-padded words.  Codes are short,
 * so two codes of equal length are equal when their words are (longer codes
 * compare their bytes too), and the words hash cheaply: no call to memcmp()
 * or hash_bytes() on the path of a row.
 */
static inline void
code_words(const char *bytes, int len, uint64 *w0, uint64 *w1)
{
	uint64		w[2] = {0, 0};
	int			n = Min(len, 16);
	int			k;

	for (k = 0; k < n; k++)
		w[k >> 3] |= (uint64) (unsigned char) bytes[k] << ((k & 7) * 8);
	*w0 = w[0];
	*w1 = w[1];
}

static inline uint32
code_hash(uint64 w0, uint64 w1, int len)
{
	uint64		h = (w0 * UINT64CONST(0x9e3779b97f4a7c15)) ^
		(w1 * UINT64CONST(0xbf58476d1ce4e5b9)) ^ (uint64) len;

	h ^= h >> 31;
	h *= UINT64CONST(0x94d049bb133111eb);
	h ^= h >> 29;
	return (uint32) h;
}

static inline bool
code_equal(CodeDict *dict, int id, const char *bytes, int len, uint64 w0, uint64 w1)
{
	return dict->lens[id] == len && dict->w0[id] == w0 && dict->w1[id] == w1 &&
		(len <= 16 || memcmp(dict->codes[id], bytes, len) == 0);
}

/*
 * The id of a code, interned if new (in cxt); *is_new tells whether it was.
 * The lookup is inline, since it is on the path of every row.
 */
static inline int
code_dict_intern(MemoryContext cxt, CodeDict *dict, const char *bytes, int len,
				 bool *is_new)
{
	uint32		i;
	uint64		w0;
	uint64		w1;

	*is_new = false;
	code_words(bytes, len, &w0, &w1);
	if (dict->last >= 0 && code_equal(dict, dict->last, bytes, len, w0, w1))
		return dict->last;

	i = code_hash(w0, w1, len) & (dict->nslots - 1);
	while (dict->slots[i] != 0)
	{
		int			id = dict->slots[i] - 1;

		if (code_equal(dict, id, bytes, len, w0, w1))
		{
			dict->last = id;
			return id;
		}
		i = (i + 1) & (dict->nslots - 1);
	}
	*is_new = true;
	return code_dict_add(cxt, dict, bytes, len, w0, w1, i);
}

#endif							/* AFREGNING_CODE_DICT_H */
