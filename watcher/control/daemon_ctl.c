// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * daemon_ctl - what the control commands do in the running daemon: one
 * function per command of ctl_cmds.h's table, chosen by its id. Every
 * request is parsed and checked again here against that table
 * (ctl_req_parse), whatever the command line checked: the socket is the
 * trust boundary (control.c has refused every word with a control
 * character; a reason must be UTF-8 text as well). A handler gets its
 * arguments parsed. Replies are plain text for people, or JSON with
 * --json; text that came from outside (an account name, a reason restored
 * from an older snapshot, a file name) is printed escaped, never raw. A
 * command that changes the daemon's state (CTL_CHANGES) has it saved at
 * once. Nothing here blocks the loop; "list blocks" reads the kernel's
 * counters, which is slow only for very large sets.
 *
 * Listings are aligned columns (cols.h) with dates in the daemon's local
 * time and its UTC offset, or in UTC with --utc (timefmt.h); their JSON
 * keeps machine times (ISO 8601 UTC), as it always had.
 */
#include "blockfile.h"
#include "ctl_cmds.h"
#include "daemon.h"
#include "cluster_entry.h"
#include "duration.h"
#include "geo.h"
#include "jsonw.h"
#include "log.h"
#include "cols.h"
#include "logtime.h"
#include "timefmt.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DEFAULT_MANUAL_BLOCK_MS (24ULL * 3600 * 1000)

/* a reason the table lets through fits a block's */
_Static_assert(CTL_REASON_MAX + 1 <= sizeof ((struct block *)0)->reason, "a --reason does not fit a block");

struct cmdctx {
	struct daemon *d;
	struct ctl_reply *r;
	FILE *out;              /* body, collected with open_memstream */
	bool json, utc;
	struct cols *t;         /* text: the listing being made */
	uint64_t now;
	int n;                  /* items printed, for JSON commas */
};

static void when(uint64_t ms, char buf[32])
{
	if (ms == UINT64_MAX)
		snprintf(buf, 32, "never");
	else
		logtime_format_utc((int64_t)(ms / 1000), buf);
}

/* For people: local time with its offset, or UTC (--utc). */
static void when_text(const struct cmdctx *c, uint64_t ms, char buf[TIMEFMT_LEN])
{
	if (ms == UINT64_MAX)
		snprintf(buf, TIMEFMT_LEN, "permanent");
	else
		timefmt_format((int64_t)(ms / 1000), c->utc, buf);
}

static void left(uint64_t expiry, uint64_t now, char buf[32])
{
	if (expiry == UINT64_MAX)
		snprintf(buf, 32, "permanent");
	else if (expiry <= now)
		snprintf(buf, 32, "expired");
	else
		duration_format(expiry - now, buf, 32);
}

static void jkey(struct cmdctx *c, const char *k, const char *v)
{
	fprintf(c->out, "\"%s\": ", k);
	json_str(c->out, v, strlen(v));
}

/* ---- list ---- */

struct kcount {
	struct cidr target;
	uint64_t packets;
	bool has;
};

struct kcounts {
	struct kcount *v;
	size_t n, alloc;
};

static void collect_counter(void *arg, const struct fw_nft_elem *e)
{
	struct kcounts *k = arg;

	XGROW(k->v, k->alloc, k->n + 1);
	k->v[k->n++] = (struct kcount){ e->target, e->packets, e->has_counter };
}

/* by family, address, length: sorted once, looked up per block */
static int kcount_cmp(const void *a, const void *b)
{
	const struct cidr *x = &((const struct kcount *)a)->target, *y = &((const struct kcount *)b)->target;
	int r;

	if (x->addr.family != y->addr.family)
		return x->addr.family < y->addr.family ? -1 : 1;
	r = memcmp(x->addr.b, y->addr.b, sizeof x->addr.b);
	if (r)
		return r;
	return x->len < y->len ? -1 : x->len > y->len;
}

/* The kernel's packets for target, or -1 if its element has no counter
 * or is not there. */
static long long kcount_find(const struct kcounts *k, const struct cidr *target)
{
	struct kcount key = { .target = *target };
	const struct kcount *e;

	if (!k || !k->n)
		return -1;
	e = bsearch(&key, k->v, k->n, sizeof *k->v, kcount_cmp);
	return e && e->has ? (long long)e->packets : -1;
}

