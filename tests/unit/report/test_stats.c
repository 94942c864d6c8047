// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests for stats.c and report_fmt.c: a flood of distinct keys keeps
 * the top table bounded and the frequent key in it, buckets roll over at
 * their period, `since` picks the right buckets, the saved lines restore
 * the same counts, and the formats escape what the attacker chose. */
#include "stats.h"
#include "report_fmt.h"

#include "log.h"
#include "unit.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define T0 (1800000000000ULL / STATS_DAY_MS * STATS_DAY_MS)     /* a midnight, UTC */

START_TEST(a_flood_of_distinct_keys_keeps_the_top_bounded_and_the_frequent_key)
{
	struct stats *s = stats_new();
	struct stats_bucket b;
	char addr[64];

	for (int i = 0; i < 100000; i++) {
		snprintf(addr, sizeof addr, "198.51.%d.%d", (i / 256) % 256, i % 256);
		stats_event(s, T0 + 1000, EV_AUTH_FAIL, "smtp", 4, addr, NULL, 0, 1);
		if (i % 10 == 0)
			stats_event(s, T0 + 1000, EV_AUTH_FAIL, "smtp", 4, "203.0.113.7", "bob", 3, 1);
	}
	stats_since(s, T0 + 2000, T0, &b);
	ck_assert_uint_le(b.naddrs, STATS_TOPCAP);
	ck_assert_str_eq(b.addrs[0].key, "203.0.113.7");
	ck_assert_uint_ge(b.addrs[0].count - b.addrs[0].err, 9000);
	/* what is shown of the others never exceeds their true count (1) */
	for (size_t i = 1; i < b.naddrs; i++)
		ck_assert_uint_le(b.addrs[i].count - b.addrs[i].err, 1);
	ck_assert_uint_eq(b.events[EV_AUTH_FAIL], 110000);
	ck_assert_uint_eq(b.naccounts, 1);
	ck_assert_str_eq(b.accounts[0].key, "bob");
	stats_free(s);
}
END_TEST

START_TEST(events_count_their_attempts_and_a_duplicate_nothing)
{
	struct stats *s = stats_new();
	struct stats_bucket b;

	/* a summary line of 3 attempts, an event an earlier line counted */
	stats_event(s, T0 + 1000, EV_AUTH_FAIL, "imap", 4, "203.0.113.9", "eve", 3, 3);
	stats_event(s, T0 + 1000, EV_AUTH_FAIL, "imap", 4, "203.0.113.9", "eve", 3, 0);
	stats_event(s, T0 + 1000, EV_CONNECT, "imap", 4, NULL, NULL, 0, 1);
	stats_since(s, T0 + 2000, T0, &b);
	ck_assert_uint_eq(b.events[EV_AUTH_FAIL], 3);
	ck_assert_uint_eq(b.events[EV_CONNECT], 1);
	ck_assert_uint_eq(b.naddrs, 1);
	ck_assert_uint_eq(b.addrs[0].count, 3);
	ck_assert_uint_eq(b.accounts[0].count, 3);
	ck_assert_uint_eq(b.nservices, 1);
	ck_assert_uint_eq(b.services[0].n, 4);
	stats_free(s);
}
END_TEST

START_TEST(services_and_origins_beyond_the_bound_count_as_other)
{
	struct stats *s = stats_new();
	struct stats_bucket b;
	char name[32];

	for (int i = 0; i < 1000; i++) {
		snprintf(name, sizeof name, "svc%d", i);
		stats_event(s, T0, EV_CONNECT, name, strlen(name), NULL, NULL, 0, 1);
		stats_block(s, T0, name);
	}
	stats_period(s, T0, STATS_MINUTE_MS, &b);
	ck_assert_uint_eq(b.nservices, STATS_NAMES);
	ck_assert_str_eq(b.services[STATS_NAMES - 1].name, "other");
	ck_assert_uint_eq(b.services[STATS_NAMES - 1].n, 1000 - (STATS_NAMES - 1));
	ck_assert_uint_eq(b.norigins, STATS_NAMES);
	ck_assert_uint_eq(b.made, 1000);
	stats_free(s);
}
END_TEST

