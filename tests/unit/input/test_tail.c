// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests for tail.c: real files in a temporary directory, real
 * inotify, the real loop. A test waits by running the loop until the line
 * callback has seen the lines it expects; a 5 s fail-safe timer stops the
 * loop and fails the test. Nothing sleeps. Where a test must know that the
 * tailer has looked at a file (to prove it did NOT deliver something), it
 * writes a marker line to a second, later-registered file and waits for it:
 * pending files are read in the order they were registered, so the first
 * file has been read by then. (tail_add schedules one read of its own: a
 * test that needs inotify events handled in order first waits for a marker
 * to consume it.)
 */
#include "loop.h"
#include "tail.h"
#include "log.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct got {
	char *line, *path;
	size_t len;
	bool cut;
	void *cookie;
};

static struct loop *L;
static struct tail *T;
static char dir[256];
static struct got *got;
static size_t ngot, agot, want;
static bool timed_out;
/* tail_remove(remove_w) from the callback when this line arrives */
static const char *remove_on;
static struct tail_watch *remove_w;
/* wait_line(): stop the loop when this line arrives */
static const char *until;
static bool until_seen;

static void on_line(void *cookie, const char *path, const char *line, size_t len, bool cut)
{
	struct got *g;

	ck_assert_msg(line[len] == '\0', "line not NUL-terminated");
	if (ngot == agot) {
		agot = agot ? 2 * agot : 64;
		got = realloc(got, agot * sizeof *got);
		ck_assert_ptr_nonnull(got);
	}
	g = &got[ngot++];
	g->line = malloc(len + 1);
	memcpy(g->line, line, len + 1);
	g->len = len;
	g->cut = cut;
	g->path = strdup(path);
	g->cookie = cookie;
	if (remove_on && len == strlen(remove_on) && !memcmp(line, remove_on, len)) {
		tail_remove(T, remove_w);
		remove_on = NULL;
	}
	if (until && len == strlen(until) && !memcmp(line, until, len)) {
		until_seen = true;
		loop_stop(L);
	}
	if (want && ngot >= want)
		loop_stop(L);
}

static void failsafe(struct loop *l, void *arg)
{
	timed_out = true;
	loop_stop(l);
}

/* Run the loop until n lines in all have arrived. */
static void wait_lines(size_t n)
{
	uint64_t id;

	want = n;
	if (ngot >= n)
		return;
	timed_out = false;
	id = loop_add_timer(L, 5000, failsafe, NULL);
	loop_run(L);
	if (!timed_out)
		loop_cancel_timer(L, id);
	want = 0;
	ck_assert_msg(!timed_out, "timed out waiting for %zu lines; got %zu", n, ngot);
}

/* How many times the line s arrived. */
static int count(const char *s)
{
	int n = 0;

	for (size_t i = 0; i < ngot; i++)
		n += got[i].len == strlen(s) && !memcmp(got[i].line, s, got[i].len);
	return n;
}

/* Run the loop until the line s arrives (a marker written last). */
static void wait_line(const char *s)
{
	uint64_t id;

	until = s;
	until_seen = count(s) > 0;
	timed_out = false;
	id = loop_add_timer(L, 5000, failsafe, NULL);
	while (!until_seen && !timed_out)
		loop_run(L);
	if (!timed_out)
		loop_cancel_timer(L, id);
	until = NULL;
	ck_assert_msg(!timed_out, "timed out waiting for line '%s'; got %zu lines", s, ngot);
}

static const char *P(const char *name)
{
	static char buf[8][PATH_MAX];
	static int i;

	i = (i + 1) % 8;
	snprintf(buf[i], sizeof buf[i], "%s/%s", dir, name);
	return buf[i];
}

static void append(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT, 0644);

	ck_assert_msg(fd >= 0, "open %s: %s", path, strerror(errno));
	ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static void appends(const char *path, const char *s)
{
	append(path, s, strlen(s));
}

static void start(const struct tail_opts *opts)
{
	T = tail_new(L, opts, on_line);
	ck_assert_ptr_nonnull(T);
}

static struct tail_watch *add(const char *pattern, void *cookie)
{
	char err[256] = "";
	struct tail_watch *w = tail_add(T, pattern, cookie, err, sizeof err);

