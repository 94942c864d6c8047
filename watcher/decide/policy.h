/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * policy - what a rule's decision to block an address means, given the
 * blocks already made: extend a block whose lines are still in flight, or
 * make a new one that lasts as long as the address's history of blocks
 * says ([repeat]); and, once enough addresses of one prefix are blocked,
 * the prefix to block ([prefix]).
 *
 * Owns nothing: it reads the blocks, the repeat history (a window table
 * the caller keeps, and saves) and the configuration, and returns plain
 * data. Must never block, log or touch the kernel itself; what no block
 * may cover (protect.h) is the caller's check.
 */
#ifndef MS_POLICY_H
#define MS_POLICY_H

#include "addr.h"
#include "blocks.h"
#include "config.h"
#include "window.h"

#include <stdbool.h>
#include <stdint.h>

struct policy_verdict {
	bool extend;            /* the block exists and is the rule's own, still running: extend it as it is */
	uint64_t dur_ms;        /* how long (DURATION_PERMANENT for ever) */
	uint32_t times;         /* the how-manieth block of this target within repeat memory (1: the first) */
};

/* Rule `rule` decided to block target at now_ms for base_ms. A new block
 * is recorded in history (offenders); an extension is not. */
void policy_decide(const struct config *c, struct blocks *b, struct wtable *offenders, const struct cidr *target,
		   const char *rule, uint64_t base_ms, uint64_t now_ms, struct policy_verdict *v);
/* [repeat]: the duration of the times-th block whose first lasted base_ms. */
uint64_t policy_repeat_duration(const struct config *c, uint64_t base_ms, uint32_t times);
/* [prefix]: target was just blocked; is its prefix to be blocked now? Then
 * *prefix is it and *n the number of blocks inside it. Not when [prefix]
 * is off, target is no narrower than the prefix, the prefix (or wider) is
 * blocked already, or fewer than threshold blocks lie inside it. */
bool policy_prefix(const struct config *c, struct blocks *b, const struct cidr *target, struct cidr *prefix,
		   size_t *n);

#endif
