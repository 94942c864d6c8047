// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * window - see window.h. Owns a chained hash table of keys and an LRU list
 * through them (most recently hit at the head). Each key owns its ring of
 * at most `limit` timestamps, which starts small and grows as the key's
 * events do: under a spray most keys are seen once, and a ring of `limit`
 * from the start (30 for the shipped connection-rate rule) tripled the
 * memory of such a key.
 */
#include "window.h"
#include "log.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

/* The smallest allocation holds three timestamps anyway. */
#define RING_MIN 3

struct wkey {
	struct wkey *next;              /* hash chain */
	struct wkey *lru_prev, *lru_next;
	uint64_t hash;
	uint64_t *ring;                 /* capacity = cap, at most the table's limit */
	uint32_t cap, n, head;          /* head: index of the oldest */
	uint8_t klen;
	unsigned char key[];            /* klen bytes */
};

struct wtable {
	struct wkey **buckets;
	size_t nbuckets, nkeys, max_keys;
	struct wkey *lru_head, *lru_tail;
	uint32_t limit;
	uint64_t window_ms, evictions;
};

static uint64_t hash_bytes(const void *p, size_t n)
{
	const unsigned char *s = p;
	uint64_t h = 1469598103934665603ULL;

	for (size_t i = 0; i < n; i++)
		h = (h ^ s[i]) * 1099511628211ULL;
	h ^= h >> 31;
	h *= 0x9e3779b97f4a7c15ULL;
	return h ^ (h >> 29);
}

struct wtable *window_new(uint32_t limit, uint64_t window_ms, size_t max_keys)
{
	struct wtable *w = xcalloc(1, sizeof *w);

	w->nbuckets = 64;
	w->buckets = xcalloc(w->nbuckets, sizeof *w->buckets);
	window_reconfigure(w, limit, window_ms, max_keys);
	return w;
}

static void lru_unlink(struct wtable *w, struct wkey *k)
{
	if (k->lru_prev)
		k->lru_prev->lru_next = k->lru_next;
	else
		w->lru_head = k->lru_next;
	if (k->lru_next)
		k->lru_next->lru_prev = k->lru_prev;
	else
		w->lru_tail = k->lru_prev;
	k->lru_prev = k->lru_next = NULL;
}

static void lru_push_head(struct wtable *w, struct wkey *k)
{
	k->lru_prev = NULL;
	k->lru_next = w->lru_head;
	if (w->lru_head)
		w->lru_head->lru_prev = k;
	w->lru_head = k;
	if (!w->lru_tail)
		w->lru_tail = k;
}

static void key_remove(struct wtable *w, struct wkey *k)
{
	struct wkey **pp = &w->buckets[k->hash & (w->nbuckets - 1)];

	while (*pp != k)
		pp = &(*pp)->next;
	*pp = k->next;
	lru_unlink(w, k);
	free(k->ring);
	free(k);
	w->nkeys--;
}

void window_free(struct wtable *w)
{
	if (!w)
		return;
	while (w->lru_head)
		key_remove(w, w->lru_head);
	free(w->buckets);
	free(w);
}

static void ring_resize(struct wkey *k, uint32_t cap)
{
	uint64_t *r = xcalloc(cap, sizeof *r);
	uint32_t keep = k->n < cap ? k->n : cap;

	/* keep the newest `keep` entries, oldest first */
	for (uint32_t i = 0; i < keep; i++)
		r[i] = k->ring[(k->head + k->n - keep + i) % k->cap];
	free(k->ring);
	k->ring = r;
	k->cap = cap;
	k->n = keep;
	k->head = 0;
}

void window_reconfigure(struct wtable *w, uint32_t limit, uint64_t window_ms, size_t max_keys)
{
	if (limit == 0)
		limit = 1;
	w->window_ms = window_ms;
	w->max_keys = max_keys ? max_keys : 1;
	/* a smaller limit keeps the newest events; a larger one lets rings grow */
	if (limit < w->limit)
		for (struct wkey *k = w->lru_head; k; k = k->lru_next)
			if (k->cap > limit)
				ring_resize(k, limit);
	w->limit = limit;
	while (w->nkeys > w->max_keys) {
		key_remove(w, w->lru_tail);
		w->evictions++;
	}
}

static struct wkey *find(const struct wtable *w, const void *key, size_t klen, uint64_t h)
{
	for (struct wkey *k = w->buckets[h & (w->nbuckets - 1)]; k; k = k->next)
		if (k->hash == h && k->klen == klen && memcmp(k->key, key, klen) == 0)
			return k;
	return NULL;
}

static void grow(struct wtable *w)
{
	size_t nb = w->nbuckets * 2;
	struct wkey **b = xcalloc(nb, sizeof *b);

	for (size_t i = 0; i < w->nbuckets; i++)
		for (struct wkey *k = w->buckets[i], *next; k; k = next) {
			next = k->next;
			k->next = b[k->hash & (nb - 1)];
			b[k->hash & (nb - 1)] = k;
		}
	free(w->buckets);
	w->buckets = b;
	w->nbuckets = nb;
}

