// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests for filter.c and filter_load.c: loading filter files,
 * program dispatch, named groups, ignore regexes, limits, and hostile
 * captures. */
#include "filter.h"
#include "inilayer.h"
#include "line.h"

#include "unit.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>


#define MAXEV 8
static struct got {
	char kind[16], ip[ADDR_STRLEN], user[64], session[64], service[32], filter[32];
	unsigned long count;
	bool only_if_counted;
} got[MAXEV];
static int ngot;

static void on_event(void *arg, const struct event *ev, const struct logline *ll)
{
	struct got *g = &got[ngot++];

	(void)arg;
	(void)ll;
	memset(g, 0, sizeof *g);
	snprintf(g->kind, sizeof g->kind, "%s", ev_kind_name(ev->kind));
	if (ev->has_ip)
		addr_format(&ev->ip, g->ip);
	if (ev->user)
		snprintf(g->user, sizeof g->user, "%.*s", (int)ev->userlen, ev->user);
	if (ev->session)
		snprintf(g->session, sizeof g->session, "%.*s", (int)ev->sessionlen, ev->session);
	if (ev->service)
		snprintf(g->service, sizeof g->service, "%.*s", (int)ev->servicelen, ev->service);
	snprintf(g->filter, sizeof g->filter, "%s", ev->filter_name);
	g->count = ev->count;
	g->only_if_counted = ev->only_if_counted;
}

static int run(struct matcher *m, const char *line)
{
	struct logline ll;

	ngot = 0;
	logline_parse(&ll, line, strlen(line), time(NULL));
	return matcher_run(m, &ll, on_event, NULL);
}

static const char *ff =
	"# test filters\n"
	"[t-sasl]\n"
	"program = postfix/smtpd postfix/*/smtpd\n"
	"session = pid\n"
	"event = auth-fail\n"
	"service = smtp\n"
	"program_service = postfix/submission/smtpd=submission\n"
	"regex = ^warning: [-._0-9A-Za-z]+\\[(?<ip>[^]]+)\\]: SASL \\w+ authentication failed(?:.*, sasl_username=(?<user>\\S+))?\n"
	"\n"
	"[t-disconnect]\n"
	"program = postfix/smtpd\n"
	"event = disconnect\n"
	"regex = ^disconnect from [-._0-9A-Za-z]+\\[(?<ip>[^]]+)\\]\n"
	"\n"
	"[t-rset]\n"
	"program = postfix/smtpd\n"
	"event = rset\n"
	"regex = ^disconnect from [-._0-9A-Za-z]+\\[(?<ip>[^]]+)\\].* rset=(?<count>\\d+)\n"
	"\n"
	"[t-dovecot]\n"
	"program = dovecot\n"
	"event = auth-fail\n"
	"regex = ^(?<service>imap|pop3)-login: Disconnected.*\\(auth failed.*\\): user=<(?<user>[^>]*)>, method=\\S+, rip=(?<ip>[0-9a-f.:]+), .*session=<(?<session>[^>]+)>\n"
	"ignore = user=<ignored-user>\n"
	"\n"
	"[t-any]\n"
	"event = abuse\n"
	"regex = ^EVIL from (?<ip>\\S+)$\n"
	"\n"
	"[t-untagged]\n"
	"program = - auth\n"
	"event = auth-fail\n"
	"regex = ^(?:Info: )?UNTAGGED from (?<ip>\\S+)$\n";

static struct filterset *fs;
static struct matcher *m;

static void setup(void)
{
	char err[512];

	fs = filterset_new(NULL);
	ck_assert_msg(filterset_load(fs, ut_write("t.conf", ff), err, sizeof err) == 0, "%s", err);
	m = matcher_new(fs, NULL, 0, err, sizeof err);
	ck_assert_ptr_nonnull(m);
}

static void teardown(void)
{
	matcher_free(m);
	filterset_free(fs);
}

START_TEST(event_fields_come_from_named_groups)
{
	ck_assert_int_eq(run(m, "Nov 22 10:00:01 mx postfix/smtpd[1234]: warning: unknown[203.0.113.5]: SASL LOGIN "
			     "authentication failed: authentication failure, sasl_username=bob"), 1);
	ck_assert_str_eq(got[0].kind, "auth-fail");
	ck_assert_str_eq(got[0].ip, "203.0.113.5");
	ck_assert_str_eq(got[0].user, "bob");
	ck_assert_str_eq(got[0].service, "smtp");
	ck_assert_str_eq(got[0].session, "postfix/smtpd[1234]");
	ck_assert_uint_eq(got[0].count, 1);
}
END_TEST

