/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * stats - what happened, per period: events by kind and by service,
 * blocks made and lifted by origin (a rule's name, "manual", "file",
 * "prefix", "kernel"), allow-list (exempt) hits, packets the kernel
 * dropped for blocks, and the top offending
 * addresses and accounts. The summaries, `mailscreen report` and the
 * report mail all read it.
 *
 * Bounded whatever arrives: two rings of fixed buckets (one per minute
 * for the last hour, one per hour for the last week); per bucket at most
 * STATS_NAMES services and origins (the rest count as "other") and the
 * top keys kept by space-saving in STATS_TOPCAP slots (a flood of distinct
 * keys replaces the least counted slot, whose count the newcomer inherits
 * as its possible error: a key that is really frequent stays, memory never
 * grows). Owns its rings; never logs, never sees the daemon.
 */
#ifndef MS_STATS_H
#define MS_STATS_H

#include "event.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define STATS_MINUTES 60        /* minute buckets: the last hour */
#define STATS_HOURS 168         /* hour buckets: the last week */
#define STATS_NAMES 16          /* services, origins per bucket (the last is "other") */
#define STATS_NAMELEN 48
#define STATS_TOPCAP 32         /* top keys tracked per bucket */
#define STATS_TOP 10            /* top keys shown */
#define STATS_KEYLEN 80

#define STATS_MINUTE_MS 60000ULL
#define STATS_HOUR_MS 3600000ULL
#define STATS_DAY_MS 86400000ULL

struct stats_name {
	char name[STATS_NAMELEN];
	uint64_t n, m;          /* services: events, -; origins: made, lifted */
};

/* Space-saving's estimate: the key's true count is between count - err
 * and count; the top lists are ordered by, and show, count - err (what
 * is sure). */
struct stats_top {
	char key[STATS_KEYLEN]; /* printable (an account's bytes escaped) */
	uint64_t count, err;
};

struct stats_bucket {
	uint64_t start_ms, end_ms;      /* [start, end); start 0: never used */
	uint64_t events[EV_NKINDS];
	struct stats_name services[STATS_NAMES], origins[STATS_NAMES];
	size_t nservices, norigins;
	uint64_t made, lifted, exempt;
	uint64_t drops;                 /* packets the kernel dropped for blocks */
	struct stats_top addrs[STATS_TOPCAP], accounts[STATS_TOPCAP];
	size_t naddrs, naccounts;
};

/* The periods a summary is logged for ([logging] summary) */
#define STATS_PERIOD_MINUTE 0x1
#define STATS_PERIOD_HOUR 0x2
#define STATS_PERIOD_DAY 0x4
/* "minute hour day" (any of them, any order), "none" or "": the mask. 0,
 * or -1 with a message naming the word that is not a period. */
int stats_periods_parse(const char *v, unsigned *mask, char *err, size_t errlen);

/* The periods that end at end_ms (a minute's boundary): always the
 * minute; the hour at the clock's hour (UTC, as the hour buckets); the
 * day at local midnight (TZ). */
unsigned stats_periods_ending(uint64_t end_ms);
/* The local day (TZ) t_ms is in: [*start_ms, *end_ms), from midnight to
 * midnight (23 or 25 hours on a change of offset); UTC's day if the
 * local one cannot be had. */
void stats_day_bounds(uint64_t t_ms, uint64_t *start_ms, uint64_t *end_ms);

struct stats;

struct stats *stats_new(void);
void stats_free(struct stats *s);

/* n events (the attempts an event counts) at now_ms: addr (formatted)
 * and user (any bytes) may be NULL; an address or account counts as an
 * offender for every event but connect, disconnect and auth-ok
 * (stats_offence: the only ones whose address is needed). n 0: nothing. */
void stats_event(struct stats *s, uint64_t now_ms, enum ev_kind kind, const char *service, size_t slen,
		 const char *addr, const char *user, size_t ulen, uint64_t n);
bool stats_offence(enum ev_kind kind);
/* A block made (who: the address, range or account, as shown) or lifted,
 * by origin. */
void stats_block(struct stats *s, uint64_t now_ms, const char *origin);
void stats_lift(struct stats *s, uint64_t now_ms, const char *origin);
void stats_exempt(struct stats *s, uint64_t now_ms, uint64_t n);
/* Packets the kernel dropped for blocks, seen at now_ms. */
void stats_drops(struct stats *s, uint64_t now_ms, uint64_t packets);

/* Everything since since_ms until now_ms, merged into *out: from the
 * minute buckets when since_ms is within the last hour, else from the
 * hour buckets (whole hours: the one since_ms falls in and those after).
 * out->start_ms says where it really starts. */
void stats_since(const struct stats *s, uint64_t now_ms, uint64_t since_ms, struct stats_bucket *out);
/* The minute or hour bucket [start_ms, start_ms + len) as it is kept (an
 * empty bucket if it is not), or the hours in a longer period merged. */
void stats_period(const struct stats *s, uint64_t start_ms, uint64_t len_ms, struct stats_bucket *out);
/* The local day that ends at end_ms (a local midnight), kept whole as a
 * bucket of its own: today's and yesterday's are kept (an empty bucket
 * from that day's midnight if nothing counted in it). */
void stats_day(const struct stats *s, uint64_t end_ms, struct stats_bucket *out);
bool stats_bucket_empty(const struct stats_bucket *b);
uint64_t stats_bucket_events(const struct stats_bucket *b);
/* Merge b into acc (top keys summed, the STATS_TOPCAP highest kept). */
void stats_merge(struct stats_bucket *acc, const struct stats_bucket *b);

/* ---- persistence (state.h's "stats" records) ---- */

/* Each kept bucket as one line of text without spaces' meaning to the
 * state (fn gets a NUL-terminated string). */
typedef void stats_line_fn(void *arg, const char *line);
void stats_dump(const struct stats *s, stats_line_fn *fn, void *arg);
/* Put back one line stats_dump made; a bucket older than the rings keep
 * is dropped. 0, or -1 if the line is not understood. */
int stats_restore(struct stats *s, const char *line, uint64_t now_ms);

#endif
