// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests for line.c: splitting the syslog header of every source's lines.
 * Lines are copied into exactly sized heap buffers so that AddressSanitizer
 * sees any read past len. */
#include "line.h"
#include "logtime.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct split {
	char host[300], prog[300], msg[600];   /* "(null)" when absent */
	long pid;
	int64_t time;
	uint32_t usec;
};

static void copy_field(char *dst, size_t cap, const char *p, size_t n, const struct logline *ll)
{
	if (!p) {
		snprintf(dst, cap, "(null)");
		return;
	}
	ck_assert_msg(p >= ll->raw && p + n <= ll->raw + ll->rawlen, "field outside the line");
	snprintf(dst, cap, "%.*s", (int)n, p);
}

static time_t now_2026(void)
{
	struct tm tm = { .tm_year = 126, .tm_mon = 10, .tm_mday = 24 };

	return timegm(&tm);
}

/* Split s from an unterminated buffer of exactly n bytes. */
static void split_n(const char *s, size_t n, struct split *out)
{
	struct logline ll;
	char *buf = malloc(n ? n : 1);

	ck_assert_ptr_nonnull(buf);
	memcpy(buf, s, n);
	logline_parse(&ll, buf, n, now_2026());
	ck_assert_ptr_eq(ll.raw, buf);
	ck_assert_uint_eq(ll.rawlen, n);
	/* The message is always a tail of the line. */
	ck_assert_ptr_eq(ll.msg + ll.msglen, buf + n);
	copy_field(out->host, sizeof out->host, ll.host, ll.hostlen, &ll);
	copy_field(out->prog, sizeof out->prog, ll.prog, ll.proglen, &ll);
	copy_field(out->msg, sizeof out->msg, ll.msg, ll.msglen, &ll);
	out->pid = ll.pid;
	out->time = ll.time;
	out->usec = ll.usec;
	free(buf);
}

static struct split split(const char *s)
{
	struct split sp;

	split_n(s, strlen(s), &sp);
	return sp;
}

static int64_t utc(int y, int mo, int d, int h, int mi, int s)
{
	struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d,
			 .tm_hour = h, .tm_min = mi, .tm_sec = s };

	return (int64_t)timegm(&tm);
}

#define EXPECT(line, h, p, id, m) do { \
	struct split sp_ = split(line); \
	ck_assert_str_eq(sp_.host, h); \
	ck_assert_str_eq(sp_.prog, p); \
	ck_assert_int_eq(sp_.pid, id); \
	ck_assert_str_eq(sp_.msg, m); \
} while (0)

static void setup(void)
{
	setenv("TZ", "UTC", 1);
	tzset();
	logtime_tz_changed();
}

START_TEST(rfc3164_host_and_tag)
{
	struct split sp = split("Nov 23 14:44:59 mx postfix/smtpd[1234]: connect from unknown[192.0.2.1]");

	ck_assert_str_eq(sp.host, "mx");
	ck_assert_str_eq(sp.prog, "postfix/smtpd");
	ck_assert_int_eq(sp.pid, 1234);
	ck_assert_str_eq(sp.msg, "connect from unknown[192.0.2.1]");
	ck_assert_int_eq(sp.time, utc(2026, 11, 23, 14, 44, 59));
	EXPECT("Nov  3 04:05:06 mx.example.org postfix/submission/smtpd[7]: x", "mx.example.org",
	       "postfix/submission/smtpd", 7, "x");
	EXPECT("Nov 23 14:44:59 mx postfix@-/smtpd[7]: x", "mx", "postfix@-/smtpd", 7, "x");
	EXPECT("Nov 23 14:44:59 2001:db8::1 sshd[7]: x", "2001:db8::1", "sshd", 7, "x");
}
END_TEST

START_TEST(rfc3164_tag_without_pid)
{
	EXPECT("Nov 23 14:44:59 mx postfix/smtpd: msg", "mx", "postfix/smtpd", -1, "msg");
	EXPECT("Nov 23 14:44:59 mx kernel: [ 1.0] x", "mx", "kernel", -1, "[ 1.0] x");
	/* Tag at the end of the line: empty message. */
	EXPECT("Nov 23 14:44:59 mx postfix/smtpd[1]:", "mx", "postfix/smtpd", 1, "");
}
END_TEST

