// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests for history.c: the ring of ended blocks keeps the newest max
 * entries in order, a smaller bound drops the oldest, 0 keeps nothing;
 * what 'history WHO' matches: an address and the ranges covering it, a
 * range and what lies in it, an account in any case, never across
 * families or kinds.
 */
#include "history.h"

#include "unit.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

static struct cidr cidr(const char *text)
{
	struct cidr c;
	char err[128];

	ck_assert_int_eq(cidr_parse(text, &c, err, sizeof err), 0);
	return c;
}

static void add(struct history *h, uint64_t n)
{
	struct history_entry e = { .start_ms = n, .end_ms = n + 1 };

	snprintf(e.how, sizeof e.how, "expired");
	history_add(h, &e);
}

START_TEST(the_ring_keeps_the_newest_in_order)
{
	struct history *h = history_new(3);

	ck_assert_uint_eq(history_count(h), 0);
	ck_assert_ptr_null(history_get(h, 0));
	for (uint64_t i = 1; i <= 5; i++)
		add(h, i);
	ck_assert_uint_eq(history_count(h), 3);
	for (size_t i = 0; i < 3; i++)
		ck_assert_uint_eq(history_get(h, i)->start_ms, 3 + i);
	ck_assert_ptr_null(history_get(h, 3));
	/* a smaller bound keeps the newest; a larger one keeps them all */
	history_set_max(h, 2);
	ck_assert_uint_eq(history_count(h), 2);
	ck_assert_uint_eq(history_get(h, 0)->start_ms, 4);
	ck_assert_uint_eq(history_get(h, 1)->start_ms, 5);
	history_set_max(h, 10);
	add(h, 6);
	ck_assert_uint_eq(history_count(h), 3);
	ck_assert_uint_eq(history_get(h, 2)->start_ms, 6);
	ck_assert_str_eq(history_get(h, 2)->how, "expired");
	history_set_max(h, 0);
	add(h, 7);
	ck_assert_uint_eq(history_count(h), 0);
	history_free(h);
}
END_TEST

START_TEST(a_query_matches_overlapping_blocks_and_accounts)
{
	struct history_query all = { .what = HQ_ALL };
	struct history_query addr = { .what = HQ_TARGET, .target = cidr("203.0.113.5") };
	struct history_query range = { .what = HQ_TARGET, .target = cidr("203.0.113.0/24") };
	struct history_query v6 = { .what = HQ_TARGET, .target = cidr("2001:db8:1:2::7") };
	struct history_query acct = { .what = HQ_ACCOUNT, .user = "Bob@Example.org" };
	struct cidr a5 = cidr("203.0.113.5"), a6 = cidr("203.0.113.6"), r16 = cidr("203.0.0.0/16");
	struct cidr r24 = cidr("203.0.113.0/24"), other = cidr("198.51.100.5"), n64 = cidr("2001:db8:1:2::/64");

	ck_assert(history_match(&all, false, &other, NULL));
	ck_assert(history_match(&all, true, NULL, "x"));
	/* an address: its own block and the ranges covering it */
	ck_assert(history_match(&addr, false, &a5, NULL));
	ck_assert(history_match(&addr, false, &r24, NULL));
	ck_assert(history_match(&addr, false, &r16, NULL));
	ck_assert(!history_match(&addr, false, &a6, NULL));
	ck_assert(!history_match(&addr, false, &other, NULL));
	ck_assert(!history_match(&addr, true, NULL, "203.0.113.5"));
	/* a range: what lies in it and what covers it */
	ck_assert(history_match(&range, false, &a5, NULL));
	ck_assert(history_match(&range, false, &a6, NULL));
	ck_assert(history_match(&range, false, &r16, NULL));
	ck_assert(!history_match(&range, false, &other, NULL));
	/* families */
	ck_assert(history_match(&v6, false, &n64, NULL));
	ck_assert(!history_match(&v6, false, &a5, NULL));
	ck_assert(!history_match(&range, false, &n64, NULL));
	/* an account, in any case; never an address */
	ck_assert(history_match(&acct, true, NULL, "bob@example.org"));
	ck_assert(!history_match(&acct, true, NULL, "bob@example.net"));
	ck_assert(!history_match(&acct, false, &a5, NULL));
}
END_TEST

int main(void)
{
	TCase *tc = tcase_create("history");

	tcase_add_test(tc, the_ring_keeps_the_newest_in_order);
	tcase_add_test(tc, a_query_matches_overlapping_blocks_and_accounts);
	return ut_run("history", tc);
}
