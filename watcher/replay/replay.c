// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * replay - see replay.h. Owns, besides the daemon's tables it runs
 * (screen, blocks, repeat history), three tables of its own: the evidence
 * (per rule and key, the newest lines it counted, dropped once the key
 * decides or its window has passed), the offenders (events per address,
 * bounded) and the events per minute for the timeline.
 */
#include "replay.h"
#include "dedup.h"
#include "duration.h"
#include "filter.h"
#include "geo.h"
#include "jsonw.h"
#include "line.h"
#include "log.h"
#include "protect.h"
#include "screen.h"
#include "window.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SWEEP_LINES 4096                /* windows and evidence are swept this often */
#define MAX_OFFENDERS 1000000           /* addresses whose events are counted */
#define MAX_SERVICES 32                 /* services named in the summary; the rest are "other" */
#define MAX_MINUTES (1u << 22)          /* the timeline's span (about 8 years) */

struct evkey {
	struct evkey *next;
	uint64_t hash, newest;
	uint32_t rule, n, head;
	struct replay_line *ring;       /* r->evidence entries */
	uint8_t klen;
	unsigned char key[];
};

struct offender {
	struct offender *next;
	struct ipaddr ip;
	uint64_t events, blocks;
};

struct replay {
	struct bundle b;
	struct matcher *m;
	struct screen *screen;
	struct geo *geo;        /* [location] database, as the daemon reads it; NULL: none */
	struct dedup *dedup;    /* one attempt, one count, as in the daemon */
	struct blocks *blocks;
	struct wtable *offenders;       /* repeat history */
	struct cidrlist host;
	struct judge j;
	struct judge_sink sink;
	size_t evidence;
	uint64_t clock;
	bool line_matched;
	struct replay_stats st;
	struct replay_block *bl;
	size_t nbl, abl;
	struct replay_rule_stats *rs;
	struct replay_count svc[MAX_SERVICES + 1];
	size_t nsvc;
	struct evkey **evb;
	size_t nevb, nev;
	struct offender **ofb;
	size_t nofb, nof;
	uint32_t *minutes;
	size_t nminutes, aminutes;
};

static uint64_t hash_bytes(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ s[i]) * 1099511628211ULL;
	/* FNV carries only upwards: mix the high bits into the low ones,
	 * which pick the bucket */
	h ^= h >> 31;
	h *= 0x9e3779b97f4a7c15ULL;
	return h ^ (h >> 29);
}

/* ---- evidence: per rule and key, the newest lines counted ---- */

static void evkey_free(struct replay *r, struct evkey *k)
{
	for (size_t i = 0; i < r->evidence; i++)        /* taken entries are NULL, a dropped one's buffer stays */
		free(k->ring[i].text);
	free(k->ring);
	free(k);
}

static struct evkey **ev_find(struct replay *r, uint32_t rule, const void *key, size_t klen, uint64_t h)
{
	struct evkey **pp = &r->evb[h & (r->nevb - 1)];

	for (; *pp; pp = &(*pp)->next)
		if ((*pp)->hash == h && (*pp)->rule == rule && (*pp)->klen == klen && memcmp((*pp)->key, key, klen) == 0)
			return pp;
	return pp;
}

static void ev_grow(struct replay *r)
{
	size_t nb = r->nevb * 2;
	struct evkey **b = xcalloc(nb, sizeof *b);

	for (size_t i = 0; i < r->nevb; i++)
		for (struct evkey *k = r->evb[i], *next; k; k = next) {
			next = k->next;
			k->next = b[k->hash & (nb - 1)];
			b[k->hash & (nb - 1)] = k;
		}
	free(r->evb);
	r->evb = b;
	r->nevb = nb;
}

static uint32_t rule_index(const struct replay *r, const struct rule *rule)
{
	return (uint32_t)(rule - screen_rules(r->screen)->v);
}

