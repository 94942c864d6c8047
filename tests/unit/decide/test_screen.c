// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests for screen.c: the rules at work, events in and decisions
 * out: windows per rule and key, the exemptions (loopback, the host's
 * own addresses, the allow list, authenticated sessions and addresses,
 * the NAT exemption), only_if_counted follow-ups, the bounds per table,
 * the counts saved and put back, reset, and a session's counts ending
 * at its disconnect.
 */
#include "rules.h"
#include "screen.h"

#include "unit.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int ndecisions;
static struct decision last;

static bool on_decision(void *arg, const struct decision *d, const struct event *ev, const struct logline *ll)
{
	(void)arg;
	(void)ev;
	(void)ll;
	ndecisions++;
	last = *d;
	return true;
}

static struct nat_cfg *nat;
static size_t nnat;
static char *const *xaccts;     /* [allow] account */
static size_t nxaccts;

static struct screen *screen_with(const char *rules, const char *allow)
{
	struct ruleset rs = { 0 };
	struct cidrlist al = { 0 };
	struct screen *s = screen_new();
	char err[512];

	ck_assert_int_eq(ruleset_load(&rs, ut_write("s.conf", rules), err, sizeof err), 0);
	if (allow) {
		struct cidr c;
		ck_assert_int_eq(cidr_parse(allow, &c, err, sizeof err), 0);
		cidrlist_add(&al, &c);
	}
	{
		struct screen_opts o = { .allow = &al, .max_keys = 1000, .nat = nat, .nnat = nnat,
					 .exempt_accounts = xaccts, .nexempt_accounts = nxaccts };
		screen_configure(s, &rs, &o);
	}
	cidrlist_release(&al);
	ndecisions = 0;
	return s;
}

/* One event of a line that may hold more: the line ends at screen_end_line. */
static void feed_in_line(struct screen *s, enum ev_kind k, const char *ip, const char *svc, const char *user,
			 const char *session, unsigned long count, uint64_t t)
{
	struct event ev = { .kind = k, .count = count, .service = svc, .servicelen = svc ? strlen(svc) : 0,
			    .user = user, .userlen = user ? strlen(user) : 0, .session = session,
			    .sessionlen = session ? strlen(session) : 0 };
	struct logline ll = { .raw = "x", .rawlen = 1 };

	if (ip) {
		ck_assert_int_eq(addr_parse(ip, strlen(ip), &ev.ip), 0);
		ev.has_ip = true;
	}
	screen_event(s, &ev, &ll, t, on_decision, NULL);
}

/* A line of one event. */
static void feed_full(struct screen *s, enum ev_kind k, const char *ip, const char *svc, const char *user,
		      const char *session, unsigned long count, uint64_t t)
{
	feed_in_line(s, k, ip, svc, user, session, count, t);
	screen_end_line(s);
}

static void feed(struct screen *s, enum ev_kind k, const char *ip, const char *svc, uint64_t t)
{
	struct event ev = { .kind = k, .count = 1, .service = svc, .servicelen = svc ? strlen(svc) : 0 };
	struct logline ll = { .raw = "x", .rawlen = 1 };

	if (ip) {
		ck_assert_int_eq(addr_parse(ip, strlen(ip), &ev.ip), 0);
		ev.has_ip = true;
	}
	screen_event(s, &ev, &ll, t, on_decision, NULL);
}

static const char *auth_rule = "[auth-ip]\nevents = auth-fail\nlimit = 3\nwindow = 10m\nblock = 1h\n";

START_TEST(screen_blocks_at_the_limit_and_starts_over)
{
	struct screen *s = screen_with(auth_rule, NULL);
	char buf[CIDR_STRLEN];

	feed(s, EV_AUTH_FAIL, "203.0.113.5", "smtp", 1000);
	feed(s, EV_AUTH_OK, "203.0.113.5", "smtp", 1001);
	feed(s, EV_AUTH_FAIL, "203.0.113.5", "smtp", 1002);
	ck_assert_int_eq(ndecisions, 0);
	feed(s, EV_AUTH_FAIL, "203.0.113.5", "imap", 1003);
	ck_assert_int_eq(ndecisions, 1);
	cidr_format(&last.target, buf);
	ck_assert_str_eq(buf, "203.0.113.5");
	ck_assert_uint_eq(last.count, 3);
	ck_assert_str_eq(last.rule->name, "auth-ip");
	feed(s, EV_AUTH_FAIL, "203.0.113.5", "smtp", 1004);
	ck_assert_int_eq(ndecisions, 1);
	screen_free(s);
}
END_TEST

START_TEST(each_rule_counts_its_events_decisions_and_blocks_across_reloads)
{
	struct screen *s = screen_with("[auth-ip]\nevents = auth-fail\nlimit = 3\nwindow = 10m\nblock = 1h\n"
				       "[conn]\nevents = connect\nlimit = 100\nwindow = 1m\nblock = permanent\n", NULL);
	struct screen_rule_stats rs;
	struct ruleset rs2 = { 0 };
	char err[512];

	ck_assert_uint_eq(screen_rule_count(s), 2);
	ck_assert_int_eq(screen_rule_find(s, "conn"), 1);
	ck_assert_int_eq(screen_rule_find(s, "nosuch"), -1);
	for (uint64_t t = 1; t <= 4; t++)
		feed(s, EV_AUTH_FAIL, "203.0.113.5", "smtp", t);
	feed(s, EV_AUTH_FAIL, "203.0.113.6", "smtp", 5);
	feed(s, EV_CONNECT, "203.0.113.6", "smtp", 6);
	ck_assert_int_eq(ndecisions, 1);
	screen_note_block(s, last.rule);
	screen_set_blocks_before(s, "auth-ip", 40);
	screen_set_blocks_before(s, "nosuch", 7);
	screen_rule_stats(s, 0, &rs);
	ck_assert_str_eq(rs.rule->name, "auth-ip");
	ck_assert_uint_eq(rs.counted, 5);
	ck_assert_uint_eq(rs.keys, 2);         /* .5 started over with 1, .6 has 1 */
	ck_assert_uint_eq(rs.decisions, 1);
	ck_assert_uint_eq(rs.blocks, 1);
	ck_assert_uint_eq(rs.blocks_before, 40);
	screen_rule_stats(s, 1, &rs);
	ck_assert_uint_eq(rs.counted, 1);
	ck_assert_uint_eq(rs.blocks + rs.blocks_before + rs.decisions, 0);
	/* a reload keeps the counters of a rule that keeps its name */
	ck_assert_int_eq(ruleset_load(&rs2, ut_write("s3.conf", "[new]\nevents = auth-fail\nlimit = 9\nwindow = 1m\n"
						      "block = 1h\n[auth-ip]\nevents = auth-fail\nlimit = 5\n"
						      "window = 10m\nblock = 2h\n"), err, sizeof err), 0);
	screen_configure(s, &rs2, NULL);
	ck_assert_int_eq(screen_rule_find(s, "auth-ip"), 1);
	screen_rule_stats(s, 1, &rs);
	ck_assert_uint_eq(rs.counted, 5);
	ck_assert_uint_eq(rs.blocks, 1);
	ck_assert_uint_eq(rs.blocks_before, 40);
	screen_rule_stats(s, 0, &rs);
	ck_assert_uint_eq(rs.counted + rs.blocks + rs.blocks_before, 0);
	screen_free(s);
}
END_TEST

START_TEST(screen_never_counts_loopback_or_allowed)
{
	struct screen *s = screen_with(auth_rule, "192.0.2.0/28");
	struct screen_stats st;

	for (int i = 0; i < 10; i++) {
		feed(s, EV_AUTH_FAIL, "127.0.0.1", "smtp", 1000 + (uint64_t)i);
		feed(s, EV_AUTH_FAIL, "::1", "smtp", 1000 + (uint64_t)i);
		feed(s, EV_AUTH_FAIL, "192.0.2.10", "smtp", 1000 + (uint64_t)i);
		feed(s, EV_AUTH_FAIL, "::ffff:192.0.2.11", "smtp", 1000 + (uint64_t)i);
	}
	ck_assert_int_eq(ndecisions, 0);
	screen_stats(s, &st);
	ck_assert_uint_eq(st.exempt, 40);
	ck_assert_uint_eq(st.tracked, 0);
	feed(s, EV_AUTH_FAIL, "192.0.2.16", "smtp", 2000);
	screen_stats(s, &st);
	ck_assert_uint_eq(st.tracked, 1);
	screen_free(s);
}
END_TEST

