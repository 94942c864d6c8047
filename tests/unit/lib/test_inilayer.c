// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests for inilayer.c: shipped files and local overrides merged by
 * section and key, every value's origin, the order override files are
 * found in, and errors that name the override's file and line. */
#include "inilayer.h"

#include "unit.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char shipped[] =
	"[auth-ip]\n"           /* 1 */
	"events = auth-fail\n"  /* 2 */
	"limit = 5\n"           /* 3 */
	"window = 10m\n"        /* 4 */
	"[f]\n"                 /* 5 */
	"regex = ^a\n"          /* 6 */
	"regex = ^b\n"          /* 7 */
	"regex = ^c\n";         /* 8 */

/* Collects what a loader would be fed: "section.key=value@file:line" */
struct seen {
	char buf[2048];
	size_t n;
	struct inilayer_feeder *fd;
};

static int collect(void *arg, const char *section, const char *key, const char *value, int lineno, int secline,
		   char *err, size_t errlen)
{
	struct seen *s = arg;

	(void)secline;
	if (strcmp(key, "bad") == 0)
		return snprintf(err, errlen, "bad key"), -1;
	s->n += (size_t)snprintf(s->buf + s->n, sizeof s->buf - s->n, "%s.%s=%s@%s:%d\n", section, key, value,
				 s->fd->file, lineno);
	return 0;
}

static const char *feed(struct inilayer *d, struct seen *s)
{
	struct inilayer_feeder fd = { .key = collect, .arg = s };
	char err[256];

	s->n = 0;
	s->buf[0] = '\0';
	s->fd = &fd;
	ck_assert_msg(inilayer_feed(d, NULL, &fd, err, sizeof err) == 0, "%s", err);
	return s->buf;
}

START_TEST(an_override_changes_one_key_and_keeps_the_others)
{
	struct inilayer *d = inilayer_new();
	struct seen s;
	struct ini_layer_value lv;
	char err[256];
	size_t nl;
	long sec;

	ck_assert_int_eq(inilayer_add_string(d, "auth.conf", shipped, NULL, false, err, sizeof err), 0);
	ck_assert_int_eq(inilayer_add_string(d, "auth.local", "[auth-ip]\nlimit = 3\n", NULL, true, err, sizeof err), 0);
	ck_assert_str_eq(feed(d, &s),
			 "auth-ip.events=auth-fail@auth.conf:2\n"
			 "auth-ip.limit=3@auth.local:2\n"
			 "auth-ip.window=10m@auth.conf:4\n"
			 "f.regex=^a@auth.conf:6\nf.regex=^b@auth.conf:7\nf.regex=^c@auth.conf:8\n");
	/* provenance: the value in force and the one it replaced */
	sec = inilayer_find(d, "auth-ip");
	ck_assert_int_eq(sec, 0);
	ck_assert_str_eq(inilayer_key(d, 0, 1, &nl), "limit");
	ck_assert_uint_eq(nl, 2);
	inilayer_layer(d, 0, 1, 0, &lv);
	ck_assert_str_eq(lv.file, "auth.conf");
	ck_assert_str_eq(lv.values[0], "5");
	ck_assert_int_eq(lv.lines[0], 3);
	inilayer_layer(d, 0, 1, 1, &lv);
	ck_assert_str_eq(lv.file, "auth.local");
	ck_assert_str_eq(lv.values[0], "3");
	inilayer_free(d);
}
END_TEST

START_TEST(a_list_of_lines_is_one_value_replaced_whole)
{
	struct inilayer *d = inilayer_new();
	struct seen s;
	char err[256];

	ck_assert_int_eq(inilayer_add_string(d, "f.conf", shipped, NULL, false, err, sizeof err), 0);
	/* two lines in one override: the new list; the shipped three are gone */
	ck_assert_int_eq(inilayer_add_string(d, "f.local", "[f]\nregex = ^x\nregex = ^y\n", NULL, true,
					     err, sizeof err), 0);
	ck_assert_ptr_nonnull(strstr(feed(d, &s), "f.regex=^x@f.local:2\nf.regex=^y@f.local:3\n"));
	ck_assert_ptr_null(strstr(s.buf, "^a"));
	ck_assert_ptr_null(strstr(s.buf, "^c"));
	/* a later override replaces the list again: later wins */
	ck_assert_int_eq(inilayer_add_string(d, "g.local", "[f]\nregex = ^z\n", NULL, true, err, sizeof err), 0);
	ck_assert_ptr_nonnull(strstr(feed(d, &s), "f.regex=^z@g.local:2\n"));
	ck_assert_ptr_null(strstr(s.buf, "^x"));
	inilayer_free(d);
}
END_TEST

