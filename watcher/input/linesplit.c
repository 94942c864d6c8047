// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * linesplit - cut a stream of bytes into lines, bounded (see linesplit.h).
 * A line that lies whole in the piece fed is delivered in place, without a
 * copy; only a line split across pieces goes through the buffer.
 *
 * Owns: the partial line buffer.
 *
 * Must never: hold more than max_line bytes of a line, or touch the buffer
 * or the counters after a callback said stop.
 */
#include "linesplit.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

void linesplit_init(struct linesplit *ls, size_t max_line, struct linesplit_stats *st)
{
	*ls = (struct linesplit){ .max_line = max_line, .mode = LINESPLIT_KEEP, .st = st };
}

void linesplit_release(struct linesplit *ls)
{
	free(ls->buf);
	ls->buf = NULL;
	ls->len = 0;
	ls->mode = LINESPLIT_KEEP;
}

static bool deliver(struct linesplit *ls, const char *line, size_t len, bool cut, linesplit_fn *fn, void *arg)
{
	ls->st->lines++;
	if (cut)
		ls->st->cut_lines++;
	return fn(arg, line, len, cut);
}

/* Add seg bytes to the kept line, no more than fit in max_line. true if
 * some did not fit: those are counted as cut and dropped. */
static bool keep(struct linesplit *ls, const char *p, size_t seg)
{
	size_t room = ls->max_line - ls->len;

	if (!ls->buf)
		ls->buf = xmalloc(ls->max_line + 1);
	if (seg <= room) {
		memcpy(ls->buf + ls->len, p, seg);
		ls->len += seg;
		return false;
	}
	memcpy(ls->buf + ls->len, p, room);
	ls->len = ls->max_line;
	ls->st->cut_bytes += seg - room;
	return true;
}

/* Deliver the kept line; the buffer is empty again before the callback runs. */
static bool deliver_kept(struct linesplit *ls, bool cut, linesplit_fn *fn, void *arg)
{
	size_t len = ls->len;

	ls->len = 0;
	ls->buf[len] = '\0';
	return deliver(ls, ls->buf, len, cut, fn, arg);
}

bool linesplit_feed(struct linesplit *ls, char *p, size_t n, linesplit_fn *fn, void *arg)
{
	char *end = p + n;

	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t seg = (size_t)((nl ? nl : end) - p);
		bool go = true;

		if (ls->mode != LINESPLIT_KEEP) {
			if (ls->mode == LINESPLIT_CUT)
				ls->st->cut_bytes += seg;
			if (!nl)
				return true;
			ls->mode = LINESPLIT_KEEP;      /* the newline ends the discarded line */
		} else if (!nl) {
			if (!keep(ls, p, seg))
				return true;            /* wait for the rest of the line */
			ls->mode = LINESPLIT_CUT;       /* too long already: out now, drop the rest */
			return deliver_kept(ls, true, fn, arg);
		} else if (ls->len == 0 && seg <= ls->max_line) {
			*nl = '\0';
			go = deliver(ls, p, seg, false, fn, arg);
		} else {
			bool cut = keep(ls, p, seg);    /* the newline ends it: nothing left to drop */
			go = deliver_kept(ls, cut, fn, arg);
		}
		if (!go)
			return false;
		p = nl + 1;
	}
	return true;
}

bool linesplit_flush(struct linesplit *ls, linesplit_fn *fn, void *arg)
{
	if (ls->len && ls->mode == LINESPLIT_KEEP)
		return deliver_kept(ls, false, fn, arg);
	ls->len = 0;
	ls->mode = LINESPLIT_KEEP;
	return true;
}

void linesplit_skip(struct linesplit *ls)
{
	ls->mode = LINESPLIT_SKIP;
}

size_t linesplit_pending(const struct linesplit *ls)
{
	return ls->len;
}
