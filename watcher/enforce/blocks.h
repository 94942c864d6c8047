/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * blocks - the daemon's own list of blocks (address or range, origin,
 * reason, start, expiry, how many times it was made), and what the
 * kernel's interval set must hold so that every one of them is enforced.
 *
 * Blocks may nest: a permanent block of 203.0.113.5 and a three-second
 * block of 203.0.113.0/24 are two entries, each with its own expiry. An
 * nftables interval set cannot hold a range and an address inside it at
 * once, so the kernel gets one element per block that no other block
 * covers (a "top" block), kept until the latest expiry of every block it
 * covers. When a top block ends or is removed, its element leaves the
 * kernel and the blocks it covered take its place, in the same batch; when
 * a wider block comes, the elements it covers leave in front of it. So at
 * every moment every listed block is dropped by the kernel until its own
 * expiry, and a range that comes and goes over it never frees it; if the
 * daemon is gone when a range ends, the kernel keeps dropping the range
 * until the latest expiry inside it (never less than what is listed).
 *
 * The changes are handed to a sink (struct blocks_kernel) as they happen,
 * in the order the kernel must apply them; the daemon queues them for its
 * next netlink batch. With no sink, nothing is said.
 *
 * Must never: let an element the kernel holds cover another one, or put an
 * element with an expiry in the past (0 would mean permanent).
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

/* Where the kernel changes go. expiry_ms is absolute (wall clock),
 * UINT64_MAX for permanent, always after now_ms, the time the change was
 * worked out at (a new block's timeout is exactly its duration). */
struct blocks_kernel {
	/* c must be in the set until expiry_ms (it may be there already, with
	 * another expiry, which is then replaced) */
	void (*put)(void *arg, const struct cidr *c, uint64_t expiry_ms, uint64_t now_ms);
	/* c must leave the set */
	void (*del)(void *arg, const struct cidr *c);
	void *arg;
};

/* k (copied) may be NULL: no kernel. */
struct blocks *blocks_new(const struct blocks_kernel *k);
void blocks_free(struct blocks *b);
/* Add or extend (the expiry becomes now + duration, DURATION_PERMANENT for
 * ever). Returns the entry; *extended tells whether it existed. */
struct block *blocks_add(struct blocks *b, const struct cidr *c, uint64_t now_ms, uint64_t duration_ms,
			 const char *origin, const char *reason, bool *extended);
struct block *blocks_find(struct blocks *b, const struct cidr *c);
/* Give c's entry exactly this expiry (restoring a saved block), with the
 * kernel changes that follow. false if c is not listed. */
bool blocks_set_expiry(struct blocks *b, const struct cidr *c, uint64_t expiry_ms, uint64_t now_ms);
/* Remove exactly this entry; false if absent. */
bool blocks_remove(struct blocks *b, const struct cidr *c, uint64_t now_ms);
/* The same, for an entry whose element someone else already took out of
 * the kernel: its element is not deleted again (what it covered is put
 * back). */
bool blocks_forget(struct blocks *b, const struct cidr *c, uint64_t now_ms);
/* c is listed and no other block covers it: its element is in the kernel. */
bool blocks_is_top(const struct blocks *b, const struct cidr *c);
/* The narrowest block covering address a (exact or a range), if any. */
struct block *blocks_covering(struct blocks *b, const struct ipaddr *a);
/* How many blocks lie strictly inside prefix p (narrower than p). */
size_t blocks_count_inside(const struct blocks *b, const struct cidr *p);
/* Told of every entry that leaves, just before it goes: how it ended. */
enum blocks_end { BLOCKS_EXPIRED, BLOCKS_REMOVED, BLOCKS_FORGOTTEN };
typedef void blocks_end_fn(void *arg, const struct block *blk, enum blocks_end how);
void blocks_on_end(struct blocks *b, blocks_end_fn *fn, void *arg);
/* Drop expired entries (those inside first); returns how many. */
size_t blocks_expire(struct blocks *b, uint64_t now_ms);
/* The earliest expiry of any entry; UINT64_MAX if none. */
uint64_t blocks_next_expiry(const struct blocks *b);
size_t blocks_count(const struct blocks *b);
typedef void blocks_fn(void *arg, const struct block *blk);
/* Every entry, in address order (a range before what it contains). */
void blocks_foreach(const struct blocks *b, blocks_fn *fn, void *arg);
/* What the kernel must hold now: one element per top block whose
 * element has not ended by now_ms, with the expiry it was given. */
typedef void blocks_elem_fn(void *arg, const struct cidr *c, uint64_t expiry_ms);
void blocks_kernel_foreach(const struct blocks *b, uint64_t now_ms, blocks_elem_fn *fn, void *arg);

#endif
