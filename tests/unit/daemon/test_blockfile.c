// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests for blockfile.c. Parsing tests capture what the parser logs
 * (stderr, redirected to a temporary file around the call) and check both
 * the entries and the messages. Watching tests use real files in the
 * test's temporary directory, real inotify and the real loop: every
 * callback is applied to a model set (removals must exist, additions must
 * be new) and stops the loop; a test runs the loop until the model is what
 * it expects, with a 5 s fail-safe timer that fails the test. Nothing
 * sleeps; where a test proves that NO further callback comes, it runs the
 * loop for a fixed time with a loop timer.
 */
#include "blockfile.h"
#include "duration.h"
#include "log.h"
#include "loop.h"
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MIN_MS (60ULL * 1000)
#define HOUR_MS (60 * MIN_MS)

/* ---- parsing ---- */

static char *logged;    /* what the last parse() logged */

static size_t parse_n(const char *text, size_t len, struct bf_list *l)
{
	FILE *tmp = tmpfile();
	int saved = dup(2);
	size_t skipped, n;
	long size;

	ck_assert_ptr_nonnull(tmp);
	ck_assert_int_ge(saved, 0);
	fflush(stderr);
	ck_assert_int_ge(dup2(fileno(tmp), 2), 0);
	skipped = blockfile_parse("bl", text, len, l);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	size = ftell(tmp);
	ck_assert_int_ge(size, 0);
	free(logged);
	logged = calloc(1, (size_t)size + 1);
	rewind(tmp);
	n = fread(logged, 1, (size_t)size, tmp);
	ck_assert_uint_eq(n, (size_t)size);
	fclose(tmp);
	return skipped;
}

static size_t parse(const char *text, struct bf_list *l)
{
	return parse_n(text, strlen(text), l);
}

/* How many lines the last parse logged. */
static int nlogged(void)
{
	int n = 0;

	for (const char *p = logged; *p; p++)
		n += *p == '\n';
	return n;
}

#define ck_logged(s) ck_assert_msg(strstr(logged, (s)) != NULL, "expected in the log: %s\nlog:\n%s", (s), logged)

static const struct bf_entry *find(const struct bf_list *l, const char *target)
{
	struct cidr c;
	char err[128];

	ck_assert_msg(cidr_parse(target, &c, err, sizeof err) == 0, "%s", err);
	for (size_t i = 0; i < l->n; i++)
		if (l->v[i].target.len == c.len && addr_equal(&l->v[i].target.addr, &c.addr))
			return &l->v[i];
	return NULL;
}

static const struct bf_entry *must_find(const struct bf_list *l, const char *target)
{
	const struct bf_entry *e = find(l, target);

	ck_assert_msg(e != NULL, "'%s' not in the list", target);
	return e;
}

START_TEST(every_duration_form_and_both_families_parse)
{
	struct bf_list l;

	ck_assert_uint_eq(parse("192.0.2.1 30s\n"
				"192.0.2.2 10m\n"
				"192.0.2.3 2h\n"
				"192.0.2.4 7d\n"
				"192.0.2.5 permanent\n"
				"192.0.2.6 60\n"
				"198.51.100.0/24 1h30m\n"
				"2001:db8::/48 2h\n"
				"2001:db8:1::5 5\n"
				"0.0.0.0/0 1s\n", &l), 0);
	ck_assert_str_eq(logged, "");
	ck_assert_uint_eq(l.n, 10);
	ck_assert_uint_eq(must_find(&l, "192.0.2.1")->duration_ms, 30000);
	ck_assert_uint_eq(must_find(&l, "192.0.2.2")->duration_ms, 10 * MIN_MS);
	ck_assert_uint_eq(must_find(&l, "192.0.2.3")->duration_ms, 2 * HOUR_MS);
	ck_assert_uint_eq(must_find(&l, "192.0.2.4")->duration_ms, 7 * 24 * HOUR_MS);
	ck_assert_uint_eq(must_find(&l, "192.0.2.5")->duration_ms, DURATION_PERMANENT);
	ck_assert_uint_eq(must_find(&l, "192.0.2.6")->duration_ms, 3600000);
	ck_assert_uint_eq(must_find(&l, "198.51.100.0/24")->duration_ms, 90 * MIN_MS);
	ck_assert_uint_eq(must_find(&l, "2001:db8::/48")->duration_ms, 2 * HOUR_MS);
	ck_assert_uint_eq(must_find(&l, "2001:db8:1::5")->duration_ms, 5 * MIN_MS);
	ck_assert_uint_eq(must_find(&l, "0.0.0.0/0")->duration_ms, 1000);
	ck_assert_int_eq(must_find(&l, "192.0.2.1")->lineno, 1);
	ck_assert_int_eq(must_find(&l, "2001:db8::/48")->lineno, 8);
	ck_assert_str_eq(must_find(&l, "192.0.2.1")->comment, "");
	/* sorted by target */
	for (size_t i = 1; i < l.n; i++)
		ck_assert_int_lt(addr_cmp(&l.v[i - 1].target.addr, &l.v[i].target.addr), 1);
	bf_list_release(&l);
}
END_TEST

