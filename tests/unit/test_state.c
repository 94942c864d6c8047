// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests for state.c: writing snapshots in the documented format,
 * reading them back exactly, writing them from a child process, and
 * refusing torn or damaged ones (they are set aside, never trusted). That
 * a crash counts every line once is proven end to end by
 * tests/netns/test_crash.sh. */
#include "unit.h"

#include "blocks.h"
#include "daemon.h"
#include "duration.h"
#include "log.h"
#include "loop.h"
#include "rules.h"
#include "screen.h"
#include "state.h"
#include "window.h"
#include "xalloc.h"

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

/* ---- writing ---- */

#define T0 4000000000000ULL     /* far enough ahead that nothing has expired */

static const char *const rules_text =
	"[auth-ip]\nevents = auth-fail\nlimit = 5\nwindow = 10m\nblock = 1h\n"
	"[auth-account]\nevents = auth-fail\nper = account\nlimit = 10\nwindow = 10m\nblock = 1h\n";

/* A daemon as far as the state needs one: no nftables (dry run), no sources. */
static void daemon_init(struct daemon *d)
{
	struct ruleset rs = { 0 };
	struct screen_opts o = { .max_keys = 1000 };
	char err[256];

	memset(d, 0, sizeof *d);
	d->loop = loop_new();
	d->screen = screen_new();
	d->blocks = blocks_new(NULL);
	d->offenders = window_new(32, 30ULL * 86400 * 1000, 1000);
	d->dry_run = true;
	d->state_ok = true;
	d->b.cfg.state_dir = ut_dir;
	ck_assert_int_eq(ruleset_load(&rs, ut_write("rules.conf", rules_text), err, sizeof err), 0);
	screen_configure(d->screen, &rs, &o);
}

static void daemon_fini(struct daemon *d)
{
	screen_free(d->screen);
	blocks_free(d->blocks);
	window_free(d->offenders);
	free(d->accounts);
	cidrlist_release(&d->host);
	free(d->expired_saved);
	loop_free(d->loop);
}

static struct cidr cidr(const char *text)
{
	struct cidr c;

	ck_assert_int_eq(cidr_parse(text, &c, NULL, 0), 0);
	return c;
}

static void add_account(struct daemon *d, const char *user, uint64_t start, uint64_t expiry, const char *reason)
{
	struct account_block *a;

	XGROW(d->accounts, d->aaccounts, d->naccounts + 1);
	a = &d->accounts[d->naccounts++];
	memset(a, 0, sizeof *a);
	snprintf(a->user, sizeof a->user, "%s", user);
	snprintf(a->origin, sizeof a->origin, "auth-account");
	snprintf(a->reason, sizeof a->reason, "%s", reason);
	a->start_ms = start;
	a->expiry_ms = expiry;
}

/* Something of every kind a snapshot holds, with bytes that need escaping. */
static void daemon_fill(struct daemon *d)
{
	struct cidr c4 = cidr("203.0.113.6"), c6 = cidr("2001:db8:1:2::/64"), a = cidr("192.0.2.77");
	unsigned char ipkey[18] = { 2, 32, 203, 0, 113, 9 };
	uint64_t t[3] = { T0, T0 + 5, T0 + 7 };
	bool ext, r;

	blocks_add(d->blocks, &c4, T0, 3600000, "auth-ip", "5 auth-fail within 10m", &ext);
	blocks_find(d->blocks, &c4)->times = 3;
	blocks_add(d->blocks, &c6, T0 + 1, DURATION_PERMANENT, "manual", "a 100% bad neighbour", &ext);
	allow_add(screen_allowlist(d->screen), &a, T0 + 7200000);
	add_account(d, "bob@example.org", T0, T0 + 3600000, "10 auth-fail within 10m");
	add_account(d, "zo\xc3\xab@example.org", T0 + 2, UINT64_MAX, "");
	window_hit(d->offenders, ipkey, sizeof ipkey, T0, 1, &r);
	window_hit(d->offenders, ipkey, sizeof ipkey, T0 + 1, 1, &r);
	screen_load(d->screen, "auth-ip", ipkey, sizeof ipkey, t, 3);
	screen_load(d->screen, "auth-account", "mallory x", 9, t, 1);
	screen_load(d->screen, "@authsession", "S123", 4, t + 2, 1);
}

/* The snapshot's text; *body is its records: between the first line (the
 * time of saving) and the end line (whose checksum covers that time too). */
