// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests for linesplit.c: lines that arrive in pieces, overlong lines
 * cut once, the newline that ends a cut line, the partial line flushed at
 * the end, lines of exactly max_line bytes, a start in mid-line, a
 * callback that stops, and random input in random pieces against a
 * plain model of what the splitter must deliver.
 */
#include "linesplit.h"

#include "unit.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

#define MAX 8

struct got {
	char line[64];
	size_t len;
	bool cut;
};

static struct got got[4096];
static size_t ngot;
static size_t stop_after;       /* 0: never say stop */

static bool on_line(void *arg, const char *line, size_t len, bool cut)
{
	(void)arg;
	ck_assert_msg(line[len] == '\0', "line not NUL-terminated");
	ck_assert_uint_lt(ngot, sizeof got / sizeof got[0]);
	ck_assert_uint_lt(len, sizeof got[0].line);
	memcpy(got[ngot].line, line, len);
	got[ngot].line[len] = '\0';
	got[ngot].len = len;
	got[ngot].cut = cut;
	ngot++;
	return !(stop_after && ngot == stop_after);
}

static struct linesplit ls;
static struct linesplit_stats st;

static void setup(void)
{
	ngot = 0;
	stop_after = 0;
	memset(&st, 0, sizeof st);
	linesplit_init(&ls, MAX, &st);
}

static void teardown(void)
{
	linesplit_release(&ls);
}

/* Start again within a test, with lines of at most max bytes. */
static void reset(size_t max)
{
	teardown();
	setup();
	linesplit_init(&ls, max, &st);
}

/* Feed a string (copied: the splitter writes to what it is fed). */
static bool feed(const char *s)
{
	size_t n = strlen(s);
	char *p = malloc(n + 1);
	bool go;

	ck_assert_ptr_nonnull(p);
	memcpy(p, s, n + 1);
	go = linesplit_feed(&ls, p, n, on_line, NULL);
	free(p);
	return go;
}

static void expect(size_t i, const char *line, bool cut)
{
	ck_assert_uint_lt(i, ngot);
	ck_assert_str_eq(got[i].line, line);
	ck_assert_uint_eq(got[i].len, strlen(line));
	ck_assert_int_eq(got[i].cut, cut);
}

START_TEST(whole_lines_are_delivered_without_their_newline)
{
	ck_assert(feed("one\ntwo\n\nthree\n"));
	ck_assert_uint_eq(ngot, 4);
	expect(0, "one", false);
	expect(1, "two", false);
	expect(2, "", false);
	expect(3, "three", false);
	ck_assert_uint_eq(st.lines, 4);
	ck_assert_uint_eq(st.cut_lines, 0);
	ck_assert_uint_eq(linesplit_pending(&ls), 0);
}
END_TEST

START_TEST(a_line_across_feeds_waits_for_its_newline)
{
	ck_assert(feed("ab"));
	ck_assert(feed("cd"));
	ck_assert_uint_eq(ngot, 0);
	ck_assert_uint_eq(linesplit_pending(&ls), 4);
	ck_assert(feed("e\nfg"));
	ck_assert_uint_eq(ngot, 1);
	expect(0, "abcde", false);
	ck_assert_uint_eq(linesplit_pending(&ls), 2);
	ck_assert(feed("\n"));
	expect(1, "fg", false);
	ck_assert_uint_eq(linesplit_pending(&ls), 0);
	ck_assert_uint_eq(st.lines, 2);
}
END_TEST

START_TEST(an_overlong_line_is_cut_once_and_its_rest_counted)
{
	/* 20 bytes in three pieces, no newline yet: out as soon as too long */
	ck_assert(feed("0123456"));
	ck_assert_uint_eq(ngot, 0);
	ck_assert(feed("789abc"));
	ck_assert_uint_eq(ngot, 1);
	expect(0, "01234567", true);
	ck_assert_uint_eq(linesplit_pending(&ls), 0);
	ck_assert(feed("defghij"));
	ck_assert_uint_eq(ngot, 1);
	ck_assert(feed("\nnext\n"));
	ck_assert_uint_eq(ngot, 2);
	expect(1, "next", false);
	ck_assert_uint_eq(st.lines, 2);
	ck_assert_uint_eq(st.cut_lines, 1);
	ck_assert_uint_eq(st.cut_bytes, 20 - MAX);
}
END_TEST

START_TEST(an_overlong_line_in_one_feed_is_cut_and_ended_by_its_newline)
{
	ck_assert(feed("short\n0123456789abcdef\nafter\n"));
	ck_assert_uint_eq(ngot, 3);
	expect(0, "short", false);
	expect(1, "01234567", true);
	expect(2, "after", false);
	ck_assert_uint_eq(st.cut_lines, 1);
	ck_assert_uint_eq(st.cut_bytes, 16 - MAX);
}
END_TEST

