// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests for child.c: work done in a forked child while the loop goes
 * on - its result and message, the memory of the fork's instant, none of
 * the parent's descriptors, and killing it. */
#include "child.h"

#include "log.h"
#include "loop.h"
#include "unit.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int done_rc = 99, ndone;
static pid_t done_pid;
static char done_msg[512];

static void on_done(void *arg, pid_t pid, int rc, const char *msg)
{
	done_rc = rc;
	done_pid = pid;
	snprintf(done_msg, sizeof done_msg, "%s", msg);
	ndone++;
	loop_stop(arg);
}

/* Start fn(arg) and run the loop until the child is done. */
static void run(child_fn *fn, void *arg)
{
	struct loop *l = loop_new();
	char err[256];
	struct child *c;

	ndone = 0;
	c = child_start(l, fn, arg, on_done, l, err, sizeof err);
	ck_assert_msg(c != NULL, "%s", err);
	ck_assert_int_gt(child_pid(c), 0);
	ck_assert_int_eq(loop_run(l), 0);
	ck_assert_int_eq(ndone, 1);
	loop_free(l);
}

static int succeed(void *arg, char *err, size_t errlen)
{
	(void)arg;
	(void)err;
	(void)errlen;
	return 0;
}

static int fail_with_message(void *arg, char *err, size_t errlen)
{
	snprintf(err, errlen, "cannot write '%s': No space left on device", (const char *)arg);
	return -1;
}

START_TEST(a_child_reports_success_or_its_message)
{
	run(succeed, NULL);
	ck_assert_int_eq(done_rc, 0);
	ck_assert_str_eq(done_msg, "");
	run(fail_with_message, "/x/state");
	ck_assert_int_eq(done_rc, -1);
	ck_assert_str_eq(done_msg, "cannot write '/x/state': No space left on device");
}
END_TEST

/* the value the child sees, written to the file ut_dir/seen */
static int write_seen(void *arg, char *err, size_t errlen)
{
	struct timespec ts = { 0, 50 * 1000000 };
	char path[256];
	FILE *fp;

	nanosleep(&ts, NULL);   /* the parent has changed it by now */
	snprintf(path, sizeof path, "%s/seen", ut_dir);
	if (!(fp = fopen(path, "w")))
		return snprintf(err, errlen, "cannot open %s", path), -1;
	fprintf(fp, "%d", *(const int *)arg);
	fclose(fp);
	return 0;
}

START_TEST(a_child_sees_the_memory_of_the_instant_it_was_made)
{
	struct loop *l = loop_new();
	char err[256], path[256], seen[16] = "";
	int value = 1;
	FILE *fp;

	ndone = 0;
	ck_assert_ptr_nonnull(child_start(l, write_seen, &value, on_done, l, err, sizeof err));
	value = 2;
	ck_assert_int_eq(loop_run(l), 0);
	ck_assert_int_eq(done_rc, 0);
	snprintf(path, sizeof path, "%s/seen", ut_dir);
	fp = fopen(path, "r");
	ck_assert_ptr_nonnull(fp);
	ck_assert_ptr_nonnull(fgets(seen, sizeof seen, fp));
	fclose(fp);
	ck_assert_str_eq(seen, "1");
	loop_free(l);
}
END_TEST

static int fd_is_closed(void *arg, char *err, size_t errlen)
{
	int fd = *(const int *)arg;

	if (fcntl(fd, F_GETFD) < 0 && errno == EBADF)
		return 0;
	snprintf(err, errlen, "descriptor %d is open in the child", fd);
	return -1;
}

START_TEST(a_child_holds_none_of_the_parents_descriptors)
{
	int p[2];

	ck_assert_int_eq(pipe(p), 0);   /* not close-on-exec: a fork keeps it */
	run(fd_is_closed, &p[1]);
	ck_assert_msg(done_rc == 0, "%s", done_msg);
	close(p[0]);
	close(p[1]);
}
END_TEST

static int sleep_long(void *arg, char *err, size_t errlen)
{
	(void)arg;
	(void)err;
	(void)errlen;
	sleep(30);
	return 0;
}

START_TEST(a_killed_child_is_reaped_and_never_reports)
{
	struct loop *l = loop_new();
	char err[256];
	struct child *c;
	pid_t pid;

	ndone = 0;
	c = child_start(l, sleep_long, NULL, on_done, l, err, sizeof err);
	ck_assert_ptr_nonnull(c);
	pid = child_pid(c);
	child_kill(c);
	ck_assert_int_eq(ndone, 0);
	ck_assert_int_eq(kill(pid, 0), -1);     /* reaped: no such process */
	ck_assert_int_eq(errno, ESRCH);
	loop_free(l);
}
END_TEST

static int die(void *arg, char *err, size_t errlen)
{
	(void)arg;
	(void)err;
	(void)errlen;
	raise(SIGKILL);
	return 0;
}

START_TEST(a_child_that_dies_is_reported_with_how)
{
	run(die, NULL);
	ck_assert_int_eq(done_rc, -1);
	ck_assert_str_eq(done_msg, "its process was killed by signal 9");
}
END_TEST

int main(void)
{
	TCase *tc = tcase_create("child");

	log_init("test_child", LOG_LVL_ERR);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, a_child_reports_success_or_its_message);
	tcase_add_test(tc, a_child_sees_the_memory_of_the_instant_it_was_made);
	tcase_add_test(tc, a_child_holds_none_of_the_parents_descriptors);
	tcase_add_test(tc, a_killed_child_is_reaped_and_never_reports);
	tcase_add_test(tc, a_child_that_dies_is_reported_with_how);
	return ut_run("child", tc);
}
