// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * screen - see screen.h. Owns the ruleset in force, a window table per
 * rule, the allow list, the NAT exemptions, the exempt accounts and two small tables built on
 * the same windows: sessions that authenticated (until they disconnect)
 * and addresses that logged in lately (for auth_ttl). Location rules ask
 * the country database (borrowed) once per event, and their hits are
 * logged, at most LOC_LOG_MAX lines a minute.
 */
#include "screen.h"
#include "log.h"
#include "window.h"
#include "xalloc.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SESSION_TTL_MS (24ULL * 3600 * 1000)    /* a session longer than a day is forgotten */
#define DEFAULT_MAX_KEYS 100000                 /* without options (the daemon always gives them) */
#define MAX_PENDING 8
#define LOC_LOG_MAX 20                          /* location hits logged per minute */
#define LOC_LOG_MS (60 * 1000)

/* a rule's counters (screen_rule_stats) */
struct rcount {
	uint64_t counted, decisions, blocks, blocks_before;
	uint64_t shared_sent, shared_alone, shared_decisions;
};

struct screen {
	struct ruleset rules;
	struct wtable **win;            /* parallel to rules.v */
	struct rcount *rc;              /* parallel to rules.v */
	struct allowlist allow;
	struct cidrlist host;           /* this host's own addresses */
	struct nat_cfg *nat;
	size_t nnat;
	char **xacct;                   /* [allow] account, lower case */
	size_t nxacct;
	uint64_t xacct_events;
	struct wtable *auth_sessions;   /* session keys that logged in */
	struct wtable *auth_ips;        /* addresses that logged in within auth_ttl */
	uint64_t auth_ttl_ms;
	/* disconnects seen on the current line, applied at its end */
	char pending[MAX_PENDING][WINDOW_KEY_MAX];
	uint8_t pending_len[MAX_PENDING];
	int npending;
	size_t max[SCREEN_NTABLES];     /* bound per table of each kind */
	uint64_t events[EV_NKINDS], exempt, decisions, uncounted, duplicates;
	uint64_t evictions_gone[SCREEN_NTABLES];        /* of tables dropped at a reload */
	screen_count_fn *count_fn;
	void *count_arg;
	screen_shared_fn *shared_fn;
	void *shared_arg;
	screen_exempt_fn *exempt_fn;
	void *exempt_arg;
	struct geo *geo;                /* borrowed; NULL: no location */
	uint64_t located, unlocated;
	uint64_t loc_log_start;         /* the minute location hits are logged in */
	uint32_t loc_logged, loc_quiet; /* lines in it, hits not logged in it */
};

static const char *const table_names[SCREEN_NTABLES] = { "addresses", "accounts", "sessions" };

const char *screen_table_name(enum screen_table t)
{
	return t < SCREEN_NTABLES ? table_names[t] : "?";
}

static enum screen_table table_of(enum rule_per per)
{
	return per == PER_ACCOUNT ? TABLE_ACCOUNTS : per == PER_SESSION ? TABLE_SESSIONS : TABLE_ADDRESSES;
}

struct screen *screen_new(void)
{
	struct screen *s = xcalloc(1, sizeof *s);

	for (int t = 0; t < SCREEN_NTABLES; t++)
		s->max[t] = DEFAULT_MAX_KEYS;
	s->auth_ttl_ms = 3600 * 1000;
	s->auth_sessions = window_new(1, SESSION_TTL_MS, s->max[TABLE_SESSIONS]);
	s->auth_ips = window_new(1, s->auth_ttl_ms, s->max[TABLE_ADDRESSES]);
	return s;
}

static void set_exempt_accounts(struct screen *s, char *const *v, size_t n)
{
	for (size_t i = 0; i < s->nxacct; i++)
		free(s->xacct[i]);
	free(s->xacct);
	s->xacct = NULL;
	s->nxacct = n;
	if (!n)
		return;
	s->xacct = xcalloc(n, sizeof *s->xacct);
	for (size_t i = 0; i < n; i++)
		s->xacct[i] = xstrdup(v[i]);
}