	ck_assert_msg(w != NULL, "tail_add '%s': %s", pattern, err);
	return w;
}

static struct tail_stats stats(void)
{
	struct tail_stats st;

	tail_get_stats(T, &st);
	return st;
}

#define ck_line(i, s) do { \
	ck_assert_uint_gt(ngot, (i)); \
	ck_assert_str_eq(got[i].line, (s)); \
	ck_assert_uint_eq(got[i].len, strlen(s)); \
} while (0)

static void setup(void)
{
	snprintf(dir, sizeof dir, "%s/test_tail.XXXXXX", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	log_init("test_tail", LOG_LVL_WARN);
	L = loop_new();
	T = NULL;
	ngot = agot = want = 0;
	got = NULL;
	remove_on = NULL;
	remove_w = NULL;
	until = NULL;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void teardown(void)
{
	tail_free(T);
	loop_free(L);
	for (size_t i = 0; i < ngot; i++) {
		free(got[i].line);
		free(got[i].path);
	}
	free(got);
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

START_TEST(appended_lines_are_delivered)
{
	appends(P("a.log"), "");
	start(NULL);
	add(P("a.log"), (void *)1);
	appends(P("a.log"), "one\ntwo\n");
	wait_lines(2);
	appends(P("a.log"), "three\n");
	wait_lines(3);
	ck_line(0, "one");
	ck_line(1, "two");
	ck_line(2, "three");
	ck_assert_ptr_eq(got[0].cookie, (void *)1);
	ck_assert_str_eq(got[0].path, P("a.log"));
	ck_assert_uint_eq(stats().lines, 3);
	ck_assert_uint_eq(stats().files, 1);
}
END_TEST

START_TEST(existing_content_is_skipped_at_start)
{
	appends(P("a.log"), "old1\nold2\n");
	start(NULL);
	add(P("a.log"), NULL);
	appends(P("a.log"), "new\n");
	wait_lines(1);
	ck_assert_uint_eq(ngot, 1);
	ck_line(0, "new");
}
END_TEST

START_TEST(existing_content_is_read_with_from_start)
{
	struct tail_opts o = { .from_start = true };

	appends(P("a.log"), "old1\nold2\n");
	start(&o);
	add(P("a.log"), NULL);
	wait_lines(2);
	appends(P("a.log"), "new\n");
	wait_lines(3);
	ck_line(0, "old1");
	ck_line(1, "old2");
	ck_line(2, "new");
}
END_TEST

START_TEST(line_being_written_at_start_is_delivered_whole)
{
	appends(P("a.log"), "old\nhalf");
	start(NULL);
	add(P("a.log"), NULL);
	appends(P("a.log"), " done\n");
	wait_lines(1);
	ck_line(0, "half done");
}
END_TEST

START_TEST(partial_line_waits_for_its_newline)
{
	appends(P("a.log"), "");
	appends(P("sync.log"), "");
	start(NULL);
	add(P("a.log"), NULL);
	add(P("sync.log"), NULL);
	appends(P("a.log"), "hel");
	appends(P("sync.log"), "marker\n");
	wait_lines(1);
	ck_assert_uint_eq(ngot, 1);
	ck_line(0, "marker");
	appends(P("a.log"), "lo\nwor");
	appends(P("a.log"), "ld\n");
	wait_lines(3);
	ck_line(1, "hello");
	ck_line(2, "world");
}
END_TEST

START_TEST(overlong_line_is_cut_counted_and_next_line_intact)
{
	struct tail_opts o = { .max_line = 100 };
	char buf[300];

	appends(P("a.log"), "");
	start(&o);
	add(P("a.log"), NULL);
	memset(buf, 'x', 250);
	buf[250] = '\n';
	append(P("a.log"), buf, 251);
	appends(P("a.log"), "next\n");
	memset(buf, 'y', 100);              /* exactly max_line: not cut */
	buf[100] = '\n';
	append(P("a.log"), buf, 101);
	wait_lines(3);
	ck_assert_uint_eq(got[0].len, 100);
	ck_assert(got[0].cut);
	ck_assert_int_eq(got[0].line[99], 'x');
	ck_line(1, "next");
	ck_assert(!got[1].cut);
	ck_assert_uint_eq(got[2].len, 100);
	ck_assert(!got[2].cut);
	ck_assert_uint_eq(stats().cut_lines, 1);
	ck_assert_uint_eq(stats().cut_bytes, 150);
}
END_TEST

START_TEST(overlong_line_across_many_reads_is_cut_without_waiting_for_newline)
{
	struct tail_opts o = { .max_line = 1000 };
	size_t big = 1 << 20;
	char *buf = malloc(big);

	appends(P("a.log"), "");
	start(&o);
	add(P("a.log"), NULL);
	memset(buf, 'z', big);
	append(P("a.log"), buf, big);       /* no newline yet */
	wait_lines(1);                      /* cut line comes before its end */
	ck_assert(got[0].cut);
	ck_assert_uint_eq(got[0].len, 1000);
	append(P("a.log"), buf, 5000);
	appends(P("a.log"), "\nafter\n");
	wait_lines(2);
	ck_line(1, "after");
	ck_assert_uint_eq(stats().cut_lines, 1);
	ck_assert_uint_eq(stats().cut_bytes, big + 5000 - 1000);
	free(buf);
}
END_TEST

START_TEST(rename_and_create_rotation_loses_no_line)
{
	appends(P("m.log"), "");
	start(NULL);
	add(P("m.log"), NULL);
	appends(P("m.log"), "old1\nold2\n");
	wait_lines(2);
	ck_assert_int_eq(rename(P("m.log"), P("m.log.1")), 0);
	appends(P("m.log.1"), "old3\n");    /* after the rename, no new file yet */
	wait_lines(3);
	appends(P("m.log"), "new1\n");      /* the new file appears */
	appends(P("m.log.1"), "old4\n");    /* a late writer on the old file */
	appends(P("m.log"), "new2\n");
	appends(P("m.log.1"), "end-old\n");
	appends(P("m.log"), "end\n");
	wait_line("end");
	ck_assert_uint_eq(ngot, 8);
	ck_assert_int_eq(count("end-old"), 1);
	ck_line(0, "old1");
	ck_line(1, "old2");
	ck_line(2, "old3");
	/* per file in order; old4 and new1/new2 may interleave */
	{
		const char *o[8], *n[8];
		int no = 0, nn = 0;
		for (size_t i = 3; i < 8; i++) {
			if (!strncmp(got[i].line, "old", 3))
				o[no++] = got[i].line;
			else if (!strncmp(got[i].line, "new", 3))
				n[nn++] = got[i].line;
		}
		ck_assert_int_eq(no, 1);
		ck_assert_int_eq(nn, 2);
		ck_assert_str_eq(o[0], "old4");
		ck_assert_str_eq(n[0], "new1");
		ck_assert_str_eq(n[1], "new2");
	}
	ck_assert_uint_eq(stats().rotations, 1);
	ck_assert_uint_eq(stats().files, 1);
}
END_TEST

START_TEST(rotation_between_two_reads_loses_no_line)
{
	appends(P("m.log"), "");
	start(NULL);
	add(P("m.log"), NULL);
	appends(P("m.log"), "a\nb\n");
	rename(P("m.log"), P("m.log.1"));
	appends(P("m.log.1"), "c\n");
	appends(P("m.log"), "d\n");
	appends(P("m.log.1"), "e\n");
	appends(P("m.log.1"), "end-old\n");
	appends(P("m.log"), "end\n");
	wait_line("end");
	ck_assert_uint_eq(ngot, 7);
	ck_assert_int_eq(count("end-old"), 1);
	ck_line(0, "a");
	ck_line(1, "b");
	ck_line(2, "c");        /* the old file is read to its end first */
	ck_assert_int_eq(count("d"), 1);
	ck_assert_int_eq(count("e"), 1);
}
END_TEST

START_TEST(rotated_name_matching_the_glob_is_not_read_twice)
{
	appends(P("app.log"), "");
	start(NULL);
	add(P("app.log*"), NULL);
	appends(P("app.log"), "1\n");
	wait_lines(1);
	rename(P("app.log"), P("app.log.1"));
	appends(P("app.log.1"), "2\n");
	appends(P("app.log"), "3\n");
	wait_lines(3);
	appends(P("app.log.1"), "4\n");
	appends(P("app.log"), "5\n");
	appends(P("app.log"), "end\n");
	wait_line("end");
	ck_assert_uint_eq(ngot, 6);
	for (int i = 1; i <= 5; i++) {
		char l[2] = { (char)('0' + i), 0 };
		ck_assert_msg(count(l) == 1, "line %s arrived %d times", l, count(l));
	}
}
END_TEST

START_TEST(rotated_file_overwritten_in_place_is_not_read_again)
{
	int fd;

	appends(P("m.log"), "");
	start(NULL);
	add(P("m.log"), NULL);
	appends(P("m.log"), "old1\nold2\n");
	wait_lines(2);
	ck_assert_int_eq(rename(P("m.log"), P("m.log.1")), 0);
	appends(P("m.log"), "new1\n");
	wait_lines(3);
	/* someone copies the new file over the rotated one (same inode) */
	fd = open(P("m.log.1"), O_WRONLY | O_TRUNC);
	ck_assert_int_ge(fd, 0);
	close(fd);
	appends(P("m.log.1"), "new1\n");
	appends(P("m.log"), "end\n");
	wait_line("end");
	ck_assert_int_eq(count("new1"), 1);
	ck_assert_uint_eq(ngot, 4);
}
END_TEST

/* ---- resuming where an earlier run stopped ---- */

static struct tail_pos saved[8];
static char saved_path[8][PATH_MAX];
static size_t nsaved;

static void save_pos(void *arg, const struct tail_pos *p)
{
	(void)arg;
	ck_assert_uint_lt(nsaved, 8);
	saved[nsaved] = *p;
	snprintf(saved_path[nsaved], PATH_MAX, "%s", p->path);
	saved[nsaved].path = saved_path[nsaved];
	nsaved++;
}

/* Stop the tailer as a daemon stops, keeping its positions. */
static void stop_and_save(void)
{
	nsaved = 0;
	tail_foreach_file(T, save_pos, NULL);
	tail_free(T);
	T = NULL;
}

static void resume(const char *pattern)
{
	char err[256] = "";

	start(NULL);
	ck_assert_msg(tail_add_resume(T, pattern, NULL, saved, nsaved, err, sizeof err) != NULL, "%s", err);
}

START_TEST(resume_goes_on_at_the_saved_offset)
{
	appends(P("m.log"), "before\n");
	start(NULL);
	add(P("m.log"), NULL);
	appends(P("m.log"), "one\ntwo\npart");
	wait_lines(2);
	stop_and_save();
	ck_assert_uint_eq(nsaved, 1);
	ck_assert_uint_eq(saved[0].offset, strlen("before\none\ntwo\n"));
	appends(P("m.log"), "ial\nwhile-down\n");
	resume(P("m.log"));
	appends(P("m.log"), "end\n");
	wait_line("end");
	ck_assert_uint_eq(ngot, 5);
	ck_line(2, "partial");
	ck_line(3, "while-down");
	ck_assert_int_eq(count("one"), 1);
	ck_assert_int_eq(count("before"), 0);
}
END_TEST

START_TEST(resume_reads_the_rest_of_a_file_rotated_while_down_first)
{
	appends(P("m.log"), "");
	start(NULL);
	add(P("m.log"), NULL);
	appends(P("m.log"), "old1\n");
	wait_lines(1);
	stop_and_save();
	appends(P("m.log"), "old2\n");
	ck_assert_int_eq(rename(P("m.log"), P("m.log.1")), 0);
	appends(P("m.log"), "new1\n");
	resume(P("m.log"));
	appends(P("m.log"), "end\n");
	wait_line("end");
	ck_assert_int_eq(count("old1"), 1);
	ck_assert_int_eq(count("old2"), 1);
	ck_assert_int_eq(count("new1"), 1);
	ck_line(1, "old2");
	ck_line(2, "new1");
	ck_assert_uint_eq(ngot, 4);
}
END_TEST

START_TEST(resume_reads_a_reused_or_truncated_file_from_the_start)
{
	int fd;

	appends(P("m.log"), "");
	start(NULL);
	add(P("m.log"), NULL);
	appends(P("m.log"), "aaaa\nbbbb\n");
	wait_lines(2);
	stop_and_save();
	/* the same inode, rewritten with other content of the same size */
	fd = open(P("m.log"), O_WRONLY | O_TRUNC);
	ck_assert_int_ge(fd, 0);
	close(fd);
	appends(P("m.log"), "cccc\ndddd\n");
	resume(P("m.log"));
	appends(P("m.log"), "end\n");
	wait_line("end");
	ck_assert_int_eq(count("cccc"), 1);
	ck_assert_int_eq(count("dddd"), 1);
	ck_assert_uint_eq(ngot, 5);
}
END_TEST

START_TEST(copytruncate_restarts_at_offset_zero)
{
	char buf[4096];
	int fd, cp;
	ssize_t n;

	appends(P("c.log"), "");
	start(NULL);
	add(P("c.log"), NULL);
	fd = open(P("c.log"), O_WRONLY | O_APPEND);
	ck_assert_int_ge(fd, 0);
	for (int i = 0; i < 3; i++) {
		const char *s = "a line long enough to make the file longer than the next\n";
		ck_assert_int_eq(write(fd, s, strlen(s)), (ssize_t)strlen(s));
	}
	wait_lines(3);
	/* logrotate copytruncate: copy, then truncate in place; the writer
	 * keeps its (O_APPEND) descriptor */
	cp = open(P("c.log.1"), O_WRONLY | O_CREAT, 0644);
	{
		int in = open(P("c.log"), O_RDONLY);
		while ((n = read(in, buf, sizeof buf)) > 0)
			ck_assert_int_eq(write(cp, buf, (size_t)n), n);
		close(in);
	}
	close(cp);
	ck_assert_int_eq(ftruncate(fd, 0), 0);
	ck_assert_int_eq(write(fd, "after\n", 6), 6);
	wait_lines(4);
	ck_line(3, "after");
	ck_assert_int_eq(write(fd, "more\n", 5), 5);
	wait_lines(5);
	ck_line(4, "more");
	close(fd);
	ck_assert_uint_eq(stats().truncations, 1);
	ck_assert_uint_eq(stats().rotations, 0);
}
END_TEST

START_TEST(truncation_restarts_at_offset_zero)
{
	int fd;

	appends(P("t.log"), "");
	start(NULL);
	add(P("t.log"), NULL);
	appends(P("t.log"), "first line\nsecond line\n");
	wait_lines(2);
	fd = open(P("t.log"), O_WRONLY | O_TRUNC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "x\n", 2), 2);
	close(fd);
	wait_lines(3);
	ck_line(2, "x");
	ck_assert_uint_eq(stats().truncations, 1);
}
END_TEST

START_TEST(delete_and_recreate_reads_the_new_file)
{
	appends(P("d.log"), "");
	start(NULL);
	add(P("d.log"), NULL);
	appends(P("d.log"), "before\n");
	wait_lines(1);
	ck_assert_int_eq(unlink(P("d.log")), 0);
	appends(P("d.log"), "after1\nafter2\n");
	appends(P("d.log"), "end\n");
	wait_line("end");
	ck_assert_uint_eq(ngot, 4);
	ck_line(1, "after1");
	ck_line(2, "after2");
	ck_assert_uint_eq(stats().rotations, 1);
}
END_TEST

START_TEST(missing_file_is_read_from_start_when_created)
{
	start(NULL);
	add(P("later.log"), NULL);
	ck_assert_uint_eq(stats().files, 0);
	appends(P("later.log"), "first\nsecond\n");
	wait_lines(2);
	ck_line(0, "first");
	ck_line(1, "second");
	ck_assert_uint_eq(stats().files, 1);
}
END_TEST

START_TEST(missing_directory_is_waited_for)
{
	char err[256];

	start(NULL);
	add(P("sub/x.log"), NULL);
	ck_assert_ptr_null(tail_add(T, P("no/such/x.log"), NULL, err, sizeof err));
	ck_assert_ptr_nonnull(strstr(err, "no/such"));
	ck_assert_int_eq(mkdir(P("sub"), 0755), 0);
	appends(P("sub/x.log"), "hello\n");
	wait_lines(1);
	ck_line(0, "hello");
}
END_TEST

START_TEST(directory_that_disappears_is_waited_for_again)
{
	ck_assert_int_eq(mkdir(P("sub"), 0755), 0);
	appends(P("sub/x.log"), "");
	start(NULL);
	add(P("sub/x.log"), NULL);
	appends(P("sub/x.log"), "one\n");
	wait_lines(1);
	ck_assert_int_eq(unlink(P("sub/x.log")), 0);
	ck_assert_int_eq(rmdir(P("sub")), 0);
	ck_assert_int_eq(mkdir(P("sub"), 0755), 0);
	appends(P("sub/x.log"), "two\n");
	wait_lines(2);
	ck_line(1, "two");
}
END_TEST

START_TEST(glob_picks_up_new_matching_files_and_ignores_others)
{
	appends(P("old.log"), "skipped\n");
	start(NULL);
	add(P("*.log"), NULL);
	appends(P("a.log"), "a1\n");
	appends(P("b.txt"), "b1\n");
	appends(P(".hidden.log"), "h1\n");
	appends(P("c.log"), "c1\n");
	appends(P("old.log"), "o1\n");
	wait_lines(3);
	appends(P("a.log"), "a2\n");
	wait_lines(4);
	ck_assert_uint_eq(ngot, 4);
	for (size_t i = 0; i < ngot; i++) {
		ck_assert_msg(got[i].line[0] != 'b' && got[i].line[0] != 'h' && got[i].line[0] != 's',
			      "unexpected line '%s' from '%s'", got[i].line, got[i].path);
		ck_assert_ptr_nonnull(strstr(got[i].path, ".log"));
	}
	ck_line(3, "a2");
	ck_assert_uint_eq(stats().files, 3);
	{
		char err[256];
		ck_assert_ptr_null(tail_add(T, P("*/x.log"), NULL, err, sizeof err));
		ck_assert_ptr_nonnull(strstr(err, "last path component"));
		ck_assert_ptr_null(tail_add(T, dir, NULL, err, sizeof err));
		ck_assert_ptr_nonnull(strstr(err, "is a directory"));
	}
}
END_TEST

START_TEST(nul_bytes_and_binary_survive)
{
	static const char bin[] = "a\0b\xff\x01\x80\n\0\n\n";

	appends(P("b.log"), "");
	start(NULL);
	add(P("b.log"), NULL);
	append(P("b.log"), bin, sizeof bin - 1);
	wait_lines(3);
	ck_assert_uint_eq(got[0].len, 6);
	ck_assert(!memcmp(got[0].line, "a\0b\xff\x01\x80", 6));
	ck_assert_uint_eq(got[1].len, 1);
	ck_assert_int_eq(got[1].line[0], '\0');
	ck_assert_uint_eq(got[2].len, 0);
}
END_TEST

START_TEST(tail_remove_stops_delivery)
{
	struct tail_watch *wa;

	appends(P("a.log"), "");
	appends(P("b.log"), "");
	start(NULL);
	wa = add(P("a.log"), NULL);
	add(P("b.log"), NULL);
	ck_assert_str_eq(tail_watch_pattern(wa), P("a.log"));
	appends(P("a.log"), "a1\n");
	wait_lines(1);
	tail_remove(T, wa);
	appends(P("a.log"), "a2\n");
	appends(P("b.log"), "b1\n");
	wait_lines(2);
	ck_assert_uint_eq(ngot, 2);
	ck_line(1, "b1");
	ck_assert_uint_eq(stats().files, 1);
}
END_TEST

START_TEST(tail_remove_from_the_callback_stops_delivery_at_once)
{
	appends(P("a.log"), "");
	appends(P("b.log"), "");
	start(NULL);
	remove_w = add(P("a.log"), NULL);
	add(P("b.log"), NULL);
	remove_on = "stop";
	appends(P("a.log"), "one\nstop\nnever\n");
	appends(P("b.log"), "b1\n");
	wait_lines(3);
	appends(P("a.log"), "never again\n");
	appends(P("b.log"), "b2\n");
	wait_lines(4);
	ck_assert_uint_eq(ngot, 4);
	ck_line(0, "one");
	ck_line(1, "stop");
	ck_line(2, "b1");
	ck_line(3, "b2");
}
END_TEST

START_TEST(queue_overflow_rescans_and_finds_what_was_missed)
{
	FILE *fp = fopen("/proc/sys/fs/inotify/max_queued_events", "r");
	long max = 0;
	char name[64];

	if (fp) {
		if (fscanf(fp, "%ld", &max) != 1)
			max = 0;
		fclose(fp);
	}
	if (max <= 0 || max > 200000)
		return;         /* cannot overflow the queue cheaply here */
	start(NULL);
	add(P("*.log"), NULL);
	/* more events than the queue holds, while the loop does not run */
	for (long i = 0; i <= max; i++) {
		snprintf(name, sizeof name, "noise%06ld.txt", i);
		int fd = open(P(name), O_WRONLY | O_CREAT, 0644);
		ck_assert_int_ge(fd, 0);
		close(fd);
	}
	appends(P("late.log"), "found\n");
	wait_line("found");
	ck_assert_uint_ge(stats().overflows, 1);
	ck_assert_int_eq(count("found"), 1);
}
END_TEST

START_TEST(directory_and_parent_gone_then_back_after_rescan)
{
	ck_assert_int_eq(mkdir(P("p"), 0755), 0);
	appends(P("sync.log"), "");
	start(NULL);
	add(P("p/q/x.log"), NULL);          /* waits for q in p */
	add(P("sync.log"), NULL);
	appends(P("sync.log"), "s0\n");
	wait_line("s0");                    /* nothing left from tail_add */
	ck_assert_int_eq(rmdir(P("p")), 0);  /* p goes too: dormant */
	appends(P("sync.log"), "s1\n");
	wait_line("s1");                    /* the rmdir was handled, no crash */
	ck_assert_int_eq(mkdir(P("p"), 0755), 0);
	ck_assert_int_eq(mkdir(P("p/q"), 0755), 0);
	appends(P("p/q/x.log"), "back\n");
	tail_rescan(T);
	wait_line("back");
	appends(P("p/q/x.log"), "more\n");
	wait_line("more");
}
END_TEST

START_TEST(rotated_file_is_closed_after_rotate_wait_with_its_last_partial_line)
{
	struct tail_opts o = { .rotate_wait_ms = 50 };

	appends(P("r.log"), "");
	start(&o);
	add(P("r.log"), NULL);
	appends(P("r.log"), "a\nunfinished");
	rename(P("r.log"), P("r.log.1"));
	appends(P("r.log"), "b\n");
	wait_line("unfinished");            /* delivered when the old file is closed */
	ck_assert_int_eq(count("a"), 1);
	ck_assert_int_eq(count("b"), 1);
	ck_assert_uint_eq(stats().files, 1);
	appends(P("r.log.1"), "too late\n");
	appends(P("r.log"), "end\n");
	wait_line("end");
	ck_assert_int_eq(count("too late"), 0);
}
END_TEST

struct posrec {
	uint64_t off, ino;
	int n;
};

static void pos_cb(void *arg, const struct tail_pos *pos)
{
	struct posrec *p = arg;

	if (strstr(pos->path, "/a.log")) {
		p->off = pos->offset;
		p->ino = pos->ino;
		p->n++;
	}
}

START_TEST(positions_are_reported_without_the_partial_line)
{
	struct posrec p = { 0, 0, 0 };
	struct stat st;

	appends(P("a.log"), "skipped\n");
	appends(P("sync.log"), "");
	start(NULL);
	add(P("a.log"), NULL);
	add(P("sync.log"), NULL);
	appends(P("a.log"), "12345\n67");
	appends(P("sync.log"), "s\n");
	wait_lines(2);
	tail_foreach_file(T, pos_cb, &p);
	ck_assert_int_eq(stat(P("a.log"), &st), 0);
	ck_assert_int_eq(p.n, 1);
	ck_assert_uint_eq(p.ino, (uint64_t)st.st_ino);
	ck_assert_uint_eq(p.off, 8 + 6);    /* "67" is not delivered yet */
}
END_TEST

/* The writer runs in the loop too, a random chunk per 0 ms timer, so
 * reading and writing interleave at random points of lines. */
enum { STRESS_LINES = 100000 };
static char *stress_buf;
static size_t stress_len, stress_done;
static unsigned stress_seed = 12345;

static void stress_write(struct loop *l, void *arg)
{
	size_t left = stress_len - stress_done;
	size_t n = 1 + (size_t)rand_r(&stress_seed) % (rand_r(&stress_seed) % 20 ? 3000 : 400000);

	if (n > left)
		n = left;
	append(P("s.log"), stress_buf + stress_done, n);
	stress_done += n;
	if (stress_done < stress_len)
		loop_add_timer(l, 0, stress_write, NULL);
}

START_TEST(stress_100k_lines_in_random_chunks_arrive_once_in_order)
{
	char want_line[32];
	size_t cap = (size_t)STRESS_LINES * 24;

	stress_buf = malloc(cap);
	stress_len = stress_done = 0;
	for (int i = 0; i < STRESS_LINES; i++)
		stress_len += (size_t)snprintf(stress_buf + stress_len, cap - stress_len,
					       "line %06d %.*s\n", i, i % 11, "abcdefghijk");
	appends(P("s.log"), "");
	start(NULL);
	add(P("s.log"), NULL);
	loop_add_timer(L, 0, stress_write, NULL);
	wait_lines(STRESS_LINES);
	/* a marker proves nothing more was pending */
	while (stress_done < stress_len) {
		size_t n = stress_len - stress_done;
		append(P("s.log"), stress_buf + stress_done, n);
		stress_done += n;
	}
	appends(P("s.log"), "end\n");
	wait_lines(STRESS_LINES + 1);
	ck_assert_uint_eq(ngot, STRESS_LINES + 1);
	for (int i = 0; i < STRESS_LINES; i++) {
		int n = snprintf(want_line, sizeof want_line, "line %06d %.*s", i, i % 11, "abcdefghijk");
		ck_assert_msg(got[i].len == (size_t)n && !memcmp(got[i].line, want_line, (size_t)n),
			      "line %d: got '%s'", i, got[i].line);
	}
	ck_line(STRESS_LINES, "end");
	ck_assert_uint_eq(stats().bytes, stress_len + 4);
	ck_assert_uint_eq(stats().cut_lines, 0);
	free(stress_buf);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("tail");
	TCase *tc = tcase_create("tail");
	SRunner *sr;
	int nf;

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, appended_lines_are_delivered);
	tcase_add_test(tc, existing_content_is_skipped_at_start);
	tcase_add_test(tc, existing_content_is_read_with_from_start);
	tcase_add_test(tc, line_being_written_at_start_is_delivered_whole);
	tcase_add_test(tc, partial_line_waits_for_its_newline);
	tcase_add_test(tc, overlong_line_is_cut_counted_and_next_line_intact);
	tcase_add_test(tc, overlong_line_across_many_reads_is_cut_without_waiting_for_newline);
	tcase_add_test(tc, rename_and_create_rotation_loses_no_line);
	tcase_add_test(tc, rotation_between_two_reads_loses_no_line);
	tcase_add_test(tc, rotated_name_matching_the_glob_is_not_read_twice);
	tcase_add_test(tc, rotated_file_overwritten_in_place_is_not_read_again);
	tcase_add_test(tc, resume_goes_on_at_the_saved_offset);
	tcase_add_test(tc, resume_reads_the_rest_of_a_file_rotated_while_down_first);
	tcase_add_test(tc, resume_reads_a_reused_or_truncated_file_from_the_start);
	tcase_add_test(tc, copytruncate_restarts_at_offset_zero);
	tcase_add_test(tc, truncation_restarts_at_offset_zero);
	tcase_add_test(tc, delete_and_recreate_reads_the_new_file);
	tcase_add_test(tc, missing_file_is_read_from_start_when_created);
	tcase_add_test(tc, missing_directory_is_waited_for);
	tcase_add_test(tc, directory_that_disappears_is_waited_for_again);
	tcase_add_test(tc, glob_picks_up_new_matching_files_and_ignores_others);
	tcase_add_test(tc, nul_bytes_and_binary_survive);
	tcase_add_test(tc, tail_remove_stops_delivery);
	tcase_add_test(tc, tail_remove_from_the_callback_stops_delivery_at_once);
	tcase_add_test(tc, positions_are_reported_without_the_partial_line);
	tcase_add_test(tc, queue_overflow_rescans_and_finds_what_was_missed);
	tcase_add_test(tc, directory_and_parent_gone_then_back_after_rescan);
	tcase_add_test(tc, rotated_file_is_closed_after_rotate_wait_with_its_last_partial_line);
	tcase_add_test(tc, stress_100k_lines_in_random_chunks_arrive_once_in_order);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? EXIT_FAILURE : EXIT_SUCCESS;
}