START_TEST(screen_keys_ipv6_per_prefix)
{
	struct screen *s = screen_with(auth_rule, NULL);
	char buf[CIDR_STRLEN];

	feed(s, EV_AUTH_FAIL, "2001:db8:1:2::5", "smtp", 1);
	feed(s, EV_AUTH_FAIL, "2001:db8:1:2:ffff::6", "smtp", 2);
	feed(s, EV_AUTH_FAIL, "2001:db8:1:3::7", "smtp", 3);
	ck_assert_int_eq(ndecisions, 0);
	feed(s, EV_AUTH_FAIL, "2001:db8:1:2::8", "smtp", 4);
	ck_assert_int_eq(ndecisions, 1);
	cidr_format(&last.target, buf);
	ck_assert_str_eq(buf, "2001:db8:1:2::/64");
	screen_free(s);
}
END_TEST

START_TEST(screen_respects_services_and_disabled_rules)
{
	struct screen *s = screen_with("[imap-only]\nevents = auth-fail\nservices = imap\nlimit = 2\nwindow = 1m\n"
				       "block = 1h\n[off]\nevents = auth-fail\nlimit = 1\nwindow = 1m\nblock = 1h\n"
				       "enabled = no\n", NULL);

	feed(s, EV_AUTH_FAIL, "203.0.113.9", "smtp", 1);
	feed(s, EV_AUTH_FAIL, "203.0.113.9", "smtp", 2);
	feed(s, EV_AUTH_FAIL, "203.0.113.9", NULL, 3);
	ck_assert_int_eq(ndecisions, 0);
	feed(s, EV_AUTH_FAIL, "203.0.113.9", "imap", 4);
	feed(s, EV_AUTH_FAIL, "203.0.113.9", "imap", 5);
	ck_assert_int_eq(ndecisions, 1);
	screen_free(s);
}
END_TEST

START_TEST(screen_reconfigure_keeps_counts_of_same_rule)
{
	struct screen *s = screen_with(auth_rule, NULL);
	struct ruleset rs = { 0 };
	char err[512];

	feed(s, EV_AUTH_FAIL, "203.0.113.5", "smtp", 1);
	feed(s, EV_AUTH_FAIL, "203.0.113.5", "smtp", 2);
	ck_assert_int_eq(ruleset_load(&rs, ut_write("s2.conf", "[auth-ip]\nevents = auth-fail\nlimit = 3\n"
						     "window = 10m\nblock = 2h\n"), err, sizeof err), 0);
	screen_configure(s, &rs, NULL);
	feed(s, EV_AUTH_FAIL, "203.0.113.5", "smtp", 3);
	ck_assert_int_eq(ndecisions, 1);
	ck_assert_uint_eq(last.rule->block_ms, 7200000);
	screen_free(s);
}
END_TEST

START_TEST(account_rule_blocks_the_account_across_addresses)
{
	struct screen *s = screen_with("[acct]\nevents = auth-fail\nper = account\nlimit = 3\nwindow = 10m\n"
				       "block = 1h\n", NULL);

	feed_full(s, EV_AUTH_FAIL, "203.0.113.1", "imap", "Bob@Example.org", NULL, 1, 1);
	feed_full(s, EV_AUTH_FAIL, "198.51.100.2", "smtp", "bob@example.org", NULL, 1, 2);
	feed_full(s, EV_AUTH_FAIL, "2001:db8::3", "pop3", "alice@example.org", NULL, 1, 3);
	feed_full(s, EV_AUTH_FAIL, NULL, "imap", "bob@example.ORG", NULL, 1, 4);
	ck_assert_int_eq(ndecisions, 1);
	ck_assert_int_eq(last.kind, DECIDE_ACCOUNT);
	ck_assert_uint_eq(last.userlen, strlen("bob@example.org"));
	ck_assert(memcmp(last.user, "bob@example.org", last.userlen) == 0);
	screen_free(s);
}
END_TEST

START_TEST(session_rule_counts_within_one_session_and_ends_at_disconnect)
{
	struct screen *s = screen_with("[rcpt]\nevents = rcpt-fail\nper = session\nlimit = 3\nwindow = 1h\n"
				       "block = 1h\n", NULL);
	char buf[CIDR_STRLEN];

	feed_full(s, EV_RCPT_FAIL, "203.0.113.5", "smtp", NULL, "smtpd[1]", 1, 1);
	feed_full(s, EV_RCPT_FAIL, "203.0.113.5", "smtp", NULL, "smtpd[1]", 1, 2);
	feed_full(s, EV_DISCONNECT, "203.0.113.5", "smtp", NULL, "smtpd[1]", 1, 3);
	feed_full(s, EV_RCPT_FAIL, "203.0.113.5", "smtp", NULL, "smtpd[1]", 1, 4);     /* a new session, same pid */
	feed_full(s, EV_RCPT_FAIL, "203.0.113.5", "smtp", NULL, "smtpd[2]", 1, 5);
	ck_assert_int_eq(ndecisions, 0);
	feed_full(s, EV_RCPT_FAIL, "203.0.113.5", "smtp", NULL, "smtpd[1]", 1, 6);
	feed_full(s, EV_RCPT_FAIL, "203.0.113.5", "smtp", NULL, "smtpd[1]", 1, 7);
	ck_assert_int_eq(ndecisions, 1);
	ck_assert_int_eq(last.kind, DECIDE_ADDR);
	cidr_format(&last.target, buf);
	ck_assert_str_eq(buf, "203.0.113.5");
	screen_free(s);
}
END_TEST

START_TEST(count_of_a_summary_reaches_a_session_limit_at_once)
{
	struct screen *s = screen_with("[rset]\nevents = rset\nper = session\nlimit = 20\nwindow = 1h\n"
				       "block = 1h\n[never]\nevents = rset\nper = session\nlimit = 0\nwindow = 1h\n"
				       "block = 1h\n", NULL);

	feed_full(s, EV_RSET, "203.0.113.5", "smtp", NULL, "smtpd[1]", 19, 1);
	ck_assert_int_eq(ndecisions, 0);
	feed_full(s, EV_RSET, "203.0.113.5", "smtp", NULL, "smtpd[2]", 25, 2);
	ck_assert_int_eq(ndecisions, 1);
	ck_assert_str_eq(last.rule->name, "rset");
	screen_free(s);
}
END_TEST

START_TEST(authenticated_sessions_and_addresses_are_exempt_where_asked)
{
	struct screen *s = screen_with("[rcpt]\nevents = rcpt-fail\nper = session\nlimit = 2\nwindow = 1h\n"
				       "block = 1h\nexempt_authenticated = yes\n"
				       "[conn]\nevents = connect\nper = ip\nlimit = 3\nwindow = 1m\nblock = 1h\n"
				       "exempt_authenticated = yes\n"
				       "[strict]\nevents = rcpt-fail\nper = session\nlimit = 4\nwindow = 1h\nblock = 1h\n",
				       NULL);

	feed_full(s, EV_AUTH_OK, "198.51.100.9", "submission", "bob", "smtpd[7]", 1, 1);
	for (int i = 0; i < 3; i++)
		feed_full(s, EV_RCPT_FAIL, "198.51.100.9", "submission", NULL, "smtpd[7]", 1, 2);
	ck_assert_int_eq(ndecisions, 0);
	/* the address logged in lately: its new connections are not counted either */
	for (int i = 0; i < 5; i++)
		feed_full(s, EV_CONNECT, "198.51.100.9", "smtp", NULL, "smtpd[8]", 1, 3);
	ck_assert_int_eq(ndecisions, 0);
	/* a rule without the exemption still counts the authenticated session */
	feed_full(s, EV_RCPT_FAIL, "198.51.100.9", "submission", NULL, "smtpd[7]", 1, 4);
	ck_assert_int_eq(ndecisions, 1);
	ck_assert_str_eq(last.rule->name, "strict");
	/* another address is counted */
	for (int i = 0; i < 3; i++)
		feed_full(s, EV_CONNECT, "203.0.113.8", "smtp", NULL, NULL, 1, 5);
	ck_assert_int_eq(ndecisions, 2);
	ck_assert_str_eq(last.rule->name, "conn");
	screen_free(s);
}
END_TEST

