// SPDX-License-Identifier: GPL-2.0-or-later
/* allow - see allow.h. Owns its array; allow lists are short (tens of
 * entries), so a linear scan is the right structure. */
#include "allow.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

static bool same(const struct cidr *a, const struct cidr *b)
{
	return a->len == b->len && addr_equal(&a->addr, &b->addr);
}

static void remove_at(struct allowlist *a, size_t i)
{
	memmove(a->v + i, a->v + i + 1, (a->n - i - 1) * sizeof *a->v);
	a->n--;
	a->gen++;
}

void allow_set_config(struct allowlist *a, const struct cidrlist *cfg)
{
	for (size_t i = a->n; i > 0; i--)
		if (a->v[i - 1].origin == ALLOW_CONFIG)
			remove_at(a, i - 1);
	for (size_t i = 0; cfg && i < cfg->n; i++) {
		XGROW(a->v, a->alloc, a->n + 1);
		a->v[a->n++] = (struct allow_entry){ cfg->v[i], ALLOW_CONFIG, UINT64_MAX };
	}
	a->gen++;
}

bool allow_add(struct allowlist *a, const struct cidr *c, uint64_t expiry_ms)
{
	for (size_t i = 0; i < a->n; i++)
		if (same(&a->v[i].target, c)) {
			if (a->v[i].origin == ALLOW_CONFIG)
				return false;
			a->v[i].expiry_ms = expiry_ms;
			a->gen++;
			return true;
		}
	XGROW(a->v, a->alloc, a->n + 1);
	a->v[a->n++] = (struct allow_entry){ *c, ALLOW_MANUAL, expiry_ms };
	a->gen++;
	return true;
}

bool allow_remove(struct allowlist *a, const struct cidr *c)
{
	for (size_t i = 0; i < a->n; i++)
		if (a->v[i].origin == ALLOW_MANUAL && same(&a->v[i].target, c)) {
			remove_at(a, i);
			return true;
		}
	return false;
}

size_t allow_clear_manual(struct allowlist *a)
{
	size_t n = 0;

	for (size_t i = a->n; i > 0; i--)
		if (a->v[i - 1].origin == ALLOW_MANUAL) {
			remove_at(a, i - 1);
			n++;
		}
	return n;
}

const struct allow_entry *allow_match(const struct allowlist *a, const struct ipaddr *ip, uint64_t now_ms)
{
	for (size_t i = 0; i < a->n; i++)
		if (a->v[i].expiry_ms > now_ms && cidr_contains(&a->v[i].target, ip))
			return &a->v[i];
	return NULL;
}

size_t allow_expire(struct allowlist *a, uint64_t now_ms)
{
	size_t n = 0;

	for (size_t i = a->n; i > 0; i--)
		if (a->v[i - 1].expiry_ms <= now_ms) {
			remove_at(a, i - 1);
			n++;
		}
	return n;
}

void allow_release(struct allowlist *a)
{
	free(a->v);
	memset(a, 0, sizeof *a);
}