void screen_free(struct screen *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->rules.n; i++)
		window_free(s->win[i]);
	free(s->win);
	free(s->rc);
	ruleset_release(&s->rules);
	allow_release(&s->allow);
	cidrlist_release(&s->host);
	free(s->nat);
	set_exempt_accounts(s, NULL, 0);
	window_free(s->auth_sessions);
	window_free(s->auth_ips);
	free(s);
}

void screen_configure(struct screen *s, struct ruleset *rs, const struct screen_opts *o)
{
	struct wtable **win = xcalloc(rs->n ? rs->n : 1, sizeof *win);
	struct rcount *rc = xcalloc(rs->n ? rs->n : 1, sizeof *rc);

	if (o && o->max_keys) {
		s->max[TABLE_ADDRESSES] = o->max_keys;
		s->max[TABLE_ACCOUNTS] = o->max_accounts ? o->max_accounts : o->max_keys;
		s->max[TABLE_SESSIONS] = o->max_sessions ? o->max_sessions : o->max_keys;
	}
	for (size_t i = 0; i < rs->n; i++) {
		struct rule *r = &rs->v[i];
		uint32_t cap = r->limit ? r->limit : 1;
		size_t max = s->max[table_of(r->per)];
		for (size_t j = 0; j < s->rules.n; j++)
			if (strcmp(s->rules.v[j].name, r->name) == 0)
				rc[i] = s->rc[j];
		for (size_t j = 0; j < s->rules.n; j++)
			if (s->win[j] && strcmp(s->rules.v[j].name, r->name) == 0 && s->rules.v[j].per == r->per) {
				win[i] = s->win[j];
				s->win[j] = NULL;
				window_reconfigure(win[i], cap, r->window_ms, max);
			}
		if (!win[i])
			win[i] = window_new(cap, r->window_ms, max);
	}
	for (size_t j = 0; j < s->rules.n; j++)
		if (s->win[j]) {
			s->evictions_gone[table_of(s->rules.v[j].per)] += window_evictions(s->win[j]);
			window_free(s->win[j]);
		}
	free(s->win);
	free(s->rc);
	ruleset_release(&s->rules);
	s->rules = *rs;
	memset(rs, 0, sizeof *rs);
	s->win = win;
	s->rc = rc;
	allow_set_config(&s->allow, o ? o->allow : NULL);
	free(s->nat);
	s->nat = NULL;
	s->nnat = o ? o->nnat : 0;
	if (s->nnat) {
		s->nat = xcalloc(s->nnat, sizeof *s->nat);
		memcpy(s->nat, o->nat, s->nnat * sizeof *s->nat);
	}
	set_exempt_accounts(s, o ? o->exempt_accounts : NULL, o ? o->nexempt_accounts : 0);
	if (o && o->auth_ttl_ms)
		s->auth_ttl_ms = o->auth_ttl_ms;
	window_reconfigure(s->auth_ips, 1, s->auth_ttl_ms, s->max[TABLE_ADDRESSES]);
	window_reconfigure(s->auth_sessions, 1, SESSION_TTL_MS, s->max[TABLE_SESSIONS]);
}

bool screen_exempt(const struct screen *s, const struct ipaddr *a, uint64_t now_ms)
{
	return addr_is_loopback(a) || cidrlist_contains(&s->host, a) || allow_match(&s->allow, a, now_ms);
}

void screen_set_exempt_hook(struct screen *s, screen_exempt_fn *fn, void *arg)
{
	s->exempt_fn = fn;
	s->exempt_arg = arg;
}

/* Tell the hook why ev's address is exempt (it is: screen_exempt said so). */
static void tell_exempt_addr(const struct screen *s, const struct event *ev, uint64_t now_ms)
{
	struct screen_exemption x = { .why = EXEMPT_LOOPBACK };
	const struct allow_entry *ae;

	if (!s->exempt_fn)
		return;
	if (addr_is_loopback(&ev->ip)) {
		cidr_from_addr(&x.entry, &ev->ip, ev->ip.family == AF_INET ? 32 : 128);
	} else if ((ae = allow_match(&s->allow, &ev->ip, now_ms))) {
		x.why = EXEMPT_ALLOW;
		x.entry = ae->target;
		x.manual = ae->origin == ALLOW_MANUAL;
	} else {
		x.why = EXEMPT_HOST;
		for (size_t i = 0; i < s->host.n; i++)
			if (cidr_contains(&s->host.v[i], &ev->ip)) {
				x.entry = s->host.v[i];
				break;
			}
	}
	s->exempt_fn(s->exempt_arg, ev, &x);
}

