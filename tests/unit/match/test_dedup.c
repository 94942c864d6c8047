// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests for dedup.c: each attempt or connection is counted once, by
 * the first line that shows it, and an attacker's lines never cancel more
 * than one other line each. */
#include "dedup.h"

#include "unit.h"

#include <check.h>
#include <string.h>

/* An event as a filter makes it; service "auth" is Dovecot's auth process. */
static struct event ev(enum ev_kind kind, const char *ip, const char *user, const char *session,
		       const char *service, unsigned long count, int64_t t)
{
	struct event e;

	memset(&e, 0, sizeof e);
	e.kind = kind;
	e.time = t;
	e.count = count;
	if (ip) {
		ck_assert_int_eq(addr_parse(ip, strlen(ip), &e.ip), 0);
		e.has_ip = true;
	}
	e.user = user;
	e.userlen = user ? strlen(user) : 0;
	e.session = session;
	e.sessionlen = session ? strlen(session) : 0;
	e.service = service;
	e.servicelen = service ? strlen(service) : 0;
	return e;
}

/* What the event counts after dedup. */
static unsigned long counted(struct dedup *d, struct event e)
{
	unsigned long before = e.count;

	dedup_event(d, &e, e.time);
	ck_assert_uint_eq(e.count + e.dup, before);
	return e.count;
}

#define AUTH(ip, user, sess, t) counted(d, ev(EV_AUTH_FAIL, ip, user, sess, "auth", 1, t))

START_TEST(verbose_lines_and_the_summary_count_each_attempt_once)
{
	struct dedup *d = dedup_new();
	struct event sum;

	ck_assert_uint_eq(AUTH("203.0.113.5", "bob", "S1", 100), 1);
	ck_assert_uint_eq(AUTH("203.0.113.5", "bob", "S1", 106), 1);
	ck_assert_uint_eq(AUTH("203.0.113.5", "alice", "S1", 116), 1);
	/* the login process sums up 4 attempts: the one the auth lines did not show counts */
	sum = ev(EV_AUTH_FAIL, "203.0.113.5", "alice", "S1", "imap", 4, 118);
	dedup_event(d, &sum, 118);
	ck_assert_uint_eq(sum.count, 1);
	ck_assert_uint_eq(sum.dup, 3);
	/* a session without auth lines (auth_verbose = no) counts whole */
	ck_assert_uint_eq(counted(d, ev(EV_AUTH_FAIL, "203.0.113.5", "x", "S2", "imap", 3, 120)), 3);
	dedup_free(d);
}
END_TEST

START_TEST(parallel_sessions_are_never_merged)
{
	struct dedup *d = dedup_new();
	char sess[16];
	unsigned long total = 0;

	/* 50 connections from one address try the same user in the same
	 * second: 50 attempts, not 1 */
	for (int i = 0; i < 50; i++) {
		snprintf(sess, sizeof sess, "P%d", i);
		total += counted(d, ev(EV_AUTH_FAIL, "203.0.113.6", "admin", sess, "auth", 1, 200));
	}
	ck_assert_uint_eq(total, 50);
	/* the same, through SASL (no session): each MTA line takes one auth line */
	total = 0;
	for (int i = 0; i < 20; i++)
		total += AUTH("203.0.113.7", "admin", NULL, 300);
	ck_assert_uint_eq(total, 10);   /* pairs of no-session lines within a second merge... */
	for (int i = 0; i < 20; i++)
		total += counted(d, ev(EV_AUTH_FAIL, "203.0.113.7", NULL, "postfix/smtpd[1]", "smtp", 1, 302));
	ck_assert_uint_eq(total, 20);   /* ... and the MTA's lines count what they hid */
	dedup_free(d);
}
END_TEST

START_TEST(passdb_chain_and_pam_unix_are_one_attempt)
{
	struct dedup *d = dedup_new();

	ck_assert_uint_eq(AUTH("203.0.113.40", "dave", NULL, 400), 1);         /* pam_unix */
	ck_assert_uint_eq(AUTH("203.0.113.40", "dave", "S9", 400), 0);         /* passwd-file */
	ck_assert_uint_eq(AUTH("203.0.113.40", "dave", "S9", 400), 0);         /* pam */
	ck_assert_uint_eq(counted(d, ev(EV_AUTH_FAIL, "203.0.113.40", "dave", "S9", "imap", 1, 402)), 0);
	/* another user, another address: not the same attempt */
	ck_assert_uint_eq(AUTH("203.0.113.40", "erin", "S9", 400), 1);
	ck_assert_uint_eq(AUTH("203.0.113.41", "dave", "S9", 400), 1);
	dedup_free(d);
}
END_TEST

