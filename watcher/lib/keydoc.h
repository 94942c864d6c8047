/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * keydoc - the keys of one INI section as a table: name, type, default
 * and a one-line description. Each concept owns its table (the [source]
 * keys in config.c, rule keys in rules.c, filter keys in filter_load.c);
 * its parser accepts exactly the keys of its table (keydoc_find, and
 * keydoc_known for the "unknown key" message), and `mailscreen options`
 * prints the same table (keydoc_print), so the reference cannot drift
 * from what is parsed. Pure: constant data in, text out.
 */
#ifndef MS_KEYDOC_H
#define MS_KEYDOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct keydoc {
	const char *key;
	const char *type;       /* "duration", "yes/no", "number, 1 to 100", ... */
	const char *def;        /* the default as written; "" = none */
	const char *doc;        /* one line */
};

#define KEYDOC_N(t) (sizeof (t) / sizeof (t)[0])

/* The row of key, or NULL. */
const struct keydoc *keydoc_find(const struct keydoc *t, size_t n, const char *key);
/* "a, b, c": every key, for an "unknown key" message. */
void keydoc_known(const struct keydoc *t, size_t n, char *buf, size_t len);
/* One section's reference. Plain: a "TITLE WHERE" line, then one line a
 * key, "  key (type; default D): doc". Markdown: a table whose header
 * names the section ("| `[daemon]` key | type | default | meaning |").
 * where (or NULL) says which file the section is in ("in a rule file"). */
void keydoc_print_head(FILE *fp, bool markdown, const char *title, const char *where);
void keydoc_print_row(FILE *fp, bool markdown, const struct keydoc *k);
void keydoc_print(FILE *fp, bool markdown, const char *title, const char *where, const struct keydoc *t,
		  size_t n);

#endif