START_TEST(an_override_adds_sections_to_its_own_owner)
{
	struct inilayer *d = inilayer_new();
	struct ini_section_info si;
	const char *file;
	bool base;
	char err[256], hint[512];

	ck_assert_int_eq(inilayer_add_string(d, "/x/postfix.conf", shipped, NULL, false, err, sizeof err), 0);
	ck_assert_int_eq(inilayer_add_string(d, "/x.d/mine.conf", "[new]\nlimit = 1\n[auth-ipp]\nlimit = 2\n", NULL,
					     true, err, sizeof err), 0);
	ck_assert_uint_eq(inilayer_nsections(d), 4);
	inilayer_section(d, 0, &si);
	ck_assert(!si.added);
	ck_assert_str_eq(si.owner, "postfix");
	inilayer_section(d, 2, &si);
	ck_assert(si.added);
	ck_assert_str_eq(si.name, "new");
	ck_assert_str_eq(si.owner, "mine");
	ck_assert_str_eq(si.file, "/x.d/mine.conf");
	ck_assert_int_eq(si.line, 1);
	ck_assert_uint_eq(inilayer_nowners(d), 2);
	ck_assert_str_eq(inilayer_owner(d, 1, &file, &base), "mine");
	ck_assert(!base);
	/* an added section that looks like a typo names the shipped one */
	inilayer_section(d, 3, &si);
	inilayer_added_hint(d, &si, "rule", hint, sizeof hint);
	ck_assert_msg(strstr(hint, "did you mean [auth-ip] of /x/postfix.conf:1"), "%s", hint);
	inilayer_section(d, 2, &si);
	inilayer_added_hint(d, &si, "rule", hint, sizeof hint);
	ck_assert_msg(strstr(hint, "no shipped rule is named 'new'"), "%s", hint);
	inilayer_free(d);
}
END_TEST

START_TEST(errors_carry_the_override_file_and_line)
{
	struct inilayer *d = inilayer_new();
	struct seen s = { .n = 0 };
	struct inilayer_feeder fd = { .key = collect, .arg = &s };
	char err[256];

	s.fd = &fd;
	ck_assert_int_eq(inilayer_add_string(d, "a.conf", shipped, NULL, false, err, sizeof err), 0);
	ck_assert_int_eq(inilayer_add_string(d, "a.local", "\n[auth-ip]\nbad = 1\n", NULL, true, err, sizeof err), 0);
	ck_assert_int_eq(inilayer_feed(d, NULL, &fd, err, sizeof err), -1);
	ck_assert_str_eq(err, "a.local:3: bad key");
	/* a syntax error in an override is the override's */
	ck_assert_int_eq(inilayer_add_string(d, "b.local", "[auth-ip]\noops\n", NULL, true, err, sizeof err), -1);
	ck_assert_msg(strncmp(err, "b.local:2: syntax error", 23) == 0, "%s", err);
	inilayer_free(d);
}
END_TEST

static void touch(const char *rel)
{
	char path[512];

	snprintf(path, sizeof path, "%s/%s", ut_dir, rel);
	fclose(fopen(path, "w"));
}

START_TEST(override_files_come_in_a_fixed_order)
{
	char path[512];
	char **v;

	snprintf(path, sizeof path, "%s/rules", ut_dir);
	mkdir(path, 0755);
	snprintf(path, sizeof path, "%s/rules.d", ut_dir);
	mkdir(path, 0755);
	touch("rules/auth.conf");
	touch("rules/zz.local");
	touch("rules/auth.local");
	touch("rules.d/20-b.conf");
	touch("rules.d/10-a.conf");
	touch("rules.d/.hidden.conf");
	touch("rules.d/notes.txt");
	snprintf(path, sizeof path, "%s/rules/", ut_dir);
	v = inilayer_overrides_of_dir(path);
	ck_assert_ptr_nonnull(v[0]);
	ck_assert_ptr_nonnull(strstr(v[0], "/rules.d/10-a.conf"));
	ck_assert_ptr_nonnull(strstr(v[1], "/rules.d/20-b.conf"));
	ck_assert_ptr_nonnull(strstr(v[2], "/rules/auth.local"));
	ck_assert_ptr_nonnull(strstr(v[3], "/rules/zz.local"));
	ck_assert_ptr_null(v[4]);
	inifile_paths_free(v);
	/* a list of files: each FILE.local that exists */
	snprintf(path, sizeof path, "%s/rules/auth.conf %s/rules/other.conf", ut_dir, ut_dir);
	v = inilayer_overrides_of_dir(path);
	ck_assert_ptr_nonnull(strstr(v[0], "/rules/auth.local"));
	ck_assert_ptr_null(v[1]);
	inifile_paths_free(v);
	/* a configuration file: NAME.d/ *.conf, then NAME.local */
	snprintf(path, sizeof path, "%s/mailscreen.d", ut_dir);
	mkdir(path, 0755);
	touch("mailscreen.conf");
	touch("mailscreen.local");
	touch("mailscreen.d/b.conf");
	touch("mailscreen.d/a.conf");
	snprintf(path, sizeof path, "%s/mailscreen.conf", ut_dir);
	v = inilayer_overrides_of_file(path);
	ck_assert_ptr_nonnull(strstr(v[0], "/mailscreen.d/a.conf"));
	ck_assert_ptr_nonnull(strstr(v[1], "/mailscreen.d/b.conf"));
	ck_assert_ptr_nonnull(strstr(v[2], "/mailscreen.local"));
	ck_assert_ptr_null(v[3]);
	inifile_paths_free(v);
}
END_TEST

int main(void)
{
	TCase *tc = tcase_create("inilayer");

	tcase_add_test(tc, an_override_changes_one_key_and_keeps_the_others);
	tcase_add_test(tc, a_list_of_lines_is_one_value_replaced_whole);
	tcase_add_test(tc, an_override_adds_sections_to_its_own_owner);
	tcase_add_test(tc, errors_carry_the_override_file_and_line);
	tcase_add_test(tc, override_files_come_in_a_fixed_order);
	return ut_run("inilayer", tc);
}