static void on_count(void *arg, const struct rule *rule, const void *key, size_t klen, uint64_t now_ms,
		     const struct logline *ll)
{
	struct replay *r = arg;
	uint32_t ri = rule_index(r, rule);
	uint64_t h;
	struct evkey **pp, *k;
	struct replay_line *e;

	r->rs[ri].counted++;
	if (!r->evidence)
		return;
	if (klen > WINDOW_KEY_MAX)
		klen = WINDOW_KEY_MAX;
	h = hash_bytes(hash_bytes(1469598103934665603ULL, &ri, sizeof ri), key, klen);
	pp = ev_find(r, ri, key, klen, h);
	if (!(k = *pp)) {
		if (r->nev + 1 > r->nevb) {
			ev_grow(r);
			pp = ev_find(r, ri, key, klen, h);
		}
		k = xcalloc(1, sizeof *k + klen);
		k->hash = h;
		k->rule = ri;
		k->klen = (uint8_t)klen;
		memcpy(k->key, key, klen);
		k->ring = xcalloc(r->evidence, sizeof *k->ring);
		*pp = k;
		r->nev++;
	}
	if (k->n == r->evidence) {      /* full: the oldest goes, its buffer is reused */
		k->head = (uint32_t)((k->head + 1) % r->evidence);
		k->n--;
	}
	e = &k->ring[(k->head + k->n++) % r->evidence];
	e->at_ms = now_ms;
	e->len = ll->rawlen < REPLAY_LINE_MAX ? ll->rawlen : REPLAY_LINE_MAX;
	e->text = xrealloc(e->text, e->len + 1);
	memcpy(e->text, ll->raw, e->len);
	e->text[e->len] = '\0';
	k->newest = now_ms;
}

/* Hand the key's lines within the window over to blk and forget the key
 * (the screen forgets it too once it decided). */
static void ev_take(struct replay *r, const struct decision *dc, struct replay_block *blk)
{
	uint32_t ri = rule_index(r, dc->rule);
	size_t klen = dc->klen > WINDOW_KEY_MAX ? WINDOW_KEY_MAX : dc->klen;
	uint64_t h = hash_bytes(hash_bytes(1469598103934665603ULL, &ri, sizeof ri), dc->key, klen);
	struct evkey **pp = ev_find(r, ri, dc->key, klen, h), *k = *pp;
	uint64_t from = blk->at_ms > dc->rule->window_ms ? blk->at_ms - dc->rule->window_ms : 0;

	if (!k)
		return;
	blk->evidence = xcalloc(k->n ? k->n : 1, sizeof *blk->evidence);
	for (uint32_t i = 0; i < k->n; i++) {
		struct replay_line *e = &k->ring[(k->head + i) % r->evidence];
		if (e->at_ms < from)
			continue;
		blk->evidence[blk->nevidence++] = *e;
		e->text = NULL;
	}
	*pp = k->next;
	r->nev--;
	evkey_free(r, k);
}

/* Keys whose newest line lies beyond their rule's window can decide
 * nothing any more. */
static void ev_sweep(struct replay *r)
{
	const struct ruleset *rules = screen_rules(r->screen);

	for (size_t i = 0; i < r->nevb; i++)
		for (struct evkey **pp = &r->evb[i]; *pp;) {
			struct evkey *k = *pp;
			if (r->clock - k->newest > rules->v[k->rule].window_ms) {
				*pp = k->next;
				r->nev--;
				evkey_free(r, k);
			} else {
				pp = &k->next;
			}
		}
}

/* ---- offenders: events and blocks per address ---- */

static uint64_t ip_hash(const struct ipaddr *ip)
{
	return hash_bytes(hash_bytes(1469598103934665603ULL, &ip->family, sizeof ip->family), ip->b, sizeof ip->b);
}

static struct offender *offender(struct replay *r, const struct ipaddr *ip, bool add)
{
	uint64_t h = ip_hash(ip);
	struct offender **pp = &r->ofb[h & (r->nofb - 1)], *o;

	for (; *pp; pp = &(*pp)->next)
		if (addr_equal(&(*pp)->ip, ip))
			return *pp;
	if (!add || r->nof >= MAX_OFFENDERS)
		return NULL;
	if (r->nof + 1 > r->nofb) {
		size_t nb = r->nofb * 2;
		struct offender **b = xcalloc(nb, sizeof *b);
		for (size_t i = 0; i < r->nofb; i++)
			for (struct offender *x = r->ofb[i], *next; x; x = next) {
				uint64_t hx = ip_hash(&x->ip);
				next = x->next;
				x->next = b[hx & (nb - 1)];
				b[hx & (nb - 1)] = x;
			}
		free(r->ofb);
		r->ofb = b;
		r->nofb = nb;
		pp = &r->ofb[h & (nb - 1)];
	}
	o = xcalloc(1, sizeof *o);
	o->ip = *ip;
	o->next = *pp;
	*pp = o;
	r->nof++;
	return o;
}

