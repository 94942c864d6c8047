/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * screen - the rules at work: events in, decisions out.
 *
 * Owns one sliding-window table per rule (kept by rule name across
 * reloads, so counters survive a SIGHUP), the allow list, the NAT
 * exemptions, and what it knows of sessions: which authenticated, and
 * which addresses logged in lately. Exempt events are never counted:
 * loopback, allowed addresses, authenticated sessions and addresses (for
 * rules with exempt_authenticated), failed logins of a NAT'd office's
 * own domain (for per-address rules) and, for per-account rules only,
 * the accounts of [allow] account; the host's own addresses are exempt
 * like loopback. An event marked only_if_counted counts for a rule only
 * when its key already has a counted event in that rule's window: it can
 * add to a count, never start one. A key that reaches its rule's limit
 * produces a decision and its window starts over. Every table is bounded
 * by the kind of key it holds (max_keys for addresses, max_accounts,
 * max_sessions), drops its least recently seen key beyond that and counts
 * it. A location rule (countries, not_countries) counts only addresses
 * the country database (geo.h, borrowed) places in (or outside) its
 * countries, looked up once per event and only when such a rule would
 * count it; without a database it counts nothing. Never blocks anything
 * itself.
 */
#ifndef MS_SCREEN_H
#define MS_SCREEN_H

#include "addr.h"
#include "allow.h"
#include "config.h"
#include "event.h"
#include "geo.h"
#include "line.h"
#include "rules.h"

#include <stdint.h>

struct screen;

struct screen_opts {
	const struct cidrlist *allow;   /* [allow] of the configuration */
	const struct nat_cfg *nat;      /* failed logins of domain's users from range never count */
	size_t nnat;
	/* [allow] account: accounts per-account rules never count, lower case,
	 * exact names or "*@domain" */
	char *const *exempt_accounts;
	size_t nexempt_accounts;
	size_t max_keys;                /* per table of addresses or prefixes */
	size_t max_accounts;            /* per table of accounts (0: max_keys) */
	size_t max_sessions;            /* per table of sessions (0: max_keys) */
	uint64_t auth_ttl_ms;           /* an address that logged in is "authenticated" this long */
};

enum decision_kind { DECIDE_ADDR, DECIDE_ACCOUNT };

struct decision {
	const struct rule *rule;
	enum decision_kind kind;
	struct cidr target;     /* DECIDE_ADDR: the address or prefix counted */
	const char *user;       /* DECIDE_ACCOUNT: the account, lower case */
	size_t userlen;
	uint32_t count;         /* events within the window (= limit) */
	const void *key;        /* the rule's key for it (as screen_count_fn got it) */
	size_t klen;
	uint16_t country;       /* a location rule's: the address's country (geo.h); else GEO_NONE */
};

/* Returns whether the decision was carried out: if not (paused), the key
 * keeps its count, so that the next event after a resume decides again. */
typedef bool decision_fn(void *arg, const struct decision *d, const struct event *ev, const struct logline *ll);

/* The tables by what they are keyed with, each kind with a bound of its
 * own per table: rules per ip (and addresses that logged in), per
 * account, per session (and sessions that logged in). */
enum screen_table { TABLE_ADDRESSES, TABLE_ACCOUNTS, TABLE_SESSIONS, SCREEN_NTABLES };

struct screen_table_stats {
	size_t keys, max;               /* keys in all tables of the kind; bound per table */
	uint64_t evictions;             /* least recently seen keys dropped at the bound */
};

struct screen_stats {
	uint64_t events[EV_NKINDS];
	uint64_t located;       /* events counted by location rules */
	uint64_t unlocated;     /* events location rules could not screen: no database */
	uint64_t exempt, decisions;
	uint64_t exempt_accounts;       /* events per-account rules left out: [allow] account */
	uint64_t uncounted;     /* only_if_counted events that found no count to add to */
	uint64_t duplicates;    /* events whose every attempt an earlier line counted */
	uint64_t evictions;             /* of every kind */
	size_t tracked;                 /* keys of every kind */
	struct screen_table_stats table[SCREEN_NTABLES];
};
const char *screen_table_name(enum screen_table t);

/* One rule at work: kept by the rule's name across reloads, like its
 * window. */
struct screen_rule_stats {
	const struct rule *rule;
	size_t keys;                    /* keys tracked now */
	uint64_t counted;               /* events counted since start */
	uint64_t decisions;             /* times its limit was reached since start */
	uint64_t blocks;                /* blocks made for it since start (screen_note_block) */
	uint64_t blocks_before;         /* blocks made for it before this start (the saved state's) */
	uint64_t evictions;
	/* a shared rule's events: taken by the cluster, counted alone (the
	 * cluster away); decisions the cluster's count made here */
	uint64_t shared_sent, shared_alone, shared_decisions;
};
size_t screen_rule_count(const struct screen *s);
void screen_rule_stats(const struct screen *s, size_t i, struct screen_rule_stats *rs);
/* The index of the rule of this name, or -1. */
long screen_rule_find(const struct screen *s, const char *name);
/* A block (or an account block) was made for rule r's decision. */
void screen_note_block(struct screen *s, const struct rule *r);
/* The cluster's shared count decided for shared rule r here. */
void screen_note_shared_decision(struct screen *s, const struct rule *r);
/* Restoring: the blocks the rule of this name made before (unknown
 * names are skipped). */
void screen_set_blocks_before(struct screen *s, const char *name, uint64_t n);

