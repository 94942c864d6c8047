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
#include "daemon_state.h"
#include "denyfile.h"
#include "duration.h"
#include "fw_nft.h"
#include "journal.h"
#include "jsonw.h"
#include "line.h"
#include "log.h"
#include "loop.h"
#include "policy.h"
#include "privs.h"
#include "protect.h"
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

static void account_expired(void *arg, const struct account_block *ab)
{
	(void)arg;
	log_info("account block of '%s' expired", ab->user);
}

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
	allow_expire(screen_allowlist(d->screen), now);
	accounts_expire(d->accounts, now, account_expired, NULL);
	screen_stats(d->screen, &st);
	if (st.tracked || blocks_count(d->blocks) || accounts_count(d->accounts) || window_size(d->offenders) ||
	    screen_allowlist(d->screen)->n)
		arm_sweep(d);
}

/* ---- the saved state: written behind, every state_interval while
 * something changed, at once after a control command, and at stop. While
 * the loop runs, a child process writes it (state.h); one at a time, and
 * a save asked for meanwhile follows when it is done. ---- */

static void state_timer_cb(struct loop *l, void *arg)
{
	struct daemon *d = arg;

	(void)l;
	d->state_timer = 0;
	daemon_save_state(d);
}

static void state_report(struct daemon *d, int rc, const char *err)
{
	if (rc < 0) {
		if (!d->state_warned++)
			log_warnx("cannot save state: %s (blocks are kept in the kernel; counts and positions would be "
				  "lost at a restart)", err);
	} else {
		d->state_warned = 0;
	}
}

static void state_saved(void *arg, int rc, const char *err)
{
	struct daemon *d = arg;

	state_report(d, rc, err);
	if (d->state_again) {
		d->state_again = false;
		daemon_save_state(d);
	}
}

/* wait: in this process, now (at start and at stop) */
static void save_state(struct daemon *d, bool wait)
{
	char err[512];
	struct state_view v;

	if (d->state_timer) {
		loop_cancel_timer(d->loop, d->state_timer);
		d->state_timer = 0;
	}
	d->state_is_dirty = false;
	if (d->dry_run || !d->state_ok)
		return;
	daemon_state_view(d, &v);
	if (!wait) {
		if (!d->saver)
			d->saver = state_saver_new(d->loop, state_saved, d);
		if (state_saver_busy(d->saver)) {
			d->state_again = true;
			return;
		}
		if (state_saver_start(d->saver, d->b.cfg.state_dir, &v, daemon_now_ms(), err, sizeof err) == 0)
			return;
		log_debug("saving the state in the daemon itself: %s", err);
	}
	state_saver_cancel(d->saver);
	d->state_again = false;
	state_report(d, state_save(d->b.cfg.state_dir, &v, daemon_now_ms(), err, sizeof err), err);
}

void daemon_save_state(struct daemon *d)
{
	save_state(d, false);
}

static void state_dirty(struct daemon *d)
{
	d->state_is_dirty = true;
	if (!d->state_timer && d->state_ok && !d->dry_run)
		d->state_timer = loop_add_timer(d->loop, d->b.cfg.state_interval_ms, state_timer_cb, d);
}

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

/* ---- what no block may cover (protect.h) ---- */

/* This host's addresses, read again when older than a second. */
static void refresh_host(struct daemon *d, uint64_t now)
{
	struct cidrlist fresh = { 0 };
	char err[256];

	if (d->host_read_ms && now >= d->host_read_ms && now - d->host_read_ms < 1000)
		return;
	d->host_read_ms = now;
	if (protect_read_host(&fresh, err, sizeof err) < 0) {
		log_warnx("%s; going on with the addresses read before", err);
		cidrlist_release(&fresh);
		return;
	}
	cidrlist_release(&d->host);
	d->host = fresh;
	screen_set_host(d->screen, &d->host);
}

/* "192.0.2.10 is on the allow list", "0.0.0.0/1 contains 127.0.0.0/8
 * (loopback)", "198.51.100.7 lies in 198.51.100.0/24 (on the allow list)" */
