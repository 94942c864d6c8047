// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ratelimit - see ratelimit.h. A fixed window of one second: simple to
 * state ("at most N lines a second, plus one line saying how many were
 * left out") and so simple to test. Must never: lose count of a refused
 * line, or let the total a second exceed limit + 1.
 */
#include "ratelimit.h"

static void roll(struct ratelimit *r, uint64_t sec)
{
	if (sec != r->sec) {
		r->sec = sec;
		r->used = 0;
	}
}

uint64_t ratelimit_flush(struct ratelimit *r, uint64_t now_ms)
{
	uint64_t n = 0;

	if (now_ms / 1000 != r->sec && r->suppressed) {
		n = r->suppressed;
		r->suppressed = 0;
	}
	roll(r, now_ms / 1000);
	return n;
}

bool ratelimit_take(struct ratelimit *r, uint64_t now_ms, uint64_t *report)
{
	uint64_t limit = r->limit ? r->limit : 1;

	*report = ratelimit_flush(r, now_ms);
	if (r->used < limit) {
		r->used++;
		return true;
	}
	r->suppressed++;
	r->total_suppressed++;
	return false;
}
