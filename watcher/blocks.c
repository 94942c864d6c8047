// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * blocks - see blocks.h. Owns a chained hash of entries keyed by
 * (family, prefix, length) and the set of prefix lengths in use, so that
 * "is this address covered?" costs one lookup per length in use.
 */
#include "blocks.h"
#include "duration.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct bent {
	struct bent *next;
	uint64_t hash;
	struct block b;
};

struct blocks {
	struct bent **buckets;
	size_t nbuckets, n;
	uint32_t lens4[33], lens6[129];     /* entries per prefix length */
};

struct blocks *blocks_new(void)
{
	struct blocks *b = xcalloc(1, sizeof *b);

	b->nbuckets = 64;
	b->buckets = xcalloc(b->nbuckets, sizeof *b->buckets);
	return b;
}

void blocks_free(struct blocks *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->nbuckets; i++)
		for (struct bent *e = b->buckets[i], *next; e; e = next) {
			next = e->next;
			free(e);
		}
	free(b->buckets);
	free(b);
}

static struct bent **slot(struct blocks *b, const struct cidr *c, uint64_t h)
{
	struct bent **pp = &b->buckets[h & (b->nbuckets - 1)];

	for (; *pp; pp = &(*pp)->next)
		if ((*pp)->hash == h && (*pp)->b.target.len == c->len && addr_equal(&(*pp)->b.target.addr, &c->addr))
			break;
	return pp;
}

struct block *blocks_find(struct blocks *b, const struct cidr *c)
{
	struct bent *e = *slot(b, c, addr_hash(&c->addr, c->len));

	return e ? &e->b : NULL;
}

struct block *blocks_covering(struct blocks *b, const struct ipaddr *a)
{
	int bits = addr_bits(a);
	const uint32_t *lens = a->family == AF_INET ? b->lens4 : b->lens6;

	for (int len = bits; len >= 0; len--) {
		struct cidr c;
		struct block *blk;
		if (!lens[len])
			continue;
		cidr_from_addr(&c, a, len);
		if ((blk = blocks_find(b, &c)))
			return blk;
	}
	return NULL;
}

static void grow(struct blocks *b)
{
	size_t nb = b->nbuckets * 2;
	struct bent **nbk = xcalloc(nb, sizeof *nbk);

	for (size_t i = 0; i < b->nbuckets; i++)
		for (struct bent *e = b->buckets[i], *next; e; e = next) {
			next = e->next;
			e->next = nbk[e->hash & (nb - 1)];
			nbk[e->hash & (nb - 1)] = e;
		}
	free(b->buckets);
	b->buckets = nbk;
	b->nbuckets = nb;
}

struct block *blocks_add(struct blocks *b, const struct cidr *c, uint64_t now_ms, uint64_t duration_ms,
			 const char *origin, const char *reason, bool *extended)
{
	uint64_t h = addr_hash(&c->addr, c->len);
	struct bent **pp = slot(b, c, h), *e = *pp;

	*extended = e != NULL;
	if (!e) {
		if (b->n + 1 > b->nbuckets) {
			grow(b);
			pp = slot(b, c, h);
		}
		e = xcalloc(1, sizeof *e);
		e->hash = h;
		e->b.target = *c;
		e->b.start_ms = now_ms;
		*pp = e;
		b->n++;
		(c->addr.family == AF_INET ? b->lens4 : b->lens6)[c->len]++;
	}
	e->b.times++;
	e->b.expiry_ms = duration_ms == DURATION_PERMANENT ? UINT64_MAX : now_ms + duration_ms;
	snprintf(e->b.origin, sizeof e->b.origin, "%s", origin);
	snprintf(e->b.reason, sizeof e->b.reason, "%s", reason);
	return &e->b;
}

bool blocks_remove(struct blocks *b, const struct cidr *c)
{
	struct bent **pp = slot(b, c, addr_hash(&c->addr, c->len)), *e = *pp;

	if (!e)
		return false;
	*pp = e->next;
	(c->addr.family == AF_INET ? b->lens4 : b->lens6)[c->len]--;
	free(e);
	b->n--;
	return true;
}

void blocks_clear(struct blocks *b)
{
	blocks_expire(b, UINT64_MAX);
}

size_t blocks_expire(struct blocks *b, uint64_t now_ms)
{
	size_t n = 0;

	for (size_t i = 0; i < b->nbuckets; i++)
		for (struct bent **pp = &b->buckets[i]; *pp;) {
			struct bent *e = *pp;
			if (e->b.expiry_ms > now_ms) {
				pp = &e->next;
				continue;
			}
			*pp = e->next;
			(e->b.target.addr.family == AF_INET ? b->lens4 : b->lens6)[e->b.target.len]--;
			free(e);
			b->n--;
			n++;
		}
	return n;
}

void blocks_foreach(const struct blocks *b, blocks_fn *fn, void *arg)
{
	for (size_t i = 0; i < b->nbuckets; i++)
		for (const struct bent *e = b->buckets[i]; e; e = e->next)
			fn(arg, &e->b);
}

size_t blocks_count(const struct blocks *b)
{
	return b->n;
}