/* An inferred login (scope = session) exempts its session, never its
 * address; an event whose attempts an earlier line counted (count 0)
 * counts nothing. */
START_TEST(session_scoped_logins_and_counted_before_events)
{
	struct screen *s = screen_with("[rcpt]\nevents = rcpt-fail\nper = ip\nlimit = 2\nwindow = 1h\n"
				       "block = 1h\nexempt_authenticated = yes\n"
				       "[auth]\nevents = auth-fail\nper = ip\nlimit = 2\nwindow = 1h\nblock = 1h\n", NULL);
	struct event ok = { .kind = EV_AUTH_OK, .count = 1, .session = "smtpd[7]", .sessionlen = 8,
			    .session_only = true };
	struct logline ll = { .raw = "x", .rawlen = 1 };

	ck_assert_int_eq(addr_parse("198.51.100.9", 12, &ok.ip), 0);
	ok.has_ip = true;
	screen_event(s, &ok, &ll, 1, on_decision, NULL);
	screen_end_line(s);
	for (int i = 0; i < 3; i++)
		feed_full(s, EV_RCPT_FAIL, "198.51.100.9", "submission", NULL, "smtpd[7]", 1, 2);
	ck_assert_int_eq(ndecisions, 0);
	/* another session of the address is counted: the login was the session's only */
	feed_full(s, EV_RCPT_FAIL, "198.51.100.9", "submission", NULL, "smtpd[8]", 1, 3);
	feed_full(s, EV_RCPT_FAIL, "198.51.100.9", "submission", NULL, "smtpd[8]", 1, 3);
	ck_assert_int_eq(ndecisions, 1);
	/* count 0: shown, counted elsewhere */
	for (int i = 0; i < 5; i++)
		feed_full(s, EV_AUTH_FAIL, "203.0.113.8", "imap", NULL, NULL, 0, 4);
	ck_assert_int_eq(ndecisions, 1);
	screen_free(s);
}
END_TEST

/* An attempt the auth process's line counted first (dup) is counted, from
 * the protocol's line, by a rule that leaves service "auth" out: it never
 * saw that line. A rule that counts "auth" does not count it twice. */
START_TEST(a_rule_without_auth_counts_what_auth_lines_showed)
{
	struct screen *s = screen_with("[proto]\nevents = auth-fail\nservices = imap\nlimit = 3\nwindow = 1h\n"
				       "block = 1h\n"
				       "[all]\nevents = auth-fail\nservices = imap auth\nlimit = 4\nwindow = 1h\n"
				       "block = 1h\n", NULL);
	struct event sum = { .kind = EV_AUTH_FAIL, .count = 0, .dup = 3, .service = "imap", .servicelen = 4 };
	struct logline ll = { .raw = "x", .rawlen = 1 };

	ck_assert_int_eq(addr_parse("203.0.113.9", 11, &sum.ip), 0);
	sum.has_ip = true;
	/* the three auth lines: only [all] counts them */
	for (int i = 0; i < 3; i++)
		feed_full(s, EV_AUTH_FAIL, "203.0.113.9", "auth", NULL, NULL, 1, 1);
	ck_assert_int_eq(ndecisions, 0);
	/* the summary: 3 attempts, all shown before: [proto] counts 3 and decides */
	screen_event(s, &sum, &ll, 2, on_decision, NULL);
	screen_end_line(s);
	ck_assert_int_eq(ndecisions, 1);
	ck_assert_str_eq(last.rule->name, "proto");
	screen_free(s);
}
END_TEST

START_TEST(nat_exemption_spares_the_office_address_not_the_account)
{
	static struct nat_cfg n1;
	struct screen *s;

	ck_assert_int_eq(cidr_parse("198.51.100.0/28", &n1.range, NULL, 0), 0);
	strcpy(n1.domain, "example.org");
	nat = &n1;
	nnat = 1;
	s = screen_with("[ip]\nevents = auth-fail\nlimit = 2\nwindow = 1m\nblock = 1h\n"
			"[acct]\nevents = auth-fail\nper = account\nlimit = 3\nwindow = 1m\nblock = 1h\n", NULL);
	nat = NULL;
	nnat = 0;
	feed_full(s, EV_AUTH_FAIL, "198.51.100.7", "imap", "carol@Example.org", NULL, 1, 1);
	feed_full(s, EV_AUTH_FAIL, "198.51.100.7", "imap", "carol@example.org", NULL, 1, 2);
	ck_assert_int_eq(ndecisions, 0);
	feed_full(s, EV_AUTH_FAIL, "198.51.100.7", "imap", "carol@example.org", NULL, 1, 3);
	ck_assert_int_eq(ndecisions, 1);
	ck_assert_int_eq(last.kind, DECIDE_ACCOUNT);
	/* another domain from the same address is counted against the address */
	feed_full(s, EV_AUTH_FAIL, "198.51.100.7", "imap", "x@example.net", NULL, 1, 4);
	feed_full(s, EV_AUTH_FAIL, "198.51.100.7", "imap", "y@example.net", NULL, 1, 5);
	ck_assert_int_eq(ndecisions, 2);
	ck_assert_int_eq(last.kind, DECIDE_ADDR);
	screen_free(s);
}
END_TEST

/* [allow] account: per-account rules leave the account alone, per-address
 * rules still count the addresses that fail on it. */
static char *exempt_list[] = { "boss@example.org", "*@staff.example.net" };
static const char *acct_and_ip = "[ip]\nevents = auth-fail\nlimit = 3\nwindow = 1m\nblock = 1h\n"
				 "[acct]\nevents = auth-fail\nper = account\nlimit = 2\nwindow = 1m\nblock = 1h\n";

static uint32_t counted(struct screen *s, const char *rule, const char *key, uint64_t now);

static struct screen *screen_exempting(void)
{
	struct screen *s;

	xaccts = exempt_list;
	nxaccts = 2;
	s = screen_with(acct_and_ip, NULL);
	xaccts = NULL;
	nxaccts = 0;
	return s;
}

START_TEST(exempt_account_is_not_counted_by_per_account_rules)
{
	struct screen *s = screen_exempting();
	struct screen_stats st;
	char ip[32];

	/* many addresses, one failure each, on the exempt account (any case) */
	for (int i = 0; i < 10; i++) {
		snprintf(ip, sizeof ip, "203.0.113.%d", 10 + i);
		feed_full(s, EV_AUTH_FAIL, ip, "imap", i % 2 ? "Boss@Example.ORG" : "boss@example.org", NULL, 1,
			  (uint64_t)i + 1);
	}
	ck_assert_int_eq(ndecisions, 0);
	ck_assert_uint_eq(counted(s, "acct", "boss@example.org", 20), 0);
	screen_stats(s, &st);
	ck_assert_uint_eq(st.exempt_accounts, 10);
	/* another account is counted and blocked as before */
	feed_full(s, EV_AUTH_FAIL, "198.51.100.1", "imap", "alice@example.org", NULL, 1, 30);
	feed_full(s, EV_AUTH_FAIL, "198.51.100.2", "imap", "alice@example.org", NULL, 1, 31);
	ck_assert_int_eq(ndecisions, 1);
	ck_assert_int_eq(last.kind, DECIDE_ACCOUNT);
	screen_free(s);
}
END_TEST

START_TEST(exempt_account_still_counts_for_per_address_rules)
{
	struct screen *s = screen_exempting();

	feed_full(s, EV_AUTH_FAIL, "203.0.113.5", "imap", "boss@example.org", NULL, 1, 1);
	feed_full(s, EV_AUTH_FAIL, "203.0.113.5", "imap", "BOSS@example.org", NULL, 1, 2);
	ck_assert_int_eq(ndecisions, 0);
	feed_full(s, EV_AUTH_FAIL, "203.0.113.5", "imap", "boss@example.org", NULL, 1, 3);
	ck_assert_int_eq(ndecisions, 1);
	ck_assert_int_eq(last.kind, DECIDE_ADDR);
	ck_assert_int_eq(last.rule->per, PER_IP);
	screen_free(s);
}
END_TEST