/* ---- the judge's sink: a block recorded, never made ---- */

static const struct cidrlist *sink_host(void *arg, uint64_t now_ms)
{
	struct replay *r = arg;

	(void)now_ms;
	return &r->host;
}

static int sink_block(void *arg, const struct judge_block *jb, char *err, size_t errlen)
{
	struct replay *r = arg;
	struct replay_block *blk;
	bool ext;

	(void)err;
	(void)errlen;
	if (jb->what != JUDGE_ACCOUNT)
		blocks_add(r->blocks, &jb->target, jb->at_ms, jb->dur_ms, jb->origin, jb->reason, &ext);
	XGROW(r->bl, r->abl, r->nbl + 1);
	blk = &r->bl[r->nbl++];
	memset(blk, 0, sizeof *blk);
	blk->at_ms = jb->at_ms;
	blk->what = jb->what;
	if (jb->what == JUDGE_ACCOUNT) {
		blk->user = xmalloc(jb->userlen + 1);
		memcpy(blk->user, jb->user, jb->userlen);
		blk->user[jb->userlen] = '\0';
		blk->userlen = jb->userlen;
	} else {
		char buf[CIDR_STRLEN];
		cidr_format(&jb->target, buf);
		snprintf(blk->target, sizeof blk->target, "%s", buf);
		if (jb->target.len == addr_bits(&jb->target.addr)) {
			struct offender *o = offender(r, &jb->target.addr, true);
			if (o)
				o->blocks++;
		}
	}
	/* a location rule's block has origin "location": its rule is named */
	snprintf(blk->rule, sizeof blk->rule, "%s", jb->rule ? jb->rule->name : jb->origin);
	snprintf(blk->reason, sizeof blk->reason, "%s", jb->reason);
	blk->count = jb->count;
	blk->times = jb->times;
	blk->dur_ms = jb->dur_ms;
	blk->extend = jb->extend;
	if (jb->rule) {
		struct replay_rule_stats *rs = &r->rs[rule_index(r, jb->rule)];
		if (jb->extend)
			rs->extensions++;
		else
			rs->blocks++;
	}
	if (jb->dc) {
		ev_take(r, jb->dc, blk);
	} else if (r->evidence && jb->ll) {     /* a prefix: the line that made its last block */
		blk->evidence = xcalloc(1, sizeof *blk->evidence);
		blk->evidence[0].at_ms = jb->at_ms;
		blk->evidence[0].len = jb->ll->rawlen < REPLAY_LINE_MAX ? jb->ll->rawlen : REPLAY_LINE_MAX;
		blk->evidence[0].text = xmalloc(blk->evidence[0].len + 1);
		memcpy(blk->evidence[0].text, jb->ll->raw, blk->evidence[0].len);
		blk->evidence[0].text[blk->evidence[0].len] = '\0';
		blk->nevidence = 1;
	}
	return 0;
}

/* ---- lines and events ---- */

static void count_service(struct replay *r, const struct event *ev)
{
	char name[40];
	size_t i;

	if (ev->service)
		text_sanitize(name, sizeof name, ev->service, ev->servicelen);
	else
		snprintf(name, sizeof name, "-");
	for (i = 0; i < r->nsvc; i++)
		if (strcmp(r->svc[i].name, name) == 0)
			break;
	if (i == r->nsvc) {
		if (r->nsvc == MAX_SERVICES) {
			i = MAX_SERVICES;
			snprintf(r->svc[i].name, sizeof r->svc[i].name, "other");
		} else {
			snprintf(r->svc[r->nsvc++].name, sizeof r->svc[i].name, "%s", name);
		}
	}
	r->svc[i].n++;
}

