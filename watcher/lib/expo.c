// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * expo - see expo.h. Families and series in growing arrays, looked up
 * linearly: a few hundred series at most (labels are rules, sources,
 * kinds of event, never clients).
 */
#include "expo.h"

#include "log.h"
#include "xalloc.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

void expo_init(struct expo *e)
{
	memset(e, 0, sizeof *e);
}

void expo_release(struct expo *e)
{
	for (size_t i = 0; i < e->nfam; i++) {
		struct expo_family *f = &e->fam[i];
		for (size_t k = 0; k < f->nseries; k++)
			free(f->series[k].labels);
		free(f->series);
		free(f->name);
		free(f->help);
	}
	free(e->fam);
	memset(e, 0, sizeof *e);
}

bool expo_name_ok(const char *name, bool label)
{
	if (!name || !*name || (*name >= '0' && *name <= '9'))
		return false;
	for (const char *p = name; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_' ||
		      (*p == ':' && !label)))
			return false;
	return true;
}

static struct expo_family *find(const struct expo *e, const char *name)
{
	for (size_t i = 0; i < e->nfam; i++)
		if (strcmp(e->fam[i].name, name) == 0)
			return &e->fam[i];
	return NULL;
}

void expo_family(struct expo *e, const char *name, enum expo_type type, const char *help)
{
	struct expo_family *f = find(e, name);

	if (f) {
		if (f->type != type)
			fatalx("expo: family %s declared with two types", name);
		return;
	}
	if (!expo_name_ok(name, false))
		fatalx("expo: bad metric name '%s'", name);
	XGROW(e->fam, e->afam, e->nfam + 1);
	e->fam[e->nfam++] = (struct expo_family){ .name = xstrdup(name), .help = xstrdup(help), .type = type };
}

/* The length of the UTF-8 sequence at s (n bytes left), 0 if it is none. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len;
	uint32_t c;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2, c = s[0] & 0x1fu;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, c = s[0] & 0x0fu;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, c = s[0] & 0x07u;
	else
		return 0;
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3fu);
	}
	if ((len == 3 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff))) || (len == 4 && (c < 0x10000 || c > 0x10ffff)))
		return 0;
	return len;
}

/* s escaped into out (4 * strlen + 1 bytes): backslash, newline and, in a
 * label value (quote), the double quote; not UTF-8: '?'. */
static void escape(char *out, const char *s, bool quote)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = strlen(s);

	while (n) {
		size_t len = utf8_len(p, n);
		if (!len) {
			*out++ = '?';
			p++, n--;
			continue;
		}
		if (*p == '\\' || (*p == '"' && quote)) {
			*out++ = '\\';
			*out++ = (char)*p;
		} else if (*p == '\n') {
			*out++ = '\\';
			*out++ = 'n';
		} else {
			memcpy(out, p, len);
			out += len;
		}
		p += len, n -= len;
	}
	*out = '\0';
}

static char *label_set(const char *const *labels)
{
	size_t max = 1;
	char *out, *o;

	for (size_t i = 0; labels && labels[i]; i += 2) {
		if (!expo_name_ok(labels[i], true) || !labels[i + 1])
			fatalx("expo: bad label '%s'", labels[i]);
		max += strlen(labels[i]) + 4 + 2 * strlen(labels[i + 1]) + 4;
	}
	o = out = xmalloc(max);
	*o = '\0';
	for (size_t i = 0; labels && labels[i]; i += 2) {
		o += sprintf(o, "%s%s=\"", i ? "," : "", labels[i]);
		escape(o, labels[i + 1], true);
		o += strlen(o);
		*o++ = '"';
		*o = '\0';
	}
	return out;
}

static void put(struct expo *e, const char *name, const char *const *labels, double v, bool add)
{
	struct expo_family *f = find(e, name);
	char *ls;

	if (!f)
		fatalx("expo: family %s not declared", name);
	ls = label_set(labels);
	for (size_t k = 0; k < f->nseries; k++)
		if (strcmp(f->series[k].labels, ls) == 0) {
			f->series[k].value = add ? f->series[k].value + v : v;
			free(ls);
			return;
		}
	XGROW(f->series, f->aseries, f->nseries + 1);
	f->series[f->nseries++] = (struct expo_series){ ls, v };
}

void expo_add(struct expo *e, const char *name, const char *const *labels, double v)
{
	put(e, name, labels, v, true);
}

void expo_set(struct expo *e, const char *name, const char *const *labels, double v)
{
	put(e, name, labels, v, false);
}

static void write_value(FILE *out, double v)
{
	if (isnan(v))
		fputs("NaN", out);
	else if (isinf(v))
		fputs(v > 0 ? "+Inf" : "-Inf", out);
	else if (v > -1e15 && v < 1e15 && v == (double)(int64_t)v)
		fprintf(out, "%lld", (long long)v);
	else
		fprintf(out, "%.17g", v);
}

void expo_write(const struct expo *e, FILE *out)
{
	static const char *const types[] = { "counter", "gauge", "untyped" };

	for (size_t i = 0; i < e->nfam; i++) {
		const struct expo_family *f = &e->fam[i];
		char *help;
		if (!f->nseries)
			continue;
		help = xmalloc(4 * strlen(f->help) + 1);
		escape(help, f->help, false);
		fprintf(out, "# HELP %s %s\n# TYPE %s %s\n", f->name, help, f->name, types[f->type]);
		free(help);
		for (size_t k = 0; k < f->nseries; k++) {
			fputs(f->name, out);
			if (f->series[k].labels[0])
				fprintf(out, "{%s}", f->series[k].labels);
			fputc(' ', out);
			write_value(out, f->series[k].value);
			fputc('\n', out);
		}
	}
}
