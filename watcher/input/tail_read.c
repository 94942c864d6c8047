// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tail_read - reading a followed file from its offset and handing what was
 * read to the file's line splitter (linesplit.c: a partial last line waits
 * for its newline, an overlong one is cut at max_line), whose lines go to
 * the callback; a file that shrank is read again from the start.
 *
 * Owns: nothing of its own; it reads through the tailer's shared read
 * buffer into each file's splitter.
 *
 * Must never: block (every fd is non-blocking and reads are bounded per
 * turn), hold more than max_line bytes of any line, or read one file from
 * within a callback for another (the read buffer is shared).
 */
#include "tail_int.h"
#include "log.h"
#include "xalloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A line of f for the callback; false once the callback removed f's
 * watch: the splitter stops, and nothing touches the watch again. */
static bool deliver(void *arg, const char *line, size_t len, bool cut)
{
	struct tfile *f = arg;

	f->w->t->fn(f->w->cookie, f->path, line, len, cut);
	return !f->w->removed;
}

/* Deliver a buffered partial line: the file will not complete it. */
void tail_flush_partial(struct tail *t, struct tfile *f)
{
	linesplit_flush(&f->split, deliver, f);
}

/* Read f from its offset, at most about budget bytes. true: end of file
 * reached. Otherwise f stays pending and a kick is scheduled (unless the
 * watch was removed). */
bool tail_read_file(struct tail *t, struct tfile *f, size_t budget)
{
	struct stat st;
	size_t done = 0;

	if (f->fd < 0 || f->w->removed || f->spent)
		return true;
	if (fstat(f->fd, &st) == 0 && (uint64_t)st.st_size < f->off && f->retired) {
		/* A rotated-away file that shrinks is being reused (copied over,
		 * or truncated by a second rotation): what it holds now is not
		 * the rest of what we read, so stop here rather than read its
		 * lines a second time. */
		log_info("rotated '%s' was truncated; no longer reading it", f->path);
		tail_flush_partial(t, f);
		f->spent = true;
		return true;
	}
	if (fstat(f->fd, &st) == 0 && (uint64_t)st.st_size < f->off) {
		t->st.truncations++;
		log_info("'%s' was truncated; reading it from the start", f->path);
		tail_flush_partial(t, f);
		if (f->w->removed)
			return true;
		f->off = 0;
	}
	while (done < budget) {
		ssize_t n = pread(f->fd, t->chunk, CHUNK, (off_t)f->off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				log_warn("cannot read '%s'", f->path);
			return true;
		}
		if (n == 0)
			return true;
		f->off += (uint64_t)n;
		t->st.bytes += (uint64_t)n;
		done += (size_t)n;
		if (!linesplit_feed(&f->split, t->chunk, (size_t)n, deliver, f))
			return true;
	}
	f->pending = true;
	tail_schedule_kick(t);
	return false;
}

/* Where to start in a file that existed at start: after its last newline,
 * so that a line being written is delivered whole; past a partial line
 * longer than a chunk, at the end, skipping the rest of that line. */
void tail_start_at_end(struct tail *t, struct tfile *f, uint64_t size)
{
	size_t n = size < CHUNK ? (size_t)size : CHUNK;
	char *buf;
	ssize_t got;
	const char *nl;

	f->off = size;
	if (!size)
		return;
	buf = xmalloc(n);
	got = pread(f->fd, buf, n, (off_t)(size - n));
	if (got == (ssize_t)n && (nl = memrchr(buf, '\n', n)))
		f->off = size - n + (uint64_t)(nl - buf) + 1;
	else if (got == (ssize_t)n && size <= CHUNK)
		f->off = 0;
	else
		linesplit_skip(&f->split);
	free(buf);
}
