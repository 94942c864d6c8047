/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * line - one log line, split once into its syslog header and message.
 *
 * Every source hands lines to the filters as a struct logline: files by
 * parsing the header (logline_parse), the journal by filling the fields
 * from the entry. Pointers refer into the caller's buffer; nothing is
 * copied or allocated. The header parser never fails: what it cannot
 * recognise stays in msg.
 */
#ifndef MS_LINE_H
#define MS_LINE_H

#include "logtime.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct logline {
	const char *raw;        /* the whole line, no newline */
	size_t rawlen;
	const char *msg;        /* message after "prog[pid]: " / "prog(pid): " (or the whole line) */
	size_t msglen;
	const char *prog;       /* syslog tag without [pid] / (pid); NULL if none */
	size_t proglen;
	const char *host;       /* NULL if none */
	size_t hostlen;
	long pid;               /* -1 if none */
	int64_t time;           /* the log's timestamp, Unix seconds; 0 if none */
	uint32_t usec;
	enum logtime_form form; /* the header's form (LOGTIME_JOURNAL for an entry) */
	bool cut;               /* longer than max_line and cut there: what is
				 * left may read as something else (an address
				 * cut short), so it never reaches the filters */
};

/* Split raw[0..len) into header fields. now is used to infer the year of
 * RFC 3164 stamps (a stamp more than a few days in the future belongs to
 * the previous year). cut is set to false: only the caller knows whether
 * it cut the line. */
void logline_parse(struct logline *ll, const char *raw, size_t len, time_t now);

/* The format a file source names ("format = ..." in [source], "match
 * --format"): which headers its lines have. auto takes every form. */
enum logline_format {
	LOGLINE_AUTO = 0,
	LOGLINE_SYSLOG,         /* RFC 3164, RFC 3339 or RFC 5424 stamp, then a host (rsyslog, syslog-ng) */
	LOGLINE_POSTLOG,        /* Postfix maillog_file: "Nov 02 11:00:01 host prog[pid]: " */
	LOGLINE_DOVECOT,        /* Dovecot log_path: an RFC 3164, RFC 3339 or "2013-08-11 03:56:40" stamp, no host */
	LOGLINE_MULTILOG,       /* daemontools multilog, runit svlogd: a TAI64N stamp, no host */
};

/* "auto", "syslog", ... or -1. */
int logline_format_parse(const char *s);
const char *logline_format_name(enum logline_format f);
/* True if ll's header is of format f. A line that is not is still parsed
 * and matched as auto would: the caller counts it. */
bool logline_fits(enum logline_format f, const struct logline *ll);

#endif
