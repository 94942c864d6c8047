/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * blockfile - the hand-edited block list file: parse it, watch it, and
 * report what changed.
 *
 * The file holds one entry a line:
 *
 *	ADDRESS[/LEN] DURATION [comment]
 *
 * DURATION is as everywhere ("30s", "10m", "2h", "7d", "1h30m",
 * "permanent"), and a bare number counts minutes ("192.0.2.1 60" blocks
 * for an hour). The comment is the rest of the line; a leading '#' (or
 * several) and blanks are dropped from it. Blank lines and lines starting
 * with '#' are ignored, as is whitespace around a line (so CRLF files
 * work). IPv4 and IPv6; a range with host bits set is an error, as is an
 * address with a port or in brackets. The same target twice: the later
 * line wins, with a warning.
 *
 * A bad line is reported as "NAME:LINE: what is wrong (what would be
 * right); line skipped" with log_warnx, and skipped; every other line still
 * applies. Input is bounded: a line longer than BLOCKFILE_LINE_MAX bytes
 * is a bad line; entries after the first BLOCKFILE_ENTRIES_MAX are skipped
 * (reported once); a file larger than BLOCKFILE_SIZE_MAX is not read at
 * all; comments are cut to BLOCKFILE_COMMENT_MAX bytes (at a character
 * boundary; bytes that are not UTF-8, and C1 controls U+0080-U+009F,
 * become '?'); a line holding control characters (binary data) is a bad
 * line. Only the first
 * BLOCKFILE_REPORT_MAX problems of one reading are reported one by one; the
 * rest are counted in one closing warning.
 *
 * Trust: before each reading the file is checked as the configuration is
 * (privs_check_target: owned by root or the daemon's user, writable by no
 * one else, and so every directory above it and every symbolic link on the
 * way). A refused file is not read: the refusal is logged with what to do,
 * and the previous entries stay in force. A change of the file's (or its
 * directory's) owner or mode is an event like any other, so a fixed file
 * is read at once.
 *
 * Watching: blockfile_open() watches the file's DIRECTORY with its own
 * inotify instance in the loop (and, if the path is a symbolic link, the
 * file it points to), so saving by rename, writing in place, creating and
 * deleting are all seen; nothing polls. Events are gathered for
 * BLOCKFILE_DELAY_MS after the first one, then the whole file is read
 * again and compared with the previous reading, and the callback hears only
 * what changed. A file written in place is read once its writer closes it.
 *
 * Owns: its inotify fd (in the loop), one loop timer at most, the current
 * list. Never blocks an address itself, never writes the file, never calls
 * the callback from inside the inotify handler (only from blockfile_open,
 * blockfile_reload and its own timer).
 */
#ifndef MS_BLOCKFILE_H
#define MS_BLOCKFILE_H

#include "addr.h"
#include "loop.h"

#include <stddef.h>
#include <stdint.h>

#define BLOCKFILE_LINE_MAX      4096            /* bytes, without the newline */
#define BLOCKFILE_ENTRIES_MAX   1000000
#define BLOCKFILE_SIZE_MAX      (128u << 20)    /* bytes */
#define BLOCKFILE_COMMENT_MAX   160             /* bytes, without the NUL */
#define BLOCKFILE_REPORT_MAX    20              /* problems reported one by one */
#define BLOCKFILE_DELAY_MS      150             /* gather events this long */

struct bf_entry {
	struct cidr target;     /* normalised; host bits zero */
	uint64_t duration_ms;   /* DURATION_PERMANENT for "permanent" */
	const char *comment;    /* never NULL ("" if none); printable text or
				 * UTF-8, at most BLOCKFILE_COMMENT_MAX bytes;
				 * lives as long as the list it came from */
	int lineno;             /* 1-based line of the file */
};

/* A parsed file: entries sorted by target (family, address, length), each
 * target once. pool holds the comments. */
struct bf_list {
	struct bf_entry *v;
	size_t n;
	char *pool;
};

/* Parse a whole file's text (text[0..len), need not be NUL-terminated).
 * name is used in the messages. Bad lines are reported with log_warnx
 * (see above) and skipped. Fills *out (release it with
 * bf_list_release). Returns the number of lines that do not apply as
 * written: bad lines, lines over the entry limit, and lines replaced by
 * a later line for the same target; 0 means the whole file applies. */
size_t blockfile_parse(const char *name, const char *text, size_t len, struct bf_list *out);
void bf_list_release(struct bf_list *l);

/* What changed. added/removed are sorted by target; they (and their
 * comments) are valid only during the call. A line whose duration
 * changed comes as removed (old entry) + added (new entry), so that it
 * gets its new duration from now. A change of comment or line number
 * alone is not reported. */
typedef void blockfile_fn(void *arg, const struct bf_entry *added, size_t nadded,
			  const struct bf_entry *removed, size_t nremoved);

struct blockfile;

/* Read path and start watching it. fn is called once before this returns,
 * with every entry as added (possibly none: a missing file is an empty
 * list, and is picked up when it is created). Afterwards fn is called from
 * the loop with what changed, and only when something did. Deleting the
 * file removes everything. If the file exists but is refused (see Trust)
 * or cannot be read (not a regular file, no permission, too big), a
 * reading keeps the previous list and warns (at open: the list starts
 * empty); the file is read again when it changes. Returns NULL with a
 * message in err if its directory cannot be watched (it must exist). fn
 * may call blockfile_close() on this blockfile. */
struct blockfile *blockfile_open(struct loop *l, const char *path, blockfile_fn *fn, void *arg,
				 char *err, size_t errlen);
/* Read the file again now (e.g. on SIGHUP) and report what changed. */
void blockfile_reload(struct blockfile *b);
/* The current list (valid until the next callback or close). */
const struct bf_list *blockfile_list(const struct blockfile *b);
/* Stop watching and free everything. Does not report the entries as
 * removed: blocks already made stay (they expire in the kernel). */
void blockfile_close(struct blockfile *b);

#endif