START_TEST(rfc3339_host_and_tag)
{
	struct split sp = split("2026-11-23T14:44:59.123456+00:00 mx dovecot[99]: imap-login: Login: user=<a>");

	ck_assert_str_eq(sp.host, "mx");
	ck_assert_str_eq(sp.prog, "dovecot");
	ck_assert_int_eq(sp.pid, 99);
	ck_assert_str_eq(sp.msg, "imap-login: Login: user=<a>");
	ck_assert_int_eq(sp.time, utc(2026, 11, 23, 14, 44, 59));
	ck_assert_uint_eq(sp.usec, 123456);
}
END_TEST

START_TEST(dovecot_log_path_has_no_host)
{
	EXPECT("Nov 23 14:44:59 imap-login: Info: Login: user=<a>, rip=192.0.2.1",
	       "(null)", "imap-login", -1, "Info: Login: user=<a>, rip=192.0.2.1");
	EXPECT("2026-11-23 14:44:59 auth: Info: x", "(null)", "auth", -1, "Info: x");
	EXPECT("Nov 23 14:44:59 postfix/smtpd[1234]: connect", "(null)", "postfix/smtpd", 1234, "connect");
	/* Service prefixes with parentheses are not tags; they stay whole. */
	EXPECT("Nov 23 14:44:59 imap(u@x)<1><a>: Info: Disconnected", "(null)", "(null)", -1,
	       "imap(u@x)<1><a>: Info: Disconnected");
	/* Dovecot's worker processes: "tag(pid):", in each timestamp form
	 * Dovecot's log_timestamp or multilog gives. */
	EXPECT("Nov 23 14:44:59 auth-worker(123): Info: pam(u,192.0.2.1): x", "(null)", "auth-worker", 123,
	       "Info: pam(u,192.0.2.1): x");
	EXPECT("2013-08-11 03:56:40 auth-worker(1234): Info: sql(u,192.0.2.1,<s>): unknown user", "(null)",
	       "auth-worker", 1234, "Info: sql(u,192.0.2.1,<s>): unknown user");
	EXPECT("2026-11-23T14:44:59+01:00 auth-worker(7): Info: x", "(null)", "auth-worker", 7, "Info: x");
	EXPECT("@400000006553f1250001e240 auth-worker(1234): Info: x", "(null)", "auth-worker", 1234, "Info: x");
	EXPECT("Nov 23 14:44:59 mx auth-worker(123): x", "mx", "auth-worker", 123, "x");
	/* ... but only digits, closed by ')' and followed by ": " */
	EXPECT("2026-11-23 14:44:59 auth-worker(u,192.0.2.1,sasl:plain)<1>: x", "(null)", "(null)", -1,
	       "auth-worker(u,192.0.2.1,sasl:plain)<1>: x");
	EXPECT("2026-11-23 14:44:59 auth-worker(12a): x", "(null)", "(null)", -1, "auth-worker(12a): x");
	EXPECT("2026-11-23 14:44:59 auth-worker(): x", "(null)", "(null)", -1, "auth-worker(): x");
	EXPECT("2026-11-23 14:44:59 auth-worker(12]: x", "(null)", "(null)", -1, "auth-worker(12]: x");
	EXPECT("2026-11-23 14:44:59 auth-worker[12): x", "(null)", "(null)", -1, "auth-worker[12): x");
	EXPECT("2026-11-23 14:44:59 auth-worker(12)<3>: x", "(null)", "(null)", -1, "auth-worker(12)<3>: x");
	EXPECT("2026-11-23 14:44:59 auth-worker(12345678901): x", "(null)", "(null)", -1,
	       "auth-worker(12345678901): x");
	EXPECT("@400000006553f1250001e240 imap(12): x", "(null)", "imap", 12, "x");
	EXPECT("@400000006553f1250001e240 imap(u): x", "(null)", "(null)", -1, "imap(u): x");
}
END_TEST

