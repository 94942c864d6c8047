// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests for mail.c and notify.c: no header injection through the
 * texts a block carries, body lines printable and bounded, batching and
 * the hourly cap, the configuration's checks, and running a program
 * without a shell, with its input, its failure and its timeout. */
#include "mail.h"
#include "notify.h"

#include "duration.h"
#include "log.h"
#include "unit.h"

#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char *compose(const struct mail_block *v, size_t n, uint64_t more, const char *subject)
{
	const char *to[] = { "root@example.org", "ops@example.org" };
	struct mail_head h = { .from = "mailscreen@mx.example.org", .to = to, .nto = 2, .subject = subject,
			       .host = "mx.example.org\r\nBcc: x", .now_ms = 1800000000000ULL, .serial = 7 };
	char *buf = NULL;
	size_t len = 0;
	FILE *o = open_memstream(&buf, &len);

	mail_write_head(o, &h);
	mail_write_blocks(o, v, n, more, true);
	fclose(o);
	return buf;
}

/* the header lines: up to the first empty line */
static int count_headers_named(const char *msg, const char *name)
{
	int n = 0;
	size_t nl = strlen(name);

	for (const char *p = msg; *p && *p != '\n'; p = strchr(p, '\n') + 1) {
		if (strncasecmp(p, name, nl) == 0 && p[nl] == ':')
			n++;
		if (!strchr(p, '\n'))
			break;
	}
	return n;
}

START_TEST(texts_of_a_block_never_make_a_header)
{
	struct mail_block b = { .account = true, .origin = "sasl", .at_ms = 1800000000000ULL, .dur_ms = 3600000 };
	char *msg, *body;

	snprintf(b.what, sizeof b.what, "bob\r\nBcc: evil@example.net\r\n\r\nhi");
	snprintf(b.reason, sizeof b.reason, "5 failures\nSubject: pwned\rX-Y: z");
	msg = compose(&b, 1, 0, "mailscreen: account 'bob\r\nBcc: evil@example.net' blocked");
	ck_assert_int_eq(count_headers_named(msg, "Bcc"), 0);
	ck_assert_int_eq(count_headers_named(msg, "Subject"), 1);
	ck_assert_int_eq(count_headers_named(msg, "X-Y"), 0);
	ck_assert_int_eq(count_headers_named(msg, "From"), 1);
	ck_assert_int_eq(count_headers_named(msg, "Date"), 1);
	ck_assert_int_eq(count_headers_named(msg, "Message-ID"), 1);
	ck_assert_ptr_nonnull(strstr(msg, "Subject: mailscreen: account 'bob\\x0d\\x0aBcc: evil@example.net' blocked\n"));
	ck_assert_ptr_nonnull(strstr(msg, "Message-ID: <1800000000000.7.mailscreen@mx.example.org--Bcc--x>\n"));
	ck_assert_ptr_nonnull(strstr(msg, "To: root@example.org,\n ops@example.org\n"));
	body = strstr(msg, "\n\n");
	ck_assert_ptr_nonnull(body);
	ck_assert_ptr_nonnull(strstr(body, "account 'bob\\x0d\\x0aBcc: evil@example.net\\x0d\\x0a\\x0d\\x0ahi' blocked "
				     "for 1h by sasl\n"));
	ck_assert_ptr_nonnull(strstr(body, "    5 failures\\x0aSubject: pwned\\x0dX-Y: z\n"));
	ck_assert_ptr_null(strchr(msg, '\r'));
	free(msg);
}
END_TEST

