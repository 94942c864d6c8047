// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests for ratelimit.c: at most limit lines a second, the rest
 * counted and handed back once when a later second begins, by the next
 * line or by a flush. */
#include "ratelimit.h"

#include "unit.h"

#include <check.h>

START_TEST(test_budget_per_second)
{
	struct ratelimit r = { .limit = 3 };
	uint64_t rep, given = 0;

	for (int i = 0; i < 1000; i++) {
		given += ratelimit_take(&r, 5000 + (uint64_t)i / 2, &rep);
		ck_assert_uint_eq(rep, 0);
	}
	ck_assert_uint_eq(given, 3);
	ck_assert_uint_eq(r.suppressed, 997);
	/* the next second: the count is handed back once, and lines flow again */
	ck_assert(ratelimit_take(&r, 6000, &rep));
	ck_assert_uint_eq(rep, 997);
	ck_assert(ratelimit_take(&r, 6001, &rep));
	ck_assert_uint_eq(rep, 0);
	ck_assert_uint_eq(r.total_suppressed, 997);
}
END_TEST

START_TEST(test_flush)
{
	struct ratelimit r = { .limit = 1 };
	uint64_t rep;

	ck_assert(ratelimit_take(&r, 1000, &rep));
	ck_assert(!ratelimit_take(&r, 1500, &rep));
	ck_assert(!ratelimit_take(&r, 1999, &rep));
	ck_assert_uint_eq(ratelimit_flush(&r, 1999), 0);        /* the second is not over */
	ck_assert_uint_eq(ratelimit_flush(&r, 2000), 2);
	ck_assert_uint_eq(ratelimit_flush(&r, 3000), 0);        /* said once */
}
END_TEST

int main(void)
{
	TCase *tc = tcase_create("ratelimit");

	tcase_add_test(tc, test_budget_per_second);
	tcase_add_test(tc, test_flush);
	return ut_run("ratelimit", tc);
}