struct screen *screen_new(void);
void screen_free(struct screen *s);
/* Take the rules (moved: *rs is left empty) and the options (copied).
 * Windows of rules that keep their name and key keep their counts; the
 * allow list keeps its manual entries. */
void screen_configure(struct screen *s, struct ruleset *rs, const struct screen_opts *o);
/* Feed one event seen at now_ms (wall clock). Returns decisions made. A
 * disconnect takes effect at screen_end_line(), so that the other events
 * of the same line still belong to the session. */
int screen_event(struct screen *s, const struct event *ev, const struct logline *ll, uint64_t now_ms,
		 decision_fn *fn, void *arg);
void screen_end_line(struct screen *s);
/* Told of every event a rule counted, before any decision it makes, with
 * the rule's key (for those who keep what made a decision: replay's
 * evidence). NULL: nobody (the daemon). */
typedef void screen_count_fn(void *arg, const struct rule *r, const void *key, size_t klen, uint64_t now_ms,
			     const struct logline *ll);
void screen_set_count_hook(struct screen *s, screen_count_fn *fn, void *arg);
/* Told of every event a shared rule (shared = yes) counted, with what its
 * decision would be (d: rule, kind, target or account, count; the rule's
 * index ri). The rule always counts locally too; true: the cluster took
 * the events, and decides for the key, so the screen makes no decision of
 * its own for them (the window keeps the count); false (the cluster away,
 * or no hook): the rule decides alone, as one not shared. */
typedef bool screen_shared_fn(void *arg, size_t ri, const struct decision *d, unsigned long cnt, uint64_t now_ms);
void screen_set_shared_hook(struct screen *s, screen_shared_fn *fn, void *arg);
/* A key of events the shared count took but did not decide for (or lost:
 * Redis refused them, the connection went): whether rule ri's own count of d's key (an address
 * of a rule per ip, or an account of a rule per account) reached its
 * limit; if so the key is forgotten and the caller decides, as the
 * screen would have for a rule not shared. */
bool screen_local_reached(struct screen *s, size_t ri, const struct decision *d, uint64_t now_ms);
bool screen_exempt(const struct screen *s, const struct ipaddr *a, uint64_t now_ms);
/* Why an event was not counted although its kind was: told to the
 * exempt hook ([logging] allow_hits). */
enum screen_exempt_why { EXEMPT_LOOPBACK, EXEMPT_HOST, EXEMPT_ALLOW, EXEMPT_NAT, EXEMPT_AUTHENTICATED,
			 EXEMPT_ACCOUNT };
struct screen_exemption {
	enum screen_exempt_why why;
	struct cidr entry;              /* EXEMPT_HOST, EXEMPT_ALLOW, EXEMPT_NAT: the entry that matched */
	bool manual;                    /* EXEMPT_ALLOW: added at run time (allow command) */
	const char *domain;             /* EXEMPT_NAT: the [nat] domain; EXEMPT_ACCOUNT: the [allow] account */
	const struct rule *rule;        /* EXEMPT_NAT, EXEMPT_AUTHENTICATED, EXEMPT_ACCOUNT: the rule that did
					 * not count it */
};
/* Told of every exemption (once per event for an exempt address, once
 * per rule for the others). NULL: nobody. */
typedef void screen_exempt_fn(void *arg, const struct event *ev, const struct screen_exemption *x);
void screen_set_exempt_hook(struct screen *s, screen_exempt_fn *fn, void *arg);
/* The [allow] account entry the account (any case) matches, or NULL:
 * per-account rules never count its events. */
const char *screen_account_exempt(const struct screen *s, const char *user, size_t len);
struct allowlist *screen_allowlist(struct screen *s);
/* This host's own addresses (copied): exempt like loopback. */
void screen_set_host(struct screen *s, const struct cidrlist *host);
const struct cidrlist *screen_host(const struct screen *s);
/* The country database location rules ask (borrowed; NULL: none, and
 * location rules count nothing). Looked up once per event, only when a
 * location rule would count it; a replaced file is read again (geo.h). */
void screen_set_geo(struct screen *s, struct geo *g);
void screen_expire(struct screen *s, uint64_t now_ms);
void screen_stats(const struct screen *s, struct screen_stats *st);
/* The exempt hits so far (screen_stats' exempt), cheaply: read around one
 * event, it says whether that event was exempt, and how many times. */
uint64_t screen_exempt_hits(const struct screen *s);
const struct ruleset *screen_rules(const struct screen *s);

/* What is being counted, for "list failures" and "list accounts":
 * per key, the rule, the key as text and its events within the window. */
typedef void screen_key_fn(void *arg, const struct rule *r, const char *key, uint32_t within, uint64_t newest_ms);
void screen_foreach_key(const struct screen *s, enum rule_per per, uint64_t now_ms, screen_key_fn *fn, void *arg);
/* The same, for the i-th rule only. */
void screen_foreach_rule_key(const struct screen *s, size_t i, uint64_t now_ms, screen_key_fn *fn, void *arg);
/* The counts, for saving: table is a rule's name, or "@authsession" /
 * "@authip" for what the screen knows of logins. screen_load puts one
 * key back (unknown rules are skipped: they were removed meanwhile). */
typedef void screen_dump_fn(void *arg, const char *table, const void *key, size_t klen, const uint64_t *times,
			    uint32_t n);
void screen_dump(const struct screen *s, screen_dump_fn *fn, void *arg);
void screen_load(struct screen *s, const char *table, const void *key, size_t klen, const uint64_t *times,
		 uint32_t n);
/* Forget every count (reset failures). */
void screen_reset(struct screen *s);

#endif