static void on_event(void *arg, const struct event *ev0, const struct logline *ll)
{
	struct replay *r = arg;
	struct event ev = *ev0;
	uint64_t minute = (r->clock - r->st.first_ms) / 60000;

	dedup_event(r->dedup, &ev, (int64_t)(r->clock / 1000));
	r->line_matched = true;
	r->st.events++;
	if (ev.kind < EV_NKINDS)
		r->st.kinds[ev.kind]++;
	count_service(r, &ev);
	if (ev.has_ip) {
		struct offender *o = offender(r, &ev.ip, true);
		if (o)
			o->events++;
		else
			r->st.offenders_untracked++;
	}
	if (minute >= MAX_MINUTES)
		minute = MAX_MINUTES - 1;
	if (minute >= r->nminutes) {
		XGROW(r->minutes, r->aminutes, minute + 1);
		memset(r->minutes + r->nminutes, 0, (minute + 1 - r->nminutes) * sizeof *r->minutes);
		r->nminutes = minute + 1;
	}
	r->minutes[minute]++;
	ev.time = (int64_t)(r->clock / 1000);
	judge_event(&r->j, &ev, ll, r->clock);
}

void replay_line(struct replay *r, const char *line, size_t len, bool cut, time_t ref)
{
	struct logline ll;

	r->st.lines++;
	if (cut) {
		/* as in the daemon: a cut line's end is not the server's */
		r->st.cut_lines++;
		return;
	}
	logline_parse(&ll, line, len, ref);
	if (ll.time) {
		uint64_t stamp = (uint64_t)ll.time * 1000 + ll.usec / 1000;
		if (stamp < r->clock)
			r->st.backwards++;
		else
			r->clock = stamp;
		if (!r->st.first_ms)
			r->st.first_ms = r->clock;
	} else {
		r->st.unstamped++;
		if (!r->clock) {
			r->st.skipped++;
			return;
		}
	}
	r->st.last_ms = r->clock;
	if (r->clock >= blocks_next_expiry(r->blocks))
		blocks_expire(r->blocks, r->clock);
	if (r->st.lines % SWEEP_LINES == 0) {
		screen_expire(r->screen, r->clock);
		window_expire(r->offenders, r->clock);
		ev_sweep(r);
	}
	r->line_matched = false;
	matcher_run(r->m, &ll, on_event, r);
	screen_end_line(r->screen);
	if (r->line_matched)
		r->st.matched_lines++;
}

/* ---- setup and results ---- */

struct replay *replay_new(struct bundle *b, const char *source, size_t evidence, char *err, size_t errlen)
{
	struct replay *r = xcalloc(1, sizeof *r);
	const struct source_cfg *sc = NULL;
	struct screen_opts so;
	char herr[ERR_LEN];

	r->b = *b;
	memset(b, 0, sizeof *b);
	for (size_t i = 0; source && i < r->b.cfg.nsources; i++)
		if (strcmp(r->b.cfg.sources[i].name, source) == 0)
			sc = &r->b.cfg.sources[i];
	if (source && !sc) {
		errf(err, errlen, "--source: the configuration has no [source %s]", source);
		r->m = NULL;
	} else {
		r->m = matcher_new(r->b.fs, sc ? (const char *const *)sc->filters : NULL, sc ? sc->nfilters : 0, err,
				   errlen);
	}
	if (!r->m) {
		bundle_release(&r->b);
		free(r);
		return NULL;
	}
	so = (struct screen_opts){ .allow = &r->b.cfg.allow, .nat = r->b.cfg.nat, .nnat = r->b.cfg.nnat,
				   .exempt_accounts = r->b.cfg.exempt_accounts,
				   .nexempt_accounts = r->b.cfg.nexempt_accounts,
				   .max_keys = r->b.cfg.max_keys, .max_accounts = r->b.cfg.max_accounts,
				   .max_sessions = r->b.cfg.max_sessions, .auth_ttl_ms = r->b.cfg.authenticated_ttl_ms };
	r->screen = screen_new();
	r->dedup = dedup_new();
	screen_configure(r->screen, &r->b.rules, &so);
	/* the host's own addresses are never blocked, as in the daemon */
	if (protect_read_host(&r->host, herr, sizeof herr) < 0)
		log_warnx("%s; only loopback and the allow list are protected", herr);
	screen_set_host(r->screen, &r->host);
	screen_set_count_hook(r->screen, on_count, r);
	/* location rules ask the database the daemon would */
	if (*r->b.cfg.geo_database) {
		r->geo = geo_new(r->b.cfg.geo_database);
		if (geo_load(r->geo, herr, sizeof herr) < 0)
			log_warnx("location: %s -- location rules count nothing", herr);
		screen_set_geo(r->screen, r->geo);
	}
	r->blocks = blocks_new(NULL);
	/* as the daemon sizes it (daemon.c) */
	r->offenders = window_new(r->b.cfg.repeat_permanent_after > 32 ? (uint32_t)r->b.cfg.repeat_permanent_after : 32,
				  r->b.cfg.repeat_memory_ms, r->b.cfg.max_keys);
	r->sink = (struct judge_sink){ sink_block, sink_host, r };
	r->j = (struct judge){ .cfg = &r->b.cfg, .screen = r->screen, .blocks = r->blocks, .offenders = r->offenders,
			       .sink = &r->sink, .note = "" };
	r->evidence = evidence;
	r->rs = xcalloc(screen_rules(r->screen)->n + 1, sizeof *r->rs);
	for (size_t i = 0; i < screen_rules(r->screen)->n; i++)
		r->rs[i].name = screen_rules(r->screen)->v[i].name;
	r->nevb = 64;
	r->evb = xcalloc(r->nevb, sizeof *r->evb);
	r->nofb = 64;
	r->ofb = xcalloc(r->nofb, sizeof *r->ofb);
	return r;
}