static void phrase(const struct cidr *t, const struct protect_hit *h, char *buf, size_t len)
{
	char tb[CIDR_STRLEN], hb[CIDR_STRLEN];

	cidr_format(t, tb);
	cidr_format(&h->range, hb);
	if (t->len == h->range.len)
		snprintf(buf, len, "%s is %s", tb, h->what);
	else if (t->len > h->range.len)
		snprintf(buf, len, "%s lies in %s (%s)", tb, hb, h->what);
	else
		snprintf(buf, len, "%s contains %s (%s)", tb, hb, h->what);
}

int daemon_protect(struct daemon *d, struct cidr *t, const struct ipaddr *around, char *why, size_t whylen)
{
	const struct allowlist *al = screen_allowlist(d->screen);
	struct protect_hit hit;
	struct cidr out;
	uint64_t now = daemon_now_ms();
	char tb[CIDR_STRLEN], ob[CIDR_STRLEN], p[200];

	refresh_host(d, now);
	if (!protect_find(&d->host, al, t, now, &hit))
		return 1;
	if (around && protect_narrow(&d->host, al, t, around, now, &out, &hit)) {
		phrase(t, &hit, p, sizeof p);
		cidr_format(t, tb);
		cidr_format(&out, ob);
		snprintf(why, whylen, "%s narrowed to %s: %s", tb, ob, p);
		*t = out;
		return 2;
	}
	if (around && !cidr_overlap(t, &hit.range))
		protect_find(&d->host, al, t, now, &hit);
	phrase(t, &hit, why, whylen);
	return -1;
}

/* ---- blocks and account blocks: the one place they are made ---- */

/* *made (if not NULL): the entry */
static int make_block(struct daemon *d, const struct cidr *c, uint64_t now, uint64_t dur_ms, const char *origin,
		      const char *reason, struct block **made, char *err, size_t errlen)
{
	bool extended;
	struct block *b;
	struct cidr t = *c;
	char why[320];

	if (c->len == 0)
		return errf(err, errlen, "refusing to block everything (/0)");
	if (daemon_protect(d, &t, NULL, why, sizeof why) < 0)
		return errf(err, errlen, "%s: never blocked", why);
	b = blocks_add(d->blocks, c, now, dur_ms, origin, reason, &extended);
	d->blocks_issued++;
	arm_sweep(d);
	if (!d->dry_run && d->b.cfg.close_sessions && !extended) {
		XGROW(d->kill, d->akill, d->nkill + 1);
		d->kill[d->nkill++] = *c;
	}
	if (made)
		*made = b;
	return 0;
}

int daemon_block(struct daemon *d, const struct cidr *c, uint64_t dur_ms, const char *origin, const char *reason,
		 char *err, size_t errlen)
{
	return make_block(d, c, daemon_now_ms(), dur_ms, origin, reason, NULL, err, errlen);
}

int daemon_restore_block(struct daemon *d, const struct block *saved, uint64_t now_ms, char *err, size_t errlen)
{
	struct block *b;

	if (saved->expiry_ms <= now_ms)
		return errf(err, errlen, "it has ended");
	if (make_block(d, &saved->target, now_ms, saved->expiry_ms == UINT64_MAX ? DURATION_PERMANENT :
		       saved->expiry_ms - now_ms, saved->origin, saved->reason, &b, err, errlen) < 0)
		return -1;
	/* its history, and exactly its expiry (with the kernel changes that
	 * follow when it was there already) */
	b->start_ms = saved->start_ms;
	b->times = saved->times;
	blocks_set_expiry(d->blocks, &saved->target, saved->expiry_ms, now_ms);
	return 0;
}