START_TEST(program_decides_which_filters_run)
{
	const char *msg = "warning: unknown[203.0.113.5]: SASL LOGIN authentication failed: x";
	char line[256];

	snprintf(line, sizeof line, "Nov 22 10:00:01 mx postfix/submission/smtpd[7]: %s", msg);
	ck_assert_int_eq(run(m, line), 1);
	ck_assert_str_eq(got[0].service, "submission");
	snprintf(line, sizeof line, "Nov 22 10:00:01 mx postfix/qmgr[7]: %s", msg);
	ck_assert_int_eq(run(m, line), 0);
	snprintf(line, sizeof line, "Nov 22 10:00:01 mx evil[7]: %s", msg);
	ck_assert_int_eq(run(m, line), 0);
	/* a filter without program sees every line, tagged or not */
	ck_assert_int_eq(run(m, "Nov 22 10:00:01 mx anything[1]: EVIL from 198.51.100.7"), 1);
	ck_assert_int_eq(run(m, "EVIL from 198.51.100.8"), 1);
	ck_assert_str_eq(got[0].ip, "198.51.100.8");
	/* "program = -" is the lines without a tag (Dovecot's log_path), and
	 * never another program's tag, not even a literal "-" */
	ck_assert_int_eq(run(m, "2026-11-22 10:00:01 UNTAGGED from 198.51.100.9"), 1);
	ck_assert_str_eq(got[0].filter, "t-untagged");
	ck_assert_str_eq(got[0].ip, "198.51.100.9");
	ck_assert_int_eq(run(m, "2026-11-22 10:00:01 auth: Info: UNTAGGED from 198.51.100.10"), 1);
	ck_assert_str_eq(got[0].ip, "198.51.100.10");
	ck_assert_int_eq(run(m, "Nov 22 10:00:01 mx other[1]: UNTAGGED from 198.51.100.11"), 0);
	ck_assert_int_eq(run(m, "Nov 22 10:00:01 mx -[1]: UNTAGGED from 198.51.100.12"), 0);
	ck_assert_int_eq(run(m, "Nov 22 10:00:01 mx -: UNTAGGED from 198.51.100.13"), 0);
}
END_TEST

START_TEST(one_line_can_feed_several_filters_in_file_order)
{
	ck_assert_int_eq(run(m, "Nov 22 10:00:01 mx postfix/smtpd[9]: disconnect from unknown[2001:db8::7] ehlo=1 "
			     "auth=0/1 rset=3 quit=1 commands=2/5"), 2);
	ck_assert_str_eq(got[0].kind, "disconnect");
	ck_assert_str_eq(got[1].kind, "rset");
	ck_assert_uint_eq(got[1].count, 3);
	ck_assert_str_eq(got[1].ip, "2001:db8::7");
	/* rset=0 is no event */
	ck_assert_int_eq(run(m, "Nov 22 10:00:01 mx postfix/smtpd[9]: disconnect from unknown[2001:db8::7] rset=0"), 1);
}
END_TEST

START_TEST(service_and_session_groups_override)
{
	ck_assert_int_eq(run(m, "Nov 22 10:00:01 mx dovecot[5]: pop3-login: Disconnected (auth failed, 1 attempts): "
			     "user=<carol>, method=PLAIN, rip=::ffff:198.51.100.9, lip=192.0.2.1, session=<AbCd>"), 1);
	ck_assert_str_eq(got[0].service, "pop3");
	ck_assert_str_eq(got[0].session, "AbCd");
	ck_assert_str_eq(got[0].ip, "198.51.100.9");
	ck_assert_str_eq(got[0].user, "carol");
}
END_TEST

START_TEST(ignore_regex_suppresses_the_event)
{
	ck_assert_int_eq(run(m, "Nov 22 10:00:01 mx dovecot[5]: imap-login: Disconnected (auth failed, 1 attempts): "
			     "user=<ignored-user>, method=PLAIN, rip=198.51.100.9, lip=192.0.2.1, session=<x>"), 0);
}
END_TEST

START_TEST(invalid_captured_address_yields_no_event)
{
	ck_assert_int_eq(run(m, "Nov 22 10:00:01 mx postfix/smtpd[1]: warning: unknown[999.1.1.1]: SASL LOGIN "
			     "authentication failed: x"), 0);
	ck_assert_int_eq(run(m, "Nov 22 10:00:01 mx postfix/smtpd[1]: warning: unknown[not-an-ip]: SASL LOGIN "
			     "authentication failed: x"), 0);
	{
		struct filter_stats st;
		filterset_stats(fs, 0, &st);
		ck_assert_uint_eq(st.bad_ip, 2);
	}
}
END_TEST

START_TEST(binary_and_huge_lines_are_harmless)
{
	char *big = malloc(1 << 20);
	struct logline ll;

	memset(big, 'A', 1 << 20);
	memcpy(big, "EVIL from ", 10);
	ngot = 0;
	logline_parse(&ll, big, 1 << 20, time(NULL));
	ck_assert_int_eq(matcher_run(m, &ll, on_event, NULL), 0);
	memcpy(big, "Nov 22 10:00:01 mx postfix/smtpd[1]: \0\xff\xfe warning", 48);
	logline_parse(&ll, big, 1 << 20, time(NULL));
	ck_assert_int_eq(matcher_run(m, &ll, on_event, NULL), 0);
	free(big);
}
END_TEST

