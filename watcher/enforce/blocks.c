// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * blocks - see blocks.h.
 *
 * Owns one path-compressed binary radix trie per family. A node is a
 * prefix; it carries a block or is only a branch point (then it has two
 * children). Each node keeps, for its whole subtree, the number of blocks
 * and their earliest and latest expiry, so that "how many blocks inside
 * this /24", "what expires next" and "how long must this range's element
 * stay in the kernel" cost one walk from the root, never a scan of all
 * blocks. A top block (no block above it) remembers the expiry its kernel
 * element was given (kexp; 0: none), which is how the kernel changes are
 * worked out: the kernel holds exactly the top blocks, each until the
 * latest expiry of its subtree.
 */
#include "blocks.h"
#include "duration.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct bnode {
	struct bnode *child[2], *parent;
	struct cidr key;
	struct block *blk;              /* NULL: a branch point */
	uint64_t kexp;                  /* top block: expiry of its kernel element; 0: not there */
	uint64_t min_exp, max_exp;      /* over the subtree's blocks (none: UINT64_MAX, 0) */
	size_t count;                   /* blocks in the subtree */
};

struct blocks {
	struct bnode *root[2];          /* IPv4, IPv6 */
	size_t n;
	struct blocks_kernel k;
	bool has_kernel;
	blocks_end_fn *end_fn;
	void *end_arg;
};

static int fam(const struct ipaddr *a)
{
	return a->family == AF_INET6;
}

static int bit_at(const struct ipaddr *a, int i)
{
	return (a->b[i / 8] >> (7 - i % 8)) & 1;
}

/* node key k contains prefix c (k is c or wider) */
static bool key_contains(const struct cidr *k, const struct cidr *c)
{
	return k->len <= c->len && addr_common_len(&k->addr, &c->addr, k->len) == k->len;
}

struct blocks *blocks_new(const struct blocks_kernel *k)
{
	struct blocks *b = xcalloc(1, sizeof *b);

	if (k) {
		b->k = *k;
		b->has_kernel = true;
	}
	return b;
}

static void free_tree(struct bnode *n)
{
	if (!n)
		return;
	free_tree(n->child[0]);
	free_tree(n->child[1]);
	free(n->blk);
	free(n);
}

void blocks_free(struct blocks *b)
{
	if (!b)
		return;
	free_tree(b->root[0]);
	free_tree(b->root[1]);
	free(b);
}

/* ---- the trie ---- */

static void recompute(struct bnode *n)
{
	n->count = n->blk ? 1 : 0;
	n->min_exp = n->blk ? n->blk->expiry_ms : UINT64_MAX;
	n->max_exp = n->blk ? n->blk->expiry_ms : 0;
	for (int i = 0; i < 2; i++) {
		const struct bnode *c = n->child[i];
		if (!c)
			continue;
		n->count += c->count;
		if (c->min_exp < n->min_exp)
			n->min_exp = c->min_exp;
		if (c->max_exp > n->max_exp)
			n->max_exp = c->max_exp;
	}
}

static void recompute_up(struct bnode *n)
{
	for (; n; n = n->parent)
		recompute(n);
}

static struct bnode *node_new(const struct cidr *key, struct bnode *parent)
{
	struct bnode *n = xcalloc(1, sizeof *n);

	n->key = *key;
	n->parent = parent;
	n->min_exp = UINT64_MAX;
	return n;
}

static struct bnode *find_node(const struct blocks *b, const struct cidr *c)
{
	struct bnode *n = b->root[fam(&c->addr)];

	while (n && key_contains(&n->key, c)) {
		if (n->key.len == c->len)
			return n;
		n = n->child[bit_at(&c->addr, n->key.len)];
	}
	return NULL;
}

/* The node for c, made if missing (as a branch point without a block). */
static struct bnode *insert_node(struct blocks *b, const struct cidr *c)
{
	struct bnode **pp = &b->root[fam(&c->addr)], *parent = NULL, *n, *leaf, *glue;
	struct cidr gk;
	int common;

	while ((n = *pp)) {
		common = addr_common_len(&n->key.addr, &c->addr, n->key.len < c->len ? n->key.len : c->len);
		if (common == n->key.len) {
			if (n->key.len == c->len)
				return n;
			parent = n;
			pp = &n->child[bit_at(&c->addr, n->key.len)];
			continue;
		}
		if (common == c->len) {
			/* c lies above n: put it in between */
			leaf = node_new(c, parent);
			leaf->child[bit_at(&n->key.addr, c->len)] = n;
			n->parent = leaf;
			*pp = leaf;
			recompute(leaf);
			return leaf;
		}
		/* they part at bit `common`: a branch point there */
		cidr_from_addr(&gk, &c->addr, common);
		glue = node_new(&gk, parent);
		leaf = node_new(c, glue);
		glue->child[bit_at(&c->addr, common)] = leaf;
		glue->child[bit_at(&n->key.addr, common)] = n;
		n->parent = glue;
		*pp = glue;
		recompute(glue);
		return leaf;
	}
	leaf = node_new(c, parent);
	*pp = leaf;
	return leaf;
}