size_t replay_max_line(const struct replay *r)
{
	return r->b.cfg.max_line;
}

void replay_free(struct replay *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nbl; i++) {
		for (size_t k = 0; k < r->bl[i].nevidence; k++)
			free(r->bl[i].evidence[k].text);
		free(r->bl[i].evidence);
		free(r->bl[i].user);
	}
	free(r->bl);
	for (size_t i = 0; i < r->nevb; i++)
		for (struct evkey *k = r->evb[i], *next; k; k = next) {
			next = k->next;
			evkey_free(r, k);
		}
	free(r->evb);
	for (size_t i = 0; i < r->nofb; i++)
		for (struct offender *o = r->ofb[i], *next; o; o = next) {
			next = o->next;
			free(o);
		}
	free(r->ofb);
	free(r->minutes);
	free(r->rs);
	matcher_free(r->m);
	screen_free(r->screen);
	geo_free(r->geo);
	dedup_free(r->dedup);
	blocks_free(r->blocks);
	window_free(r->offenders);
	cidrlist_release(&r->host);
	bundle_release(&r->b);
	free(r);
}

const struct replay_block *replay_blocks(const struct replay *r, size_t *n)
{
	*n = r->nbl;
	return r->bl;
}

void replay_stats(const struct replay *r, struct replay_stats *st)
{
	*st = r->st;
	st->refused = r->j.refused;
	st->paused = r->j.paused_decisions;
	st->services = r->svc;
	st->nservices = r->nsvc + (r->svc[MAX_SERVICES].n ? 1 : 0);
	if (r->nsvc < MAX_SERVICES && r->svc[MAX_SERVICES].n)
		st->nservices = r->nsvc;        /* cannot happen: "other" only once the table is full */
	st->rules = r->rs;
	st->nrules = screen_rules(r->screen)->n;
}

static int by_events(const void *a, const void *b)
{
	const struct replay_offender *x = a, *y = b;

	if (x->events != y->events)
		return x->events < y->events ? 1 : -1;
	return strcmp(x->ip, y->ip);
}

size_t replay_top_offenders(const struct replay *r, struct replay_offender *out, size_t n)
{
	size_t got = 0;

	/* keep the n best in out, sorted; a full scan is fine for a report */
	for (size_t i = 0; i < r->nofb; i++)
		for (const struct offender *o = r->ofb[i]; o; o = o->next) {
			struct replay_offender c;
			addr_format(&o->ip, c.ip);
			c.events = o->events;
			c.blocks = o->blocks;
			if (got < n) {
				out[got++] = c;
				qsort(out, got, sizeof *out, by_events);
			} else if (n && by_events(&c, &out[n - 1]) < 0) {
				out[n - 1] = c;
				qsort(out, n, sizeof *out, by_events);
			}
		}
	return got;
}

const uint32_t *replay_timeline(const struct replay *r, size_t *n)
{
	*n = r->nminutes;
	return r->minutes;
}