START_TEST(dry_run_blocks_are_said_to_be_would_be_blocks)
{
	struct mail_block v[2] = {
		{ .what = "203.0.113.7", .origin = "auth-ip", .at_ms = 1800000000000ULL, .dur_ms = 3600000,
		  .dry_run = true },
		{ .account = true, .what = "bob", .origin = "auth-account", .at_ms = 1800000000000ULL,
		  .dur_ms = 3600000, .dry_run = true },
	};
	char *msg = compose(v, 2, 0, "s"), *body = strstr(msg, "\n\n");

	ck_assert_ptr_nonnull(body);
	ck_assert_msg(strncmp(body + 2, "(dry run: nothing was blocked)\n", 31) == 0, "%s", body);
	ck_assert_msg(strstr(body, " 203.0.113.7 would be blocked for 1h by auth-ip (dry run)\n"), "%s", body);
	ck_assert_msg(strstr(body, " account 'bob' would be blocked for 1h by auth-account (dry run)\n"), "%s", body);
	ck_assert_ptr_null(strstr(body, " blocked for 1h by auth-ip\n"));
	free(msg);
	/* a batch that spans a reload out of dry run says which were made */
	v[1].dry_run = false;
	msg = compose(v, 2, 0, "s");
	body = strstr(msg, "\n\n");
	ck_assert_msg(strstr(body, "(dry run for those that \"would be blocked\": they were not blocked)"), "%s", body);
	ck_assert_msg(strstr(body, " account 'bob' blocked for 1h by auth-account\n"), "%s", body);
	free(msg);
	/* not in dry run: not a word of it */
	v[0].dry_run = false;
	msg = compose(v, 2, 0, "s");
	ck_assert_ptr_null(strstr(msg, "dry run"));
	ck_assert_ptr_null(strstr(msg, "would"));
	free(msg);
}
END_TEST

START_TEST(body_lines_are_bounded_and_the_rest_is_counted)
{
	struct mail_block b = { .origin = "manual", .dur_ms = 60000 };
	char *msg, *p;

	snprintf(b.what, sizeof b.what, "192.0.2.1");
	memset(b.reason, 'r', sizeof b.reason - 1);
	b.reason[sizeof b.reason - 1] = '\0';
	msg = compose(&b, 1, 41, "s");
	for (p = msg; *p; p = strchr(p, '\n') + 1)
		ck_assert_uint_le(strcspn(p, "\n"), MAIL_LINE_MAX);
	ck_assert_ptr_nonnull(strstr(msg, "\n41 more blocks not listed"));
	free(msg);
}
END_TEST

/* An account name of hostile or merely non-ASCII bytes grows fourfold as
 * \xNN: the Subject that holds it must still be a line a mail server
 * takes (RFC 5322: at most 998 characters), cut with "...". */
START_TEST(a_long_escaped_subject_stays_within_the_line_limit)
{
	struct mail_block b = { .account = true, .origin = "auth-account", .dur_ms = 60000 };
	char subject[700], *msg, *p;

	memset(b.what, 0xff, sizeof b.what - 1);
	b.what[sizeof b.what - 1] = '\0';
	snprintf(subject, sizeof subject, "mailscreen on mx.example.org: account '%s' blocked", b.what);
	msg = compose(&b, 1, 0, subject);
	for (p = msg; *p; p = strchr(p, '\n') + 1)
		ck_assert_msg(strcspn(p, "\n") <= 998, "a line of %zu characters: %.40s", strcspn(p, "\n"), p);
	ck_assert_ptr_nonnull(strstr(msg, "Subject: mailscreen on mx.example.org: account '\\xff\\xff"));
	ck_assert_ptr_nonnull(strstr(msg, "...\n"));
	ck_assert_int_eq(count_headers_named(msg, "Subject"), 1);
	free(msg);
}
END_TEST

START_TEST(a_batch_waits_batch_and_the_hour_caps_the_mails)
{
	struct notify_batch b;
	struct mail_block blk = { .what = "192.0.2.9" }, *v;
	size_t n;
	uint64_t more, t = 1000000;

	notify_batch_init(&b, 3, 2);
	ck_assert_uint_eq(notify_batch_due(&b, 60000, t), 0);
	ck_assert(notify_batch_add(&b, &blk, t));
	ck_assert(!notify_batch_add(&b, &blk, t + 10));
	ck_assert_uint_eq(notify_batch_due(&b, 60000, t + 10), t + 60000);
	for (int i = 0; i < 498; i++)
		notify_batch_add(&b, &blk, t + 20);
	notify_batch_take(&b, t + 60000, &v, &n, &more);
	ck_assert_uint_eq(n, 3);
	ck_assert_uint_eq(more, 497);
	free(v);
	/* the second mail of the hour */
	ck_assert(notify_batch_add(&b, &blk, t + 70000));
	ck_assert_uint_eq(notify_batch_due(&b, 60000, t + 70000), t + 130000);
	notify_batch_take(&b, t + 130000, &v, &n, &more);
	free(v);
	/* the hour's two mails are spent: the next waits for the first to be
	 * an hour old, gathering what comes */
	ck_assert(notify_batch_add(&b, &blk, t + 140000));
	ck_assert_uint_eq(notify_batch_due(&b, 60000, t + 140000), t + 60000 + 3600000);
	for (int i = 0; i < 1000; i++)
		ck_assert(!notify_batch_add(&b, &blk, t + 150000));
	notify_batch_take(&b, t + 3660000, &v, &n, &more);
	ck_assert_uint_eq(n + more, 1001);
	free(v);
	notify_batch_release(&b);
}
END_TEST