static struct bnode **link_of(struct blocks *b, struct bnode *n)
{
	if (!n->parent)
		return &b->root[fam(&n->key.addr)];
	return n->parent->child[0] == n ? &n->parent->child[0] : &n->parent->child[1];
}

/* n lost its block: take it out if it no longer branches, and its parent
 * likewise; then bring the counts up to date. */
static void prune(struct blocks *b, struct bnode *n)
{
	while (n && !n->blk && !(n->child[0] && n->child[1])) {
		struct bnode *only = n->child[0] ? n->child[0] : n->child[1], *parent = n->parent;
		*link_of(b, n) = only;
		if (only)
			only->parent = parent;
		free(n);
		n = parent;
	}
	recompute_up(n);
}

/* ---- what the kernel holds ---- */

/* The widest block strictly above n, if any: then n's block is not in
 * the kernel by itself, that one's element covers it. */
static struct bnode *top_above(const struct bnode *n)
{
	struct bnode *top = NULL;

	for (struct bnode *p = n->parent; p; p = p->parent)
		if (p->blk)
			top = p;
	return top;
}

/* n's element leaves the kernel (if the kernel still has it: one whose
 * expiry has passed is gone by itself). */
static void kernel_drop(struct blocks *b, struct bnode *n, uint64_t now)
{
	if (n->kexp > now && b->has_kernel)
		b->k.del(b->k.arg, &n->key);
	n->kexp = 0;
}

/* n is a top block: its element must stay until the latest expiry below,
 * and no longer. */
static void kernel_sync(struct blocks *b, struct bnode *n, uint64_t now)
{
	uint64_t want = n->max_exp;

	if (want <= now) {
		/* nothing left to enforce (the rest expires in this sweep) */
		kernel_drop(b, n, now);
		return;
	}
	if (n->kexp == want)
		return;
	n->kexp = want;
	if (b->has_kernel)
		b->k.put(b->k.arg, &n->key, want, now);
}

typedef void node_fn(struct blocks *b, struct bnode *n, uint64_t now);

/* fn on every block below n (not n) that no block below n covers. */
static void foreach_top_below(struct blocks *b, struct bnode *n, node_fn *fn, uint64_t now)
{
	for (int i = 0; i < 2; i++) {
		struct bnode *c = n->child[i];
		if (!c)
			continue;
		if (c->blk)
			fn(b, c, now);
		else
			foreach_top_below(b, c, fn, now);
	}
}

/* ---- blocks ---- */

struct block *blocks_add(struct blocks *b, const struct cidr *c, uint64_t now_ms, uint64_t duration_ms,
			 const char *origin, const char *reason, bool *extended)
{
	struct bnode *n = insert_node(b, c), *top;

	*extended = n->blk != NULL;
	if (!n->blk) {
		n->blk = xcalloc(1, sizeof *n->blk);
		n->blk->target = *c;
		n->blk->start_ms = now_ms;
		b->n++;
	}
	n->blk->times++;
	n->blk->expiry_ms = duration_ms == DURATION_PERMANENT ? UINT64_MAX : now_ms + duration_ms;
	snprintf(n->blk->origin, sizeof n->blk->origin, "%s", origin);
	snprintf(n->blk->reason, sizeof n->blk->reason, "%s", reason);
	recompute_up(n);

	if ((top = top_above(n))) {
		/* covered: the covering element may have to stay longer */
		kernel_sync(b, top, now_ms);
	} else {
		/* a top block; what was on top below it is covered now and
		 * leaves first (the set cannot hold both) */
		if (!*extended)
			foreach_top_below(b, n, kernel_drop, now_ms);
		kernel_sync(b, n, now_ms);
	}
	return n->blk;
}

struct block *blocks_find(struct blocks *b, const struct cidr *c)
{
	struct bnode *n = find_node(b, c);

	return n ? n->blk : NULL;
}

bool blocks_set_expiry(struct blocks *b, const struct cidr *c, uint64_t expiry_ms, uint64_t now_ms)
{
	struct bnode *n = find_node(b, c), *top;

	if (!n || !n->blk)
		return false;
	n->blk->expiry_ms = expiry_ms;
	recompute_up(n);
	top = top_above(n);
	kernel_sync(b, top ? top : n, now_ms);
	return true;
}

static bool remove_entry(struct blocks *b, const struct cidr *c, uint64_t now, bool in_kernel,
			 enum blocks_end how)
{
	struct bnode *n = find_node(b, c), *top;

