// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * report - see report.h. Walks a table of rows twice over the same
 * record: once for text, once for JSON; the rows are the only place a
 * field is named. Owns nothing but the scratch buffer of one escaped
 * string at a time.
 */
#include "report.h"

#include "duration.h"
#include "jsonw.h"
#include "timefmt.h"
#include "xalloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define AT(rec, off, type) (*(type const *)(const void *)((const char *)(rec) + (off)))

static bool is_block(const struct report_row *r)
{
	return r->kind == REPORT_GROUP || r->kind == REPORT_LIST || r->kind == REPORT_MAP;
}

/* The row after the one at i: past its REPORT_END if it opens a block. */
static size_t next(const struct report_row *rows, size_t n, size_t i)
{
	int depth = 0;

	do {
		if (is_block(&rows[i]))
			depth++;
		else if (rows[i].kind == REPORT_END)
			depth--;
		i++;
	} while (depth > 0 && i < n);
	return i;
}

/* The end of the rows at this level, from i on: the REPORT_END that
 * closes them, or n. */
static size_t level_end(const struct report_row *rows, size_t n, size_t i)
{
	while (i < n && rows[i].kind != REPORT_END)
		i = next(rows, n, i);
	return i;
}

static bool present(const struct report_row *r, const void *rec)
{
	return !(r->flags & REPORT_IF) || AT(rec, r->cond, bool);
}

static bool is_number(const struct report_row *r)
{
	return r->kind == REPORT_U64 || r->kind == REPORT_I64 || r->kind == REPORT_SECS;
}

static bool is_zero(const struct report_row *r, const void *rec)
{
	return r->kind == REPORT_U64 ? AT(rec, r->off, uint64_t) == 0 : AT(rec, r->off, int64_t) == 0;
}

/* ---- text ---- */

static void text_value(FILE *out, const struct report_row *r, const void *rec)
{
	const char *val = "", *mark;
	char num[TIMEFMT_LEN], *esc = NULL;

	switch (r->kind) {
	case REPORT_BOOL:
		if (AT(rec, r->off, bool))
			fputs(r->text, out);
		return;
	case REPORT_U64:
		snprintf(num, sizeof num, "%llu", (unsigned long long)AT(rec, r->off, uint64_t));
		val = num;
		break;
	case REPORT_I64:
		snprintf(num, sizeof num, "%lld", (long long)AT(rec, r->off, int64_t));
		val = num;
		break;
	case REPORT_SECS: {
		int64_t s = AT(rec, r->off, int64_t);
		duration_format(s > 0 ? (uint64_t)s * 1000 : 0, num, sizeof num);
		if (!num[0] || strcmp(num, "0ms") == 0)
			snprintf(num, sizeof num, "0s");
		val = num;
		break;
	}
	case REPORT_TIME: {
		int64_t t = AT(rec, r->off, int64_t);
		if (t == REPORT_NO_TIME) {
			val = r->none ? r->none : "";
			break;
		}
		timefmt_format(t, AT(rec, r->cond, bool), num);
		val = num;
		break;
	}
	case REPORT_STR: {
		const char *s = AT(rec, r->off, const char *);
		if (s) {
			size_t len = strlen(s), max = 4 * len + 4;
			esc = xmalloc(max);
			text_escape(esc, max, s, len);
			val = esc;
		} else if (r->none) {
			val = r->none;
		}
		break;
	}
	default:
		return;
	}
	mark = strstr(r->text, "%s");
	if (mark) {
		fwrite(r->text, 1, (size_t)(mark - r->text), out);
		fputs(val, out);
		fputs(mark + 2, out);
	} else {
		fputs(r->text, out);
	}
	free(esc);
}

/* The values at this level, [from, to), on one line; no newline. Returns
 * whether any of them has text. */
static bool text_values(FILE *out, const struct report_row *rows, size_t n, size_t from, size_t to,
			const void *rec)
{
	bool any = false;

	for (size_t i = from; i < to; i = next(rows, n, i))
		if (!is_block(&rows[i]) && rows[i].text) {
			text_value(out, &rows[i], rec);
			any = true;
		}
	return any;
}

static void text_block(FILE *out, const struct report_row *rows, size_t n, size_t b, const void *rec);

