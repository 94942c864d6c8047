/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * unit.h - what the unit tests share: a private temporary directory,
 * writing a file into it, and running a suite with the Check framework.
 * Header-only, so each test stays one file.
 */
#ifndef MS_TEST_UNIT_H
#define MS_TEST_UNIT_H

#include <check.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char ut_dir[] = "/tmp/ms-unit-XXXXXX";

/* Write text to NAME in the test's directory; returns the path (static
 * storage, valid until the next call). */
static inline const char *ut_write(const char *name, const char *text)
{
	static char path[sizeof ut_dir + 256];
	FILE *fp;

	snprintf(path, sizeof path, "%s/%s", ut_dir, name);
	fp = fopen(path, "w");
	ck_assert_ptr_nonnull(fp);
	fputs(text, fp);
	ck_assert_int_eq(fclose(fp), 0);
	return path;
}

static inline int ut_rm(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Run every test of tc (one suite), in this process (so fixtures may
 * share state), with the temporary directory made before and removed
 * after. Returns the exit status for main. */
static inline int ut_run(const char *name, TCase *tc)
{
	Suite *s = suite_create(name);
	SRunner *sr;
	int nf;

	if (!mkdtemp(ut_dir)) {
		perror("mkdtemp");
		return EXIT_FAILURE;
	}
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	nftw(ut_dir, ut_rm, 16, FTW_DEPTH | FTW_PHYS);
	return nf ? EXIT_FAILURE : EXIT_SUCCESS;
}

#endif
