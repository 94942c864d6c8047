// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests for expo.c, the Prometheus text exposition writer: label
 * values escaped (backslash, double quote, newline; bytes that are not
 * UTF-8 replaced) and help texts too; HELP and TYPE once per family, its
 * samples together however the series were added; a series added twice
 * is one series (summed or replaced), never two; families without a
 * series are left out; numbers as integers, fractions and NaN/Inf.
 */
#include "expo.h"

#include "unit.h"

#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char *render(const struct expo *e)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(fp);
	expo_write(e, fp);
	ck_assert_int_eq(fclose(fp), 0);
	return buf;
}

#define L(...) ((const char *const[]){ __VA_ARGS__, NULL })

START_TEST(label_values_and_help_are_escaped)
{
	struct expo e;
	char *got;

	expo_init(&e);
	expo_family(&e, "t_lines_total", EXPO_COUNTER, "lines read\\ by \"source\"\nsecond line");
	expo_add(&e, "t_lines_total", L("source", "a\\b\"c\nd"), 3);
	expo_add(&e, "t_lines_total", L("source", "caf\xc3\xa9 \xff\xfe end"), 1);
	got = render(&e);
	ck_assert_str_eq(got,
			 "# HELP t_lines_total lines read\\\\ by \"source\"\\nsecond line\n"
			 "# TYPE t_lines_total counter\n"
			 "t_lines_total{source=\"a\\\\b\\\"c\\nd\"} 3\n"
			 "t_lines_total{source=\"caf\xc3\xa9 ?? end\"} 1\n");
	free(got);
	expo_release(&e);
}
END_TEST

START_TEST(each_family_once_with_its_samples_together)
{
	struct expo e;
	char *got;

	expo_init(&e);
	expo_family(&e, "t_a", EXPO_GAUGE, "a");
	expo_family(&e, "t_b_total", EXPO_COUNTER, "b");
	expo_family(&e, "t_empty", EXPO_GAUGE, "no series: not written");
	expo_set(&e, "t_a", L("rule", "r1"), 1);
	expo_add(&e, "t_b_total", NULL, 2);
	expo_family(&e, "t_a", EXPO_GAUGE, "a again: the same family");
	expo_set(&e, "t_a", L("rule", "r2"), 2);
	expo_add(&e, "t_b_total", NULL, 5);             /* the same series: summed */
	expo_set(&e, "t_a", L("rule", "r1"), 7);        /* replaced */
	expo_add(&e, "t_a", L("rule", "r2", "kind", "account"), 0.5);
	got = render(&e);
	ck_assert_str_eq(got,
			 "# HELP t_a a\n# TYPE t_a gauge\n"
			 "t_a{rule=\"r1\"} 7\n"
			 "t_a{rule=\"r2\"} 2\n"
			 "t_a{rule=\"r2\",kind=\"account\"} 0.5\n"
			 "# HELP t_b_total b\n# TYPE t_b_total counter\n"
			 "t_b_total 7\n");
	free(got);
	expo_release(&e);
}
END_TEST

START_TEST(numbers)
{
	struct expo e;
	char *got;

	expo_init(&e);
	expo_family(&e, "t_n", EXPO_GAUGE, "n");
	expo_set(&e, "t_n", L("v", "big"), 18446744073709551615.0);
	expo_set(&e, "t_n", L("v", "neg"), -3);
	expo_set(&e, "t_n", L("v", "nan"), NAN);
	expo_set(&e, "t_n", L("v", "inf"), INFINITY);
	expo_set(&e, "t_n", L("v", "frac"), 0.25);
	got = render(&e);
	ck_assert_str_eq(got,
			 "# HELP t_n n\n# TYPE t_n gauge\n"
			 "t_n{v=\"big\"} 1.8446744073709552e+19\n"
			 "t_n{v=\"neg\"} -3\n"
			 "t_n{v=\"nan\"} NaN\n"
			 "t_n{v=\"inf\"} +Inf\n"
			 "t_n{v=\"frac\"} 0.25\n");
	free(got);
	expo_release(&e);
}
END_TEST

START_TEST(names)
{
	ck_assert(expo_name_ok("mailscreen_lines_total", false));
	ck_assert(expo_name_ok("a:b", false));
	ck_assert(!expo_name_ok("a:b", true));
	ck_assert(!expo_name_ok("1a", false));
	ck_assert(!expo_name_ok("a-b", true));
	ck_assert(!expo_name_ok("", true));
}
END_TEST

int main(void)
{
	TCase *tc = tcase_create("expo");

	tcase_add_test(tc, label_values_and_help_are_escaped);
	tcase_add_test(tc, each_family_once_with_its_samples_together);
	tcase_add_test(tc, numbers);
	tcase_add_test(tc, names);
	return ut_run("expo", tc);
}