/* A group's line, then its blocks. */
static void text_body(FILE *out, const struct report_row *rows, size_t n, size_t from, size_t to, const void *rec)
{
	if (text_values(out, rows, n, from, to, rec))
		fputc('\n', out);
	for (size_t i = from; i < to; i = next(rows, n, i))
		if (is_block(&rows[i]))
			text_block(out, rows, n, i, rec);
}

static void text_block(FILE *out, const struct report_row *rows, size_t n, size_t b, const void *rec)
{
	const struct report_row *r = &rows[b];
	size_t end = level_end(rows, n, b + 1);

	if (!present(r, rec))
		return;
	if (r->kind == REPORT_GROUP) {
		bool nonzero = false;
		if ((r->flags & REPORT_TEXT_IF) && !AT(rec, r->cond, bool))
			return;
		for (size_t i = b + 1; i < end; i = next(rows, n, i))
			if (is_number(&rows[i]) && !is_zero(&rows[i], rec))
				nonzero = true;
		if ((r->flags & REPORT_TEXT_NONZERO) && !nonzero)
			return;
		text_body(out, rows, n, b + 1, end, rec);
		return;
	}
	/* a list or a map */
	const char *el = AT(rec, r->off, const char *);
	size_t count = AT(rec, r->count, size_t);
	if (r->flags & REPORT_INLINE) {
		if (r->text)
			fputs(r->text, out);
		for (size_t k = 0; k < count; k++) {
			if (k && r->sep)
				fputs(r->sep, out);
			text_values(out, rows, n, b + 1, end, el + k * r->size);
		}
		fputc('\n', out);
		return;
	}
	if (r->text)
		fprintf(out, "%s\n", r->text);
	for (size_t k = 0; k < count; k++)
		text_body(out, rows, n, b + 1, end, el + k * r->size);
}

/* ---- JSON ---- */

static void json_value(FILE *out, const struct report_row *r, const void *rec)
{
	switch (r->kind) {
	case REPORT_U64:
		fprintf(out, "%llu", (unsigned long long)AT(rec, r->off, uint64_t));
		break;
	case REPORT_I64:
	case REPORT_SECS:
		fprintf(out, "%lld", (long long)AT(rec, r->off, int64_t));
		break;
	case REPORT_BOOL:
		fputs(AT(rec, r->off, bool) ? "true" : "false", out);
		break;
	case REPORT_TIME: {
		int64_t t = AT(rec, r->off, int64_t);
		char iso[TIMEFMT_LEN];
		if (t == REPORT_NO_TIME) {
			fputs("null", out);
			break;
		}
		timefmt_iso(t, iso);
		fprintf(out, "\"%s\"", iso);
		break;
	}
	case REPORT_STR: {
		const char *s = AT(rec, r->off, const char *);
		json_str(out, s ? s : "", s ? strlen(s) : 0);
		break;
	}
	default:
		break;
	}
}

static void json_key(FILE *out, bool *first, const char *key)
{
	fprintf(out, "%s\"%s\": ", *first ? "" : ", ", key);
	*first = false;
}

static void json_members(FILE *out, const struct report_row *rows, size_t n, size_t from, size_t to,
			 const void *rec, bool *first);

static void json_block(FILE *out, const struct report_row *rows, size_t n, size_t b, const void *rec, bool *first)
{
	const struct report_row *r = &rows[b];
	size_t end = level_end(rows, n, b + 1);
	bool inner = true;

	if (!present(r, rec))
		return;
	if (r->kind == REPORT_GROUP && !r->key) {
		json_members(out, rows, n, b + 1, end, rec, first);
		return;
	}
	json_key(out, first, r->key);
	if (r->kind == REPORT_GROUP) {
		fputc('{', out);
		json_members(out, rows, n, b + 1, end, rec, &inner);
		fputc('}', out);
		return;
	}
	const char *el = AT(rec, r->off, const char *);
	size_t count = AT(rec, r->count, size_t);
	fputc(r->kind == REPORT_LIST ? '[' : '{', out);
	for (size_t k = 0; k < count; k++) {
		const void *e = el + k * r->size;
		if (k)
			fputs(", ", out);
		if (r->kind == REPORT_MAP) {
			const char *name = "";
			for (size_t i = b + 1; i < end; i = next(rows, n, i))
				if (rows[i].kind == REPORT_STR && (rows[i].flags & REPORT_NAME) && AT(e, rows[i].off, const char *))
					name = AT(e, rows[i].off, const char *);
			json_str(out, name, strlen(name));
			fputs(": ", out);
		}
		if (r->flags & REPORT_SCALAR) {
			for (size_t i = b + 1; i < end; i = next(rows, n, i))
				if (!is_block(&rows[i]) && rows[i].key) {
					json_value(out, &rows[i], e);
					break;
				}
			continue;
		}
		inner = true;
		fputc('{', out);
		json_members(out, rows, n, b + 1, end, e, &inner);
		fputc('}', out);
	}
	fputc(r->kind == REPORT_LIST ? ']' : '}', out);
}