START_TEST(exempt_account_domain_wildcard)
{
	struct screen *s = screen_exempting();

	ck_assert_str_eq(screen_account_exempt(s, "Ann@Staff.Example.NET", 21), "*@staff.example.net");
	ck_assert_ptr_null(screen_account_exempt(s, "ann@x.staff.example.net", 23));
	ck_assert_ptr_null(screen_account_exempt(s, "staff.example.net", 17));
	ck_assert_ptr_null(screen_account_exempt(s, "boss@example.org.evil", 21));
	ck_assert_ptr_null(screen_account_exempt(s, "boss", 4));
	for (int i = 0; i < 5; i++) {
		char ip[32];
		snprintf(ip, sizeof ip, "198.51.100.%d", 10 + i);
		feed_full(s, EV_AUTH_FAIL, ip, "imap", i % 2 ? "ann@staff.example.net" : "ANN@STAFF.example.net",
			  NULL, 1, (uint64_t)i + 1);
	}
	ck_assert_int_eq(ndecisions, 0);
	/* the same name in another domain is not exempt */
	feed_full(s, EV_AUTH_FAIL, "198.51.100.40", "imap", "ann@example.net", NULL, 1, 10);
	feed_full(s, EV_AUTH_FAIL, "198.51.100.41", "imap", "ann@example.net", NULL, 1, 11);
	ck_assert_int_eq(ndecisions, 1);
	ck_assert_int_eq(last.kind, DECIDE_ACCOUNT);
	screen_free(s);
}
END_TEST

START_TEST(logon_policy_counts_bare_user_names_only)
{
	struct screen *s = screen_with("[policy]\nevents = auth-fail auth-ok\nusers = bare\nlimit = 1\n"
				       "window = 1m\nblock = 1h\n", NULL);

	feed_full(s, EV_AUTH_FAIL, "203.0.113.5", "imap", "bob@example.org", NULL, 1, 1);
	feed_full(s, EV_AUTH_OK, "203.0.113.5", "imap", "bob@example.org", NULL, 1, 2);
	feed_full(s, EV_AUTH_FAIL, "203.0.113.5", "imap", NULL, NULL, 1, 3);
	ck_assert_int_eq(ndecisions, 0);
	feed_full(s, EV_AUTH_FAIL, "203.0.113.5", "imap", "admin", NULL, 1, 4);
	ck_assert_int_eq(ndecisions, 1);
	screen_free(s);
}
END_TEST

START_TEST(manual_allow_expires)
{
	struct screen *s = screen_with(auth_rule, NULL);
	struct cidr c;
	struct ipaddr a;

	ck_assert_int_eq(cidr_parse("203.0.113.0/24", &c, NULL, 0), 0);
	ck_assert(allow_add(screen_allowlist(s), &c, 5000));
	ck_assert_int_eq(addr_parse("203.0.113.5", 11, &a), 0);
	ck_assert(screen_exempt(s, &a, 4999));
	ck_assert(!screen_exempt(s, &a, 5000));
	screen_expire(s, 6000);
	ck_assert_uint_eq(screen_allowlist(s)->n, 0);
	screen_free(s);
}
END_TEST

/* ---- only_if_counted: follow-ups add to a count, never start one ---- */

/* An auth-fail marked only_if_counted, as postfix-sasl-lost makes them. */
static void feed_follow_up(struct screen *s, const char *ip, const char *svc, uint64_t t)
{
	struct event ev = { .kind = EV_AUTH_FAIL, .count = 1, .service = svc, .servicelen = strlen(svc),
			    .only_if_counted = true };
	struct logline ll = { .raw = "x", .rawlen = 1 };

	ck_assert_int_eq(addr_parse(ip, strlen(ip), &ev.ip), 0);
	ev.has_ip = true;
	screen_event(s, &ev, &ll, t, on_decision, NULL);
	screen_end_line(s);
}

struct keycount {
	const char *rule, *key;
	uint32_t within;
};

static void find_key(void *arg, const struct rule *r, const char *key, uint32_t within, uint64_t newest)
{
	struct keycount *kc = arg;

	(void)newest;
	if (strcmp(r->name, kc->rule) == 0 && strcmp(key, kc->key) == 0)
		kc->within = within;
}

/* What rule counts for key (an address or prefix, an account, a session)
 * at now (0: nothing). */
static uint32_t counted(struct screen *s, const char *rule, const char *key, uint64_t now)
{
	struct keycount kc = { rule, key, 0 };

	screen_foreach_key(s, PER_IP, now, find_key, &kc);
	screen_foreach_key(s, PER_ACCOUNT, now, find_key, &kc);
	screen_foreach_key(s, PER_SESSION, now, find_key, &kc);
	return kc.within;
}

static const char *auth5 = "[auth-ip]\nevents = auth-fail\nlimit = 5\nwindow = 10m\nblock = 1h\n";

START_TEST(follow_ups_count_after_a_counted_failure_and_block_the_guesser)
{
	struct screen *s = screen_with(auth5, NULL);
	struct screen_stats st;
	char buf[CIDR_STRLEN];

	/* three real failures, then the attempts smtpd gave up on */
	for (int i = 0; i < 3; i++)
		feed(s, EV_AUTH_FAIL, "203.0.113.5", "smtp", 1000 + (uint64_t)i * 6000);
	ck_assert_uint_eq(counted(s, "auth-ip", "203.0.113.5", 20000), 3);
	feed_follow_up(s, "203.0.113.5", "smtp", 30000);
	ck_assert_uint_eq(counted(s, "auth-ip", "203.0.113.5", 30000), 4);
	ck_assert_int_eq(ndecisions, 0);
	feed_follow_up(s, "203.0.113.5", "smtp", 41000);
	ck_assert_int_eq(ndecisions, 1);
	cidr_format(&last.target, buf);
	ck_assert_str_eq(buf, "203.0.113.5");
	ck_assert_uint_eq(last.count, 5);
	/* blocked and forgotten: the next follow-ups start nothing again */
	feed_follow_up(s, "203.0.113.5", "smtp", 52000);
	feed_follow_up(s, "203.0.113.5", "smtp", 63000);
	ck_assert_uint_eq(counted(s, "auth-ip", "203.0.113.5", 63000), 0);
	screen_stats(s, &st);
	ck_assert_uint_eq(st.uncounted, 2);
	ck_assert_uint_eq(st.events[EV_AUTH_FAIL], 7);
	ck_assert_int_eq(ndecisions, 1);
	screen_free(s);
}
END_TEST

START_TEST(follow_ups_of_a_dovecot_restart_never_count)
{
	struct screen *s = screen_with(auth5, NULL);
	struct screen_stats st;
	char ip[ADDR_STRLEN];

	/* 20 clients lose the auth server at once, and again at each of
	 * nine more restarts: none of them had a failure */
	for (int round = 0; round < 10; round++)
		for (int i = 0; i < 20; i++) {
			snprintf(ip, sizeof ip, i % 2 ? "198.51.100.%d" : "2001:db8:%d::9", 10 + i);
			feed_follow_up(s, ip, i % 3 ? "smtp" : "submission", 1000 + (uint64_t)round * 1000);
		}
	ck_assert_int_eq(ndecisions, 0);
	screen_stats(s, &st);
	ck_assert_uint_eq(st.tracked, 0);
	ck_assert_uint_eq(st.uncounted, 200);
	/* one ordinary user who had mistyped a password once counts two */
	feed(s, EV_AUTH_FAIL, "198.51.100.11", "smtp", 20000);
	feed_follow_up(s, "198.51.100.11", "smtp", 21000);
	ck_assert_uint_eq(counted(s, "auth-ip", "198.51.100.11", 21000), 2);
	ck_assert_int_eq(ndecisions, 0);
	screen_free(s);
}
END_TEST