START_TEST(runaway_regex_hits_the_match_limit)
{
	struct filter_limits lim = { .match_limit = 10000 };
	struct filterset *f2 = filterset_new(&lim);
	struct matcher *m2;
	struct logline ll;
	struct filter_stats st;
	char err[512], line[64];

	ck_assert_int_eq(filterset_load(f2, ut_write("evil.conf", "[evil]\nevent = abuse\nregex = ^(a+)+$(?<ip>x)?\n"),
					err, sizeof err), 0);
	m2 = matcher_new(f2, NULL, 0, err, sizeof err);
	memset(line, 'a', 40);
	strcpy(line + 40, "b");
	logline_parse(&ll, line, strlen(line), time(NULL));
	ck_assert_int_eq(matcher_run(m2, &ll, on_event, NULL), 0);
	filterset_stats(f2, 0, &st);
	ck_assert_uint_eq(st.limit_hits, 1);
	matcher_free(m2);
	filterset_free(f2);
}
END_TEST

START_TEST(filter_file_errors_name_file_and_line)
{
	static const struct { const char *text, *expect; } cases[] = {
		{ "[a]\nevent = auth-fail\nregex = ^x(?<ip>\n", "bad.conf:3: bad regex" },
		{ "[a]\nevent = auth-fial\n", "bad.conf:2: unknown event 'auth-fial'" },
		{ "[a]\nevent = abuse\nregex = ^(?<host>\\S+)\n", "bad.conf:3: unknown named group 'host'" },
		{ "[a]\nevent = abuse\nregex = ^x\n", "bad.conf:3: regex has neither" },
		{ "[a]\nevent = abuse\ncolour = x\n", "bad.conf:3: unknown key 'colour'" },
		{ "[a]\nevent = abuse\nonly_if_counted = maybe\n", "bad.conf:3: only_if_counted wants yes or no, not 'maybe'" },
		{ "[a]\nregex = ^(?<ip>x)\n", "filter 'a' (line 2) has no 'event'" },
		{ "[a]\nevent = abuse\n[b]\nevent = abuse\nregex = ^(?<ip>x)\n", "filter 'a' (line 2) has no 'regex'" },
		{ "[a]\nevent = abuse\nregex = ^(?<ip>x)\n[a]\nevent = abuse\n", "bad.conf:5: filter 'a' is defined twice" },
		{ "[A B]\nevent = abuse\n", "bad filter name" },
		{ "[a]\nevent = abuse\nsession = process\n", "bad.conf:3: session = 'process': use pid" },
		{ "# nothing\n", "no filters" },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct filterset *f2 = filterset_new(NULL);
		char err[512] = "";
		ck_assert_int_eq(filterset_load(f2, ut_write("bad.conf", cases[i].text), err, sizeof err), -1);
		ck_assert_msg(strstr(err, cases[i].expect), "case %zu: '%s' lacks '%s'", i, err, cases[i].expect);
		ck_assert_uint_eq(filterset_nfilters(f2), 0);
		filterset_free(f2);
	}
}
END_TEST

/* The literal-prefix shortcut must never change what a regex matches. */
START_TEST(literal_prefix_shortcut_keeps_regex_semantics)
{
	static const struct { const char *re, *line; int events; } cases[] = {
		{ "^foo|bar (?<ip>\\S+)", "xx bar 192.0.2.1", 1 },          /* top-level '|' */
		{ "^ab?c (?<ip>\\S+)", "ac 192.0.2.1", 1 },                 /* optional literal */
		{ "^ab*c (?<ip>\\S+)", "ac 192.0.2.1", 1 },
		{ "^ab{0,2}c (?<ip>\\S+)", "ac 192.0.2.1", 1 },
		{ "^a\\.b (?<ip>\\S+)", "a.b 192.0.2.1", 1 },
		{ "^a\\.b (?<ip>\\S+)", "axb 192.0.2.1", 0 },
		{ "^a[|]b (?<ip>\\S+)", "a|b 192.0.2.1", 1 },
		{ "^(?i)abc (?<ip>\\S+)", "ABC 192.0.2.1", 1 },
		{ "^abc(?i)def (?<ip>\\S+)", "abcDEF 192.0.2.1", 1 },
		{ "^abc(?i)def (?<ip>\\S+)", "ABCdef 192.0.2.1", 0 },
		{ "^\\Qa|b\\E (?<ip>\\S+)", "a|b 192.0.2.1", 1 },
		{ "^x\\d (?<ip>\\S+)", "x7 192.0.2.1", 1 },
		{ "^(a|b)c (?<ip>\\S+)", "bc 192.0.2.1", 1 },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct filterset *f2 = filterset_new(NULL);
		struct matcher *m2;
		char err[512], text[256];
		struct logline ll;

		snprintf(text, sizeof text, "[p]\nevent = abuse\nregex = %s\n", cases[i].re);
		ck_assert_msg(filterset_load(f2, ut_write("p.conf", text), err, sizeof err) == 0, "%s", err);
		m2 = matcher_new(f2, NULL, 0, err, sizeof err);
		logline_parse(&ll, cases[i].line, strlen(cases[i].line), time(NULL));
		ngot = 0;
		ck_assert_msg(matcher_run(m2, &ll, on_event, NULL) == cases[i].events, "case %zu: '%s' on '%s'", i,
			      cases[i].re, cases[i].line);
		matcher_free(m2);
		filterset_free(f2);
	}
}
END_TEST

