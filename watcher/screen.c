// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * screen - see screen.h. Owns the ruleset in force, a window table per
 * rule and a copy of the allow list. Never blocks anything itself: it
 * only decides.
 */
#include "screen.h"
#include "log.h"
#include "window.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

struct screen {
	struct ruleset rules;
	struct wtable **win;    /* parallel to rules.v */
	struct cidrlist allow;
	uint64_t events[EV_NKINDS], exempt, decisions, evictions_gone;
};

struct screen *screen_new(void)
{
	return xcalloc(1, sizeof(struct screen));
}

void screen_free(struct screen *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->rules.n; i++)
		window_free(s->win[i]);
	free(s->win);
	ruleset_release(&s->rules);
	cidrlist_release(&s->allow);
	free(s);
}

void screen_configure(struct screen *s, struct ruleset *rs, const struct cidrlist *allow, size_t max_keys)
{
	struct wtable **win = xcalloc(rs->n ? rs->n : 1, sizeof *win);

	for (size_t i = 0; i < rs->n; i++) {
		struct rule *r = &rs->v[i];
		for (size_t j = 0; j < s->rules.n; j++)
			if (s->win[j] && strcmp(s->rules.v[j].name, r->name) == 0 && s->rules.v[j].per == r->per) {
				win[i] = s->win[j];
				s->win[j] = NULL;
				window_reconfigure(win[i], r->limit, r->window_ms, max_keys);
			}
		if (!win[i])
			win[i] = window_new(r->limit, r->window_ms, max_keys);
	}
	for (size_t j = 0; j < s->rules.n; j++)
		if (s->win[j]) {
			s->evictions_gone += window_evictions(s->win[j]);
			window_free(s->win[j]);
		}
	free(s->win);
	ruleset_release(&s->rules);
	s->rules = *rs;
	memset(rs, 0, sizeof *rs);
	s->win = win;
	cidrlist_release(&s->allow);
	for (size_t i = 0; allow && i < allow->n; i++)
		cidrlist_add(&s->allow, &allow->v[i]);
}

bool screen_exempt(const struct screen *s, const struct ipaddr *a)
{
	return addr_is_loopback(a) || cidrlist_contains(&s->allow, a);
}

int screen_event(struct screen *s, const struct event *ev, const struct logline *ll, uint64_t now_ms,
		 decision_fn *fn, void *arg)
{
	int n = 0;

	s->events[ev->kind]++;
	if (!ev->has_ip)
		return 0;
	if (screen_exempt(s, &ev->ip)) {
		s->exempt++;
		return 0;
	}
	for (size_t i = 0; i < s->rules.n; i++) {
		const struct rule *r = &s->rules.v[i];
		struct decision d;
		unsigned char key[17];
		bool reached;
		uint32_t within;

		if (!r->enabled || !(r->kinds & (1u << ev->kind)) ||
		    !rule_wants_service(r, ev->service, ev->servicelen))
			continue;
		cidr_from_addr(&d.target, &ev->ip, ev->ip.family == AF_INET ? r->ipv4_prefix : r->ipv6_prefix);
		key[0] = d.target.addr.family;
		memcpy(key + 1, d.target.addr.b, 16);
		within = window_hit(s->win[i], key, sizeof key, now_ms, ev->count, &reached);
		if (!reached)
			continue;
		window_forget(s->win[i], key, sizeof key);
		d.rule = r;
		d.count = within;
		s->decisions++;
		n++;
		fn(arg, &d, ev, ll);
	}
	return n;
}

void screen_expire(struct screen *s, uint64_t now_ms)
{
	for (size_t i = 0; i < s->rules.n; i++)
		window_expire(s->win[i], now_ms);
}

void screen_stats(const struct screen *s, struct screen_stats *st)
{
	memset(st, 0, sizeof *st);
	memcpy(st->events, s->events, sizeof st->events);
	st->exempt = s->exempt;
	st->decisions = s->decisions;
	st->evictions = s->evictions_gone;
	for (size_t i = 0; i < s->rules.n; i++) {
		st->tracked += window_size(s->win[i]);
		st->evictions += window_evictions(s->win[i]);
	}
}

const struct ruleset *screen_rules(const struct screen *s)
{
	return &s->rules;
}
