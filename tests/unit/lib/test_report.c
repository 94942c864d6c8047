// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests for report.c: one table of rows over a record, written as
 * text and as JSON. Each kind of value in both forms (a string escaped
 * for people and for JSON, a NULL string, seconds as a duration); lines
 * shown only when a number is not 0 or a flag is set, while JSON keeps
 * them; blocks present in neither form; rows in one form only; a list of
 * records with a nested list and a conditional group; maps of records
 * and of numbers, inline with a separator.
 */
#include "report.h"

#include "unit.h"

#include <check.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* rows over rec, as text or JSON, in a malloc'ed string */
static char *render(bool json, const struct report_row *rows, size_t n, const void *rec)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(fp);
	report_write(fp, json, rows, n, rec);
	ck_assert_int_eq(fclose(fp), 0);
	return buf;
}

#define CHECK(json, rows, rec, want) do { \
	char *got_ = render(json, rows, sizeof rows / sizeof rows[0], rec); \
	ck_assert_str_eq(got_, want); \
	free(got_); \
} while (0)

struct vals {
	uint64_t u;
	int64_t i, secs;
	bool yes, no;
	const char *s, *null;
};

#define V(m) offsetof(struct vals, m)

START_TEST(each_kind_of_value_in_text_and_json)
{
	static const struct report_row rows[] = {
		REPORT_GROUP_ROW(NULL, 0, 0),
		REPORT_ROW(U64, "u", "u %s", V(u)),
		REPORT_ROW(I64, "i", ", i %s", V(i)),
		REPORT_ROW(SECS, "secs", ", up %s", V(secs)),
		REPORT_ROW(BOOL, "yes", ", YES", V(yes)),
		REPORT_ROW(BOOL, "no", ", NO", V(no)),
		REPORT_END_ROW,
		REPORT_GROUP_ROW(NULL, 0, 0),
		REPORT_ROW(STR, "s", "s: %s.", V(s)),
		{ .kind = REPORT_STR, .key = "null", .text = " null: %s", .off = V(null), .none = "(none)" },
		REPORT_END_ROW,
	};
	struct vals v = { 18446744073709551615ULL, -1, 3 * 3600 + 60, true, false,
			  "caf\xc3\xa9 \033[2J \"q\" \xe9", NULL };

	CHECK(false, rows, &v,
	      "u 18446744073709551615, i -1, up 3h1m, YES\n"
	      "s: caf\xc3\xa9 \\x1b[2J \"q\" \\xe9. null: (none)\n");
	CHECK(true, rows, &v,
	      "{\"u\": 18446744073709551615, \"i\": -1, \"secs\": 10860, \"yes\": true, \"no\": false, "
	      "\"s\": \"caf\xc3\xa9 \\u001b[2J \\\"q\\\" \\ufffd\", \"null\": \"\"}\n");
	/* no seconds is "0s", never "" or "0ms" */
	v.secs = 0;
	v.u = 0;
	CHECK(false, rows, &v,
	      "u 0, i -1, up 0s, YES\n"
	      "s: caf\xc3\xa9 \\x1b[2J \"q\" \\xe9. null: (none)\n");
}
END_TEST

struct counters {
	uint64_t a, b, c;
	bool checked, present;
	uint64_t x;
};

#define C(m) offsetof(struct counters, m)

START_TEST(conditional_lines_and_blocks)
{
	static const struct report_row rows[] = {
		REPORT_GROUP_ROW(NULL, REPORT_TEXT_NONZERO, 0),
		REPORT_ROW(U64, "a", "a %s", C(a)),
		REPORT_ROW(U64, "b", ", b %s", C(b)),
		REPORT_END_ROW,
		REPORT_GROUP_ROW("check", REPORT_TEXT_IF, C(checked)),
		REPORT_ROW(U64, "c", "checked: c %s", C(c)),
		REPORT_ROW(U64, "hidden", NULL, C(x)),
		REPORT_END_ROW,
		REPORT_GROUP_ROW("extra", REPORT_IF, C(present)),
		REPORT_ROW(U64, "x", "extra: %s", C(x)),
		REPORT_ROW(U64, NULL, " (text only %s)", C(a)),
		REPORT_END_ROW,
	};
	struct counters v = { 0, 0, 7, false, false, 9 };

	/* all zero, not checked, not present: no text at all; JSON has all
	 * but the absent block */
	CHECK(false, rows, &v, "");
	CHECK(true, rows, &v, "{\"a\": 0, \"b\": 0, \"check\": {\"c\": 7, \"hidden\": 9}}\n");
	v.b = 2;
	v.checked = true;
	v.present = true;
	CHECK(false, rows, &v, "a 0, b 2\nchecked: c 7\nextra: 9 (text only 0)\n");
	CHECK(true, rows, &v,
	      "{\"a\": 0, \"b\": 2, \"check\": {\"c\": 7, \"hidden\": 9}, \"extra\": {\"x\": 9}}\n");
}
END_TEST