START_TEST(exim_has_neither_host_nor_tag)
{
	struct split sp = split("2026-11-23 14:44:59 1abcde-000123-AB H=(helo) [192.0.2.1] F=<a@b> rejected");

	ck_assert_str_eq(sp.host, "(null)");
	ck_assert_str_eq(sp.prog, "(null)");
	ck_assert_int_eq(sp.pid, -1);
	ck_assert_str_eq(sp.msg, "1abcde-000123-AB H=(helo) [192.0.2.1] F=<a@b> rejected");
	ck_assert_int_eq(sp.time, utc(2026, 11, 23, 14, 44, 59));
	/* A message id followed by "word:" is not host + tag in this form. */
	EXPECT("2026-11-23 14:44:59 1abcde-000123-AB DKIM: d=example.org", "(null)", "(null)", -1,
	       "1abcde-000123-AB DKIM: d=example.org");
	EXPECT("2026-11-23 14:44:59 +0100 H=x", "(null)", "(null)", -1, "H=x");
}
END_TEST

START_TEST(rfc5424_fields)
{
	struct split sp = split("<34>1 2026-11-23T14:44:59.003Z mx.example.org postfix 1234 ID47 - connect from x");

	ck_assert_str_eq(sp.host, "mx.example.org");
	ck_assert_str_eq(sp.prog, "postfix");
	ck_assert_int_eq(sp.pid, 1234);
	ck_assert_str_eq(sp.msg, "connect from x");
	ck_assert_int_eq(sp.time, utc(2026, 11, 23, 14, 44, 59));
	ck_assert_uint_eq(sp.usec, 3000);
	/* Structured data, with an escaped ']' and '"' inside values. */
	EXPECT("<165>1 2026-11-23T14:44:59Z mx app 7 - [ex@32473 a=\"x\\]y\" b=\"q\\\"]\"][b@1] msg",
	       "mx", "app", 7, "msg");
	/* Nil fields, nil time, a BOM, no message at all. */
	EXPECT("<165>1 - - - - - - \xef\xbb\xbfhello", "(null)", "(null)", -1, "hello");
	EXPECT("<165>1 2026-11-23T14:44:59Z mx app - - -", "mx", "app", -1, "");
	/* A non-numeric PROCID is not a pid. */
	EXPECT("<165>1 2026-11-23T14:44:59Z mx app worker-3 - - m", "mx", "app", -1, "m");
	/* Malformed: unterminated SD, missing fields, bad SD start. */
	EXPECT("<165>1 2026-11-23T14:44:59Z mx app 7 - [ex a=\"]\" msg", "(null)", "(null)", -1,
	       "mx app 7 - [ex a=\"]\" msg");
	EXPECT("<165>1 2026-11-23T14:44:59Z mx app 7", "(null)", "(null)", -1, "mx app 7");
	EXPECT("<165>1 2026-11-23T14:44:59Z mx app 7 - x msg", "(null)", "(null)", -1, "mx app 7 - x msg");
}
END_TEST

START_TEST(tai64n_and_untimed_lines)
{
	struct split sp = split("@400000006553f1250001e240 tcpserver: status: 1/20");

	ck_assert_int_eq(sp.time, 1700000000);
	ck_assert_str_eq(sp.prog, "(null)");
	ck_assert_str_eq(sp.msg, "tcpserver: status: 1/20");
	EXPECT("@400000006553f1250001e240 qmail-smtpd[12]: x", "(null)", "qmail-smtpd", 12, "x");
	/* No timestamp: the whole line, unless it clearly starts with tag[pid]. */
	sp = split("warning: something: x");
	ck_assert_str_eq(sp.msg, "warning: something: x");
	ck_assert_str_eq(sp.prog, "(null)");
	ck_assert_int_eq(sp.time, 0);
	EXPECT("postfix/smtpd[12]: connect from x", "(null)", "postfix/smtpd", 12, "connect from x");
	EXPECT("mx postfix/smtpd[12]: connect", "(null)", "(null)", -1, "mx postfix/smtpd[12]: connect");
	EXPECT("", "(null)", "(null)", -1, "");
}
END_TEST

