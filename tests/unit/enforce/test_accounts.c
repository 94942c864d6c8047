// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests for accounts.c: blocked accounts and the deny file made of them. */
#include "accounts.h"
#include "duration.h"

#include "unit.h"

#include <check.h>
#include <string.h>

#define HOUR 3600000ULL
#define T0 4000000000000ULL

static char *slurp(const char *path)
{
	static char buf[4096];
	FILE *fp = fopen(path, "r");
	size_t n;

	ck_assert_ptr_nonnull(fp);
	n = fread(buf, 1, sizeof buf - 1, fp);
	buf[n] = '\0';
	fclose(fp);
	return buf;
}

static void names(void *arg, const struct account_block *ab)
{
	strcat(arg, ab->user);
	strcat(arg, " ");
}

START_TEST(names_are_one_account_whatever_their_case)
{
	struct accounts *a = accounts_new(10);
	char err[256], got[256] = "";

	ck_assert_int_eq(accounts_add(a, "Bob@Example.org", 15, T0, HOUR, "auth-account", "r", err, sizeof err), 0);
	ck_assert_int_eq(accounts_add(a, "bob@example.org", 15, T0 + 10, 2 * HOUR, "manual", "again", err, sizeof err), 0);
	ck_assert_uint_eq(accounts_count(a), 1);
	accounts_foreach(a, names, got);
	ck_assert_str_eq(got, "bob@example.org ");
	ck_assert(accounts_remove(a, "BOB@example.ORG"));
	ck_assert(!accounts_remove(a, "bob@example.org"));
	accounts_free(a);
}
END_TEST

START_TEST(names_the_deny_file_cannot_hold_are_refused)
{
	struct accounts *a = accounts_new(10);
	char err[256], big[300];

	ck_assert_int_eq(accounts_add(a, "eve:x", 5, T0, HOUR, "m", "r", err, sizeof err), -1);
	ck_assert_msg(strstr(err, "cannot be an account name"), "%s", err);
	ck_assert_int_eq(accounts_add(a, "a\nb", 3, T0, HOUR, "m", "r", err, sizeof err), -1);
	ck_assert_int_eq(accounts_add(a, "", 0, T0, HOUR, "m", "r", err, sizeof err), -1);
	memset(big, 'x', sizeof big);
	ck_assert_int_eq(accounts_add(a, big, sizeof big, T0, HOUR, "m", "r", err, sizeof err), -1);
	ck_assert_uint_eq(accounts_count(a), 0);
	accounts_free(a);
}
END_TEST

START_TEST(the_bound_refuses_more)
{
	struct accounts *a = accounts_new(2);
	char err[256];

	ck_assert_int_eq(accounts_add(a, "a", 1, T0, HOUR, "m", "r", err, sizeof err), 0);
	ck_assert_int_eq(accounts_add(a, "b", 1, T0, HOUR, "m", "r", err, sizeof err), 0);
	ck_assert_int_eq(accounts_add(a, "c", 1, T0, HOUR, "m", "r", err, sizeof err), -1);
	ck_assert_msg(strstr(err, "2 accounts are blocked already"), "%s", err);
	/* extending one that is there is no new account */
	ck_assert_int_eq(accounts_add(a, "A", 1, T0, HOUR, "m", "r", err, sizeof err), 0);
	accounts_free(a);
}
END_TEST

static void expired(void *arg, const struct account_block *ab)
{
	strcat(arg, ab->user);
}

START_TEST(expiry_drops_and_says_which)
{
	struct accounts *a = accounts_new(10);
	char err[256], gone[64] = "";

	accounts_add(a, "short", 5, T0, HOUR, "m", "r", err, sizeof err);
	accounts_add(a, "long", 4, T0, 2 * HOUR, "m", "r", err, sizeof err);
	accounts_add(a, "ever", 4, T0, DURATION_PERMANENT, "m", "r", err, sizeof err);
	ck_assert_uint_eq(accounts_expire(a, T0 + HOUR - 1, expired, gone), 0);
	ck_assert_uint_eq(accounts_expire(a, T0 + HOUR, expired, gone), 1);
	ck_assert_str_eq(gone, "short");
	ck_assert_uint_eq(accounts_expire(a, UINT64_MAX - 1, NULL, NULL), 1);
	ck_assert_uint_eq(accounts_count(a), 1);
	ck_assert(accounts_restore_times(a, "ever", 4, 5, 6));
	ck_assert_uint_eq(accounts_expire(a, 6, NULL, NULL), 1);
	ck_assert_uint_eq(accounts_clear(a), 0);
	accounts_free(a);
}
END_TEST