START_TEST(comments_blank_lines_and_whitespace_are_handled)
{
	struct bf_list l;

	ck_assert_uint_eq(parse("# the block list\n"
				"\n"
				"   \t \n"
				"\t192.0.2.1   60   # spammer from x\r\n"
				"  192.0.2.2 1h tried 400 passwords  \n"
				"192.0.2.3 5m#tight\n"
				"   # 192.0.2.9 1h\n"
				"192.0.2.4\t2h\t##\tdouble hash\n"
				"2001:db8::1 10m comment\twith\ttabs\n"
				"192.0.2.5 permanent", &l), 0);
	ck_assert_str_eq(logged, "");
	ck_assert_uint_eq(l.n, 6);
	ck_assert_str_eq(must_find(&l, "192.0.2.1")->comment, "spammer from x");
	ck_assert_int_eq(must_find(&l, "192.0.2.1")->lineno, 4);
	ck_assert_uint_eq(must_find(&l, "192.0.2.1")->duration_ms, HOUR_MS);
	ck_assert_str_eq(must_find(&l, "192.0.2.2")->comment, "tried 400 passwords");
	ck_assert_str_eq(must_find(&l, "192.0.2.3")->comment, "tight");
	ck_assert_str_eq(must_find(&l, "192.0.2.4")->comment, "double hash");
	ck_assert_str_eq(must_find(&l, "2001:db8::1")->comment, "comment with tabs");
	ck_assert_int_eq(must_find(&l, "192.0.2.5")->lineno, 10);     /* no final newline */
	ck_assert_ptr_null(find(&l, "192.0.2.9"));
	bf_list_release(&l);

	ck_assert_uint_eq(parse("", &l), 0);
	ck_assert_uint_eq(l.n, 0);
	bf_list_release(&l);
}
END_TEST

START_TEST(bad_lines_are_reported_with_line_numbers_and_skipped)
{
	struct bf_list l;

	ck_assert_uint_eq(parse("192.0.2.1/24 1h\n"              /* 1 */
				"not-an-ip 1h\n"                 /* 2 */
				"192.0.2.2\n"                    /* 3 */
				"192.0.2.3 10x\n"                /* 4 */
				"192.0.2.4 0\n"                  /* 5 */
				"192.0.2.5:25 1h\n"              /* 6 */
				"[2001:db8::1] 1h\n"             /* 7 */
				"192.0.2.6 1h good\n"            /* 8 */
				"192.0.2.0/33 1h\n"              /* 9 */
				"2001:db8::1/48 1h\n"            /* 10 */
				"192.0.2.8 # no duration\n"      /* 11 */
				"192.0.2.9 20y\n"                /* 12 */
				"192.0.2.10 Permanent\n"         /* 13 */
				"192.0.2.7 permanent\n", &l), 12);
	ck_assert_uint_eq(l.n, 2);
	must_find(&l, "192.0.2.6");
	must_find(&l, "192.0.2.7");
	ck_assert_int_eq(nlogged(), 12);
	ck_logged("bl:1: '192.0.2.1/24' has host bits set (did you mean 192.0.2.0/24?); line skipped\n");
	ck_logged("bl:2: 'not-an-ip' is not an IP address or range (like 192.0.2.1, "
		  "198.51.100.0/24 or 2001:db8::/48); line skipped\n");
	ck_logged("bl:3: no duration after '192.0.2.2' (like 30s, 10m, 2h, 7d, permanent, or a number "
		  "of minutes); line skipped\n");
	ck_logged("bl:4: '10x' is not a duration (like 30s, 10m, 2h, 7d, permanent, or a number of "
		  "minutes); line skipped\n");
	ck_logged("bl:5: duration '0' is zero; line skipped\n");
	ck_logged("bl:6: '192.0.2.5:25' is not an IP address or range");
	ck_logged("bl:7: '[2001:db8::1]' is not an IP address or range");
	ck_logged("bl:9: '192.0.2.0/33': bad prefix length (0..32); line skipped\n");
	ck_logged("bl:10: '2001:db8::1/48' has host bits set (did you mean 2001:db8::/48?); line skipped\n");
	ck_logged("bl:11: no duration after '192.0.2.8'");
	ck_logged("bl:12: '20y' is not a duration");
	ck_logged("bl:13: 'Permanent' is not a duration");
	bf_list_release(&l);
}
END_TEST

