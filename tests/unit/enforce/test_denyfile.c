// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests for denyfile.c: the content written for a list, which names
 * are refused, and that the file is replaced atomically - an open reader
 * keeps the old file, a reader in a loop never sees a partial one, no
 * temporary file stays behind, and Dovecot's (mtime, size) check always
 * sees a change.
 */
#include "denyfile.h"
#include "log.h"

#include "unit.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char err[512];

static const char *path_in(const char *name)
{
	static char path[sizeof ut_dir + 256];

	snprintf(path, sizeof path, "%s/%s", ut_dir, name);
	return path;
}

/* The whole file (static storage, valid until the next call). */
static const char *slurp(const char *path)
{
	static char buf[1 << 16];
	int fd = open(path, O_RDONLY);
	ssize_t r;
	size_t o = 0;

	ck_assert_msg(fd >= 0, "cannot open '%s': %s", path, strerror(errno));
	while ((r = read(fd, buf + o, sizeof buf - 1 - o)) > 0)
		o += (size_t)r;
	ck_assert_int_ge(r, 0);
	close(fd);
	buf[o] = '\0';
	return buf;
}

/* Entries of the test directory other than . and .. */
static int dir_entries(void)
{
	DIR *d = opendir(ut_dir);
	struct dirent *e;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

/* Every test starts from an empty directory (own buffer: callers hold
 * path_in's). */
static void empty_dir(void)
{
	DIR *d = opendir(ut_dir);
	struct dirent *e;
	char path[sizeof ut_dir + 256];

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			snprintf(path, sizeof path, "%s/%s", ut_dir, e->d_name);
			ck_assert_int_eq(unlink(path), 0);
		}
	closedir(d);
}

START_TEST(writes_one_user_name_per_line_in_the_given_order)
{
	const char *users[] = { "bob", "alice@example.org", "carol.smith" };
	const char *p = path_in("denied");

	empty_dir();
	ck_assert_int_eq(denyfile_write(p, users, 3, err, sizeof err), 0);
	ck_assert_str_eq(slurp(p), "bob\nalice@example.org\ncarol.smith\n");
}
END_TEST

START_TEST(duplicates_are_written_once)
{
	const char *users[] = { "bob", "eve", "bob", "alice", "eve", "bob" };
	const char *p = path_in("denied");

	empty_dir();
	ck_assert_int_eq(denyfile_write(p, users, 6, err, sizeof err), 0);
	ck_assert_str_eq(slurp(p), "bob\neve\nalice\n");
}
END_TEST

START_TEST(valid_user_refuses_what_the_format_cannot_hold)
{
	char longest[DENYFILE_USER_MAX + 1];

	memset(longest, 'a', sizeof longest);
	ck_assert(denyfile_valid_user("bob", 3));
	ck_assert(denyfile_valid_user("bob@example.org", 15));
	ck_assert(denyfile_valid_user("j\xc3\xbcrgen", 7));        /* UTF-8 is the server's business */
	ck_assert(denyfile_valid_user("a b", 3));
	ck_assert(denyfile_valid_user("bob#1", 5));                 /* '#' only comments at the start */
	ck_assert(denyfile_valid_user(longest, DENYFILE_USER_MAX));
	ck_assert(!denyfile_valid_user(longest, DENYFILE_USER_MAX + 1));
	ck_assert(!denyfile_valid_user("", 0));
	ck_assert(!denyfile_valid_user(NULL, 0));
	ck_assert(!denyfile_valid_user("bob:x", 5));
	ck_assert(!denyfile_valid_user("bob\nroot", 8));
	ck_assert(!denyfile_valid_user("bob\r", 4));
	ck_assert(!denyfile_valid_user("bob\0root", 8));
	ck_assert(!denyfile_valid_user("bob\t", 4));
	ck_assert(!denyfile_valid_user("bob\x1b[2J", 7));
	ck_assert(!denyfile_valid_user("bob\x7f", 4));
	ck_assert(!denyfile_valid_user("#bob", 4));
}
END_TEST

