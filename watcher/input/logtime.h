/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * logtime - parse the timestamp at the start of a log line.
 *
 * Forms: RFC 3164 ("Nov 23 14:44:59", local time, year inferred from now
 * with rollover), RFC 3339 / ISO 8601 with optional fraction and zone
 * ("2026-11-23T14:44:59.123456+01:00", "...Z"), the RFC 5424 header
 * ("<34>1 2026-11-23T14:44:59Z ..."; the "<PRI>1 " is consumed), TAI64N
 * ("@4000000069232f1b1c2d3e4f"), "YYYY-MM-DD HH:MM:SS" (Exim, Dovecot
 * log_path; local time), and "[DD-Mon-YYYY HH:MM:SS +hhmm]:" (Roundcube's
 * log files with its default log_date_format; the "]" and a ":" after it
 * are consumed). Local time conversion is cached per hour of local
 * time (so DST changes are exact) and costs no mktime() per line.
 *
 * The cache is process-wide and not locked: call from one thread (the
 * event loop). Call logtime_tz_changed() after changing TZ and tzset().
 */
#ifndef MS_LOGTIME_H
#define MS_LOGTIME_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Which form logtime_parse_form() recognised; line.c splits the rest of the
 * header according to it. */
enum logtime_form {
	LOGTIME_NONE = 0,
	LOGTIME_RFC3164,        /* "Nov 23 14:44:59", optionally after "<PRI>" */
	LOGTIME_RFC3339,        /* "2026-11-23T14:44:59[.frac][zone]", optionally after "<PRI>" */
	LOGTIME_RFC5424,        /* "<PRI>1 " then an RFC 3339 stamp or "-" */
	LOGTIME_TAI64N,         /* "@" and 24 hex digits (multilog, svlogd) */
	LOGTIME_SPACED,         /* "2026-11-23 14:44:59[.frac][ +hhmm]" (Exim, Dovecot) */
	LOGTIME_JOURNAL,        /* no stamp in the text: a journal entry (set by
				 * journal.c, never by the parsers here) */
	LOGTIME_BRACKETED,      /* "[23-Nov-2026 14:44:59 +0100]:" (Roundcube's own log files) */
};

/* Returns the number of bytes consumed (including one following space, if
 * any), or 0 if s does not start with a recognised timestamp. */
size_t logtime_parse(const char *s, size_t n, time_t now, int64_t *sec, uint32_t *usec);
/* The same, also saying which form it was. An RFC 5424 header with the nil
 * timestamp ("<34>1 - host ...") is consumed with *sec = 0, *usec = 0. */
size_t logtime_parse_form(const char *s, size_t n, time_t now, int64_t *sec, uint32_t *usec,
			  enum logtime_form *form);
/* The form's name as "mailscreen match --explain" shows it: "rfc3164",
 * "rfc3339", "rfc5424", "tai64n", "spaced", "journal", "none". */
const char *logtime_form_name(enum logtime_form form);
/* Format Unix seconds as "2026-11-22T10:00:01Z" (UTC); buf >= 21 bytes. */
void logtime_format_utc(int64_t sec, char buf[32]);
/* Forget cached UTC offsets: the local time zone has changed. */
void logtime_tz_changed(void);

#endif