START_TEST(garbage_and_binary_lines_are_skipped_and_logged_escaped)
{
	static const char text[] =
		"\x00\x01\xff\xfe garbage\n"                    /* 1 */
		"\xc3\xa9\xff 1h\n"                             /* 2 */
		"192.0.2.1 1h caf\xc3\xa9 \xff ok\n"            /* 3: UTF-8 kept, the rest '?' */
		"192.0.2.2 1h bell\x07\n"                       /* 4 */
		"192.0.2.3 1\xc3\xa9\n"                         /* 5 */
		"\x1b[31m192.0.2.4 1h\n"                        /* 6 */
		"192.0.2.5 1h\n"                                /* 7 */
		"192.0.2.6 1h csi\xc2\x9b" "2J nel\xc2\x85 \xc2\xa0nbsp\n"; /* 8: C1 controls '?' */
	struct bf_list l;

	ck_assert_uint_eq(parse_n(text, sizeof text - 1, &l), 5);
	ck_assert_uint_eq(l.n, 3);
	ck_assert_str_eq(must_find(&l, "192.0.2.1")->comment, "caf\xc3\xa9 ? ok");
	must_find(&l, "192.0.2.5");
	ck_assert_str_eq(must_find(&l, "192.0.2.6")->comment, "csi?2J nel? \xc2\xa0nbsp");
	ck_logged("bl:1: binary data (byte 0x00 at column 1), not text like 'ADDRESS[/LEN] DURATION "
		  "[comment]'; line skipped\n");
	ck_logged("bl:2: '\\xc3\\xa9\\xff' is not an IP address or range");
	ck_logged("bl:4: binary data (byte 0x07 at column 18)");
	ck_logged("bl:5: '1\\xc3\\xa9' is not a duration");
	ck_logged("bl:6: binary data (byte 0x1b at column 1)");
	/* nothing raw from the file reaches the log */
	for (const unsigned char *p = (const unsigned char *)logged; *p; p++)
		ck_assert_msg(*p == '\n' || (*p >= 0x20 && *p < 0x7f), "raw byte 0x%02x logged", *p);
	bf_list_release(&l);
}
END_TEST

START_TEST(overlong_lines_are_errors_and_comments_are_cut)
{
	size_t len = BLOCKFILE_LINE_MAX + 200;
	char *text = malloc(2 * len);
	struct bf_list l;
	size_t o;
	char want[64];

	/* line 1: too long; line 2: exactly the limit, with a long comment */
	o = (size_t)sprintf(text, "192.0.2.1 1h ");
	memset(text + o, 'x', BLOCKFILE_LINE_MAX + 1 - o);
	o = BLOCKFILE_LINE_MAX + 1;
	text[o++] = '\n';
	o += (size_t)sprintf(text + o, "192.0.2.2 1h ");
	memset(text + o, 'y', BLOCKFILE_LINE_MAX + 1 + 1 + BLOCKFILE_LINE_MAX - o);
	o = 2 * BLOCKFILE_LINE_MAX + 2;
	text[o++] = '\n';
	o += (size_t)sprintf(text + o, "192.0.2.3 1h\n");
	ck_assert_uint_eq(parse_n(text, o, &l), 1);
	snprintf(want, sizeof want, "bl:1: line is %d bytes long, longer than the limit of %d",
		 BLOCKFILE_LINE_MAX + 1, BLOCKFILE_LINE_MAX);
	ck_logged(want);
	ck_assert_int_eq(nlogged(), 1);
	ck_assert_uint_eq(l.n, 2);
	ck_assert_uint_eq(strlen(must_find(&l, "192.0.2.2")->comment), BLOCKFILE_COMMENT_MAX);
	ck_assert_int_eq(must_find(&l, "192.0.2.3")->lineno, 3);
	bf_list_release(&l);
	free(text);

	/* a multi-byte character that does not fit is left out whole */
	text = malloc(BLOCKFILE_COMMENT_MAX + 64);
	o = (size_t)sprintf(text, "192.0.2.1 1h ");
	memset(text + o, 'z', BLOCKFILE_COMMENT_MAX - 1);
	o += BLOCKFILE_COMMENT_MAX - 1;
	o += (size_t)sprintf(text + o, "\xc3\xa9\n");
	ck_assert_uint_eq(parse_n(text, o, &l), 0);
	ck_assert_uint_eq(strlen(must_find(&l, "192.0.2.1")->comment), BLOCKFILE_COMMENT_MAX - 1);
	bf_list_release(&l);
	free(text);
}
END_TEST

