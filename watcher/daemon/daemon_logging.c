// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * daemon_logging - see daemon_logging.h. [logging]: the lists at start,
 * a line per event of the kinds switched on (exemptions, failed and
 * successful logins, connections), the packets each block dropped (from
 * the kernel check's dump, which is made anyway: no extra dump), and the
 * changes a reload brings.
 *
 * Owns the line budget of the event lines (ratelimit.h), its flush timer,
 * and what each block's counter was at its last report. Must never: let a
 * flood of events become a flood of lines (the event lines share one
 * budget a second, the block lines a bound per report), or let the
 * attacker's text (accounts, services, anything from a log) reach the log
 * unescaped.
 */
#include "daemon.h"
#include "daemon_logging.h"
#include "duration.h"
#include "inidiff.h"
#include "jsonw.h"
#include "log.h"
#include "ratelimit.h"
#include "timefmt.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define HIT_EVERY_MS (60 * 1000ULL)     /* a block's drops are said at most this often */
#define DIFF_MAX_LINES 200              /* changes said per reload; the rest counted */
#define TEXT_MAX 160                    /* attacker's text shown, escaped */

struct hit {
	struct cidr c;
	uint64_t base;          /* the counter at the last report (or when first seen) */
	uint64_t at_ms;         /* the last report; 0: none yet */
};

struct logging {
	struct ratelimit rl;
	uint64_t flush_timer;
	struct hit *hits, *next;        /* by address: the last dump's, the one being read */
	size_t nhits, ahits, nnext, anext;
	bool baseline;
	size_t lines;                   /* block lines said in this report */
	uint64_t more_blocks, more_packets;
};

/* ---- the event lines, one budget a second ---- */

static void say_suppressed(uint64_t n, uint64_t limit)
{
	if (n)
		log_info("logging: %llu event lines suppressed (lines_per_second = %llu)", (unsigned long long)n,
			 (unsigned long long)limit);
}

static void flush_cb(struct loop *l, void *arg)
{
	struct daemon *d = arg;
	struct logging *lg = d->logging;

	lg->flush_timer = 0;
	say_suppressed(ratelimit_flush(&lg->rl, daemon_now_ms()), lg->rl.limit);
	/* the loop's clock is not the wall clock's: early by a hair, try again */
	if (lg->rl.suppressed)
		lg->flush_timer = loop_add_timer(l, 50, flush_cb, d);
}

/* May an event line be said now? Says what was suppressed first. */
static bool budget(struct daemon *d)
{
	struct logging *lg = d->logging;
	uint64_t now = daemon_now_ms(), rep;
	bool ok;

	lg->rl.limit = d->b.cfg.log_lines_per_second;
	ok = ratelimit_take(&lg->rl, now, &rep);
	say_suppressed(rep, lg->rl.limit);
	if (!ok && !lg->flush_timer)
		lg->flush_timer = loop_add_timer(d->loop, 1000 - now % 1000 + 1, flush_cb, d);
	return ok;
}

/* "203.0.113.5, account 'bob', service smtp, filter postfix-sasl",
 * everything from the log escaped */
static void describe(const struct event *ev, char *buf, size_t len)
{
	char addr[ADDR_STRLEN] = "-", user[TEXT_MAX], svc[64], flt[64];
	int n;

	if (ev->has_ip)
		addr_format(&ev->ip, addr);
	text_sanitize(svc, sizeof svc, ev->service ? ev->service : "-", ev->service ? ev->servicelen : 1);
	text_sanitize(flt, sizeof flt, ev->filter_name ? ev->filter_name : "-",
		      ev->filter_name ? strlen(ev->filter_name) : 1);
	n = snprintf(buf, len, "%s", addr);
	if (ev->user && n >= 0 && (size_t)n < len) {
		text_sanitize(user, sizeof user, ev->user, ev->userlen);
		n += snprintf(buf + n, len - (size_t)n, ", account '%s'", user);
	}
	if (n >= 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, ", service %s, filter %s", svc, flt);
}

void logging_event(struct daemon *d, const struct event *ev)
{
	const struct config *c = &d->b.cfg;
	const char *what;
	char desc[512];

	switch (ev->kind) {
	case EV_AUTH_FAIL: what = c->log_auth_failures ? "login failed" : NULL; break;
	case EV_AUTH_OK: what = c->log_auth_successes ? "login" : NULL; break;
	case EV_CONNECT: what = c->log_connections ? "connection" : NULL; break;
	default: what = NULL; break;
	}
	if (!what || !budget(d))
		return;
	describe(ev, desc, sizeof desc);
	if (ev->count > 1)
		log_info("%s: %s (%lu attempts)", what, desc, ev->count);
	else
		log_info("%s: %s", what, desc);
}

static void on_exempt(void *arg, const struct event *ev, const struct screen_exemption *x)
{
	struct daemon *d = arg;
	char desc[512], entry[CIDR_STRLEN], dom[4 * 256 + 4];

	if (!d->b.cfg.log_allow_hits || ev->kind == EV_DISCONNECT || !budget(d))
		return;
	describe(ev, desc, sizeof desc);
	cidr_format(&x->entry, entry);
	switch (x->why) {
	case EXEMPT_LOOPBACK:
		log_info("exempt %s: %s (loopback)", ev_kind_name(ev->kind), desc);
		break;
	case EXEMPT_HOST:
		log_info("exempt %s: %s (trusted: this host's address %s)", ev_kind_name(ev->kind), desc, entry);
		break;
	case EXEMPT_ALLOW:
		log_info("exempt %s: %s (allow list entry %s, %s)", ev_kind_name(ev->kind), desc, entry,
			 x->manual ? "allow command" : "[allow]");
		break;
	case EXEMPT_NAT:
		text_sanitize(dom, sizeof dom, x->domain, strlen(x->domain));
		log_info("exempt %s: %s (rule %s: [nat] exempt = %s %s)", ev_kind_name(ev->kind), desc, x->rule->name,
			 entry, dom);
		break;
	case EXEMPT_AUTHENTICATED:
		log_info("exempt %s: %s (rule %s: logged in lately, exempt_authenticated)", ev_kind_name(ev->kind),
			 desc, x->rule->name);
		break;
	case EXEMPT_ACCOUNT:
		text_sanitize(dom, sizeof dom, x->domain, strlen(x->domain));
		log_info("exempt %s: %s (rule %s: [allow] account = %s; per-address rules still count it)",
			 ev_kind_name(ev->kind), desc, x->rule->name, dom);
		break;
	}
}

uint64_t logging_suppressed(const struct daemon *d)
{
	return d->logging ? d->logging->rl.total_suppressed : 0;
}

void logging_init(struct daemon *d)
{
	d->logging = xcalloc(1, sizeof *d->logging);
	d->logging->rl.limit = 20;
	screen_set_exempt_hook(d->screen, on_exempt, d);
}

void logging_free(struct daemon *d)
{
	if (!d->logging)
		return;
	if (d->logging->flush_timer)
		loop_cancel_timer(d->loop, d->logging->flush_timer);
	free(d->logging->hits);
	free(d->logging->next);
	free(d->logging);
	d->logging = NULL;
}

/* ---- the lists at start ---- */

struct listctx {
	struct daemon *d;
	size_t n, max;
	uint64_t now;
	const struct rule *r;
};

static void list_key(void *arg, const struct rule *r, const char *key, uint32_t within, uint64_t newest_ms)
{
	struct listctx *lc = arg;
	char k[TEXT_MAX], win[32];

	(void)newest_ms;
	if (lc->n++ >= lc->max)
		return;
	text_sanitize(k, sizeof k, key, strlen(key));
	duration_format(r->window_ms, win, sizeof win);
	log_info("startup: rule %s: %s: %u events within %s", r->name, k, within, win);
}

static void list_block(void *arg, const struct block *b)
{
	struct listctx *lc = arg;
	char t[CIDR_STRLEN], until[TIMEFMT_LEN], origin[64], reason[200];

	if (lc->n++ >= lc->max)
		return;
	cidr_format(&b->target, t);
	if (b->expiry_ms == UINT64_MAX)
		snprintf(until, sizeof until, "permanent");
	else
		timefmt_format((int64_t)(b->expiry_ms / 1000), false, until);
	text_sanitize(origin, sizeof origin, b->origin, strlen(b->origin));
	text_sanitize(reason, sizeof reason, b->reason, strlen(b->reason));
	log_info("startup: block %s until %s: %s, %s", t, until, origin, reason);
}

static void more(const char *what, size_t n, size_t max)
{
	if (n > max)
		log_info("startup: %s: %zu more not listed (startup_list_entries = %zu)", what, n - max, max);
}

void logging_startup(struct daemon *d)
{
	const struct ruleset *rs = screen_rules(d->screen);
	const struct allowlist *al = screen_allowlist(d->screen);
	struct listctx lc = { .d = d, .max = (size_t)d->b.cfg.log_startup_entries, .now = daemon_now_ms() };
	size_t max = lc.max;

	if (!d->b.cfg.log_startup_lists)
		return;
	for (size_t i = 0; i < rs->n; i++) {
		char what[160];
		lc.n = 0;
		lc.r = &rs->v[i];
		screen_foreach_rule_key(d->screen, i, lc.now, list_key, &lc);
		log_info("startup: rule %s: %zu keys counted", rs->v[i].name, lc.n);
		snprintf(what, sizeof what, "rule %s", rs->v[i].name);
		more(what, lc.n, max);
	}
	lc.n = 0;
	log_info("startup: block list: %zu blocks, %zu accounts blocked", blocks_count(d->blocks),
		 accounts_count(d->accounts));
	blocks_foreach(d->blocks, list_block, &lc);
	more("block list", lc.n, max);
	log_info("startup: allow list: %zu entries", al->n);
	for (size_t i = 0; i < al->n && i < max; i++) {
		char t[CIDR_STRLEN], until[TIMEFMT_LEN];
		const struct allow_entry *e = &al->v[i];
		cidr_format(&e->target, t);
		if (e->expiry_ms == UINT64_MAX)
			snprintf(until, sizeof until, "no expiry");
		else
			timefmt_format((int64_t)(e->expiry_ms / 1000), false, until);
		log_info("startup: allow %s (%s, %s)", t, e->origin == ALLOW_MANUAL ? "allow command" : "[allow]", until);
	}
	more("allow list", al->n, max);
}

/* ---- what a reload changes ---- */

struct diffctx {
	const char *what;               /* "config", "rule", "filter" */
	bool log;
	size_t n;
};

static void value_text(char *buf, size_t len, const char *v)
{
	if (!v)
		snprintf(buf, len, "(none)");
	else
		text_sanitize(buf, len, v, strlen(v));
}

static void on_change(void *arg, const struct inidiff_change *c)
{
	struct diffctx *dc = arg;
	char sec[120], name[140], ov[TEXT_MAX], nv[TEXT_MAX], key[80], file[300];

	if (!dc->log || dc->n++ >= DIFF_MAX_LINES)
		return;
	text_sanitize(sec, sizeof sec, c->section, strlen(c->section));
	text_sanitize(file, sizeof file, c->file ? c->file : "-", c->file ? strlen(c->file) : 1);
	/* "[daemon]", "[source mail]"; "rule auth-ip", "filter postfix-sasl" */
	if (strcmp(dc->what, "config") == 0)
		snprintf(name, sizeof name, "[%s]", sec);
	else
		snprintf(name, sizeof name, "%s %s", dc->what, sec);
	switch (c->kind) {
	case INIDIFF_SECTION_ADDED:
		log_info("config change: %s added (%s:%d)", name, file, c->line);
		break;
	case INIDIFF_SECTION_REMOVED:
		log_info("config change: %s removed", name);
		break;
	case INIDIFF_KEY:
		text_sanitize(key, sizeof key, c->key, strlen(c->key));
		value_text(ov, sizeof ov, c->old_value);
		value_text(nv, sizeof nv, c->new_value);
		log_info("config change: %s: %s %s -> %s (%s:%d)", name, key, ov, nv, file, c->line);
		break;
	}
}

size_t logging_config_diff(const struct bundle *old, const struct bundle *new, bool log)
{
	struct diffctx dc = { .log = log };
	size_t n = 0;

	dc.what = "config";
	n += inidiff(old->cfg.layers, new->cfg.layers, on_change, &dc);
	if ((old->cfg.file == NULL) != (new->cfg.file == NULL) ||
	    (old->cfg.file && strcmp(old->cfg.file, new->cfg.file) != 0))
		n++;
	dc.what = "rule";
	n += inidiff(old->rule_layers, new->rule_layers, on_change, &dc);
	dc.what = "filter";
	n += inidiff(old->filter_layers, new->filter_layers, on_change, &dc);
	if (log && n > DIFF_MAX_LINES)
		log_info("config change: %zu more changes not listed", n - DIFF_MAX_LINES);
	return n;
}

/* ---- the packets each block dropped ---- */

static int cidr_order(const struct cidr *a, const struct cidr *b)
{
	int r;

	if (a->addr.family != b->addr.family)
		return a->addr.family < b->addr.family ? -1 : 1;
	if ((r = addr_cmp(&a->addr, &b->addr)) != 0)
		return r;
	return a->len < b->len ? -1 : a->len > b->len;
}

static const struct hit *hit_find(const struct logging *lg, const struct cidr *c)
{
	size_t lo = 0, hi = lg->nhits;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int r = cidr_order(&lg->hits[mid].c, c);
		if (r == 0)
			return &lg->hits[mid];
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static int hit_cmp(const void *a, const void *b)
{
	return cidr_order(&((const struct hit *)a)->c, &((const struct hit *)b)->c);
}

void logging_hits_begin(struct daemon *d, bool baseline)
{
	struct logging *lg = d->logging;

	lg->nnext = 0;
	lg->lines = 0;
	lg->more_blocks = lg->more_packets = 0;
	lg->baseline = baseline;
}

void logging_hit(struct daemon *d, const struct cidr *c, uint64_t packets)
{
	struct logging *lg = d->logging;
	const struct hit *old = hit_find(lg, c);
	struct hit h = { .c = *c };
	uint64_t now = daemon_now_ms();

	if (old)
		h = *old;
	else if (lg->baseline)
		h.base = packets;
	if (packets < h.base)           /* the element was made again: a new counter */
		h.base = 0;
	if (d->b.cfg.log_block_hits && packets > h.base && (!h.at_ms || now - h.at_ms >= HIT_EVERY_MS)) {
		uint64_t n = packets - h.base;
		if (lg->lines++ < d->b.cfg.log_block_hit_lines) {
			char t[CIDR_STRLEN], origin[64] = "not listed";
			const struct block *b = blocks_find(d->blocks, c);
			cidr_format(c, t);
			if (b)
				text_sanitize(origin, sizeof origin, b->origin, strlen(b->origin));
			log_info("block hits: %s dropped %llu packets since %s (%s)", t, (unsigned long long)n,
				 h.at_ms ? "the last report" : "it was made", origin);
		} else {
			lg->more_blocks++;
			lg->more_packets += n;
		}
		h.base = packets;
		h.at_ms = now;
	}
	/* kept only when there is something to remember: memory goes with
	 * the blocks that dropped packets, not with the size of the sets */
	if (!h.base && !h.at_ms)
		return;
	XGROW(lg->next, lg->anext, lg->nnext + 1);
	lg->next[lg->nnext++] = h;
}

void logging_hits_end(struct daemon *d)
{
	struct logging *lg = d->logging;
	struct hit *t = lg->hits;
	size_t at = lg->ahits;

	if (lg->more_blocks)
		log_info("block hits: %llu more blocks dropped %llu packets (block_hit_lines = %llu)",
			 (unsigned long long)lg->more_blocks, (unsigned long long)lg->more_packets,
			 (unsigned long long)d->b.cfg.log_block_hit_lines);
	log_debug("block hits: kernel check read, %zu blocks have dropped packets", lg->nnext);
	if (lg->nnext > 1)
		qsort(lg->next, lg->nnext, sizeof *lg->next, hit_cmp);
	/* the one just read becomes the last; the old array is reused */
	lg->hits = lg->next;
	lg->nhits = lg->nnext;
	lg->ahits = lg->anext;
	lg->next = t;
	lg->anext = at;
	lg->nnext = 0;
}