	if (!n || !n->blk)
		return false;
	if (b->end_fn)
		b->end_fn(b->end_arg, n->blk, how);
	top = top_above(n);
	free(n->blk);
	n->blk = NULL;
	b->n--;
	recompute_up(n);
	if (top) {
		/* the covering element may end sooner now */
		kernel_sync(b, top, now);
	} else {
		/* n's element goes; what it covered takes its place, in the
		 * same batch, after it */
		if (in_kernel)
			kernel_drop(b, n, now);
		n->kexp = 0;
		foreach_top_below(b, n, kernel_sync, now);
	}
	prune(b, n);
	return true;
}

bool blocks_remove(struct blocks *b, const struct cidr *c, uint64_t now_ms)
{
	return remove_entry(b, c, now_ms, true, BLOCKS_REMOVED);
}

bool blocks_forget(struct blocks *b, const struct cidr *c, uint64_t now_ms)
{
	return remove_entry(b, c, now_ms, false, BLOCKS_FORGOTTEN);
}

void blocks_on_end(struct blocks *b, blocks_end_fn *fn, void *arg)
{
	b->end_fn = fn;
	b->end_arg = arg;
}

bool blocks_is_top(const struct blocks *b, const struct cidr *c)
{
	const struct bnode *n = find_node(b, c);

	return n && n->blk && !top_above(n);
}

struct block *blocks_covering(struct blocks *b, const struct ipaddr *a)
{
	struct cidr c;
	struct bnode *n;
	struct block *found = NULL;

	cidr_from_addr(&c, a, addr_bits(a));
	for (n = b->root[fam(a)]; n && key_contains(&n->key, &c); n = n->child[bit_at(a, n->key.len)]) {
		if (n->blk)
			found = n->blk;
		if (n->key.len == c.len)
			break;
	}
	return found;
}

size_t blocks_count_inside(const struct blocks *b, const struct cidr *p)
{
	const struct bnode *n = b->root[fam(&p->addr)];

	/* down to the first node at or below p */
	while (n && n->key.len < p->len && key_contains(&n->key, p))
		n = n->child[bit_at(&p->addr, n->key.len)];
	if (!n || !key_contains(p, &n->key))
		return 0;
	return n->count - (n->key.len == p->len && n->blk ? 1 : 0);
}

/* Expired entries below and at n, the deepest first. */
static void collect_expired(const struct bnode *n, uint64_t now, struct cidr **v, size_t *len, size_t *alloc)
{
	if (!n || n->min_exp > now)
		return;
	collect_expired(n->child[0], now, v, len, alloc);
	collect_expired(n->child[1], now, v, len, alloc);
	if (n->blk && n->blk->expiry_ms <= now) {
		XGROW(*v, *alloc, *len + 1);
		(*v)[(*len)++] = n->key;
	}
}

size_t blocks_expire(struct blocks *b, uint64_t now_ms)
{
	struct cidr *v = NULL;
	size_t n = 0, alloc = 0;

	for (int f = 0; f < 2; f++)
		collect_expired(b->root[f], now_ms, &v, &n, &alloc);
	for (size_t i = 0; i < n; i++)
		remove_entry(b, &v[i], now_ms, true, BLOCKS_EXPIRED);
	free(v);
	return n;
}

uint64_t blocks_next_expiry(const struct blocks *b)
{
	uint64_t next = UINT64_MAX;

	for (int f = 0; f < 2; f++)
		if (b->root[f] && b->root[f]->min_exp < next)
			next = b->root[f]->min_exp;
	return next;
}

size_t blocks_count(const struct blocks *b)
{
	return b->n;
}

static void walk(const struct bnode *n, blocks_fn *fn, void *arg)
{
	if (!n)
		return;
	if (n->blk)
		fn(arg, n->blk);
	walk(n->child[0], fn, arg);
	walk(n->child[1], fn, arg);
}

void blocks_foreach(const struct blocks *b, blocks_fn *fn, void *arg)
{
	walk(b->root[0], fn, arg);
	walk(b->root[1], fn, arg);
}

static void walk_top(const struct bnode *n, uint64_t now, blocks_elem_fn *fn, void *arg)
{
	if (!n)
		return;
	if (n->blk) {
		if (n->kexp > now)
			fn(arg, &n->key, n->kexp);
		return;
	}
	walk_top(n->child[0], now, fn, arg);
	walk_top(n->child[1], now, fn, arg);
}

void blocks_kernel_foreach(const struct blocks *b, uint64_t now_ms, blocks_elem_fn *fn, void *arg)
{
	walk_top(b->root[0], now_ms, fn, arg);
	walk_top(b->root[1], now_ms, fn, arg);
}