struct blist {
	struct cmdctx *c;
	struct kcounts *k;
	struct cols t;
};

static void print_block(void *arg, const struct block *b)
{
	struct blist *bl = arg;
	struct cmdctx *c = bl->c;
	char t[CIDR_STRLEN], since[32], until[32], rem[32], cc[3];
	long long packets = kcount_find(bl->k, &b->target);

	/* a location rule's block: the country its reason names; "" for others */
	geo_code_text(geo_block_country(b->origin, b->reason), cc);
	cidr_format(&b->target, t);
	when(b->start_ms, since);
	when(b->expiry_ms, until);
	left(b->expiry_ms, c->now, rem);
	if (c->json) {
		fprintf(c->out, "%s{", c->n++ ? ",\n " : "");
		jkey(c, "target", t);
		fprintf(c->out, ", ");
		jkey(c, "origin", b->origin);
		fprintf(c->out, ", ");
		if (*cc)
			jkey(c, "country", cc);
		else
			fprintf(c->out, "\"country\": null");
		fprintf(c->out, ", ");
		jkey(c, "reason", b->reason);
		fprintf(c->out, ", \"start\": \"%s\", \"expiry\": %s%s%s, \"times\": %u", since,
			b->expiry_ms == UINT64_MAX ? "" : "\"", b->expiry_ms == UINT64_MAX ? "null" : until,
			b->expiry_ms == UINT64_MAX ? "" : "\"", b->times);
		if (packets >= 0)
			fprintf(c->out, ", \"packets\": %lld", packets);
		fprintf(c->out, "}");
	} else {
		char pk[24] = "-", origin[4 * sizeof b->origin], reason[4 * sizeof b->reason];
		char from[TIMEFMT_LEN], to[TIMEFMT_LEN];
		if (packets >= 0)
			snprintf(pk, sizeof pk, "%lld", packets);
		text_escape(origin, sizeof origin, b->origin, strlen(b->origin));
		text_escape(reason, sizeof reason, b->reason, strlen(b->reason));
		when_text(c, b->start_ms, from);
		when_text(c, b->expiry_ms, to);
		cols_add(&bl->t, (const char *const[]){ t, from, to, rem, pk, origin, *cc ? cc : "-", reason });
	}
}

static void list_blocks(struct cmdctx *c)
{
	struct daemon *d = c->d;
	struct kcounts k = { 0 };
	struct blist bl = { .c = c };
	char err[ERR_LEN];

	if (d->nft && !d->dry_run) {
		if (fw_nft_list(d->nft, d->b.cfg.table, collect_counter, &k, err, sizeof err) == 0) {
			/* one search per block, not a scan: 100,000 blocks took 30 s */
			if (k.n > 1)
				qsort(k.v, k.n, sizeof *k.v, kcount_cmp);
			bl.k = &k;
		} else
			log_warnx("list blocks: cannot read the kernel's counters: %s", err);
	}
	if (c->json)
		fprintf(c->out, "[");
	else
		cols_init(&bl.t, 8, (const char *const[]){ "BLOCK", "SINCE", "UNTIL", "LEFT", "DROPPED", "ORIGIN",
			  "COUNTRY", "REASON" }, (const unsigned[]){ 0, 0, 0, 0, COLS_RIGHT, 0, 0, 0 });
	blocks_foreach(d->blocks, print_block, &bl);
	if (c->json) {
		fprintf(c->out, "]\n");
	} else {
		cols_write(&bl.t, c->out);
		cols_release(&bl.t);
	}
	free(k.v);
}

