// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * daemon - "mailscreen run": the one event loop that ties it together.
 *
 * sources (tail, journal) -> lines -> matcher -> events -> screen ->
 * decisions -> blocks + fw_nft. Owns the struct daemon (the only mutable
 * state), the signalfd (HUP reloads, TERM/INT stop), the on-demand sweep
 * timer, and the idle hook that sends one netlink batch per loop turn.
 * A reload builds a complete new bundle first and swaps it in only if all
 * of it is good; counters and blocks survive it. Stopping leaves the
 * blocks in the kernel, where their timeouts keep running.
 */
#include "blockfile.h"
#include "blocks.h"
#include "bundle.h"
#include "cmd.h"
#include "daemon.h"
#include "denyfile.h"
#include "duration.h"
#include "fw_nft.h"
#include "journal.h"
#include "jsonw.h"
#include "line.h"
#include "log.h"
#include "loop.h"
#include "privs.h"
#include "screen.h"
#include "sockkill.h"
#include "state.h"
#include "tail.h"
#include "window.h"
#include "xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#define SWEEP_MS 30000
#define MAX_ACCOUNT_BLOCKS 100000

struct evctx {
	struct daemon *d;
	struct src *s;
	uint64_t now_ms;
};

uint64_t daemon_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void usage(FILE *fp)
{
	fprintf(fp,
		"usage: mailscreen run [-c FILE] [--foreground] [--dry-run] [--from-start]\n"
		"\n"
		"Watch the mail logs, count abuse per rule and block offenders in nftables.\n"
		"\n"
		"  -c, --config FILE  configuration (default " CONFIG_DEFAULT_FILE ";\n"
		"                     built-in defaults if that does not exist)\n"
		"  -f, --foreground   stay in the foreground and log to stderr\n"
		"  -n, --dry-run      log every decision, never touch nftables\n"
		"      --from-start   read what the log files already hold (default: start at their end)\n"
		"  -h, --help         this help\n"
		"\n"
		"Signals: HUP reloads configuration, filters and rules (a broken new configuration is\n"
		"refused and the old one keeps running); TERM and INT stop. Blocks stay in the kernel\n"
		"until their timeouts expire.\n");
}

/* ---- sweep: drop idle windows and expired blocks, only while there are any ---- */

static void sweep(struct loop *l, void *arg);
static void arm_sweep(struct daemon *d);

void daemon_arm_sweep(struct daemon *d)
{
	arm_sweep(d);
}

static void arm_sweep(struct daemon *d)
{
	if (!d->sweep_timer)
		d->sweep_timer = loop_add_timer(d->loop, SWEEP_MS, sweep, d);
}

static void sweep(struct loop *l, void *arg)
{
	struct daemon *d = arg;
	struct screen_stats st;
	uint64_t now = daemon_now_ms();

	(void)l;
	d->sweep_timer = 0;
	screen_expire(d->screen, now);
	blocks_expire(d->blocks, now);
	window_expire(d->offenders, now);
	for (size_t i = d->naccounts; i > 0; i--)
		if (d->accounts[i - 1].expiry_ms <= now) {
			log_info("account block of '%s' expired", d->accounts[i - 1].user);
			d->accounts[i - 1] = d->accounts[--d->naccounts];
			d->deny_dirty = true;
		}
	screen_stats(d->screen, &st);
	if (st.tracked || blocks_count(d->blocks) || d->naccounts || window_size(d->offenders) ||
	    screen_allowlist(d->screen)->n)
		arm_sweep(d);
}

/* ---- the saved state: written behind, every state_interval while
 * something changed, at once after a control command, and at stop ---- */

static void state_timer_cb(struct loop *l, void *arg)
{
	struct daemon *d = arg;

	(void)l;
	d->state_timer = 0;
	daemon_save_state(d);
}

void daemon_save_state(struct daemon *d)
{
	char err[512];

	if (d->state_timer) {
		loop_cancel_timer(d->loop, d->state_timer);
		d->state_timer = 0;
	}
	d->state_is_dirty = false;
	if (d->dry_run || !d->state_ok)
		return;
	if (state_save(d, err, sizeof err) < 0) {
		if (!d->state_warned++)
			log_warnx("cannot save state: %s (blocks are kept in the kernel; counts and positions would be "
				  "lost at a restart)", err);
	} else {
		d->state_warned = 0;
	}
}

static void state_dirty(struct daemon *d)
{
	d->state_is_dirty = true;
	if (!d->state_timer && d->state_ok && !d->dry_run)
		d->state_timer = loop_add_timer(d->loop, d->b.cfg.state_interval_ms, state_timer_cb, d);
}

/* ---- the pipeline ---- */

/* [repeat]: how long this rule-made block of target lasts, given the
 * address's earlier blocks within repeat memory. */
static uint64_t repeat_duration(struct daemon *d, const struct cidr *t, uint64_t base, uint32_t *times)
{
	const struct config *c = &d->b.cfg;
	unsigned char key[18];
	bool reached;
	uint64_t dur = base;

	key[0] = t->addr.family;
	key[1] = t->len;
	memcpy(key + 2, t->addr.b, 16);
	*times = window_hit(d->offenders, key, sizeof key, daemon_now_ms(), 1, &reached);
	if (base == DURATION_PERMANENT)
		return base;
	if (c->repeat_permanent_after && *times >= c->repeat_permanent_after)
		return DURATION_PERMANENT;
	for (uint32_t i = 1; i < *times && dur < c->repeat_max_ms; i++)
		dur = dur > UINT64_MAX / c->repeat_factor ? UINT64_MAX : dur * c->repeat_factor;
	return dur > c->repeat_max_ms ? c->repeat_max_ms : dur;
}

