// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * daemon_block - the one place blocks and account blocks are made and
 * lifted, by rules, by hand, from the block list file and from the saved
 * state: every target is checked first against what no block may cover
 * (protect.h: loopback, this host's addresses, the allow list) and
 * refused, or narrowed around the offender where the caller allows it.
 *
 * Owns the host's address list it reads (d->host). Must never: make a
 * block that covers a protected address, or a /0.
 */
#include "daemon.h"
#include "log.h"
#include "xalloc.h"
#include "accounts.h"
#include "blockfile.h"
#include "blocks.h"
#include "cluster_entry.h"
#include "duration.h"
#include "protect.h"
#include "screen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- what no block may cover (protect.h) ---- */

/* This host's addresses, read again when older than a second. */
static void refresh_host(struct daemon *d, uint64_t now)
{
	struct cidrlist fresh = { 0 };
	char err[ERR_LEN];

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

const struct cidrlist *daemon_host(struct daemon *d)
{
	refresh_host(d, daemon_now_ms());
	return &d->host;
}

int daemon_protect(struct daemon *d, struct cidr *t, const struct ipaddr *around, char *why, size_t whylen)
{
	uint64_t now = daemon_now_ms();

	refresh_host(d, now);
	return protect_target(&d->host, screen_allowlist(d->screen), t, around, now, why, whylen);
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
	daemon_arm_sweep(d);
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
	bool had = blocks_find(d->blocks, c) != NULL;
	char what[CIDR_STRLEN];

	if (make_block(d, c, daemon_now_ms(), dur_ms, origin, reason, NULL, err, errlen) < 0)
		return -1;
	cidr_format(c, what);
	if (!had)
		daemon_report_block(d, false, what, dur_ms, origin, reason);
	daemon_cluster_publish(d, CLUSTER_BLOCK, what, dur_ms, origin, reason);
	return 0;
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
	cidr_format(c, buf);
	daemon_cluster_publish(d, CLUSTER_UNBLOCK, buf, 0, NULL, NULL);
	return 0;
}

struct collect {
	struct cidr *v;
	size_t n, kept;
};

static void collect(void *arg, const struct block *blk)
{
	struct collect *col = arg;

	if (strcmp(blk->origin, "file") == 0)
		col->kept++;
	else
		col->v[col->n++] = blk->target;
}

size_t daemon_reset_blocks(struct daemon *d, size_t *kept)
{
	size_t n = blocks_count(d->blocks);
	struct cidr *all = xcalloc(n ? n : 1, sizeof *all);
	struct collect col = { all, 0, 0 };

	blocks_foreach(d->blocks, collect, &col);
	for (size_t i = 0; i < col.n; i++) {
		char err[ERR_LEN];
		daemon_unblock(d, &all[i], err, sizeof err);
	}
	free(all);
	*kept = col.kept;
	return col.n;
}

int daemon_block_account(struct daemon *d, const char *user, size_t len, uint64_t dur_ms, const char *origin,
			 const char *reason, char *err, size_t errlen)
{
	size_t before = accounts_count(d->accounts);

	if (accounts_add(d->accounts, user, len, daemon_now_ms(), dur_ms, origin, reason, err, errlen) < 0)
		return -1;
	daemon_arm_sweep(d);
	if (accounts_count(d->accounts) > before) {
		/* a name is any bytes but NUL-free here (the deny file refuses NUL) */
		char *name = xstrndup(user, len);
		daemon_report_block(d, true, name, dur_ms, origin, reason);
		free(name);
	}
	if (len <= CLUSTER_TARGET_MAX && !memchr(user, '\0', len)) {
		char name[CLUSTER_TARGET_MAX + 1];
		memcpy(name, user, len);
		name[len] = '\0';
		daemon_cluster_publish(d, CLUSTER_ACCOUNT_BLOCK, name, dur_ms, origin, reason);
	}
	return 0;
}

int daemon_unblock_account(struct daemon *d, const char *user, char *err, size_t errlen)
{
	if (!accounts_remove(d->accounts, user))
		return errf(err, errlen, "account '%s' is not blocked", user);
	return 0;
}

/* ---- what ended: the history ---- */

static void block_ended(void *arg, const struct block *b, enum blocks_end how)
{
	struct daemon *d = arg;
	struct history_entry e = { .target = b->target, .start_ms = b->start_ms };

	snprintf(e.origin, sizeof e.origin, "%s", b->origin);
	snprintf(e.reason, sizeof e.reason, "%s", b->reason);
	snprintf(e.how, sizeof e.how, "%s", how == BLOCKS_EXPIRED ? "expired" : how == BLOCKS_REMOVED ? "unblocked" :
		 "removed");
	e.end_ms = how == BLOCKS_EXPIRED && b->expiry_ms != UINT64_MAX ? b->expiry_ms : daemon_now_ms();
	history_add(d->history, &e);
	daemon_report_lift(d, b->origin);
}

static void account_ended(struct daemon *d, const struct account_block *ab, bool expired)
{
	struct history_entry e = { .account = true, .start_ms = ab->start_ms };

	snprintf(e.user, sizeof e.user, "%s", ab->user);
	snprintf(e.origin, sizeof e.origin, "%s", ab->origin);
	snprintf(e.reason, sizeof e.reason, "%s", ab->reason);
	snprintf(e.how, sizeof e.how, "%s", expired ? "expired" : "unblocked");
	e.end_ms = expired && ab->expiry_ms != UINT64_MAX ? ab->expiry_ms : daemon_now_ms();
	history_add(d->history, &e);
	daemon_report_lift(d, ab->origin);
}

/* lifted by hand or by a reset (not expired): the others lift it too */
static void account_removed(void *arg, const struct account_block *ab)
{
	account_ended(arg, ab, false);
	daemon_cluster_publish(arg, CLUSTER_ACCOUNT_UNBLOCK, ab->user, 0, NULL, NULL);
}

void daemon_account_expired(void *arg, const struct account_block *ab)
{
	log_info("account block of '%s' expired", ab->user);
	account_ended(arg, ab, true);
}

void daemon_history_init(struct daemon *d)
{
	blocks_on_end(d->blocks, block_ended, d);
	accounts_on_remove(d->accounts, account_removed, d);
}

void daemon_write_deny_file(struct daemon *d)
{
	char err[ERR_LEN];

	if (!d->dry_run && accounts_write_denyfile(d->accounts, d->b.cfg.deny_file, false, err, sizeof err) < 0)
		log_warnx("cannot write the account deny file: %s", err);
}

/* ---- the block list file ---- */

void daemon_on_blockfile(void *arg, const struct bf_entry *added, size_t nadded, const struct bf_entry *removed,
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