static void list_allows(struct cmdctx *c)
{
	const struct allowlist *a = screen_allowlist(c->d->screen);
	struct cols t;

	if (c->json)
		fprintf(c->out, "[");
	else
		cols_init(&t, 3, (const char *const[]){ "ALLOW", "ORIGIN", "LEFT" }, NULL);
	for (size_t i = 0; i < a->n; i++) {
		char tg[CIDR_STRLEN], rem[32];
		const char *origin = a->v[i].origin == ALLOW_CONFIG ? "config" : "manual";
		cidr_format(&a->v[i].target, tg);
		left(a->v[i].expiry_ms, c->now, rem);
		if (c->json) {
			fprintf(c->out, "%s{", i ? ", " : "");
			jkey(c, "target", tg);
			fprintf(c->out, ", \"origin\": \"%s\", \"left\": \"%s\"}", origin, rem);
		} else {
			cols_add(&t, (const char *const[]){ tg, origin, rem });
		}
	}
	if (c->json) {
		fprintf(c->out, "]\n");
	} else {
		cols_write(&t, c->out);
		cols_release(&t);
	}
}

static void print_key(void *arg, const struct rule *r, const char *key, uint32_t within, uint64_t newest)
{
	struct cmdctx *c = arg;
	char last[32], win[32];

	when(newest, last);
	duration_format(r->window_ms, win, sizeof win);
	if (c->json) {
		fprintf(c->out, "%s{", c->n++ ? ",\n " : "");
		jkey(c, "rule", r->name);
		fprintf(c->out, ", ");
		jkey(c, "key", key);
		fprintf(c->out, ", \"count\": %u, \"limit\": %u, \"window\": \"%s\", \"last\": \"%s\"}", within, r->limit,
			win, last);
	} else {
		char safe[96], count[32], at[TIMEFMT_LEN];
		text_sanitize(safe, sizeof safe, key, strlen(key));
		snprintf(count, sizeof count, "%u/%u", within, r->limit);
		when_text(c, newest, at);
		cols_add(c->t, (const char *const[]){ r->name, safe, count, win, at });
	}
}

static void keys_head(struct cmdctx *c, struct cols *t, const char *what)
{
	cols_init(t, 5, (const char *const[]){ "RULE", what, "COUNT", "WINDOW", "LAST" },
		  (const unsigned[]){ 0, 0, COLS_RIGHT, 0, 0 });
	c->t = t;
}

static void keys_end(struct cmdctx *c)
{
	cols_write(c->t, c->out);
	cols_release(c->t);
	c->t = NULL;
}

static void list_failures(struct cmdctx *c)
{
	struct cols t;

	if (c->json)
		fprintf(c->out, "[");
	else
		keys_head(c, &t, "KEY");
	screen_foreach_key(c->d->screen, PER_IP, c->now, print_key, c);
	screen_foreach_key(c->d->screen, PER_SESSION, c->now, print_key, c);
	if (c->json)
		fprintf(c->out, "]\n");
	else
		keys_end(c);
}

static void print_account(void *arg, const struct account_block *a)
{
	struct cmdctx *c = arg;
	char rem[32];

	left(a->expiry_ms, c->now, rem);
	if (c->json) {
		fprintf(c->out, "%s{", c->n++ ? ", " : "");
		jkey(c, "account", a->user);
		fprintf(c->out, ", \"left\": \"%s\", ", rem);
		jkey(c, "origin", a->origin);
		fprintf(c->out, ", ");
		jkey(c, "reason", a->reason);
		fprintf(c->out, "}");
	} else {
		char safe[96], origin[4 * sizeof a->origin], reason[4 * sizeof a->reason], from[TIMEFMT_LEN];
		char to[TIMEFMT_LEN];
		text_sanitize(safe, sizeof safe, a->user, strlen(a->user));
		text_escape(origin, sizeof origin, a->origin, strlen(a->origin));
		text_escape(reason, sizeof reason, a->reason, strlen(a->reason));
		when_text(c, a->start_ms, from);
		when_text(c, a->expiry_ms, to);
		cols_add(c->t, (const char *const[]){ safe, from, to, rem, origin, reason });
	}
}

