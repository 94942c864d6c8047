// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests for window.c: the exact sliding window, bounds and expiry. */
#include "window.h"

#include "unit.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#define MIN 60000ULL

static uint32_t hit(struct wtable *w, const char *key, uint64_t t, bool *reached)
{
	return window_hit(w, key, 1, t, 1, reached);
}

START_TEST(limit_events_within_window_reach_the_limit)
{
	struct wtable *w = window_new(5, 10 * MIN, 100);
	bool r;

	for (int i = 0; i < 4; i++) {
		ck_assert_uint_eq(hit(w, "a", (uint64_t)i * MIN, &r), (uint32_t)i + 1);
		ck_assert(!r);
	}
	ck_assert_uint_eq(hit(w, "a", 9 * MIN, &r), 5);
	ck_assert(r);
	window_free(w);
}
END_TEST

START_TEST(window_slides_exactly_not_in_buckets)
{
	struct wtable *w = window_new(3, 10 * MIN, 100);
	bool r;

	/* t=0, 6m, 11m: the first has left the window at 11m (11m - 0 > 10m) */
	hit(w, "a", 0, &r);
	hit(w, "a", 6 * MIN, &r);
	ck_assert_uint_eq(hit(w, "a", 11 * MIN, &r), 2);
	ck_assert(!r);
	/* 6m, 11m, 16m: all within 10m of 16m */
	ck_assert_uint_eq(hit(w, "a", 16 * MIN, &r), 3);
	ck_assert(r);
	window_free(w);
}
END_TEST

START_TEST(window_edge_is_inclusive)
{
	struct wtable *w = window_new(2, 10 * MIN, 100);
	bool r;

	hit(w, "a", 0, &r);
	hit(w, "a", 10 * MIN, &r);
	ck_assert(r);
	window_forget(w, "a", 1);
	hit(w, "a", 0, &r);
	hit(w, "a", 10 * MIN + 1, &r);
	ck_assert(!r);
	window_free(w);
}
END_TEST

START_TEST(keys_are_counted_separately)
{
	struct wtable *w = window_new(2, MIN, 100);
	bool r;

	hit(w, "a", 0, &r);
	hit(w, "b", 1, &r);
	ck_assert(!r);
	hit(w, "a", 2, &r);
	ck_assert(r);
	ck_assert_uint_eq(window_size(w), 2);
	window_free(w);
}
END_TEST

START_TEST(count_adds_several_events_at_once)
{
	struct wtable *w = window_new(5, MIN, 100);
	bool r;

	ck_assert_uint_eq(window_hit(w, "a", 1, 0, 3, &r), 3);
	ck_assert(!r);
	ck_assert_uint_eq(window_hit(w, "a", 1, 1, 1000, &r), 5);
	ck_assert(r);
	window_free(w);
}
END_TEST

START_TEST(forget_starts_the_count_again)
{
	struct wtable *w = window_new(2, MIN, 100);
	bool r;

	hit(w, "a", 0, &r);
	hit(w, "a", 1, &r);
	ck_assert(r);
	window_forget(w, "a", 1);
	ck_assert_uint_eq(hit(w, "a", 2, &r), 1);
	ck_assert(!r);
	window_free(w);
}
END_TEST

START_TEST(max_keys_evicts_least_recently_seen)
{
	struct wtable *w = window_new(2, MIN, 3);
	bool r;

	hit(w, "a", 0, &r);
	hit(w, "b", 1, &r);
	hit(w, "c", 2, &r);
	hit(w, "a", 3, &r);     /* a is now the most recent; b the least */
	hit(w, "d", 4, &r);     /* evicts b */
	ck_assert_uint_eq(window_size(w), 3);
	ck_assert_uint_eq(window_evictions(w), 1);
	ck_assert_uint_eq(hit(w, "b", 5, &r), 1);       /* b starts over */
	ck_assert_uint_eq(hit(w, "a", 6, &r), 2);       /* a kept its count... */
	ck_assert(r);
	window_free(w);
}
END_TEST

START_TEST(expire_drops_idle_keys_only)
{
	struct wtable *w = window_new(5, 10 * MIN, 100);
	bool r;

	hit(w, "a", 0, &r);
	hit(w, "b", 5 * MIN, &r);
	ck_assert_uint_eq(window_expire(w, 12 * MIN), 1);
	ck_assert_uint_eq(window_size(w), 1);
	ck_assert_uint_eq(hit(w, "b", 12 * MIN, &r), 2);
	window_free(w);
}
END_TEST

