// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests for judge.c: a decision's way to the sink, in whatever time
 * the caller gives: a new block, an extension of a running one, a repeat
 * offender's longer block, a range narrowed around the offender past an
 * allowed address, a refusal for the host's own address, a paused judge
 * that keeps the count, and the [prefix] block after enough blocks.
 */
#include "duration.h"
#include "judge.h"
#include "log.h"
#include "rules.h"

#include "unit.h"

#include <check.h>
#include <stdio.h>
#include <string.h>

#define MIN 60000ULL
#define HOUR (60 * MIN)
#define DAY (24 * HOUR)
#define T0 (1000 * DAY)

struct made {
	enum judge_what what;
	char target[CIDR_STRLEN];
	char origin[48];
	uint64_t at, dur;
	bool extend;
	uint32_t times;
};
static struct made made[16];
static int nmade;
static struct cidrlist host;

static int sink_block(void *arg, const struct judge_block *jb, char *err, size_t errlen)
{
	struct blocks *b = arg;
	struct made *m = &made[nmade++];
	bool ext;

	(void)err;
	(void)errlen;
	ck_assert_int_lt(nmade, 16);
	m->what = jb->what;
	cidr_format(&jb->target, m->target);
	snprintf(m->origin, sizeof m->origin, "%s", jb->origin);
	m->at = jb->at_ms;
	m->dur = jb->dur_ms;
	m->extend = jb->extend;
	m->times = jb->times;
	if (jb->what != JUDGE_ACCOUNT)
		blocks_add(b, &jb->target, jb->at_ms, jb->dur_ms, jb->origin, jb->reason, &ext);
	return 0;
}

static const struct cidrlist *sink_host(void *arg, uint64_t now)
{
	(void)arg;
	(void)now;
	return &host;
}

struct fixture {
	struct config cfg;
	struct screen *s;
	struct blocks *b;
	struct wtable *off;
	struct judge_sink sink;
	struct judge j;
};

static void setup(struct fixture *f, const char *rules, const char *allow)
{
	struct ruleset rs = { 0 };
	struct cidrlist al = { 0 };
	char err[512];

	memset(f, 0, sizeof *f);
	f->cfg.repeat_factor = 2;
	f->cfg.repeat_max_ms = 7 * DAY;
	f->cfg.repeat_memory_ms = 30 * DAY;
	f->cfg.prefix_v4 = 24;
	f->cfg.prefix_v6 = 48;
	f->cfg.prefix_threshold = 2;
	f->cfg.prefix_block_ms = DAY;
	ck_assert_int_eq(ruleset_load(&rs, ut_write("j.conf", rules), err, sizeof err), 0);
	if (allow) {
		struct cidr c;
		ck_assert_int_eq(cidr_parse(allow, &c, err, sizeof err), 0);
		cidrlist_add(&al, &c);
	}
	f->s = screen_new();
	{
		struct screen_opts o = { .allow = &al, .max_keys = 1000 };
		screen_configure(f->s, &rs, &o);
	}
	cidrlist_release(&al);
	f->b = blocks_new(NULL);
	f->off = window_new(32, f->cfg.repeat_memory_ms, 1000);
	f->sink = (struct judge_sink){ sink_block, sink_host, f->b };
	f->j = (struct judge){ .cfg = &f->cfg, .screen = f->s, .blocks = f->b, .offenders = f->off, .sink = &f->sink,
			       .note = "" };
	nmade = 0;
}

static void teardown(struct fixture *f)
{
	screen_free(f->s);
	blocks_free(f->b);
	window_free(f->off);
	cidrlist_release(&host);
}

static void fail_from(struct fixture *f, const char *ip, int n, uint64_t t)
{
	for (int i = 0; i < n; i++) {
		struct event ev = { .kind = EV_AUTH_FAIL, .count = 1, .has_ip = true };
		struct logline ll = { .raw = "x", .rawlen = 1 };
		ck_assert_int_eq(addr_parse(ip, strlen(ip), &ev.ip), 0);
		judge_event(&f->j, &ev, &ll, t + (uint64_t)i * 1000);
		screen_end_line(f->s);
	}
}

static const char rule5[] = "[r]\nevents = auth-fail\nper = ip\nlimit = 5\nwindow = 10m\nblock = 1h\n";