static void tell_exempt_rule(const struct screen *s, const struct event *ev, enum screen_exempt_why why,
			     const struct rule *r, const struct nat_cfg *nat)
{
	struct screen_exemption x = { .why = why, .rule = r };

	if (!s->exempt_fn)
		return;
	if (nat) {
		x.entry = nat->range;
		x.domain = nat->domain;
	}
	if (why == EXEMPT_ACCOUNT)
		x.domain = screen_account_exempt(s, ev->user, ev->userlen);
	s->exempt_fn(s->exempt_arg, ev, &x);
}

const char *screen_account_exempt(const struct screen *s, const char *user, size_t len)
{
	for (size_t i = 0; i < s->nxacct; i++) {
		const char *e = s->xacct[i];
		size_t el = strlen(e);
		if (e[0] == '*') {
			/* "*@domain": the name's last '@' and what follows it */
			const char *at = user ? memrchr(user, '@', len) : NULL;
			if (at && (size_t)(user + len - at) == el - 1 && strncasecmp(at, e + 1, el - 1) == 0)
				return e;
		} else if (len == el && user && strncasecmp(user, e, el) == 0) {
			return e;
		}
	}
	return NULL;
}

void screen_set_host(struct screen *s, const struct cidrlist *host)
{
	s->host.n = 0;
	for (size_t i = 0; i < host->n; i++)
		cidrlist_add(&s->host, &host->v[i]);
}

const struct cidrlist *screen_host(const struct screen *s)
{
	return &s->host;
}

void screen_set_geo(struct screen *s, struct geo *g)
{
	s->geo = g;
}

/* The country of ev's address, asked once per event (*code starts as
 * 0xffff: not asked yet). */
