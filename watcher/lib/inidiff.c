// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * inidiff - see inidiff.h. Quadratic in the number of sections and keys,
 * which are tens: a reload is rare, and the files are the
 * administrator's. Must never: report a key whose value in force is the
 * same (a value moved to an override with the same text is no change).
 */
#include "inidiff.h"
#include "inilayer.h"
#include "xalloc.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* The rank of section i among the sections of its name (0 for the first). */
static size_t rank_of(const struct inilayer *d, size_t i)
{
	struct ini_section_info si, sj;
	size_t r = 0;

	inilayer_section(d, i, &si);
	for (size_t j = 0; j < i; j++) {
		inilayer_section(d, j, &sj);
		if (strcmp(si.name, sj.name) == 0)
			r++;
	}
	return r;
}

/* The section of d named name with that rank, or -1. */
static long find_rank(const struct inilayer *d, const char *name, size_t rank)
{
	size_t n = d ? inilayer_nsections(d) : 0;
	struct ini_section_info si;

	for (size_t i = 0; i < n; i++) {
		inilayer_section(d, i, &si);
		if (strcmp(si.name, name) == 0 && rank-- == 0)
			return (long)i;
	}
	return -1;
}

/* The value in force of key k of section sec, lines joined by '\n'
 * (free it), with its file and line. */
static char *value_of(const struct inilayer *d, size_t sec, size_t k, const char **file, int *line)
{
	struct ini_layer_value lv;
	size_t nl, len = 0;
	char *v;

	inilayer_key(d, sec, k, &nl);
	inilayer_layer(d, sec, k, nl - 1, &lv);
	for (size_t i = 0; i < lv.nvalues; i++)
		len += strlen(lv.values[i]) + 1;
	v = xmalloc(len + 1);
	v[0] = '\0';
	for (size_t i = 0; i < lv.nvalues; i++) {
		if (i)
			strcat(v, "\n");
		strcat(v, lv.values[i]);
	}
	*file = lv.file;
	*line = lv.nvalues ? lv.lines[lv.nvalues - 1] : 0;
	return v;
}

static long key_index(const struct inilayer *d, size_t sec, const char *key)
{
	size_t n = inilayer_nkeys(d, sec), nl;

	for (size_t k = 0; k < n; k++)
		if (strcmp(inilayer_key(d, sec, k, &nl), key) == 0)
			return (long)k;
	return -1;
}

/* The keys of one section present in both, changed, or in one only. */
static size_t diff_section(const struct inilayer *old, size_t os, const struct inilayer *new, size_t ns,
			   const char *name, inidiff_fn *fn, void *arg)
{
	size_t n = 0, nl;

	for (size_t k = 0; k < inilayer_nkeys(new, ns); k++) {
		const char *key = inilayer_key(new, ns, k, &nl), *nf, *of;
		long ok = key_index(old, os, key);
		int nline, oline;
		char *nv = value_of(new, ns, k, &nf, &nline);
		char *ov = ok >= 0 ? value_of(old, os, (size_t)ok, &of, &oline) : NULL;
		if (!ov || strcmp(ov, nv) != 0) {
			struct inidiff_change c = { INIDIFF_KEY, name, key, ov, nv, nf, nline };
			fn(arg, &c);
			n++;
		}
		free(nv);
		free(ov);
	}
	for (size_t k = 0; k < inilayer_nkeys(old, os); k++) {
		const char *key = inilayer_key(old, os, k, &nl), *of;
		int oline;
		if (key_index(new, ns, key) >= 0)
			continue;
		char *ov = value_of(old, os, k, &of, &oline);
		struct inidiff_change c = { INIDIFF_KEY, name, key, ov, NULL, of, oline };
		fn(arg, &c);
		free(ov);
		n++;
	}
	return n;
}

size_t inidiff(const struct inilayer *old, const struct inilayer *new, inidiff_fn *fn, void *arg)
{
	size_t n = 0, nold = old ? inilayer_nsections(old) : 0, nnew = new ? inilayer_nsections(new) : 0;
	struct ini_section_info si;

	for (size_t i = 0; i < nnew; i++) {
		long o;
		inilayer_section(new, i, &si);
		o = find_rank(old, si.name, rank_of(new, i));
		if (o < 0) {
			struct inidiff_change c = { INIDIFF_SECTION_ADDED, si.name, NULL, NULL, NULL, si.file, si.line };
			fn(arg, &c);
			n++;
			continue;
		}
		n += diff_section(old, (size_t)o, new, i, si.name, fn, arg);
	}
	for (size_t i = 0; i < nold; i++) {
		inilayer_section(old, i, &si);
		if (find_rank(new, si.name, rank_of(old, i)) >= 0)
			continue;
		struct inidiff_change c = { INIDIFF_SECTION_REMOVED, si.name, NULL, NULL, NULL, si.file, si.line };
		fn(arg, &c);
		n++;
	}
	return n;
}
