// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests for state_write.c and state_read.c: writing snapshots in the
 * documented format, reading them back field by field, what ended while
 * the daemon was down, records refused or not understood, writing from a
 * child process, and refusing torn or damaged files (they are set aside,
 * never trusted). The state module sees plain records only, so the tables
 * here are plain arrays (struct tables), saved through one view and
 * restored through one sink that take every kind of record. That a crash
 * counts every line once is proven end to end by tests/netns/test_crash.sh. */
#include "unit.h"

#include "blocks.h"
#include "log.h"
#include "loop.h"
#include "state.h"

#include <check.h>
#include <dirent.h>
#include <fcntl.h>
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

/* Load the snapshot in the test's directory: it must be trusted. */
static void load_trusted(struct saved_state *s)
{
	state_load(ut_dir, s);
	ck_assert(s->loaded);
}

/* A snapshot of body (its checksum line added), loaded. */
static void load_text(const char *body, struct saved_state *s)
{
	write_state(body);
	load_trusted(s);
}

/* The files of the test's directory whose names start with prefix:
 * "state.bad-" (set aside), ".state." (temporary). */
static int count_named(const char *prefix)
{
	DIR *d = opendir(ut_dir);
	struct dirent *de;
	int n = 0;

	while ((de = readdir(d)))
		n += strncmp(de->d_name, prefix, strlen(prefix)) == 0;
	closedir(d);
	return n;
}

static const char good[] =
	"mailscreen-state 1 1795448304495\n"
	"block 203.0.113.6 1795448304493 1795451904493 1 auth-ip 5%20auth-fail%20within%2010m\n"
	"file mail /var/log/mail%20x.log 65024 10953986 1024 15048596620408291903 256\n"
	"file mail /var/log/mail.log.1 65024 10953987 99 7 12\n"
	"journal j s%3D1%3Bi%3D2\n";