START_TEST(invalid_names_are_skipped_counted_and_logged_escaped)
{
	char toolong[DENYFILE_USER_MAX + 2];
	const char *users[] = { "bob", "root:x:0:0", "eve\nroot", "mallory\r", "", NULL, toolong,
				"#comment", "tab\there", "esc\x1b[31m", "alice" };
	const char *p = path_in("denied");
	char logpath[sizeof ut_dir + 16];
	const char *log;
	int saved, lfd;

	memset(toolong, 'x', sizeof toolong - 1);
	toolong[sizeof toolong - 1] = '\0';
	empty_dir();
	snprintf(logpath, sizeof logpath, "%s/stderr", ut_dir);
	fflush(stderr);
	saved = dup(2);
	lfd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(lfd, 0);
	dup2(lfd, 2);
	close(lfd);
	ck_assert_int_eq(denyfile_write(p, users, sizeof users / sizeof users[0], err, sizeof err), 9);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	ck_assert_str_eq(slurp(p), "bob\nalice\n");

	log = slurp(logpath);
	unlink(logpath);
	ck_assert_msg(strstr(log, "'eve\\x0aroot'"), "newline not escaped in: %s", log);
	ck_assert_msg(strstr(log, "'mallory\\x0d'"), "CR not escaped in: %s", log);
	ck_assert_msg(strstr(log, "'esc\\x1b[31m'"), "ESC not escaped in: %s", log);
	ck_assert_msg(!strchr(log, '\x1b') && !strchr(log, '\r') && !strchr(log, '\t'),
		      "a raw control character reached the log: %s", log);
	/* one line per refused name, nothing else */
	{
		int lines = 0;

		for (const char *c = log; *c; c++)
			lines += *c == '\n';
		ck_assert_int_eq(lines, 9);
	}
}
END_TEST

START_TEST(an_empty_list_writes_an_empty_file)
{
	const char *users[] = { "bob" };
	const char *p = path_in("denied");
	struct stat st;

	empty_dir();
	ck_assert_int_eq(denyfile_write(p, users, 1, err, sizeof err), 0);
	ck_assert_int_eq(denyfile_write(p, NULL, 0, err, sizeof err), 0);
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	ck_assert_int_eq(st.st_size, 0);
	ck_assert_int_eq(dir_entries(), 1);
}
END_TEST

START_TEST(an_open_reader_keeps_the_old_file)
{
	const char *before[] = { "bob" }, *after[] = { "eve", "mallory" };
	const char *p = path_in("denied");
	char buf[64];
	struct stat st_old, st_new;
	int fd;
	ssize_t r;

	empty_dir();
	ck_assert_int_eq(denyfile_write(p, before, 1, err, sizeof err), 0);
	fd = open(p, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fstat(fd, &st_old), 0);
	ck_assert_int_eq(denyfile_write(p, after, 2, err, sizeof err), 0);
	r = pread(fd, buf, sizeof buf - 1, 0);
	ck_assert_int_eq(r, 4);
	buf[r] = '\0';
	ck_assert_str_eq(buf, "bob\n");
	close(fd);
	ck_assert_str_eq(slurp(p), "eve\nmallory\n");
	ck_assert_int_eq(stat(p, &st_new), 0);
	ck_assert_msg(st_new.st_ino != st_old.st_ino, "the file was rewritten in place, not replaced");
}
END_TEST

START_TEST(each_rewrite_gets_a_later_mtime_second)
{
	/* Dovecot rereads on a change of mtime (whole seconds) or size: two
	 * same-size lists written within one second must still differ. */
	const char *a[] = { "bob" }, *b[] = { "eve" };
	const char *p = path_in("denied");
	struct stat s1, s2, s3;

	empty_dir();
	ck_assert_int_eq(denyfile_write(p, a, 1, err, sizeof err), 0);
	ck_assert_int_eq(stat(p, &s1), 0);
	ck_assert_int_eq(denyfile_write(p, b, 1, err, sizeof err), 0);
	ck_assert_int_eq(stat(p, &s2), 0);
	ck_assert_int_eq(denyfile_write(p, a, 1, err, sizeof err), 0);
	ck_assert_int_eq(stat(p, &s3), 0);
	ck_assert_int_eq(s1.st_size, s2.st_size);
	ck_assert_int_gt(s2.st_mtim.tv_sec, s1.st_mtim.tv_sec);
	ck_assert_int_gt(s3.st_mtim.tv_sec, s2.st_mtim.tv_sec);
}
END_TEST

START_TEST(a_new_file_is_0644_whatever_the_umask)
{
	const char *users[] = { "bob" };
	const char *p = path_in("denied");
	struct stat st;
	mode_t old = umask(077);

	empty_dir();
	ck_assert_int_eq(denyfile_write(p, users, 1, err, sizeof err), 0);
	umask(old);
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0644);
}
END_TEST

