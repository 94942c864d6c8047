// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * keydoc - see keydoc.h. Owns nothing; never allocates.
 */
#include "keydoc.h"

#include <string.h>

const struct keydoc *keydoc_find(const struct keydoc *t, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(t[i].key, key) == 0)
			return &t[i];
	return NULL;
}

void keydoc_known(const struct keydoc *t, size_t n, char *buf, size_t len)
{
	size_t used = 0;

	if (len)
		buf[0] = '\0';
	for (size_t i = 0; i < n && used < len; i++) {
		int w = snprintf(buf + used, len - used, "%s%s", i ? ", " : "", t[i].key);
		if (w < 0)
			break;
		used += (size_t)w;
	}
}

void keydoc_print_head(FILE *fp, bool markdown, const char *title, const char *where)
{
	const char *sp = where ? " " : "";

	if (!where)
		where = "";
	if (markdown)
		fprintf(fp, "| `%s` key%s%s | type | default | meaning |\n|---|---|---|---|\n", title, sp, where);
	else
		fprintf(fp, "%s%s%s\n", title, sp, where);
}

void keydoc_print_row(FILE *fp, bool markdown, const struct keydoc *k)
{
	bool none = !*k->def, lit = !none && k->def[0] != '(';

	if (markdown)
		fprintf(fp, "| `%s` | %s | %s%s%s | %s |\n", k->key, k->type, lit ? "`" : "",
			none ? "(none)" : k->def, lit ? "`" : "", k->doc);
	else
		fprintf(fp, "  %s (%s; default %s): %s\n", k->key, k->type, none ? "none" : k->def, k->doc);
}

void keydoc_print(FILE *fp, bool markdown, const char *title, const char *where, const struct keydoc *t,
		  size_t n)
{
	keydoc_print_head(fp, markdown, title, where);
	for (size_t i = 0; i < n; i++)
		keydoc_print_row(fp, markdown, &t[i]);
}