START_TEST(a_decision_is_made_a_block_at_the_judges_time)
{
	struct fixture f;

	setup(&f, rule5, NULL);
	fail_from(&f, "203.0.113.5", 5, T0);
	ck_assert_int_eq(nmade, 1);
	ck_assert_int_eq(made[0].what, JUDGE_ADDR);
	ck_assert_str_eq(made[0].target, "203.0.113.5");
	ck_assert_str_eq(made[0].origin, "r");
	ck_assert_uint_eq(made[0].at, T0 + 4000);
	ck_assert_uint_eq(made[0].dur, HOUR);
	ck_assert(!made[0].extend);
	ck_assert_uint_eq(made[0].times, 1);
	teardown(&f);
}
END_TEST

START_TEST(a_running_block_is_extended_an_ended_one_escalates)
{
	struct fixture f;

	setup(&f, rule5, NULL);
	fail_from(&f, "203.0.113.5", 5, T0);
	fail_from(&f, "203.0.113.5", 5, T0 + 10 * MIN);
	ck_assert_int_eq(nmade, 2);
	ck_assert(made[1].extend);
	/* the block ends 1h after the extension; then 5 more: block #2, 2h */
	blocks_expire(f.b, T0 + 3 * HOUR);
	fail_from(&f, "203.0.113.5", 5, T0 + 3 * HOUR);
	ck_assert_int_eq(nmade, 3);
	ck_assert(!made[2].extend);
	ck_assert_uint_eq(made[2].times, 2);
	ck_assert_uint_eq(made[2].dur, 2 * HOUR);
	teardown(&f);
}
END_TEST

START_TEST(a_range_is_narrowed_around_the_offender_past_an_allowed_address)
{
	struct fixture f;

	setup(&f, "[r]\nevents = auth-fail\nper = ip\nlimit = 5\nwindow = 10m\nblock = 1h\nipv4_prefix = 24\n",
	      "198.51.100.7");
	fail_from(&f, "198.51.100.200", 5, T0);
	ck_assert_int_eq(nmade, 1);
	ck_assert_str_eq(made[0].target, "198.51.100.128/25");
	teardown(&f);
}
END_TEST

START_TEST(the_hosts_own_address_is_refused_and_counted)
{
	struct fixture f;
	struct cidr c;

	setup(&f, rule5, NULL);
	ck_assert_int_eq(cidr_parse("192.0.2.1", &c, NULL, 0), 0);
	cidrlist_add(&host, &c);       /* protected by the sink's host list, not exempt in the screen */
	fail_from(&f, "192.0.2.1", 5, T0);
	ck_assert_int_eq(nmade, 0);
	ck_assert_uint_eq(f.j.refused, 1);
	teardown(&f);
}
END_TEST

START_TEST(paused_decides_nothing_and_keeps_the_count)
{
	struct fixture f;

	setup(&f, rule5, NULL);
	f.j.paused = true;
	fail_from(&f, "203.0.113.5", 5, T0);
	ck_assert_int_eq(nmade, 0);
	ck_assert_uint_eq(f.j.paused_decisions, 1);
	f.j.paused = false;
	fail_from(&f, "203.0.113.5", 1, T0 + 5000);
	ck_assert_int_eq(nmade, 1);
	teardown(&f);
}
END_TEST

START_TEST(enough_blocks_in_a_prefix_block_the_prefix)
{
	struct fixture f;

	setup(&f, rule5, NULL);
	f.cfg.prefix_enabled = 1;
	fail_from(&f, "203.0.113.5", 5, T0);
	ck_assert_int_eq(nmade, 1);
	fail_from(&f, "203.0.113.6", 5, T0 + MIN);
	ck_assert_int_eq(nmade, 3);
	ck_assert_int_eq(made[2].what, JUDGE_PREFIX);
	ck_assert_str_eq(made[2].target, "203.0.113.0/24");
	ck_assert_str_eq(made[2].origin, "prefix");
	ck_assert_uint_eq(made[2].dur, DAY);
	ck_assert_uint_eq(made[2].at, T0 + MIN + 4000);
	teardown(&f);
}
END_TEST

int main(void)
{
	TCase *tc = tcase_create("judge");

	log_init("test_judge", LOG_LVL_ERR);    /* the decisions' log lines are the daemon's, not the test's */

	tcase_add_test(tc, a_decision_is_made_a_block_at_the_judges_time);
	tcase_add_test(tc, a_running_block_is_extended_an_ended_one_escalates);
	tcase_add_test(tc, a_range_is_narrowed_around_the_offender_past_an_allowed_address);
	tcase_add_test(tc, the_hosts_own_address_is_refused_and_counted);
	tcase_add_test(tc, paused_decides_nothing_and_keeps_the_count);
	tcase_add_test(tc, enough_blocks_in_a_prefix_block_the_prefix);
	return ut_run("judge", tc);
}
