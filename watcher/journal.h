/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * journal - the systemd journal as a source of lines (sd-journal).
 *
 * Entries are selected by unit ("postfix@-.service", matched against
 * _SYSTEMD_UNIT) or by a raw field match ("SYSLOG_IDENTIFIER=postfix/smtpd");
 * several terms are alternatives. The journal's fd is watched in the event
 * loop; each new entry becomes a struct logline: prog from
 * SYSLOG_IDENTIFIER, pid from SYSLOG_PID or _PID, time from the entry's
 * realtime stamp, msg from MESSAGE, raw as "prog[pid]: msg". Entries are
 * read from the tail at start unless from_start.
 */
#ifndef MS_JOURNAL_H
#define MS_JOURNAL_H

#include "line.h"
#include "loop.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct jsource;

typedef void journal_line_fn(void *cookie, const struct logline *ll);

struct journal_opts {
	const char *path;       /* NULL: the system journal; else a directory or a *.journal file */
	bool from_start;
	size_t max_line;        /* messages longer than this are cut; 0 = 16384 */
};

/* terms: NULL-terminated. NULL and a message in err on failure. */
struct jsource *journal_open(struct loop *l, const char *const *terms, const struct journal_opts *opts,
			     journal_line_fn *fn, void *cookie, char *err, size_t errlen);
void journal_set_cookie(struct jsource *j, void *cookie);
void journal_close(struct jsource *j);
uint64_t journal_entries_read(const struct jsource *j);

#endif
