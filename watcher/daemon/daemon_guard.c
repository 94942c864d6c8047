// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * daemon_guard - the kernel side of the running daemon: the sinks through
 * which blocks.c's changes (blocks, and the allow list mirrored as allow
 * sets) become one netlink batch per loop turn, the timer that ends
 * blocks and allows on time, closing the sessions of new blocks, the
 * restore of a table someone removed (told by the nftables monitor), and
 * the kernel check that compares the sets with the daemon's list and
 * repairs any difference.
 *
 * Owns the monitor and the guard's timers. Must never: touch anything
 * outside the daemon's own table, or take into the list a kernel element
 * that covers a protected address.
 */
#include "daemon.h"
#include "daemon_logging.h"
#include "stats.h"
#include "log.h"
#include "xalloc.h"
#include "accounts.h"
#include "blocks.h"
#include "duration.h"
#include "fw_nft.h"
#include "protect.h"
#include "screen.h"
#include "sockkill.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void daemon_nft_config(const struct config *c, struct fw_nft_config *fc)
{
	memset(fc, 0, sizeof *fc);
	fc->table = c->table;
	fc->all_ports = c->all_ports;
	fc->nports = c->nports;
	memcpy(fc->ports, c->ports, c->nports * sizeof c->ports[0]);
}

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

void daemon_kernel_init(struct daemon *d)
{
	const struct blocks_kernel kb = { kblock_put, kblock_del, d }, ka = { kallow_put, kallow_del, d };

	d->blocks = blocks_new(&kb);
	d->allows = blocks_new(&ka);
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
	char err[ERR_LEN];
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
	char err[ERR_LEN];

	daemon_nft_config(&d->b.cfg, &fc);
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

void daemon_commit(struct loop *l, void *arg)
{
	struct daemon *d = arg;
	char err[ERR_LEN];
	int rc;

	(void)l;
	daemon_write_deny_file(d);
	sync_allows(d);
	arm_expiry(d);
	if (d->blocks_issued != d->blocks_saved) {
		/* a decision this turn: mark the state dirty so the block and the
		 * counts that made it are saved together */
		d->blocks_saved = d->blocks_issued;
		daemon_state_dirty(d);
		daemon_notify_status(d, NULL);
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

void daemon_guard_open(struct daemon *d)
{
	d->guard = xcalloc(1, sizeof *d->guard);
	d->guard->d = d;
	daemon_guard_follow(d);
}

void daemon_guard_close(struct daemon *d)
{
	free(d->drops_prev);
	d->drops_prev = NULL;
	d->ndrops_prev = 0;
	if (!d->guard)
		return;
	if (d->guard->timer)
		loop_cancel_timer(d->loop, d->guard->timer);
	fw_nft_monitor_close(d->guard->mon);
	free(d->guard);
	d->guard = NULL;
}

/* Watch the table the configuration names (again after a reload that
 * renamed it or switched dry_run): someone flushing the ruleset is noticed
 * and the table put back. */
void daemon_guard_follow(struct daemon *d)
{
	struct nft_guard *g = d->guard;
	char err[ERR_LEN];

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
	uint64_t packets;       /* dropped, per the element's counter (0 without) */
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
	k->v[k->n++] = (struct kelem){ e->target, e->expires_ms ? k->now + e->expires_ms : UINT64_MAX,
				       e->has_counter ? e->packets : 0 };
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
	char err[ERR_LEN];

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

/* The packets the kernel dropped since the last check, for the
 * statistics: each element's counter against what it held then (an
 * element new since counts whole; one gone since takes its last
 * interval's drops with it). The first check only takes the counts in. */
static void count_drops(struct daemon *d, const struct kdump *k)
{
	struct drop_count *prev = d->drops_prev, *now = xcalloc(k->n ? k->n : 1, sizeof *now);
	size_t np = d->ndrops_prev, j = 0;
	uint64_t delta = 0;

	for (size_t i = 0; i < k->n; i++) {
		const struct kelem *e = &k->v[i];
		uint64_t before = 0;
		/* both sorted by address (kelem_cmp's order) */
		while (j < np && (prev[j].c.addr.family < e->c.addr.family ||
				  (prev[j].c.addr.family == e->c.addr.family && addr_cmp(&prev[j].c.addr, &e->c.addr) < 0)))
			j++;
		if (j < np && prev[j].c.len == e->c.len && addr_equal(&prev[j].c.addr, &e->c.addr) &&
		    prev[j].packets <= e->packets)
			before = prev[j].packets;
		delta += e->packets - before;
		now[i] = (struct drop_count){ e->c, e->packets };
	}
	if (d->drops_based)
		stats_drops(d->stats, k->now, delta);
	d->drops_based = true;
	free(d->drops_prev);
	d->drops_prev = now;
	d->ndrops_prev = k->n;
}

void daemon_kernel_check(struct daemon *d, bool at_start)
{
	struct kdump k = { .now = daemon_now_ms() };
	struct kcheck kc = { d, FW_NFT_BLOCK, &k, k.now, 0, 0, 0, "" };
	size_t adopted = 0, stale = 0, unsafe = 0, allows;
	uint64_t t0 = loop_now_ms();
	char err[ERR_LEN], why[320];

	if (d->dry_run || !d->nft)
		return;
	daemon_commit(d->loop, d);             /* nothing in flight: compare settled states */
	blocks_expire(d->blocks, k.now);
	if (fw_nft_list(d->nft, d->b.cfg.table, kdump_add, &k, err, sizeof err) < 0) {
		log_warnx("kernel check: cannot read the sets of table inet %s: %s", d->b.cfg.table, err);
		free(k.v);
		return;
	}
	if (k.n > 1)
		qsort(k.v, k.n, sizeof *k.v, kelem_cmp);
	/* [logging] block_hits: what each element dropped since the last check */
	logging_hits_begin(d, at_start);
	for (size_t i = 0; i < k.n; i++)
		logging_hit(d, &k.v[i].c, k.v[i].packets);
	logging_hits_end(d);
	count_drops(d, &k);
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
		daemon_arm_sweep(d);
	free(k.v);
}

static void on_verify(struct loop *l, void *arg);

void daemon_arm_verify(struct daemon *d)
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
	daemon_kernel_check(d, false);
	daemon_arm_verify(d);
}