int daemon_unblock(struct daemon *d, const struct cidr *c, char *err, size_t errlen)
{
	char buf[CIDR_STRLEN];

	if (!blocks_remove(d->blocks, c, daemon_now_ms())) {
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
	if (accounts_add(d->accounts, user, len, daemon_now_ms(), dur_ms, origin, reason, err, errlen) < 0)
		return -1;
	arm_sweep(d);
	return 0;
}

int daemon_unblock_account(struct daemon *d, const char *user, char *err, size_t errlen)
{
	if (!accounts_remove(d->accounts, user))
		return errf(err, errlen, "account '%s' is not blocked", user);
	return 0;
}

static void write_deny_file(struct daemon *d)
{
	char err[512];

	if (!d->dry_run && accounts_write_denyfile(d->accounts, d->b.cfg.deny_file, false, err, sizeof err) < 0)
		log_warnx("cannot write the account deny file: %s", err);
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

static void handle_line(struct daemon *d, struct src *s, const struct logline *ll)
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
	logline_parse(&ll, line, len, time(NULL));
	ll.cut = cut;
	handle_line(s->d, s, &ll);
}

static void on_journal_line(void *cookie, const struct logline *ll)
{
	struct src *s = cookie;

	handle_line(s->d, s, ll);
}

static void nft_config(const struct config *c, struct fw_nft_config *fc);

/* ---- the kernel's sets, as blocks.c works them out ---- */

/* the kernel's timeout, counted from now_ms, for an element that must
 * stay until expiry_ms (0 = permanent; never 0 for a timed one) */
static uint64_t timeout_at(uint64_t expiry_ms, uint64_t now_ms)
{
	if (expiry_ms == UINT64_MAX)
		return 0;
	return expiry_ms > now_ms ? expiry_ms - now_ms : 1;
}

static uint64_t timeout_until(uint64_t expiry_ms)
{
	return timeout_at(expiry_ms, daemon_now_ms());
}

static void kset(struct daemon *d, enum fw_nft_set which, const struct cidr *c, uint64_t timeout_ms, bool del)
{
	if (d->dry_run || !d->nft)
		return;
	fw_nft_queue_set(d->nft, which, c, timeout_ms, del);
}

static void kblock_put(void *arg, const struct cidr *c, uint64_t expiry_ms, uint64_t now_ms)
{
	kset(arg, FW_NFT_BLOCK, c, timeout_at(expiry_ms, now_ms), false);
}

static void kblock_del(void *arg, const struct cidr *c)
{
	kset(arg, FW_NFT_BLOCK, c, 0, true);
}

static void kallow_put(void *arg, const struct cidr *c, uint64_t expiry_ms, uint64_t now_ms)
{
	kset(arg, FW_NFT_ALLOW, c, timeout_at(expiry_ms, now_ms), false);
}

static void kallow_del(void *arg, const struct cidr *c)
{
	kset(arg, FW_NFT_ALLOW, c, 0, true);
}

struct allow_gone {
	const struct allowlist *al;
	uint64_t now;
	struct cidr *v;
	size_t n, alloc;
};

static void allow_gone(void *arg, const struct block *blk)
{
	struct allow_gone *g = arg;

	for (size_t i = 0; i < g->al->n; i++)
		if (g->al->v[i].expiry_ms > g->now && g->al->v[i].target.len == blk->target.len &&
		    addr_equal(&g->al->v[i].target.addr, &blk->target.addr))
			return;
	XGROW(g->v, g->alloc, g->n + 1);
	g->v[g->n++] = blk->target;
}

/* Mirror the allow list into d->allows, whose changes go to the kernel's
 * allow sets (the chain accepts those before any drop). */
static void sync_allows(struct daemon *d)
{
	const struct allowlist *al = screen_allowlist(d->screen);
	struct allow_gone g = { al, daemon_now_ms(), NULL, 0, 0 };

	if (al->gen == d->allows_gen)
		return;
	d->allows_gen = al->gen;
	blocks_foreach(d->allows, allow_gone, &g);
	for (size_t i = 0; i < g.n; i++)
		blocks_remove(d->allows, &g.v[i], g.now);
	free(g.v);
	for (size_t i = 0; i < al->n; i++) {
		const struct allow_entry *e = &al->v[i];
		const struct block *have = blocks_find(d->allows, &e->target);
		bool ext;
		if (e->expiry_ms <= g.now || (have && have->expiry_ms == e->expiry_ms))
			continue;
		blocks_add(d->allows, &e->target, g.now, e->expiry_ms == UINT64_MAX ? DURATION_PERMANENT :
			   e->expiry_ms - g.now, e->origin == ALLOW_CONFIG ? "config" : "manual", "", &ext);
	}
}

/* Blocks and allows end on time (not at the next sweep): a range's end is
 * when what it covered must be back in the kernel on its own. */
static void on_expiry(struct loop *l, void *arg)
{
	struct daemon *d = arg;
	uint64_t now = daemon_now_ms();

	(void)l;
	d->expiry_timer = 0;
	blocks_expire(d->blocks, now);
	allow_expire(screen_allowlist(d->screen), now);
	blocks_expire(d->allows, now);
}

static void arm_expiry(struct daemon *d)
{
	uint64_t next = blocks_next_expiry(d->blocks), na = blocks_next_expiry(d->allows), now;

	if (na < next)
		next = na;
	if (d->expiry_timer && d->expiry_at <= next)
		return;
	if (d->expiry_timer)
		loop_cancel_timer(d->loop, d->expiry_timer);
	d->expiry_timer = 0;
	if (next == UINT64_MAX)
		return;
	now = daemon_now_ms();
	d->expiry_at = next;
	d->expiry_timer = loop_add_timer(d->loop, next > now ? next - now : 0, on_expiry, d);
}

struct requeue {
	struct fw_nft *nft;
	enum fw_nft_set which;
	size_t n;
};

static void requeue_elem(void *arg, const struct cidr *c, uint64_t expiry_ms)
{
	struct requeue *rq = arg;

	fw_nft_queue_set(rq->nft, rq->which, c, timeout_until(expiry_ms), false);
	rq->n++;
}

/* Queue every element the kernel must hold for blocks (or allows). */
static size_t requeue(struct daemon *d, enum fw_nft_set which)
{
	struct requeue rq = { d->nft, which, 0 };

	blocks_kernel_foreach(which == FW_NFT_BLOCK ? d->blocks : d->allows, daemon_now_ms(), requeue_elem, &rq);
	return rq.n;
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
	size_t n;
	char err[512];

	nft_config(&d->b.cfg, &fc);
	if (fw_nft_setup(d->nft, &fc, err, sizeof err) < 0) {
		log_warnx("nftables: %s; cannot restore table inet %s: %s", why, fc.table, err);
		return -1;
	}
	requeue(d, FW_NFT_ALLOW);
	n = requeue(d, FW_NFT_BLOCK);
	if (fw_nft_commit(d->nft, err, sizeof err) < 0) {
		log_warnx("nftables: %s; restoring %zu blocks failed: %s", why, n, err);
		return -1;
	}
	log_warnx("nftables: %s; restored table inet %s with %zu blocks", why, fc.table, n);
	return 0;
}

static void commit(struct loop *l, void *arg)
{
	struct daemon *d = arg;
	char err[512];
	int rc;

	(void)l;
	write_deny_file(d);
	sync_allows(d);
	arm_expiry(d);
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

	if (strncmp(what, "element ", 8) == 0 && !strstr(what, " from set allow")) {
		/* one block taken out by hand: meant, most likely; forget it too,
		 * so that no later restore puts it back (what it covered is put
		 * back: those blocks are still listed) */
		const char *sp = strchr(what + 8, ' ');
		char target[CIDR_STRLEN + 1];
		struct cidr c;
		bool forgot = false;
		if (sp && (size_t)(sp - (what + 8)) < sizeof target) {
			memcpy(target, what + 8, (size_t)(sp - (what + 8)));
			target[sp - (what + 8)] = '\0';
			forgot = cidr_parse(target, &c, NULL, 0) == 0 &&
				 blocks_forget(g->d->blocks, &c, daemon_now_ms());
		}
		log_info("nftables: %s by another process; not put back%s", what,
			 forgot ? ", and forgotten" : "");
		if (forgot)
			daemon_save_state(g->d);
		return;
	}
	if (strncmp(what, "element ", 8) == 0) {
		/* the allow list is the configuration's and the operator's:
		 * an allowed address taken out of the kernel goes back */
		size_t n = requeue(g->d, FW_NFT_ALLOW);
		log_warnx("nftables: %s by another process; the allow list is put back (%zu elements); use "
			  "'mailscreen unallow' to change it", what, n);
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

/* ---- the kernel's sets compared with the daemon's list ----
 *
 * At start and then every verify_interval: dump block4/block6, count the
 * listed blocks the kernel does not drop until their expiry (status shows
 * it; it must stay 0), and repair every difference in one batch: an
 * element the list needs that is missing or has another expiry is put
 * (back), a listed block that sits in the kernel while a wider one should
 * cover it is taken out in front of that, and an element the list does
 * not know is taken into it (origin 'kernel': the kernel is the truth) --
 * except, at start, a range of the saved state that ended while the
 * daemon was down (the kernel kept it for what it covered): it goes. */

#define KCHECK_SLACK_MS 2000    /* clocks and in-flight expiries */

struct kelem {
	struct cidr c;
	uint64_t exp;           /* absolute; UINT64_MAX permanent */
};

struct kdump {
	struct kelem *v;
	size_t n, alloc;
	uint64_t now;
};

static void kdump_add(void *arg, const struct fw_nft_elem *e)
{
	struct kdump *k = arg;

	XGROW(k->v, k->alloc, k->n + 1);
	k->v[k->n++] = (struct kelem){ e->target, e->expires_ms ? k->now + e->expires_ms : UINT64_MAX };
}

static int kelem_cmp(const void *pa, const void *pb)
{
	const struct kelem *a = pa, *b = pb;

	if (a->c.addr.family != b->c.addr.family)
		return a->c.addr.family < b->c.addr.family ? -1 : 1;
	return addr_cmp(&a->c.addr, &b->c.addr);
}

/* The element covering c (elements of an interval set never overlap: the
 * one starting last at or before c), or NULL. */
static const struct kelem *kdump_covering(const struct kdump *k, const struct cidr *c)
{
	size_t lo = 0, hi = k->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		const struct kelem *e = &k->v[mid];
		if (e->c.addr.family < c->addr.family ||
		    (e->c.addr.family == c->addr.family && addr_cmp(&e->c.addr, &c->addr) <= 0))
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return NULL;
	if (k->v[lo - 1].c.len <= c->len && cidr_contains(&k->v[lo - 1].c, &c->addr))
		return &k->v[lo - 1];
	return NULL;
}

static const struct kelem *kdump_exact(const struct kdump *k, const struct cidr *c)
{
	const struct kelem *e = kdump_covering(k, c);

	return e && e->c.len == c->len ? e : NULL;
}

static bool lasts(uint64_t have, uint64_t need)
{
	return have == UINT64_MAX || (need != UINT64_MAX && have + KCHECK_SLACK_MS >= need);
}

struct kcheck {
	struct daemon *d;
	enum fw_nft_set which;
	const struct kdump *k;
	uint64_t now;
	size_t missing, put, removed;
	char first[CIDR_STRLEN];
};

static void check_listed(void *arg, const struct block *blk)
{
	struct kcheck *kc = arg;
	const struct kelem *e;

	if (blk->expiry_ms <= kc->now + KCHECK_SLACK_MS)
		return;
	e = kdump_covering(kc->k, &blk->target);
	if (e && lasts(e->exp, blk->expiry_ms))
		return;
	if (kc->missing++ == 0)
		cidr_format(&blk->target, kc->first);
}

static void repair_needed(void *arg, const struct cidr *c, uint64_t expiry_ms)
{
	struct kcheck *kc = arg;
	const struct kelem *e = kdump_exact(kc->k, c);

	if (e && lasts(e->exp, expiry_ms) && lasts(expiry_ms, e->exp))
		return;
	fw_nft_queue_set(kc->d->nft, kc->which, c, timeout_until(expiry_ms), false);
	kc->put++;
}

static bool ended_while_down(const struct daemon *d, const struct cidr *c)
{
	for (size_t i = 0; i < d->nexpired_saved; i++)
		if (d->expired_saved[i].len == c->len && addr_equal(&d->expired_saved[i].addr, &c->addr))
			return true;
	return false;
}

/* The allow sets hold exactly what the allow list needs (an allow removed
 * from the configuration while the daemon was down goes). Returns the
 * number of repairs. */
static size_t check_allows(struct daemon *d, uint64_t now)
{
	struct kdump k = { .now = now };
	struct kcheck kc = { d, FW_NFT_ALLOW, &k, now, 0, 0, 0, "" };
	char err[512];

	sync_allows(d);
	if (fw_nft_pending(d->nft) && fw_nft_commit(d->nft, err, sizeof err) < 0)
		log_warnx("nftables: %s", err);
	if (fw_nft_list_set(d->nft, d->b.cfg.table, FW_NFT_ALLOW, kdump_add, &k, err, sizeof err) < 0) {
		log_warnx("kernel check: cannot read the allow sets of table inet %s: %s", d->b.cfg.table, err);
		free(k.v);
		return 0;
	}
	if (k.n > 1)
		qsort(k.v, k.n, sizeof *k.v, kelem_cmp);
	for (size_t i = 0; i < k.n; i++)
		if (!blocks_is_top(d->allows, &k.v[i].c)) {
			fw_nft_queue_set(d->nft, FW_NFT_ALLOW, &k.v[i].c, 0, true);
			kc.removed++;
		}
	blocks_kernel_foreach(d->allows, now, repair_needed, &kc);
	if (fw_nft_pending(d->nft) && fw_nft_commit(d->nft, err, sizeof err) < 0)
		log_warnx("kernel check: repairing the allow sets failed: %s", err);
	if (kc.removed || kc.put)
		log_warnx("kernel check: the allow sets differed from the allow list; repaired: %zu elements put, %zu "
			  "taken out", kc.put, kc.removed);
	free(k.v);
	return kc.put + kc.removed;
}

static void kernel_check(struct daemon *d, bool at_start)
{
	struct kdump k = { .now = daemon_now_ms() };
	struct kcheck kc = { d, FW_NFT_BLOCK, &k, k.now, 0, 0, 0, "" };
	size_t adopted = 0, stale = 0, unsafe = 0, allows;
	uint64_t t0 = loop_now_ms();
	char err[512], why[320];

	if (d->dry_run || !d->nft)
		return;
	commit(d->loop, d);             /* nothing in flight: compare settled states */
	blocks_expire(d->blocks, k.now);
	if (fw_nft_list(d->nft, d->b.cfg.table, kdump_add, &k, err, sizeof err) < 0) {
		log_warnx("kernel check: cannot read the sets of table inet %s: %s", d->b.cfg.table, err);
		free(k.v);
		return;
	}
	if (k.n > 1)
		qsort(k.v, k.n, sizeof *k.v, kelem_cmp);
	blocks_foreach(d->blocks, check_listed, &kc);
	/* elements the list does not know */
	for (size_t i = 0; i < k.n; i++) {
		struct cidr probe;
		bool ext;
		if (blocks_find(d->blocks, &k.v[i].c) || (k.v[i].exp != UINT64_MAX && k.v[i].exp <= k.now + KCHECK_SLACK_MS))
			continue;
		if (at_start && ended_while_down(d, &k.v[i].c)) {
			fw_nft_queue_del(d->nft, &k.v[i].c);
			stale++;
			continue;
		}
		probe = k.v[i].c;
		if (daemon_protect(d, &probe, NULL, why, sizeof why) < 0) {
			/* a block the daemon would never make (a saved one refused
			 * at start, or one added by hand): out of the kernel */
			log_warnx("kernel check: taking it out of the kernel: %s: never blocked", why);
			fw_nft_queue_del(d->nft, &k.v[i].c);
			unsafe++;
			continue;
		}
		blocks_add(d->blocks, &k.v[i].c, k.now, k.v[i].exp == UINT64_MAX ? DURATION_PERMANENT : k.v[i].exp - k.now,
			   "kernel", at_start ? "in the set at start, not in the saved state" :
			   "found in the set, not made by mailscreen", &ext);
		adopted++;
	}
	/* listed blocks in the kernel themselves while a wider one must be */
	for (size_t i = 0; i < k.n; i++)
		if (blocks_find(d->blocks, &k.v[i].c) && !blocks_is_top(d->blocks, &k.v[i].c)) {
			fw_nft_queue_del(d->nft, &k.v[i].c);
			kc.removed++;
		}
	blocks_kernel_foreach(d->blocks, k.now, repair_needed, &kc);
	if (fw_nft_pending(d->nft) && fw_nft_commit(d->nft, err, sizeof err) < 0)
		log_warnx("kernel check: repairing failed: %s", err);
	allows = check_allows(d, k.now);
	d->kcheck.at_ms = k.now;
	d->kcheck.took_ms = loop_now_ms() - t0;
	d->kcheck.not_enforced = kc.missing;
	d->kcheck.repairs += kc.put + kc.removed + stale + unsafe + allows;
	d->kcheck.adopted += adopted;
	if (adopted)
		log_info("kernel check: %zu blocks in table inet %s that the daemon did not list%s; listed with origin "
			 "'kernel'", adopted, d->b.cfg.table, at_start ? " (not in the saved state)" : "");
	if (stale)
		log_info("kernel check: %zu ranges of the saved state ended while the daemon was down; taken out of "
			 "the kernel (what they covered stays blocked)", stale);
	if (kc.missing || kc.put || kc.removed)
		log_warnx("kernel check: %zu listed blocks were not dropped by the kernel until their expiry%s%s; "
			  "repaired: %zu elements put, %zu taken out", kc.missing, kc.missing ? " (first: " : "",
			  kc.missing ? (strcat(kc.first, ")"), kc.first) : "", kc.put, kc.removed);
	if (adopted || stale)
		arm_sweep(d);
	free(k.v);
}

static void on_verify(struct loop *l, void *arg);

static void arm_verify(struct daemon *d)
{
	uint64_t every = d->b.cfg.verify_interval_ms;

	if (d->verify_timer)
		loop_cancel_timer(d->loop, d->verify_timer);
	d->verify_timer = 0;
	if (!every || d->dry_run)
		return;
	/* a big set takes long to dump: at most 1% of the time on it */
	if (d->kcheck.took_ms * 100 > every)
		every = d->kcheck.took_ms * 100;
	d->verify_timer = loop_add_timer(d->loop, every, on_verify, d);
}

static void on_verify(struct loop *l, void *arg)
{
	struct daemon *d = arg;

	(void)l;
	d->verify_timer = 0;
	kernel_check(d, false);
	arm_verify(d);
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
	bool dry, resync;

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
					  .max_keys = nb.cfg.max_keys, .max_accounts = nb.cfg.max_accounts,
					  .max_sessions = nb.cfg.max_sessions, .auth_ttl_ms = nb.cfg.authenticated_ttl_ms };
		screen_configure(d->screen, &nb.rules, &so);
	}
	/* each offender keeps the times of its last blocks: enough to count up
	 * to permanent_after, and 32 (the factor is capped by max long before) */
	window_reconfigure(d->offenders, nb.cfg.repeat_permanent_after > 32 ? (uint32_t)nb.cfg.repeat_permanent_after : 32,
			   nb.cfg.repeat_memory_ms, nb.cfg.max_keys);

	d->max_window_ms = ruleset_max_window(screen_rules(d->screen));
	/* enforcement starts now (dry run switched off) or in a new table:
	 * the kernel gets what the list needs */
	resync = !initial && !dry && (d->dry_run || !d->b.cfg.table || strcmp(d->b.cfg.table, nb.cfg.table) != 0);
	d->dry_run = dry;
	apply_log_level(&nb.cfg);
	bundle_release(&d->b);
	d->b = nb;
	if (!initial) {
		guard_follow(d);
		if (resync)
			kernel_check(d, false);
		arm_verify(d);
	}
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
	{
		const struct blocks_kernel kb = { kblock_put, kblock_del, &d }, ka = { kallow_put, kallow_del, &d };
		d.blocks = blocks_new(&kb);
		d.allows = blocks_new(&ka);
	}
	d.offenders = window_new(32, 30ULL * 86400 * 1000, 1000000);
	d.accounts = accounts_new(MAX_ACCOUNT_BLOCKS);
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
		size_t n = daemon_state_restore(&d, &d.saved);
		char ago[32];
		uint64_t now = daemon_now_ms();
		duration_format(now > d.saved.saved_ms ? now - d.saved.saved_ms : 0, ago, sizeof ago);
		log_info("restored %zu blocks, %zu blocked accounts and the counts saved %s ago", n, accounts_count(d.accounts), ago);
	}
	saved_state_release(&d.saved);
	kernel_check(&d, true);
	arm_verify(&d);
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
	save_state(&d, true);
	loop_on_idle(d.loop, commit, &d);
	sd_notify(0, "READY=1");
	loop_run(d.loop);
	sd_notify(0, "STOPPING=1");
	commit(d.loop, &d);
	commit(d.loop, &d);
	save_state(&d, true);
	state_saver_free(d.saver);
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
	blocks_free(d.allows);
	cidrlist_release(&d.host);
	free(d.expired_saved);
	window_free(d.offenders);
	accounts_free(d.accounts);
	free(d.kill);
	bundle_release(&d.b);
	close(d.sigfd);
	loop_free(d.loop);
	return 0;
}