START_TEST(the_same_target_twice_the_later_line_wins_with_a_warning)
{
	struct bf_list l;

	ck_assert_uint_eq(parse("192.0.2.1 1h first\n"
				"192.0.2.2 5m\n"
				"192.0.2.1 2h second\n"
				"::ffff:192.0.2.2 7d mapped is the same address\n"
				"192.0.2.0/24 1h\n"
				"192.0.2.0/25 1h a different range\n", &l), 2);
	ck_assert_uint_eq(l.n, 4);
	ck_assert_uint_eq(must_find(&l, "192.0.2.1")->duration_ms, 2 * HOUR_MS);
	ck_assert_str_eq(must_find(&l, "192.0.2.1")->comment, "second");
	ck_assert_int_eq(must_find(&l, "192.0.2.1")->lineno, 3);
	ck_assert_uint_eq(must_find(&l, "192.0.2.2")->duration_ms, 7 * 24 * HOUR_MS);
	ck_logged("bl:3: '192.0.2.1' is already listed on line 1; this line wins\n");
	ck_logged("bl:4: '192.0.2.2' is already listed on line 2; this line wins\n");
	ck_assert_int_eq(nlogged(), 2);
	bf_list_release(&l);
}
END_TEST

START_TEST(reports_are_capped_and_entries_bounded)
{
	size_t cap = (size_t)BLOCKFILE_ENTRIES_MAX + 2 + 30;
	char *text = malloc(cap * 24), *p = text;
	struct bf_list l;
	char want[128];

	for (int i = 0; i < 30; i++)
		p += sprintf(p, "bad%d 1h\n", i);
	for (unsigned i = 0; i < (unsigned)BLOCKFILE_ENTRIES_MAX + 2; i++)
		p += sprintf(p, "10.%u.%u.%u 1h\n", i >> 16 & 0xff, i >> 8 & 0xff, i & 0xff);
	ck_assert_uint_eq(parse_n(text, (size_t)(p - text), &l), 32);
	ck_assert_uint_eq(l.n, BLOCKFILE_ENTRIES_MAX);
	ck_logged("bl:20: 'bad19' is not an IP address");
	ck_assert_ptr_null(strstr(logged, "bl:21:"));
	snprintf(want, sizeof want, "bl: %d more problems not reported\n", 30 - BLOCKFILE_REPORT_MAX);
	ck_logged(want);
	ck_assert_int_eq(nlogged(), BLOCKFILE_REPORT_MAX + 2);
	snprintf(want, sizeof want, "bl:%d: more than %d entries", 30 + BLOCKFILE_ENTRIES_MAX + 1,
		 BLOCKFILE_ENTRIES_MAX);
	ck_logged(want);
	bf_list_release(&l);
	free(text);
}
END_TEST

/* ---- watching ---- */

struct model_entry {
	char target[CIDR_STRLEN];
	uint64_t ms;
	char comment[BLOCKFILE_COMMENT_MAX + 1];
};

static struct loop *L;
static struct blockfile *B;
static struct model_entry model[256];
static size_t nmodel;
static int ncalls;
static size_t last_nadded, last_nremoved;
static size_t total_removed;
static bool timed_out, close_in_cb;

static struct model_entry *model_find(const char *t)
{
	for (size_t i = 0; i < nmodel; i++)
		if (!strcmp(model[i].target, t))
			return &model[i];
	return NULL;
}

