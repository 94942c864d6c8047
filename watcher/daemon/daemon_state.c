// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * daemon_state - see daemon_state.h. The glue between struct daemon and
 * the snapshot's encoder: the state module (state.h) sees plain records
 * only, and this file is where they meet the daemon's tables.
 *
 * Owns nothing. Must never: change anything while saving (the view's
 * enumerators of memory run in a forked child: no descriptor, no log), or
 * make a restored block any other way than through the daemon's own
 * checks (daemon_restore_block: never loopback, this host or an allowed
 * address).
 */
#include "daemon_state.h"
#include "allow.h"
#include "cluster.h"
#include "daemon.h"
#include "log.h"
#include "stats.h"
#include "duration.h"
#include "journal.h"
#include "screen.h"
#include "window.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

/* ---- the view: saving ---- */

static void view_blocks(void *arg, state_block_fn *fn, void *fnarg)
{
	const struct daemon *d = arg;

	blocks_foreach(d->blocks, fn, fnarg);
}

static void view_allows(void *arg, state_allow_fn *fn, void *fnarg)
{
	const struct daemon *d = arg;
	const struct allowlist *al = screen_allowlist(d->screen);

	for (size_t i = 0; i < al->n; i++)
		if (al->v[i].origin == ALLOW_MANUAL)
			fn(fnarg, &al->v[i].target, al->v[i].expiry_ms);
}

struct view_acct {
	state_account_fn *fn;
	void *arg;
};

static void view_account(void *arg, const struct account_block *a)
{
	const struct view_acct *va = arg;
	const struct state_account sa = { a->user, strlen(a->user), a->origin, a->reason, a->start_ms, a->expiry_ms };

	va->fn(va->arg, &sa);
}

static void view_accounts(void *arg, state_account_fn *fn, void *fnarg)
{
	const struct daemon *d = arg;
	struct view_acct va = { fn, fnarg };

	accounts_foreach(d->accounts, view_account, &va);
}

static void view_offenders(void *arg, state_offender_fn *fn, void *fnarg)
{
	const struct daemon *d = arg;

	window_dump(d->offenders, fn, fnarg);
}

static void view_windows(void *arg, state_window_fn *fn, void *fnarg)
{
	const struct daemon *d = arg;

	screen_dump(d->screen, fn, fnarg);
}

static void view_ended(void *arg, state_ended_fn *fn, void *fnarg)
{
	const struct daemon *d = arg;

	for (size_t i = 0; i < history_count(d->history); i++)
		fn(fnarg, history_get(d->history, i));
}

static void view_totals(void *arg, state_total_fn *fn, void *fnarg)
{
	const struct daemon *d = arg;

	for (size_t i = 0; i < screen_rule_count(d->screen); i++) {
		struct screen_rule_stats rs;
		screen_rule_stats(d->screen, i, &rs);
		if (rs.blocks + rs.blocks_before)
			fn(fnarg, rs.rule->name, rs.blocks + rs.blocks_before);
	}
}

struct each_file {
	state_file_fn *fn;
	void *arg;
};

/* A tail file's cookie is the source that watches it. */
static void each_file(void *arg, const struct tail_pos *p)
{
	const struct each_file *ef = arg;
	const struct src *s = p->cookie;

	if (s)
		ef->fn(ef->arg, s->name, p);
}

static void view_files(void *arg, state_file_fn *fn, void *fnarg)
{
	const struct daemon *d = arg;
	struct each_file ef = { fn, fnarg };

	if (d->tail)
		tail_foreach_file(d->tail, each_file, &ef);
}

static void view_journals(void *arg, state_journal_fn *fn, void *fnarg)
{
	const struct daemon *d = arg;

	for (size_t i = 0; i < d->nsrcs; i++) {
		char *cur;
		if (!d->srcs[i]->j || !(cur = journal_cursor(d->srcs[i]->j)))
			continue;
		fn(fnarg, d->srcs[i]->name, cur);
		free(cur);
	}
}

static void view_stats(void *arg, state_stats_fn *fn, void *fnarg)
{
	const struct daemon *d = arg;

	stats_dump(d->stats, fn, fnarg);
}

static const char *view_cluster_pos(void *arg)
{
	const struct daemon *d = arg;

	return d->cluster ? cluster_last_id(d->cluster) : d->cluster_saved_id;
}