struct pcount {
	struct cidr prefix;
	size_t n;
};

static void count_in_prefix(void *arg, const struct block *blk)
{
	struct pcount *pc = arg;

	/* blocks inside the prefix: addresses, and IPv6 /64s as the shipped
	 * rules make them */
	if (blk->target.len > pc->prefix.len && cidr_contains(&pc->prefix, &blk->target.addr))
		pc->n++;
}

/* [prefix]: when enough addresses of target's prefix are blocked, block
 * the prefix. */
static void prefix_check(struct daemon *d, const struct cidr *target)
{
	const struct config *c = &d->b.cfg;
	struct pcount pc;
	char pbuf[CIDR_STRLEN], reason[160], err[256];
	struct block *have;

	if (!c->prefix_enabled)
		return;
	cidr_from_addr(&pc.prefix, &target->addr, target->addr.family == AF_INET ? (int)c->prefix_v4 : (int)c->prefix_v6);
	if (target->len <= pc.prefix.len)
		return;
	if ((have = blocks_covering(d->blocks, &pc.prefix.addr)) && have->target.len <= pc.prefix.len)
		return;
	pc.n = 0;
	blocks_foreach(d->blocks, count_in_prefix, &pc);
	if (pc.n < c->prefix_threshold)
		return;
	cidr_format(&pc.prefix, pbuf);
	snprintf(reason, sizeof reason, "%zu addresses of %s blocked", pc.n, pbuf);
	if (daemon_block(d, &pc.prefix, c->prefix_block_ms, "prefix", reason, err, sizeof err) < 0)
		log_warnx("cannot block %s: %s", pbuf, err);
}

static bool on_decision(void *arg, const struct decision *dc, const struct event *ev, const struct logline *ll)
{
	struct evctx *c = arg;
	struct daemon *d = c->d;
	const struct rule *r = dc->rule;
	char target[CIDR_STRLEN + 256], win[32], dur[32], line[320], reason[160], err[256];
	uint64_t dur_ms = r->block_ms;
	uint32_t times = 1;
	bool extend = false;

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
	if (dc->kind == DECIDE_ADDR) {
		const struct block *cur = blocks_find(d->blocks, &dc->target);
		/* lines still in flight from an address blocked a moment ago are
		 * no new offence: extend the block as it is */
		if (cur && cur->expiry_ms > daemon_now_ms() && strcmp(cur->origin, r->name) == 0) {
			extend = true;
			dur_ms = cur->expiry_ms == UINT64_MAX ? DURATION_PERMANENT : cur->expiry_ms - cur->start_ms;
		} else {
			dur_ms = repeat_duration(d, &dc->target, r->block_ms, &times);
		}
	}
	duration_format(dur_ms, dur, sizeof dur);
	log_info("%s%s %s for %s: rule %s, %s%s; line: %s%s", extend ? "extend" : "block",
		 dc->kind == DECIDE_ACCOUNT ? " account" : "", target, dur, r->name, reason,
		 times > 1 ? (snprintf(win, sizeof win, ", block #%u", times), win) : "", line,
		 d->dry_run ? " (dry run)" : "");
	if (dc->kind == DECIDE_ACCOUNT) {
		if (daemon_block_account(d, dc->user, dc->userlen, dur_ms, r->name, reason, err, sizeof err) < 0)
			log_warnx("cannot block account %s: %s", target, err);
		return true;
	}
	if (daemon_block(d, &dc->target, dur_ms, r->name, reason, err, sizeof err) < 0) {
		log_warnx("cannot block %s: %s", target, err);
		return true;
	}
	prefix_check(d, &dc->target);
	return true;
}

/* ---- blocks and account blocks: the one place they are made ---- */

int daemon_block(struct daemon *d, const struct cidr *c, uint64_t dur_ms, const char *origin, const char *reason,
		 char *err, size_t errlen)
{
	bool extended;
	struct block *covering;
	uint64_t now = daemon_now_ms();

	if (c->len == 0)
		return errf(err, errlen, "refusing to block everything (/0)");
	covering = blocks_covering(d->blocks, &c->addr);
	if (covering && covering->target.len < c->len && covering->expiry_ms >= (dur_ms == DURATION_PERMANENT ?
									UINT64_MAX : now + dur_ms)) {
		char cb[CIDR_STRLEN];
		cidr_format(&covering->target, cb);
		log_debug("already covered by the block of %s", cb);
		return 0;
	}
	blocks_add(d->blocks, c, now, dur_ms, origin, reason, &extended);
	d->blocks_issued++;
	arm_sweep(d);
	if (d->dry_run)
		return 0;
	fw_nft_queue_add(d->nft, c, dur_ms == DURATION_PERMANENT ? 0 : dur_ms);
	if (d->b.cfg.close_sessions && !extended) {
		XGROW(d->kill, d->akill, d->nkill + 1);
		d->kill[d->nkill++] = *c;
	}
	return 0;
}

