/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * window - exact sliding windows, one per key, for one rule.
 *
 * Each key (an address, a prefix, later an account) keeps the times of
 * its last `limit` events in a ring. An event reaches the limit when the
 * ring is full and its oldest entry lies within `window` of the newest:
 * exactly "limit events within the last window", never fixed buckets.
 * Keys are bounded: beyond max_keys the least recently seen key is
 * evicted (and counted). Keys idle longer than the window are dropped by
 * window_expire(), oldest first, in time proportional to what is dropped.
 */
#ifndef MS_WINDOW_H
#define MS_WINDOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WINDOW_KEY_MAX 255

struct wtable;

struct wtable *window_new(uint32_t limit, uint64_t window_ms, size_t max_keys);
void window_free(struct wtable *w);
/* Change limit / window / bound (reload), keeping the counted events. */
void window_reconfigure(struct wtable *w, uint32_t limit, uint64_t window_ms, size_t max_keys);
/* Record count events at t_ms for key[0..klen). Returns how many events of
 * the key lie within the window now (at most limit); *reached tells
 * whether that is the limit. */
uint32_t window_hit(struct wtable *w, const void *key, size_t klen, uint64_t t_ms, unsigned long count,
		    bool *reached);
/* Events of the key within the window at now_ms, without recording one. */
uint32_t window_count(const struct wtable *w, const void *key, size_t klen, uint64_t now_ms);
/* Forget a key (after it was blocked). */
void window_forget(struct wtable *w, const void *key, size_t klen);
/* Drop keys whose newest event is older than now - window. Returns how many. */
size_t window_expire(struct wtable *w, uint64_t now_ms);
size_t window_size(const struct wtable *w);
/* Every key with the number of its events within the window at now_ms
 * and the time of its newest event. */
typedef void window_fn(void *arg, const void *key, size_t klen, uint32_t within, uint64_t newest_ms);
void window_foreach(const struct wtable *w, uint64_t now_ms, window_fn *fn, void *arg);
/* Every key with the times of its events, oldest first; keys from the
 * least to the most recently hit, so that feeding them back through
 * window_hit in this order rebuilds the same table. */
typedef void window_dump_fn(void *arg, const void *key, size_t klen, const uint64_t *times, uint32_t n);
void window_dump(const struct wtable *w, window_dump_fn *fn, void *arg);
/* Forget every key. */
void window_clear(struct wtable *w);
uint64_t window_evictions(const struct wtable *w);

#endif