/* program[pid] is the session only where the filter says one process
 * serves one client (session = pid, Postfix smtpd). A Dovecot process
 * serves many: a line of it without session=<...> has no session, or one
 * client's login would make every other client of that process
 * authenticated. */
START_TEST(pid_session_only_where_the_filter_says_so)
{
	static const char *text =
		"[smtpd-connect]\n"
		"program = postfix/smtpd\n"
		"session = pid\n"
		"event = connect\n"
		"regex = ^connect from [^\\s\\[]+\\[(?<ip>[^\\]]+)\\]$\n"
		"\n"
		"[dovecot-ok]\n"
		"program = dovecot\n"
		"event = auth-ok\n"
		"regex = ^imap-login: Login: user=<(?<user>[^>]*)>, rip=(?<ip>[0-9a-f.:]+)(?:, session=<(?<session>[^>]+)>)?$\n"
		"\n"
		"[dovecot-fail]\n"
		"program = dovecot\n"
		"session = pid\n"
		"session = capture\n"
		"event = auth-fail\n"
		"regex = ^imap-login: Disconnected \\(auth failed\\): rip=(?<ip>[0-9a-f.:]+)$\n";
	struct filterset *f2 = filterset_new(NULL);
	struct matcher *m2;
	char err[512];
	struct logline ll;
	const char *lines[] = {
		"Nov 22 10:00:01 mx postfix/smtpd[1234]: connect from unknown[203.0.113.5]",
		"Nov 22 10:00:02 mx dovecot[812]: imap-login: Login: user=<bob>, rip=192.0.2.7",
		"Nov 22 10:00:03 mx dovecot[812]: imap-login: Login: user=<bob>, rip=192.0.2.7, session=<AbCd>",
		"Nov 22 10:00:04 mx dovecot[812]: imap-login: Disconnected (auth failed): rip=203.0.113.9",
	};
	const char *want[] = { "postfix/smtpd[1234]", "", "AbCd", "" };

	ck_assert_msg(filterset_load(f2, ut_write("s.conf", text), err, sizeof err) == 0, "%s", err);
	m2 = matcher_new(f2, NULL, 0, err, sizeof err);
	for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
		logline_parse(&ll, lines[i], strlen(lines[i]), time(NULL));
		ngot = 0;
		ck_assert_int_eq(matcher_run(m2, &ll, on_event, NULL), 1);
		ck_assert_msg(strcmp(got[0].session, want[i]) == 0, "line %zu: session '%s', want '%s'", i,
			      got[0].session, want[i]);
	}
	matcher_free(m2);
	filterset_free(f2);
}
END_TEST

/* A line cut at max_line ends where the cut fell: "rip=203.0.113.55, ..."
 * cut after "203.0.113.5" satisfies a '$'-anchored regex with the wrong
 * address. A line marked cut makes no event at all. */
START_TEST(cut_line_makes_no_event)
{
	const char *line = "Nov 22 10:00:01 mx dovecot[5]: imap-login: Disconnected (auth failed, 1 attempts): "
			   "user=<carol>, method=PLAIN, rip=203.0.113.5, lip=192.0.2.1, session=<AbCd>";
	struct logline ll;

	logline_parse(&ll, line, strlen(line), time(NULL));
	ck_assert(!ll.cut);
	ngot = 0;
	ck_assert_int_eq(matcher_run(m, &ll, on_event, NULL), 1);
	ll.cut = true;
	ngot = 0;
	ck_assert_int_eq(matcher_run(m, &ll, on_event, NULL), 0);
	ck_assert_int_eq(ngot, 0);
}
END_TEST

/* The README's examples comment values inline: "; ..." after a blank is a
 * comment in every key but regex and ignore, where ';' is the pattern's. */
START_TEST(inline_comments_end_values_but_regex_keeps_its_semicolons)
{
	struct filterset *fs2 = filterset_new(NULL);
	struct matcher *m2;
	char err[512];
	const char *p = ut_write("comments.conf",
		"[t-semi]\n"
		"program = postfix/smtpd   ; syslog tags\n"
		"event   = auth-fail        # a kind\n"
		"service = smtp ; the service\n"
		"regex   = ^fail ;(?<ip>[0-9.]+) #x$\n"
		"ignore  = ^fail ;192\\.0\\.2\\.99 #x$\n");

	ck_assert_msg(filterset_load(fs2, p, err, sizeof err) == 0, "%s", err);
	m2 = matcher_new(fs2, NULL, 0, err, sizeof err);
	ck_assert_ptr_nonnull(m2);
	ck_assert_int_eq(run(m2, "Nov 22 10:00:01 mx postfix/smtpd[9]: fail ;192.0.2.7 #x"), 1);
	ck_assert_str_eq(got[0].ip, "192.0.2.7");
	ck_assert_str_eq(got[0].kind, "auth-fail");
	ck_assert_str_eq(got[0].service, "smtp");
	ck_assert_int_eq(run(m2, "Nov 22 10:00:01 mx postfix/smtpd[9]: fail ;192.0.2.99 #x"), 0);
	ck_assert_int_eq(run(m2, "Nov 22 10:00:01 mx postfix/smtpd[9]: fail 192.0.2.7"), 0);
	matcher_free(m2);
	filterset_free(fs2);
}
END_TEST

