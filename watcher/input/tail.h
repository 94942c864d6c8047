/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tail - follow log files with inotify, never polling.
 *
 * One inotify instance serves every watched file. A watch is a path or a
 * glob (wildcards in the last component only). For each file the tailer
 * follows appends; survives rename-and-create rotation (the old file is
 * read to its end before switching), copytruncate and truncation (reading
 * restarts at offset 0), delete-and-recreate; waits for a file (or
 * directory entry) that does not exist yet; buffers a partial last line
 * until its newline arrives; cuts lines longer than max_line (the first
 * max_line bytes are delivered, the rest up to the newline is discarded
 * and counted). A new file found at start is read from its end unless
 * from_start; a file that appears later is read from its beginning.
 *
 * After a rename or delete, the old file stays open for rotate_wait_ms and
 * whatever is still appended to it is delivered; then its unfinished last
 * line (if any) is delivered and it is closed. Per file, reading stops after
 * a bounded amount per loop turn and goes on in the next turn, so one busy
 * file never starves the loop. The line callback may call tail_remove() (on
 * any watch) but not tail_free().
 */
#ifndef MS_TAIL_H
#define MS_TAIL_H

#include "loop.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct tail;
struct tail_watch;

/* A complete line (without its newline), from the file at path, for the
 * watch registered with cookie. line[len] is '\0' (a NUL inside the line
 * is possible; len is the truth). cut: the line was longer than max_line. */
typedef void tail_line_fn(void *cookie, const char *path, const char *line, size_t len, bool cut);

struct tail_opts {
	size_t max_line;        /* 0 = default 16384 */
	bool from_start;        /* read existing content at start */
	unsigned rotate_wait_ms; /* keep reading a rotated file; 0 = default 10000 */
};

struct tail_stats {
	uint64_t lines, bytes, cut_lines, rotations, truncations, files;
	uint64_t cut_bytes;     /* bytes discarded from overlong lines */
	uint64_t overflows;     /* inotify queue overflows (each forced a rescan) */
};

/* The position of one open file, for persisting. offset is where the
 * first byte not yet delivered starts (a buffered partial line is not
 * counted as read). retired: the path no longer names this file (it was
 * rotated away and is read until rotate_wait_ms runs out). */
struct tail_pos {
	const char *path;
	void *cookie;
	uint64_t dev, ino, offset;
	uint64_t size;          /* the file's size now: size - offset is the lag */
	uint64_t fp;            /* fingerprint of the file's first fp_len bytes */
	uint32_t fp_len;        /* (at most TAIL_FP_LEN): tells a reused inode apart */
	bool retired;
};
#define TAIL_FP_LEN 256
typedef void tail_pos_fn(void *arg, const struct tail_pos *pos);

struct tail *tail_new(struct loop *l, const struct tail_opts *opts, tail_line_fn *fn);
void tail_free(struct tail *t);
/* Start watching pattern. NULL with a message in err on failure (bad
 * pattern, directory missing is NOT a failure: it is waited for only if
 * its parent exists; otherwise an error). */
struct tail_watch *tail_add(struct tail *t, const char *pattern, void *cookie, char *err, size_t errlen);
/* Like tail_add, but go on where an earlier run stopped: saved are the
 * positions tail_foreach_file reported then (for this pattern). The file
 * at the same device and inode goes on at its offset if its head still has
 * the same fingerprint and it is not shorter than the offset; a file
 * rotated away meanwhile is found in the same directory by its inode and
 * its rest is read first (then it is closed as a rotated file is); a file
 * that is new since then is read from its beginning. */
struct tail_watch *tail_add_resume(struct tail *t, const char *pattern, void *cookie, const struct tail_pos *saved,
				   size_t nsaved, char *err, size_t errlen);
void tail_watch_set_cookie(struct tail_watch *w, void *cookie);
const char *tail_watch_pattern(const struct tail_watch *w);
void tail_remove(struct tail *t, struct tail_watch *w);
void tail_get_stats(const struct tail *t, struct tail_stats *st);
/* Call fn for every open file of every watch. */
void tail_foreach_file(const struct tail *t, tail_pos_fn *fn, void *arg);
/* Look at every watch again as if the inotify queue had overflowed: pick
 * up files and directories that appeared, notice those that changed, read
 * what is pending. Also retries watches whose directory vanished. */
void tail_rescan(struct tail *t);

#endif