static void on_change(void *arg, const struct bf_entry *added, size_t nadded,
		      const struct bf_entry *removed, size_t nremoved)
{
	char t[CIDR_STRLEN];

	ck_assert_ptr_eq(arg, &model);
	for (size_t i = 0; i < nremoved; i++) {
		struct model_entry *m;
		cidr_format(&removed[i].target, t);
		m = model_find(t);
		ck_assert_msg(m != NULL, "'%s' removed but not there", t);
		ck_assert_uint_eq(m->ms, removed[i].duration_ms);
		*m = model[--nmodel];
	}
	for (size_t i = 0; i < nadded; i++) {
		cidr_format(&added[i].target, t);
		ck_assert_msg(model_find(t) == NULL, "'%s' added twice", t);
		ck_assert_uint_lt(nmodel, sizeof model / sizeof model[0]);
		snprintf(model[nmodel].target, sizeof model[nmodel].target, "%s", t);
		snprintf(model[nmodel].comment, sizeof model[nmodel].comment, "%s", added[i].comment);
		model[nmodel++].ms = added[i].duration_ms;
	}
	ncalls++;
	last_nadded = nadded;
	last_nremoved = nremoved;
	total_removed += nremoved;
	if (close_in_cb) {
		blockfile_close(B);
		B = NULL;
	}
	if (L)
		loop_stop(L);
}

static void failsafe(struct loop *l, void *arg)
{
	timed_out = true;
	loop_stop(l);
}

/* The model as "TARGET DURATION" lines, sorted, e.g. "192.0.2.1 1h\n". */
static const char *model_text(void)
{
	static char buf[256 * (CIDR_STRLEN + 16)];
	char *lines[256];
	size_t o = 0;

	for (size_t i = 0; i < nmodel; i++) {
		char d[32];
		duration_format(model[i].ms, d, sizeof d);
		lines[i] = malloc(CIDR_STRLEN + 40);
		snprintf(lines[i], CIDR_STRLEN + 40, "%.*s %s\n", CIDR_STRLEN - 1, model[i].target, d);
	}
	for (size_t i = 1; i < nmodel; i++)
		for (size_t j = i; j > 0 && strcmp(lines[j - 1], lines[j]) > 0; j--) {
			char *x = lines[j]; lines[j] = lines[j - 1]; lines[j - 1] = x;
		}
	buf[0] = '\0';
	for (size_t i = 0; i < nmodel; i++) {
		o += (size_t)snprintf(buf + o, sizeof buf - o, "%s", lines[i]);
		free(lines[i]);
	}
	return buf;
}

/* Run the loop until the model reads want (see model_text). */
static void wait_model(const char *want)
{
	uint64_t id;

	timed_out = false;
	id = loop_add_timer(L, 5000, failsafe, NULL);
	while (strcmp(model_text(), want) != 0 && !timed_out)
		loop_run(L);
	if (!timed_out)
		loop_cancel_timer(L, id);
	ck_assert_msg(!timed_out, "timed out; the model is:\n%sexpected:\n%s", model_text(), want);
}

/* Run the loop for a while and fail if a callback comes. */
static void stop_cb(struct loop *l, void *arg)
{
	*(bool *)arg = true;
	loop_stop(l);
}

static void expect_quiet(void)
{
	int before = ncalls;
	bool done = false;

	loop_add_timer(L, 3 * BLOCKFILE_DELAY_MS, stop_cb, &done);
	while (!done)
		loop_run(L);
	ck_assert_int_eq(ncalls, before);
}

static const char *path_of(const char *name)
{
	static char buf[4][sizeof ut_dir + 256];
	static int i;

	i = (i + 1) % 4;
	snprintf(buf[i], sizeof buf[i], "%s/%.200s", ut_dir, name);
	return buf[i];
}

static void append(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0644);

	ck_assert_msg(fd >= 0, "open %s: %s", path, strerror(errno));
	ck_assert_int_eq(write(fd, s, strlen(s)), (ssize_t)strlen(s));
	ck_assert_int_eq(close(fd), 0);
}

/* Write name.tmp, then rename it over name, as editors do. */
static void replace(const char *name, const char *text)
{
	char tmp[200];

	snprintf(tmp, sizeof tmp, "%s.tmp", name);
	ut_write(tmp, text);
	ck_assert_int_eq(rename(path_of(tmp), path_of(name)), 0);
}

static void open_bf(const char *name)
{
	char err[256] = "";

	B = blockfile_open(L, path_of(name), on_change, &model, err, sizeof err);
	ck_assert_msg(B != NULL, "blockfile_open: %s", err);
	ck_assert_int_eq(ncalls, 1);
}