START_TEST(matcher_refuses_unknown_file_names)
{
	const char *names[] = { "nope" };
	char err[256];

	ck_assert_ptr_null(matcher_new(fs, names, 1, err, sizeof err));
	ck_assert_ptr_nonnull(strstr(err, "'nope'"));
}
END_TEST

START_TEST(only_if_counted_marks_the_filters_events_and_no_others)
{
	struct filterset *f2 = filterset_new(NULL);
	struct matcher *m2;
	char err[512];
	const char *text =
		"[lost]\nprogram = postfix/smtpd\nevent = auth-fail\nonly_if_counted = yes\n"
		"regex = ^warning: \\S+\\[(?<ip>[^]]+)\\]: SASL \\S+ authentication failed: Connection lost\n"
		"[fail]\nprogram = postfix/smtpd\nevent = auth-fail\nonly_if_counted = no\n"
		"regex = ^warning: \\S+\\[(?<ip>[^]]+)\\]: SASL \\S+ authentication failed: \n"
		"ignore = Connection lost\n";

	ck_assert_msg(filterset_load(f2, ut_write("lost.conf", text), err, sizeof err) == 0, "%s", err);
	m2 = matcher_new(f2, NULL, 0, err, sizeof err);
	ck_assert_int_eq(run(m2, "Nov 22 10:00:01 mx postfix/smtpd[7]: warning: unknown[203.0.113.5]: SASL LOGIN "
			      "authentication failed: Connection lost to authentication server"), 1);
	ck_assert_str_eq(got[0].filter, "lost");
	ck_assert_str_eq(got[0].kind, "auth-fail");
	ck_assert_str_eq(got[0].ip, "203.0.113.5");
	ck_assert(got[0].only_if_counted);
	ck_assert_int_eq(run(m2, "Nov 22 10:00:01 mx postfix/smtpd[7]: warning: unknown[203.0.113.5]: SASL LOGIN "
			      "authentication failed: UGFzc3dvcmQ6"), 1);
	ck_assert_str_eq(got[0].filter, "fail");
	ck_assert(!got[0].only_if_counted);
	/* the shared fixture's filters have no mark */
	ck_assert_int_eq(run(m, "Nov 22 10:00:01 mx anything[1]: EVIL from 198.51.100.7"), 1);
	ck_assert(!got[0].only_if_counted);
	matcher_free(m2);
	filterset_free(f2);
}
END_TEST

START_TEST(program_cache_survives_many_distinct_tags)
{
	char line[128];

	for (int i = 0; i < 5000; i++) {
		snprintf(line, sizeof line, "Nov 22 10:00:01 mx tag%d[1]: EVIL from 192.0.2.%d", i, i % 250);
		ck_assert_int_eq(run(m, line), 1);
	}
	ck_assert_int_eq(run(m, "Nov 22 10:00:01 mx postfix/smtpd[1]: warning: unknown[203.0.113.5]: SASL LOGIN "
			     "authentication failed: x"), 1);
}
END_TEST

static bool applies(const char *name, const char *line)
{
	const struct filter *f = filterset_find(fs, name);
	struct logline ll;

	ck_assert_ptr_nonnull(f);
	logline_parse(&ll, line, strlen(line), time(NULL));
	return filter_applies(f, &ll);
}

START_TEST(filter_applies_follows_the_matchers_program_dispatch)
{
	ck_assert_ptr_null(filterset_find(fs, "no-such-filter"));
	/* glob patterns, whatever the message says */
	ck_assert(applies("t-sasl", "Nov 22 10:00:01 mx postfix/smtpd[1]: anything"));
	ck_assert(applies("t-sasl", "Nov 22 10:00:01 mx postfix/submission/smtpd[1]: anything"));
	ck_assert(!applies("t-sasl", "Nov 22 10:00:01 mx postfix/qmgr[1]: anything"));
	ck_assert(!applies("t-sasl", "no tag at all"));
	/* no program: every line */
	ck_assert(applies("t-any", "Nov 22 10:00:01 mx postfix/qmgr[1]: x"));
	ck_assert(applies("t-any", "no tag at all"));
	/* "-": untagged lines, never a literal "-" tag */
	ck_assert(applies("t-untagged", "2026-11-22 10:00:01 something"));
	ck_assert(applies("t-untagged", "Nov 22 10:00:01 mx auth: x"));
	ck_assert(!applies("t-untagged", "Nov 22 10:00:01 mx -: x"));
	ck_assert(!applies("t-dovecot", "2026-11-22 10:00:01 something"));
}
END_TEST

