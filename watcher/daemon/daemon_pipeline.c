// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * daemon_pipeline - a line's way through the running daemon: the filters
 * make events of it, the screen counts them, and a decision becomes a
 * block (or an extension, or an account block) as the policy says, or a
 * prefix block when enough of a prefix is blocked. Lines cut at max_line
 * and lines older than every window are counted and dropped here.
 *
 * Owns nothing (the daemon's tables are in struct daemon). Must never:
 * block an address the protect check refused, or let the attacker's text
 * reach the log unescaped.
 */
#include "daemon.h"
#include "log.h"
#include "xalloc.h"
#include "duration.h"
#include "jsonw.h"
#include "dedup.h"
#include "policy.h"
#include "screen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct evctx {
	struct daemon *d;
	struct src *s;
	uint64_t now_ms;
};

/* ---- the pipeline ---- */


/* [prefix]: when enough addresses of target's prefix are blocked (blocks
 * inside it: addresses, and IPv6 /64s as the shipped rules make them),
 * block the prefix -- or, when that would cover a protected address, the
 * widest part of it around target that does not. */
static void prefix_check(struct daemon *d, const struct cidr *target)
{
	const struct config *c = &d->b.cfg;
	struct cidr prefix, t;
	char pbuf[CIDR_STRLEN], tbuf[CIDR_STRLEN], reason[160], err[512], why[320], dur[32];
	size_t n;

	if (!policy_prefix(c, d->blocks, target, &prefix, &n))
		return;
	cidr_format(&prefix, pbuf);
	snprintf(reason, sizeof reason, "%zu addresses of %s blocked", n, pbuf);
	t = prefix;
	switch (daemon_protect(d, &t, &target->addr, why, sizeof why)) {
	case -1:
		log_warnx("not blocking prefix %s (%s): %s", pbuf, reason, why);
		return;
	case 2:
		if (t.len >= target->len || blocks_find(d->blocks, &t))
			return;         /* nothing wider than the address itself left, or done before */
		log_info("prefix block %s", why);
		break;
	}
	cidr_format(&t, tbuf);
	duration_format(c->prefix_block_ms, dur, sizeof dur);
	if (daemon_block(d, &t, c->prefix_block_ms, "prefix", reason, err, sizeof err) < 0)
		log_warnx("cannot block %s: %s", tbuf, err);
	else
		log_info("block %s for %s: prefix, %s%s", tbuf, dur, reason, d->dry_run ? " (dry run)" : "");
}

static bool on_decision(void *arg, const struct decision *dc, const struct event *ev, const struct logline *ll)
{
	struct evctx *c = arg;
	struct daemon *d = c->d;
	const struct rule *r = dc->rule;
	char target[CIDR_STRLEN + 256], win[32], dur[32], line[320], reason[160], err[512], why[320];
	struct policy_verdict v = { false, r->block_ms, 1 };
	struct cidr tgt = dc->target;

	if (dc->kind == DECIDE_ACCOUNT) {
		/* the account name is the attacker's text: quoted and escaped */
		target[0] = '\'';
		text_sanitize(target + 1, sizeof target - 2, dc->user, dc->userlen);
		strcat(target, "'");
	} else {
		cidr_format(&dc->target, target);
	}
	duration_format(r->window_ms, win, sizeof win);
	text_sanitize(line, sizeof line, ll->raw, ll->rawlen);
	if (dc->kind == DECIDE_ADDR && !r->log_only && !d->paused) {
		/* never a block over loopback, this host or an allowed address:
		 * narrowed around the offender, or not made */
		switch (daemon_protect(d, &tgt, ev->has_ip ? &ev->ip : &dc->target.addr, why, sizeof why)) {
		case -1:
			log_warnx("not blocking %s: rule %s: %s; line: %s", target, r->name, why, line);
			return true;
		case 2:
			log_info("rule %s: block %s", r->name, why);
			cidr_format(&tgt, target);
			break;
		}
	}
	snprintf(reason, sizeof reason, "%u %s within %s", dc->count, ev_kind_name(ev->kind), win);
	if (r->log_only) {
		log_info("notice %s%s: rule %s, %s (log only); line: %s", dc->kind == DECIDE_ACCOUNT ? "account " : "",
			 target, r->name, reason, line);
		return true;
	}
	if (d->paused) {
		d->paused_decisions++;
		log_info("paused: would block %s%s: rule %s, %s; line: %s", dc->kind == DECIDE_ACCOUNT ? "account " : "",
			 target, r->name, reason, line);
		return false;   /* the count stays: the next event after resume blocks */
	}
	if (dc->kind == DECIDE_ADDR)
		policy_decide(&d->b.cfg, d->blocks, d->offenders, &tgt, r->name, r->block_ms, daemon_now_ms(), &v);
	duration_format(v.dur_ms, dur, sizeof dur);
	log_info("%s%s %s for %s: rule %s, %s%s; line: %s%s", v.extend ? "extend" : "block",
		 dc->kind == DECIDE_ACCOUNT ? " account" : "", target, dur, r->name, reason,
		 v.times > 1 ? (snprintf(win, sizeof win, ", block #%u", v.times), win) : "", line,
		 d->dry_run ? " (dry run)" : "");
	if (dc->kind == DECIDE_ACCOUNT) {
		if (daemon_block_account(d, dc->user, dc->userlen, v.dur_ms, r->name, reason, err, sizeof err) < 0)
			log_warnx("cannot block account %s: %s", target, err);
		return true;
	}
	if (daemon_block(d, &tgt, v.dur_ms, r->name, reason, err, sizeof err) < 0) {
		log_warnx("cannot block %s: %s", target, err);
		return true;
	}
	prefix_check(d, &tgt);
	return true;
}

