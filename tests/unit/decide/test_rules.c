// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests for duration.c and rules.c: parsing durations and rule
 * files. The rules at work are tested in test_screen.c. */
#include "duration.h"
#include "inilayer.h"
#include "rules.h"

#include "unit.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

START_TEST(durations_parse_with_units_and_permanent)
{
	uint64_t ms;
	char err[128];

	ck_assert_int_eq(duration_parse("30s", &ms, 0, false, err, sizeof err), 0);
	ck_assert_uint_eq(ms, 30000);
	ck_assert_int_eq(duration_parse("10m", &ms, 0, false, err, sizeof err), 0);
	ck_assert_uint_eq(ms, 600000);
	ck_assert_int_eq(duration_parse("2h", &ms, 0, false, err, sizeof err), 0);
	ck_assert_uint_eq(ms, 7200000);
	ck_assert_int_eq(duration_parse("7d", &ms, 0, false, err, sizeof err), 0);
	ck_assert_uint_eq(ms, 7ULL * 86400000);
	ck_assert_int_eq(duration_parse("1h30m", &ms, 0, false, err, sizeof err), 0);
	ck_assert_uint_eq(ms, 5400000);
	ck_assert_int_eq(duration_parse("permanent", &ms, 0, true, err, sizeof err), 0);
	ck_assert_uint_eq(ms, DURATION_PERMANENT);
	ck_assert_int_eq(duration_parse("60", &ms, 'm', true, err, sizeof err), 0);
	ck_assert_uint_eq(ms, 3600000);
}
END_TEST

START_TEST(bad_durations_are_refused_with_a_reason)
{
	uint64_t ms;
	char err[128];
	const char *bad[] = { "", "10", "10x", "m", "-5m", "0s", "permanent", "99999999999d", "1h 5m" };

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = '\0';
		ck_assert_msg(duration_parse(bad[i], &ms, 0, false, err, sizeof err) == -1, "accepted '%s'", bad[i]);
		ck_assert_msg(err[0], "no message for '%s'", bad[i]);
	}
}
END_TEST

START_TEST(durations_format_readably)
{
	char buf[32];

	duration_format(3600000, buf, sizeof buf);
	ck_assert_str_eq(buf, "1h");
	duration_format(5400000, buf, sizeof buf);
	ck_assert_str_eq(buf, "1h30m");
	duration_format(DURATION_PERMANENT, buf, sizeof buf);
	ck_assert_str_eq(buf, "permanent");
}
END_TEST

START_TEST(rule_file_loads)
{
	struct ruleset rs = { 0 };
	char err[512];
	const char *p = ut_write("ok.conf",
		"# comment\n[auth-ip]\nevents = auth-fail\nservices = smtp imap\nlimit = 5\nwindow = 10m\n"
		"block = 1h\nipv6_prefix = 56\n\n[watch]\nevents = rcpt-fail abuse\nlimit = 3\nwindow = 1m\nblock = log\n");

	ck_assert_int_eq(ruleset_load(&rs, p, err, sizeof err), 0);
	ck_assert_uint_eq(rs.n, 2);
	ck_assert_str_eq(rs.v[0].name, "auth-ip");
	ck_assert_uint_eq(rs.v[0].limit, 5);
	ck_assert_uint_eq(rs.v[0].window_ms, 600000);
	ck_assert_uint_eq(rs.v[0].block_ms, 3600000);
	ck_assert_uint_eq(rs.v[0].ipv6_prefix, 56);
	ck_assert(rule_wants_service(&rs.v[0], "imap", 4));
	ck_assert(!rule_wants_service(&rs.v[0], "pop3", 4));
	ck_assert(rs.v[1].log_only);
	ck_assert(rule_wants_service(&rs.v[1], "pop3", 4));
	ck_assert_uint_eq(ruleset_max_window(&rs), 600000);
	ruleset_release(&rs);
}
END_TEST

/* The README's rule example, verbatim: "; ..." and "# ..." after a blank
 * are comments. */
START_TEST(rule_values_take_inline_comments)
{
	struct ruleset rs = { 0 };
	char err[512];
	const char *p = ut_write("comments.conf",
		"[auth-ip]\nevents      = auth-fail      ; event kinds counted\n"
		"services    = smtp imap\t; two\nper = ip # the address\nlimit       = 5              ; events ...\n"
		"window      = 10m            ; ... within this sliding window\n"
		"block       = 1h             ; a duration, permanent, or log (only log)\n");

	ck_assert_msg(ruleset_load(&rs, p, err, sizeof err) == 0, "%s", err);
	ck_assert_uint_eq(rs.n, 1);
	ck_assert_uint_eq(rs.v[0].limit, 5);
	ck_assert_uint_eq(rs.v[0].window_ms, 600000);
	ck_assert_uint_eq(rs.v[0].block_ms, 3600000);
	ck_assert(rule_wants_service(&rs.v[0], "imap", 4));
	ck_assert(!rule_wants_service(&rs.v[0], "pop3", 4));
	ruleset_release(&rs);
}
END_TEST