static void list_accounts(struct cmdctx *c)
{
	struct daemon *d = c->d;

	struct cols t;

	if (c->json) {
		fprintf(c->out, "{\"blocked\": [");
	} else {
		fprintf(c->out, "blocked accounts:\n");
		cols_init(&t, 6, (const char *const[]){ "ACCOUNT", "SINCE", "UNTIL", "LEFT", "ORIGIN", "REASON" }, NULL);
		c->t = &t;
	}
	c->n = 0;
	accounts_foreach(d->accounts, print_account, c);
	if (c->json) {
		fprintf(c->out, "], \"failures\": [");
	} else {
		keys_end(c);
		fprintf(c->out, "\ncounted failures:\n");
		keys_head(c, &t, "ACCOUNT");
	}
	c->n = 0;
	screen_foreach_key(d->screen, PER_ACCOUNT, c->now, print_key, c);
	if (c->json)
		fprintf(c->out, "]}\n");
	else
		keys_end(c);
}

static void cmd_status(struct cmdctx *c, const struct ctl_req *q)
{
	char err[ERR_LEN];

	if (q->nargs == 0)
		daemon_status(c->d, c->out, c->json, c->now);
	else if (daemon_status_rule(c->d, c->out, c->json, c->utc, q->arg[0].text, c->now, err, sizeof err) < 0)
		ctl_error(c->r, "%s", err);
}

/* ---- history ---- */

/* at most this many blocks in force are shown (the newest); the ended
 * ones are bounded by [daemon] history */
#define HISTORY_IN_FORCE_MAX 1000

struct hrow {
	struct history_entry e;
	bool in_force;
};

struct hlist {
	const struct history_query *q;
	struct hrow *v;
	size_t n, alloc;
};

static void hist_block(void *arg, const struct block *b)
{
	struct hlist *h = arg;
	struct hrow *r;

	if (!history_match(h->q, false, &b->target, NULL))
		return;
	XGROW(h->v, h->alloc, h->n + 1);
	r = &h->v[h->n++];
	*r = (struct hrow){ .e = { .target = b->target, .start_ms = b->start_ms, .end_ms = b->expiry_ms },
			    .in_force = true };
	snprintf(r->e.origin, sizeof r->e.origin, "%s", b->origin);
	snprintf(r->e.reason, sizeof r->e.reason, "%s", b->reason);
}

static void hist_account(void *arg, const struct account_block *a)
{
	struct hlist *h = arg;
	struct hrow *r;

	if (!history_match(h->q, true, NULL, a->user))
		return;
	XGROW(h->v, h->alloc, h->n + 1);
	r = &h->v[h->n++];
	*r = (struct hrow){ .e = { .account = true, .start_ms = a->start_ms, .end_ms = a->expiry_ms },
			    .in_force = true };
	snprintf(r->e.user, sizeof r->e.user, "%s", a->user);
	snprintf(r->e.origin, sizeof r->e.origin, "%s", a->origin);
	snprintf(r->e.reason, sizeof r->e.reason, "%s", a->reason);
}

/* newest first: by start, then by end */
static int hrow_newest_first(const void *a, const void *b)
{
	const struct hrow *x = a, *y = b;

	if (x->e.start_ms != y->e.start_ms)
		return x->e.start_ms < y->e.start_ms ? 1 : -1;
	return x->e.end_ms < y->e.end_ms ? 1 : x->e.end_ms > y->e.end_ms ? -1 : 0;
}