START_TEST(buckets_roll_over_at_their_period)
{
	struct stats *s = stats_new();
	struct stats_bucket b;

	stats_block(s, T0 + 59999, "sasl");
	stats_block(s, T0 + 60000, "sasl");
	stats_block(s, T0 + 60001, "sasl");
	stats_period(s, T0, STATS_MINUTE_MS, &b);
	ck_assert_uint_eq(b.made, 1);
	stats_period(s, T0 + 60000, STATS_MINUTE_MS, &b);
	ck_assert_uint_eq(b.made, 2);
	stats_period(s, T0, STATS_HOUR_MS, &b);
	ck_assert_uint_eq(b.made, 3);
	/* an hour later the minute's slot is reused: the old minute is gone,
	 * its hour is still there */
	stats_block(s, T0 + STATS_HOUR_MS, "sasl");
	stats_period(s, T0, STATS_MINUTE_MS, &b);
	ck_assert_uint_eq(b.made, 0);
	stats_period(s, T0, STATS_HOUR_MS, &b);
	ck_assert_uint_eq(b.made, 3);
	/* a day is its hours */
	stats_period(s, T0, STATS_DAY_MS, &b);
	ck_assert_uint_eq(b.made, 4);
	/* a week and an hour later the hour's slot is reused */
	stats_block(s, T0 + STATS_HOURS * STATS_HOUR_MS, "x");
	stats_period(s, T0, STATS_HOUR_MS, &b);
	ck_assert_uint_eq(b.made, 0);
	stats_free(s);
}
END_TEST

START_TEST(since_takes_minutes_within_the_hour_and_hours_beyond)
{
	struct stats *s = stats_new();
	struct stats_bucket b;
	uint64_t now = T0 + 5 * STATS_HOUR_MS + 30 * STATS_MINUTE_MS;

	stats_block(s, T0 + 1000, "a");                         /* 5h30m ago */
	stats_block(s, now - 20 * STATS_MINUTE_MS, "b");        /* 20 minutes ago */
	stats_block(s, now - 1000, "c");
	stats_since(s, now, now - 10 * STATS_MINUTE_MS, &b);
	ck_assert_uint_eq(b.made, 1);
	stats_since(s, now, now - 30 * STATS_MINUTE_MS, &b);
	ck_assert_uint_eq(b.made, 2);
	stats_since(s, now, now - 2 * STATS_HOUR_MS, &b);
	ck_assert_uint_eq(b.made, 2);
	stats_since(s, now, now - STATS_DAY_MS, &b);
	ck_assert_uint_eq(b.made, 3);
	ck_assert_uint_eq(b.start_ms, T0 - 19 * STATS_HOUR_MS);
	stats_free(s);
}
END_TEST

START_TEST(the_periods_that_end_at_a_boundary)
{
	setenv("TZ", "UTC", 1);
	tzset();
	ck_assert_uint_eq(stats_periods_ending(T0 + 1), 0);
	ck_assert_uint_eq(stats_periods_ending(T0 + STATS_MINUTE_MS), STATS_PERIOD_MINUTE);
	ck_assert_uint_eq(stats_periods_ending(T0 + STATS_HOUR_MS), STATS_PERIOD_MINUTE | STATS_PERIOD_HOUR);
	ck_assert_uint_eq(stats_periods_ending(T0), STATS_PERIOD_MINUTE | STATS_PERIOD_HOUR | STATS_PERIOD_DAY);
	/* the day ends at local midnight: 18:30 UTC in India (+05:30), which
	 * is no hour of the clock */
	setenv("TZ", "IST-5:30", 1);
	tzset();
	ck_assert_uint_eq(stats_periods_ending(T0), STATS_PERIOD_MINUTE | STATS_PERIOD_HOUR);
	ck_assert_uint_eq(stats_periods_ending(T0 - 5 * STATS_HOUR_MS - 30 * STATS_MINUTE_MS),
			  STATS_PERIOD_MINUTE | STATS_PERIOD_DAY);
	setenv("TZ", "UTC", 1);
	tzset();
}
END_TEST