START_TEST(roundcube_log_file_stamp)
{
	/* Roundcube's errors.log / userlogins.log with its default
	 * log_date_format 'd-M-Y H:i:s O': no host, no tag. */
	struct split sp = split("[22-Nov-2026 11:00:01 +0100]: <a1b2c3d4> IMAP Error: Login failed for bob");

	ck_assert_str_eq(sp.host, "(null)");
	ck_assert_str_eq(sp.prog, "(null)");
	ck_assert_int_eq(sp.pid, -1);
	ck_assert_str_eq(sp.msg, "<a1b2c3d4> IMAP Error: Login failed for bob");
	ck_assert_int_eq(sp.time, utc(2026, 11, 22, 10, 0, 1));
	sp = split("[01-jan-2027 00:00:00.250 -0530] Failed login for x from 192.0.2.1");
	ck_assert_str_eq(sp.msg, "Failed login for x from 192.0.2.1");
	ck_assert_int_eq(sp.time, utc(2027, 1, 1, 5, 30, 0));
	ck_assert_uint_eq(sp.usec, 250000);
	/* The message is never read as a tag, even if it looks like one. */
	EXPECT("[22-Nov-2026 11:00:01 +0000]: roundcube[12]: x", "(null)", "(null)", -1, "roundcube[12]: x");
	/* Not this stamp (no zone, a bad day, no ']'): the whole line. */
	EXPECT("[22-Nov-2026 11:00:01]: x", "(null)", "(null)", -1, "[22-Nov-2026 11:00:01]: x");
	EXPECT("[31-Nov-2026 11:00:01 +0100]: x", "(null)", "(null)", -1, "[31-Nov-2026 11:00:01 +0100]: x");
	EXPECT("[22-Nov-2026 11:00:01 +0100 x", "(null)", "(null)", -1, "[22-Nov-2026 11:00:01 +0100 x");
	EXPECT("[22-Nov-2026 11:00:01 +0100]x", "(null)", "(null)", -1, "[22-Nov-2026 11:00:01 +0100]x");
	EXPECT("[ 1.0] kernel: x", "(null)", "(null)", -1, "[ 1.0] kernel: x");
}
END_TEST

START_TEST(message_text_cannot_forge_the_tag)
{
	EXPECT("Nov 23 14:44:59 mx postfix/smtpd[1]: warning: fake[2]: x", "mx", "postfix/smtpd", 1,
	       "warning: fake[2]: x");
	/* An odd real tag stays in msg; the forged one after it is not used. */
	EXPECT("Nov 23 14:44:59 mx odd(tag): fake[2]: x", "(null)", "(null)", -1, "mx odd(tag): fake[2]: x");
	EXPECT("Nov 23 14:44:59 mx odd tag fake[2]: x", "(null)", "(null)", -1, "mx odd tag fake[2]: x");
	EXPECT("Nov 23 14:44:59 imap(evil mx) fake[2]: x", "(null)", "(null)", -1, "imap(evil mx) fake[2]: x");
}
END_TEST

START_TEST(odd_tags_stay_in_msg)
{
	char line[200], tag[80];

	/* 64 tag bytes are fine, 65 are not. */
	memset(tag, 'a', 65);
	tag[64] = '\0';
	snprintf(line, sizeof line, "Nov 23 14:44:59 mx %s[1]: x", tag);
	EXPECT(line, "mx", tag, 1, "x");
	tag[64] = 'a';
	tag[65] = '\0';
	snprintf(line, sizeof line, "Nov 23 14:44:59 mx %s[1]: x", tag);
	EXPECT(line, "(null)", "(null)", -1, line + 16);

	EXPECT("Nov 23 14:44:59 mx prog[12a]: x", "(null)", "(null)", -1, "mx prog[12a]: x");
	EXPECT("Nov 23 14:44:59 mx prog[]: x", "(null)", "(null)", -1, "mx prog[]: x");
	EXPECT("Nov 23 14:44:59 mx prog[-1]: x", "(null)", "(null)", -1, "mx prog[-1]: x");
	EXPECT("Nov 23 14:44:59 mx prog[12345678901]: x", "(null)", "(null)", -1, "mx prog[12345678901]: x");
	EXPECT("Nov 23 14:44:59 mx prog[1]:x", "(null)", "(null)", -1, "mx prog[1]:x");
	EXPECT("Nov 23 14:44:59 mx prog[1] x", "(null)", "(null)", -1, "mx prog[1] x");
	EXPECT("Nov 23 14:44:59 mx pr\xc3\xb6g[1]: x", "(null)", "(null)", -1, "mx pr\xc3\xb6g[1]: x");
	EXPECT("Nov 23 14:44:59 mx", "(null)", "(null)", -1, "mx");
	EXPECT("Nov 23 14:44:59 ", "(null)", "(null)", -1, "");
	EXPECT("Nov 23 14:44:59  mx prog[1]: x", "(null)", "(null)", -1, " mx prog[1]: x");
}
END_TEST