START_TEST(follow_ups_need_a_count_of_the_same_rule_key_and_window)
{
	struct screen *s = screen_with("[short]\nevents = auth-fail\nlimit = 3\nwindow = 1m\nblock = 1h\n"
				       "[long]\nevents = auth-fail\nlimit = 4\nwindow = 10m\nblock = 1h\n"
				       "[imap]\nevents = auth-fail\nservices = imap\nlimit = 3\nwindow = 10m\n"
				       "block = 1h\n", NULL);

	/* an IMAP failure at 0: the follow-up at 2m (over SMTP) adds to
	 * [long] (failure within its 10m), not to [short] (its 1m is past)
	 * and not to [imap] (which does not count smtp) */
	feed(s, EV_AUTH_FAIL, "203.0.113.7", "imap", 0);
	feed_follow_up(s, "203.0.113.7", "smtp", 120000);
	ck_assert_uint_eq(counted(s, "long", "203.0.113.7", 120000), 2);
	ck_assert_uint_eq(counted(s, "short", "203.0.113.7", 120000), 0);
	ck_assert_uint_eq(counted(s, "imap", "203.0.113.7", 120000), 1);
	/* past [long]'s window too: nothing */
	feed_follow_up(s, "203.0.113.7", "smtp", 800000);
	ck_assert_uint_eq(counted(s, "long", "203.0.113.7", 800000), 0);
	/* the key is the rule's: another address of a counted IPv6 /64
	 * adds to it, an address of the neighbouring /64 does not */
	feed(s, EV_AUTH_FAIL, "2001:db8:1:2::5", "smtp", 900000);
	feed_follow_up(s, "2001:db8:1:2::6", "smtp", 901000);
	feed_follow_up(s, "2001:db8:1:3::6", "smtp", 901000);
	ck_assert_uint_eq(counted(s, "long", "2001:db8:1:2::/64", 901000), 2);
	ck_assert_uint_eq(counted(s, "long", "2001:db8:1:3::/64", 901000), 0);
	ck_assert_int_eq(ndecisions, 0);
	screen_free(s);
}
END_TEST

/* ---- bounds of their own for accounts and sessions ---- */

static struct screen *screen_bounded(const char *rules, size_t max_accounts, size_t max_sessions)
{
	struct ruleset rs = { 0 };
	struct screen *s = screen_new();
	struct screen_opts o = { .max_keys = 1000, .max_accounts = max_accounts, .max_sessions = max_sessions };
	char err[512];

	ck_assert_int_eq(ruleset_load(&rs, ut_write("b.conf", rules), err, sizeof err), 0);
	screen_configure(s, &rs, &o);
	ndecisions = 0;
	return s;
}

static const char *account_rules = "[auth-ip]\nevents = auth-fail\nlimit = 5\nwindow = 10m\nblock = 1h\n"
				   "[auth-account]\nevents = auth-fail\nper = account\nlimit = 3\nwindow = 10m\n"
				   "block = 1h\n";

/* a failure of user NUMBER from address 2001:db8:NUMBER::1 at t */
static void fail_user(struct screen *s, unsigned n, uint64_t t)
{
	char ip[64], user[64];

	snprintf(ip, sizeof ip, "2001:db8:%x::1", n);
	snprintf(user, sizeof user, "user%u@example.org", n);
	feed_full(s, EV_AUTH_FAIL, ip, "imap", user, NULL, 1, t);
}

START_TEST(account_tables_have_a_bound_of_their_own_and_count_evictions)
{
	struct screen *s = screen_bounded(account_rules, 100, 100);
	struct screen_stats st;

	fail_user(s, 0, 1);
	fail_user(s, 0, 2);
	fail_user(s, 1, 3);
	fail_user(s, 1, 4);
	for (unsigned i = 2; i < 250; i++)
		fail_user(s, i, 10 + i);
	screen_stats(s, &st);
	ck_assert_uint_eq(st.table[TABLE_ACCOUNTS].keys, 100);
	ck_assert_uint_eq(st.table[TABLE_ACCOUNTS].max, 100);
	ck_assert_uint_eq(st.table[TABLE_ACCOUNTS].evictions, 150);
	/* the addresses' tables keep their own bound (max_keys) */
	ck_assert_uint_eq(st.table[TABLE_ADDRESSES].keys, 250);
	ck_assert_uint_eq(st.table[TABLE_ADDRESSES].max, 1000);
	ck_assert_uint_eq(st.table[TABLE_ADDRESSES].evictions, 0);
	ck_assert_uint_eq(st.table[TABLE_SESSIONS].keys, 0);
	ck_assert_uint_eq(st.tracked, 350);
	ck_assert_uint_eq(st.evictions, 150);
	/* the least recently seen went: user0's count starts over, user249's
	 * goes on to the limit */
	feed_full(s, EV_AUTH_FAIL, "198.51.100.1", "imap", "user0@example.org", NULL, 1, 300);
	ck_assert_int_eq(ndecisions, 0);
	feed_full(s, EV_AUTH_FAIL, "198.51.100.1", "imap", "user249@example.org", NULL, 1, 301);
	feed_full(s, EV_AUTH_FAIL, "198.51.100.2", "imap", "user249@example.org", NULL, 1, 302);
	ck_assert_int_eq(ndecisions, 1);
	ck_assert_int_eq(last.kind, DECIDE_ACCOUNT);
	/* a reload that drops the rule keeps what it evicted counted */
	{
		struct ruleset rs = { 0 };
		struct screen_opts o = { .max_keys = 1000, .max_accounts = 100, .max_sessions = 100 };
		char err[256];
		ck_assert_int_eq(ruleset_load(&rs, ut_write("b.conf", auth_rule), err, sizeof err), 0);
		screen_configure(s, &rs, &o);
	}
	screen_stats(s, &st);
	ck_assert_uint_eq(st.table[TABLE_ACCOUNTS].keys, 0);
	ck_assert_uint_eq(st.table[TABLE_ACCOUNTS].evictions, 151);
	screen_free(s);
}
END_TEST

START_TEST(a_smaller_account_bound_on_reload_evicts_at_once)
{
	struct screen *s = screen_bounded(account_rules, 200, 100);
	struct screen_stats st;
	struct ruleset rs = { 0 };
	struct screen_opts o = { .max_keys = 1000, .max_accounts = 120, .max_sessions = 100 };
	char err[256];

	for (unsigned i = 0; i < 150; i++)
		fail_user(s, i, i);
	screen_stats(s, &st);
	ck_assert_uint_eq(st.table[TABLE_ACCOUNTS].keys, 150);
	ck_assert_uint_eq(st.table[TABLE_ACCOUNTS].evictions, 0);
	ck_assert_int_eq(ruleset_load(&rs, ut_write("b.conf", account_rules), err, sizeof err), 0);
	screen_configure(s, &rs, &o);
	screen_stats(s, &st);
	ck_assert_uint_eq(st.table[TABLE_ACCOUNTS].keys, 120);
	ck_assert_uint_eq(st.table[TABLE_ACCOUNTS].max, 120);
	ck_assert_uint_eq(st.table[TABLE_ACCOUNTS].evictions, 30);
	screen_free(s);
}
END_TEST

START_TEST(session_tables_have_a_bound_of_their_own_and_count_evictions)
{
	struct screen *s = screen_bounded("[rcpt]\nevents = rcpt-fail\nper = session\nlimit = 3\nwindow = 1h\n"
					  "block = 1h\nexempt_authenticated = yes\n", 100, 50);
	struct screen_stats st;
	char sess[32];

	/* 120 sessions with one reject each */
	for (unsigned i = 0; i < 120; i++) {
		snprintf(sess, sizeof sess, "smtpd[%u]", 1000 + i);
		feed_full(s, EV_RCPT_FAIL, "203.0.113.5", "smtp", NULL, sess, 1, 1 + i);
	}
	screen_stats(s, &st);
	ck_assert_uint_eq(st.table[TABLE_SESSIONS].keys, 50);
	ck_assert_uint_eq(st.table[TABLE_SESSIONS].max, 50);
	ck_assert_uint_eq(st.table[TABLE_SESSIONS].evictions, 70);
	/* sessions remembered as logged in: bounded by max_sessions too */
	for (unsigned i = 0; i < 80; i++) {
		snprintf(sess, sizeof sess, "L%u", i);
		feed_full(s, EV_AUTH_OK, "198.51.100.7", "imap", "bob", sess, 1, 200 + i);
	}
	screen_stats(s, &st);
	ck_assert_uint_eq(st.table[TABLE_SESSIONS].keys, 100);
	ck_assert_uint_eq(st.table[TABLE_SESSIONS].evictions, 100);
	/* the one address that logged in is an address key */
	ck_assert_uint_eq(st.table[TABLE_ADDRESSES].keys, 1);
	ck_assert_uint_eq(st.table[TABLE_ACCOUNTS].keys, 0);
	ck_assert_uint_eq(st.tracked, 101);
	ck_assert_uint_eq(st.evictions, 100);
	screen_free(s);
}
END_TEST