/* The blockfile's own list matches the model. */
static void check_list(void)
{
	const struct bf_list *l = blockfile_list(B);

	ck_assert_uint_eq(l->n, nmodel);
	for (size_t i = 0; i < l->n; i++) {
		char t[CIDR_STRLEN];
		cidr_format(&l->v[i].target, t);
		ck_assert_ptr_nonnull(model_find(t));
		ck_assert_uint_eq(model_find(t)->ms, l->v[i].duration_ms);
	}
}

static void setup(void)
{
	log_init("test_blockfile", LOG_LVL_WARN);
	L = loop_new();
	B = NULL;
	nmodel = 0;
	ncalls = 0;
	total_removed = 0;
	close_in_cb = false;
}

static void teardown(void)
{
	blockfile_close(B);
	B = NULL;
	loop_free(L);
	L = NULL;
	free(logged);
	logged = NULL;
}

START_TEST(open_reports_every_entry_as_added)
{
	ut_write("open", "192.0.2.1 1h\n2001:db8::/32 permanent two\n");
	open_bf("open");
	ck_assert_uint_eq(last_nadded, 2);
	ck_assert_uint_eq(last_nremoved, 0);
	ck_assert_str_eq(model_text(), "192.0.2.1 1h\n2001:db8::/32 permanent\n");
	ck_assert_str_eq(model_find("2001:db8::/32")->comment, "two");
	check_list();
}
END_TEST

START_TEST(appending_a_line_gives_one_added)
{
	ut_write("append", "192.0.2.1 1h\n192.0.2.2 2h\n");
	open_bf("append");
	append(path_of("append"), "192.0.2.3 60 appended\n");
	wait_model("192.0.2.1 1h\n192.0.2.2 2h\n192.0.2.3 1h\n");
	ck_assert_int_eq(ncalls, 2);
	ck_assert_uint_eq(last_nadded, 1);
	ck_assert_uint_eq(last_nremoved, 0);
	ck_assert_str_eq(model_find("192.0.2.3")->comment, "appended");
	expect_quiet();
	check_list();
}
END_TEST

START_TEST(rewrite_by_rename_reports_removed_and_changed_lines)
{
	ut_write("rename", "192.0.2.1 1h a\n192.0.2.2 1h b\n192.0.2.3 1h c\n192.0.2.4 1h d\n");
	open_bf("rename");
	/* .2 removed, .3 longer, .4 only a new comment, .5 new */
	replace("rename", "192.0.2.1 1h a\n192.0.2.3 2h c\n192.0.2.4 1h new comment\n192.0.2.5 5m\n");
	wait_model("192.0.2.1 1h\n192.0.2.3 2h\n192.0.2.4 1h\n192.0.2.5 5m\n");
	ck_assert_int_eq(ncalls, 2);
	ck_assert_uint_eq(last_nremoved, 2);    /* .2, and .3 with its old duration */
	ck_assert_uint_eq(last_nadded, 2);      /* .3 with its new duration, .5 */
	expect_quiet();
	check_list();
}
END_TEST

START_TEST(deleting_the_file_removes_everything)
{
	ut_write("delete", "192.0.2.1 1h\n192.0.2.0/28 1h\n2001:db8::1 7d\n");
	open_bf("delete");
	ck_assert_uint_eq(nmodel, 3);
	ck_assert_int_eq(unlink(path_of("delete")), 0);
	wait_model("");
	ck_assert_int_eq(ncalls, 2);
	ck_assert_uint_eq(last_nremoved, 3);
	check_list();
	/* and it comes back */
	ut_write("delete", "192.0.2.9 1h\n");
	wait_model("192.0.2.9 1h\n");
}
END_TEST

START_TEST(a_file_created_after_open_is_picked_up)
{
	open_bf("later");
	ck_assert_uint_eq(last_nadded, 0);
	ut_write("later", "192.0.2.1 10m\n2001:db8::/64 permanent\n");
	wait_model("192.0.2.1 10m\n2001:db8::/64 permanent\n");
	ck_assert_int_eq(total_removed, 0);
	check_list();
}
END_TEST

static int burst_left;

static void burst_cb(struct loop *l, void *arg)
{
	char line[64];

	snprintf(line, sizeof line, "10.0.0.%d %dm\n", burst_left, burst_left + 1);
	append(path_of("burst"), line);
	if (--burst_left > 0)
		loop_add_timer(l, 1, burst_cb, NULL);
}