START_TEST(sasl_lines_pair_in_either_order_within_the_window)
{
	struct dedup *d = dedup_new();
	struct event mta = ev(EV_AUTH_FAIL, "203.0.113.8", NULL, "postfix/smtpd[7]", "submission", 1, 502);

	/* Dovecot's line first (it counts, with the user), then Postfix's */
	ck_assert_uint_eq(AUTH("203.0.113.8", "bob", NULL, 500), 1);
	ck_assert_uint_eq(counted(d, mta), 0);
	/* Postfix's first (another source read earlier), then Dovecot's */
	mta.time = 600;
	ck_assert_uint_eq(counted(d, mta), 1);
	ck_assert_uint_eq(AUTH("203.0.113.8", "bob", NULL, 601), 0);
	/* too far apart: two attempts */
	ck_assert_uint_eq(AUTH("203.0.113.8", "bob", NULL, 700), 1);
	mta.time = 716;
	ck_assert_uint_eq(counted(d, mta), 1);
	/* a login session's auth line is never taken by an MTA line */
	ck_assert_uint_eq(AUTH("203.0.113.8", "bob", "S5", 800), 1);
	mta.time = 801;
	ck_assert_uint_eq(counted(d, mta), 1);
	dedup_free(d);
}
END_TEST

/* smtpd's "Connection lost to authentication server" (only_if_counted),
 * as Postfix 3.7 and Dovecot 2.3 log a guesser: Dovecot's auth penalty (8 s
 * after two failures) and its 2 s failure delay make the third reply come
 * just as smtpd's 10 s wait ends, after Dovecot logged the check. */
START_TEST(a_lost_reply_is_the_attempt_the_auth_process_checked_before)
{
	struct dedup *d = dedup_new();
	struct event mta = ev(EV_AUTH_FAIL, "203.0.113.14", "bob", "postfix/smtpd[282]", "submission", 1, 0);
	struct event lost = ev(EV_AUTH_FAIL, "203.0.113.14", NULL, "postfix/smtpd[282]", "submission", 1, 0);

	lost.only_if_counted = true;
	ck_assert_uint_eq(AUTH("203.0.113.14", "bob", NULL, 100), 1);
	mta.time = 102;
	ck_assert_uint_eq(counted(d, mta), 0);
	ck_assert_uint_eq(AUTH("203.0.113.14", "bob", NULL, 106), 1);
	mta.time = 108;
	ck_assert_uint_eq(counted(d, mta), 0);
	/* checked at 116, smtpd gave up at 118: one attempt */
	ck_assert_uint_eq(AUTH("203.0.113.14", "bob", NULL, 116), 1);
	lost.time = 118;
	ck_assert_uint_eq(counted(d, lost), 0);
	/* never checked (Dovecot drops the request when smtpd hangs up):
	 * attempts of their own */
	lost.time = 128;
	ck_assert_uint_eq(counted(d, lost), 1);
	lost.time = 138;
	ck_assert_uint_eq(counted(d, lost), 1);
	/* the next attempt is not taken by the lost line before it */
	ck_assert_uint_eq(AUTH("203.0.113.14", "bob", NULL, 138), 1);
	mta.time = 140;
	ck_assert_uint_eq(counted(d, mta), 0);
	/* nor is a login session's auth line, or one too long before */
	ck_assert_uint_eq(AUTH("203.0.113.15", "bob", "S5", 200), 1);
	ck_assert_uint_eq(AUTH("203.0.113.16", "bob", NULL, 200), 1);
	lost.ip = ev(EV_AUTH_FAIL, "203.0.113.15", NULL, NULL, NULL, 1, 0).ip;
	lost.time = 201;
	ck_assert_uint_eq(counted(d, lost), 1);
	lost.ip = ev(EV_AUTH_FAIL, "203.0.113.16", NULL, NULL, NULL, 1, 0).ip;
	lost.time = 216;
	ck_assert_uint_eq(counted(d, lost), 1);
	dedup_free(d);
}
END_TEST

START_TEST(postscreen_handoff_is_one_connection)
{
	struct dedup *d = dedup_new();
	struct event ps = ev(EV_CONNECT, "203.0.113.10", NULL, "[203.0.113.10]:4000", "smtp", 1, 1000);
	struct event sd = ev(EV_CONNECT, "203.0.113.10", NULL, "postfix/smtpd[9]", "smtp", 1, 1006);
	struct event sub = ev(EV_CONNECT, "203.0.113.10", NULL, "postfix/submission/smtpd[9]", "submission", 1, 1006);

	ps.handoff = true;
	ck_assert_uint_eq(counted(d, ps), 1);
	ck_assert_uint_eq(counted(d, sub), 1);  /* another service: not the one handed over */
	ck_assert_uint_eq(counted(d, sd), 0);
	ck_assert_uint_eq(counted(d, sd), 1);   /* one smtpd connect per handoff */
	/* a client postscreen did not pass, then a new connection 40 s later */
	ps.time = 2000;
	ck_assert_uint_eq(counted(d, ps), 1);
	sd.time = 2040;
	ck_assert_uint_eq(counted(d, sd), 1);
	dedup_free(d);
}
END_TEST

