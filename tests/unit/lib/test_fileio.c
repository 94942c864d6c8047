// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests for fileio.c: file_replace, the crash-safe replace of a file
 * that the state snapshot and the account deny file share - the new
 * content whole, the old file untouched when anything fails, never a
 * temporary file left behind, and never a symbolic link followed. */
#include "fileio.h"

#include "log.h"
#include "unit.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char err[512];

static const char *path_in(const char *name)
{
	static char path[sizeof ut_dir + 300];

	snprintf(path, sizeof path, "%s/%s", ut_dir, name);
	return path;
}

static const char *slurp(const char *path)
{
	static char buf[4096];
	FILE *fp = fopen(path, "r");
	size_t n;

	if (!fp)
		return NULL;
	n = fread(buf, 1, sizeof buf - 1, fp);
	fclose(fp);
	buf[n] = '\0';
	return buf;
}

/* Files in the directory other than those named. */
static int others(const char *a, const char *b)
{
	DIR *d = opendir(ut_dir);
	struct dirent *de;
	int n = 0;

	while ((de = readdir(d)))
		n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..") && strcmp(de->d_name, a) &&
		     (!b || strcmp(de->d_name, b));
	closedir(d);
	return n;
}

static void empty_dir(void)
{
	DIR *d = opendir(ut_dir);
	struct dirent *de;

	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			unlink(path_in(de->d_name));
	closedir(d);
}

struct text {
	const char *s;
	bool fail;
};

static int fill(void *arg, int fd, const char *tmp, char *e, size_t elen)
{
	const struct text *t = arg;

	ck_assert_int_eq(write_all(fd, t->s, strlen(t->s)), 0);
	if (t->fail)
		return errf(e, elen, "cannot write '%s': disk full", tmp);
	return 0;
}

static int replace(const char *name, const char *tmpname, const char *text, bool fail)
{
	char path[sizeof ut_dir + 64], tmp[sizeof ut_dir + 64];
	struct text t = { text, fail };

	snprintf(path, sizeof path, "%s/%s", ut_dir, name);
	snprintf(tmp, sizeof tmp, "%s/%s", ut_dir, tmpname);
	return file_replace(path, tmp, fill, &t, err, sizeof err);
}

START_TEST(the_new_content_replaces_the_old_whole)
{
	empty_dir();
	ck_assert_int_eq(replace("f", ".f.XXXXXX", "first\n", false), 0);
	ck_assert_str_eq(slurp(path_in("f")), "first\n");
	ck_assert_int_eq(replace("f", ".f.XXXXXX", "second, longer\n", false), 0);
	ck_assert_str_eq(slurp(path_in("f")), "second, longer\n");
	ck_assert_int_eq(replace("f", ".f.1.tmp", "3\n", false), 0);
	ck_assert_str_eq(slurp(path_in("f")), "3\n");
	ck_assert_int_eq(others("f", NULL), 0);
}
END_TEST

START_TEST(a_new_file_is_private)
{
	struct stat st;

	empty_dir();
	ck_assert_int_eq(replace("f", ".f.XXXXXX", "x\n", false), 0);
	ck_assert_int_eq(stat(path_in("f"), &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(replace("g", ".g.1.tmp", "x\n", false), 0);
	ck_assert_int_eq(stat(path_in("g"), &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
}
END_TEST

START_TEST(a_failed_fill_leaves_the_old_file_and_no_temporary_file)
{
	empty_dir();
	ck_assert_int_eq(replace("f", ".f.XXXXXX", "old\n", false), 0);
	ck_assert_int_eq(replace("f", ".f.XXXXXX", "half of the n", true), -1);
	ck_assert_msg(strstr(err, "disk full"), "%s", err);
	ck_assert_int_eq(replace("f", ".f.7.tmp", "half of the n", true), -1);
	ck_assert_str_eq(slurp(path_in("f")), "old\n");
	ck_assert_int_eq(others("f", NULL), 0);
}
END_TEST

START_TEST(a_leftover_temporary_file_is_written_over)
{
	empty_dir();
	ut_write(".f.7.tmp", "what a killed writer left, long\n");
	ck_assert_int_eq(replace("f", ".f.7.tmp", "new\n", false), 0);
	ck_assert_str_eq(slurp(path_in("f")), "new\n");
	ck_assert_int_eq(others("f", NULL), 0);
}
END_TEST

START_TEST(a_symbolic_link_is_never_followed)
{
	char victim[sizeof ut_dir + 300];

	empty_dir();
	snprintf(victim, sizeof victim, "%s", ut_write("victim", "keep\n"));
	/* as the temporary file: refused */
	ck_assert_int_eq(symlink(victim, path_in(".f.7.tmp")), 0);
	ck_assert_int_eq(replace("f", ".f.7.tmp", "new\n", false), -1);
	ck_assert_str_eq(slurp(path_in("victim")), "keep\n");
	ck_assert_int_eq(access(path_in("f"), F_OK), -1);
	unlink(path_in(".f.7.tmp"));
	/* as the target: replaced by the new file, not written through */
	ck_assert_int_eq(symlink(victim, path_in("f")), 0);
	ck_assert_int_eq(replace("f", ".f.XXXXXX", "new\n", false), 0);
	ck_assert_str_eq(slurp(path_in("victim")), "keep\n");
	ck_assert_str_eq(slurp(path_in("f")), "new\n");
	ck_assert_int_eq(others("f", "victim"), 0);
}
END_TEST

START_TEST(a_missing_directory_is_a_clear_error)
{
	char path[sizeof ut_dir + 64], tmp[sizeof ut_dir + 64];
	struct text t = { "x", false };

	snprintf(path, sizeof path, "%s/no-such-dir/f", ut_dir);
	snprintf(tmp, sizeof tmp, "%s/no-such-dir/.f.XXXXXX", ut_dir);
	ck_assert_int_eq(file_replace(path, tmp, fill, &t, err, sizeof err), -1);
	ck_assert_msg(strstr(err, "cannot create a temporary file in '") && strstr(err, "/no-such-dir' for '") &&
		      strstr(err, "/no-such-dir/f'") && strstr(err, strerror(ENOENT)), "unclear error: %s", err);
}
END_TEST

START_TEST(a_rename_that_fails_leaves_no_temporary_file)
{
	empty_dir();
	ck_assert_int_eq(mkdir(path_in("d"), 0700), 0);
	ut_write("d/inside", "x");
	/* a directory that is not empty cannot be renamed over */
	ck_assert_int_eq(replace("d", ".d.XXXXXX", "new\n", false), -1);
	ck_assert_msg(strstr(err, "cannot rename '"), "%s", err);
	ck_assert_int_eq(others("d", NULL), 0);
	unlink(path_in("d/inside"));
	rmdir(path_in("d"));
}
END_TEST

int main(void)
{
	TCase *tc = tcase_create("fileio");

	log_init("test_fileio", LOG_LVL_ERR);
	tcase_add_test(tc, the_new_content_replaces_the_old_whole);
	tcase_add_test(tc, a_new_file_is_private);
	tcase_add_test(tc, a_failed_fill_leaves_the_old_file_and_no_temporary_file);
	tcase_add_test(tc, a_leftover_temporary_file_is_written_over);
	tcase_add_test(tc, a_symbolic_link_is_never_followed);
	tcase_add_test(tc, a_missing_directory_is_a_clear_error);
	tcase_add_test(tc, a_rename_that_fails_leaves_no_temporary_file);
	return ut_run("fileio", tc);
}