/* The day's summary is the local day's, whole: in a zone whose offset is
 * not whole hours (the UTC hour buckets straddle its midnight) and on a
 * day of 23 hours (a change to summer time), every event from local
 * midnight to local midnight, and none from either side. */
START_TEST(a_day_is_the_local_day_whole)
{
	struct stats *s = stats_new();
	struct stats_bucket b;
	uint64_t mid = T0 - 5 * STATS_HOUR_MS - 30 * STATS_MINUTE_MS, next = mid + STATS_DAY_MS;
	/* 2026-03-29 00:00 CET, 2026-03-30 00:00 CEST: 23 hours */
	uint64_t dst0 = 1774738800000ULL, dst1 = 1774821600000ULL;

	setenv("TZ", "IST-5:30", 1);
	tzset();
	stats_event(s, mid - 1000, EV_AUTH_FAIL, "imap", 4, "192.0.2.1", NULL, 0, 1);
	stats_event(s, mid, EV_AUTH_FAIL, "imap", 4, "192.0.2.2", NULL, 0, 1);
	stats_event(s, mid + STATS_HOUR_MS, EV_AUTH_FAIL, "imap", 4, "192.0.2.2", NULL, 0, 1);
	stats_event(s, next - 1000, EV_AUTH_FAIL, "imap", 4, "192.0.2.3", NULL, 0, 1);
	stats_block(s, next - 500, "auth-ip");
	stats_event(s, next, EV_AUTH_FAIL, "imap", 4, "192.0.2.4", NULL, 0, 1);
	ck_assert_uint_eq(stats_periods_ending(next), STATS_PERIOD_MINUTE | STATS_PERIOD_DAY);
	stats_day(s, next, &b);
	ck_assert_uint_eq(b.start_ms, mid);
	ck_assert_uint_eq(b.end_ms, next);
	ck_assert_uint_eq(b.events[EV_AUTH_FAIL], 3);
	ck_assert_uint_eq(b.made, 1);
	ck_assert_str_eq(b.addrs[0].key, "192.0.2.2");
	ck_assert_uint_eq(b.addrs[0].count, 2);
	ck_assert_uint_eq(b.naddrs, 2);
	/* the day before is no longer kept: an empty day from its midnight */
	stats_day(s, mid, &b);
	ck_assert(stats_bucket_empty(&b));
	ck_assert_uint_eq(b.start_ms, mid - STATS_DAY_MS);

	stats_free(s);
	s = stats_new();        /* the clock does not go back a year */
	setenv("TZ", "CET-1CEST,M3.5.0,M10.5.0/3", 1);
	tzset();
	stats_event(s, dst0 - 1000, EV_CONNECT, "smtp", 4, NULL, NULL, 0, 1);
	for (uint64_t t = dst0; t < dst1; t += STATS_HOUR_MS)
		stats_event(s, t, EV_CONNECT, "smtp", 4, NULL, NULL, 0, 1);
	stats_event(s, dst1 - 1000, EV_CONNECT, "smtp", 4, NULL, NULL, 0, 1);
	stats_event(s, dst1, EV_CONNECT, "smtp", 4, NULL, NULL, 0, 1);
	ck_assert(stats_periods_ending(dst1) & STATS_PERIOD_DAY);
	stats_day(s, dst1, &b);
	ck_assert_uint_eq(b.start_ms, dst0);
	ck_assert_uint_eq(b.events[EV_CONNECT], 23 + 1);
	setenv("TZ", "UTC", 1);
	tzset();
	stats_free(s);
}
END_TEST