static uint16_t locate(struct screen *s, const struct event *ev, uint16_t *code)
{
	char err[ERR_LEN];
	struct timespec ts;

	if (*code != 0xffff)
		return *code;
	*code = GEO_NONE;
	if (!s->geo || !ev->has_ip)
		return GEO_NONE;
	/* the file is looked at by the monotonic clock, not the event's time:
	 * catching up (or replaying) a day of log in seconds is not a stat()
	 * per second of log */
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	switch (geo_refresh(s->geo, (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000, err, sizeof err)) {
	case 1:
		log_info("location: database %s replaced, read again (%s)", geo_path(s->geo), geo_type(s->geo));
		break;
	case -1:
		log_warnx("location: %s; the database read before stays in force", err);
		break;
	}
	*code = geo_lookup(s->geo, &ev->ip);
	return *code;
}

/* A location rule counted ev: said in the log, LOC_LOG_MAX lines a minute
 * at most, and how many were left out. */
static void log_location(struct screen *s, const struct rule *r, const struct event *ev, uint16_t code,
			 uint32_t count, uint64_t now)
{
	char a[ADDR_STRLEN], cc[3];

	if (!s->loc_log_start || now < s->loc_log_start || now - s->loc_log_start >= LOC_LOG_MS) {
		if (s->loc_quiet)
			log_info("location: %u more hits not logged in the last minute", s->loc_quiet);
		s->loc_log_start = now ? now : 1;
		s->loc_logged = s->loc_quiet = 0;
	}
	if (s->loc_logged >= LOC_LOG_MAX) {
		s->loc_quiet++;
		return;
	}
	s->loc_logged++;
	addr_format(&ev->ip, a);
	geo_code_text(code, cc);
	log_info("location %s: %s %s (%.*s) counted by rule %s, %u of %u", cc, a, ev_kind_name(ev->kind),
		 ev->service ? (int)(ev->servicelen > 32 ? 32 : ev->servicelen) : 1, ev->service ? ev->service : "-",
		 r->name, count, r->limit);
}

struct allowlist *screen_allowlist(struct screen *s)
{
	return &s->allow;
}

static size_t ip_key(const struct ipaddr *a, unsigned char key[17])
{
	key[0] = a->family;
	memcpy(key + 1, a->b, 16);
	return 17;
}

/* Lower-case copy of the account name, bounded; returns its length. */
static size_t account_key(const struct event *ev, char *out, size_t cap)
{
	size_t n = ev->userlen < cap ? ev->userlen : cap;

	for (size_t i = 0; i < n; i++)
		out[i] = (char)tolower((unsigned char)ev->user[i]);
	return n;
}

static const struct nat_cfg *nat_exempt(const struct screen *s, const struct event *ev)
{
	const char *at;

	if (!s->nnat || !ev->user || !(at = memchr(ev->user, '@', ev->userlen)))
		return NULL;
	at++;
	for (size_t i = 0; i < s->nnat; i++) {
		size_t dl = strlen(s->nat[i].domain);
		if ((size_t)(ev->user + ev->userlen - at) == dl && strncasecmp(at, s->nat[i].domain, dl) == 0 &&
		    cidr_contains(&s->nat[i].range, &ev->ip))
			return &s->nat[i];
	}
	return NULL;
}

static bool authenticated(const struct screen *s, const struct event *ev, uint64_t now)
{
	unsigned char key[17];

	if (ev->session && window_count(s->auth_sessions, ev->session, ev->sessionlen, now))
		return true;
	return ev->has_ip && window_count(s->auth_ips, key, ip_key(&ev->ip, key), now);
}

static bool user_form_ok(const struct rule *r, const struct event *ev)
{
	bool has_at;

	if (r->user_form == USER_ANY)
		return true;
	if (!ev->user || !ev->userlen)
		return false;
	has_at = memchr(ev->user, '@', ev->userlen) != NULL;
	return r->user_form == USER_FULL ? has_at : !has_at;
}

int screen_event(struct screen *s, const struct event *ev, const struct logline *ll, uint64_t now_ms,
		 decision_fn *fn, void *arg)
{
	bool exempt_ip, authd = false, authd_known = false, xacct_counted = false;
	const struct nat_cfg *nat;
	const char *xacct = NULL;
	uint16_t code = 0xffff;
	int n = 0;

	s->events[ev->kind]++;
	if (ev->kind == EV_AUTH_OK) {
		bool dummy;
		unsigned char key[17];
		if (ev->session)
			window_hit(s->auth_sessions, ev->session, ev->sessionlen, now_ms, 1, &dummy);
		if (ev->has_ip && !ev->session_only)
			window_hit(s->auth_ips, key, ip_key(&ev->ip, key), now_ms, 1, &dummy);
	}
	if (ev->kind == EV_DISCONNECT && ev->session && s->npending < MAX_PENDING) {
		size_t len = ev->sessionlen < WINDOW_KEY_MAX ? ev->sessionlen : WINDOW_KEY_MAX;
		memcpy(s->pending[s->npending], ev->session, len);
		s->pending_len[s->npending++] = (uint8_t)len;
	}
	/* every attempt or connection it shows was counted by an earlier line */
	if (!ev->count) {
		s->duplicates++;
		/* counted by auth lines; a rule that does not count those counts
		 * the line's own attempts below */
		if (!ev->dup || ev->kind != EV_AUTH_FAIL)
			return 0;
	}
	exempt_ip = ev->has_ip && screen_exempt(s, &ev->ip, now_ms);
	if (exempt_ip) {
		s->exempt++;
		tell_exempt_addr(s, ev, now_ms);
		return 0;
	}
	nat = ev->kind == EV_AUTH_FAIL && ev->has_ip ? nat_exempt(s, ev) : NULL;
	for (size_t i = 0; i < s->rules.n; i++) {
		const struct rule *r = &s->rules.v[i];
		struct decision d = { .rule = r };
		unsigned char ipk[CIDR_KEY_LEN];
		char acct[WINDOW_KEY_MAX];
		const void *key;
		size_t klen;
		unsigned long cnt;
		bool reached;

		if (!r->enabled || !r->limit || !(r->kinds & (1u << ev->kind)) ||
		    !rule_wants_service(r, ev->service, ev->servicelen) || !user_form_ok(r, ev))
			continue;
		/* an auth-fail's dup are attempts the auth process's lines (service
		 * "auth") counted first: a rule that leaves those out counts them
		 * here, from the line that shows them to it */
		cnt = ev->count;
		if (ev->dup && ev->kind == EV_AUTH_FAIL && !rule_wants_service(r, "auth", 4))
			cnt += ev->dup;
		if (!cnt)
			continue;
		if (rule_is_location(r)) {
			if (locate(s, ev, &code) == GEO_NONE) {
				s->unlocated++;
				continue;
			}
			if (!rule_wants_country(r, code))
				continue;
			d.country = code;
		}
		if (r->exempt_authenticated) {
			if (!authd_known) {
				authd = authenticated(s, ev, now_ms);
				authd_known = true;
			}
			if (authd) {
				s->exempt++;
				tell_exempt_rule(s, ev, EXEMPT_AUTHENTICATED, r, NULL);
				continue;
			}
		}
		switch (r->per) {
		case PER_IP:
			if (!ev->has_ip)
				continue;
			if (nat) {
				s->exempt++;
				tell_exempt_rule(s, ev, EXEMPT_NAT, r, nat);
				continue;
			}
			cidr_from_addr(&d.target, &ev->ip, ev->ip.family == AF_INET ? r->ipv4_prefix : r->ipv6_prefix);
			cidr_key(&d.target, ipk);
			key = ipk;
			klen = sizeof ipk;
			d.kind = DECIDE_ADDR;
			break;
		case PER_SESSION:
			if (!ev->has_ip || !ev->session)
				continue;
			cidr_from_addr(&d.target, &ev->ip, ev->ip.family == AF_INET ? r->ipv4_prefix : r->ipv6_prefix);
			key = ev->session;
			klen = ev->sessionlen;
			d.kind = DECIDE_ADDR;
			break;
		case PER_ACCOUNT:
			if (!ev->user || !ev->userlen)
				continue;
			if (xacct || (xacct = screen_account_exempt(s, ev->user, ev->userlen))) {
				if (!xacct_counted) {
					s->xacct_events++;
					xacct_counted = true;
				}
				s->exempt++;
				tell_exempt_rule(s, ev, EXEMPT_ACCOUNT, r, NULL);
				continue;
			}
			klen = account_key(ev, acct, sizeof acct);
			key = acct;
			d.kind = DECIDE_ACCOUNT;
			d.user = acct;
			d.userlen = klen;
			break;
		default:
			continue;
		}
		/* a follow-up (the SASL server lost while an attempt waited) only
		 * adds to what this rule already counts for the key */
		if (ev->only_if_counted && !window_count(s->win[i], key, klen, now_ms)) {
			s->uncounted++;
			continue;
		}
		d.count = window_hit(s->win[i], key, klen, now_ms, cnt, &reached);
		s->rc[i].counted += cnt;
		if (d.country) {
			s->located++;
			log_location(s, r, ev, d.country, d.count, now_ms);
		}
		if (s->count_fn)
			s->count_fn(s->count_arg, r, key, klen, now_ms, ll);
		if (r->shared && s->shared_fn) {
			if (s->shared_fn(s->shared_arg, i, &d, cnt, now_ms)) {
				s->rc[i].shared_sent += cnt;
				continue;       /* the cluster counts and decides */
			}
			s->rc[i].shared_alone += cnt;
		}
		if (!reached)
			continue;
		s->decisions++;
		s->rc[i].decisions++;
		n++;
		d.key = key;
		d.klen = klen;
		if (fn(arg, &d, ev, ll))
			window_forget(s->win[i], key, klen);
	}
	return n;
}

void screen_set_count_hook(struct screen *s, screen_count_fn *fn, void *arg)
{
	s->count_fn = fn;
	s->count_arg = arg;
}

void screen_set_shared_hook(struct screen *s, screen_shared_fn *fn, void *arg)
{
	s->shared_fn = fn;
	s->shared_arg = arg;
}

void screen_end_line(struct screen *s)
{
	for (int p = 0; p < s->npending; p++) {
		window_forget(s->auth_sessions, s->pending[p], s->pending_len[p]);
		for (size_t i = 0; i < s->rules.n; i++)
			if (s->rules.v[i].per == PER_SESSION)
				window_forget(s->win[i], s->pending[p], s->pending_len[p]);
	}
	s->npending = 0;
}

void screen_expire(struct screen *s, uint64_t now_ms)
{
	for (size_t i = 0; i < s->rules.n; i++)
		window_expire(s->win[i], now_ms);
	window_expire(s->auth_sessions, now_ms);
	window_expire(s->auth_ips, now_ms);
	allow_expire(&s->allow, now_ms);
}

static void add_table(struct screen_stats *st, enum screen_table t, const struct wtable *w)
{
	st->table[t].keys += window_size(w);
	st->table[t].evictions += window_evictions(w);
}

uint64_t screen_exempt_hits(const struct screen *s)
{
	return s->exempt;
}

void screen_stats(const struct screen *s, struct screen_stats *st)
{
	memset(st, 0, sizeof *st);
	memcpy(st->events, s->events, sizeof st->events);
	st->exempt = s->exempt;
	st->exempt_accounts = s->xacct_events;
	st->decisions = s->decisions;
	st->uncounted = s->uncounted;
	st->duplicates = s->duplicates;
	st->located = s->located;
	st->unlocated = s->unlocated;
	for (int t = 0; t < SCREEN_NTABLES; t++) {
		st->table[t].max = s->max[t];
		st->table[t].evictions = s->evictions_gone[t];
	}
	for (size_t i = 0; i < s->rules.n; i++)
		add_table(st, table_of(s->rules.v[i].per), s->win[i]);
	add_table(st, TABLE_ADDRESSES, s->auth_ips);
	add_table(st, TABLE_SESSIONS, s->auth_sessions);
	for (int t = 0; t < SCREEN_NTABLES; t++) {
		st->tracked += st->table[t].keys;
		st->evictions += st->table[t].evictions;
	}
}

size_t screen_rule_count(const struct screen *s)
{
	return s->rules.n;
}

void screen_rule_stats(const struct screen *s, size_t i, struct screen_rule_stats *rs)
{
	*rs = (struct screen_rule_stats){
		.rule = &s->rules.v[i],
		.keys = window_size(s->win[i]),
		.counted = s->rc[i].counted,
		.decisions = s->rc[i].decisions,
		.blocks = s->rc[i].blocks,
		.blocks_before = s->rc[i].blocks_before,
		.evictions = window_evictions(s->win[i]),
		.shared_sent = s->rc[i].shared_sent,
		.shared_alone = s->rc[i].shared_alone,
		.shared_decisions = s->rc[i].shared_decisions,
	};
}

long screen_rule_find(const struct screen *s, const char *name)
{
	for (size_t i = 0; i < s->rules.n; i++)
		if (strcmp(s->rules.v[i].name, name) == 0)
			return (long)i;
	return -1;
}

bool screen_local_reached(struct screen *s, size_t ri, const struct decision *d, uint64_t now_ms)
{
	unsigned char ipk[CIDR_KEY_LEN];
	const void *key;
	size_t klen;
	const struct rule *r;

	if (ri >= s->rules.n)
		return false;
	r = &s->rules.v[ri];
	if (r->per == PER_IP && d->kind == DECIDE_ADDR) {
		cidr_key(&d->target, ipk);
		key = ipk;
		klen = sizeof ipk;
	} else if (r->per == PER_ACCOUNT && d->kind == DECIDE_ACCOUNT) {
		key = d->user;
		klen = d->userlen;
	} else {
		return false;
	}
	if (!r->limit || window_count(s->win[ri], key, klen, now_ms) < r->limit)
		return false;
	window_forget(s->win[ri], key, klen);
	return true;
}

void screen_note_shared_decision(struct screen *s, const struct rule *r)
{
	for (size_t i = 0; i < s->rules.n; i++)
		if (&s->rules.v[i] == r)
			s->rc[i].shared_decisions++;
}

void screen_note_block(struct screen *s, const struct rule *r)
{
	for (size_t i = 0; i < s->rules.n; i++)
		if (&s->rules.v[i] == r)
			s->rc[i].blocks++;
}

void screen_set_blocks_before(struct screen *s, const char *name, uint64_t n)
{
	long i = screen_rule_find(s, name);

	if (i >= 0)
		s->rc[i].blocks_before = n;
}

const struct ruleset *screen_rules(const struct screen *s)
{
	return &s->rules;
}

struct fe {
	const struct rule *r;
	screen_key_fn *fn;
	void *arg;
};

static void fe_key(void *arg, const void *key, size_t klen, uint32_t within, uint64_t newest)
{
	struct fe *fe = arg;
	char text[WINDOW_KEY_MAX + 1];

	if (fe->r->per == PER_IP && klen == 18) {
		struct cidr c;
		const unsigned char *k = key;
		memset(&c, 0, sizeof c);
		c.addr.family = k[0];
		c.len = k[1];
		memcpy(c.addr.b, k + 2, 16);
		{
			char buf[CIDR_STRLEN];
			cidr_format(&c, buf);
			snprintf(text, sizeof text, "%s", buf);
		}
	} else {
		memcpy(text, key, klen);
		text[klen] = '\0';
	}
	fe->fn(fe->arg, fe->r, text, within, newest);
}

void screen_foreach_key(const struct screen *s, enum rule_per per, uint64_t now_ms, screen_key_fn *fn, void *arg)
{
	for (size_t i = 0; i < s->rules.n; i++) {
		struct fe fe = { &s->rules.v[i], fn, arg };
		if (s->rules.v[i].per == per)
			window_foreach(s->win[i], now_ms, fe_key, &fe);
	}
}

void screen_foreach_rule_key(const struct screen *s, size_t i, uint64_t now_ms, screen_key_fn *fn, void *arg)
{
	struct fe fe = { NULL, fn, arg };

	if (i >= s->rules.n)
		return;
	fe.r = &s->rules.v[i];
	window_foreach(s->win[i], now_ms, fe_key, &fe);
}

struct dumpctx {
	const char *table;
	screen_dump_fn *fn;
	void *arg;
};

static void dump_key(void *arg, const void *key, size_t klen, const uint64_t *times, uint32_t n)
{
	struct dumpctx *dc = arg;

	dc->fn(dc->arg, dc->table, key, klen, times, n);
}

void screen_dump(const struct screen *s, screen_dump_fn *fn, void *arg)
{
	struct dumpctx dc = { "@authsession", fn, arg };

	window_dump(s->auth_sessions, dump_key, &dc);
	dc.table = "@authip";
	window_dump(s->auth_ips, dump_key, &dc);
	for (size_t i = 0; i < s->rules.n; i++) {
		dc.table = s->rules.v[i].name;
		window_dump(s->win[i], dump_key, &dc);
	}
}

void screen_load(struct screen *s, const char *table, const void *key, size_t klen, const uint64_t *times,
		 uint32_t n)
{
	struct wtable *w = NULL;
	bool reached;

	if (strcmp(table, "@authsession") == 0)
		w = s->auth_sessions;
	else if (strcmp(table, "@authip") == 0)
		w = s->auth_ips;
	for (size_t i = 0; !w && i < s->rules.n; i++)
		if (strcmp(s->rules.v[i].name, table) == 0)
			w = s->win[i];
	for (uint32_t i = 0; w && i < n; i++)
		window_hit(w, key, klen, times[i], 1, &reached);
}

void screen_reset(struct screen *s)
{
	for (size_t i = 0; i < s->rules.n; i++)
		window_clear(s->win[i]);
	window_clear(s->auth_sessions);
	window_clear(s->auth_ips);
}