/* A reload that changes the bounds keeps the hour's count: the mails
 * already sent in the hour still count against the cap. */
START_TEST(new_bounds_keep_the_hours_mails)
{
	struct notify_batch b;
	struct mail_block blk = { .what = "192.0.2.9" }, *v;
	size_t n;
	uint64_t more, t = 1000000;

	notify_batch_init(&b, 3, 2);
	for (int i = 0; i < 2; i++) {
		notify_batch_add(&b, &blk, t + (uint64_t)i * 60000);
		notify_batch_take(&b, t + (uint64_t)i * 60000 + 60000, &v, &n, &more);
		free(v);
	}
	/* the hour's two mails are sent; a reload lists more per mail */
	notify_batch_resize(&b, 50, 2);
	ck_assert(notify_batch_add(&b, &blk, t + 200000));
	ck_assert_uint_eq(notify_batch_due(&b, 60000, t + 200000), t + 60000 + 3600000);
	/* and one with a cap of 3: one more may leave, then the hour waits
	 * for the oldest of the three */
	notify_batch_resize(&b, 50, 3);
	ck_assert_uint_eq(b.n, 1);
	ck_assert_uint_eq(notify_batch_due(&b, 60000, t + 200000), t + 260000);
	notify_batch_take(&b, t + 260000, &v, &n, &more);
	free(v);
	notify_batch_add(&b, &blk, t + 300000);
	ck_assert_uint_eq(notify_batch_due(&b, 60000, t + 300000), t + 60000 + 3600000);
	/* a cap of 1: the newest mail is the one that counts */
	notify_batch_resize(&b, 50, 1);
	ck_assert_uint_eq(notify_batch_due(&b, 60000, t + 300000), t + 260000 + 3600000);
	notify_batch_release(&b);
}
END_TEST

START_TEST(the_configuration_is_checked)
{
	const char *key = NULL;
	char err[256];

	ck_assert_int_eq(notify_check("root ops@example.org", "", "/usr/sbin/sendmail", "", "daily", &key, err,
				      sizeof err), 0);
	ck_assert_int_eq(notify_check("-oQ/tmp", "", "/usr/sbin/sendmail", "", "no", &key, err, sizeof err), -1);
	ck_assert_str_eq(key, "mail_to");
	ck_assert_int_eq(notify_check("a@b", "x y", "/usr/sbin/sendmail", "", "no", &key, err, sizeof err), -1);
	ck_assert_str_eq(key, "mail_from");
	ck_assert_int_eq(notify_check("a@b,c@d", "", "/usr/sbin/sendmail", "", "no", &key, err, sizeof err), 0);
	ck_assert_int_eq(notify_check("", "", "sendmail", "", "no", &key, err, sizeof err), -1);
	ck_assert_str_eq(key, "sendmail");
	ck_assert_int_eq(notify_check("", "", "/s", "prog", "no", &key, err, sizeof err), -1);
	ck_assert_str_eq(key, "program");
	ck_assert_int_eq(notify_check("", "", "/s", "", "weekly", &key, err, sizeof err), -1);
	ck_assert_str_eq(key, "report");
}
END_TEST