struct file {
	const char *path;
	uint64_t off;
};

struct source {
	const char *name;
	uint64_t lines;
	bool has_files, has_cursor;
	struct file *files;
	size_t nfiles;
	const char *cursor;
};

struct kind {
	const char *name;
	uint64_t n, max;
};

struct top {
	struct kind *kinds;
	size_t nkinds;
	struct source *sources;
	size_t nsources;
};

#define T(m) offsetof(struct top, m)
#define K(m) offsetof(struct kind, m)
#define S(m) offsetof(struct source, m)
#define F(m) offsetof(struct file, m)

static const struct report_row nested_rows[] = {
	{ .kind = REPORT_MAP, .key = "kinds", .text = "kinds:", .off = T(kinds), .flags = REPORT_INLINE,
	  .count = T(nkinds), .size = sizeof(struct kind), .sep = "," },
	{ .kind = REPORT_STR, .text = " %s", .off = K(name), .flags = REPORT_NAME },
	REPORT_ROW(U64, "n", " %s", K(n)),
	REPORT_ROW(U64, "max", " (max %s)", K(max)),
	REPORT_END_ROW,
	{ .kind = REPORT_MAP, .key = "counts", .text = "counts:", .off = T(kinds),
	  .flags = REPORT_INLINE | REPORT_SCALAR, .count = T(nkinds), .size = sizeof(struct kind) },
	{ .kind = REPORT_STR, .text = " %s", .off = K(name), .flags = REPORT_NAME },
	REPORT_ROW(U64, "n", "=%s", K(n)),
	REPORT_END_ROW,
	{ .kind = REPORT_LIST, .key = "sources", .text = "sources:", .off = T(sources), .count = T(nsources),
	  .size = sizeof(struct source) },
	/* a list element's name: the same in text and JSON, its name in report_walk's path */
	{ .kind = REPORT_STR, .key = "name", .text = "  %s", .off = S(name), .flags = REPORT_NAME },
	REPORT_ROW(U64, "lines", ": %s lines", S(lines)),
	{ .kind = REPORT_LIST, .key = "files", .off = S(files), .flags = REPORT_IF, .cond = S(has_files),
	  .count = S(nfiles), .size = sizeof(struct file) },
	{ .kind = REPORT_STR, .key = "path", .text = "    %s", .off = F(path), .flags = REPORT_NAME },
	REPORT_ROW(U64, "offset", " at %s", F(off)),
	REPORT_END_ROW,
	REPORT_GROUP_ROW(NULL, REPORT_IF, S(has_cursor)),
	{ .kind = REPORT_STR, .key = "cursor", .text = "    cursor %s", .off = S(cursor), .none = "(none)" },
	REPORT_END_ROW,
	REPORT_END_ROW,
};

START_TEST(lists_and_maps_nest)
{
	struct file files[] = { { "/var/log/mail.log", 10 }, { "/var/log/mail.log.1", 20 } };
	struct kind kinds[] = { { "keys", 1, 100 }, { "accounts", 2, 200 } };
	struct source sources[] = {
		{ "mail", 5, true, false, files, 2, NULL },
		{ "journal", 6, false, true, NULL, 0, NULL },
		{ "empty", 0, true, false, NULL, 0, NULL },
	};
	struct top v = { kinds, 2, sources, 3 };
	struct top none = { kinds, 0, sources, 0 };

	CHECK(false, nested_rows, &v,
	      "kinds: keys 1 (max 100), accounts 2 (max 200)\n"
	      "counts: keys=1 accounts=2\n"
	      "sources:\n"
	      "  mail: 5 lines\n"
	      "    /var/log/mail.log at 10\n"
	      "    /var/log/mail.log.1 at 20\n"
	      "  journal: 6 lines\n"
	      "    cursor (none)\n"
	      "  empty: 0 lines\n");
	CHECK(true, nested_rows, &v,
	      "{\"kinds\": {\"keys\": {\"n\": 1, \"max\": 100}, \"accounts\": {\"n\": 2, \"max\": 200}}, "
	      "\"counts\": {\"keys\": 1, \"accounts\": 2}, "
	      "\"sources\": [{\"name\": \"mail\", \"lines\": 5, \"files\": [{\"path\": \"/var/log/mail.log\", "
	      "\"offset\": 10}, {\"path\": \"/var/log/mail.log.1\", \"offset\": 20}]}, "
	      "{\"name\": \"journal\", \"lines\": 6, \"cursor\": \"\"}, "
	      "{\"name\": \"empty\", \"lines\": 0, \"files\": []}]}\n");
	/* empty lists and maps: their heads, and empty JSON containers */
	CHECK(false, nested_rows, &none, "kinds:\ncounts:\nsources:\n");
	CHECK(true, nested_rows, &none, "{\"kinds\": {}, \"counts\": {}, \"sources\": []}\n");
}
END_TEST

