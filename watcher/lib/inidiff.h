/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * inidiff - what changed between two layered INI readings (inilayer.h) of
 * the same files: sections added and removed, and per section each key
 * whose value in force changed, was added or was removed, with the old
 * and new value and where the new one comes from (a local override
 * included). For the log line a reload writes. Pure: reads both, owns
 * nothing, never interprets a value.
 */
#ifndef MS_INIDIFF_H
#define MS_INIDIFF_H

#include <stddef.h>

struct inilayer;

enum inidiff_kind { INIDIFF_SECTION_ADDED, INIDIFF_SECTION_REMOVED, INIDIFF_KEY };

struct inidiff_change {
	enum inidiff_kind kind;
	const char *section;
	const char *key;                /* INIDIFF_KEY only */
	const char *old_value, *new_value;      /* the value's lines joined by '\n'; NULL: absent */
	const char *file;               /* where the new value (or section) is; the old one's if removed */
	int line;
};

typedef void inidiff_fn(void *arg, const struct inidiff_change *c);

/* Call fn for every difference from old to new (either may be NULL: no
 * file); sections are matched by name and by their rank among sections
 * of that name. Returns the number of differences. */
size_t inidiff(const struct inilayer *old, const struct inilayer *new, inidiff_fn *fn, void *arg);

#endif