int daemon_unblock(struct daemon *d, const struct cidr *c, char *err, size_t errlen)
{
	char buf[CIDR_STRLEN];

	if (!blocks_remove(d->blocks, c)) {
		struct block *cov = blocks_covering(d->blocks, &c->addr);
		cidr_format(c, buf);
		if (cov) {
			char cb[CIDR_STRLEN];
			cidr_format(&cov->target, cb);
			return errf(err, errlen, "%s is not blocked itself; it lies in the blocked range %s "
				    "(unblock that)", buf, cb);
		}
		return errf(err, errlen, "%s is not blocked", buf);
	}
	if (!d->dry_run)
		fw_nft_queue_del(d->nft, c);
	return 0;
}

struct collect {
	struct cidr *v;
	size_t n;
};

static void collect(void *arg, const struct block *blk)
{
	struct collect *col = arg;

	col->v[col->n++] = blk->target;
}

size_t daemon_reset_blocks(struct daemon *d)
{
	size_t n = blocks_count(d->blocks);
	struct cidr *all = xcalloc(n ? n : 1, sizeof *all);
	struct collect col = { all, 0 };

	blocks_foreach(d->blocks, collect, &col);
	for (size_t i = 0; i < col.n; i++) {
		char err[256];
		daemon_unblock(d, &all[i], err, sizeof err);
	}
	free(all);
	return col.n;
}

int daemon_block_account(struct daemon *d, const char *user, size_t len, uint64_t dur_ms, const char *origin,
			 const char *reason, char *err, size_t errlen)
{
	uint64_t now = daemon_now_ms();
	struct account_block *a = NULL;

	if (!denyfile_valid_user(user, len))
		return errf(err, errlen, "'%.*s' cannot be an account name in the deny file (empty, too long, or "
			    "has ':' or control characters)", (int)(len > 64 ? 64 : len), user);
	for (size_t i = 0; i < d->naccounts; i++)
		if (strlen(d->accounts[i].user) == len && strncasecmp(d->accounts[i].user, user, len) == 0)
			a = &d->accounts[i];
	if (!a) {
		if (d->naccounts >= MAX_ACCOUNT_BLOCKS)
			return errf(err, errlen, "%d accounts are blocked already", MAX_ACCOUNT_BLOCKS);
		XGROW(d->accounts, d->aaccounts, d->naccounts + 1);
		a = &d->accounts[d->naccounts++];
		memset(a, 0, sizeof *a);
		for (size_t i = 0; i < len; i++)
			a->user[i] = (char)tolower((unsigned char)user[i]);
		a->start_ms = now;
	}
	a->expiry_ms = dur_ms == DURATION_PERMANENT ? UINT64_MAX : now + dur_ms;
	snprintf(a->origin, sizeof a->origin, "%s", origin);
	snprintf(a->reason, sizeof a->reason, "%s", reason);
	d->deny_dirty = true;
	arm_sweep(d);
	return 0;
}

int daemon_unblock_account(struct daemon *d, const char *user, char *err, size_t errlen)
{
	for (size_t i = 0; i < d->naccounts; i++)
		if (strcasecmp(d->accounts[i].user, user) == 0) {
			d->accounts[i] = d->accounts[--d->naccounts];
			d->deny_dirty = true;
			return 0;
		}
	return errf(err, errlen, "account '%s' is not blocked", user);
}

static void write_deny_file(struct daemon *d)
{
	const char **users;
	char err[512];

	if (!d->deny_dirty || d->dry_run)
		return;
	d->deny_dirty = false;
	users = xcalloc(d->naccounts ? d->naccounts : 1, sizeof *users);
	for (size_t i = 0; i < d->naccounts; i++)
		users[i] = d->accounts[i].user;
	if (denyfile_write(d->b.cfg.deny_file, users, d->naccounts, err, sizeof err) < 0)
		log_warnx("cannot write the account deny file: %s", err);
	free(users);
}

static void on_event(void *arg, const struct event *ev0, const struct logline *ll)
{
	struct evctx *c = arg;
	struct event ev = *ev0;

	c->s->events++;
	/* live, an event happens when its line arrives */
	ev.time = (int64_t)(c->now_ms / 1000);
	if (screen_event(c->d->screen, &ev, ll, c->now_ms, on_decision, c) == 0)
		arm_sweep(c->d);
}