START_TEST(a_flood_of_keys_makes_it_count_more_never_less)
{
	struct dedup *d = dedup_new();
	char ip[32], sess[16];
	struct event sum;

	ck_assert_uint_eq(AUTH("203.0.113.50", "bob", "FIRST", 5000), 1);
	/* 200000 other sessions push the first one out of the ring */
	for (int i = 0; i < 200000; i++) {
		snprintf(ip, sizeof ip, "2001:db8::%x:%x", i >> 16, i & 0xffff);
		snprintf(sess, sizeof sess, "F%d", i);
		ck_assert_uint_eq(AUTH(ip, "x", sess, 5001), 1);
	}
	sum = ev(EV_AUTH_FAIL, "203.0.113.50", "bob", "FIRST", "imap", 1, 5002);
	dedup_event(d, &sum, 5002);
	ck_assert_uint_eq(sum.count, 1);        /* counted again: more, never less */
	dedup_free(d);
}
END_TEST

START_TEST(a_session_lends_its_address_where_the_filter_asks)
{
	struct dedup *d = dedup_new();
	struct event c = ev(EV_CONNECT, "203.0.113.60", NULL, "3f1e0c2a9b8d7e61", "smtp", 1, 6000);
	struct event f = ev(EV_AUTH_FAIL, NULL, "admin", "3f1e0c2a9b8d7e61", "smtp", 1, 6001);
	struct event g = f;

	c.session_address = f.session_address = true;
	dedup_event(d, &c, 6000);
	dedup_event(d, &f, 6001);
	ck_assert(f.has_ip);
	ck_assert_int_eq(addr_cmp(&f.ip, &c.ip), 0);
	/* a filter that does not ask gets nothing */
	dedup_event(d, &g, 6001);
	ck_assert(!g.has_ip);
	/* another session gets nothing */
	f = ev(EV_AUTH_FAIL, NULL, "admin", "0000000000000000", "smtp", 1, 6001);
	f.session_address = true;
	dedup_event(d, &f, 6001);
	ck_assert(!f.has_ip);
	dedup_free(d);
}
END_TEST

START_TEST(pam_lines_without_auth_verbose_and_the_summary)
{
	struct dedup *d = dedup_new();
	struct event sum;

	/* pam_unix logs each attempt (no session); Dovecot only the summary */
	ck_assert_uint_eq(AUTH("203.0.113.70", "bob", NULL, 7000), 1);
	ck_assert_uint_eq(AUTH("203.0.113.70", "bob", NULL, 7010), 1);
	ck_assert_uint_eq(AUTH("203.0.113.70", "eve", NULL, 7030), 1);
	sum = ev(EV_AUTH_FAIL, "203.0.113.70", "eve", "S7", "imap", 3, 7040);
	dedup_event(d, &sum, 7040);
	ck_assert_uint_eq(sum.count, 0);
	ck_assert_uint_eq(sum.dup, 3);
	/* a summary of more attempts than were shown counts the rest */
	ck_assert_uint_eq(AUTH("203.0.113.70", "bob", NULL, 7100), 1);
	ck_assert_uint_eq(counted(d, ev(EV_AUTH_FAIL, "203.0.113.70", "bob", "S8", "imap", 3, 7110)), 2);
	dedup_free(d);
}
END_TEST

int main(void)
{
	TCase *tc = tcase_create("dedup");

	tcase_add_test(tc, verbose_lines_and_the_summary_count_each_attempt_once);
	tcase_add_test(tc, parallel_sessions_are_never_merged);
	tcase_add_test(tc, passdb_chain_and_pam_unix_are_one_attempt);
	tcase_add_test(tc, sasl_lines_pair_in_either_order_within_the_window);
	tcase_add_test(tc, a_lost_reply_is_the_attempt_the_auth_process_checked_before);
	tcase_add_test(tc, postscreen_handoff_is_one_connection);
	tcase_add_test(tc, a_flood_of_keys_makes_it_count_more_never_less);
	tcase_add_test(tc, a_session_lends_its_address_where_the_filter_asks);
	tcase_add_test(tc, pam_lines_without_auth_verbose_and_the_summary);
	return ut_run("dedup", tc);
}