START_TEST(rule_errors_name_file_and_line)
{
	static const struct { const char *text, *expect; } cases[] = {
		{ "[r]\nevents = auth-fail\nlimit = 5\nwindow = 10x\nblock = 1h\n", "bad.conf:4: window:" },
		{ "[r]\nevents = auth-fial\n", "bad.conf:2: unknown event 'auth-fial'" },
		{ "[r]\nevents = auth-fail\nlimit = -1\n", "bad.conf:3: limit" },
		{ "[r]\nevents = auth-fail\ncolour = red\n", "bad.conf:3: unknown key 'colour'" },
		{ "[r]\nevents = auth-fail\nlimit = 5\nwindow = 1m\n", "rule 'r' (line 2) has no 'block'" },
		{ "[r]\nevents = auth-fail\nlimit = 5\nwindow = 1m\nblock=1h\n[r]\nlimit = 2\n", "defined twice" },
		{ "[r]\nper = prefix\n", "bad.conf:2: per" },
		{ "oops\n", "bad.conf:1: syntax error" },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct ruleset rs = { 0 };
		char err[512] = "";
		const char *p = ut_write("bad.conf", cases[i].text);
		ck_assert_int_eq(ruleset_load(&rs, p, err, sizeof err), -1);
		ck_assert_msg(strstr(err, cases[i].expect), "case %zu: '%s' lacks '%s'", i, err, cases[i].expect);
		ck_assert_uint_eq(rs.n, 0);
		ruleset_release(&rs);
	}
}
END_TEST

static const char auth_conf[] =
	"[auth-ip]\nevents = auth-fail\nlimit = 5\nwindow = 10m\nblock = 1h\n"
	"[conn-rate]\nevents = connect\nlimit = 30\nwindow = 1m\nblock = 1h\n";

START_TEST(overrides_change_keys_disable_and_add_rules)
{
	struct inilayer *d = inilayer_new();
	struct ruleset rs = { 0 };
	char err[512];

	ck_assert_int_eq(inilayer_add_string(d, "rules/auth.conf", auth_conf, NULL, false, err, sizeof err), 0);
	ck_assert_int_eq(inilayer_add_string(d, "rules.d/10-off.conf", "[conn-rate]\nenabled = no\n", NULL, true,
					     err, sizeof err), 0);
	ck_assert_int_eq(inilayer_add_string(d, "rules.d/20-new.conf",
		"[rcpt]\nevents = rcpt-fail\nlimit = 2\nwindow = 1m\nblock = 1d\n", NULL, true, err, sizeof err), 0);
	ck_assert_int_eq(inilayer_add_string(d, "rules/auth.local", "[auth-ip]\nlimit = 3\n", NULL, true,
					     err, sizeof err), 0);
	ck_assert_msg(ruleset_load_layers(&rs, d, err, sizeof err) == 0, "%s", err);
	ck_assert_uint_eq(rs.n, 3);
	ck_assert_str_eq(rs.v[0].name, "auth-ip");
	ck_assert_uint_eq(rs.v[0].limit, 3);
	ck_assert_uint_eq(rs.v[0].window_ms, 600000);   /* shipped, untouched */
	ck_assert_uint_eq(rs.v[0].block_ms, 3600000);
	ck_assert_str_eq(rs.v[0].file, "rules/auth.conf");
	ck_assert(!rs.v[1].enabled);
	ck_assert_uint_eq(rs.v[1].limit, 30);
	ck_assert_str_eq(rs.v[2].name, "rcpt");
	ck_assert_str_eq(rs.v[2].file, "rules.d/20-new.conf");
	ck_assert(rs.v[2].enabled);
	ruleset_release(&rs);
	inilayer_free(d);
}
END_TEST

START_TEST(override_errors_name_the_override_and_the_shipped_file)
{
	static const struct { const char *text, *expect; } cases[] = {
		/* a key the rule does not know: the override's line */
		{ "[auth-ip]\nlimmit = 3\n", "rules/auth.local:2: unknown key 'limmit' in rule [auth-ip]" },
		{ "\n[auth-ip]\nlimit = many\n", "rules/auth.local:3: limit: 'many'" },
		/* a section that overrides nothing is a new rule, and incomplete */
		{ "[auth-ipp]\nlimit = 3\n", "rules/auth.local:1: rule 'auth-ipp' (line 2) has no 'events'" },
		{ "[auth-ipp]\nlimit = 3\n", "did you mean [auth-ip] of rules/auth.conf:1?" },
		{ "[brand-new]\nevents = abuse\n", "no shipped rule is named 'brand-new'" },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct inilayer *d = inilayer_new();
		struct ruleset rs = { 0 };
		char err[512] = "";
		ck_assert_int_eq(inilayer_add_string(d, "rules/auth.conf", auth_conf, NULL, false, err, sizeof err), 0);
		ck_assert_int_eq(inilayer_add_string(d, "rules/auth.local", cases[i].text, NULL, true, err, sizeof err), 0);
		ck_assert_int_eq(ruleset_load_layers(&rs, d, err, sizeof err), -1);
		ck_assert_msg(strstr(err, cases[i].expect), "case %zu: '%s' lacks '%s'", i, err, cases[i].expect);
		ck_assert_uint_eq(rs.n, 0);
		ruleset_release(&rs);
		inilayer_free(d);
	}
}
END_TEST

int main(void)
{
	TCase *tc = tcase_create("rules");

	tcase_add_test(tc, durations_parse_with_units_and_permanent);
	tcase_add_test(tc, bad_durations_are_refused_with_a_reason);
	tcase_add_test(tc, durations_format_readably);
	tcase_add_test(tc, rule_file_loads);
	tcase_add_test(tc, rule_errors_name_file_and_line);
	tcase_add_test(tc, rule_values_take_inline_comments);
	tcase_add_test(tc, overrides_change_keys_disable_and_add_rules);
	tcase_add_test(tc, override_errors_name_the_override_and_the_shipped_file);
	return ut_run("rules", tc);
}