static const char *const samples[] = {
	"2013-08-11 03:56:40 auth-worker(1234): Info: x",
	"Nov 23 14:44:59 mx postfix/smtpd[1234]: connect from unknown[192.0.2.1]",
	"2026-11-23T14:44:59.123456+00:00 mx dovecot[99]: imap-login: x",
	"Nov 23 14:44:59 mx postfix/smtpd: msg",
	"Nov 23 14:44:59 imap-login: Info: Login: x",
	"2026-11-23 14:44:59 1abcde-000123-AB H=x",
	"<34>1 2026-11-23T14:44:59.003Z mx app 12 ID47 [a b=\"\\]\"] msg",
	"@400000006553f1250001e240 tcpserver[1]: x",
	"postfix/smtpd[12]: connect",
};

/* Every prefix splits without reading past its end, and the invariants hold
 * (checked in split_n). */
START_TEST(truncated_lines_stay_in_bounds)
{
	struct split sp;

	for (size_t i = 0; i < sizeof samples / sizeof samples[0]; i++)
		for (size_t k = 0; k <= strlen(samples[i]); k++)
			split_n(samples[i], k, &sp);
}
END_TEST

START_TEST(mutated_lines_stay_in_bounds)
{
	static const char alphabet[] = "0123456789:-+.[]<>@ \"\\/TZax\t\xff";
	char buf[128];
	struct split sp;

	srand(3);
	for (int round = 0; round < 100000; round++) {
		const char *s = samples[(size_t)rand() % (sizeof samples / sizeof samples[0])];
		size_t len = strlen(s);

		memcpy(buf, s, len);
		for (int m = rand() % 4; m >= 0; m--)
			buf[(size_t)rand() % len] = alphabet[(size_t)rand() % (sizeof alphabet - 1)];
		split_n(buf, (size_t)rand() % (len + 1), &sp);
	}
}
END_TEST

static enum logtime_form form_of(const char *s)
{
	struct logline ll;

	logline_parse(&ll, s, strlen(s), now_2026());
	return ll.form;
}

/* The parser says which header it recognised ("match --explain", a
 * source's format). */
START_TEST(form_names_the_header)
{
	ck_assert_int_eq(form_of("Nov 22 11:00:01 mx postfix/smtpd[1]: x"), LOGTIME_RFC3164);
	ck_assert_int_eq(form_of("2026-11-22T11:00:01.123456+01:00 mx dovecot: x"), LOGTIME_RFC3339);
	ck_assert_int_eq(form_of("<22>1 2026-11-22T11:00:01Z mx postfix 12 - - x"), LOGTIME_RFC5424);
	ck_assert_int_eq(form_of("2013-08-11 03:56:40 imap-login: Info: x"), LOGTIME_SPACED);
	ck_assert_int_eq(form_of("@4000000069232f1b1c2d3e4f imap-login: Info: x"), LOGTIME_TAI64N);
	ck_assert_int_eq(form_of("imap-login: Info: x"), LOGTIME_NONE);
	ck_assert_int_eq(form_of(""), LOGTIME_NONE);
	ck_assert_str_eq(logtime_form_name(LOGTIME_RFC3164), "rfc3164");
	ck_assert_str_eq(logtime_form_name(LOGTIME_JOURNAL), "journal");
	ck_assert_str_eq(logtime_form_name((enum logtime_form)99), "none");
}
END_TEST

/* Postfix's postlogd writes maillog_file with msg_logger's stamp,
 * strftime "%b %d %H:%M:%S " (a zero-padded day), then the host name's
 * first label and "program[pid]: " (src/util/msg_logger.c). */
START_TEST(postlogd_maillog_file)
{
	struct split sp = split("Nov 02 11:00:01 mx postfix/smtpd[4711]: connect from unknown[192.0.2.1]");

	ck_assert_str_eq(sp.host, "mx");
	ck_assert_str_eq(sp.prog, "postfix/smtpd");
	ck_assert_int_eq(sp.pid, 4711);
	ck_assert_str_eq(sp.msg, "connect from unknown[192.0.2.1]");
	ck_assert_int_eq(sp.time, utc(2026, 11, 2, 11, 0, 1));
	ck_assert_int_eq(form_of("Nov 02 11:00:01 mx postfix/postlogd[1]: x"), LOGTIME_RFC3164);
}
END_TEST

