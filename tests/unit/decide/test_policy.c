// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests for policy.c: extend-or-block, the [repeat] durations and the
 * [prefix] escalation, one test per branch.
 */
#include "policy.h"
#include "duration.h"

#include "unit.h"

#include <check.h>
#include <string.h>

#define MIN 60000ULL
#define HOUR (60 * MIN)
#define DAY (24 * HOUR)
#define T0 (1000 * DAY)

static struct config cfg(void)
{
	struct config c;

	memset(&c, 0, sizeof c);
	c.repeat_factor = 2;
	c.repeat_max_ms = 7 * DAY;
	c.repeat_permanent_after = 0;
	c.repeat_memory_ms = 30 * DAY;
	c.prefix_enabled = 1;
	c.prefix_threshold = 3;
	c.prefix_v4 = 24;
	c.prefix_v6 = 48;
	c.prefix_block_ms = DAY;
	return c;
}

static struct cidr C(const char *s)
{
	struct cidr c;

	ck_assert_msg(cidr_parse(s, &c, NULL, 0) == 0, "bad cidr %s", s);
	return c;
}

static void add(struct blocks *b, const char *t, uint64_t now, uint64_t dur, const char *origin)
{
	struct cidr c = C(t);
	bool ext;

	blocks_add(b, &c, now, dur, origin, "test", &ext);
}

/* ---- repeat durations ---- */

START_TEST(first_block_lasts_the_rules_duration)
{
	struct config c = cfg();

	ck_assert_uint_eq(policy_repeat_duration(&c, HOUR, 1), HOUR);
}
END_TEST

START_TEST(each_repeat_lasts_factor_times_longer)
{
	struct config c = cfg();

	ck_assert_uint_eq(policy_repeat_duration(&c, HOUR, 2), 2 * HOUR);
	ck_assert_uint_eq(policy_repeat_duration(&c, HOUR, 3), 4 * HOUR);
	c.repeat_factor = 3;
	ck_assert_uint_eq(policy_repeat_duration(&c, HOUR, 3), 9 * HOUR);
}
END_TEST

START_TEST(repeats_stop_at_max)
{
	struct config c = cfg();

	ck_assert_uint_eq(policy_repeat_duration(&c, HOUR, 10), 7 * DAY);
	/* a factor that would overflow stops at max too */
	c.repeat_factor = 100;
	c.repeat_max_ms = DURATION_PERMANENT - 1;
	ck_assert_uint_eq(policy_repeat_duration(&c, DAY, 40), DURATION_PERMANENT - 1);
}
END_TEST

START_TEST(the_permanent_after_th_block_is_permanent)
{
	struct config c = cfg();

	c.repeat_permanent_after = 3;
	ck_assert_uint_eq(policy_repeat_duration(&c, HOUR, 2), 2 * HOUR);
	ck_assert_uint_eq(policy_repeat_duration(&c, HOUR, 3), DURATION_PERMANENT);
	ck_assert_uint_eq(policy_repeat_duration(&c, HOUR, 4), DURATION_PERMANENT);
}
END_TEST

START_TEST(a_permanent_rule_stays_permanent)
{
	struct config c = cfg();

	ck_assert_uint_eq(policy_repeat_duration(&c, DURATION_PERMANENT, 1), DURATION_PERMANENT);
	ck_assert_uint_eq(policy_repeat_duration(&c, DURATION_PERMANENT, 5), DURATION_PERMANENT);
}
END_TEST

/* ---- extend or block ---- */