START_TEST(a_newline_right_after_the_cut_ends_the_cut_line)
{
	/* the partial line is 5 bytes; 6 more overflow it; the newline that
	 * follows in the next feed ends the cut line, delivering nothing */
	ck_assert(feed("01234"));
	ck_assert(feed("56789a"));
	ck_assert_uint_eq(ngot, 1);
	expect(0, "01234567", true);
	ck_assert(feed("\n"));
	ck_assert_uint_eq(ngot, 1);
	ck_assert(feed("x\n"));
	ck_assert_uint_eq(ngot, 2);
	expect(1, "x", false);
	ck_assert_uint_eq(st.cut_bytes, 3);
}
END_TEST

START_TEST(flush_delivers_a_partial_line_once)
{
	ck_assert(feed("a\nlast"));
	ck_assert_uint_eq(ngot, 1);
	ck_assert(linesplit_flush(&ls, on_line, NULL));
	ck_assert_uint_eq(ngot, 2);
	expect(1, "last", false);
	ck_assert_uint_eq(linesplit_pending(&ls), 0);
	ck_assert(linesplit_flush(&ls, on_line, NULL));
	ck_assert_uint_eq(ngot, 2);
	/* and the next byte starts a new line */
	ck_assert(feed("new\n"));
	expect(2, "new", false);
	ck_assert_uint_eq(st.lines, 3);
}
END_TEST

START_TEST(flush_after_a_cut_delivers_nothing_and_ends_the_discard)
{
	ck_assert(feed("0123456789"));
	ck_assert_uint_eq(ngot, 1);
	ck_assert(linesplit_flush(&ls, on_line, NULL));
	ck_assert_uint_eq(ngot, 1);
	ck_assert(feed("kept\n"));
	ck_assert_uint_eq(ngot, 2);
	expect(1, "kept", false);
	ck_assert_uint_eq(st.cut_bytes, 2);
}
END_TEST

START_TEST(flush_of_nothing_delivers_nothing)
{
	ck_assert(linesplit_flush(&ls, on_line, NULL));
	ck_assert(feed("x\n"));
	ck_assert(linesplit_flush(&ls, on_line, NULL));
	ck_assert_uint_eq(ngot, 1);
}
END_TEST

START_TEST(exactly_max_line_is_not_cut)
{
	ck_assert(feed("01234567\n"));                 /* whole, in place */
	ck_assert(feed("abcd"));                        /* across feeds */
	ck_assert(feed("efgh"));
	ck_assert_uint_eq(linesplit_pending(&ls), MAX);
	ck_assert(feed("\n"));
	ck_assert(feed("ABCDEFGH"));                    /* by flush */
	ck_assert(linesplit_flush(&ls, on_line, NULL));
	ck_assert_uint_eq(ngot, 3);
	expect(0, "01234567", false);
	expect(1, "abcdefgh", false);
	expect(2, "ABCDEFGH", false);
	ck_assert_uint_eq(st.cut_lines, 0);
	ck_assert_uint_eq(st.cut_bytes, 0);
}
END_TEST

START_TEST(one_byte_past_max_line_is_cut)
{
	ck_assert(feed("012345678\n"));                /* whole */
	ck_assert(feed("abcdefgh"));                    /* full partial line ... */
	ck_assert_uint_eq(ngot, 1);
	ck_assert(feed("i"));                           /* ... one more byte */
	ck_assert_uint_eq(ngot, 2);
	ck_assert(feed("\n"));
	expect(0, "01234567", true);
	expect(1, "abcdefgh", true);
	ck_assert_uint_eq(st.cut_lines, 2);
	ck_assert_uint_eq(st.cut_bytes, 2);
}
END_TEST

START_TEST(skip_discards_up_to_the_newline_uncounted)
{
	linesplit_skip(&ls);
	ck_assert(feed("middle of a "));
	ck_assert(feed("line\nwhole\n"));
	ck_assert_uint_eq(ngot, 1);
	expect(0, "whole", false);
	ck_assert_uint_eq(st.cut_bytes, 0);
	ck_assert_uint_eq(st.lines, 1);
}
END_TEST