static bool fits(enum logline_format f, const char *s)
{
	struct logline ll;

	logline_parse(&ll, s, strlen(s), now_2026());
	return logline_fits(f, &ll);
}

/* A source's named format: which headers are its own. */
START_TEST(format_names_its_headers)
{
	const char *postlog = "Nov 02 11:00:01 mx postfix/smtpd[4711]: connect from unknown[192.0.2.1]";
	const char *rfc3339 = "2026-11-22T11:00:01.5+01:00 mx dovecot: imap-login: x";
	const char *dovecot = "2013-08-11 03:56:40 imap-login: Info: Aborted login";
	const char *dovecot3164 = "Aug 11 03:56:40 auth-worker(1234): Info: x";
	const char *tai = "@4000000069232f1b1c2d3e4f imap-login: Info: x";

	ck_assert_int_eq(logline_format_parse("auto"), LOGLINE_AUTO);
	ck_assert_int_eq(logline_format_parse("multilog"), LOGLINE_MULTILOG);
	ck_assert_int_eq(logline_format_parse("journal"), -1);
	ck_assert_str_eq(logline_format_name(LOGLINE_POSTLOG), "postlog");
	ck_assert(fits(LOGLINE_AUTO, "anything"));
	ck_assert(fits(LOGLINE_POSTLOG, postlog));
	ck_assert(!fits(LOGLINE_POSTLOG, rfc3339));
	ck_assert(!fits(LOGLINE_POSTLOG, "Nov 02 11:00:01 mx postfix/smtpd: no pid"));
	ck_assert(fits(LOGLINE_SYSLOG, postlog));
	ck_assert(fits(LOGLINE_SYSLOG, rfc3339));
	ck_assert(!fits(LOGLINE_SYSLOG, dovecot));
	ck_assert(fits(LOGLINE_DOVECOT, dovecot));
	ck_assert(fits(LOGLINE_DOVECOT, dovecot3164));
	ck_assert(!fits(LOGLINE_DOVECOT, postlog));
	ck_assert(fits(LOGLINE_MULTILOG, tai));
	ck_assert(!fits(LOGLINE_MULTILOG, dovecot));
}
END_TEST

/* Not an assertion: how long a typical line takes. */
START_TEST(speed_report)
{
	const char *l = "Nov 23 14:44:59 mx postfix/smtpd[1234]: connect from unknown[192.0.2.1]";
	size_t n = strlen(l);
	time_t now = now_2026();
	struct logline ll;
	struct timespec a, b;
	size_t sum = 0;
	const int N = 2000000;

	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int i = 0; i < N; i++) {
		logline_parse(&ll, l, n, now);
		sum += ll.msglen;
	}
	clock_gettime(CLOCK_MONOTONIC, &b);
	printf("logline_parse RFC 3164: %.1f ns/line (%zu)\n",
	       ((double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec)) / N, sum & 1);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("line");
	TCase *tc = tcase_create("line");
	SRunner *sr;
	int nf;

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, rfc3164_host_and_tag);
	tcase_add_test(tc, rfc3164_tag_without_pid);
	tcase_add_test(tc, rfc3339_host_and_tag);
	tcase_add_test(tc, dovecot_log_path_has_no_host);
	tcase_add_test(tc, exim_has_neither_host_nor_tag);
	tcase_add_test(tc, rfc5424_fields);
	tcase_add_test(tc, tai64n_and_untimed_lines);
	tcase_add_test(tc, roundcube_log_file_stamp);
	tcase_add_test(tc, message_text_cannot_forge_the_tag);
	tcase_add_test(tc, odd_tags_stay_in_msg);
	tcase_add_test(tc, truncated_lines_stay_in_bounds);
	tcase_add_test(tc, mutated_lines_stay_in_bounds);
	tcase_add_test(tc, form_names_the_header);
	tcase_add_test(tc, postlogd_maillog_file);
	tcase_add_test(tc, format_names_its_headers);
	tcase_add_test(tc, speed_report);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? EXIT_FAILURE : EXIT_SUCCESS;
}