static void cmd_history(struct cmdctx *c, const struct ctl_req *q)
{
	struct daemon *d = c->d;
	struct history_query hq = { .what = HQ_ALL };
	struct hlist h = { &hq, NULL, 0, 0 };
	size_t nforce;
	struct cols t;

	if (q->nargs) {
		hq.what = q->arg[0].is_target ? HQ_TARGET : HQ_ACCOUNT;
		hq.target = q->arg[0].target;
		hq.user = q->arg[0].text;
	}
	blocks_foreach(d->blocks, hist_block, &h);
	accounts_foreach(d->accounts, hist_account, &h);
	nforce = h.n;
	if (nforce > 1)
		qsort(h.v, nforce, sizeof *h.v, hrow_newest_first);
	if (nforce > HISTORY_IN_FORCE_MAX)
		h.n = HISTORY_IN_FORCE_MAX;
	for (size_t i = 0; i < history_count(d->history); i++) {
		const struct history_entry *e = history_get(d->history, i);
		if (!history_match(&hq, e->account, &e->target, e->user))
			continue;
		XGROW(h.v, h.alloc, h.n + 1);
		h.v[h.n++] = (struct hrow){ .e = *e };
	}
	if (h.n > 1)
		qsort(h.v, h.n, sizeof *h.v, hrow_newest_first);
	if (c->json)
		fprintf(c->out, "[");
	else
		cols_init(&t, 6, (const char *const[]){ "BLOCK", "ORIGIN", "START", "END", "STATE", "REASON" }, NULL);
	for (size_t i = 0; i < h.n; i++) {
		const struct hrow *r = &h.v[i];
		const char *state = r->in_force ? "in force" : r->e.how;
		char who[4 * sizeof r->e.user + 4];
		if (r->e.account)
			snprintf(who, sizeof who, "%s", r->e.user);
		else
			cidr_format(&r->e.target, who);
		if (c->json) {
			char from[TIMEFMT_LEN], to[TIMEFMT_LEN];
			timefmt_iso((int64_t)(r->e.start_ms / 1000), from);
			timefmt_iso((int64_t)(r->e.end_ms / 1000), to);
			fprintf(c->out, "%s{\"kind\": \"%s\", ", i ? ",\n " : "", r->e.account ? "account" : "address");
			jkey(c, "target", who);
			fprintf(c->out, ", ");
			jkey(c, "origin", r->e.origin);
			fprintf(c->out, ", ");
			jkey(c, "reason", r->e.reason);
			fprintf(c->out, ", \"start\": \"%s\", \"end\": ", from);
			if (r->e.end_ms == UINT64_MAX)
				fprintf(c->out, "null");
			else
				fprintf(c->out, "\"%s\"", to);
			fprintf(c->out, ", \"in_force\": %s, ", r->in_force ? "true" : "false");
			jkey(c, "state", state);
			fprintf(c->out, "}");
		} else {
			char safe[sizeof who], origin[4 * sizeof r->e.origin], reason[4 * sizeof r->e.reason];
			char from[TIMEFMT_LEN], to[TIMEFMT_LEN];
			text_sanitize(safe, sizeof safe, who, strlen(who));
			text_escape(origin, sizeof origin, r->e.origin, strlen(r->e.origin));
			text_escape(reason, sizeof reason, r->e.reason, strlen(r->e.reason));
			when_text(c, r->e.start_ms, from);
			when_text(c, r->e.end_ms, to);
			cols_add(&t, (const char *const[]){ safe, origin, from, to, state, reason });
		}
	}
	if (c->json) {
		fprintf(c->out, "]\n");
	} else {
		cols_write(&t, c->out);
		cols_release(&t);
		if (nforce > HISTORY_IN_FORCE_MAX)
			fprintf(c->out, "(%zu more blocks in force not shown: name an address, a range or an account)\n",
				nforce - HISTORY_IN_FORCE_MAX);
	}
	free(h.v);
}

static void cmd_list(struct cmdctx *c, const struct ctl_req *q)
{
	const char *what = q->arg[0].text;      /* one of the row's words */

	if (strcmp(what, "blocks") == 0)
		list_blocks(c);
	else if (strcmp(what, "allows") == 0)
		list_allows(c);
	else if (strcmp(what, "failures") == 0)
		list_failures(c);
	else
		list_accounts(c);
}

/* ---- changes ---- */

static void cmd_block(struct cmdctx *c, const struct ctl_req *q)
{
	const char *buf = q->arg[0].text;
	uint64_t dur = q->nargs > 1 ? q->arg[1].ms : DEFAULT_MANUAL_BLOCK_MS;
	char dbuf[32], err[512], why[CTL_REASON_MAX + 1];

	/* a block inside a blocked range is a block of its own, with its own
	 * expiry; one over loopback, this host or an allowed address is
	 * refused, saying which */
	snprintf(why, sizeof why, "%s", q->reason ? q->reason : "manual block");
	if (daemon_block(c->d, &q->arg[0].target, dur, "manual", why, err, sizeof err) < 0) {
		ctl_error(c->r, "%s", err);
		return;
	}
	duration_format(dur, dbuf, sizeof dbuf);
	log_info("block %s for %s: manual (uid %u): %s", buf, dbuf, (unsigned)c->r->peer_uid, why);
	fprintf(c->out, "blocked %s for %s\n", buf, dbuf);
}

