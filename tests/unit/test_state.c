// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests for state.c: reading snapshots back, and refusing torn or
 * damaged ones (they are set aside, never trusted). Writing is proven end
 * to end by tests/netns/test_crash.sh. */
#include "unit.h"

#include "log.h"
#include "state.h"

#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <string.h>

static uint64_t fnv(const char *p, size_t n)
{
	uint64_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 1099511628211ULL;
	return h;
}

/* A snapshot with a correct checksum line. */
static void write_state(const char *body)
{
	char text[4096];

	snprintf(text, sizeof text, "%send %016llx\n", body, (unsigned long long)fnv(body, strlen(body)));
	ut_write("state", text);
}

static int count_bad(void)
{
	DIR *d = opendir(ut_dir);
	struct dirent *de;
	int n = 0;

	while ((de = readdir(d)))
		n += strncmp(de->d_name, "state.bad-", 10) == 0;
	closedir(d);
	return n;
}

static const char *good =
	"mailscreen-state 1 1795448304495\n"
	"block 203.0.113.6 1795448304493 1795451904493 1 auth-ip 5%20auth-fail%20within%2010m\n"
	"file mail /var/log/mail%20x.log 65024 10953986 1024 15048596620408291903 256\n"
	"file mail /var/log/mail.log.1 65024 10953987 99 7 12\n"
	"journal j s%3D1%3Bi%3D2\n";

START_TEST(a_good_snapshot_gives_its_positions)
{
	struct saved_state s;
	struct tail_pos pos[4];

	write_state(good);
	state_load(ut_dir, &s);
	ck_assert(s.loaded);
	ck_assert_uint_eq(s.saved_ms, 1795448304495ULL);
	ck_assert_uint_eq(state_file_positions(&s, "mail", pos, 4), 2);
	ck_assert_str_eq(pos[0].path, "/var/log/mail x.log");
	ck_assert_uint_eq(pos[0].ino, 10953986);
	ck_assert_uint_eq(pos[0].offset, 1024);
	ck_assert_uint_eq(pos[0].fp, 15048596620408291903ULL);
	ck_assert_uint_eq(pos[0].fp_len, 256);
	ck_assert_uint_eq(pos[1].offset, 99);
	ck_assert_uint_eq(state_file_positions(&s, "other", pos, 4), 0);
	ck_assert_str_eq(state_journal_cursor(&s, "j"), "s=1;i=2");
	ck_assert_ptr_null(state_journal_cursor(&s, "mail"));
	ck_assert_int_eq(count_bad(), 0);
	saved_state_release(&s);
}
END_TEST

START_TEST(a_missing_snapshot_is_no_error)
{
	struct saved_state s;
	char path[256];

	snprintf(path, sizeof path, "%s/state", ut_dir);
	unlink(path);
	state_load(ut_dir, &s);
	ck_assert(!s.loaded);
	ck_assert_int_eq(count_bad(), 0);
}
END_TEST

START_TEST(damaged_snapshots_are_set_aside)
{
	static const char *const bad[] = {
		"",                                     /* empty */
		"mailscreen-state 1 17\nblock 203.0.113.6 1 2 1 a b\n",        /* torn: no end line */
		"mailscreen-state 1 17\nend 0000000000000000\n",              /* wrong checksum */
	};
	struct saved_state s;

	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		ut_write("state", bad[i]);
		state_load(ut_dir, &s);
		ck_assert_msg(!s.loaded, "case %zu was trusted", i);
		ck_assert_int_eq(access(ut_write("x", ""), F_OK), 0);
		saved_state_release(&s);
	}
	ck_assert_int_ge(count_bad(), 1);
}
END_TEST

START_TEST(a_flipped_byte_is_noticed)
{
	char text[4096], path[256];
	struct saved_state s;
	FILE *fp;

	write_state(good);
	snprintf(path, sizeof path, "%s/state", ut_dir);
	fp = fopen(path, "r");
	ck_assert_ptr_nonnull(fp);
	ck_assert_uint_gt(fread(text, 1, sizeof text - 1, fp), 100);
	fclose(fp);
	text[60] ^= 0x01;      /* inside the block record */
	fp = fopen(path, "r+");
	fseek(fp, 60, SEEK_SET);
	fputc(text[60], fp);
	fclose(fp);
	state_load(ut_dir, &s);
	ck_assert(!s.loaded);
	ck_assert_int_eq(access(path, F_OK), -1);       /* moved aside */
	ck_assert_int_ge(count_bad(), 1);
}
END_TEST

START_TEST(another_version_is_not_trusted)
{
	struct saved_state s;

	write_state("mailscreen-state 2 17\n");
	state_load(ut_dir, &s);
	ck_assert(!s.loaded);
}
END_TEST

int main(void)
{
	TCase *tc = tcase_create("state");

	log_init("test_state", LOG_LVL_ERR);
	tcase_add_test(tc, a_good_snapshot_gives_its_positions);
	tcase_add_test(tc, a_missing_snapshot_is_no_error);
	tcase_add_test(tc, damaged_snapshots_are_set_aside);
	tcase_add_test(tc, a_flipped_byte_is_noticed);
	tcase_add_test(tc, another_version_is_not_trusted);
	return ut_run("state", tc);
}