START_TEST(add_regex_builds_one_checked_filter)
{
	struct filterset *rs = filterset_new(NULL);
	struct matcher *rm;
	char err[512];

	ck_assert_int_eq(filterset_add_regex(rs, "^fail (?<ip>\\S+)$", "dovecot", NULL, err, sizeof err), 0);
	ck_assert_int_eq(filterset_add_regex(rs, "^x(?<ip>y)", NULL, NULL, err, sizeof err), -1);
	ck_assert_str_eq(err, "a filter file named 'regex' is already loaded");
	rm = matcher_new(rs, NULL, 0, err, sizeof err);
	ck_assert_int_eq(run(rm, "Nov 22 10:00:01 mx dovecot: fail 192.0.2.1"), 1);
	ck_assert_str_eq(got[0].kind, "auth-fail");
	ck_assert_str_eq(got[0].filter, "regex");
	ck_assert_str_eq(got[0].ip, "192.0.2.1");
	ck_assert_int_eq(run(rm, "Nov 22 10:00:01 mx postfix/smtpd[1]: fail 192.0.2.1"), 0);
	matcher_free(rm);
	filterset_free(rs);

	rs = filterset_new(NULL);
	ck_assert_int_eq(filterset_add_regex(rs, "^fail", NULL, NULL, err, sizeof err), -1);
	ck_assert_str_eq(err, "regex has neither (?<ip>...) nor (?<user>...): it could not name whom to count");
	ck_assert_int_eq(filterset_add_regex(rs, "^(?<ip>x)", NULL, "bogus", err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "unknown event 'bogus'"));
	ck_assert_int_eq(filterset_add_regex(rs, "^(?<nope>x)", NULL, NULL, err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "unknown named group 'nope'"));
	ck_assert_uint_eq(filterset_nfilters(rs), 0);
	ck_assert_int_eq(filterset_add_regex(rs, "^(?<user>x)", "-", "connect", err, sizeof err), 0);
	ck_assert_uint_eq(filterset_nfilters(rs), 1);
	filterset_free(rs);
}
END_TEST

/* The warnings filterset_warnings writes, one string. */
static char *warnings_of(const struct filterset *wfs, size_t *n)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *fp = open_memstream(&buf, &len);

	ck_assert_ptr_nonnull(fp);
	*n = filterset_warnings(wfs, fp);
	fclose(fp);
	return buf;
}

/* fail2ban's macros are literal text to PCRE2: a warning with file:line
 * and what to write instead; a named group or an escaped '<' is none. */
START_TEST(fail2ban_macros_are_warned_about)
{
	struct filterset *wfs = filterset_new(NULL);
	char err[512], *w;
	size_t n;
	const char *path = ut_write("w.conf",
		"[w]\n"
		"event = auth-fail\n"
		"regex = ^fail from (?<ip>\\S+) <HOST>$\n"
		"regex = ^user (?<user><F-USER>\\S+</F-USER>)$\n"
		"regex = ^%(__prefix_line)s(?<ip>x)$\n"
		"regex = ^100%(?<ip>x)s \\<HOST> <host> (?<ip2>y)?$\n");

	/* the last one: "(?<ip2>" is refused as an unknown group */
	ck_assert_int_eq(filterset_load(wfs, path, err, sizeof err), -1);
	filterset_free(wfs);
	wfs = filterset_new(NULL);
	path = ut_write("w.conf",
		"[w]\n"
		"event = auth-fail\n"
		"regex = ^fail from (?<ip>\\S+) <HOST>$\n"
		"regex = ^user (?<user><F-USER>\\S+</F-USER>)$\n"
		"regex = ^%(__prefix_line)s(?<ip>x)$\n"
		"regex = ^100%(?<ip>x)s \\<HOST> <host>$\n");
	ck_assert_msg(filterset_load(wfs, path, err, sizeof err) == 0, "%s", err);
	w = warnings_of(wfs, &n);
	ck_assert_uint_eq(n, 3);
	ck_assert_ptr_nonnull(strstr(w, "w.conf:3: warning: regex contains fail2ban's <HOST>, which PCRE2 reads as "
					"literal text that never matches: capture the address with (?<ip>...)"));
	ck_assert_ptr_nonnull(strstr(w, "w.conf:4: warning: regex contains fail2ban's <F-USER>,"));
	ck_assert_ptr_nonnull(strstr(w, "w.conf:5: warning: regex contains fail2ban's %(__prefix_line)s,"));
	ck_assert_ptr_null(strstr(w, "w.conf:6:"));
	free(w);
	filterset_free(wfs);

	/* the shipped kind of regex: no warning */
	w = warnings_of(fs, &n);
	ck_assert_uint_eq(n, 0);
	free(w);
}
END_TEST

static struct filter_explain xgot[8];
static int nx;

static void on_explain(void *arg, const struct filter_explain *fx, const struct logline *ll)
{
	(void)arg;
	(void)ll;
	ck_assert_int_lt(nx, 8);
	xgot[nx++] = *fx;
}

static int explain(struct matcher *xm, const char *line)
{
	struct logline ll;

	ngot = nx = 0;
	logline_parse(&ll, line, strlen(line), time(NULL));
	return matcher_explain(xm, &ll, on_event, on_explain, NULL);
}

/* matcher_explain: the same events as matcher_run, and per filter tried
 * the outcome, the deciding regex and ignore, and the groups. */