START_TEST(an_existing_file_keeps_its_mode_and_group)
{
	const char *users[] = { "bob" };
	const char *p = ut_write("denied", "old\n");
	gid_t gid = getegid() == 4242 ? 4243 : 4242;
	struct stat st;

	ck_assert_int_eq(chmod(p, 0640), 0);
	if (geteuid() == 0)
		ck_assert_int_eq(chown(p, (uid_t)-1, gid), 0);
	else
		gid = getegid();
	ck_assert_int_eq(denyfile_write(p, users, 1, err, sizeof err), 0);
	ck_assert_int_eq(stat(p, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0640);
	ck_assert_int_eq(st.st_gid, gid);
	ck_assert_str_eq(slurp(p), "bob\n");
	ck_assert_int_eq(dir_entries(), 1);
}
END_TEST

START_TEST(a_missing_directory_is_a_clear_error)
{
	const char *users[] = { "bob" };
	const char *p = path_in("no-such-dir/denied");

	empty_dir();
	ck_assert_int_eq(denyfile_write(p, users, 1, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "cannot create a temporary file in '") && strstr(err, "no-such-dir'") &&
		      strstr(err, "No such file or directory"), "unclear error: %s", err);
	ck_assert_int_eq(dir_entries(), 0);
}
END_TEST

START_TEST(a_directory_in_the_way_is_an_error_and_leaves_nothing)
{
	const char *users[] = { "bob" };
	char p[sizeof ut_dir + 16];

	empty_dir();
	snprintf(p, sizeof p, "%s/denied", ut_dir);
	ck_assert_int_eq(mkdir(p, 0755), 0);
	ck_assert_int_eq(denyfile_write(p, users, 1, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "not a regular file"), "unclear error: %s", err);
	ck_assert_int_eq(rmdir(p), 0);
	ck_assert_int_eq(dir_entries(), 0);
	snprintf(p, sizeof p, "%s/", ut_dir);
	ck_assert_int_eq(denyfile_write(p, users, 1, err, sizeof err), -1);
	ck_assert_int_eq(dir_entries(), 0);
}
END_TEST

START_TEST(a_reader_never_sees_a_missing_or_partial_file_during_1000_rewrites)
{
	enum { BIG = 300, REWRITES = 1000 };
	static char names[BIG][32];
	const char *big[BIG], *small[] = { "bob", "eve" };
	char expect_big[BIG * 32];
	const char *p = path_in("denied");
	size_t o = 0;
	long reads = 0;
	pid_t pid;
	int status;

	empty_dir();
	for (int i = 0; i < BIG; i++) {
		snprintf(names[i], sizeof names[i], "user%03d@example.org", i);
		big[i] = names[i];
		o += (size_t)sprintf(expect_big + o, "%s\n", names[i]);
	}
	ck_assert_int_eq(denyfile_write(p, small, 2, err, sizeof err), 0);

	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		for (int i = 0; i < REWRITES; i++) {
			char e[256];

			if (denyfile_write(p, i % 2 ? small : big, i % 2 ? 2 : BIG, e, sizeof e) != 0) {
				fprintf(stderr, "rewrite %d: %s\n", i, e);
				_exit(1);
			}
		}
		_exit(0);
	}
	for (;;) {
		pid_t w = waitpid(pid, &status, WNOHANG);
		int fd = open(p, O_RDONLY);
		char buf[sizeof expect_big + 64];
		ssize_t r;
		size_t n = 0;

		if (fd < 0) {
			kill(pid, SIGKILL);
			ck_abort_msg("read %ld: the target is missing: %s", reads, strerror(errno));
		}
		while ((r = read(fd, buf + n, sizeof buf - 1 - n)) > 0)
			n += (size_t)r;
		close(fd);
		buf[n] = '\0';
		if (strcmp(buf, "bob\neve\n") && strcmp(buf, expect_big)) {
			kill(pid, SIGKILL);
			ck_abort_msg("read %ld: partial or wrong content (%zu bytes)", reads, n);
		}
		reads++;
		if (w == pid)
			break;
	}
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "the writer failed");
	ck_assert_str_eq(slurp(p), "bob\neve\n");      /* the last rewrite (999) was the small list */
	ck_assert_int_eq(dir_entries(), 1);             /* no temporary file left */
	ck_assert_int_gt(reads, 10);
}
END_TEST

int main(void)
{
	TCase *tc = tcase_create("denyfile");

	log_init("test_denyfile", LOG_LVL_WARN);
	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, writes_one_user_name_per_line_in_the_given_order);
	tcase_add_test(tc, duplicates_are_written_once);
	tcase_add_test(tc, valid_user_refuses_what_the_format_cannot_hold);
	tcase_add_test(tc, invalid_names_are_skipped_counted_and_logged_escaped);
	tcase_add_test(tc, an_empty_list_writes_an_empty_file);
	tcase_add_test(tc, an_open_reader_keeps_the_old_file);
	tcase_add_test(tc, each_rewrite_gets_a_later_mtime_second);
	tcase_add_test(tc, a_new_file_is_0644_whatever_the_umask);
	tcase_add_test(tc, an_existing_file_keeps_its_mode_and_group);
	tcase_add_test(tc, a_missing_directory_is_a_clear_error);
	tcase_add_test(tc, a_directory_in_the_way_is_an_error_and_leaves_nothing);
	tcase_add_test(tc, a_reader_never_sees_a_missing_or_partial_file_during_1000_rewrites);
	return ut_run("denyfile", tc);
}