START_TEST(periods_parse)
{
	unsigned m;
	char err[256];

	ck_assert_int_eq(stats_periods_parse("day minute", &m, err, sizeof err), 0);
	ck_assert_uint_eq(m, STATS_PERIOD_DAY | STATS_PERIOD_MINUTE);
	ck_assert_int_eq(stats_periods_parse("none", &m, err, sizeof err), 0);
	ck_assert_uint_eq(m, 0);
	ck_assert_int_eq(stats_periods_parse("hour weekly", &m, err, sizeof err), -1);
	ck_assert_str_eq(err, "'weekly' is not a period (give any of minute hour day, or none)");
}
END_TEST

static char dumped[STATS_MINUTES + STATS_HOURS + 2][16384];
static int ndumped;

static void keep(void *arg, const char *line)
{
	(void)arg;
	snprintf(dumped[ndumped++], sizeof dumped[0], "%s", line);
}

START_TEST(saved_lines_restore_the_same_counts)
{
	struct stats *s = stats_new(), *r = stats_new();
	struct stats_bucket a, b;

	stats_event(s, T0 + 5, EV_AUTH_FAIL, "imap", 4, "2001:db8::1", "us er;:%\n", 9, 1);
	stats_event(s, T0 + 5, EV_CONNECT, "imap", 4, "2001:db8::1", NULL, 0, 1);
	stats_block(s, T0 + 6, "sasl rule");
	stats_lift(s, T0 + STATS_HOUR_MS + 6, "sasl rule");
	stats_exempt(s, T0 + 7, 3);
	stats_drops(s, T0 + 8, 42);
	ndumped = 0;
	stats_dump(s, keep, NULL);
	ck_assert_int_eq(ndumped, 4);   /* two hours, one minute still in the ring, the day */
	for (int i = 0; i < ndumped; i++)
		ck_assert_int_eq(stats_restore(r, dumped[i], T0 + STATS_HOUR_MS + 10), 0);
	stats_since(s, T0 + STATS_HOUR_MS + 10, T0, &a);
	stats_since(r, T0 + STATS_HOUR_MS + 10, T0, &b);
	ck_assert_mem_eq(a.events, b.events, sizeof a.events);
	ck_assert_uint_eq(b.made, 1);
	ck_assert_uint_eq(b.lifted, 1);
	ck_assert_uint_eq(b.exempt, 3);
	ck_assert_uint_eq(b.drops, 42);
	ck_assert_str_eq(b.addrs[0].key, "2001:db8::1");
	ck_assert_str_eq(b.accounts[0].key, a.accounts[0].key);
	ck_assert_str_eq(b.origins[0].name, "sasl rule");
	/* the day, restored as it was */
	stats_day(s, T0 + STATS_DAY_MS, &a);
	stats_day(r, T0 + STATS_DAY_MS, &b);
	ck_assert_uint_eq(b.start_ms, T0);
	ck_assert_mem_eq(a.events, b.events, sizeof a.events);
	ck_assert_uint_eq(b.events[EV_AUTH_FAIL], 1);
	ck_assert_uint_eq(b.made, 1);
	ck_assert_uint_eq(b.lifted, 1);
	/* a day of another length than a local day can have: refused */
	ck_assert_int_eq(stats_restore(r, "d 1000 3601000 e=1", T0), -1);
	ck_assert_int_eq(stats_restore(r, "m 12 nonsense", T0), -1);
	ck_assert_int_eq(stats_restore(r, "h 1 2 e=1", T0), -1);
	stats_free(s);
	stats_free(r);
}
END_TEST

/* A name is made printable once, when it is counted: the report, the
 * merge of buckets and a restart show it as it was counted, never
 * escaped again ("\x01" read "\x5cx01" in every report). */