START_TEST(reconfigure_keeps_counts)
{
	struct wtable *w = window_new(5, 10 * MIN, 100);
	bool r;

	hit(w, "a", 0, &r);
	hit(w, "a", 1, &r);
	window_reconfigure(w, 3, 10 * MIN, 100);
	ck_assert_uint_eq(hit(w, "a", 2, &r), 3);
	ck_assert(r);
	window_free(w);
}
END_TEST

START_TEST(out_of_order_times_do_not_break_the_ring)
{
	struct wtable *w = window_new(3, MIN, 100);
	bool r;

	hit(w, "a", 50000, &r);
	hit(w, "a", 40000, &r);
	ck_assert_uint_eq(hit(w, "a", 60000, &r), 3);
	ck_assert(r);
	window_free(w);
}
END_TEST

START_TEST(many_keys_stay_bounded)
{
	struct wtable *w = window_new(5, MIN, 10000);
	bool r;

	for (uint32_t i = 0; i < 100000; i++)
		window_hit(w, &i, sizeof i, i, 1, &r);
	ck_assert_uint_eq(window_size(w), 10000);
	ck_assert_uint_eq(window_evictions(w), 90000);
	window_free(w);
}
END_TEST

static uint64_t dumped[64];

static void dump_c(void *arg, const void *key, size_t klen, const uint64_t *times, uint32_t n)
{
	if (klen == 1 && *(const char *)key == 'c') {
		memcpy(dumped, times, n * sizeof *times);
		*(uint32_t *)arg = n;
	}
}

START_TEST(rings_grow_with_the_events_and_count_exactly)
{
	struct wtable *w = window_new(30, MIN, 100);
	uint32_t n = 0;
	bool r;

	/* one by one across every size the ring takes on the way to 30 */
	for (uint32_t i = 1; i < 30; i++) {
		ck_assert_uint_eq(hit(w, "a", i, &r), i);
		ck_assert(!r);
	}
	ck_assert_uint_eq(hit(w, "a", 30, &r), 30);
	ck_assert(r);
	/* a full ring slides: the oldest leaves the window */
	ck_assert_uint_eq(hit(w, "a", 3 + MIN, &r), 29);     /* 1 and 2 are out */
	/* several at once from a new key */
	ck_assert_uint_eq(window_hit(w, "b", 1, 5, 7, &r), 7);
	ck_assert_uint_eq(window_hit(w, "b", 1, 6, 40, &r), 30);
	ck_assert(r);
	/* a larger limit lets the ring grow on, a smaller one keeps the newest */
	window_hit(w, "c", 1, 1, 1, &r);
	window_hit(w, "c", 1, 2, 1, &r);
	window_hit(w, "c", 1, 3, 1, &r);
	window_hit(w, "c", 1, 4, 1, &r);
	window_reconfigure(w, 40, MIN, 100);
	ck_assert_uint_eq(window_hit(w, "c", 1, 5, 1, &r), 5);
	ck_assert_uint_eq(window_hit(w, "b", 1, 7, 1, &r), 31);
	window_reconfigure(w, 3, MIN, 100);
	ck_assert_uint_eq(window_count(w, "c", 1, 5), 3);
	ck_assert_uint_eq(window_hit(w, "c", 1, 6, 1, &r), 3);
	ck_assert(r);
	window_reconfigure(w, 8, MIN, 100);
	ck_assert_uint_eq(window_hit(w, "c", 1, 7, 1, &r), 4);
	window_dump(w, dump_c, &n);
	ck_assert_uint_eq(n, 4);
	for (uint32_t i = 0; i < n; i++)
		ck_assert_uint_eq(dumped[i], 4 + i);
	window_free(w);
}
END_TEST

int main(void)
{
	TCase *tc = tcase_create("window");

	tcase_add_test(tc, limit_events_within_window_reach_the_limit);
	tcase_add_test(tc, window_slides_exactly_not_in_buckets);
	tcase_add_test(tc, window_edge_is_inclusive);
	tcase_add_test(tc, keys_are_counted_separately);
	tcase_add_test(tc, count_adds_several_events_at_once);
	tcase_add_test(tc, forget_starts_the_count_again);
	tcase_add_test(tc, max_keys_evicts_least_recently_seen);
	tcase_add_test(tc, expire_drops_idle_keys_only);
	tcase_add_test(tc, reconfigure_keeps_counts);
	tcase_add_test(tc, out_of_order_times_do_not_break_the_ring);
	tcase_add_test(tc, many_keys_stay_bounded);
	tcase_add_test(tc, rings_grow_with_the_events_and_count_exactly);
	return ut_run("window", tc);
}