START_TEST(new_blocks_count_up_the_history)
{
	struct config c = cfg();
	struct blocks *b = blocks_new(NULL);
	struct wtable *off = window_new(32, c.repeat_memory_ms, 1000);
	struct cidr t = C("203.0.113.5");
	struct policy_verdict v;

	policy_decide(&c, b, off, &t, "auth-ip", HOUR, T0, &v);
	ck_assert(!v.extend);
	ck_assert_uint_eq(v.times, 1);
	ck_assert_uint_eq(v.dur_ms, HOUR);
	/* blocked, it ended, and it came back: the second block is longer */
	policy_decide(&c, b, off, &t, "auth-ip", HOUR, T0 + 2 * HOUR, &v);
	ck_assert(!v.extend);
	ck_assert_uint_eq(v.times, 2);
	ck_assert_uint_eq(v.dur_ms, 2 * HOUR);
	/* beyond repeat memory the history is forgotten */
	policy_decide(&c, b, off, &t, "auth-ip", HOUR, T0 + 40 * DAY, &v);
	ck_assert_uint_eq(v.times, 1);
	ck_assert_uint_eq(v.dur_ms, HOUR);
	window_free(off);
	blocks_free(b);
}
END_TEST

START_TEST(lines_in_flight_extend_the_rules_own_running_block)
{
	struct config c = cfg();
	struct blocks *b = blocks_new(NULL);
	struct wtable *off = window_new(32, c.repeat_memory_ms, 1000);
	struct cidr t = C("203.0.113.5");
	struct policy_verdict v;

	policy_decide(&c, b, off, &t, "auth-ip", HOUR, T0, &v);
	add(b, "203.0.113.5", T0, v.dur_ms, "auth-ip");
	policy_decide(&c, b, off, &t, "auth-ip", HOUR, T0 + 1000, &v);
	ck_assert(v.extend);
	ck_assert_uint_eq(v.dur_ms, HOUR);
	ck_assert_uint_eq(v.times, 1);
	/* the extension is no new offence: the next real block is the second */
	policy_decide(&c, b, off, &t, "auth-ip", HOUR, T0 + 3 * HOUR, &v);
	ck_assert(!v.extend);
	ck_assert_uint_eq(v.times, 2);
	window_free(off);
	blocks_free(b);
}
END_TEST

START_TEST(a_permanent_running_block_is_extended_as_permanent)
{
	struct config c = cfg();
	struct blocks *b = blocks_new(NULL);
	struct wtable *off = window_new(32, c.repeat_memory_ms, 1000);
	struct cidr t = C("2001:db8:1:2::/64");
	struct policy_verdict v;

	add(b, "2001:db8:1:2::/64", T0, DURATION_PERMANENT, "auth-ip");
	policy_decide(&c, b, off, &t, "auth-ip", HOUR, T0 + MIN, &v);
	ck_assert(v.extend);
	ck_assert_uint_eq(v.dur_ms, DURATION_PERMANENT);
	window_free(off);
	blocks_free(b);
}
END_TEST

START_TEST(another_origins_block_is_not_extended_but_made_anew)
{
	struct config c = cfg();
	struct blocks *b = blocks_new(NULL);
	struct wtable *off = window_new(32, c.repeat_memory_ms, 1000);
	struct cidr t = C("203.0.113.5");
	struct policy_verdict v;

	add(b, "203.0.113.5", T0, 5 * MIN, "manual");
	policy_decide(&c, b, off, &t, "auth-ip", HOUR, T0 + MIN, &v);
	ck_assert(!v.extend);
	ck_assert_uint_eq(v.dur_ms, HOUR);
	window_free(off);
	blocks_free(b);
}
END_TEST

START_TEST(an_ended_block_is_not_extended)
{
	struct config c = cfg();
	struct blocks *b = blocks_new(NULL);
	struct wtable *off = window_new(32, c.repeat_memory_ms, 1000);
	struct cidr t = C("203.0.113.5");
	struct policy_verdict v;

	add(b, "203.0.113.5", T0, HOUR, "auth-ip");
	policy_decide(&c, b, off, &t, "auth-ip", HOUR, T0 + HOUR, &v);
	ck_assert(!v.extend);
	window_free(off);
	blocks_free(b);
}
END_TEST

/* ---- prefix escalation ---- */