/* ---- the host's own addresses ---- */

START_TEST(the_hosts_own_addresses_are_exempt)
{
	struct screen *s = screen_with(auth_rule, NULL);
	struct cidrlist host = { 0 };
	struct screen_stats st;
	struct cidr c;
	struct ipaddr a;
	char buf[CIDR_STRLEN];

	ck_assert_int_eq(cidr_parse("192.0.2.1", &c, NULL, 0), 0);
	cidrlist_add(&host, &c);
	ck_assert_int_eq(cidr_parse("2001:db8::1", &c, NULL, 0), 0);
	cidrlist_add(&host, &c);
	screen_set_host(s, &host);
	/* copied: the caller's list may go */
	cidrlist_release(&host);
	ck_assert_uint_eq(screen_host(s)->n, 2);
	for (int i = 0; i < 10; i++) {
		feed(s, EV_AUTH_FAIL, "192.0.2.1", "smtp", 1000 + (uint64_t)i);
		feed(s, EV_AUTH_FAIL, "2001:db8::1", "smtp", 1000 + (uint64_t)i);
	}
	ck_assert_int_eq(ndecisions, 0);
	screen_stats(s, &st);
	ck_assert_uint_eq(st.exempt, 20);
	ck_assert_uint_eq(st.tracked, 0);
	ck_assert_int_eq(addr_parse("192.0.2.1", 9, &a), 0);
	ck_assert(screen_exempt(s, &a, 2000));
	/* a neighbour is counted */
	ck_assert_int_eq(addr_parse("192.0.2.2", 9, &a), 0);
	ck_assert(!screen_exempt(s, &a, 2000));
	for (int i = 0; i < 3; i++)
		feed(s, EV_AUTH_FAIL, "2001:db8::2", "smtp", 2000 + (uint64_t)i);
	ck_assert_int_eq(ndecisions, 1);
	/* the addresses survive a reload of the rules */
	{
		struct ruleset rs = { 0 };
		char err[256];
		ck_assert_int_eq(ruleset_load(&rs, ut_write("h.conf", auth_rule), err, sizeof err), 0);
		screen_configure(s, &rs, NULL);
	}
	feed(s, EV_AUTH_FAIL, "192.0.2.1", "smtp", 3000);
	ck_assert_uint_eq(counted(s, "auth-ip", "192.0.2.1", 3000), 0);
	/* new addresses replace the old ones */
	ck_assert_int_eq(cidr_parse("198.51.100.1", &c, NULL, 0), 0);
	cidrlist_add(&host, &c);
	screen_set_host(s, &host);
	cidrlist_release(&host);
	ck_assert_uint_eq(screen_host(s)->n, 1);
	for (int i = 0; i < 3; i++) {
		feed(s, EV_AUTH_FAIL, "198.51.100.1", "smtp", 4000 + (uint64_t)i);
		feed(s, EV_AUTH_FAIL, "192.0.2.1", "smtp", 4000 + (uint64_t)i);
	}
	ck_assert_int_eq(ndecisions, 2);
	cidr_format(&last.target, buf);
	ck_assert_str_eq(buf, "192.0.2.1");
	screen_free(s);
}
END_TEST

/* ---- the counts saved and put back ---- */

struct dumped {
	char table[64];
	unsigned char key[256];
	size_t klen;
	uint64_t times[8];
	uint32_t n;
};

struct dump {
	struct dumped v[32];
	size_t n;
};

static void dump_one(void *arg, const char *table, const void *key, size_t klen, const uint64_t *times, uint32_t n)
{
	struct dump *d = arg;
	struct dumped *e;

	ck_assert_uint_lt(d->n, sizeof d->v / sizeof d->v[0]);
	ck_assert_uint_lt(strlen(table), sizeof e->table);
	ck_assert_uint_le(klen, sizeof e->key);
	ck_assert_uint_le(n, sizeof e->times / sizeof e->times[0]);
	e = &d->v[d->n++];
	strcpy(e->table, table);
	memcpy(e->key, key, klen);
	e->klen = klen;
	memcpy(e->times, times, n * sizeof *times);
	e->n = n;
}

static bool same_dump(const struct dump *a, const struct dump *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->v[i].table, b->v[i].table) || a->v[i].klen != b->v[i].klen ||
		    memcmp(a->v[i].key, b->v[i].key, a->v[i].klen) || a->v[i].n != b->v[i].n ||
		    memcmp(a->v[i].times, b->v[i].times, a->v[i].n * sizeof a->v[i].times[0]))
			return false;
	return true;
}

static bool has_table(const struct dump *d, const char *table)
{
	for (size_t i = 0; i < d->n; i++)
		if (strcmp(d->v[i].table, table) == 0)
			return true;
	return false;
}

static const char *saved_rules = "[auth-ip]\nevents = auth-fail\nlimit = 3\nwindow = 10m\nblock = 1h\n"
				 "[acct]\nevents = auth-fail\nper = account\nlimit = 3\nwindow = 10m\nblock = 1h\n"
				 "[rcpt]\nevents = rcpt-fail\nper = session\nlimit = 3\nwindow = 1h\nblock = 1h\n"
				 "exempt_authenticated = yes\n";

/* The same events after the counts: returns the rules that decided, in
 * order, separated by spaces, into out. */
static void after_the_counts(struct screen *s, char *out, size_t len)
{
	int before;

	out[0] = '\0';
#define STEP(call)                                                                      \
	do {                                                                            \
		before = ndecisions;                                                    \
		call;                                                                   \
		if (ndecisions > before)                                                \
			snprintf(out + strlen(out), len - strlen(out), "%s ", last.rule->name); \
	} while (0)
	/* the address's third failure, within 10m of its first */
	STEP(feed_full(s, EV_AUTH_FAIL, "203.0.113.5", "imap", NULL, NULL, 1, 500000));
	/* the account's third, from elsewhere */
	STEP(feed_full(s, EV_AUTH_FAIL, "198.51.100.50", "imap", "bob@example.org", NULL, 1, 500001));
	/* the session's third */
	STEP(feed_full(s, EV_RCPT_FAIL, "198.51.100.9", "smtp", NULL, "smtpd[1]", 1, 500002));
	/* the session and the address that logged in are still exempt */
	STEP(feed_full(s, EV_RCPT_FAIL, "192.0.2.77", "submission", NULL, "smtpd[2]", 5, 500003));
	STEP(feed_full(s, EV_RCPT_FAIL, "192.0.2.77", "smtp", NULL, "smtpd[9]", 5, 500004));
	STEP(feed_full(s, EV_RCPT_FAIL, "198.51.100.44", "submission", NULL, "smtpd[4]", 5, 500005));
	/* the /64's next two failures: its first lies beyond 10m by then,
	 * so they make three within the window no more */
	STEP(feed_full(s, EV_AUTH_FAIL, "2001:db8:1:2::6", "imap", NULL, NULL, 1, 603000));
	STEP(feed_full(s, EV_AUTH_FAIL, "2001:db8:1:2::7", "imap", NULL, NULL, 1, 603001));
#undef STEP
}

