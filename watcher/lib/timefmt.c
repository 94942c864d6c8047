// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * timefmt - see timefmt.h. localtime_r/gmtime_r and strftime; the offset
 * is strftime's %z, so a zone with half hours or summer time says so.
 */
#include "timefmt.h"

#include <stdio.h>
#include <time.h>

void timefmt_format(int64_t sec, bool utc, char buf[TIMEFMT_LEN])
{
	time_t t = (time_t)sec;
	struct tm tm;

	if (!(utc ? gmtime_r(&t, &tm) : localtime_r(&t, &tm)) ||
	    !strftime(buf, TIMEFMT_LEN, utc ? "%Y-%m-%d %H:%M:%S UTC" : "%Y-%m-%d %H:%M:%S %z", &tm))
		snprintf(buf, TIMEFMT_LEN, "@%lld", (long long)sec);
}

void timefmt_iso(int64_t sec, char buf[TIMEFMT_LEN])
{
	time_t t = (time_t)sec;
	struct tm tm;

	if (!gmtime_r(&t, &tm) || !strftime(buf, TIMEFMT_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm))
		snprintf(buf, TIMEFMT_LEN, "@%lld", (long long)sec);
}