uint32_t window_hit(struct wtable *w, const void *key, size_t klen, uint64_t t, unsigned long count,
		    bool *reached)
{
	uint64_t h;
	struct wkey *k;
	uint32_t within = 0;

	if (klen > WINDOW_KEY_MAX)
		klen = WINDOW_KEY_MAX;
	h = hash_bytes(key, klen);
	k = find(w, key, klen, h);
	if (!k) {
		if (w->nkeys >= w->max_keys) {
			key_remove(w, w->lru_tail);
			w->evictions++;
		}
		if (w->nkeys + 1 > w->nbuckets)
			grow(w);
		k = xcalloc(1, sizeof *k + klen);
		k->hash = h;
		k->klen = (uint8_t)klen;
		memcpy(k->key, key, klen);
		k->cap = w->limit < RING_MIN ? w->limit : RING_MIN;
		k->ring = xcalloc(k->cap, sizeof *k->ring);
		k->next = w->buckets[h & (w->nbuckets - 1)];
		w->buckets[h & (w->nbuckets - 1)] = k;
		w->nkeys++;
	} else {
		lru_unlink(w, k);
		/* lines from several sources may arrive slightly out of order */
		if (k->n && t < k->ring[(k->head + k->n - 1) % k->cap])
			t = k->ring[(k->head + k->n - 1) % k->cap];
	}
	lru_push_head(w, k);
	if (count > w->limit)
		count = w->limit;
	if (k->n + count > k->cap && k->cap < w->limit) {
		uint64_t want = k->n + count > (uint64_t)k->cap * 2 ? k->n + count : (uint64_t)k->cap * 2;
		ring_resize(k, want < w->limit ? (uint32_t)want : w->limit);
	}
	for (unsigned long i = 0; i < count; i++) {
		if (k->n < k->cap) {
			k->ring[(k->head + k->n++) % k->cap] = t;
		} else {
			k->ring[k->head] = t;
			k->head = (k->head + 1) % k->cap;
		}
	}
	/* count the entries within the window, newest first */
	for (uint32_t i = k->n; i > 0; i--) {
		if (t - k->ring[(k->head + i - 1) % k->cap] > w->window_ms)
			break;
		within++;
	}
	*reached = within >= w->limit;
	return within;
}

uint32_t window_count(const struct wtable *w, const void *key, size_t klen, uint64_t now)
{
	const struct wkey *k;
	uint32_t within = 0;

	if (klen > WINDOW_KEY_MAX)
		klen = WINDOW_KEY_MAX;
	k = find(w, key, klen, hash_bytes(key, klen));
	for (uint32_t i = k ? k->n : 0; i > 0; i--) {
		uint64_t t = k->ring[(k->head + i - 1) % k->cap];
		if (now > t && now - t > w->window_ms)
			break;
		within++;
	}
	return within;
}

void window_forget(struct wtable *w, const void *key, size_t klen)
{
	struct wkey *k;

	if (klen > WINDOW_KEY_MAX)
		klen = WINDOW_KEY_MAX;
	k = find(w, key, klen, hash_bytes(key, klen));
	if (k)
		key_remove(w, k);
}

size_t window_expire(struct wtable *w, uint64_t now)
{
	size_t n = 0;

	/* the LRU tail is the key hit longest ago */
	while (w->lru_tail) {
		struct wkey *k = w->lru_tail;
		uint64_t newest = k->ring[(k->head + k->n - 1) % k->cap];
		if (now < newest || now - newest <= w->window_ms)
			break;
		key_remove(w, k);
		n++;
	}
	return n;
}

void window_foreach(const struct wtable *w, uint64_t now, window_fn *fn, void *arg)
{
	for (const struct wkey *k = w->lru_head; k; k = k->lru_next) {
		uint64_t newest = k->ring[(k->head + k->n - 1) % k->cap];
		uint32_t within = 0;
		for (uint32_t i = k->n; i > 0; i--) {
			uint64_t t = k->ring[(k->head + i - 1) % k->cap];
			if (now > t && now - t > w->window_ms)
				break;
			within++;
		}
		if (within)
			fn(arg, k->key, k->klen, within, newest);
	}
}

void window_dump(const struct wtable *w, window_dump_fn *fn, void *arg)
{
	uint64_t *times = NULL;
	size_t alloc = 0;

	for (const struct wkey *k = w->lru_tail; k; k = k->lru_prev) {
		XGROW(times, alloc, k->n ? k->n : 1);
		for (uint32_t i = 0; i < k->n; i++)
			times[i] = k->ring[(k->head + i) % k->cap];
		fn(arg, k->key, k->klen, times, k->n);
	}
	free(times);
}

void window_clear(struct wtable *w)
{
	while (w->lru_head)
		key_remove(w, w->lru_head);
}

size_t window_size(const struct wtable *w)
{
	return w->nkeys;
}

uint64_t window_evictions(const struct wtable *w)
{
	return w->evictions;
}
