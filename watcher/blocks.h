/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * blocks - the daemon's own copy of what it has blocked: address or range,
 * origin (rule name or "manual"), reason, start, expiry, and how many times
 * it was (re)blocked. The kernel's set is the enforcement; this copy is
 * what the daemon knows without dumping the set.
 */
#ifndef MS_BLOCKS_H
#define MS_BLOCKS_H

#include "addr.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct blocks;

struct block {
	struct cidr target;
	char origin[48];
	char reason[160];
	uint64_t start_ms, expiry_ms;   /* wall clock; expiry UINT64_MAX = permanent */
	uint32_t times;                 /* how often blocked or extended */
};

struct blocks *blocks_new(void);
void blocks_free(struct blocks *b);
/* Add or extend. Returns the entry; *extended tells whether it existed. */
struct block *blocks_add(struct blocks *b, const struct cidr *c, uint64_t now_ms, uint64_t duration_ms,
			 const char *origin, const char *reason, bool *extended);
struct block *blocks_find(struct blocks *b, const struct cidr *c);
/* Remove exactly this entry; false if absent. */
bool blocks_remove(struct blocks *b, const struct cidr *c);
void blocks_clear(struct blocks *b);
/* The block covering address a (exact or a range containing it), if any. */
struct block *blocks_covering(struct blocks *b, const struct ipaddr *a);
/* Drop expired entries; returns how many. */
size_t blocks_expire(struct blocks *b, uint64_t now_ms);
size_t blocks_count(const struct blocks *b);
typedef void blocks_fn(void *arg, const struct block *blk);
void blocks_foreach(const struct blocks *b, blocks_fn *fn, void *arg);

#endif
