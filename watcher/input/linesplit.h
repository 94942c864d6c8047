/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * linesplit - cut a stream of bytes into lines, bounded: the one line
 * splitter of the file tailer and of "mailscreen match".
 *
 * Bytes arrive in pieces of any size (linesplit_feed). Every complete line
 * goes to the callback without its newline; a line split across pieces is
 * kept (at most max_line bytes) until its newline arrives. A line longer
 * than max_line goes out once, as its first max_line bytes with cut set,
 * as soon as it is known to be too long; the rest of it, up to and
 * including the next newline, is discarded and counted. linesplit_flush
 * hands over a kept partial line when the input will not complete it.
 *
 * Owns: the partial line buffer (max_line + 1 bytes, allocated when first
 * needed). The counters belong to the caller, who may share them between
 * splitters.
 *
 * Must never: hold more than max_line bytes of a line, deliver any part of
 * a line twice, or touch its buffer after a callback said stop.
 */
#ifndef MS_LINESPLIT_H
#define MS_LINESPLIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct linesplit_stats {
	uint64_t lines;         /* handed to the callback, cut ones included */
	uint64_t cut_lines;     /* longer than max_line */
	uint64_t cut_bytes;     /* discarded from those lines */
};

/* One line: line[len] is '\0' (a NUL inside the line is possible; len is
 * the truth). cut: the line was longer than max_line and this is its
 * first max_line bytes. Return false to stop: the feed (or flush) returns
 * at once and the splitter is not to be fed again. */
typedef bool linesplit_fn(void *arg, const char *line, size_t len, bool cut);

/* Private to linesplit.c; in the header so that a splitter can be a member. */
enum linesplit_mode {
	LINESPLIT_KEEP,         /* collecting a line */
	LINESPLIT_CUT,          /* discarding the rest of a cut line, counted */
	LINESPLIT_SKIP,         /* discarding up to the next newline, uncounted */
};

struct linesplit {
	char *buf;              /* the partial line, NULL until needed */
	size_t len;             /* bytes kept in buf */
	size_t max_line;
	enum linesplit_mode mode;
	struct linesplit_stats *st;
};

/* max_line > 0; st is where this splitter counts (the caller's). */
void linesplit_init(struct linesplit *ls, size_t max_line, struct linesplit_stats *st);
void linesplit_release(struct linesplit *ls);

/* Split p[0..n): p is written to (each newline of a line delivered in
 * place becomes its '\0'). false if the callback said stop. */
bool linesplit_feed(struct linesplit *ls, char *p, size_t n, linesplit_fn *fn, void *arg);
/* The input ends here (for now): hand over a kept partial line and start
 * afresh with the next byte. false if the callback said stop. */
bool linesplit_flush(struct linesplit *ls, linesplit_fn *fn, void *arg);
/* Discard everything up to and including the next newline, uncounted:
 * the input starts in the middle of a line. */
void linesplit_skip(struct linesplit *ls);
/* Bytes kept of a line not yet complete (not yet delivered). */
size_t linesplit_pending(const struct linesplit *ls);

#endif