static char *read_state(const char **body)
{
	char path[256];
	FILE *fp;
	static char text[65536], records[65536];
	size_t n;
	const char *end;

	snprintf(path, sizeof path, "%s/state", ut_dir);
	fp = fopen(path, "r");
	ck_assert_ptr_nonnull(fp);
	n = fread(text, 1, sizeof text - 1, fp);
	fclose(fp);
	text[n] = '\0';
	end = strstr(text, "\nend ");
	ck_assert_ptr_nonnull(end);
	snprintf(records, sizeof records, "%.*s", (int)(end + 1 - (strchr(text, '\n') + 1)), strchr(text, '\n') + 1);
	*body = records;
	return text;
}

static int cmp_lines(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The lines between the first and the end line, sorted, joined. */
static void sorted_body(const char *text, char *out, size_t outlen)
{
	char *copy = strdup(strchr(text, '\n') + 1), *lines[64], *save = NULL;
	size_t n = 0;

	for (char *l = strtok_r(copy, "\n", &save); l && n < 64; l = strtok_r(NULL, "\n", &save))
		if (strncmp(l, "end ", 4) != 0)
			lines[n++] = l;
	qsort(lines, n, sizeof *lines, cmp_lines);
	out[0] = '\0';
	for (size_t i = 0; i < n; i++)
		snprintf(out + strlen(out), outlen - strlen(out), "%s\n", lines[i]);
	free(copy);
}

static int count_tmp(void)
{
	DIR *d = opendir(ut_dir);
	struct dirent *de;
	int n = 0;

	while ((de = readdir(d)))
		n += strncmp(de->d_name, ".state.", 7) == 0;
	closedir(d);
	return n;
}

START_TEST(a_snapshot_is_written_as_documented)
{
	struct daemon d;
	char err[256], got[8192];
	const char *body, *text;
	unsigned long long saved, hash;
	static const char *const expect =
		"account bob@example.org 4000000000000 4000003600000 auth-account 10%20auth-fail%20within%2010m\n"
		"account zo%c3%ab@example.org 4000000000002 - auth-account %-\n"
		"allow 192.0.2.77 4000007200000\n"
		"block 2001:db8:1:2::/64 4000000000001 - 1 manual a%20100%25%20bad%20neighbour\n"
		"block 203.0.113.6 4000000000000 4000003600000 3 auth-ip 5%20auth-fail%20within%2010m\n"
		"offender 0220cb007109000000000000000000000000 4000000000000,4000000000001\n"
		"window @authsession 53313233 4000000000007\n"
		"window auth-account 6d616c6c6f72792078 4000000000000\n"
		"window auth-ip 0220cb007109000000000000000000000000 4000000000000,4000000000005,4000000000007\n";

	daemon_init(&d);
	daemon_fill(&d);
	ck_assert_int_eq(state_save(&d, err, sizeof err), 0);
	text = read_state(&body);
	ck_assert_int_eq(sscanf(text, "mailscreen-state 1 %llu\n", &saved), 1);
	ck_assert_uint_gt(saved, 1700000000000ULL);
	sorted_body(text, got, sizeof got);
	ck_assert_str_eq(got, expect);
	/* the last line is the checksum of every byte before it */
	ck_assert_int_eq(sscanf(strstr(text, "\nend ") + 1, "end %16llx\n", &hash), 1);
	ck_assert_uint_eq(hash, fnv(text, (size_t)(strstr(text, "\nend ") + 1 - text)));
	ck_assert_int_eq(count_tmp(), 0);
	daemon_fini(&d);
}
END_TEST

START_TEST(a_snapshot_reads_back_exactly)
{
	struct daemon a, b;
	struct saved_state s;
	char err[256], *first;
	const char *body;

	daemon_init(&a);
	daemon_fill(&a);
	ck_assert_int_eq(state_save(&a, err, sizeof err), 0);
	read_state(&body);
	first = strdup(body);
	state_load(ut_dir, &s);
	ck_assert(s.loaded);
	daemon_init(&b);
	ck_assert_uint_eq(state_apply(&b, &s), 2);
	saved_state_release(&s);
	ck_assert_int_eq(state_save(&b, err, sizeof err), 0);
	read_state(&body);
	/* the same records in the same order (so the same LRU order of every
	 * table), and so the same checksum */
	ck_assert_str_eq(body, first);
	free(first);
	daemon_fini(&a);
	daemon_fini(&b);
}
END_TEST

/* ---- writing from a child process ---- */

static int saved_rc = 99;
static char saved_msg[512];

static void on_saved(void *arg, int rc, const char *msg)
{
	struct loop *l = arg;

	saved_rc = rc;
	snprintf(saved_msg, sizeof saved_msg, "%s", msg);
	loop_stop(l);
}

START_TEST(a_child_writes_the_same_snapshot_while_the_loop_goes_on)
{
	struct daemon d;
	struct state_saver *sv;
	char err[256], *sync_body;
	const char *body;

	daemon_init(&d);
	daemon_fill(&d);
	ck_assert_int_eq(state_save(&d, err, sizeof err), 0);
	read_state(&body);
	sync_body = strdup(body);
	ut_write("state", "");
	sv = state_saver_new(d.loop, on_saved, d.loop);
	ck_assert(!state_saver_busy(sv));
	saved_rc = 99;
	ck_assert_int_eq(state_saver_start(sv, &d, err, sizeof err), 0);
	ck_assert(state_saver_busy(sv));
	/* one at a time */
	ck_assert_int_eq(state_saver_start(sv, &d, err, sizeof err), -1);
	/* what changes after the start is not in this snapshot */
	{
		struct cidr c4 = cidr("203.0.113.6");
		ck_assert(blocks_remove(d.blocks, &c4, 0));
		screen_reset(d.screen);
	}
	ck_assert_int_eq(loop_run(d.loop), 0);
	ck_assert_msg(saved_rc == 0, "rc %d: %s", saved_rc, saved_msg);
	ck_assert(!state_saver_busy(sv));
	read_state(&body);
	ck_assert_str_eq(body, sync_body);
	ck_assert_int_eq(count_tmp(), 0);
	free(sync_body);
	state_saver_free(sv);
	daemon_fini(&d);
}
END_TEST

START_TEST(a_child_that_cannot_write_reports_why)
{
	struct daemon d;
	struct state_saver *sv;
	char err[256];

	daemon_init(&d);
	d.b.cfg.state_dir = (char *)"/nonexistent/mailscreen-state";
	sv = state_saver_new(d.loop, on_saved, d.loop);
	saved_rc = 99;
	ck_assert_int_eq(state_saver_start(sv, &d, err, sizeof err), 0);
	ck_assert_int_eq(loop_run(d.loop), 0);
	ck_assert_int_eq(saved_rc, -1);
	ck_assert_msg(strstr(saved_msg, "cannot write '/nonexistent/mailscreen-state/.state."), "%s", saved_msg);
	state_saver_free(sv);
	daemon_fini(&d);
}
END_TEST

START_TEST(a_cancelled_child_leaves_the_last_snapshot_and_no_litter)
{
	struct daemon d;
	struct state_saver *sv;
	struct saved_state s;
	char err[256], *before;
	const char *body;

	daemon_init(&d);
	daemon_fill(&d);
	ck_assert_int_eq(state_save(&d, err, sizeof err), 0);
	before = strdup(read_state(&body));
	sv = state_saver_new(d.loop, on_saved, d.loop);
	saved_rc = 99;
	ck_assert_int_eq(state_saver_start(sv, &d, err, sizeof err), 0);
	state_saver_cancel(sv);
	ck_assert(!state_saver_busy(sv));
	ck_assert_int_eq(saved_rc, 99);         /* not called */
	ck_assert_int_eq(count_tmp(), 0);
	ck_assert_str_eq(read_state(&body), before);
	state_load(ut_dir, &s);
	ck_assert(s.loaded);
	saved_state_release(&s);
	free(before);
	state_saver_free(sv);
	daemon_fini(&d);
}
END_TEST

START_TEST(temporary_files_of_killed_writers_are_removed_at_start)
{
	struct saved_state s;

	write_state(good);
	ut_write(".state.12345.tmp", "mailscreen-state 1 1\nblock");
	ut_write(".state.tmp", "mailscreen-state 1 1\n");
	ut_write(".statefile", "not ours");
	state_load(ut_dir, &s);
	ck_assert(s.loaded);
	ck_assert_int_eq(count_tmp(), 0);
	ck_assert_int_eq(access(ut_write(".statefile", "x"), F_OK), 0);
	saved_state_release(&s);
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
	tcase_add_test(tc, a_snapshot_is_written_as_documented);
	tcase_add_test(tc, a_snapshot_reads_back_exactly);
	tcase_add_test(tc, a_child_writes_the_same_snapshot_while_the_loop_goes_on);
	tcase_add_test(tc, a_child_that_cannot_write_reports_why);
	tcase_add_test(tc, a_cancelled_child_leaves_the_last_snapshot_and_no_litter);
	tcase_add_test(tc, temporary_files_of_killed_writers_are_removed_at_start);
	return ut_run("state", tc);
}