/* The block list file's entry for exactly target, or NULL. */
static const struct bf_entry *bfile_entry(const struct daemon *d, const struct cidr *target)
{
	const struct bf_list *l = d->bfile ? blockfile_list(d->bfile) : NULL;

	for (size_t i = 0; l && i < l->n; i++)
		if (l->v[i].target.len == target->len && addr_equal(&l->v[i].target.addr, &target->addr))
			return &l->v[i];
	return NULL;
}

static void cmd_unblock(struct cmdctx *c, const struct ctl_req *q)
{
	const char *buf = q->arg[0].text;
	const struct block *b = blocks_find(c->d->blocks, &q->arg[0].target);
	const struct bf_entry *e;
	char err[ERR_LEN];

	/* A block from the block list file would come back at the next start
	 * (or reading of the file): read the file now (unblock --from-file
	 * has just deleted its line, which unblocks it here), and refuse while
	 * the line is there. The daemon never writes that file itself. */
	if (b && strcmp(b->origin, "file") == 0 && c->d->bfile) {
		blockfile_reload(c->d->bfile);
		b = blocks_find(c->d->blocks, &q->arg[0].target);
		if (!b) {
			log_info("unblock %s: its line is gone from %s (uid %u)", buf, c->d->bfile_path,
				 (unsigned)c->r->peer_uid);
			fprintf(c->out, "unblocked %s (its line is gone from %s)\n", buf, c->d->bfile_path);
			return;
		}
		if (strcmp(b->origin, "file") == 0 && (e = bfile_entry(c->d, &q->arg[0].target))) {
			ctl_error(c->r, "%s is blocked by the block list file %s, line %d, and would be blocked again at "
				  "the next start: delete that line (the daemon then unblocks it), or run 'mailscreen "
				  "unblock --from-file %s'", buf, c->d->bfile_path, e->lineno, buf);
			return;
		}
	}
	if (daemon_unblock(c->d, &q->arg[0].target, err, sizeof err) < 0) {
		ctl_error(c->r, "%s", err);
		return;
	}
	log_info("unblock %s: manual (uid %u)", buf, (unsigned)c->r->peer_uid);
	fprintf(c->out, "unblocked %s\n", buf);
}

struct inside {
	struct cidr range;
	struct cidr *v;
	size_t n, alloc;
};

static void blocks_inside(void *arg, const struct block *b)
{
	struct inside *in = arg;

	/* blocks inside the allowed range, and ranges that contain it */
	if ((b->target.addr.family == in->range.addr.family && b->target.len >= in->range.len &&
	     cidr_contains(&in->range, &b->target.addr)) ||
	    (b->target.len < in->range.len && cidr_contains(&b->target, &in->range.addr))) {
		XGROW(in->v, in->alloc, in->n + 1);
		in->v[in->n++] = b->target;
	}
}

static void cmd_allow(struct cmdctx *c, const struct ctl_req *q)
{
	struct daemon *d = c->d;
	const struct cidr *t = &q->arg[0].target;
	const char *buf = q->arg[0].text;
	uint64_t dur = q->nargs > 1 ? q->arg[1].ms : UINT64_MAX;
	struct inside in = { 0 };
	char dbuf[32] = "good", err[256];

	if (!allow_add(screen_allowlist(d->screen), t, dur == DURATION_PERMANENT ? UINT64_MAX : c->now + dur)) {
		ctl_error(c->r, "%s is on the allow list of the configuration already", buf);
		return;
	}
	if (dur != DURATION_PERMANENT && dur != UINT64_MAX)
		duration_format(dur, dbuf, sizeof dbuf);
	log_info("allow %s for %s: manual (uid %u)", buf, dbuf, (unsigned)c->r->peer_uid);
	daemon_cluster_publish(d, CLUSTER_ALLOW, buf, dur == UINT64_MAX ? DURATION_PERMANENT : dur, "manual", "manual allow");
	fprintf(c->out, "allowed %s for %s\n", buf, dbuf);
	in.range = *t;
	blocks_foreach(d->blocks, blocks_inside, &in);
	for (size_t i = 0; i < in.n; i++) {
		char b2[CIDR_STRLEN];
		cidr_format(&in.v[i], b2);
		if (daemon_unblock(d, &in.v[i], err, sizeof err) == 0) {
			log_info("unblock %s: allowed now", b2);
			fprintf(c->out, "%s was blocked: unblocked\n", b2);
		}
	}
	free(in.v);
	daemon_arm_sweep(d);
}