START_TEST(prefix_is_blocked_at_the_threshold)
{
	struct config c = cfg();
	struct blocks *b = blocks_new(NULL);
	struct cidr t = C("198.51.100.3"), p;
	char buf[CIDR_STRLEN];
	size_t n = 0;

	add(b, "198.51.100.1", T0, HOUR, "auth-ip");
	add(b, "198.51.100.2", T0, HOUR, "auth-ip");
	ck_assert(!policy_prefix(&c, b, &t, &p, &n));
	ck_assert_uint_eq(n, 2);
	add(b, "198.51.100.3", T0, HOUR, "auth-ip");
	ck_assert(policy_prefix(&c, b, &t, &p, &n));
	ck_assert_uint_eq(n, 3);
	cidr_format(&p, buf);
	ck_assert_str_eq(buf, "198.51.100.0/24");
	blocks_free(b);
}
END_TEST

START_TEST(ipv6_prefixes_count_the_64s_inside)
{
	struct config c = cfg();
	struct blocks *b = blocks_new(NULL);
	struct cidr t = C("2001:db8:1:3::/64"), p;
	char buf[CIDR_STRLEN];
	size_t n = 0;

	add(b, "2001:db8:1:1::/64", T0, HOUR, "auth-ip");
	add(b, "2001:db8:1:2::/64", T0, HOUR, "auth-ip");
	add(b, "2001:db8:2:3::/64", T0, HOUR, "auth-ip");     /* another /48 */
	add(b, "2001:db8:1:3::/64", T0, HOUR, "auth-ip");
	ck_assert(policy_prefix(&c, b, &t, &p, &n));
	ck_assert_uint_eq(n, 3);
	cidr_format(&p, buf);
	ck_assert_str_eq(buf, "2001:db8:1::/48");
	blocks_free(b);
}
END_TEST

START_TEST(no_prefix_when_off_covered_or_not_narrower)
{
	struct config c = cfg();
	struct blocks *b = blocks_new(NULL);
	struct cidr t = C("198.51.100.3"), wide = C("198.51.0.0/16"), p;
	size_t n = 0;

	add(b, "198.51.100.1", T0, HOUR, "auth-ip");
	add(b, "198.51.100.2", T0, HOUR, "auth-ip");
	add(b, "198.51.100.3", T0, HOUR, "auth-ip");
	c.prefix_enabled = 0;
	ck_assert(!policy_prefix(&c, b, &t, &p, &n));
	c.prefix_enabled = 1;
	/* the target is the prefix itself, or wider */
	ck_assert(!policy_prefix(&c, b, &wide, &p, &n));
	/* the prefix, or a range around it, is blocked already */
	add(b, "198.51.0.0/16", T0, HOUR, "manual");
	ck_assert(!policy_prefix(&c, b, &t, &p, &n));
	blocks_free(b);
}
END_TEST

int main(void)
{
	TCase *tc = tcase_create("policy");

	tcase_add_test(tc, first_block_lasts_the_rules_duration);
	tcase_add_test(tc, each_repeat_lasts_factor_times_longer);
	tcase_add_test(tc, repeats_stop_at_max);
	tcase_add_test(tc, the_permanent_after_th_block_is_permanent);
	tcase_add_test(tc, a_permanent_rule_stays_permanent);
	tcase_add_test(tc, new_blocks_count_up_the_history);
	tcase_add_test(tc, lines_in_flight_extend_the_rules_own_running_block);
	tcase_add_test(tc, a_permanent_running_block_is_extended_as_permanent);
	tcase_add_test(tc, another_origins_block_is_not_extended_but_made_anew);
	tcase_add_test(tc, an_ended_block_is_not_extended);
	tcase_add_test(tc, prefix_is_blocked_at_the_threshold);
	tcase_add_test(tc, ipv6_prefixes_count_the_64s_inside);
	tcase_add_test(tc, no_prefix_when_off_covered_or_not_narrower);
	return ut_run("policy", tc);
}