START_TEST(explain_says_what_each_filter_did)
{
	ck_assert_int_eq(explain(m, "Nov 22 10:00:01 mx postfix/smtpd[1234]: disconnect from x[203.0.113.5] "
				    "ehlo=1 rset=3 commands=4"), 2);
	ck_assert_int_eq(nx, 4);        /* t-sasl, t-disconnect, t-rset, t-any */
	ck_assert_str_eq(filter_name(xgot[0].filter), "t-sasl");
	ck_assert_int_eq(xgot[0].outcome, FILTER_NO_MATCH);
	ck_assert_int_eq(xgot[0].regex, -1);
	ck_assert_uint_eq(xgot[0].nregex, 1);
	ck_assert_int_eq(xgot[1].outcome, FILTER_EVENT);
	ck_assert_int_eq(xgot[1].regex, 0);
	ck_assert_int_eq(xgot[1].regex_line, 13);
	ck_assert_uint_eq(xgot[1].ngroups, 1);
	ck_assert_str_eq(xgot[1].groups[0].name, "ip");
	ck_assert_int_eq((int)xgot[1].groups[0].len, 11);
	ck_assert_int_eq(memcmp(xgot[1].groups[0].p, "203.0.113.5", 11), 0);
	ck_assert_int_eq(xgot[2].outcome, FILTER_EVENT);
	ck_assert_uint_eq(xgot[2].ngroups, 2);
	ck_assert_str_eq(xgot[2].groups[1].name, "count");
	ck_assert_int_eq(xgot[3].outcome, FILTER_NO_MATCH);
	ck_assert_str_eq(got[1].kind, "rset");

	/* an ignore regex cancels: which one, and the groups of the regex */
	ck_assert_int_eq(explain(m, "Nov 22 10:00:01 mx dovecot: imap-login: Disconnected (auth failed, 1 attempts "
				    "in 2 secs): user=<ignored-user>, method=PLAIN, rip=203.0.113.5, lip=192.0.2.1, "
				    "session=<abc>"), 0);
	ck_assert_int_eq(nx, 2);        /* t-dovecot, t-any */
	ck_assert_int_eq(xgot[0].outcome, FILTER_IGNORED);
	ck_assert_int_eq(xgot[0].regex, 0);
	ck_assert_int_eq(xgot[0].ignore, 0);
	ck_assert_int_eq(xgot[0].ignore_line, 24);
	ck_assert_uint_eq(xgot[0].ngroups, 4);
	ck_assert_str_eq(filter_outcome_name(xgot[0].outcome), "ignored");

	/* an address that is none */
	ck_assert_int_eq(explain(m, "Nov 22 10:00:01 mx cron[1]: EVIL from 203.0.113.500"), 0);
	ck_assert_int_eq(nx, 1);
	ck_assert_int_eq(xgot[0].outcome, FILTER_BAD_IP);
}
END_TEST

/* A regex that hits the match limit: explained as such, and counted as
 * matcher_run counts it. */
START_TEST(explain_names_a_limit_hit)
{
	struct filter_limits lim = { .match_limit = 10000 };
	struct filterset *f2 = filterset_new(&lim);
	struct matcher *m2;
	struct filter_stats st;
	char err[512], line[64];

	ck_assert_int_eq(filterset_load(f2, ut_write("evil.conf", "[evil]\nevent = abuse\nregex = ^x(?<ip>y)$\n"
						     "regex = ^(a+)+$(?<ip>x)?\n"), err, sizeof err), 0);
	m2 = matcher_new(f2, NULL, 0, err, sizeof err);
	memset(line, 'a', 40);
	strcpy(line + 40, "b");
	ck_assert_int_eq(explain(m2, line), 0);
	ck_assert_int_eq(nx, 1);
	ck_assert_int_eq(xgot[0].outcome, FILTER_LIMIT);
	ck_assert_int_eq(xgot[0].regex, 1);
	ck_assert_int_eq(xgot[0].regex_line, 4);
	ck_assert_int_eq(xgot[0].ignore, -1);
	ck_assert_uint_eq(xgot[0].ngroups, 0);
	filterset_stats(f2, 0, &st);
	ck_assert_uint_eq(st.limit_hits, 1);
	matcher_free(m2);
	filterset_free(f2);
}
END_TEST