START_TEST(a_good_snapshot_gives_its_positions)
{
	struct saved_state s;
	struct tail_pos pos[4];

	load_text(good, &s);
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
	ck_assert_int_eq(count_named("state.bad-"), 0);
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
	ck_assert_int_eq(count_named("state.bad-"), 0);
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
	ck_assert_int_ge(count_named("state.bad-"), 1);
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
	ck_assert_int_ge(count_named("state.bad-"), 1);
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

/* ---- the tables a snapshot is made of, as plain arrays ---- */

#define T0 4000000000000ULL     /* far enough ahead that nothing has expired */
#define SAVED (T0 - 1000)       /* the time of saving */
#define MAXR 8

struct counts {
	char table[32];
	unsigned char key[64];
	size_t klen;
	uint64_t times[8];
	uint32_t n;
};

struct account {
	char user[256];
	size_t len;
	char origin[48], reason[160];
	uint64_t start, expiry;
};

struct tables {
	struct block blocks[MAXR];
	size_t nblocks;
	struct cidr expired[MAXR];
	size_t nexpired;
	struct cidr allows[MAXR];
	uint64_t allow_expiry[MAXR];
	size_t nallows;
	struct account accounts[MAXR];
	size_t naccounts;
	struct counts offenders[MAXR], windows[MAXR];
	size_t noffenders, nwindows;
	struct {
		char source[32], path[64];
		struct tail_pos pos;
	} files[MAXR];
	size_t nfiles;
	struct {
		char source[32], cursor[64];
	} journals[MAXR];
	size_t njournals;
	struct history_entry ended[MAXR];
	size_t nended;
	struct {
		char rule[32];
		uint64_t n;
	} totals[MAXR];
	size_t ntotals;
	char stats[4][256];
	size_t nstats;
	char cluster_pos[48], cluster_stream[256];
	/* restoring: the block the sink refuses, and why */
	struct cidr refuse;
	const char *refuse_why;
};

static struct cidr cidr(const char *text)
{
	struct cidr c;

	ck_assert_int_eq(cidr_parse(text, &c, NULL, 0), 0);
	return c;
}

static bool same_cidr(const struct cidr *a, const struct cidr *b)
{
	return a->len == b->len && addr_equal(&a->addr, &b->addr);
}

static void add_block(struct tables *t, const char *target, uint64_t start, uint64_t expiry, uint32_t times,
		      const char *origin, const char *reason)
{
	struct block *b = &t->blocks[t->nblocks++];

	memset(b, 0, sizeof *b);
	b->target = cidr(target);
	b->start_ms = start;
	b->expiry_ms = expiry;
	b->times = times;
	snprintf(b->origin, sizeof b->origin, "%s", origin);
	snprintf(b->reason, sizeof b->reason, "%s", reason);
}

static void add_account(struct tables *t, const char *user, size_t len, uint64_t start, uint64_t expiry,
			const char *origin, const char *reason)
{
	struct account *a = &t->accounts[t->naccounts++];

	memset(a, 0, sizeof *a);
	memcpy(a->user, user, len);
	a->len = len;
	snprintf(a->origin, sizeof a->origin, "%s", origin);
	snprintf(a->reason, sizeof a->reason, "%s", reason);
	a->start = start;
	a->expiry = expiry;
}

static void add_counts(struct counts *c, const char *table, const void *key, size_t klen, const uint64_t *times,
		       uint32_t n)
{
	memset(c, 0, sizeof *c);
	snprintf(c->table, sizeof c->table, "%s", table ? table : "");
	ck_assert_uint_le(klen, sizeof c->key);
	ck_assert_uint_le(n, 8);
	memcpy(c->key, key, klen);
	c->klen = klen;
	memcpy(c->times, times, n * sizeof *times);
	c->n = n;
}

static void add_ended(struct tables *t, bool account, const char *who, uint64_t start, uint64_t end, const char *how,
		      const char *origin, const char *reason)
{
	struct history_entry *e = &t->ended[t->nended++];

	memset(e, 0, sizeof *e);
	e->account = account;
	if (account)
		snprintf(e->user, sizeof e->user, "%s", who);
	else
		e->target = cidr(who);
	e->start_ms = start;
	e->end_ms = end;
	snprintf(e->how, sizeof e->how, "%s", how);
	snprintf(e->origin, sizeof e->origin, "%s", origin);
	snprintf(e->reason, sizeof e->reason, "%s", reason);
}

static void add_stats(struct tables *t, const char *line)
{
	ck_assert_uint_lt(t->nstats, 4);
	snprintf(t->stats[t->nstats++], sizeof t->stats[0], "%s", line);
}

/* Something of every kind a snapshot holds from memory, with bytes that
 * need escaping (the golden text below is this). */
static void fill(struct tables *t)
{
	unsigned char ipkey[18] = { 2, 32, 203, 0, 113, 9 };
	uint64_t tm[3] = { T0, T0 + 5, T0 + 7 };

	memset(t, 0, sizeof *t);
	add_block(t, "2001:db8:1:2::/64", T0 + 1, UINT64_MAX, 1, "manual", "a 100% bad neighbour");
	add_block(t, "203.0.113.6", T0, T0 + 3600000, 3, "auth-ip", "5 auth-fail within 10m");
	t->allows[0] = cidr("192.0.2.77");
	t->allow_expiry[0] = T0 + 7200000;
	t->nallows = 1;
	add_account(t, "bob@example.org", 15, T0, T0 + 3600000, "auth-account", "10 auth-fail within 10m");
	add_account(t, "zo\xc3\xab@example.org", 16, T0 + 2, UINT64_MAX, "auth-account", "");
	add_counts(&t->offenders[t->noffenders++], NULL, ipkey, sizeof ipkey, tm, 1);
	t->offenders[0].times[1] = T0 + 1;
	t->offenders[0].n = 2;
	add_counts(&t->windows[t->nwindows++], "auth-ip", ipkey, sizeof ipkey, tm, 3);
	add_counts(&t->windows[t->nwindows++], "auth-account", "mallory x", 9, tm, 1);
	add_counts(&t->windows[t->nwindows++], "@authsession", "S123", 4, tm + 2, 1);
}

/* The read positions too (formatted in the daemon before a fork). */
static void fill_sources(struct tables *t)
{
	snprintf(t->files[0].source, sizeof t->files[0].source, "mail");
	snprintf(t->files[0].path, sizeof t->files[0].path, "/var/log/mail x.log");
	t->files[0].pos = (struct tail_pos){ .dev = 65024, .ino = 10953986, .offset = 1024,
					     .fp = 15048596620408291903ULL, .fp_len = 256 };
	snprintf(t->files[1].source, sizeof t->files[1].source, "mail");
	snprintf(t->files[1].path, sizeof t->files[1].path, "/var/log/mail.log.1");
	t->files[1].pos = (struct tail_pos){ .dev = 65024, .ino = 10953987, .offset = 99, .fp = 7, .fp_len = 12 };
	t->nfiles = 2;
	snprintf(t->journals[0].source, sizeof t->journals[0].source, "j");
	snprintf(t->journals[0].cursor, sizeof t->journals[0].cursor, "s=1;i=2");
	t->njournals = 1;
}

/* ---- the view: saving from the tables ---- */

static void view_blocks(void *arg, state_block_fn *fn, void *fnarg)
{
	const struct tables *t = arg;

	for (size_t i = 0; i < t->nblocks; i++)
		fn(fnarg, &t->blocks[i]);
}

static void view_allows(void *arg, state_allow_fn *fn, void *fnarg)
{
	const struct tables *t = arg;

	for (size_t i = 0; i < t->nallows; i++)
		fn(fnarg, &t->allows[i], t->allow_expiry[i]);
}

static void view_accounts(void *arg, state_account_fn *fn, void *fnarg)
{
	const struct tables *t = arg;

	for (size_t i = 0; i < t->naccounts; i++) {
		const struct account *a = &t->accounts[i];
		const struct state_account sa = { a->user, a->len, a->origin, a->reason, a->start, a->expiry };
		fn(fnarg, &sa);
	}
}

static void view_offenders(void *arg, state_offender_fn *fn, void *fnarg)
{
	const struct tables *t = arg;

	for (size_t i = 0; i < t->noffenders; i++)
		fn(fnarg, t->offenders[i].key, t->offenders[i].klen, t->offenders[i].times, t->offenders[i].n);
}

static void view_windows(void *arg, state_window_fn *fn, void *fnarg)
{
	const struct tables *t = arg;

	for (size_t i = 0; i < t->nwindows; i++)
		fn(fnarg, t->windows[i].table, t->windows[i].key, t->windows[i].klen, t->windows[i].times,
		   t->windows[i].n);
}

static void view_files(void *arg, state_file_fn *fn, void *fnarg)
{
	const struct tables *t = arg;

	for (size_t i = 0; i < t->nfiles; i++) {
		struct tail_pos p = t->files[i].pos;
		p.path = t->files[i].path;
		fn(fnarg, t->files[i].source, &p);
	}
}

static void view_journals(void *arg, state_journal_fn *fn, void *fnarg)
{
	const struct tables *t = arg;

	for (size_t i = 0; i < t->njournals; i++)
		fn(fnarg, t->journals[i].source, t->journals[i].cursor);
}

static void view_ended(void *arg, state_ended_fn *fn, void *fnarg)
{
	struct tables *t = arg;

	for (size_t i = 0; i < t->nended; i++)
		fn(fnarg, &t->ended[i]);
}

static void view_totals(void *arg, state_total_fn *fn, void *fnarg)
{
	struct tables *t = arg;

	for (size_t i = 0; i < t->ntotals; i++)
		fn(fnarg, t->totals[i].rule, t->totals[i].n);
}

static void view_stats(void *arg, state_stats_fn *fn, void *fnarg)
{
	const struct tables *t = arg;

	for (size_t i = 0; i < t->nstats; i++)
		fn(fnarg, t->stats[i]);
}

static const char *view_cluster_pos(void *arg)
{
	const struct tables *t = arg;

	return t->cluster_pos;
}

static const char *view_cluster_stream(void *arg)
{
	const struct tables *t = arg;

	return t->cluster_stream;
}

/* Every kind of record; an empty table saves nothing of its kind. */
static struct state_view view(struct tables *t)
{
	return (struct state_view){ .arg = t, .blocks = view_blocks, .allows = view_allows, .accounts = view_accounts,
				    .offenders = view_offenders, .windows = view_windows, .ended = view_ended,
				    .totals = view_totals, .stats = view_stats, .files = view_files,
				    .journals = view_journals, .cluster_pos = view_cluster_pos,
				    .cluster_stream = view_cluster_stream };
}

/* ---- the sink: restoring into the tables ---- */

static int sink_block(void *arg, const struct block *b, char *err, size_t errlen)
{
	struct tables *t = arg;

	if (t->refuse_why && same_cidr(&b->target, &t->refuse))
		return errf(err, errlen, "%s", t->refuse_why);
	ck_assert_uint_lt(t->nblocks, MAXR);
	t->blocks[t->nblocks++] = *b;
	return 0;
}

static void sink_expired(void *arg, const struct block *b)
{
	struct tables *t = arg;

	ck_assert_uint_lt(t->nexpired, MAXR);
	t->expired[t->nexpired++] = b->target;
}

static void sink_allow(void *arg, const struct cidr *c, uint64_t expiry_ms)
{
	struct tables *t = arg;

	ck_assert_uint_lt(t->nallows, MAXR);
	t->allows[t->nallows] = *c;
	t->allow_expiry[t->nallows++] = expiry_ms;
}

/* as the deny file does: no control character in a name */
static int sink_account(void *arg, const struct state_account *a, char *err, size_t errlen)
{
	struct tables *t = arg;

	for (size_t i = 0; i < a->len; i++)
		if ((unsigned char)a->user[i] < 0x20)
			return errf(err, errlen, "'%.*s' cannot be an account name", (int)i, a->user);
	ck_assert_uint_lt(t->naccounts, MAXR);
	add_account(t, a->user, a->len, a->start_ms, a->expiry_ms, a->origin, a->reason);
	return 0;
}

static void sink_offender(void *arg, const void *key, size_t klen, const uint64_t *times, uint32_t n)
{
	struct tables *t = arg;

	ck_assert_uint_lt(t->noffenders, MAXR);
	add_counts(&t->offenders[t->noffenders++], NULL, key, klen, times, n);
}

static void sink_window(void *arg, const char *table, const void *key, size_t klen, const uint64_t *times,
			uint32_t n)
{
	struct tables *t = arg;

	ck_assert_uint_lt(t->nwindows, MAXR);
	add_counts(&t->windows[t->nwindows++], table, key, klen, times, n);
}

static void sink_ended(void *arg, const struct history_entry *e)
{
	struct tables *t = arg;

	ck_assert_uint_lt(t->nended, MAXR);
	t->ended[t->nended++] = *e;
}

static void sink_total(void *arg, const char *rule, uint64_t n)
{
	struct tables *t = arg;

	ck_assert_uint_lt(t->ntotals, MAXR);
	snprintf(t->totals[t->ntotals].rule, sizeof t->totals[t->ntotals].rule, "%s", rule);
	t->totals[t->ntotals++].n = n;
}

static void sink_stats(void *arg, const char *line)
{
	add_stats(arg, line);
}

static struct state_sink sink(struct tables *t)
{
	return (struct state_sink){ .arg = t, .block = sink_block, .expired_block = sink_expired, .allow = sink_allow,
				    .account = sink_account, .offender = sink_offender, .window = sink_window,
				    .ended = sink_ended, .total = sink_total, .stats = sink_stats };
}

/* ---- reading what was written ---- */

/* The snapshot's text; *body (unless body is NULL) is its records: between
 * the first line (the time of saving) and the end line (whose checksum
 * covers that time too). */
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
	if (body)
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

/* What state_apply logs (warnings) while it runs. */
static char logged[8192];

static size_t apply_logged(const struct saved_state *s, uint64_t now, const struct state_sink *to)
{
	char path[sizeof ut_dir + 16];
	int saved, fd;
	size_t n;
	FILE *fp;

	snprintf(path, sizeof path, "%s/stderr", ut_dir);
	fflush(stderr);
	saved = dup(2);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	ck_assert_int_ge(fd, 0);
	dup2(fd, 2);
	close(fd);
	log_set_level(LOG_LVL_WARN);
	n = state_apply(s, now, to);
	log_set_level(LOG_LVL_ERR);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	fp = fopen(path, "r");
	ck_assert_ptr_nonnull(fp);
	logged[fread(logged, 1, sizeof logged - 1, fp)] = '\0';
	fclose(fp);
	unlink(path);
	return n;
}

/* ---- a snapshot's way: saved, loaded, restored ---- */

static struct tables *empty(struct tables *t)
{
	memset(t, 0, sizeof *t);
	return t;
}

/* Save t as a snapshot taken at SAVED, in this process. */
static void save(struct tables *t)
{
	struct state_view v = view(t);
	char err[256];

	ck_assert_int_eq(state_save(ut_dir, &v, SAVED, err, sizeof err), 0);
}

/* Hand s's records to t through the sink (what was logged: logged);
 * returns the blocks restored. */
static size_t restore(const struct saved_state *s, uint64_t now, struct tables *t)
{
	struct state_sink to = sink(t);

	return apply_logged(s, now, &to);
}

/* A snapshot of body (its checksum line added), loaded and restored. */
static size_t restore_text(const char *body, uint64_t now, struct tables *t)
{
	struct saved_state s;
	size_t n;

	load_text(body, &s);
	n = restore(&s, now, t);
	saved_state_release(&s);
	return n;
}

/* ---- writing ---- */

START_TEST(a_snapshot_is_written_as_documented)
{
	struct tables t;
	char got[8192];
	const char *text;
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

	fill(&t);
	save(&t);
	text = read_state(NULL);
	ck_assert_int_eq(sscanf(text, "mailscreen-state 1 %llu\n", &saved), 1);
	ck_assert_uint_eq(saved, SAVED);
	sorted_body(text, got, sizeof got);
	ck_assert_str_eq(got, expect);
	/* the last line is the checksum of every byte before it */
	ck_assert_int_eq(sscanf(strstr(text, "\nend ") + 1, "end %16llx\n", &hash), 1);
	ck_assert_uint_eq(hash, fnv(text, (size_t)(strstr(text, "\nend ") + 1 - text)));
	ck_assert_int_eq(count_named(".state."), 0);
}
END_TEST

static void same_counts(const struct counts *a, const struct counts *b)
{
	ck_assert_str_eq(a->table, b->table);
	ck_assert_uint_eq(a->klen, b->klen);
	ck_assert_mem_eq(a->key, b->key, a->klen);
	ck_assert_uint_eq(a->n, b->n);
	for (uint32_t i = 0; i < a->n; i++)
		ck_assert_uint_eq(a->times[i], b->times[i]);
}

START_TEST(ended_blocks_and_rule_totals_read_back_in_order)
{
	static struct tables a, b;
	struct saved_state s;
	const char *body;

	empty(&a);
	add_ended(&a, false, "203.0.113.9", T0 - 7200000, T0 - 3600000, "expired", "auth-ip", "5 auth-fail within 10m");
	add_ended(&a, true, "bob@example.org", T0 - 600000, T0 - 500000, "unblocked", "manual", "manual block");
	add_ended(&a, false, "2001:db8:1:2::/64", T0 - 400000, T0 - 300000, "removed", "manual", "a 100% bad one");
	snprintf(a.totals[0].rule, sizeof a.totals[0].rule, "auth-ip");
	a.totals[0].n = 7;
	a.ntotals = 1;
	save(&a);
	read_state(&body);
	ck_assert_ptr_nonnull(strstr(body, "ended addr 203.0.113.9 3999992800000 3999996400000 expired auth-ip "
				     "5%20auth-fail%20within%2010m\n"));
	ck_assert_ptr_nonnull(strstr(body, "ended account bob@example.org "));
	ck_assert_ptr_nonnull(strstr(body, "total auth-ip 7\n"));
	load_trusted(&s);
	restore(&s, T0, empty(&b));
	ck_assert_str_eq(logged, "");
	ck_assert_uint_eq(b.nended, 3);
	for (size_t i = 0; i < 3; i++) {
		ck_assert_int_eq(b.ended[i].account, a.ended[i].account);
		if (a.ended[i].account)
			ck_assert_str_eq(b.ended[i].user, a.ended[i].user);
		else
			ck_assert(same_cidr(&b.ended[i].target, &a.ended[i].target));
		ck_assert_uint_eq(b.ended[i].start_ms, a.ended[i].start_ms);
		ck_assert_uint_eq(b.ended[i].end_ms, a.ended[i].end_ms);
		ck_assert_str_eq(b.ended[i].how, a.ended[i].how);
		ck_assert_str_eq(b.ended[i].origin, a.ended[i].origin);
		ck_assert_str_eq(b.ended[i].reason, a.ended[i].reason);
	}
	ck_assert_uint_eq(b.ntotals, 1);
	ck_assert_str_eq(b.totals[0].rule, "auth-ip");
	ck_assert_uint_eq(b.totals[0].n, 7);
	saved_state_release(&s);
}
END_TEST

/* A snapshot of the version before history (no ended, no total records)
 * loads whole, without a warning; a damaged ended record is skipped and
 * reported, the rest is kept. */
START_TEST(a_snapshot_without_history_still_loads)
{
	static struct tables b;
	struct cidr want = cidr("203.0.113.7");

	ck_assert_uint_eq(restore_text("mailscreen-state 1 3999999999000\n"
				       "block 203.0.113.6 3999999990000 4000003600000 1 auth-ip 5%20auth-fail%20within%2010m\n"
				       "account bob@example.org 3999999990000 4000003600000 auth-account 10%20auth-fail\n"
				       "window auth-ip 0220cb007109000000000000000000000000 3999999990000\n",
				       T0, empty(&b)), 1);
	ck_assert_str_eq(logged, "");
	ck_assert_uint_eq(b.nblocks, 1);
	ck_assert_uint_eq(b.naccounts, 1);
	ck_assert_uint_eq(b.nwindows, 1);
	ck_assert_uint_eq(b.nended, 0);
	ck_assert_uint_eq(b.ntotals, 0);

	restore_text("mailscreen-state 1 3999999999000\n"
		     "ended addr 203.0.113.999 1 2 expired auth-ip x\n"
		     "ended addr 203.0.113.7 1 2 expired auth-ip x\n",
		     T0, empty(&b));
	ck_assert_ptr_nonnull(strstr(logged, "1 records not understood"));
	ck_assert_uint_eq(b.nended, 1);
	ck_assert(same_cidr(&b.ended[0].target, &want));
}
END_TEST

/* The statistics' records (stats.h's lines, spaces and '%' in them) read
 * back as they were written; a snapshot without them loads as before, and
 * one whose text is not printable is skipped and reported. */
START_TEST(stats_records_read_back_as_written)
{
	static struct tables a, b;
	struct saved_state s;

	empty(&a);
	add_stats(&a, "h 3999996000000 3999999600000 e=1,2,0,0,0,0,0 x=0 d=3 b=1,0 s=smtp:3; o=auth%20ip:1:0; a= u=");
	add_stats(&a, "m 1 60001 e=0,0,0,0,0,0,0 x=1 d=0 b=0,0 s= o= a= u=100%");
	save(&a);
	load_trusted(&s);
	restore(&s, T0, empty(&b));
	ck_assert_str_eq(logged, "");
	ck_assert_uint_eq(b.nstats, 2);
	ck_assert_str_eq(b.stats[0], "h 3999996000000 3999999600000 e=1,2,0,0,0,0,0 x=0 d=3 b=1,0 s=smtp:3; "
			 "o=auth%20ip:1:0; a= u=");
	ck_assert_str_eq(b.stats[1], "m 1 60001 e=0,0,0,0,0,0,0 x=1 d=0 b=0,0 s= o= a= u=100%");
	saved_state_release(&s);

	restore_text("mailscreen-state 1 3999999999000\n"
		     "stats m%201%2060001%20x=%00\n"
		     "stats m%201%2060001\n",
		     T0, empty(&b));
	ck_assert_ptr_nonnull(strstr(logged, "1 records not understood"));
	ck_assert_uint_eq(b.nstats, 1);
	ck_assert_str_eq(b.stats[0], "m 1 60001");
}
END_TEST

/* The cluster's read position: saved, read back at load (before the
 * sources open) with the stream it is a position in, not handed to the
 * sink as a record not understood; a file without it (older) loads with
 * none, one without the stream (older) with the position alone; a
 * malformed one is ignored. */
START_TEST(the_cluster_position_reads_back)
{
	static struct tables a, b;
	struct saved_state s;
	/* without a position, or with a malformed one */
	const char *const none[] = { good, "mailscreen-state 1 1795448304495\ncluster 12%20x\n" };

	empty(&a);
	snprintf(a.cluster_pos, sizeof a.cluster_pos, "1796655297794-3");
	save(&a);
	load_trusted(&s);
	ck_assert_str_eq(s.cluster_pos, "1796655297794-3");
	ck_assert_str_eq(s.cluster_stream, "");
	saved_state_release(&s);

	snprintf(a.cluster_stream, sizeof a.cluster_stream, "mailscreen:decisions@unix:/run/redis/a b.sock");
	save(&a);
	load_trusted(&s);
	ck_assert_str_eq(s.cluster_pos, "1796655297794-3");
	ck_assert_str_eq(s.cluster_stream, "mailscreen:decisions@unix:/run/redis/a b.sock");
	restore(&s, T0, empty(&b));
	ck_assert_str_eq(logged, "");
	saved_state_release(&s);

	for (size_t i = 0; i < sizeof none / sizeof none[0]; i++) {
		load_text(none[i], &s);
		ck_assert_msg(strcmp(s.cluster_pos, "") == 0, "case %zu: '%s'", i, s.cluster_pos);
		saved_state_release(&s);
	}
}
END_TEST

START_TEST(a_snapshot_reads_back_field_by_field)
{
	static struct tables a, b;
	struct saved_state s;
	struct tail_pos pos[4];
	char *first;

	fill(&a);
	fill_sources(&a);
	save(&a);
	first = strdup(read_state(NULL));
	load_trusted(&s);
	ck_assert_uint_eq(s.saved_ms, SAVED);
	ck_assert_uint_eq(restore(&s, T0, empty(&b)), 2);
	ck_assert_str_eq(logged, "");

	ck_assert_uint_eq(b.nblocks, a.nblocks);
	for (size_t i = 0; i < a.nblocks; i++) {
		ck_assert(same_cidr(&b.blocks[i].target, &a.blocks[i].target));
		ck_assert_uint_eq(b.blocks[i].start_ms, a.blocks[i].start_ms);
		ck_assert_uint_eq(b.blocks[i].expiry_ms, a.blocks[i].expiry_ms);
		ck_assert_uint_eq(b.blocks[i].times, a.blocks[i].times);
		ck_assert_str_eq(b.blocks[i].origin, a.blocks[i].origin);
		ck_assert_str_eq(b.blocks[i].reason, a.blocks[i].reason);
	}
	ck_assert_uint_eq(b.nexpired, 0);
	ck_assert_uint_eq(b.nallows, 1);
	ck_assert(same_cidr(&b.allows[0], &a.allows[0]));
	ck_assert_uint_eq(b.allow_expiry[0], a.allow_expiry[0]);
	ck_assert_uint_eq(b.naccounts, a.naccounts);
	for (size_t i = 0; i < a.naccounts; i++) {
		ck_assert_uint_eq(b.accounts[i].len, a.accounts[i].len);
		ck_assert_mem_eq(b.accounts[i].user, a.accounts[i].user, a.accounts[i].len);
		ck_assert_uint_eq(b.accounts[i].start, a.accounts[i].start);
		ck_assert_uint_eq(b.accounts[i].expiry, a.accounts[i].expiry);
		ck_assert_str_eq(b.accounts[i].origin, a.accounts[i].origin);
		ck_assert_str_eq(b.accounts[i].reason, a.accounts[i].reason);
	}
	ck_assert_uint_eq(b.noffenders, a.noffenders);
	for (size_t i = 0; i < a.noffenders; i++)
		same_counts(&b.offenders[i], &a.offenders[i]);
	ck_assert_uint_eq(b.nwindows, a.nwindows);
	for (size_t i = 0; i < a.nwindows; i++)
		same_counts(&b.windows[i], &a.windows[i]);
	/* the positions are not applied, but asked for */
	ck_assert_uint_eq(state_file_positions(&s, "mail", pos, 4), 2);
	for (size_t i = 0; i < 2; i++) {
		ck_assert_str_eq(pos[i].path, a.files[i].path);
		ck_assert_uint_eq(pos[i].dev, a.files[i].pos.dev);
		ck_assert_uint_eq(pos[i].ino, a.files[i].pos.ino);
		ck_assert_uint_eq(pos[i].offset, a.files[i].pos.offset);
		ck_assert_uint_eq(pos[i].fp, a.files[i].pos.fp);
		ck_assert_uint_eq(pos[i].fp_len, a.files[i].pos.fp_len);
	}
	ck_assert_str_eq(state_journal_cursor(&s, "j"), "s=1;i=2");
	saved_state_release(&s);

	/* and what was restored saves as the very same file */
	fill_sources(&b);
	save(&b);
	ck_assert_str_eq(read_state(NULL), first);
	free(first);
}
END_TEST

START_TEST(what_ended_while_down_is_told_apart)
{
	static struct tables t;
	struct cidr ended = cidr("203.0.113.1");

	ck_assert_uint_eq(restore_text("mailscreen-state 1 17\n"
				       "block 203.0.113.1 1 100 1 r ended\n"
				       "block 203.0.113.2 1 101 1 r lasts\n"
				       "block 203.0.113.3 1 - 1 r permanent\n"
				       "allow 192.0.2.1 100\n"
				       "allow 192.0.2.2 101\n"
				       "allow 192.0.2.3 -\n"
				       "account ended@example.org 1 100 r x\n"
				       "account lasts@example.org 1 101 r x\n"
				       "account permanent@example.org 1 - r x\n",
				       100, empty(&t)), 2);
	ck_assert_str_eq(logged, "");
	ck_assert_uint_eq(t.nexpired, 1);
	ck_assert(same_cidr(&t.expired[0], &ended));
	ck_assert_uint_eq(t.nblocks, 2);
	ck_assert_str_eq(t.blocks[0].reason, "lasts");
	ck_assert_uint_eq(t.blocks[0].expiry_ms, 101);
	ck_assert_uint_eq(t.blocks[1].expiry_ms, UINT64_MAX);
	ck_assert_uint_eq(t.nallows, 2);
	ck_assert_uint_eq(t.allow_expiry[0], 101);
	ck_assert_uint_eq(t.allow_expiry[1], UINT64_MAX);
	ck_assert_uint_eq(t.naccounts, 2);
	ck_assert_str_eq(t.accounts[0].user, "lasts@example.org");
	ck_assert_uint_eq(t.accounts[1].expiry, UINT64_MAX);
}
END_TEST

START_TEST(records_refused_or_not_understood_are_reported_and_skipped)
{
	static struct tables t;

	empty(&t);
	t.refuse = cidr("198.51.100.0/25");
	t.refuse_why = "198.51.100.0/25 contains 198.51.100.7 (on the allow list): never blocked";
	ck_assert_uint_eq(restore_text("mailscreen-state 1 17\n"
				       "block 198.51.100.0/25 1 - 1 manual wide\n"
				       "block 203.0.113.9 1 - 2 manual%0a x%1b[31m%0dforged\n"
				       "block 203.0.113.10 1 - 1 manual ok\n"
				       "block 203.0.113.300 1 - 1 manual bad-address\n"
				       "account mallory%0aroot@example.org 1 - manual x\n"
				       "account carol@example.org 1 - manual%1b x\n"
				       "window auth-ip zz 1\n"
				       "something new\n",
				       100, &t), 2);
	ck_assert_msg(strstr(logged, "saved block of 198.51.100.0/25 not restored: 198.51.100.0/25 contains "
				     "198.51.100.7 (on the allow list): never blocked\n"), "%s", logged);
	ck_assert_msg(strstr(logged, "saved state: 3 records not understood, skipped\n"), "%s", logged);
	ck_assert_msg(strstr(logged, "saved state: 3 reasons or origins held control characters"), "%s", logged);
	ck_assert_msg(strstr(logged, "saved state: 1 account blocks not restored (the first: 'mallory' cannot be "
				     "an account name)\n"), "%s", logged);
	/* handed on escaped, never raw */
	ck_assert_uint_eq(t.nblocks, 2);
	ck_assert_str_eq(t.blocks[0].origin, "manual\\x0a");
	ck_assert_str_eq(t.blocks[0].reason, "x\\x1b[31m\\x0dforged");
	ck_assert_uint_eq(t.blocks[0].times, 2);
	ck_assert_str_eq(t.blocks[1].reason, "ok");
	ck_assert_uint_eq(t.naccounts, 1);
	ck_assert_str_eq(t.accounts[0].origin, "manual\\x1b");
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

/* A saver on a loop of its own; saved_rc stays 99 until it reports. */
static struct state_saver *saver_new(struct loop **l)
{
	*l = loop_new();
	saved_rc = 99;
	return state_saver_new(*l, on_saved, *l);
}

static void saver_free(struct state_saver *sv, struct loop *l)
{
	state_saver_free(sv);
	loop_free(l);
}

/* Start a snapshot of t into dir, as at now: 0 or -1 as state_saver_start. */
static int saver_start(struct state_saver *sv, const char *dir, struct tables *t, uint64_t now)
{
	struct state_view v = view(t);
	char err[256];

	return state_saver_start(sv, dir, &v, now, err, sizeof err);
}

START_TEST(a_child_writes_the_same_snapshot_while_the_loop_goes_on)
{
	static struct tables t;
	struct loop *l;
	struct state_saver *sv = saver_new(&l);
	char *sync_text;

	fill(&t);
	fill_sources(&t);
	save(&t);
	sync_text = strdup(read_state(NULL));
	ut_write("state", "");
	ck_assert(!state_saver_busy(sv));
	ck_assert_int_eq(saver_start(sv, ut_dir, &t, SAVED), 0);
	ck_assert(state_saver_busy(sv));
	/* one at a time */
	ck_assert_int_eq(saver_start(sv, ut_dir, &t, SAVED), -1);
	/* what changes after the start is not in this snapshot */
	t.nblocks = 0;
	t.nwindows = 0;
	t.files[0].pos.offset = 5000;
	ck_assert_int_eq(loop_run(l), 0);
	ck_assert_msg(saved_rc == 0, "rc %d: %s", saved_rc, saved_msg);
	ck_assert(!state_saver_busy(sv));
	ck_assert_str_eq(read_state(NULL), sync_text);
	ck_assert_int_eq(count_named(".state."), 0);
	free(sync_text);
	saver_free(sv, l);
}
END_TEST

START_TEST(a_child_that_cannot_write_reports_why)
{
	static struct tables t;
	struct loop *l;
	struct state_saver *sv = saver_new(&l);

	ck_assert_int_eq(saver_start(sv, "/nonexistent/mailscreen-state", empty(&t), SAVED), 0);
	ck_assert_int_eq(loop_run(l), 0);
	ck_assert_int_eq(saved_rc, -1);
	ck_assert_msg(strstr(saved_msg, "cannot create a temporary file in '/nonexistent/mailscreen-state' for "
				       "'/nonexistent/mailscreen-state/state'"), "%s", saved_msg);
	saver_free(sv, l);
}
END_TEST

START_TEST(a_cancelled_child_leaves_the_last_snapshot_and_no_litter)
{
	static struct tables t;
	struct loop *l;
	struct state_saver *sv = saver_new(&l);
	struct saved_state s;
	char *before;

	fill(&t);
	save(&t);
	before = strdup(read_state(NULL));
	ck_assert_int_eq(saver_start(sv, ut_dir, &t, SAVED + 1), 0);
	state_saver_cancel(sv);
	ck_assert(!state_saver_busy(sv));
	ck_assert_int_eq(saved_rc, 99);         /* not called */
	ck_assert_int_eq(count_named(".state."), 0);
	ck_assert_str_eq(read_state(NULL), before);
	load_trusted(&s);
	saved_state_release(&s);
	free(before);
	saver_free(sv, l);
}
END_TEST

START_TEST(temporary_files_of_killed_writers_are_removed_at_start)
{
	struct saved_state s;

	write_state(good);
	ut_write(".state.12345.tmp", "mailscreen-state 1 1\nblock");
	ut_write(".state.tmp", "mailscreen-state 1 1\n");
	ut_write(".statefile", "not ours");
	load_trusted(&s);
	ck_assert_int_eq(count_named(".state."), 0);
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
	tcase_add_test(tc, a_snapshot_reads_back_field_by_field);
	tcase_add_test(tc, ended_blocks_and_rule_totals_read_back_in_order);
	tcase_add_test(tc, stats_records_read_back_as_written);
	tcase_add_test(tc, the_cluster_position_reads_back);
	tcase_add_test(tc, a_snapshot_without_history_still_loads);
	tcase_add_test(tc, what_ended_while_down_is_told_apart);
	tcase_add_test(tc, records_refused_or_not_understood_are_reported_and_skipped);
	tcase_add_test(tc, a_child_writes_the_same_snapshot_while_the_loop_goes_on);
	tcase_add_test(tc, a_child_that_cannot_write_reports_why);
	tcase_add_test(tc, a_cancelled_child_leaves_the_last_snapshot_and_no_litter);
	tcase_add_test(tc, temporary_files_of_killed_writers_are_removed_at_start);
	return ut_run("state", tc);
}