START_TEST(a_name_is_escaped_once_through_merges_and_a_restart)
{
	struct stats *s = stats_new(), *r = stats_new();
	struct stats_bucket b;

	stats_event(s, T0 + 5, EV_AUTH_FAIL, "sm\x01tp", 5, "192.0.2.1", NULL, 0, 1);
	stats_block(s, T0 + 6, "rule\x02");
	stats_since(s, T0 + 10, T0, &b);
	ck_assert_uint_eq(b.nservices, 1);
	ck_assert_str_eq(b.services[0].name, "sm\\x01tp");
	ck_assert_str_eq(b.origins[0].name, "rule\\x02");
	ndumped = 0;
	stats_dump(s, keep, NULL);
	for (int i = 0; i < ndumped; i++)
		ck_assert_int_eq(stats_restore(r, dumped[i], T0 + 10), 0);
	/* counted again after the restart, in the same minute: one name */
	stats_event(r, T0 + 7, EV_AUTH_FAIL, "sm\x01tp", 5, "192.0.2.1", NULL, 0, 1);
	stats_since(r, T0 + 10, T0, &b);
	ck_assert_uint_eq(b.nservices, 1);
	ck_assert_str_eq(b.services[0].name, "sm\\x01tp");
	ck_assert_uint_eq(b.services[0].n, 2);
	ck_assert_str_eq(b.origins[0].name, "rule\\x02");
	stats_free(s);
	stats_free(r);
}
END_TEST

START_TEST(formats_escape_what_the_attacker_chose)
{
	struct stats *s = stats_new();
	struct stats_bucket b;
	char line[4096], *buf = NULL;
	size_t len = 0;
	FILE *o;

	stats_event(s, T0, EV_AUTH_FAIL, "smtp", 4, "192.0.2.1", "<script>\"x\"\n", 12, 1);
	stats_since(s, T0 + 10, T0, &b);
	report_fmt_line(&b, line, sizeof line);
	ck_assert_ptr_null(strchr(line, '\n'));
	ck_assert_ptr_nonnull(strstr(line, "top accounts '<script>"));
	o = open_memstream(&buf, &len);
	report_fmt_html(o, &b);
	fclose(o);
	ck_assert_ptr_null(strstr(buf, "<script"));
	/* the same text as the other formats show, not escaped twice */
	ck_assert_msg(strstr(buf, "&lt;script&gt;&quot;x&quot;\\x0a<"), "%s", buf);
	free(buf);
	o = open_memstream(&buf, &len);
	report_fmt_json(o, &b);
	fclose(o);
	ck_assert_ptr_nonnull(strstr(buf, "\"key\": \"<script>\\\"x\\\"\\\\x0a\""));
	free(buf);
	memset(&b, 0, sizeof b);
	report_fmt_line(&b, line, sizeof line);
	ck_assert_str_eq(line, "nothing happened");
	stats_free(s);
}
END_TEST

int main(void)
{
	TCase *tc = tcase_create("stats");

	log_init("test_stats", LOG_LVL_ERR);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, a_flood_of_distinct_keys_keeps_the_top_bounded_and_the_frequent_key);
	tcase_add_test(tc, events_count_their_attempts_and_a_duplicate_nothing);
	tcase_add_test(tc, services_and_origins_beyond_the_bound_count_as_other);
	tcase_add_test(tc, buckets_roll_over_at_their_period);
	tcase_add_test(tc, since_takes_minutes_within_the_hour_and_hours_beyond);
	tcase_add_test(tc, saved_lines_restore_the_same_counts);
	tcase_add_test(tc, a_name_is_escaped_once_through_merges_and_a_restart);
	tcase_add_test(tc, the_periods_that_end_at_a_boundary);
	tcase_add_test(tc, a_day_is_the_local_day_whole);
	tcase_add_test(tc, periods_parse);
	tcase_add_test(tc, formats_escape_what_the_attacker_chose);
	return ut_run("stats", tc);
}