START_TEST(overrides_replace_a_regex_list_and_add_filters_to_their_file)
{
	struct filterset *set = filterset_new(NULL);
	struct inilayer *d = inilayer_new();
	struct filter_stats st;
	const struct filter *f;
	char err[512];

	ck_assert_int_eq(inilayer_add_string(d, "filters/srv.conf",
		"[srv-fail]\nprogram = srv\nevent = auth-fail\nregex = ^fail (?<ip>\\S+)$\nregex = ^bad (?<ip>\\S+)$\n"
		"[srv-ok]\nprogram = srv\nevent = auth-ok\nregex = ^ok (?<ip>\\S+)$\n",
		NULL, false, err, sizeof err), 0);
	/* one regex line replaces the shipped list of two */
	ck_assert_int_eq(inilayer_add_string(d, "filters/srv.local", "[srv-fail]\nregex = ^denied (?<ip>\\S+)$\n",
					     NULL, true, err, sizeof err), 0);
	/* a new section in filters.d/srv.conf joins filter file srv; in
	 * filters.d/mine.conf it makes filter file mine */
	ck_assert_int_eq(inilayer_add_string(d, "filters.d/srv.conf",
		"[srv-abuse]\nprogram = srv\nevent = abuse\nregex = ^abuse (?<ip>\\S+)$\n", NULL, true, err, sizeof err), 0);
	ck_assert_int_eq(inilayer_add_string(d, "filters.d/mine.conf",
		"[mine]\nevent = abuse\nregex = ^mine (?<ip>\\S+)$\n[srv-ok]\nevent = auth-fail\n", NULL, true,
		err, sizeof err), 0);
	ck_assert_msg(filterset_load_layers(set, d, err, sizeof err) == 0, "%s", err);
	ck_assert_uint_eq(filterset_nfilters(set), 4);
	filterset_stats(set, 0, &st);
	ck_assert_str_eq(st.name, "srv-fail");
	ck_assert_uint_eq(st.nregex, 1);
	f = filterset_find(set, "srv-abuse");
	ck_assert_ptr_nonnull(f);
	ck_assert_str_eq(filter_file(f), "srv");
	ck_assert(filterset_has_file(set, "mine"));
	ck_assert_str_eq(filter_file(filterset_find(set, "mine")), "mine");
	ck_assert_str_eq(filter_path(filterset_find(set, "mine")), "filters.d/mine.conf");
	/* an override of another file's filter stays in that file */
	ck_assert_str_eq(filter_file(filterset_find(set, "srv-ok")), "srv");
	filterset_free(set);
	inilayer_free(d);
}
END_TEST

START_TEST(filter_override_errors_name_the_override)
{
	static const struct { const char *text, *expect; } cases[] = {
		{ "[srv-fail]\nregex = ^(?<ip>x\n", "filters/srv.local:2: bad regex" },
		{ "[srv-fail]\ncolour = red\n", "filters/srv.local:2: unknown key 'colour' in [srv-fail]" },
		{ "[srv-fial]\nregex = ^x (?<ip>\\S+)$\n", "filters/srv.local:1: filter 'srv-fial' (line 2) has no "
		  "'event' key (no shipped filter is named 'srv-fial', so this section adds a new filter; did you "
		  "mean [srv-fail] of filters/srv.conf:1?)" },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct filterset *set = filterset_new(NULL);
		struct inilayer *d = inilayer_new();
		char err[512] = "";
		ck_assert_int_eq(inilayer_add_string(d, "filters/srv.conf",
			"[srv-fail]\nevent = auth-fail\nregex = ^fail (?<ip>\\S+)$\n", NULL, false, err, sizeof err), 0);
		ck_assert_int_eq(inilayer_add_string(d, "filters/srv.local", cases[i].text, NULL, true, err, sizeof err), 0);
		ck_assert_int_eq(filterset_load_layers(set, d, err, sizeof err), -1);
		ck_assert_msg(strstr(err, cases[i].expect), "case %zu: '%s' lacks '%s'", i, err, cases[i].expect);
		ck_assert_uint_eq(filterset_nfilters(set), 0);
		ck_assert(!filterset_has_file(set, "srv"));
		filterset_free(set);
		inilayer_free(d);
	}
}
END_TEST

int main(void)
{
	TCase *tc = tcase_create("filter");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, event_fields_come_from_named_groups);
	tcase_add_test(tc, program_decides_which_filters_run);
	tcase_add_test(tc, one_line_can_feed_several_filters_in_file_order);
	tcase_add_test(tc, service_and_session_groups_override);
	tcase_add_test(tc, ignore_regex_suppresses_the_event);
	tcase_add_test(tc, invalid_captured_address_yields_no_event);
	tcase_add_test(tc, binary_and_huge_lines_are_harmless);
	tcase_add_test(tc, runaway_regex_hits_the_match_limit);
	tcase_add_test(tc, filter_file_errors_name_file_and_line);
	tcase_add_test(tc, literal_prefix_shortcut_keeps_regex_semantics);
	tcase_add_test(tc, matcher_refuses_unknown_file_names);
	tcase_add_test(tc, inline_comments_end_values_but_regex_keeps_its_semicolons);
	tcase_add_test(tc, only_if_counted_marks_the_filters_events_and_no_others);
	tcase_add_test(tc, program_cache_survives_many_distinct_tags);
	tcase_add_test(tc, pid_session_only_where_the_filter_says_so);
	tcase_add_test(tc, cut_line_makes_no_event);
	tcase_add_test(tc, filter_applies_follows_the_matchers_program_dispatch);
	tcase_add_test(tc, add_regex_builds_one_checked_filter);
	tcase_add_test(tc, fail2ban_macros_are_warned_about);
	tcase_add_test(tc, explain_says_what_each_filter_did);
	tcase_add_test(tc, explain_names_a_limit_hit);
	tcase_add_test(tc, overrides_replace_a_regex_list_and_add_filters_to_their_file);
	tcase_add_test(tc, filter_override_errors_name_the_override);
	return ut_run("filter", tc);
}