static void on_event(void *arg, const struct event *ev0, const struct logline *ll)
{
	struct evctx *c = arg;
	struct event ev = *ev0;

	c->s->events++;
	/* the attempt another line showed is counted there (log time) */
	dedup_event(c->d->dedup, &ev, (int64_t)(c->now_ms / 1000));
	/* live, an event happens when its line arrives */
	ev.time = (int64_t)(c->now_ms / 1000);
	if (screen_event(c->d->screen, &ev, ll, c->now_ms, on_decision, c) == 0)
		daemon_arm_sweep(c->d);
}

/* A line longer than max_line was cut, and what is left of it may say
 * something else ("rip=203.0.113.55, ..." cut after "203.0.113.5"): it is
 * counted and dropped, never matched. Said once at warning level, then
 * per line at debug level. */
static void drop_cut_line(struct daemon *d, const struct src *s, const struct logline *ll)
{
	char line[200];

	if (d->cut_lines++ != 0 && log_get_level() < LOG_LVL_DEBUG)
		return;
	text_sanitize(line, sizeof line, ll->raw, ll->rawlen);
	if (d->cut_lines == 1)
		log_warnx("source %s: a line longer than max_line (%llu bytes) was cut and is not matched (its cut end "
			  "could name the wrong client); such lines are counted as cut lines in status (raise max_line "
			  "if real log lines are this long): %s", s->name, (unsigned long long)d->b.cfg.max_line, line);
	else
		log_debug("source %s: line longer than max_line not matched: %s", s->name, line);
}

void daemon_handle_line(struct daemon *d, struct src *s, const struct logline *ll)
{
	struct evctx c = { d, s, daemon_now_ms() };

	d->lines++;
	s->lines++;
	if (ll->cut) {
		drop_cut_line(d, s, ll);
		return;
	}
	/* catching up: lines older than every window cannot matter any more */
	if (ll->time && d->max_window_ms && (uint64_t)ll->time * 1000 + d->max_window_ms < c.now_ms) {
		if (d->old_lines++ == 0) {
			char win[32];
			duration_format(d->max_window_ms, win, sizeof win);
			log_warnx("source %s: skipping lines stamped more than %s (the longest rule window) in the "
				  "past; if this happens for new lines, check the clock and time zone of the logger",
				  s->name, win);
		}
		return;
	}
	matcher_run(s->m, ll, on_event, &c);
	screen_end_line(d->screen);
	daemon_state_dirty(d);
	{
		uint64_t hits = 0;
		const struct filter *f = matcher_limit_hit(s->m, &hits);
		/* said the first time, then every 1000th: a runaway regex must
		 * be noticed, and must not flood the log either */
		if (f && (hits == 1 || hits % 1000 == 0)) {
			char line[200];
			text_sanitize(line, sizeof line, ll->raw, ll->rawlen);
			log_warnx("filter '%s' hit the regex match limit (%llu times so far; such lines count as not "
				  "matched; fix its regex or raise match_limit): %s", filter_name(f),
				  (unsigned long long)hits, line);
		}
	}
}

