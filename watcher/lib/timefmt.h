/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * timefmt - a moment as people read it in listings: the date, the time
 * and the zone, never ambiguous. Local time carries its UTC offset
 * ("2026-12-07 14:03:11 +0100"); UTC says so ("2026-12-07 13:03:11 UTC").
 * Local means the process's time zone (TZ, else /etc/localtime).
 *
 * Owns nothing; reads the time zone only.
 */
#ifndef MS_TIMEFMT_H
#define MS_TIMEFMT_H

#include <stdbool.h>
#include <stdint.h>

#define TIMEFMT_LEN 40

/* Seconds since the epoch as "YYYY-MM-DD HH:MM:SS +HHMM" (local) or
 * "YYYY-MM-DD HH:MM:SS UTC" (utc) into buf. */
void timefmt_format(int64_t sec, bool utc, char buf[TIMEFMT_LEN]);
/* The same moment for machines: ISO 8601 in UTC, "2026-12-07T13:03:11Z". */
void timefmt_iso(int64_t sec, char buf[TIMEFMT_LEN]);

#endif
