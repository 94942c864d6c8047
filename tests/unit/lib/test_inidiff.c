// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests for inidiff.c: a changed limit, keys added and removed,
 * sections added and removed, a change made by a local override, and no
 * difference where the value in force is the same. */
#include "inidiff.h"
#include "inilayer.h"

#include "unit.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

struct seen {
	char buf[2048];
	size_t n;
};

static void collect(void *arg, const struct inidiff_change *c)
{
	struct seen *s = arg;

	switch (c->kind) {
	case INIDIFF_SECTION_ADDED:
		s->n += (size_t)snprintf(s->buf + s->n, sizeof s->buf - s->n, "+[%s]@%s:%d\n", c->section, c->file,
					 c->line);
		break;
	case INIDIFF_SECTION_REMOVED:
		s->n += (size_t)snprintf(s->buf + s->n, sizeof s->buf - s->n, "-[%s]\n", c->section);
		break;
	case INIDIFF_KEY:
		s->n += (size_t)snprintf(s->buf + s->n, sizeof s->buf - s->n, "[%s] %s: %s -> %s @%s:%d\n", c->section,
					 c->key, c->old_value ? c->old_value : "(none)",
					 c->new_value ? c->new_value : "(none)", c->file, c->line);
		break;
	}
}

static struct inilayer *layer(const char *base, const char *over)
{
	struct inilayer *d = inilayer_new();
	char err[1024];

	ck_assert_int_eq(inilayer_add_string(d, "auth.conf", base, NULL, false, err, sizeof err), 0);
	if (over)
		ck_assert_int_eq(inilayer_add_string(d, "auth.local", over, "auth", true, err, sizeof err), 0);
	return d;
}

static const char *diff(const char *b1, const char *o1, const char *b2, const char *o2, size_t *n)
{
	static struct seen s;
	struct inilayer *a = layer(b1, o1), *b = layer(b2, o2);

	memset(&s, 0, sizeof s);
	*n = inidiff(a, b, collect, &s);
	inilayer_free(a);
	inilayer_free(b);
	return s.buf;
}

START_TEST(test_limit_changed)
{
	size_t n;
	const char *out = diff("[auth-ip]\nlimit = 5\nwindow = 10m\n", NULL, "[auth-ip]\nlimit = 3\nwindow = 10m\n",
			       NULL, &n);

	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(out, "[auth-ip] limit: 5 -> 3 @auth.conf:2\n");
}
END_TEST

START_TEST(test_same_is_no_change)
{
	size_t n;
	const char *out = diff("[a]\nx = 1\n[b]\ny = 2\n", NULL, "[a]\nx = 1\n[b]\ny = 2\n", NULL, &n);

	ck_assert_uint_eq(n, 0);
	ck_assert_str_eq(out, "");
	/* the same value, now from an override: no change in force */
	out = diff("[a]\nx = 1\n", NULL, "[a]\nx = 2\n", "[a]\nx = 1\n", &n);
	ck_assert_uint_eq(n, 0);
}
END_TEST

START_TEST(test_keys_and_sections)
{
	size_t n;
	const char *out = diff("[a]\nx = 1\ny = 2\n[gone]\nz = 1\n", NULL, "[a]\nx = 1\nw = 4\n[new]\nz = 1\n", NULL,
			       &n);

	ck_assert_uint_eq(n, 4);
	ck_assert_str_eq(out, "[a] w: (none) -> 4 @auth.conf:3\n"
			 "[a] y: 2 -> (none) @auth.conf:3\n"
			 "+[new]@auth.conf:4\n"
			 "-[gone]\n");
}
END_TEST

START_TEST(test_override_origin)
{
	size_t n;
	const char *out = diff("[auth-ip]\nlimit = 5\n", NULL, "[auth-ip]\nlimit = 5\n", "[auth-ip]\nlimit = 2\n", &n);

	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(out, "[auth-ip] limit: 5 -> 2 @auth.local:2\n");
}
END_TEST

START_TEST(test_multiline_value)
{
	size_t n;
	const char *out = diff("[f]\nregex = ^a\nregex = ^b\n", NULL, "[f]\nregex = ^a\nregex = ^c\n", NULL, &n);

	ck_assert_uint_eq(n, 1);
	ck_assert_str_eq(out, "[f] regex: ^a\n^b -> ^a\n^c @auth.conf:3\n");
}
END_TEST

START_TEST(test_no_file)
{
	struct inilayer *a = layer("[a]\nx = 1\n", NULL);
	struct seen s = { .n = 0 };

	ck_assert_uint_eq(inidiff(NULL, a, collect, &s), 1);
	ck_assert_str_eq(s.buf, "+[a]@auth.conf:1\n");
	s.n = 0;
	ck_assert_uint_eq(inidiff(a, NULL, collect, &s), 1);
	ck_assert_str_eq(s.buf, "-[a]\n");
	inilayer_free(a);
}
END_TEST

int main(void)
{
	TCase *tc = tcase_create("inidiff");

	tcase_add_test(tc, test_limit_changed);
	tcase_add_test(tc, test_same_is_no_change);
	tcase_add_test(tc, test_keys_and_sections);
	tcase_add_test(tc, test_override_origin);
	tcase_add_test(tc, test_multiline_value);
	tcase_add_test(tc, test_no_file);
	return ut_run("inidiff", tc);
}