START_TEST(a_burst_of_appends_gives_few_callbacks_and_the_right_union)
{
	char want[100 * 32] = "", *p = want;

	ut_write("burst", "");
	open_bf("burst");
	/* 100 appends, one every loop turn (about 1 ms apart), while the
	 * blockfile watches in the same loop */
	burst_left = 100;
	loop_add_timer(L, 0, burst_cb, NULL);
	for (int i = 1; i <= 100; i++) {
		char d[32];
		duration_format((uint64_t)(i + 1) * MIN_MS, d, sizeof d);
		p += sprintf(p, "10.0.0.%d %s\n", i, d);
	}
	/* model_text sorts as strings */
	{
		char *lines[100], *s = want, buf[sizeof want];
		size_t o = 0;
		for (int i = 0; i < 100; i++) {
			lines[i] = s;
			s = strchr(s, '\n') + 1;
			s[-1] = '\0';
		}
		for (int i = 1; i < 100; i++)
			for (int j = i; j > 0 && strcmp(lines[j - 1], lines[j]) > 0; j--) {
				char *x = lines[j]; lines[j] = lines[j - 1]; lines[j - 1] = x;
			}
		for (int i = 0; i < 100; i++)
			o += (size_t)sprintf(buf + o, "%s\n", lines[i]);
		memcpy(want, buf, o + 1);
	}
	wait_model(want);
	ck_assert_int_eq(total_removed, 0);
	ck_assert_msg(ncalls - 1 <= 5, "%d callbacks for 100 appends", ncalls - 1);
	expect_quiet();
	check_list();
}
END_TEST

START_TEST(edits_through_a_symbolic_link_are_seen)
{
	ck_assert_int_eq(mkdir(path_of("real"), 0755), 0);
	ut_write("real/list", "192.0.2.1 1h\n");
	ck_assert_int_eq(symlink(path_of("real/list"), path_of("link")), 0);
	open_bf("link");
	ck_assert_str_eq(model_text(), "192.0.2.1 1h\n");
	append(path_of("real/list"), "192.0.2.2 2h\n");
	wait_model("192.0.2.1 1h\n192.0.2.2 2h\n");
	/* replaced by rename where it lives */
	replace("real/list", "192.0.2.3 3h\n");
	wait_model("192.0.2.3 3h\n");
	append(path_of("real/list"), "192.0.2.4 4h\n");
	wait_model("192.0.2.3 3h\n192.0.2.4 4h\n");
}
END_TEST

/* The list is trusted like the configuration: a reading that finds it
 * writable by group or others, or owned by someone other than root (or the
 * daemon's user), is refused and the previous entries stay; fixing the
 * mode or owner is seen at once (IN_ATTRIB) and the new content applies. */
START_TEST(a_refused_file_keeps_the_previous_entries_until_fixed)
{
	ut_write("trust", "192.0.2.1 1h\n");
	open_bf("trust");
	/* new content that arrives group-writable: refused */
	ut_write("trust.tmp", "192.0.2.2 2h\n");
	ck_assert_int_eq(chmod(path_of("trust.tmp"), 0664), 0);
	ck_assert_int_eq(rename(path_of("trust.tmp"), path_of("trust")), 0);
	expect_quiet();
	ck_assert_str_eq(model_text(), "192.0.2.1 1h\n");
	ck_assert_uint_eq(blockfile_list(B)->n, 1);
	/* fixed in place: read at once */
	ck_assert_int_eq(chmod(path_of("trust"), 0644), 0);
	wait_model("192.0.2.2 2h\n");
	check_list();
	if (geteuid() != 0)
		return;
	/* a foreign owner: refused, previous entries stay; chown back fixes it */
	append(path_of("trust"), "192.0.2.3 3h\n");
	wait_model("192.0.2.2 2h\n192.0.2.3 3h\n");
	ck_assert_int_eq(chown(path_of("trust"), 65534, (gid_t)-1), 0);
	append(path_of("trust"), "192.0.2.4 4h\n");
	expect_quiet();
	ck_assert_str_eq(model_text(), "192.0.2.2 2h\n192.0.2.3 3h\n");
	ck_assert_int_eq(chown(path_of("trust"), 0, (gid_t)-1), 0);
	wait_model("192.0.2.2 2h\n192.0.2.3 3h\n192.0.2.4 4h\n");
}
END_TEST