static void handle_line(struct daemon *d, struct src *s, const struct logline *ll)
{
	struct evctx c = { d, s, daemon_now_ms() };

	d->lines++;
	s->lines++;
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
	state_dirty(d);
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

static void on_file_line(void *cookie, const char *path, const char *line, size_t len, bool cut)
{
	struct src *s = cookie;
	struct logline ll;

	(void)path;
	(void)cut;
	logline_parse(&ll, line, len, time(NULL));
	handle_line(s->d, s, &ll);
}

static void on_journal_line(void *cookie, const struct logline *ll)
{
	struct src *s = cookie;

	handle_line(s->d, s, ll);
}

static void nft_config(const struct config *c, struct fw_nft_config *fc);

struct requeue {
	struct fw_nft *nft;
	uint64_t now;
	size_t n;
};

static void requeue_block(void *arg, const struct block *blk)
{
	struct requeue *rq = arg;

	if (blk->expiry_ms <= rq->now)
		return;
	fw_nft_queue_add(rq->nft, &blk->target, blk->expiry_ms == UINT64_MAX ? 0 : blk->expiry_ms - rq->now);
	rq->n++;
}

/* Sessions are closed by scanning the kernel's whole TCP socket table
 * (about 1 ms here, more on a bigger machine) for the addresses blocked
 * since the last scan: at most one scan per SCAN_GAP_MS, so a burst of
 * blocks (a log being caught up) costs a few scans, not one per block or
 * per loop turn. A session may so outlive its block by up to this long,
 * its packets already dropped. */
#define SCAN_GAP_MS 100

static void close_sessions(struct daemon *d);

static void close_sessions_due(struct loop *l, void *arg)
{
	struct daemon *d = arg;

	(void)l;
	d->kill_timer = 0;
	/* blocks made this turn are not in the kernel yet: the commit at
	 * the end of the turn scans, once they are */
	if (d->nft && fw_nft_pending(d->nft))
		return;
	close_sessions(d);
}

/* The drop rule is in place now: destroy the TCP connections the
 * addresses blocked since the last scan still have open to the mail
 * ports. One call for all of them: finding sockets walks the kernel's
 * whole socket table, so the cost is per scan, not per block. */
static void close_sessions(struct daemon *d)
{
	const struct config *c = &d->b.cfg;
	struct sockkill_result r;
	uint64_t now;
	unsigned *per;
	char err[256];
	int rc;

	if (d->nkill == 0 || d->kill_unsupported || !c->close_sessions) {
		d->nkill = 0;
		return;
	}
	now = loop_now_ms();
	if (now < d->kill_not_before) {
		if (!d->kill_timer)
			d->kill_timer = loop_add_timer(d->loop, d->kill_not_before - now, close_sessions_due, d);
		return;
	}
	per = xcalloc(d->nkill, sizeof *per);
	rc = sockkill(d->kill, d->nkill, c->all_ports ? NULL : c->ports, c->all_ports ? 0 : c->nports, per, &r,
		      err, sizeof err);
	d->session_scans += r.dumps;
	d->sessions_closed += r.killed;
	for (size_t i = 0; i < d->nkill; i++)
		if (per[i]) {
			char buf[CIDR_STRLEN];
			cidr_format(&d->kill[i], buf);
			log_info("closed %u open connection%s of %s", per[i], per[i] == 1 ? "" : "s", buf);
		}
	if (rc < 0) {
		log_warnx("cannot close open connections: %s; established packets are still dropped", err);
		if (strstr(err, "CONFIG_INET_DIAG_DESTROY"))
			d->kill_unsupported = true;
	} else if (rc > 0) {
		log_warnx("closed %u open connections in one go, the most at once; others may still be open "
			  "(their packets are dropped)", r.killed);
	}
	free(per);
	d->nkill = 0;
	d->kill_not_before = loop_now_ms() + SCAN_GAP_MS;
}

/* Create the table again (or bring it up to date) and put back every
 * block we know of, with the time it has left. why: what happened, for
 * the log. 0, or -1 (logged). */
static int restore_table(struct daemon *d, const char *why)
{
	struct fw_nft_config fc;
	struct requeue rq;
	char err[512];

	nft_config(&d->b.cfg, &fc);
	if (fw_nft_setup(d->nft, &fc, err, sizeof err) < 0) {
		log_warnx("nftables: %s; cannot restore table inet %s: %s", why, fc.table, err);
		return -1;
	}
	rq = (struct requeue){ d->nft, daemon_now_ms(), 0 };
	blocks_foreach(d->blocks, requeue_block, &rq);
	if (fw_nft_commit(d->nft, err, sizeof err) < 0) {
		log_warnx("nftables: %s; restoring %zu blocks failed: %s", why, rq.n, err);
		return -1;
	}
	log_warnx("nftables: %s; restored table inet %s with %zu blocks", why, fc.table, rq.n);
	return 0;
}

static void commit(struct loop *l, void *arg)
{
	struct daemon *d = arg;
	char err[512];
	int rc;

	(void)l;
	write_deny_file(d);
	if (d->blocks_issued != d->blocks_saved) {
		/* a decision this turn: mark the state dirty so the block and the
		 * counts that made it are saved together */
		d->blocks_saved = d->blocks_issued;
		state_dirty(d);
	}
	if (d->dry_run || !d->nft || !fw_nft_pending(d->nft))
		return;
	rc = fw_nft_commit(d->nft, err, sizeof err);
	if (rc > 0)
		d->nft_errors += (uint64_t)rc;
	if (rc >= 0) {
		close_sessions(d);
		return;
	}
	d->nft_errors++;
	log_warnx("nftables: %s", err);
	/* Most likely someone removed our table (a firewall reload running
	 * "nft flush ruleset") and the monitor did not tell: put it back. The
	 * queue was emptied. */
	snprintf(err, sizeof err, "table inet %s was missing or broken", d->b.cfg.table);
	restore_table(d, err);
}

/* The nftables monitor's restores: at once, at most once a second, and
 * after a failed one every 5 s, doubling up to 5 min. */
struct nft_guard {
	struct daemon *d;
	struct fw_nft_monitor *mon;
	uint64_t timer;                 /* a restore is scheduled */
	uint64_t not_before;            /* monotonic ms */
	uint64_t backoff_ms;
	char why[256];                  /* the first loss since the last restore */
	unsigned more;                  /* and how many more */
	char table[64];                 /* the table watched */
};

static void guard_restore(struct loop *l, void *arg)
{
	struct nft_guard *g = arg;
	char why[320];

	g->timer = 0;
	if (g->d->dry_run || !g->d->nft)
		return;
	snprintf(why, sizeof why, "%s", g->why);
	if (g->more)
		snprintf(why + strlen(why), sizeof why - strlen(why), " (and %u more changes)", g->more);
	g->why[0] = '\0';      /* what happens while we restore is news */
	g->more = 0;
	if (restore_table(g->d, why) == 0) {
		g->backoff_ms = 0;
		g->not_before = loop_now_ms() + 1000;
		return;
	}
	if (!g->why[0])
		snprintf(g->why, sizeof g->why, "%.*s", (int)sizeof g->why - 1, why);
	g->backoff_ms = g->backoff_ms ? (g->backoff_ms >= 150000 ? 300000 : g->backoff_ms * 2) : 5000;
	g->not_before = loop_now_ms() + g->backoff_ms;
	if (g->timer)
		loop_cancel_timer(l, g->timer);
	g->timer = loop_add_timer(l, g->backoff_ms, guard_restore, g);
}

static void on_nft_lost(void *arg, const char *what);

/* Watch the table the configuration names (again after a reload that
 * renamed it or switched dry_run): someone flushing the ruleset is noticed
 * and the table put back. */
static void guard_follow(struct daemon *d)
{
	struct nft_guard *g = d->guard;
	char err[256];

	if (!g)
		return;
	if (g->mon && !d->dry_run && strcmp(g->table, d->b.cfg.table) == 0)
		return;
	fw_nft_monitor_close(g->mon);
	g->mon = NULL;
	if (d->dry_run || !d->nft)
		return;
	snprintf(g->table, sizeof g->table, "%s", d->b.cfg.table);
	g->mon = fw_nft_monitor_open(d->loop, g->table, on_nft_lost, g, err, sizeof err);
	if (g->mon)
		fw_nft_monitor_own(g->mon, d->nft);
	else
		log_warnx("nftables: %s; a removed table is put back only at the next block", err);
}

static void on_nft_lost(void *arg, const char *what)
{
	struct nft_guard *g = arg;
	uint64_t now = loop_now_ms();

	if (strncmp(what, "element ", 8) == 0) {
		/* one block taken out by hand: meant, most likely; forget it too,
		 * so that no later restore puts it back */
		const char *sp = strchr(what + 8, ' ');
		char target[CIDR_STRLEN + 1];
		struct cidr c;
		bool forgot = false;
		if (sp && (size_t)(sp - (what + 8)) < sizeof target) {
			memcpy(target, what + 8, (size_t)(sp - (what + 8)));
			target[sp - (what + 8)] = '\0';
			forgot = cidr_parse(target, &c, NULL, 0) == 0 && blocks_remove(g->d->blocks, &c);
		}
		log_info("nftables: %s by another process; not put back%s", what,
			 forgot ? ", and forgotten" : "");
		if (forgot)
			daemon_save_state(g->d);
		return;
	}
	if (g->why[0])
		g->more++;
	else
		snprintf(g->why, sizeof g->why, "%s%s", what,
			 strcmp(what, "notifications lost") ? " by another process" : "");
	if (!g->timer)
		g->timer = loop_add_timer(g->d->loop, now < g->not_before ? g->not_before - now : 0, guard_restore, g);
}

/* ---- sources ---- */

static char *journal_key(const struct source_cfg *sc)
{
	size_t len = 1;
	char *k;

	for (size_t i = 0; sc->journal[i]; i++)
		len += strlen(sc->journal[i]) + 1;
	len += sc->journal_path ? strlen(sc->journal_path) : 0;
	k = xcalloc(1, len + 1);
	for (size_t i = 0; sc->journal[i]; i++) {
		strcat(k, sc->journal[i]);
		strcat(k, " ");
	}
	strcat(k, "|");
	if (sc->journal_path)
		strcat(k, sc->journal_path);
	return k;
}

static void src_free(struct daemon *d, struct src *s)
{
	if (!s)
		return;
	if (s->tw)
		tail_remove(d->tail, s->tw);
	if (s->j)
		journal_close(s->j);
	matcher_free(s->m);
	free(s->name);
	free(s->path);
	free(s->jkey);
	free(s);
}

/* Build the sources of bundle b, reusing the open watches of old sources
 * that read the same file or journal (so positions and buffered partial
 * lines survive a reload). On failure nothing of the old set is touched. */
static int sources_build(struct daemon *d, struct bundle *b, struct src ***out, char *err, size_t errlen)
{
	struct src **v = xcalloc(b->cfg.nsources ? b->cfg.nsources : 1, sizeof *v);
	size_t n = b->cfg.nsources;

	for (size_t i = 0; i < n; i++) {
		struct source_cfg *sc = &b->cfg.sources[i];
		struct src *s = xcalloc(1, sizeof *s);
		v[i] = s;
		s->d = d;
		s->name = xstrdup(sc->name);
		s->m = matcher_new(b->fs, (const char *const *)sc->filters, sc->nfilters, err, errlen);
		if (!s->m)
			goto fail;
		if (sc->path)
			s->path = xstrdup(sc->path);
		else
			s->jkey = journal_key(sc);
		for (size_t k = 0; k < d->nsrcs; k++) {
			struct src *o = d->srcs[k];
			if (!o)
				continue;
			if ((s->path && o->path && strcmp(s->path, o->path) == 0 && o->tw) ||
			    (s->jkey && o->jkey && strcmp(s->jkey, o->jkey) == 0 && o->j)) {
				s->tw = o->tw;
				s->j = o->j;
				s->lines = o->lines;
				s->events = o->events;
				break;
			}
		}
	}
	/* only now open what is new; reused handles are claimed in sources_swap */
	for (size_t i = 0; i < n; i++) {
		struct source_cfg *sc = &b->cfg.sources[i];
		struct src *s = v[i];
		char msg[512];
		if (s->tw || s->j)
			continue;
		if (sc->path) {
			if (!d->tail) {
				struct tail_opts to = { .max_line = b->cfg.max_line, .from_start = d->from_start };
				d->tail = tail_new(d->loop, &to, on_file_line);
			}
			if (d->saved.loaded) {
				/* we ran before: go on where we stopped */
				struct tail_pos pos[64];
				size_t np = state_file_positions(&d->saved, sc->name, pos, 64);
				s->tw = tail_add_resume(d->tail, sc->path, s, pos, np, msg, sizeof msg);
			} else {
				s->tw = tail_add(d->tail, sc->path, s, msg, sizeof msg);
			}
		} else {
			struct journal_opts jo = { .path = sc->journal_path, .from_start = d->from_start,
						   .max_line = b->cfg.max_line };
			const char *cursor = d->saved.loaded ? state_journal_cursor(&d->saved, sc->name) : NULL;
			s->j = journal_open(d->loop, (const char *const *)sc->journal, &jo, on_journal_line, s, msg,
					    sizeof msg);
			if (s->j && cursor && journal_seek_cursor(s->j, cursor, msg, sizeof msg) < 0)
				log_warnx("[source %s]: cannot go on at the saved journal cursor (%s); reading new "
					  "entries only", sc->name, msg);
		}
		if (!s->tw && !s->j) {
			errf(err, errlen, "[source %s]: %s", sc->name, msg);
			goto fail;
		}
	}
	*out = v;
	return 0;
fail:
	for (size_t i = 0; i < n; i++) {
		if (!v[i])
			continue;
		/* never close a handle that still belongs to an old source */
		for (size_t o = 0; o < d->nsrcs; o++)
			if (d->srcs[o] && ((v[i]->tw && v[i]->tw == d->srcs[o]->tw) || (v[i]->j && v[i]->j == d->srcs[o]->j)))
				v[i]->tw = NULL, v[i]->j = NULL;
		src_free(d, v[i]);
	}
	free(v);
	return -1;
}

/* Swap in new sources: old ones whose handles were taken over are freed
 * without closing them; the rest are closed. */
static void sources_swap(struct daemon *d, struct src **v, size_t n)
{
	for (size_t o = 0; o < d->nsrcs; o++) {
		struct src *old = d->srcs[o];
		for (size_t i = 0; i < n; i++) {
			if (old->tw && v[i]->tw == old->tw) {
				tail_watch_set_cookie(old->tw, v[i]);
				old->tw = NULL;
			}
			if (old->j && v[i]->j == old->j) {
				journal_set_cookie(old->j, v[i]);
				old->j = NULL;
			}
		}
		src_free(d, old);
	}
	free(d->srcs);
	d->srcs = v;
	d->nsrcs = n;
}

/* ---- reconciling with the kernel at start ---- */

struct adopt {
	struct daemon *d;
	uint64_t now;
	size_t n;
};

static void adopt_elem(void *arg, const struct fw_nft_elem *e)
{
	struct adopt *a = arg;
	bool ext;

	if (blocks_find(a->d->blocks, &e->target))
		return;
	blocks_add(a->d->blocks, &e->target, a->now, e->expires_ms ? e->expires_ms : DURATION_PERMANENT, "kernel",
		   "in the set at start, not in the saved state", &ext);
	a->n++;
}

/* Blocks the kernel holds that the saved state does not know (it was lost,
 * or damaged and set aside): take them into the daemon's own list, so that
 * they are listed and can be unblocked. The kernel is the truth. */
static void reconcile_kernel(struct daemon *d)
{
	struct adopt a = { d, daemon_now_ms(), 0 };
	char err[256];

	if (d->dry_run || !d->nft)
		return;
	if (fw_nft_list(d->nft, d->b.cfg.table, adopt_elem, &a, err, sizeof err) < 0) {
		log_warnx("cannot read the blocks already in table inet %s: %s", d->b.cfg.table, err);
		return;
	}
	if (a.n) {
		log_info("found %zu blocks in table inet %s that the saved state did not know; listed with origin "
			 "'kernel'", a.n, d->b.cfg.table);
		arm_sweep(d);
	}
}

/* ---- the block list file ---- */

static void on_blockfile(void *arg, const struct bf_entry *added, size_t nadded, const struct bf_entry *removed,
			 size_t nremoved)
{
	struct daemon *d = arg;
	char buf[CIDR_STRLEN], err[256], dur[32];

	for (size_t i = 0; i < nremoved; i++) {
		struct block *b = blocks_find(d->blocks, &removed[i].target);
		cidr_format(&removed[i].target, buf);
		if (!b || strcmp(b->origin, "file") != 0)
			continue;       /* made by a rule or by hand since: leave it */
		if (daemon_unblock(d, &removed[i].target, err, sizeof err) == 0)
			log_info("unblock %s: removed from %s", buf, d->bfile_path);
	}
	for (size_t i = 0; i < nadded; i++) {
		char reason[160];
		cidr_format(&added[i].target, buf);
		if (screen_exempt(d->screen, &added[i].target.addr, daemon_now_ms())) {
			log_warnx("%s:%d: %s is on the allow list; not blocked", d->bfile_path, added[i].lineno, buf);
			continue;
		}
		snprintf(reason, sizeof reason, "%s:%d%s%s", d->bfile_path, added[i].lineno,
			 *added[i].comment ? " " : "", added[i].comment);
		duration_format(added[i].duration_ms, dur, sizeof dur);
		if (daemon_block(d, &added[i].target, added[i].duration_ms, "file", reason, err, sizeof err) < 0)
			log_warnx("%s:%d: cannot block %s: %s", d->bfile_path, added[i].lineno, buf, err);
		else
			log_info("block %s for %s: %s", buf, dur, reason);
	}
}

/* ---- configuration ---- */

static void nft_config(const struct config *c, struct fw_nft_config *fc)
{
	memset(fc, 0, sizeof *fc);
	fc->table = c->table;
	fc->all_ports = c->all_ports;
	fc->nports = c->nports;
	memcpy(fc->ports, c->ports, c->nports * sizeof c->ports[0]);
}

static void apply_log_level(const struct config *c)
{
	static const char *const names[] = { "error", "warning", "info", "debug" };

	for (int i = 0; i < 4; i++)
		if (strcmp(c->log_level, names[i]) == 0)
			log_set_level((enum log_level)i);
}

/* Load a new bundle and make it current. At start, failure is fatal; on
 * reload, the old configuration stays in force. */
static int configure(struct daemon *d, bool initial)
{
	struct bundle nb;
	struct src **v;
	char err[1024];
	bool dry;

	if (bundle_load(&nb, d->cfgpath, d->cfg_explicit, err, sizeof err) < 0) {
		log_warnx("%s%s", err, initial ? "" : " -- reload refused, the running configuration stays in force");
		return -1;
	}
	dry = d->dry_run_flag || nb.cfg.dry_run;
	if (!dry) {
		struct fw_nft_config fc;
		if (!d->nft && !(d->nft = fw_nft_open(err, sizeof err))) {
			log_warnx("nftables: %s%s", err, initial ? "" : " -- reload refused");
			bundle_release(&nb);
			return -1;
		}
		nft_config(&nb.cfg, &fc);
		if (!initial && d->b.cfg.table && strcmp(d->b.cfg.table, nb.cfg.table) != 0)
			log_warnx("table renamed from '%s' to '%s': the old table stays until its blocks expire "
				  "(delete it with: nft delete table inet %s)", d->b.cfg.table, nb.cfg.table,
				  d->b.cfg.table);
		if (fw_nft_setup(d->nft, &fc, err, sizeof err) < 0) {
			log_warnx("nftables: cannot set up table inet %s: %s%s", nb.cfg.table, err,
				  initial ? "" : " -- reload refused");
			bundle_release(&nb);
			return -1;
		}
	}
	if (sources_build(d, &nb, &v, err, sizeof err) < 0) {
		log_warnx("%s%s", err, initial ? "" : " -- reload refused, the running configuration stays in force");
		bundle_release(&nb);
		return -1;
	}
	sources_swap(d, v, nb.cfg.nsources);
	{
		struct screen_opts so = { .allow = &nb.cfg.allow, .nat = nb.cfg.nat, .nnat = nb.cfg.nnat,
					  .max_keys = nb.cfg.max_keys, .auth_ttl_ms = nb.cfg.authenticated_ttl_ms };
		screen_configure(d->screen, &nb.rules, &so);
	}
	/* each offender keeps the times of its last blocks: enough to count up
	 * to permanent_after, and 32 (the factor is capped by max long before) */
	window_reconfigure(d->offenders, nb.cfg.repeat_permanent_after > 32 ? (uint32_t)nb.cfg.repeat_permanent_after : 32,
			   nb.cfg.repeat_memory_ms, nb.cfg.max_keys);

	d->max_window_ms = ruleset_max_window(screen_rules(d->screen));
	d->dry_run = dry;
	apply_log_level(&nb.cfg);
	bundle_release(&d->b);
	d->b = nb;
	if (!initial)
		guard_follow(d);
	if (!d->bfile_path || strcmp(d->bfile_path, d->b.cfg.blocklist) != 0) {
		char msg[512];
		blockfile_close(d->bfile);
		free(d->bfile_path);
		d->bfile_path = xstrdup(d->b.cfg.blocklist);
		d->bfile = blockfile_open(d->loop, d->bfile_path, on_blockfile, d, msg, sizeof msg);
		if (!d->bfile)
			log_warnx("block list %s: %s", d->bfile_path, msg);
	} else if (d->bfile) {
		blockfile_reload(d->bfile);
	}
	log_info("%s %s: %zu filters from %s, %zu rules from %s, %zu sources%s",
		 initial ? "started with" : "reloaded", d->b.cfg.file ? d->b.cfg.file : "built-in defaults",
		 filterset_nfilters(d->b.fs), d->b.filters_dir, screen_rules(d->screen)->n, d->b.rules_dir,
		 d->nsrcs, d->dry_run ? " (dry run: nftables untouched)" : "");
	for (size_t i = 0; i < d->b.cfg.nsources; i++) {
		const struct source_cfg *sc = &d->b.cfg.sources[i];
		log_info("source %s: %s%s", sc->name, sc->path ? sc->path : "journal ",
			 sc->path ? "" : sc->journal[0]);
	}
	return 0;
}

int daemon_reload(struct daemon *d)
{
	return configure(d, false);
}

/* ---- signals ---- */

static void on_signal(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct daemon *d = arg;
	struct signalfd_siginfo si;

	(void)events;
	while (read(fd, &si, sizeof si) == sizeof si) {
		switch (si.ssi_signo) {
		case SIGHUP:
			log_info("SIGHUP: reloading");
			daemon_reload(d);
			break;
		case SIGTERM:
		case SIGINT:
			log_info("%s: stopping; blocks stay in the kernel until they expire",
				 si.ssi_signo == SIGTERM ? "SIGTERM" : "SIGINT");
			loop_stop(l);
			break;
		}
	}
}

static int setup_signals(struct daemon *d)
{
	sigset_t set;

	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		return -1;
	d->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (d->sigfd < 0)
		return -1;
	return loop_add_fd(d->loop, d->sigfd, EPOLLIN, on_signal, d);
}

static void daemonize(void)
{
	pid_t pid = fork();
	int fd;

	if (pid < 0)
		fatal("fork");
	if (pid > 0)
		_exit(0);
	if (setsid() < 0)
		fatal("setsid");
	if (chdir("/") < 0)
		fatal("chdir /");
	fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
}

int cmd_run(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "foreground", no_argument, NULL, 'f' },
		{ "dry-run", no_argument, NULL, 'n' },
		{ "from-start", no_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct daemon d = { .sigfd = -1 };
	struct nft_guard guard = { .d = &d };
	int opt;

	while ((opt = getopt_long(argc, argv, "c:fnh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c': d.cfgpath = optarg; d.cfg_explicit = true; break;
		case 'f': d.foreground = true; break;
		case 'n': d.dry_run_flag = true; break;
		case 'S': d.from_start = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "mailscreen run: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (!d.foreground) {
		daemonize();
		log_to_syslog(true);
	}
	d.started = time(NULL);
	d.loop = loop_new();
	d.screen = screen_new();
	d.blocks = blocks_new();
	d.offenders = window_new(32, 30ULL * 86400 * 1000, 1000000);
	d.deny_dirty = true;    /* Dovecot wants the deny file to exist, even empty */
	if (setup_signals(&d) < 0)
		fatal("signals");
	/* the control socket first: a second daemon is refused before it
	 * touches nftables or anything else */
	{
		struct config c0;
		char err[1024];
		if (config_load(&c0, d.cfgpath, d.cfg_explicit, err, sizeof err) < 0) {
			log_warnx("%s", err);
			exit(1);        /* start-up failed: exit, not return (the state stays reachable for LeakSanitizer) */
		}
		d.ctl = control_open(d.loop, c0.control, c0.control_group, (unsigned)c0.control_clients, daemon_control,
				     &d, err, sizeof err);
		if (d.ctl && !d.dry_run_flag && !c0.dry_run) {
			if (mkdir(c0.state_dir, 0700) < 0 && errno != EEXIST)
				log_warn("cannot create state directory '%s'; state will not be saved", c0.state_dir);
			else
				d.state_ok = true;
			if (d.state_ok)
				state_load(c0.state_dir, &d.saved);
		}
		config_release(&c0);
		if (!d.ctl) {
			log_warnx("control socket: %s", err);
			exit(1);        /* start-up failed: exit, not return (the state stays reachable for LeakSanitizer) */
		}
	}
	if (configure(&d, true) < 0) {
		control_close(d.ctl);
		exit(1);
	}
	d.guard = &guard;
	guard_follow(&d);
	if (d.saved.loaded) {
		size_t n = state_apply(&d, &d.saved);
		char ago[32];
		uint64_t now = daemon_now_ms();
		duration_format(now > d.saved.saved_ms ? now - d.saved.saved_ms : 0, ago, sizeof ago);
		log_info("restored %zu blocks, %zu blocked accounts and the counts saved %s ago", n, d.naccounts, ago);
	}
	saved_state_release(&d.saved);
	reconcile_kernel(&d);
	/* least privilege from here on (privs.h): [daemon] user gets the state
	 * directory, then only CAP_NET_ADMIN and CAP_DAC_READ_SEARCH are kept */
	{
		char err[1024];
		if ((d.state_ok && privs_give_dir(d.b.cfg.user, d.b.cfg.state_dir, err, sizeof err) < 0) ||
		    privs_drop(d.b.cfg.user, err, sizeof err) < 0) {
			control_close(d.ctl);
			fatalx("cannot drop privileges: %s", err);
		}
		privs_describe(err, sizeof err);
		log_info("privileges dropped: %s", err);
	}
	/* a snapshot from the first moment on: even a crash in the first
	 * seconds goes on from here, not from the end of the logs */
	daemon_save_state(&d);
	loop_on_idle(d.loop, commit, &d);
	sd_notify(0, "READY=1");
	loop_run(d.loop);
	sd_notify(0, "STOPPING=1");
	commit(d.loop, &d);
	commit(d.loop, &d);
	daemon_save_state(&d);
	control_close(d.ctl);
	blockfile_close(d.bfile);
	free(d.bfile_path);
	write_deny_file(&d);
	sources_swap(&d, NULL, 0);
	if (d.tail)
		tail_free(d.tail);
	fw_nft_monitor_close(guard.mon);
	fw_nft_close(d.nft);
	screen_free(d.screen);
	blocks_free(d.blocks);
	window_free(d.offenders);
	free(d.accounts);
	free(d.kill);
	bundle_release(&d.b);
	close(d.sigfd);
	loop_free(d.loop);
	return 0;
}
