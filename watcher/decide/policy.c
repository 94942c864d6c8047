// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * policy - see policy.h.
 */
#include "policy.h"
#include "duration.h"

#include <string.h>

uint64_t policy_repeat_duration(const struct config *c, uint64_t base_ms, uint32_t times)
{
	uint64_t dur = base_ms;

	if (base_ms == DURATION_PERMANENT)
		return base_ms;
	if (c->repeat_permanent_after && times >= c->repeat_permanent_after)
		return DURATION_PERMANENT;
	for (uint32_t i = 1; i < times && dur < c->repeat_max_ms; i++)
		dur = dur > UINT64_MAX / c->repeat_factor ? UINT64_MAX : dur * c->repeat_factor;
	return dur > c->repeat_max_ms ? c->repeat_max_ms : dur;
}

void policy_decide(const struct config *c, struct blocks *b, struct wtable *offenders, const struct cidr *target,
		   const char *rule, uint64_t base_ms, uint64_t now_ms, struct policy_verdict *v)
{
	const struct block *cur = blocks_find(b, target);
	unsigned char key[CIDR_KEY_LEN];
	bool reached;

	/* lines still in flight from an address blocked a moment ago are no
	 * new offence: extend the block as it is */
	if (cur && cur->expiry_ms > now_ms && strcmp(cur->origin, rule) == 0) {
		v->extend = true;
		v->dur_ms = cur->expiry_ms == UINT64_MAX ? DURATION_PERMANENT : cur->expiry_ms - cur->start_ms;
		v->times = 1;
		return;
	}
	v->extend = false;
	cidr_key(target, key);
	v->times = window_hit(offenders, key, sizeof key, now_ms, 1, &reached);
	v->dur_ms = policy_repeat_duration(c, base_ms, v->times);
}

bool policy_prefix(const struct config *c, struct blocks *b, const struct cidr *target, struct cidr *prefix,
		   size_t *n)
{
	const struct block *have;

	if (!c->prefix_enabled)
		return false;
	cidr_from_addr(prefix, &target->addr, target->addr.family == AF_INET ? (int)c->prefix_v4 : (int)c->prefix_v6);
	if (target->len <= prefix->len)
		return false;
	if ((have = blocks_covering(b, &prefix->addr)) && have->target.len <= prefix->len)
		return false;
	*n = blocks_count_inside(b, prefix);
	return *n >= c->prefix_threshold;
}
