/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * ratelimit - a budget of lines a second, for log lines an attacker can
 * cause by the thousand (one per failed login, per connection): at most
 * `limit` lines in each wall-clock second; the rest are counted, and the
 * count is handed back once, to be said in one line, when the next
 * second begins. Pure: the caller says what time it is. Owns nothing.
 */
#ifndef MS_RATELIMIT_H
#define MS_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

struct ratelimit {
	uint64_t limit;         /* lines a second, at least 1 */
	uint64_t sec;           /* the second being counted */
	uint64_t used;          /* lines given in it */
	uint64_t suppressed;    /* lines refused and not yet reported */
	uint64_t total_suppressed;
};

/* May a line be logged at now_ms? *report: lines suppressed in earlier
 * seconds that were not said yet (0 if none); the caller says them first,
 * whatever the answer. */
bool ratelimit_take(struct ratelimit *r, uint64_t now_ms, uint64_t *report);
/* The count not said yet, once its second is over (for a timer that says
 * it when no further line comes): 0 if none or the second is not over. */
uint64_t ratelimit_flush(struct ratelimit *r, uint64_t now_ms);

#endif