START_TEST(a_file_refused_at_open_is_read_once_fixed)
{
	ut_write("trust-open", "192.0.2.1 1h\n");
	ck_assert_int_eq(chmod(path_of("trust-open"), 0666), 0);
	open_bf("trust-open");
	ck_assert_uint_eq(last_nadded, 0);
	ck_assert_str_eq(model_text(), "");
	ck_assert_int_eq(chmod(path_of("trust-open"), 0600), 0);
	wait_model("192.0.2.1 1h\n");
}
END_TEST

START_TEST(a_link_to_a_file_others_may_write_is_refused)
{
	ck_assert_int_eq(mkdir(path_of("shared"), 0755), 0);
	ut_write("shared/list", "192.0.2.1 1h\n");
	ck_assert_int_eq(symlink(path_of("shared/list"), path_of("tlink")), 0);
	open_bf("tlink");
	ck_assert_str_eq(model_text(), "192.0.2.1 1h\n");
	ck_assert_int_eq(chmod(path_of("shared"), 0777), 0);
	replace("shared/list", "192.0.2.2 1h\n");
	expect_quiet();
	ck_assert_str_eq(model_text(), "192.0.2.1 1h\n");
	/* the directory fixed: nothing in our directory changed, so the next
	 * change to the file (or a reload) reads it */
	ck_assert_int_eq(chmod(path_of("shared"), 0755), 0);
	append(path_of("shared/list"), "192.0.2.3 1h\n");
	wait_model("192.0.2.2 1h\n192.0.2.3 1h\n");
}
END_TEST

START_TEST(bad_lines_on_reload_leave_the_good_ones_applied)
{
	ut_write("bad", "192.0.2.1 1h\n");
	open_bf("bad");
	append(path_of("bad"), "192.0.2.2/8 1h\n192.0.2.3 1h\n");
	wait_model("192.0.2.1 1h\n192.0.2.3 1h\n");
	ck_assert_int_eq(ncalls, 2);
}
END_TEST

START_TEST(the_callback_may_close_the_blockfile)
{
	ut_write("closing", "192.0.2.1 1h\n");
	open_bf("closing");
	close_in_cb = true;
	append(path_of("closing"), "192.0.2.2 1h\n");
	wait_model("192.0.2.1 1h\n192.0.2.2 1h\n");
	ck_assert_ptr_null(B);
	append(path_of("closing"), "192.0.2.3 1h\n");
	expect_quiet();
}
END_TEST

START_TEST(open_fails_without_the_directory)
{
	char err[256] = "";

	B = blockfile_open(L, path_of("nodir/list"), on_change, &model, err, sizeof err);
	ck_assert_ptr_null(B);
	ck_assert_msg(strstr(err, "cannot watch directory") != NULL, "%s", err);
	ck_assert_int_eq(ncalls, 0);
}
END_TEST

int main(void)
{
	TCase *tc = tcase_create("blockfile");

	tcase_set_timeout(tc, 60);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, every_duration_form_and_both_families_parse);
	tcase_add_test(tc, comments_blank_lines_and_whitespace_are_handled);
	tcase_add_test(tc, bad_lines_are_reported_with_line_numbers_and_skipped);
	tcase_add_test(tc, garbage_and_binary_lines_are_skipped_and_logged_escaped);
	tcase_add_test(tc, overlong_lines_are_errors_and_comments_are_cut);
	tcase_add_test(tc, the_same_target_twice_the_later_line_wins_with_a_warning);
	tcase_add_test(tc, reports_are_capped_and_entries_bounded);
	tcase_add_test(tc, open_reports_every_entry_as_added);
	tcase_add_test(tc, appending_a_line_gives_one_added);
	tcase_add_test(tc, rewrite_by_rename_reports_removed_and_changed_lines);
	tcase_add_test(tc, deleting_the_file_removes_everything);
	tcase_add_test(tc, a_file_created_after_open_is_picked_up);
	tcase_add_test(tc, a_burst_of_appends_gives_few_callbacks_and_the_right_union);
	tcase_add_test(tc, edits_through_a_symbolic_link_are_seen);
	tcase_add_test(tc, a_refused_file_keeps_the_previous_entries_until_fixed);
	tcase_add_test(tc, a_file_refused_at_open_is_read_once_fixed);
	tcase_add_test(tc, a_link_to_a_file_others_may_write_is_refused);
	tcase_add_test(tc, bad_lines_on_reload_leave_the_good_ones_applied);
	tcase_add_test(tc, the_callback_may_close_the_blockfile);
	tcase_add_test(tc, open_fails_without_the_directory);
	return ut_run("blockfile", tc);
}
