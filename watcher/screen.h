/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * screen - the rules at work: events in, decisions out.
 *
 * Owns one sliding-window table per rule (kept by rule name across
 * reloads, so counters survive a SIGHUP) and the exemptions: loopback and
 * the allow list are never counted. When a key reaches its rule's limit the
 * decision callback runs and the key's window is cleared.
 */
#ifndef MS_SCREEN_H
#define MS_SCREEN_H

#include "addr.h"
#include "event.h"
#include "line.h"
#include "rules.h"

#include <stdint.h>

struct screen;

struct decision {
	const struct rule *rule;
	struct cidr target;     /* the key: an address or the prefix counted */
	uint32_t count;         /* events within the window (= limit) */
};

typedef void decision_fn(void *arg, const struct decision *d, const struct event *ev, const struct logline *ll);

struct screen_stats {
	uint64_t events[EV_NKINDS];
	uint64_t exempt, decisions, evictions;
	size_t tracked;
};

struct screen *screen_new(void);
void screen_free(struct screen *s);
/* Take the rules (moved: *rs is left empty) and the allow list (copied).
 * Windows of rules that keep their name keep their counts. */
void screen_configure(struct screen *s, struct ruleset *rs, const struct cidrlist *allow, size_t max_keys);
/* Feed one event seen at now_ms (wall clock). Returns decisions made. */
int screen_event(struct screen *s, const struct event *ev, const struct logline *ll, uint64_t now_ms,
		 decision_fn *fn, void *arg);
bool screen_exempt(const struct screen *s, const struct ipaddr *a);
void screen_expire(struct screen *s, uint64_t now_ms);
void screen_stats(const struct screen *s, struct screen_stats *st);
const struct ruleset *screen_rules(const struct screen *s);

#endif
