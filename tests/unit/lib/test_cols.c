// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests for cols.c and timefmt.c, the listings' two pieces: columns
 * as wide as their widest cell (an IPv6 range, a long origin), bounded,
 * numbers aligned right, the last column never padded, UTF-8 counted in
 * characters; and moments with their date and zone, local (with the
 * offset of the zone in force then, summer time included), UTC and ISO
 * 8601.
 */
#include "cols.h"
#include "timefmt.h"

#include "unit.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static char *render(const struct cols *t)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(fp);
	cols_write(t, fp);
	ck_assert_int_eq(fclose(fp), 0);
	return buf;
}

START_TEST(columns_are_as_wide_as_their_widest_cell)
{
	struct cols t;
	char *got;

	cols_init(&t, 4, (const char *const[]){ "BLOCK", "DROPPED", "ORIGIN", "REASON" },
		  (const unsigned[]){ 0, COLS_RIGHT, 0, 0 });
	cols_add(&t, (const char *const[]){ "203.0.113.5", "7", "auth-ip", "5 auth-fail within 10m" });
	cols_add(&t, (const char *const[]){ "2001:db8:1234:5678::/64", "12345678", "manual", NULL });
	got = render(&t);
	ck_assert_str_eq(got,
			 "BLOCK                     DROPPED  ORIGIN   REASON\n"
			 "203.0.113.5                     7  auth-ip  5 auth-fail within 10m\n"
			 "2001:db8:1234:5678::/64  12345678  manual   \n");
	free(got);
	cols_release(&t);
}
END_TEST

START_TEST(a_cell_past_the_bound_pushes_only_its_own_line)
{
	struct cols t;
	char long_origin[COLS_MAX_WIDTH + 11], *got, *second, *third;

	memset(long_origin, 'o', sizeof long_origin - 1);
	long_origin[sizeof long_origin - 1] = '\0';
	cols_init(&t, 3, (const char *const[]){ "A", "ORIGIN", "Z" }, NULL);
	cols_add(&t, (const char *const[]){ "x", long_origin, "z" });
	cols_add(&t, (const char *const[]){ "y", "short", "z" });
	got = render(&t);
	second = strchr(got, '\n') + 1;
	third = strchr(second, '\n') + 1;
	/* the column is COLS_MAX_WIDTH wide: the long cell overflows it */
	ck_assert_uint_eq((size_t)(strchr(third, 'z') - third), 1 + 2 + COLS_MAX_WIDTH + 2);
	ck_assert_uint_eq((size_t)(strchr(second, 'z') - second), 1 + 2 + strlen(long_origin) + 2);
	free(got);
	cols_release(&t);
}
END_TEST

START_TEST(utf8_text_is_counted_in_characters)
{
	struct cols t;
	char *got;

	cols_init(&t, 2, (const char *const[]){ "WHO", "X" }, NULL);
	cols_add(&t, (const char *const[]){ "zo\xc3\xab", "1" });
	cols_add(&t, (const char *const[]){ "abcd", "2" });
	got = render(&t);
	ck_assert_str_eq(got, "WHO   X\nzo\xc3\xab   1\nabcd  2\n");
	free(got);
	cols_release(&t);
}
END_TEST

START_TEST(moments_carry_their_date_and_zone)
{
	char buf[TIMEFMT_LEN];

	/* 2026-12-07 13:03:11 UTC */
	timefmt_format(1796648591, true, buf);
	ck_assert_str_eq(buf, "2026-12-07 13:03:11 UTC");
	timefmt_iso(1796648591, buf);
	ck_assert_str_eq(buf, "2026-12-07T13:03:11Z");
	setenv("TZ", "XST-05:30", 1);
	tzset();
	timefmt_format(1796648591, false, buf);
	ck_assert_str_eq(buf, "2026-12-07 18:33:11 +0530");
	/* summer time: the offset of the day itself */
	setenv("TZ", "CET-1CEST,M3.5.0,M10.5.0/3", 1);
	tzset();
	timefmt_format(1796648591, false, buf);
	ck_assert_str_eq(buf, "2026-12-07 14:03:11 +0100");
	timefmt_format(1783429391, false, buf);         /* 2026-07-07 13:03:11 UTC */
	ck_assert_str_eq(buf, "2026-07-07 15:03:11 +0200");
	/* --utc is UTC whatever the zone */
	timefmt_format(1783429391, true, buf);
	ck_assert_str_eq(buf, "2026-07-07 13:03:11 UTC");
	unsetenv("TZ");
	tzset();
}
END_TEST

int main(void)
{
	TCase *tc = tcase_create("cols");

	tcase_add_test(tc, columns_are_as_wide_as_their_widest_cell);
	tcase_add_test(tc, a_cell_past_the_bound_pushes_only_its_own_line);
	tcase_add_test(tc, utf8_text_is_counted_in_characters);
	tcase_add_test(tc, moments_carry_their_date_and_zone);
	return ut_run("cols", tc);
}