static void removed(void *arg, const struct account_block *ab)
{
	char *gone = arg;

	snprintf(gone + strlen(gone), 64 - strlen(gone), "%s%s", *gone ? " " : "", ab->user);
}

START_TEST(removal_and_clearing_say_which_expiry_does_not)
{
	struct accounts *a = accounts_new(10);
	char err[256], gone[64] = "", exp[64] = "";

	accounts_on_remove(a, removed, gone);
	accounts_add(a, "alice", 5, T0, HOUR, "m", "r", err, sizeof err);
	accounts_add(a, "bob", 3, T0, 2 * HOUR, "m", "r", err, sizeof err);
	accounts_add(a, "carol", 5, T0, 2 * HOUR, "m", "r", err, sizeof err);
	ck_assert(accounts_remove(a, "BOB"));
	ck_assert(!accounts_remove(a, "bob"));
	ck_assert_str_eq(gone, "bob");
	ck_assert_uint_eq(accounts_expire(a, T0 + HOUR, expired, exp), 1);
	ck_assert_str_eq(exp, "alice");
	ck_assert_str_eq(gone, "bob");
	ck_assert_uint_eq(accounts_clear(a), 1);
	ck_assert_str_eq(gone, "bob carol");
	accounts_free(a);
}
END_TEST

START_TEST(the_deny_file_is_written_when_the_list_changed)
{
	struct accounts *a = accounts_new(10);
	char err[256], path[sizeof ut_dir + 16];

	snprintf(path, sizeof path, "%s/denied", ut_dir);
	/* at first, even empty: Dovecot wants the file */
	ck_assert_int_eq(accounts_write_denyfile(a, path, false, err, sizeof err), 1);
	ck_assert_str_eq(slurp(path), "");
	ck_assert_int_eq(accounts_write_denyfile(a, path, false, err, sizeof err), 0);
	accounts_add(a, "Carol", 5, T0, HOUR, "m", "r", err, sizeof err);
	accounts_add(a, "dave", 4, T0, HOUR, "m", "r", err, sizeof err);
	ck_assert_int_eq(accounts_write_denyfile(a, path, false, err, sizeof err), 1);
	ck_assert_str_eq(slurp(path), "carol\ndave\n");
	/* an extension changes no name: the file is not written again */
	accounts_add(a, "dave", 4, T0 + HOUR / 2, HOUR, "m", "r", err, sizeof err);
	ck_assert_int_eq(accounts_write_denyfile(a, path, false, err, sizeof err), 0);
	accounts_remove(a, "carol");
	ck_assert_int_eq(accounts_write_denyfile(a, path, false, err, sizeof err), 1);
	ck_assert_str_eq(slurp(path), "dave\n");
	/* a path that cannot be written is said, and not tried every turn */
	accounts_remove(a, "dave");
	ck_assert_int_eq(accounts_write_denyfile(a, "/nonexistent/dir/denied", false, err, sizeof err), -1);
	ck_assert_int_eq(accounts_write_denyfile(a, "/nonexistent/dir/denied", false, err, sizeof err), 0);
	accounts_free(a);
}
END_TEST

int main(void)
{
	TCase *tc = tcase_create("accounts");

	tcase_add_test(tc, names_are_one_account_whatever_their_case);
	tcase_add_test(tc, names_the_deny_file_cannot_hold_are_refused);
	tcase_add_test(tc, the_bound_refuses_more);
	tcase_add_test(tc, expiry_drops_and_says_which);
	tcase_add_test(tc, removal_and_clearing_say_which_expiry_does_not);
	tcase_add_test(tc, the_deny_file_is_written_when_the_list_changed);
	return ut_run("accounts", tc);
}