START_TEST(a_program_runs_without_a_shell_with_its_input_and_is_killed_at_its_timeout)
{
	char err[256];
	char *const env[] = { "PATH=/usr/bin:/bin", NULL };
	char *const cat[] = { "/bin/sh", "-c", "cat > \"$0\"; printf '%s' \"$1\"", NULL, "a;b $(x)", NULL };
	char *const fail[] = { "/bin/sh", "-c", "echo 'no such user' >&2; echo second >&2; exit 3", NULL };
	char *const slow[] = { "/bin/sleep", "10", NULL };
	char *const none[] = { "/nonexistent/program", NULL };
	char path[300], got[64] = "";
	char *argv[6];
	FILE *f;

	snprintf(path, sizeof path, "%s/in", ut_dir);
	memcpy(argv, cat, sizeof argv);
	argv[3] = path;
	ck_assert_int_eq(notify_exec("/bin/sh", argv, env, "hello\n", 6, 5000, err, sizeof err), 0);
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(fgets(got, sizeof got, f));
	fclose(f);
	ck_assert_str_eq(got, "hello\n");
	ck_assert_int_eq(notify_exec("/bin/sh", fail, env, "", 0, 5000, err, sizeof err), -1);
	ck_assert_str_eq(err, "exit status 3: no such user");
	ck_assert_int_eq(notify_exec("/bin/sleep", slow, env, "", 0, 200, err, sizeof err), -1);
	ck_assert_str_eq(err, "killed after 200ms (timeout)");
	ck_assert_int_eq(notify_exec("/nonexistent/program", none, env, "", 0, 5000, err, sizeof err), -1);
	ck_assert_str_eq(err, "exit status 127: cannot run /nonexistent/program: No such file or directory");
	/* timeout = permanent (every duration option takes it): never
	 * killed, not killed at once */
	ck_assert_int_eq(notify_exec("/bin/sh", argv, env, "hello\n", 6, DURATION_PERMANENT, err, sizeof err), 0);
}
END_TEST

/* A program that leaves a job of its own behind, holding its output (a
 * script's "cmd &"), has ended when it exits: the run does not wait for
 * that job to the timeout, one block after the other. The job here waits
 * on a FIFO the test opens only once the run returned: were the run to
 * wait for the end of its output, it would return at its timeout, long
 * after the test case's. */
START_TEST(a_program_that_exits_has_ended_even_if_its_job_holds_its_output)
{
	char err[256], fifo[300], script[700];
	char *const env[] = { "PATH=/usr/bin:/bin", NULL };
	char *argv[] = { "/bin/sh", "-c", script, NULL };
	int fd;

	snprintf(fifo, sizeof fifo, "%s/job.fifo", ut_dir);
	ck_assert_int_eq(mkfifo(fifo, 0600), 0);
	snprintf(script, sizeof script, "echo started; timeout 60 cat '%s' > /dev/null & exit 0", fifo);
	ck_assert_int_eq(notify_exec("/bin/sh", argv, env, "", 0, 600000, err, sizeof err), 0);
	/* the job ends: it reads the end of the FIFO */
	fd = open(fifo, O_WRONLY);
	ck_assert_int_ge(fd, 0);
	close(fd);
	/* and one that fails says so the same */
	snprintf(script, sizeof script, "timeout 60 cat '%s' > /dev/null & echo 'no way' >&2; exit 4", fifo);
	ck_assert_int_eq(notify_exec("/bin/sh", argv, env, "", 0, 600000, err, sizeof err), -1);
	ck_assert_str_eq(err, "exit status 4: no way");
	fd = open(fifo, O_WRONLY);
	ck_assert_int_ge(fd, 0);
	close(fd);
}
END_TEST

int main(void)
{
	TCase *tc = tcase_create("notify");

	log_init("test_notify", LOG_LVL_ERR);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, texts_of_a_block_never_make_a_header);
	tcase_add_test(tc, body_lines_are_bounded_and_the_rest_is_counted);
	tcase_add_test(tc, a_long_escaped_subject_stays_within_the_line_limit);
	tcase_add_test(tc, dry_run_blocks_are_said_to_be_would_be_blocks);
	tcase_add_test(tc, a_batch_waits_batch_and_the_hour_caps_the_mails);
	tcase_add_test(tc, new_bounds_keep_the_hours_mails);
	tcase_add_test(tc, the_configuration_is_checked);
	tcase_add_test(tc, a_program_runs_without_a_shell_with_its_input_and_is_killed_at_its_timeout);
	tcase_add_test(tc, a_program_that_exits_has_ended_even_if_its_job_holds_its_output);
	return ut_run("notify", tc);
}