START_TEST(dump_and_load_restore_the_counts_exactly)
{
	struct screen *a = screen_with(saved_rules, NULL), *b;
	struct dump da = { .n = 0 }, db = { .n = 0 };
	struct screen_stats sa, sb;
	char deca[256], decb[256];
	unsigned char junk[3] = { 1, 2, 3 };
	uint64_t t1 = 1;

	feed_full(a, EV_AUTH_FAIL, "203.0.113.5", "imap", "bob@example.org", NULL, 1, 1000);
	feed_full(a, EV_AUTH_FAIL, "203.0.113.5", "imap", "bob@example.org", NULL, 1, 2000);
	feed_full(a, EV_AUTH_FAIL, "2001:db8:1:2::5", "imap", "alice", NULL, 1, 2500);
	feed_full(a, EV_AUTH_FAIL, "2001:db8:1:2::5", "imap", "alice", NULL, 1, 3000);
	feed_full(a, EV_RCPT_FAIL, "198.51.100.9", "smtp", NULL, "smtpd[1]", 2, 4000);
	feed_full(a, EV_AUTH_OK, "192.0.2.77", "submission", "carol", "smtpd[2]", 1, 5000);
	feed_full(a, EV_AUTH_OK, NULL, "submission", "dave", "smtpd[4]", 1, 5001);
	ck_assert_int_eq(ndecisions, 0);
	screen_dump(a, dump_one, &da);
	ck_assert(has_table(&da, "auth-ip"));
	ck_assert(has_table(&da, "acct"));
	ck_assert(has_table(&da, "rcpt"));
	ck_assert(has_table(&da, "@authsession"));
	ck_assert(has_table(&da, "@authip"));

	b = screen_with(saved_rules, NULL);
	for (size_t i = 0; i < da.n; i++)
		screen_load(b, da.v[i].table, da.v[i].key, da.v[i].klen, da.v[i].times, da.v[i].n);
	/* a rule removed meanwhile is skipped */
	screen_load(b, "gone", junk, sizeof junk, &t1, 1);
	screen_dump(b, dump_one, &db);
	ck_assert_msg(same_dump(&da, &db), "the loaded screen dumps otherwise (%zu keys, %zu before)", db.n, da.n);
	screen_stats(a, &sa);
	screen_stats(b, &sb);
	ck_assert_uint_eq(sb.tracked, sa.tracked);
	for (int t = 0; t < SCREEN_NTABLES; t++)
		ck_assert_uint_eq(sb.table[t].keys, sa.table[t].keys);
	ck_assert_uint_eq(counted(b, "auth-ip", "203.0.113.5", 5000), 2);
	ck_assert_uint_eq(counted(b, "acct", "bob@example.org", 5000), 2);
	ck_assert_uint_eq(counted(b, "rcpt", "smtpd[1]", 5000), 2);

	/* the next events decide as they would have */
	ndecisions = 0;
	after_the_counts(a, deca, sizeof deca);
	ck_assert_str_eq(deca, "auth-ip acct rcpt ");
	ndecisions = 0;
	after_the_counts(b, decb, sizeof decb);
	ck_assert_str_eq(decb, deca);
	screen_free(a);
	screen_free(b);
}
END_TEST

/* ---- reset failures ---- */

START_TEST(reset_forgets_every_count)
{
	struct screen *s = screen_with(saved_rules, "192.0.2.0/24");
	struct screen_stats st;
	struct ipaddr a;

	for (uint64_t t = 1; t <= 2; t++) {
		feed_full(s, EV_AUTH_FAIL, "203.0.113.5", "imap", NULL, NULL, 1, t);
		feed_full(s, EV_AUTH_FAIL, "2001:db8::9", "imap", "bob@example.org", NULL, 1, t);
		feed_full(s, EV_RCPT_FAIL, "198.51.100.9", "smtp", NULL, "smtpd[1]", 1, t);
	}
	screen_stats(s, &st);
	ck_assert_uint_eq(st.tracked, 4);
	screen_reset(s);
	screen_stats(s, &st);
	ck_assert_uint_eq(st.tracked, 0);
	ck_assert_uint_eq(counted(s, "auth-ip", "203.0.113.5", 3), 0);
	ck_assert_uint_eq(counted(s, "acct", "bob@example.org", 3), 0);
	ck_assert_uint_eq(counted(s, "rcpt", "smtpd[1]", 3), 0);
	/* a third event each, which would have reached the limits, starts over */
	feed_full(s, EV_AUTH_FAIL, "203.0.113.5", "imap", NULL, NULL, 1, 3);
	feed_full(s, EV_AUTH_FAIL, "2001:db8::9", "imap", "bob@example.org", NULL, 1, 3);
	feed_full(s, EV_RCPT_FAIL, "198.51.100.9", "smtp", NULL, "smtpd[1]", 1, 3);
	ck_assert_int_eq(ndecisions, 0);
	ck_assert_uint_eq(counted(s, "auth-ip", "203.0.113.5", 3), 1);
	ck_assert_uint_eq(counted(s, "rcpt", "smtpd[1]", 3), 1);
	/* the allow list is not a count: it stays */
	ck_assert_int_eq(addr_parse("192.0.2.9", 9, &a), 0);
	ck_assert(screen_exempt(s, &a, 3));
	screen_free(s);
}
END_TEST

/* ---- a disconnect ends the session after the other events of its line ---- */

START_TEST(session_counts_end_at_the_disconnect_after_the_lines_other_events)
{
	struct screen *s = screen_with("[rcpt]\nevents = rcpt-fail\nper = session\nlimit = 3\nwindow = 1h\n"
				       "block = 1h\nexempt_authenticated = yes\n", NULL);

	/* a line that reports the disconnect first and the rejects after:
	 * they are still the session's */
	feed_full(s, EV_RCPT_FAIL, "203.0.113.5", "smtp", NULL, "smtpd[1]", 1, 1);
	feed_in_line(s, EV_DISCONNECT, "203.0.113.5", "smtp", NULL, "smtpd[1]", 1, 2);
	feed_in_line(s, EV_RCPT_FAIL, "203.0.113.5", "smtp", NULL, "smtpd[1]", 1, 2);
	ck_assert_uint_eq(counted(s, "rcpt", "smtpd[1]", 2), 2);
	feed_in_line(s, EV_RCPT_FAIL, "203.0.113.5", "smtp", NULL, "smtpd[1]", 1, 2);
	ck_assert_int_eq(ndecisions, 1);
	screen_end_line(s);

	/* at the end of the line the session's count is gone: the same id
	 * (a pid used again) starts a new count */
	feed_full(s, EV_RCPT_FAIL, "203.0.113.6", "smtp", NULL, "smtpd[2]", 1, 3);
	feed_in_line(s, EV_DISCONNECT, "203.0.113.6", "smtp", NULL, "smtpd[2]", 1, 4);
	feed_in_line(s, EV_RCPT_FAIL, "203.0.113.6", "smtp", NULL, "smtpd[2]", 1, 4);
	ck_assert_uint_eq(counted(s, "rcpt", "smtpd[2]", 4), 2);
	screen_end_line(s);
	ck_assert_uint_eq(counted(s, "rcpt", "smtpd[2]", 4), 0);
	feed_full(s, EV_RCPT_FAIL, "203.0.113.6", "smtp", NULL, "smtpd[2]", 1, 5);
	feed_full(s, EV_RCPT_FAIL, "203.0.113.6", "smtp", NULL, "smtpd[2]", 1, 6);
	ck_assert_int_eq(ndecisions, 1);

	/* a session that logged in stays exempt for the rest of its last line,
	 * and no longer after it */
	feed_full(s, EV_AUTH_OK, NULL, "submission", "bob", "smtpd[3]", 1, 7);
	feed_in_line(s, EV_DISCONNECT, "198.51.100.7", "submission", NULL, "smtpd[3]", 1, 8);
	feed_in_line(s, EV_RCPT_FAIL, "198.51.100.7", "submission", NULL, "smtpd[3]", 5, 8);
	ck_assert_int_eq(ndecisions, 1);
	screen_end_line(s);
	feed_full(s, EV_RCPT_FAIL, "198.51.100.7", "smtp", NULL, "smtpd[3]", 3, 9);
	ck_assert_int_eq(ndecisions, 2);
	screen_free(s);
}
END_TEST

/* [logging] allow_hits: the exempt hook is told why each exemption was
 * made, with the entry that matched. */
static char exempts[1024];

static void on_exempt(void *arg, const struct event *ev, const struct screen_exemption *x)
{
	static const char *const why[] = { "loopback", "host", "allow", "nat", "authenticated", "account" };
	char e[CIDR_STRLEN];
	size_t n = strlen(exempts);

	(void)arg;
	(void)ev;
	cidr_format(&x->entry, e);
	snprintf(exempts + n, sizeof exempts - n, "%s %s%s%s%s%s;", why[x->why], e, x->manual ? " manual" : "",
		 x->domain ? " " : "", x->domain ? x->domain : "", x->rule ? " rule" : "");
}

