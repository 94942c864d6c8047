// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * history - see history.h. A ring of fixed-size entries: adding never
 * allocates once the ring is full, and the bound is its size.
 */
#include "history.h"

#include "xalloc.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct history {
	struct history_entry *v;        /* max entries */
	size_t max, head, n;            /* head: the oldest */
};

struct history *history_new(size_t max)
{
	struct history *h = xcalloc(1, sizeof *h);

	history_set_max(h, max);
	return h;
}

void history_free(struct history *h)
{
	if (!h)
		return;
	free(h->v);
	free(h);
}

void history_set_max(struct history *h, size_t max)
{
	struct history_entry *v;
	size_t keep = h->n < max ? h->n : max;

	if (max == h->max && h->v)
		return;
	v = xcalloc(max ? max : 1, sizeof *v);
	/* the newest keep entries, oldest first */
	for (size_t i = 0; i < keep; i++)
		v[i] = h->v[(h->head + h->n - keep + i) % h->max];
	free(h->v);
	h->v = v;
	h->max = max;
	h->head = 0;
	h->n = keep;
}

void history_add(struct history *h, const struct history_entry *e)
{
	if (!h->max)
		return;
	if (h->n == h->max) {
		h->v[h->head] = *e;
		h->head = (h->head + 1) % h->max;
		return;
	}
	h->v[(h->head + h->n) % h->max] = *e;
	h->n++;
}

size_t history_count(const struct history *h)
{
	return h->n;
}

const struct history_entry *history_get(const struct history *h, size_t i)
{
	return i < h->n ? &h->v[(h->head + i) % h->max] : NULL;
}

bool history_match(const struct history_query *q, bool account, const struct cidr *target, const char *user)
{
	switch (q->what) {
	case HQ_ALL:
		return true;
	case HQ_ACCOUNT:
		return account && strcasecmp(user, q->user) == 0;
	case HQ_TARGET:
		/* the block lies in the range asked for, or covers it */
		return !account && target->addr.family == q->target.addr.family &&
		       (cidr_contains(&q->target, &target->addr) ? target->len >= q->target.len :
			cidr_contains(target, &q->target.addr));
	}
	return false;
}
