/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * logtime - parse the timestamp at the start of a log line.
 *
 * Forms: RFC 3164 ("Nov 23 14:44:59", local time, year inferred from now
 * with rollover), RFC 3339 / ISO 8601 with optional fraction and zone
 * ("2026-11-23T14:44:59.123456+01:00", "...Z"), the RFC 5424 header
 * ("<34>1 2026-11-23T14:44:59Z ..."; the "<PRI>1 " is consumed), TAI64N
 * ("@4000000069232f1b1c2d3e4f"), and "YYYY-MM-DD HH:MM:SS" (Exim, Dovecot
 * log_path; local time). Local time conversion is cached per day so it
 * costs no mktime() per line.
 */
#ifndef MS_LOGTIME_H
#define MS_LOGTIME_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* Returns the number of bytes consumed (including one following space, if
 * any), or 0 if s does not start with a recognised timestamp. */
size_t logtime_parse(const char *s, size_t n, time_t now, int64_t *sec, uint32_t *usec);
/* Format Unix seconds as "2026-11-22T10:00:01Z" (UTC); buf >= 21 bytes. */
void logtime_format_utc(int64_t sec, char buf[32]);

#endif