START_TEST(the_exempt_hook_says_why_and_which_entry)
{
	static struct nat_cfg n1;
	struct screen *s;
	struct cidrlist host = { 0 };
	struct cidr c;

	ck_assert_int_eq(cidr_parse("198.51.100.0/28", &n1.range, NULL, 0), 0);
	strcpy(n1.domain, "example.org");
	nat = &n1;
	nnat = 1;
	s = screen_with(auth_rule, "192.0.2.0/28");
	nat = NULL;
	nnat = 0;
	ck_assert_int_eq(cidr_parse("203.0.113.1", &c, NULL, 0), 0);
	cidrlist_add(&host, &c);
	screen_set_host(s, &host);
	cidrlist_release(&host);
	ck_assert_int_eq(cidr_parse("198.51.100.64/26", &c, NULL, 0), 0);
	ck_assert(allow_add(screen_allowlist(s), &c, UINT64_MAX));
	exempts[0] = '\0';
	feed(s, EV_AUTH_FAIL, "203.0.113.9", "smtp", 1000);             /* not exempt: nothing said */
	ck_assert_str_eq(exempts, "");
	screen_set_exempt_hook(s, on_exempt, NULL);
	feed(s, EV_AUTH_FAIL, "127.0.0.1", "smtp", 1000);
	feed(s, EV_AUTH_FAIL, "203.0.113.1", "smtp", 1000);
	feed(s, EV_AUTH_FAIL, "192.0.2.10", "smtp", 1000);
	feed(s, EV_AUTH_FAIL, "198.51.100.70", "smtp", 1000);
	feed_full(s, EV_AUTH_FAIL, "198.51.100.7", "imap", "carol@example.org", NULL, 1, 1000);
	feed(s, EV_AUTH_FAIL, "203.0.113.9", "smtp", 1000);
	ck_assert_str_eq(exempts, "loopback 127.0.0.1;host 203.0.113.1;allow 192.0.2.0/28;"
			 "allow 198.51.100.64/26 manual;nat 198.51.100.0/28 example.org rule;");
	screen_free(s);
	/* an exempt account: said once per per-account rule */
	s = screen_exempting();
	screen_set_exempt_hook(s, on_exempt, NULL);
	exempts[0] = '\0';
	feed_full(s, EV_AUTH_FAIL, "203.0.113.9", "imap", "Boss@example.org", NULL, 1, 1000);
	ck_assert_str_eq(exempts, "account ::/0 boss@example.org rule;");
	screen_free(s);
}
END_TEST

/* A shared rule: while the cluster takes its events (the hook says so),
 * the screen hands each one over, with the decision it would make, and
 * decides nothing itself; the count stays local too, so that the rule
 * decides alone as soon as the cluster is away. A rule not shared never
 * reaches the hook. */
static bool cluster_up;
static int nshared;
static unsigned long shared_cnt;
static struct decision shared_last;

static bool on_shared(void *arg, size_t ri, const struct decision *d, unsigned long cnt, uint64_t now_ms)
{
	(void)arg;
	(void)now_ms;
	ck_assert_uint_eq(ri, 0);
	nshared++;
	shared_cnt += cnt;
	shared_last = *d;
	return cluster_up;
}

START_TEST(shared_rule_hands_its_events_to_the_cluster_or_decides_alone)
{
	struct screen *s = screen_with("[auth-ip]\nevents = auth-fail\nlimit = 3\nwindow = 10m\nblock = 1h\n"
				       "shared = yes\n[other]\nevents = auth-fail\nlimit = 9\nwindow = 10m\n"
				       "block = 1h\n", NULL);
	char buf[CIDR_STRLEN];

	ck_assert(screen_rules(s)->v[0].shared);
	ck_assert(!screen_rules(s)->v[1].shared);
	screen_set_shared_hook(s, on_shared, NULL);
	nshared = 0;
	shared_cnt = 0;
	cluster_up = true;
	for (int i = 0; i < 4; i++)
		feed(s, EV_AUTH_FAIL, "203.0.113.5", "smtp", 1000 + (uint64_t)i);
	ck_assert_int_eq(ndecisions, 0);
	ck_assert_int_eq(nshared, 4);
	ck_assert_uint_eq(shared_cnt, 4);
	ck_assert_int_eq(shared_last.kind, DECIDE_ADDR);
	cidr_format(&shared_last.target, buf);
	ck_assert_str_eq(buf, "203.0.113.5");
	ck_assert_str_eq(shared_last.rule->name, "auth-ip");
	/* the cluster away: the local count (over the limit) decides at once */
	cluster_up = false;
	feed(s, EV_AUTH_FAIL, "203.0.113.5", "smtp", 1010);
	ck_assert_int_eq(ndecisions, 1);
	ck_assert_str_eq(last.rule->name, "auth-ip");
	ck_assert_int_eq(nshared, 5);
	/* and afterwards counts alone from zero, as a rule not shared */
	feed(s, EV_AUTH_FAIL, "203.0.113.5", "smtp", 1011);
	feed(s, EV_AUTH_FAIL, "203.0.113.5", "smtp", 1012);
	ck_assert_int_eq(ndecisions, 1);
	feed(s, EV_AUTH_FAIL, "203.0.113.5", "smtp", 1013);
	ck_assert_int_eq(ndecisions, 2);
	{
		struct screen_rule_stats rs;
		screen_rule_stats(s, 0, &rs);
		ck_assert_uint_eq(rs.shared_sent, 4);
		ck_assert_uint_eq(rs.shared_alone, 4);
		ck_assert_uint_eq(rs.counted, 8);
		screen_rule_stats(s, 1, &rs);
		ck_assert_uint_eq(rs.shared_sent + rs.shared_alone, 0);
	}
	screen_free(s);
}
END_TEST

int main(void)
{
	TCase *tc = tcase_create("screen");

	tcase_add_test(tc, screen_blocks_at_the_limit_and_starts_over);
	tcase_add_test(tc, shared_rule_hands_its_events_to_the_cluster_or_decides_alone);
	tcase_add_test(tc, each_rule_counts_its_events_decisions_and_blocks_across_reloads);
	tcase_add_test(tc, screen_never_counts_loopback_or_allowed);
	tcase_add_test(tc, screen_keys_ipv6_per_prefix);
	tcase_add_test(tc, screen_respects_services_and_disabled_rules);
	tcase_add_test(tc, screen_reconfigure_keeps_counts_of_same_rule);
	tcase_add_test(tc, account_rule_blocks_the_account_across_addresses);
	tcase_add_test(tc, session_rule_counts_within_one_session_and_ends_at_disconnect);
	tcase_add_test(tc, count_of_a_summary_reaches_a_session_limit_at_once);
	tcase_add_test(tc, authenticated_sessions_and_addresses_are_exempt_where_asked);
	tcase_add_test(tc, session_scoped_logins_and_counted_before_events);
	tcase_add_test(tc, a_rule_without_auth_counts_what_auth_lines_showed);
	tcase_add_test(tc, nat_exemption_spares_the_office_address_not_the_account);
	tcase_add_test(tc, exempt_account_is_not_counted_by_per_account_rules);
	tcase_add_test(tc, exempt_account_still_counts_for_per_address_rules);
	tcase_add_test(tc, exempt_account_domain_wildcard);
	tcase_add_test(tc, logon_policy_counts_bare_user_names_only);
	tcase_add_test(tc, manual_allow_expires);
	tcase_add_test(tc, follow_ups_count_after_a_counted_failure_and_block_the_guesser);
	tcase_add_test(tc, follow_ups_of_a_dovecot_restart_never_count);
	tcase_add_test(tc, follow_ups_need_a_count_of_the_same_rule_key_and_window);
	tcase_add_test(tc, account_tables_have_a_bound_of_their_own_and_count_evictions);
	tcase_add_test(tc, a_smaller_account_bound_on_reload_evicts_at_once);
	tcase_add_test(tc, session_tables_have_a_bound_of_their_own_and_count_evictions);
	tcase_add_test(tc, the_hosts_own_addresses_are_exempt);
	tcase_add_test(tc, dump_and_load_restore_the_counts_exactly);
	tcase_add_test(tc, reset_forgets_every_count);
	tcase_add_test(tc, session_counts_end_at_the_disconnect_after_the_lines_other_events);
	tcase_add_test(tc, the_exempt_hook_says_why_and_which_entry);
	return ut_run("screen", tc);
}
