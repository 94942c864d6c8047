/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * judge - the way from an event to a block, shared by the daemon and by
 * replay: the screen counts the event; a decision is checked against what
 * no block may cover (protect.h: narrowed around the offender or
 * refused), given its duration by the policy (an extension of a block
 * still running, or the how-manieth block of a repeat offender), handed
 * to a sink that makes it, and followed by the [prefix] check. Log-only
 * rules and a paused daemon stop short of the sink. Every decision is
 * logged here, in the daemon's words.
 *
 * Time is whatever the caller says it is: the wall clock live, a line's
 * own stamp when catching up or replaying. Owns nothing: the screen, the
 * blocks the policy reads, the repeat history and the configuration are
 * the caller's. Must never: make a block itself (the sink does), hand the
 * sink a target that covers a protected address, or let the attacker's
 * text reach the log unescaped.
 */
#ifndef MS_JUDGE_H
#define MS_JUDGE_H

#include "addr.h"
#include "blocks.h"
#include "config.h"
#include "event.h"
#include "line.h"
#include "screen.h"
#include "window.h"

#include <stdbool.h>
#include <stdint.h>

enum judge_what { JUDGE_ADDR, JUDGE_ACCOUNT, JUDGE_PREFIX };

/* One block to make, as the sink gets it. */
struct judge_block {
	enum judge_what what;
	struct cidr target;             /* JUDGE_ADDR, JUDGE_PREFIX: after protect */
	const char *user;               /* JUDGE_ACCOUNT: the account, lower case (attacker's text) */
	size_t userlen;
	const struct rule *rule;        /* NULL for JUDGE_PREFIX */
	const char *origin;             /* the rule's name, or "prefix" */
	const char *reason;             /* "5 auth-fail within 10m", "4 addresses of 203.0.113.0/24 blocked" */
	uint32_t count;                 /* events within the window (JUDGE_PREFIX: blocks inside) */
	uint64_t at_ms;                 /* the judge's time */
	uint64_t dur_ms;                /* DURATION_PERMANENT for ever */
	bool extend;                    /* the policy extends a block still running */
	uint32_t times;                 /* the how-manieth block within repeat memory */
	const struct decision *dc;      /* the screen's decision (NULL for JUDGE_PREFIX) */
	const struct logline *ll;       /* the line that decided */
};

struct judge_sink {
	/* Make jb. 0, or -1 with a message (logged by the judge). */
	int (*block)(void *arg, const struct judge_block *jb, char *err, size_t errlen);
	/* The host's own addresses at now_ms (protect.h). */
	const struct cidrlist *(*host)(void *arg, uint64_t now_ms);
	void *arg;
};

struct judge {
	const struct config *cfg;
	struct screen *screen;
	struct blocks *blocks;          /* the blocks in force at the judge's time (policy, [prefix]) */
	struct wtable *offenders;       /* repeat history (policy.h) */
	const struct judge_sink *sink;
	bool paused;                    /* decisions are logged and counted, not made; counts stay */
	const char *note;               /* appended to each block's log line (" (dry run)"), or "" */
	uint64_t paused_decisions;      /* counters, added to */
	uint64_t refused;               /* decisions on protected targets, never made */
};

/* Feed one event at now_ms; the line's other events follow, then the
 * caller ends the line with screen_end_line(). Returns the screen's
 * decisions. */
int judge_event(struct judge *j, const struct event *ev, const struct logline *ll, uint64_t now_ms);
/* A decision made elsewhere (the cluster's shared count reached a
 * shared rule's limit), carried out as the screen's own would be: ev
 * and ll stand for what decided. Returns whether it was carried out. */
bool judge_decision(struct judge *j, const struct decision *dc, const struct event *ev, const struct logline *ll,
		    uint64_t now_ms);

#endif
