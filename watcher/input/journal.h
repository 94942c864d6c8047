/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * journal - the systemd journal as a source of lines (sd-journal).
 *
 * Selection. Each term is one alternative (terms are ORed):
 *   - a term with '=' is a raw field match, "SYSLOG_IDENTIFIER=postfix/smtpd"
 *     (field name: A-Z, 0-9, '_', not starting with a digit or "__");
 *   - any other term is a system unit, matched against _SYSTEMD_UNIT only.
 *     A name without a unit type suffix gets ".service" ("dovecot" means
 *     "dovecot.service"), as journalctl -u does. Globs are not supported.
 *     UNIT= is deliberately not matched: it selects systemd's own messages
 *     *about* the unit ("Started ..."), which are no mail log lines, and a
 *     user could inject them via their own services. _SYSTEMD_USER_UNIT is
 *     not matched either: mail daemons run as system units, and a user
 *     service of the same name must not feed the blocker. A process that
 *     exits before journald reads its cgroup can lack _SYSTEMD_UNIT; select
 *     by SYSLOG_IDENTIFIER=... where that matters.
 * Prefer units: journald sets _SYSTEMD_UNIT itself, while any local user can
 * send a line tagged SYSLOG_IDENTIFIER=postfix/smtpd (logger -t), just as
 * into a syslog file. The system journal is opened with
 * SD_JOURNAL_LOCAL_ONLY | SD_JOURNAL_SYSTEM, so per-user journal files are
 * not read.
 * No terms (NULL or empty) selects every entry.
 *
 * Reading. The journal's own fd is watched in the event loop (and a loop
 * timer when sd_journal_get_timeout asks for one, e.g. on network file
 * systems); on wake the journal is processed and new entries are read, at
 * most opts->batch per loop turn, the rest after a 0 ms re-schedule so the
 * loop is never starved. Entries without MESSAGE are skipped (and counted).
 *
 * Each entry becomes a struct logline: prog from SYSLOG_IDENTIFIER (else
 * _COMM, as journalctl does), pid from SYSLOG_PID (else _PID), time/usec
 * from the entry's realtime stamp, host from _HOSTNAME, msg from MESSAGE
 * (binary-safe: msglen is the truth, NULs and newlines are delivered as they
 * are; a longer message is cut at max_line bytes and the line marked cut),
 * raw as "prog[pid]: msg" (or just msg without a prog). raw and host are
 * NUL-terminated; all pointers are valid only during the callback.
 *
 * Position. At open the source stands at the tail: only entries added
 * after journal_open are delivered, unless from_start. journal_cursor()
 * names the last entry consumed (delivered or skipped), for persisting;
 * journal_seek_cursor() resumes right after such an entry.
 *
 * Owns its sd_journal, the fd registration and its timers; never writes to
 * the journal, never blocks.
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
	uint64_t since_usec;    /* with from_start: the first entry at or after this
				 * realtime stamp (0: the head) */
	size_t max_line;        /* messages longer than this are cut; 0 = 16384 */
	unsigned batch;         /* entries read per loop turn at most; 0 = 256 */
};

struct journal_stats {
	uint64_t entries;       /* matching entries read (delivered + skipped) */
	uint64_t lines;         /* delivered to the callback */
	uint64_t no_message;    /* skipped: no MESSAGE field */
	uint64_t cut;           /* messages cut at max_line */
	uint64_t errors;        /* read errors reported by sd-journal */
	uint64_t last_usec;     /* realtime stamp of the last entry read, 0 if none */
	bool behind;            /* the last turn stopped at the batch limit: more is waiting */
};

/* terms: NULL-terminated. NULL and a message in err on failure. Nothing is
 * delivered before the loop runs, so journal_seek_cursor may follow. */
struct jsource *journal_open(struct loop *l, const char *const *terms, const struct journal_opts *opts,
			     journal_line_fn *fn, void *cookie, char *err, size_t errlen);
void journal_set_cookie(struct jsource *j, void *cookie);
/* Safe from inside the callback (the source is freed after it returns). */
void journal_close(struct jsource *j);
uint64_t journal_entries_read(const struct jsource *j);
void journal_get_stats(const struct jsource *j, struct journal_stats *st);

/* Check one term without opening anything (for "mailscreen check").
 * 0, or -1 with a message in err. */
int journal_check_term(const char *term, char *err, size_t errlen);
/* Whether the journal (path as in journal_opts) holds any entry the term
 * selects, from its head (for "mailscreen check": a unit that never
 * logged is a typo or a service logging elsewhere). 1, 0, or -1 with a
 * message in err (the journal cannot be opened or read). */
int journal_term_has_entries(const char *term, const char *path, char *err, size_t errlen);

/* The cursor of the last entry consumed, malloc'ed (free() it), or NULL if
 * none was consumed yet (e.g. an empty journal, opened at its tail). */
char *journal_cursor(struct jsource *j);
/* Continue after the entry named by cursor (if that entry is gone, at the
 * first entry after where it was). 0, or -1 with a message in err. */
int journal_seek_cursor(struct jsource *j, const char *cursor, char *err, size_t errlen);

#endif