static void cmd_unallow(struct cmdctx *c, const struct ctl_req *q)
{
	struct allowlist *a = screen_allowlist(c->d->screen);
	const struct cidr *t = &q->arg[0].target;
	const char *buf = q->arg[0].text;

	if (allow_remove(a, t)) {
		log_info("unallow %s: manual (uid %u)", buf, (unsigned)c->r->peer_uid);
		daemon_cluster_publish(c->d, CLUSTER_UNALLOW, buf, 0, "manual", NULL);
		fprintf(c->out, "removed %s from the allow list\n", buf);
		return;
	}
	for (size_t i = 0; i < a->n; i++)
		if (a->v[i].target.len == t->len && addr_equal(&a->v[i].target.addr, &t->addr)) {
			ctl_error(c->r, "%s is allowed by the configuration (%s); remove it there and reload", buf,
				  c->d->b.cfg.file ? c->d->b.cfg.file : "built-in defaults");
			return;
		}
	ctl_error(c->r, "%s is not on the allow list", buf);
}

static void cmd_block_account(struct cmdctx *c, const struct ctl_req *q)
{
	const char *user = q->arg[0].text;
	uint64_t dur = q->nargs > 1 ? q->arg[1].ms : DEFAULT_MANUAL_BLOCK_MS;
	char err[ERR_LEN], dbuf[32], safe[4 * sizeof ((struct account_block *)0)->user + 4];
	const char *xa;

	if (daemon_block_account(c->d, user, strlen(user), dur, "manual", "manual block", err, sizeof err) < 0) {
		ctl_error(c->r, "%s", err);
		return;
	}
	/* the name is the mail server's bytes: shown escaped, as list shows it */
	text_sanitize(safe, sizeof safe, user, strlen(user));
	duration_format(dur, dbuf, sizeof dbuf);
	log_info("block account '%s' for %s: manual (uid %u)", safe, dbuf, (unsigned)c->r->peer_uid);
	fprintf(c->out, "blocked account %s for %s\n", safe, dbuf);
	if ((xa = screen_account_exempt(c->d->screen, user, strlen(user))))
		fprintf(c->out, "note: the account is exempt from automatic blocks ([allow] account = %s); this "
			"manual block holds all the same\n", xa);
}

static void cmd_unblock_account(struct cmdctx *c, const struct ctl_req *q)
{
	const char *user = q->arg[0].text;
	char err[ERR_LEN], safe[4 * sizeof ((struct account_block *)0)->user + 4];

	if (daemon_unblock_account(c->d, user, err, sizeof err) < 0) {
		ctl_error(c->r, "%s", err);
		return;
	}
	text_sanitize(safe, sizeof safe, user, strlen(user));
	log_info("unblock account '%s': manual (uid %u)", safe, (unsigned)c->r->peer_uid);
	fprintf(c->out, "unblocked account %s\n", safe);
}

static void cmd_reset(struct cmdctx *c, const struct ctl_req *q)
{
	struct daemon *d = c->d;
	const char *what = q->arg[0].text;      /* one of the row's words */
	bool all = strcmp(what, "all") == 0;

	if (all || strcmp(what, "failures") == 0) {
		screen_reset(d->screen);
		fprintf(c->out, "failure counts cleared\n");
	}
	if (all || strcmp(what, "blocks") == 0) {
		size_t kept, n = daemon_reset_blocks(d, &kept), na = accounts_clear(d->accounts);
		fprintf(c->out, "%zu blocks and %zu account blocks removed\n", n, na);
		/* they would come back at the next start, as with unblock */
		if (kept)
			fprintf(c->out, "%zu blocks of the block list file %s kept (delete their lines there, or "
				"'mailscreen unblock --from-file ADDR')\n", kept, d->bfile_path ? d->bfile_path : "");
	}
	if (all || strcmp(what, "allows") == 0) {
		struct allowlist *a = screen_allowlist(d->screen);
		/* each one an unallow for the cluster, as `unallow` says it */
		for (size_t i = 0; i < a->n; i++)
			if (a->v[i].origin == ALLOW_MANUAL) {
				char buf[CIDR_STRLEN];
				cidr_format(&a->v[i].target, buf);
				daemon_cluster_publish(d, CLUSTER_UNALLOW, buf, 0, "manual", NULL);
			}
		fprintf(c->out, "%zu manual allows removed\n", allow_clear_manual(a));
	}
	log_info("reset %s: manual (uid %u)", what, (unsigned)c->r->peer_uid);
}

