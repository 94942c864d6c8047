// SPDX-License-Identifier: GPL-2.0-or-later
/* duration - see duration.h. Pure functions. */
#include "duration.h"
#include "log.h"

#include <stdio.h>
#include <string.h>

static uint64_t unit_ms(char u)
{
	switch (u) {
	case 's': return 1000ULL;
	case 'm': return 60ULL * 1000;
	case 'h': return 3600ULL * 1000;
	case 'd': return 86400ULL * 1000;
	case 'w': return 7ULL * 86400 * 1000;
	}
	return 0;
}

int duration_parse(const char *s, uint64_t *ms, char bare_unit, bool allow_permanent, char *err, size_t errlen)
{
	const char *p = s;
	uint64_t total = 0;

	if (strcmp(s, "permanent") == 0) {
		if (!allow_permanent)
			return errf(err, errlen, "'permanent' is not allowed here");
		*ms = DURATION_PERMANENT;
		return 0;
	}
	if (!*p)
		return errf(err, errlen, "empty duration");
	while (*p) {
		uint64_t n = 0, u;
		if (*p < '0' || *p > '9')
			goto bad;
		while (*p >= '0' && *p <= '9') {
			if (n > 100000000ULL)
				return errf(err, errlen, "duration '%s' is too long", s);
			n = n * 10 + (uint64_t)(*p++ - '0');
		}
		if (!*p && p != s && bare_unit && total == 0)
			u = unit_ms(bare_unit);
		else if (!(u = unit_ms(*p++)))
			goto bad;
		total += n * u;
		if (total > 3650ULL * 86400 * 1000)
			return errf(err, errlen, "duration '%s' is longer than 10 years (use 'permanent')", s);
	}
	if (total == 0)
		return errf(err, errlen, "duration '%s' is zero", s);
	*ms = total;
	return 0;
bad:
	return errf(err, errlen, "'%s' is not a duration (like 30s, 10m, 2h, 7d%s%s)", s,
		    allow_permanent ? ", permanent" : "", bare_unit == 'm' ? ", or a number of minutes" : "");
}

void duration_format(uint64_t ms, char *buf, size_t len)
{
	static const struct { char u; uint64_t ms; } units[] = {
		{ 'd', 86400000ULL }, { 'h', 3600000ULL }, { 'm', 60000ULL }, { 's', 1000ULL },
	};
	size_t o = 0;

	if (ms == DURATION_PERMANENT) {
		snprintf(buf, len, "permanent");
		return;
	}
	buf[0] = '\0';
	for (size_t i = 0; i < 4 && o < len; i++)
		if (ms >= units[i].ms) {
			int n = snprintf(buf + o, len - o, "%llu%c", (unsigned long long)(ms / units[i].ms), units[i].u);
			if (n < 0)
				break;
			o += (size_t)n;
			ms %= units[i].ms;
		}
	if (!buf[0])
		snprintf(buf, len, "%llums", (unsigned long long)ms);
}