static const char *view_cluster_stream(void *arg)
{
	const struct daemon *d = arg;

	return d->cluster_saved_stream;
}

void daemon_state_view(struct daemon *d, struct state_view *v)
{
	*v = (struct state_view){
		.arg = d,
		.blocks = view_blocks,
		.allows = view_allows,
		.accounts = view_accounts,
		.offenders = view_offenders,
		.windows = view_windows,
		.ended = view_ended,
		.totals = view_totals,
		.stats = view_stats,
		.files = view_files,
		.journals = view_journals,
		.cluster_pos = view_cluster_pos,
		.cluster_stream = view_cluster_stream,
	};
}

/* ---- the sink: restoring ---- */

struct restore {
	struct daemon *d;
	uint64_t now;
	size_t aexpired;
	struct history_entry *ended;    /* blocks that ended while down: history after the older ones */
	size_t nended, aended;
};

static int restore_block(void *arg, const struct block *b, char *err, size_t errlen)
{
	const struct restore *r = arg;

	return daemon_restore_block(r->d, b, r->now, err, errlen);
}

static void restore_expired(void *arg, const struct block *b)
{
	struct restore *r = arg;
	struct daemon *d = r->d;
	struct history_entry *e;

	XGROW(d->expired_saved, r->aexpired, d->nexpired_saved + 1);
	d->expired_saved[d->nexpired_saved++] = b->target;
	XGROW(r->ended, r->aended, r->nended + 1);
	e = &r->ended[r->nended++];
	*e = (struct history_entry){ .target = b->target, .start_ms = b->start_ms, .end_ms = b->expiry_ms };
	snprintf(e->origin, sizeof e->origin, "%s", b->origin);
	snprintf(e->reason, sizeof e->reason, "%s", b->reason);
	snprintf(e->how, sizeof e->how, "expired");
}

static void restore_ended(void *arg, const struct history_entry *e)
{
	const struct restore *r = arg;

	history_add(r->d->history, e);
}

static void restore_total(void *arg, const char *rule, uint64_t blocks)
{
	const struct restore *r = arg;

	screen_set_blocks_before(r->d->screen, rule, blocks);
}

static void restore_stats(void *arg, const char *line)
{
	const struct restore *r = arg;

	if (stats_restore(r->d->stats, line, r->now) < 0)
		log_debug("saved state: a stats record not understood, skipped");
}

static void restore_allow(void *arg, const struct cidr *c, uint64_t expiry_ms)
{
	const struct restore *r = arg;

	allow_add(screen_allowlist(r->d->screen), c, expiry_ms);
}

static int restore_account(void *arg, const struct state_account *a, char *err, size_t errlen)
{
	const struct restore *r = arg;
	struct daemon *d = r->d;

	if (daemon_block_account(d, a->user, a->len, a->expiry_ms == UINT64_MAX ? DURATION_PERMANENT :
				 a->expiry_ms - r->now, a->origin, a->reason, err, errlen) < 0)
		return -1;
	/* made (or extended) now: give it back its saved times */
	accounts_restore_times(d->accounts, a->user, a->len, a->start_ms, a->expiry_ms);
	return 0;
}

static void restore_offender(void *arg, const void *key, size_t klen, const uint64_t *times, uint32_t n)
{
	const struct restore *r = arg;
	bool reached;

	for (uint32_t i = 0; i < n; i++)
		window_hit(r->d->offenders, key, klen, times[i], 1, &reached);
}

static void restore_window(void *arg, const char *table, const void *key, size_t klen, const uint64_t *times,
			   uint32_t n)
{
	const struct restore *r = arg;

	screen_load(r->d->screen, table, key, klen, times, n);
}

size_t daemon_state_restore(struct daemon *d, const struct saved_state *s)
{
	struct restore r = { d, daemon_now_ms(), 0, NULL, 0, 0 };
	const struct state_sink sink = {
		.arg = &r,
		.block = restore_block,
		.expired_block = restore_expired,
		.allow = restore_allow,
		.account = restore_account,
		.offender = restore_offender,
		.window = restore_window,
		.ended = restore_ended,
		.total = restore_total,
		.stats = restore_stats,
	};
	size_t n;
	bool was = d->restoring;

	d->restoring = true;
	n = state_apply(s, r.now, &sink);
	d->restoring = was;

	for (size_t i = 0; i < r.nended; i++)
		history_add(d->history, &r.ended[i]);
	free(r.ended);
	return n;
}
