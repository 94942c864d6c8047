// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * check_show - see check_show.h. Owns nothing. A value is printed as the
 * loader read it (a list of regexes one line each, every line with its
 * origin); keys never set show their default from the loader's own key
 * table, marked "(default)". The origin of a value an override replaced is
 * "(FILE:LINE, was OLD in FILE:LINE)", newest replaced value first. Text
 * comes from root-owned files (bundle.h checks them), but is printed with
 * control bytes escaped all the same.
 */
#include "check_show.h"
#include "config.h"
#include "filter.h"
#include "inilayer.h"
#include "rules.h"

#include <stdbool.h>
#include <string.h>

#define VALUE_COL 28            /* "key = value" is padded to this width */

static void put_text(FILE *fp, const char *s)
{
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch < 0x20 || ch == 0x7f)
			fprintf(fp, "\\x%02x", ch);
		else
			fputc(ch, fp);
	}
}

static void put_kv(FILE *fp, const char *key, const char *value)
{
	int n = fprintf(fp, "  %s = ", key);

	put_text(fp, value);
	n += (int)strlen(value);
	fprintf(fp, "%*s", n < VALUE_COL ? VALUE_COL - n : 1, "");
}

/* An earlier layer, for "was ...": its value if it has one line. */
static void put_was(FILE *fp, const struct ini_layer_value *lv, bool first)
{
	fputs(first ? ", was " : "; ", fp);
	if (lv->nvalues == 1) {
		put_text(fp, lv->values[0]);
		fprintf(fp, " in %s:%d", lv->file, lv->lines[0]);
	} else {
		fprintf(fp, "%zu lines from %s:%d", lv->nvalues, lv->file, lv->lines[0]);
	}
}

static void show_section(FILE *fp, const struct inilayer *doc, size_t sec, const char *what,
			 const struct ini_keydef *keys, size_t nkeys)
{
	struct ini_section_info si;
	size_t nk = inilayer_nkeys(doc, sec);

	inilayer_section(doc, sec, &si);
	fprintf(fp, "[");
	put_text(fp, si.name);
	fprintf(fp, "]  %s", what);
	if (strcmp(what, "filter") == 0)
		fprintf(fp, " of file %s", si.owner);
	fprintf(fp, ", %s:%d%s\n", si.file, si.line,
		si.added ? " (added by an override)" : si.overridden ? " (overridden)" : "");
	for (size_t k = 0; k < nk; k++) {
		size_t nl;
		const char *key = inilayer_key(doc, sec, k, &nl);
		struct ini_layer_value cur;
		inilayer_layer(doc, sec, k, nl - 1, &cur);
		for (size_t v = 0; v < cur.nvalues; v++) {
			put_kv(fp, key, cur.values[v]);
			fprintf(fp, "(%s:%d", cur.file, cur.lines[v]);
			for (size_t l = nl - 1; v == 0 && l-- > 0;) {
				struct ini_layer_value old;
				inilayer_layer(doc, sec, k, l, &old);
				put_was(fp, &old, l == nl - 2);
			}
			fprintf(fp, ")\n");
		}
	}
	for (size_t i = 0; i < nkeys; i++) {
		bool set = false;
		for (size_t k = 0; k < nk && !set; k++)
			set = strcmp(inilayer_key(doc, sec, k, NULL), keys[i].name) == 0;
		if (set || !keys[i].def)
			continue;
		put_kv(fp, keys[i].name, keys[i].def);
		fprintf(fp, "(default)\n");
	}
}

/* The configuration's sections; the option table's sections are shown
 * even where no file has them, with their defaults. */
