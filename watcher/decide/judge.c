// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * judge - see judge.h. The daemon's decision path, moved here whole so
 * that replay takes the very same one.
 */
#include "judge.h"
#include "duration.h"
#include "geo.h"
#include "jsonw.h"
#include "log.h"
#include "policy.h"
#include "protect.h"

#include <stdio.h>
#include <string.h>

struct jctx {
	struct judge *j;
	uint64_t now_ms;
};

static int protect(struct judge *j, struct cidr *t, const struct ipaddr *around, uint64_t now, char *why,
		   size_t whylen)
{
	const struct cidrlist *host = j->sink->host ? j->sink->host(j->sink->arg, now) : NULL;

	return protect_target(host, screen_allowlist(j->screen), t, around, now, why, whylen);
}

/* [prefix]: when enough addresses of target's prefix are blocked (blocks
 * inside it: addresses, and IPv6 /64s as the shipped rules make them),
 * block the prefix -- or, when that would cover a protected address, the
 * widest part of it around target that does not. */
static void prefix_check(struct judge *j, const struct cidr *target, uint64_t now, const struct logline *ll)
{
	const struct config *c = j->cfg;
	struct cidr prefix, t;
	char pbuf[CIDR_STRLEN], tbuf[CIDR_STRLEN], reason[160], err[512], why[320], dur[32];
	size_t n;
	struct judge_block jb;

	if (!policy_prefix(c, j->blocks, target, &prefix, &n))
		return;
	cidr_format(&prefix, pbuf);
	snprintf(reason, sizeof reason, "%zu addresses of %s blocked", n, pbuf);
	t = prefix;
	switch (protect(j, &t, &target->addr, now, why, sizeof why)) {
	case -1:
		j->refused++;
		log_warnx("not blocking prefix %s (%s): %s", pbuf, reason, why);
		return;
	case 2:
		if (t.len >= target->len || blocks_find(j->blocks, &t))
			return;         /* nothing wider than the address itself left, or done before */
		log_info("prefix block %s", why);
		break;
	}
	cidr_format(&t, tbuf);
	duration_format(c->prefix_block_ms, dur, sizeof dur);
	memset(&jb, 0, sizeof jb);
	jb.what = JUDGE_PREFIX;
	jb.target = t;
	jb.origin = "prefix";
	jb.reason = reason;
	jb.count = (uint32_t)n;
	jb.at_ms = now;
	jb.dur_ms = c->prefix_block_ms;
	jb.times = 1;
	jb.ll = ll;
	if (j->sink->block(j->sink->arg, &jb, err, sizeof err) < 0)
		log_warnx("cannot block %s: %s", tbuf, err);
	else
		log_info("block %s for %s: prefix, %s%s", tbuf, dur, reason, j->note);
}

static bool on_decision(void *arg, const struct decision *dc, const struct event *ev, const struct logline *ll)
{
	struct jctx *c = arg;
	struct judge *j = c->j;
	const struct rule *r = dc->rule;
	char target[CIDR_STRLEN + 256], win[32], dur[32], line[320], reason[160], err[512], why[320];
	char stored[sizeof reason + 80];
	struct policy_verdict v = { false, r->block_ms, 1 };
	struct cidr tgt = dc->target;
	struct judge_block jb;

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
	if (dc->kind == DECIDE_ADDR && !r->log_only && !j->paused) {
		/* never a block over loopback, this host or an allowed address:
		 * narrowed around the offender, or not made */
		switch (protect(j, &tgt, ev->has_ip ? &ev->ip : &dc->target.addr, c->now_ms, why, sizeof why)) {
		case -1:
			j->refused++;
			log_warnx("not blocking %s: rule %s: %s; line: %s", target, r->name, why, line);
			return true;
		case 2:
			log_info("rule %s: block %s", r->name, why);
			cidr_format(&tgt, target);
			break;
		}
	}
	if (dc->country) {
		char cc[3];
		geo_code_text(dc->country, cc);
		snprintf(reason, sizeof reason, "location %s: %u %s within %s", cc, dc->count, ev_kind_name(ev->kind),
			 win);
	} else {
		snprintf(reason, sizeof reason, "%u %s within %s", dc->count, ev_kind_name(ev->kind), win);
	}
	if (r->log_only) {
		log_info("notice %s%s: rule %s, %s (log only); line: %s", dc->kind == DECIDE_ACCOUNT ? "account " : "",
			 target, r->name, reason, line);
		return true;
	}
	if (j->paused) {
		j->paused_decisions++;
		log_info("paused: would block %s%s: rule %s, %s; line: %s", dc->kind == DECIDE_ACCOUNT ? "account " : "",
			 target, r->name, reason, line);
		return false;   /* the count stays: the next event after resume blocks */
	}
	if (dc->kind == DECIDE_ADDR)
		policy_decide(j->cfg, j->blocks, j->offenders, &tgt, dc->country ? GEO_ORIGIN : r->name, r->block_ms,
			      c->now_ms, &v);
	duration_format(v.dur_ms, dur, sizeof dur);
	log_info("%s%s %s for %s: rule %s, %s%s; line: %s%s", v.extend ? "extend" : "block",
		 dc->kind == DECIDE_ACCOUNT ? " account" : "", target, dur, r->name, reason,
		 v.times > 1 ? (snprintf(win, sizeof win, ", block #%u", v.times), win) : "", line, j->note);
	memset(&jb, 0, sizeof jb);
	jb.what = dc->kind == DECIDE_ACCOUNT ? JUDGE_ACCOUNT : JUDGE_ADDR;
	jb.target = tgt;
	jb.user = dc->user;
	jb.userlen = dc->userlen;
	jb.rule = r;
	jb.origin = r->name;
	jb.reason = reason;
	if (dc->country) {
		/* the block's reason names its rule, its origin says location */
		snprintf(stored, sizeof stored, "%s (rule %s)", reason, r->name);
		jb.origin = GEO_ORIGIN;
		jb.reason = stored;
	}
	jb.count = dc->count;
	jb.at_ms = c->now_ms;
	jb.dur_ms = v.dur_ms;
	jb.extend = v.extend;
	jb.times = v.times;
	jb.dc = dc;
	jb.ll = ll;
	if (j->sink->block(j->sink->arg, &jb, err, sizeof err) < 0) {
		log_warnx("cannot block %s%s: %s", dc->kind == DECIDE_ACCOUNT ? "account " : "", target, err);
		return true;
	}
	if (dc->kind == DECIDE_ADDR)
		prefix_check(j, &tgt, c->now_ms, ll);
	return true;
}

int judge_event(struct judge *j, const struct event *ev, const struct logline *ll, uint64_t now_ms)
{
	struct jctx c = { j, now_ms };

	return screen_event(j->screen, ev, ll, now_ms, on_decision, &c);
}

bool judge_decision(struct judge *j, const struct decision *dc, const struct event *ev, const struct logline *ll,
		    uint64_t now_ms)
{
	struct jctx c = { j, now_ms };

	return on_decision(&c, dc, ev, ll);
}