static void json_members(FILE *out, const struct report_row *rows, size_t n, size_t from, size_t to,
			 const void *rec, bool *first)
{
	for (size_t i = from; i < to; i = next(rows, n, i)) {
		if (is_block(&rows[i])) {
			json_block(out, rows, n, i, rec, first);
		} else if (rows[i].key) {
			json_key(out, first, rows[i].key);
			json_value(out, &rows[i], rec);
		}
	}
}

void report_write(FILE *out, bool json, const struct report_row *rows, size_t n, const void *rec)
{
	size_t end = level_end(rows, n, 0);

	if (json) {
		bool first = true;
		fputc('{', out);
		json_members(out, rows, n, 0, end, rec, &first);
		fputs("}\n", out);
	} else {
		text_body(out, rows, n, 0, end, rec);
	}
}

/* ---- walk ---- */

struct walk {
	report_visit_fn *fn;
	void *arg;
	const char *path[REPORT_DEPTH];
	size_t depth;
};

static void walk_members(struct walk *w, const struct report_row *rows, size_t n, size_t from, size_t to,
			 const void *rec);

static void walk_push(struct walk *w, const char *s)
{
	if (w->depth < REPORT_DEPTH)
		w->path[w->depth] = s;
	w->depth++;
}

static void walk_block(struct walk *w, const struct report_row *rows, size_t n, size_t b, const void *rec)
{
	const struct report_row *r = &rows[b];
	size_t end = level_end(rows, n, b + 1), depth = w->depth;

	if (!present(r, rec))
		return;
	if (r->key)
		walk_push(w, r->key);
	if (r->kind == REPORT_GROUP) {
		walk_members(w, rows, n, b + 1, end, rec);
	} else {
		const char *el = AT(rec, r->off, const char *);
		size_t count = AT(rec, r->count, size_t);
		for (size_t k = 0; k < count; k++) {
			const void *e = el + k * r->size;
			const char *name = "";
			for (size_t i = b + 1; i < end; i = next(rows, n, i))
				if (rows[i].kind == REPORT_STR && (rows[i].flags & REPORT_NAME) && AT(e, rows[i].off, const char *))
					name = AT(e, rows[i].off, const char *);
			walk_push(w, name);
			walk_members(w, rows, n, b + 1, end, e);
			w->depth--;
		}
	}
	w->depth = depth;
}

static void walk_members(struct walk *w, const struct report_row *rows, size_t n, size_t from, size_t to,
			 const void *rec)
{
	for (size_t i = from; i < to; i = next(rows, n, i)) {
		if (is_block(&rows[i])) {
			walk_block(w, rows, n, i, rec);
		} else if (rows[i].key) {
			walk_push(w, rows[i].key);
			if (w->depth <= REPORT_DEPTH)
				w->fn(w->arg, w->path, w->depth, &rows[i], rec);
			w->depth--;
		}
	}
}

void report_walk(const struct report_row *rows, size_t n, const void *rec, report_visit_fn *fn, void *arg)
{
	struct walk w = { .fn = fn, .arg = arg };

	walk_members(&w, rows, n, 0, level_end(rows, n, 0), rec);
}

bool report_number(const struct report_row *r, const void *rec, double *v)
{
	switch (r->kind) {
	case REPORT_U64:
		*v = (double)AT(rec, r->off, uint64_t);
		return true;
	case REPORT_I64:
	case REPORT_SECS:
		*v = (double)AT(rec, r->off, int64_t);
		return true;
	case REPORT_BOOL:
		*v = AT(rec, r->off, bool) ? 1 : 0;
		return true;
	case REPORT_TIME:
		if (AT(rec, r->off, int64_t) == REPORT_NO_TIME)
			return false;
		*v = (double)AT(rec, r->off, int64_t);
		return true;
	default:
		return false;
	}
}