static void cmd_pause(struct cmdctx *c, bool pause)
{
	if (c->d->paused == pause) {
		fprintf(c->out, "already %s\n", pause ? "paused" : "running");
		return;
	}
	c->d->paused = pause;
	log_info("%s (uid %u)", pause ? "paused: counting goes on, no new blocks" : "resumed: blocking again",
		 (unsigned)c->r->peer_uid);
	fprintf(c->out, "%s\n", pause ? "paused: still counting, no new blocks until 'mailscreen resume'" : "resumed");
}

static void cmd_reload(struct cmdctx *c)
{
	if (daemon_reload(c->d) < 0) {
		ctl_error(c->r, "reload refused (the running configuration stays in force); see the daemon's log, or "
			  "run 'mailscreen check'");
		return;
	}
	fprintf(c->out, "reloaded\n");
}

/* One case per command of the table: the compiler says which is missing
 * (-Wswitch). */
static void run(struct cmdctx *c, const struct ctl_req *q)
{
	switch (q->cmd->id) {
	case CTL_STATUS: cmd_status(c, q); break;
	case CTL_LIST: cmd_list(c, q); break;
	case CTL_BLOCK: cmd_block(c, q); break;
	case CTL_UNBLOCK: cmd_unblock(c, q); break;
	case CTL_ALLOW: cmd_allow(c, q); break;
	case CTL_UNALLOW: cmd_unallow(c, q); break;
	case CTL_BLOCK_ACCOUNT: cmd_block_account(c, q); break;
	case CTL_UNBLOCK_ACCOUNT: cmd_unblock_account(c, q); break;
	case CTL_RESET: cmd_reset(c, q); break;
	case CTL_PAUSE: cmd_pause(c, true); break;
	case CTL_RESUME: cmd_pause(c, false); break;
	case CTL_RELOAD: cmd_reload(c); break;
	case CTL_HISTORY: cmd_history(c, q); break;
	case CTL_REPORT:
		if (q->mail) {
			char err[ERR_LEN];
			if (daemon_report_mail(c->d, q->since ? q->since_ms : 86400000ULL, err, sizeof err) < 0)
				ctl_error(c->r, "%s", err);
			else
				fprintf(c->out, "report mailed to [notify] mail_to\n");
			break;
		}
		daemon_report_write(c->d, c->out, q->since ? q->since_ms : 86400000ULL,
				    q->html ? REPORT_HTML : c->json ? REPORT_JSON : REPORT_TEXT, c->utc);
		break;
	case CTL_NCMDS: log_panic("control: no command %d", (int)q->cmd->id);
	}
}

void daemon_control(void *arg, int argc, char **argv, struct ctl_reply *r)
{
	struct cmdctx c = { .d = arg, .r = r, .now = daemon_now_ms() };
	struct ctl_req q;
	char *body = NULL, err[CONTROL_MSG_MAX];
	size_t len = 0;

	if (ctl_req_parse(argc, argv, &q, err, sizeof err) < 0) {
		ctl_error(r, "%s", err);
		return;
	}
	c.json = q.json;
	c.utc = q.utc;
	c.out = open_memstream(&body, &len);
	if (!c.out)
		fatal("open_memstream");
	run(&c, &q);
	/* what a person changed is saved at once, not a few seconds later */
	if (!r->error && (q.cmd->flags & CTL_CHANGES))
		daemon_save_state(c.d);
	fclose(c.out);
	if (len)
		ctl_write(r, body, len);
	free(body);
}
