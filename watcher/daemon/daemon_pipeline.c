// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * daemon_pipeline - a line's way through the running daemon: the filters
 * make events of it, and the judge (judge.h: screen, protect, policy,
 * [prefix]) makes its decisions blocks through this file's sink: blocks
 * by daemon_block, account blocks by daemon_block_account. Lines cut at
 * max_line are counted and dropped here. A line stamped more than a
 * minute in the past (catching up after --from-start, a backlog) is read
 * in log time: its stamp is the clock of the windows and of the repeat
 * history, and a block it makes lasts from that stamp: what is left of it
 * is made, one that would have ended by now is only logged and counted.
 *
 * Owns nothing (the daemon's tables are in struct daemon). Must never:
 * block an address the protect check refused, or let the attacker's text
 * reach the log unescaped.
 */
#include "daemon.h"
#include "daemon_logging.h"
#include "log.h"
#include "xalloc.h"
#include "duration.h"
#include "jsonw.h"
#include "dedup.h"
#include "judge.h"
#include "logtime.h"
#include "screen.h"
#include "stats.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A line stamped more than this before it is read is read in log time
 * (catching up): its stamp is its events' time. Live lines arrive within
 * a second or two of their stamp and count when they arrive. */
#define CATCHUP_LAG_MS (60 * 1000ULL)

struct evctx {
	struct daemon *d;
	struct src *s;
	uint64_t now_ms;        /* the events' time: wall clock, or the line's stamp */
	uint64_t wall_ms;
	bool past;              /* catching up: now_ms is the line's stamp */
	struct judge j;
};

static const struct cidrlist *sink_host(void *arg, uint64_t now_ms)
{
	struct evctx *c = arg;

	(void)now_ms;
	return daemon_host(c->d);
}

/* Catching up, a block starts at the line's stamp and lasts as long as
 * live: it goes into the list of the past (for the policy: extensions,
 * [prefix]) and, when it would still be in force now, into the kernel for
 * what is left of it; one that would have ended is logged and counted. */
static int sink_block_past(struct evctx *c, const struct judge_block *jb, char *err, size_t errlen)
{
	struct daemon *d = c->d;
	uint64_t end = jb->dur_ms == DURATION_PERMANENT ? UINT64_MAX : jb->at_ms + jb->dur_ms;
	char when[32], until[32], what[CIDR_STRLEN + 256];
	bool ext;

	if (jb->what == JUDGE_ACCOUNT) {
		what[0] = '\'';
		text_sanitize(what + 1, sizeof what - 2, jb->user, jb->userlen);
		strcat(what, "'");
	} else {
		cidr_format(&jb->target, what);
		blocks_add(d->past, &jb->target, jb->at_ms, jb->dur_ms, jb->origin, jb->reason, &ext);
	}
	logtime_format_utc((int64_t)(jb->at_ms / 1000), when);
	if (end <= c->wall_ms) {
		d->ended_blocks++;
		logtime_format_utc((int64_t)(end / 1000), until);
		log_info("catching up: the block of %s%s made at %s (log time) ended at %s: not made",
			 jb->what == JUDGE_ACCOUNT ? "account " : "", what, when, until);
		return 0;
	}
	{
		uint64_t left = end == UINT64_MAX ? DURATION_PERMANENT : end - c->wall_ms;
		char dur[32];
		duration_format(left, dur, sizeof dur);
		log_info("catching up: %s%s blocked at %s (log time): %s left", jb->what == JUDGE_ACCOUNT ?
			 "account " : "", what, when, dur);
		if (jb->what == JUDGE_ACCOUNT)
			return daemon_block_account(d, jb->user, jb->userlen, left, jb->origin, jb->reason, err, errlen);
		{
			struct block *b = blocks_find(d->blocks, &jb->target);
			bool had = b != NULL;
			if (b && b->expiry_ms >= end)
				return 0;       /* blocked until later already (by hand, restored): left as it is */
			if (daemon_block(d, &jb->target, left, jb->origin, jb->reason, err, errlen) < 0)
				return -1;
			if (!had && (b = blocks_find(d->blocks, &jb->target)))
				b->start_ms = jb->at_ms;        /* when it was made, by the log's clock */
		}
	}
	return 0;
}

static int sink_make(struct evctx *c, const struct judge_block *jb, char *err, size_t errlen)
{
	if (c->past)
		return sink_block_past(c, jb, err, errlen);
	if (jb->what == JUDGE_ACCOUNT)
		return daemon_block_account(c->d, jb->user, jb->userlen, jb->dur_ms, jb->origin, jb->reason, err,
					    errlen);
	return daemon_block(c->d, &jb->target, jb->dur_ms, jb->origin, jb->reason, err, errlen);
}

/* Each block a rule decided is counted for it (status). */
static int sink_block(void *arg, const struct judge_block *jb, char *err, size_t errlen)
{
	struct evctx *c = arg;

	if (sink_make(c, jb, err, errlen) < 0)
		return -1;
	if (jb->rule && jb->what != JUDGE_PREFIX)
		screen_note_block(c->d->screen, jb->rule);
	return 0;
}

static void on_event(void *arg, const struct event *ev0, const struct logline *ll)
{
	struct evctx *c = arg;
	struct event ev = *ev0;
	uint64_t exempt;

	c->s->events++;
	c->s->kind_events[ev.kind]++;
	/* the attempt another line showed is counted there (log time) */
	dedup_event(c->d->dedup, &ev, (int64_t)(c->now_ms / 1000));
	/* the summaries count attempts, as the rules do: an event whose
	 * every attempt an earlier line showed adds nothing; an address is
	 * formatted only where it can be an offender */
	if (ev.count) {
		char a[ADDR_STRLEN];
		bool named = ev.has_ip && stats_offence(ev.kind);
		if (named)
			addr_format(&ev.ip, a);
		stats_event(c->d->stats, c->wall_ms, ev.kind, ev.service, ev.servicelen, named ? a : NULL, ev.user,
			    ev.userlen, ev.count);
	}
	/* live, an event happens when its line arrives; catching up, at the
	 * line's stamp */
	ev.time = (int64_t)(c->now_ms / 1000);
	if (ev.count)
		logging_event(c->d, &ev);
	exempt = screen_exempt_hits(c->d->screen);
	if (judge_event(&c->j, &ev, ll, c->now_ms) == 0)
		daemon_arm_sweep(c->d);
	/* the allow list's hits count in the summaries with their event, at
	 * the same time: never in another minute than the event */
	exempt = screen_exempt_hits(c->d->screen) - exempt;
	if (exempt)
		stats_exempt(c->d->stats, c->wall_ms, exempt);
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
	static const struct judge_sink sink_ops = { sink_block, sink_host, NULL };
	struct judge_sink sink = sink_ops;
	struct evctx c = { .d = d, .s = s };

	c.wall_ms = c.now_ms = daemon_now_ms();
	sink.arg = &c;
	c.j = (struct judge){ .cfg = &d->b.cfg, .screen = d->screen, .blocks = d->blocks, .offenders = d->offenders,
			      .sink = &sink, .paused = d->paused, .note = d->dry_run ? " (dry run)" : "" };

	d->lines++;
	s->lines++;
	if (ll->cut) {
		drop_cut_line(d, s, ll);
		return;
	}
	/* catching up: a line stamped well in the past is read in log time */
	if (ll->time) {
		uint64_t stamp = (uint64_t)ll->time * 1000 + ll->usec / 1000;
		if (stamp + CATCHUP_LAG_MS < c.wall_ms) {
			c.past = true;
			c.now_ms = stamp;
			d->past_clock = stamp;
			d->past_read = true;
			c.j.blocks = d->past;
			if (stamp >= blocks_next_expiry(d->past))
				blocks_expire(d->past, stamp);
			if (d->old_lines++ == 0)
				log_warnx("source %s: reading lines stamped in the past in log time (catching up: "
					  "their stamps are the clock of the windows, and a block lasts from its line's "
					  "stamp); if this happens for new lines, check the clock and time zone of the "
					  "logger", s->name);
		}
	}
	matcher_run(s->m, ll, on_event, &c);
	d->paused_decisions += c.j.paused_decisions;
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


/* The cluster's shared count decided for rule's key here: the block is
 * made by the judge as if the screen had decided (protect, policy,
 * published as any other). */
void daemon_shared_decision(struct daemon *d, const struct decision *dc, const struct event *ev,
			    const struct logline *ll)
{
	static const struct judge_sink sink_ops = { sink_block, sink_host, NULL };
	struct judge_sink sink = sink_ops;
	struct evctx c = { .d = d };

	c.wall_ms = c.now_ms = daemon_now_ms();
	sink.arg = &c;
	c.j = (struct judge){ .cfg = &d->b.cfg, .screen = d->screen, .blocks = d->blocks, .offenders = d->offenders,
			      .sink = &sink, .paused = d->paused, .note = d->dry_run ? " (dry run)" : "" };
	judge_decision(&c.j, dc, ev, ll, c.now_ms);
	d->paused_decisions += c.j.paused_decisions;
	daemon_state_dirty(d);
}