START_TEST(a_callback_that_says_stop_stops_the_feed)
{
	stop_after = 2;
	ck_assert(!feed("a\nb\nc\n"));
	ck_assert_uint_eq(ngot, 2);
	/* also when the stop comes from a cut line or a flushed one */
	reset(MAX);
	stop_after = 1;
	ck_assert(!feed("0123456789\nz\n"));
	ck_assert_uint_eq(ngot, 1);
	reset(MAX);
	stop_after = 1;
	ck_assert(feed("part"));
	ck_assert(!linesplit_flush(&ls, on_line, NULL));
	ck_assert_uint_eq(ngot, 1);
}
END_TEST

/* What the splitter must deliver for the whole input at once, then a flush. */
struct want {
	struct got lines[4096];
	size_t n;
	uint64_t cut_lines, cut_bytes;
};

static void model(const char *in, size_t n, size_t max, struct want *w)
{
	size_t start = 0;

	w->n = 0;
	w->cut_lines = w->cut_bytes = 0;
	while (start < n) {
		const char *nl = memchr(in + start, '\n', n - start);
		size_t len = nl ? (size_t)(nl - (in + start)) : n - start;
		struct got *g = &w->lines[w->n++];

		g->cut = len > max;
		g->len = g->cut ? max : len;
		memcpy(g->line, in + start, g->len);
		g->line[g->len] = '\0';
		if (g->cut) {
			w->cut_lines++;
			w->cut_bytes += len - max;
		}
		start += len + (nl != NULL);
	}
}

START_TEST(random_pieces_give_the_lines_of_the_whole)
{
	static struct want w;
	char in[2048], copy[2048];

	srandom(1234);
	for (int round = 0; round < 2000; round++) {
		size_t n = (size_t)random() % sizeof in, max = 1 + (size_t)random() % 40, off = 0;

		for (size_t i = 0; i < n; i++)          /* short lines, some overlong */
			in[i] = random() % (int)(2 + max / 2) ? (char)('a' + random() % 26) : '\n';
		model(in, n, max, &w);
		reset(max);
		memcpy(copy, in, n);
		while (off < n) {
			size_t k = 1 + (size_t)random() % (random() % 2 ? 3 : 200);
			if (k > n - off)
				k = n - off;
			ck_assert(linesplit_feed(&ls, copy + off, k, on_line, NULL));
			off += k;
		}
		ck_assert(linesplit_flush(&ls, on_line, NULL));
		ck_assert_uint_eq(ngot, w.n);
		for (size_t i = 0; i < ngot; i++) {
			ck_assert_uint_eq(got[i].len, w.lines[i].len);
			ck_assert_int_eq(got[i].cut, w.lines[i].cut);
			ck_assert_int_eq(memcmp(got[i].line, w.lines[i].line, got[i].len), 0);
		}
		ck_assert_uint_eq(st.lines, w.n);
		ck_assert_uint_eq(st.cut_lines, w.cut_lines);
		ck_assert_uint_eq(st.cut_bytes, w.cut_bytes);
	}
}
END_TEST

START_TEST(splitters_may_share_their_counters)
{
	struct linesplit other;

	linesplit_init(&other, MAX, &st);
	ck_assert(feed("a\n0123456789\n"));
	{
		char s[] = "b\nc";
		ck_assert(linesplit_feed(&other, s, strlen(s), on_line, NULL));
	}
	ck_assert_uint_eq(st.lines, 3);
	ck_assert_uint_eq(st.cut_lines, 1);
	ck_assert_uint_eq(st.cut_bytes, 2);
	ck_assert_uint_eq(linesplit_pending(&other), 1);
	linesplit_release(&other);
}
END_TEST

int main(void)
{
	TCase *tc = tcase_create("linesplit");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, whole_lines_are_delivered_without_their_newline);
	tcase_add_test(tc, a_line_across_feeds_waits_for_its_newline);
	tcase_add_test(tc, an_overlong_line_is_cut_once_and_its_rest_counted);
	tcase_add_test(tc, an_overlong_line_in_one_feed_is_cut_and_ended_by_its_newline);
	tcase_add_test(tc, a_newline_right_after_the_cut_ends_the_cut_line);
	tcase_add_test(tc, flush_delivers_a_partial_line_once);
	tcase_add_test(tc, flush_after_a_cut_delivers_nothing_and_ends_the_discard);
	tcase_add_test(tc, flush_of_nothing_delivers_nothing);
	tcase_add_test(tc, exactly_max_line_is_not_cut);
	tcase_add_test(tc, one_byte_past_max_line_is_cut);
	tcase_add_test(tc, skip_discards_up_to_the_newline_uncounted);
	tcase_add_test(tc, a_callback_that_says_stop_stops_the_feed);
	tcase_add_test(tc, random_pieces_give_the_lines_of_the_whole);
	tcase_add_test(tc, splitters_may_share_their_counters);
	return ut_run("linesplit", tc);
}