/* report_walk: "path/to/key=value" for each number, one a line */
static void walk_line(void *arg, const char *const *path, size_t depth, const struct report_row *r, const void *rec)
{
	FILE *fp = arg;
	double v;

	if (!report_number(r, rec, &v))
		return;
	for (size_t i = 0; i < depth; i++)
		fprintf(fp, "%s%s", i ? "/" : "", path[i]);
	fprintf(fp, "=%g\n", v);
}

START_TEST(walk_gives_each_number_with_its_path)
{
	struct file files[] = { { "/var/log/mail.log", 10 }, { "/var/log/mail.log.1", 20 } };
	struct kind kinds[] = { { "keys", 1, 100 }, { "accounts", 2, 200 } };
	struct source sources[] = {
		{ "mail", 5, true, false, files, 2, NULL },
		{ "journal", 6, false, true, NULL, 0, NULL },
	};
	struct top v = { kinds, 2, sources, 2 };
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(fp);
	report_walk(nested_rows, sizeof nested_rows / sizeof nested_rows[0], &v, walk_line, fp);
	ck_assert_int_eq(fclose(fp), 0);
	ck_assert_str_eq(buf,
			 "kinds/keys/n=1\nkinds/keys/max=100\nkinds/accounts/n=2\nkinds/accounts/max=200\n"
			 "counts/keys/n=1\ncounts/accounts/n=2\n"
			 "sources/mail/lines=5\nsources/mail/files//var/log/mail.log/offset=10\n"
			 "sources/mail/files//var/log/mail.log.1/offset=20\n"
			 "sources/journal/lines=6\n");
	free(buf);
}
END_TEST

struct moment {
	int64_t at, never;
	bool utc;
};

static const struct report_row time_rows[] = {
	REPORT_GROUP_ROW(NULL, 0, 0),
	{ .kind = REPORT_TIME, .key = "at", .text = "at %s", .off = offsetof(struct moment, at),
	  .cond = offsetof(struct moment, utc) },
	{ .kind = REPORT_TIME, .key = "never", .text = ", until %s", .off = offsetof(struct moment, never),
	  .cond = offsetof(struct moment, utc), .none = "permanent" },
	REPORT_END_ROW,
};

START_TEST(times_are_local_or_utc_in_text_and_iso_in_json)
{
	struct moment m = { 1796648591, REPORT_NO_TIME, false };      /* 2026-12-07 13:03:11 UTC */

	setenv("TZ", "XST-05:30", 1);
	tzset();
	CHECK(false, time_rows, &m, "at 2026-12-07 18:33:11 +0530, until permanent\n");
	m.utc = true;
	CHECK(false, time_rows, &m, "at 2026-12-07 13:03:11 UTC, until permanent\n");
	CHECK(true, time_rows, &m, "{\"at\": \"2026-12-07T13:03:11Z\", \"never\": null}\n");
	unsetenv("TZ");
	tzset();
}
END_TEST

int main(void)
{
	TCase *tc = tcase_create("report");

	tcase_add_test(tc, times_are_local_or_utc_in_text_and_iso_in_json);

	tcase_add_test(tc, each_kind_of_value_in_text_and_json);
	tcase_add_test(tc, conditional_lines_and_blocks);
	tcase_add_test(tc, lists_and_maps_nest);
	tcase_add_test(tc, walk_gives_each_number_with_its_path);
	return ut_run("report", tc);
}