static size_t show_config(FILE *fp, const struct config *c, const char *name)
{
	const char *tabled[32];
	size_t ntabled = 0;
	const struct inilayer *doc = c->layers;
	size_t n = 0;

	/* the sections of the option table, in its order */
	{
		const char *s, *k, *d;
		for (size_t i = 0; config_option(i, &s, &k, &d); i++)
			if ((!ntabled || strcmp(tabled[ntabled - 1], s) != 0) && ntabled < sizeof tabled / sizeof tabled[0])
				tabled[ntabled++] = s;
	}
	for (size_t t = 0; t < ntabled; t++) {
		struct ini_keydef keys[64];
		size_t nkeys = 0;
		const char *s, *k, *d;
		long sec = doc ? inilayer_find(doc, tabled[t]) : -1;
		if (name && strcmp(name, tabled[t]) != 0)
			continue;
		for (size_t i = 0; config_option(i, &s, &k, &d); i++)
			if (strcmp(s, tabled[t]) == 0 && nkeys < sizeof keys / sizeof keys[0])
				keys[nkeys++] = (struct ini_keydef){ k, d };
		if (sec >= 0) {
			show_section(fp, doc, (size_t)sec, "configuration", keys, nkeys);
		} else {
			fprintf(fp, "[%s]  configuration, built-in defaults\n", tabled[t]);
			for (size_t i = 0; i < nkeys; i++) {
				put_kv(fp, keys[i].name, keys[i].def);
				fprintf(fp, "(default)\n");
			}
		}
		n++;
	}
	for (size_t i = 0; doc && i < inilayer_nsections(doc); i++) {
		struct ini_section_info si;
		bool tab = false;
		inilayer_section(doc, i, &si);
		for (size_t t = 0; t < ntabled; t++)
			tab |= strcmp(si.name, tabled[t]) == 0;
		if (tab || (name && strcmp(name, si.name) != 0))
			continue;
		show_section(fp, doc, i, "configuration", NULL, 0);
		n++;
	}
	return n;
}

static size_t show_doc(FILE *fp, const struct inilayer *doc, const char *name, const char *what,
		       const struct ini_keydef *keys, size_t nkeys)
{
	size_t n = 0;

	for (size_t i = 0; doc && i < inilayer_nsections(doc); i++) {
		struct ini_section_info si;
		inilayer_section(doc, i, &si);
		if (name && strcmp(name, si.name) != 0)
			continue;
		show_section(fp, doc, i, what, keys, nkeys);
		n++;
	}
	return n;
}

/* A key table's defaults as check shows them; keys that have none (a
 * required key, an empty default) get no "(default)" line. */
static size_t defaults_of(const struct keydoc *t, size_t n, struct ini_keydef *out, size_t max)
{
	size_t m = 0;

	for (size_t i = 0; i < n && m < max; i++) {
		const char *d = t[i].def;
		if (!d || !*d || strcmp(d, "(required)") == 0 || strcmp(d, "(at least one)") == 0)
			continue;
		out[m++] = (struct ini_keydef){ t[i].key, d };
	}
	return m;
}

size_t check_show(FILE *fp, const struct bundle *b, const char *name)
{
	struct ini_keydef keys[64];
	size_t n = show_config(fp, &b->cfg, name), nkeys;

	nkeys = defaults_of(rule_keys, rule_nkeys, keys, sizeof keys / sizeof keys[0]);
	n += show_doc(fp, b->rule_layers, name, "rule", keys, nkeys);
	nkeys = defaults_of(filter_keys, filter_nkeys, keys, sizeof keys / sizeof keys[0]);
	n += show_doc(fp, b->filter_layers, name, "filter", keys, nkeys);
	return n;
}

void check_show_overrides(FILE *fp, const struct bundle *b)
{
	const struct inilayer *docs[] = { b->cfg.layers, b->filter_layers, b->rule_layers };
	size_t shown = 0;

	for (size_t d = 0; d < sizeof docs / sizeof docs[0]; d++) {
		const char *const *files;
		const bool *over;
		size_t n = docs[d] ? inilayer_files(docs[d], &files, &over) : 0;
		for (size_t i = 0; i < n; i++)
			if (over[i])
				fprintf(fp, "%s %s", shown++ ? "" : "overrides:", files[i]);
	}
	if (shown)
		fputc('\n', fp);
}
