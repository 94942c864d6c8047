// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fw_nft_commit - the changes to our sets: queued by fw_nft_queue_add(),
 * fw_nft_queue_del() and fw_nft_queue_set(), sent by fw_nft_commit() in
 * batches (see fw_nft.h for the contract, fw_nft.c for the handle).
 *
 * Owns: the queue of element changes not yet sent, and one commit's work
 * (its changes, what the kernel said of each, the sets' ranges when an add
 * overlaps).
 *
 * Must never: let one refused change lose the others of its batch, or
 * change anything but the elements of our sets.
 *
 * How errors are mapped: every queued change is exactly one
 * NEWSETELEM/DELSETELEM message (the start element and, unless the range
 * reaches the top of the address space, its end element), answered on its
 * own (fw_nft_batch_send). The kernel processes a whole batch even after
 * an error and answers each message, then aborts the batch if any failed;
 * so one round tells us every change at fault, and the next round resends
 * the others.
 *
 * What the kernel (6.x) does and how we use it: re-adding an existing
 * element only restarts its clock when an expiration is sent, so every
 * timed add carries NFTA_SET_ELEM_EXPIRATION = timeout. An add that
 * overlaps a range fails with EEXIST; since prefixes nest or are disjoint,
 * either the new block is already covered (dropped, debug log) or it covers
 * narrower blocks, which are then deleted in front of it (the set is dumped
 * to find them: only in that case). Deletes use the strict DELSETELEM, not
 * DESTROYSETELEM, see put_change(); ENOENT on a delete just drops it.
 */
#include "fw_nft_int.h"
#include "log.h"
#include "xalloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netinet/in.h>
#include <sys/socket.h>

#include <linux/netfilter/nf_tables.h>

#include <libnftnl/set.h>

/* Changes per netlink batch. Each message gets its own ACK, and the kernel
 * queues all of them on our socket before we read one: about 1 KiB of
 * receive buffer each. Bigger commits are sent as several batches. */
#define BATCH_MAX       32768
#define ROUNDS_MAX      16
#define WARN_MAX        20              /* refused changes reported one by one per commit */

struct change {
	struct cidr c;                  /* c.addr is the first address */
	struct ipaddr last;             /* last address (a delete found in the set
	                                 * may be a range that is no prefix) */
	uint64_t timeout_ms;            /* 0 = permanent */
	bool del;
	uint8_t kind;                   /* enum fw_nft_set */
};

/* ---- blocks ------------------------------------------------------------ */

static void enqueue(struct fw_nft *f, enum fw_nft_set kind, const struct cidr *c, uint64_t timeout_ms, bool del)
{
	struct change *ch;

	XGROW(f->q, f->qalloc, f->nq + 1);
	ch = &f->q[f->nq++];
	ch->c = *c;
	addr_mask(&ch->c.addr, c->len);
	cidr_last(&ch->c, &ch->last);
	ch->timeout_ms = del ? 0 : timeout_ms;
	ch->del = del;
	ch->kind = (uint8_t)kind;
}

void fw_nft_queue_add(struct fw_nft *f, const struct cidr *c, uint64_t timeout_ms)
{
	enqueue(f, FW_NFT_BLOCK, c, timeout_ms, false);
}

void fw_nft_queue_del(struct fw_nft *f, const struct cidr *c)
{
	enqueue(f, FW_NFT_BLOCK, c, 0, true);
}

void fw_nft_queue_set(struct fw_nft *f, enum fw_nft_set which, const struct cidr *c, uint64_t timeout_ms, bool del)
{
	enqueue(f, which, c, timeout_ms, del);
}

size_t fw_nft_pending(const struct fw_nft *f)
{
	return f->nq;
}

#define CHANGE_STRLEN (2 * ADDR_STRLEN + 2)

static void change_format(const struct change *ch, char buf[CHANGE_STRLEN])
{
	struct ipaddr last;
	char a[ADDR_STRLEN], b[ADDR_STRLEN];

	cidr_last(&ch->c, &last);
	if (addr_equal(&last, &ch->last)) {
		cidr_format(&ch->c, buf);
		return;
	}
	addr_format(&ch->c.addr, a);
	addr_format(&ch->last, b);
	snprintf(buf, CHANGE_STRLEN, "%s-%s", a, b);
}

/* [a..alast] lies within [b..blast] */
static bool within(const struct change *a, const struct change *b)
{
	return a->c.addr.family == b->c.addr.family && addr_cmp(&b->c.addr, &a->c.addr) <= 0 &&
	       addr_cmp(&a->last, &b->last) <= 0;
}

/* One change = one message: the range's start element (with the timeout,
 * and an expiration equal to it: re-adding an existing element with only
 * the same timeout would not restart its clock) and the end element at
 * last+1, flagged as such. Deletes use the strict DELSETELEM on purpose:
 * DESTROYSETELEM ignores a missing end element, so "unblock 192.0.2.0"
 * while 192.0.2.0/24 is blocked would remove the /24's start element and
 * leave its end behind, unblocking the range. */
static void put_change(struct fw_nft *f, const struct change *ch)
{
	bool v6 = ch->c.addr.family == AF_INET6;
	uint32_t klen = v6 ? 16 : 4;
	struct nftnl_set *s = nftnl_set_alloc();
	struct nftnl_set_elem *e = nftnl_set_elem_alloc();
	struct nlmsghdr *nlh;
	struct ipaddr end = ch->last;

	if (!s || !e)
		fatalx("out of memory");
	nftnl_set_set_str(s, NFTNL_SET_TABLE, f->table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, set_names[ch->kind][v6]);
	nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, ch->c.addr.b, klen);
	if (!ch->del && ch->timeout_ms) {
		nftnl_set_elem_set_u64(e, NFTNL_SET_ELEM_TIMEOUT, ch->timeout_ms);
		nftnl_set_elem_set_u64(e, NFTNL_SET_ELEM_EXPIRATION, ch->timeout_ms);
	}
	nftnl_set_elem_add(s, e);
	if (addr_increment(&end)) {
		e = nftnl_set_elem_alloc();
		if (!e)
			fatalx("out of memory");
		nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, end.b, klen);
		nftnl_set_elem_set_u32(e, NFTNL_SET_ELEM_FLAGS, NFT_SET_ELEM_INTERVAL_END);
		nftnl_set_elem_add(s, e);
	}
	nlh = msg_hdr(f, ch->del ? NFT_MSG_DELSETELEM : NFT_MSG_NEWSETELEM,
		      ch->del ? 0 : NLM_F_CREATE);
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	put_done(f, nlh);
	nftnl_set_free(s);
}

/* ---- commit ------------------------------------------------------------ */

struct item {
	struct change ch;
	bool dropped;
	bool overlap;                   /* EEXIST in the last round */
	bool resolved;                  /* overlap handled once already */
};

struct work {
	struct item *v;
	size_t n, alloc;
	struct ranges rs[2][2];         /* what each set holds, when asked: [kind][v6] */
	unsigned *warned;
	int refused;
};

static void report_refused(struct work *w, const struct change *ch, int error, const char *ext)
{
	char buf[CHANGE_STRLEN];

	w->refused++;
	if (++*w->warned > WARN_MAX)
		return;
	change_format(ch, buf);
	if (ch->del)
		log_warnx("nftables refused to %s %s: %s%s%s%s", ch->kind ? "unallow" : "unblock", buf, strerror(error),
			  ext ? " (" : "", ext ? ext : "", ext ? ")" : "");
	else
		log_warnx("nftables refused to %s %s for %llu ms: %s%s%s%s", ch->kind ? "allow" : "block", buf,
			  (unsigned long long)ch->timeout_ms, strerror(error),
			  ext ? " (" : "", ext ? ext : "", ext ? ")" : "");
}

/* An add failed with EEXIST: it overlaps something. Prefixes either nest
 * or are disjoint, so either an existing block (in the set, or earlier in
 * this batch) covers it -- nothing to do -- or it covers narrower blocks,
 * which it replaces: they are deleted just before it in the next round.
 * *ip is moved past any item inserted before it. */
static int resolve_overlap(struct fw_nft *f, struct work *w, size_t *ip, char *err, size_t errlen)
{
	size_t i = *ip, added = 0;
	struct change c = w->v[i].ch;
	struct ranges *rs = &w->rs[c.kind][c.c.addr.family == AF_INET6];
	char buf[CHANGE_STRLEN];
	bool superseded = false;

	change_format(&c, buf);
	for (size_t j = 0; j < i; j++) {
		const struct item *o = &w->v[j];

		if (!o->dropped && !o->ch.del && o->ch.kind == c.kind && within(&c, &o->ch)) {
			log_debug("nftables: %s already covered by a blocked range", buf);
			w->v[i].dropped = true;
			return 0;
		}
	}
	for (size_t j = 0; j < i; j++) {
		struct item *o = &w->v[j];

		if (!o->dropped && !o->ch.del && o->ch.kind == c.kind && within(&o->ch, &c)) {
			o->dropped = true;
			superseded = true;
		}
	}
	if (superseded)
		return 0;
	if (w->v[i].resolved) {
		report_refused(w, &c, EEXIST, "overlaps blocks that could not be replaced");
		w->v[i].dropped = true;
		return 0;
	}
	w->v[i].resolved = true;
	if (!rs->loaded && fw_nft_load_ranges(f, c.kind, c.c.addr.family, rs, err, errlen) < 0)
		return -1;
	for (size_t k = 0; k < rs->n; k++) {
		const struct range *r = &rs->v[k];

		if (addr_cmp(&r->first, &c.c.addr) <= 0 && addr_cmp(&c.last, &r->last) <= 0) {
			log_debug("nftables: %s already covered by a blocked range", buf);
			w->v[i].dropped = true;
			return 0;
		}
	}
	for (size_t k = 0; k < rs->n; k++) {
		const struct range *r = &rs->v[k];
		struct item *d;
		int len = addr_bits(&r->first);

		if (addr_cmp(&c.c.addr, &r->first) > 0 || addr_cmp(&r->last, &c.last) > 0)
			continue;
		XGROW(w->v, w->alloc, w->n + 1);
		memmove(&w->v[i + 1], &w->v[i], (w->n - i) * sizeof *w->v);
		w->n++;
		d = &w->v[i++];
		memset(d, 0, sizeof *d);
		/* the range as a prefix when it is one (for messages) */
		while (len > 0) {
			struct cidr t;
			struct ipaddr l;

			cidr_from_addr(&t, &r->first, len - 1);
			cidr_last(&t, &l);
			if (!addr_equal(&t.addr, &r->first) || addr_cmp(&l, &r->last) > 0)
				break;
			len--;
		}
		cidr_from_addr(&d->ch.c, &r->first, len);
		d->ch.last = r->last;
		d->ch.del = true;
		d->ch.kind = c.kind;
		added++;
	}
	if (added == 0) {
		report_refused(w, &c, EEXIST, NULL);
		w->v[i].dropped = true;
	} else {
		log_debug("nftables: %s replaces %zu narrower blocks", buf, added);
		/* the set changes under the dump once this batch goes in */
		rs->loaded = false;
	}
	*ip = i;
	return 0;
}

/* Send q[0..n) in one batch; drop what the kernel refuses and resend the
 * rest until the batch goes through. Returns the number of refused
 * changes, or -1. */
static int commit_batch(struct fw_nft *f, const struct change *q, size_t n, unsigned *warned,
			char *err, size_t errlen)
{
	struct work w = { .warned = warned };
	size_t *map = NULL, mapalloc = 0;
	struct reply *r = NULL;
	size_t ralloc = 0;
	int ret = -1;

	w.v = xcalloc(n, sizeof *w.v);
	w.n = w.alloc = n;
	for (size_t i = 0; i < n; i++) {
		w.v[i].ch = q[i];
		/* a /0 has no end element, so the kernel cannot see what it
		 * overlaps; and it would block a whole address family */
		if (!q[i].del && q[i].c.len == 0 && q[i].kind == FW_NFT_BLOCK) {
			report_refused(&w, &q[i], EINVAL, "refusing to block a whole address family");
			w.v[i].dropped = true;
		}
	}

	for (int round = 1;; round++) {
		uint32_t first = batch_begin(f);
		size_t nmsg = 0;
		bool failed = false;

		XGROW(map, mapalloc, w.n);
		XGROW(r, ralloc, w.n);
		for (size_t i = 0; i < w.n; i++) {
			if (w.v[i].dropped)
				continue;
			put_change(f, &w.v[i].ch);
			map[nmsg++] = i;
		}
		if (nmsg == 0) {
			ret = w.refused;
			break;
		}
		batch_end(f);
		if (fw_nft_batch_send(f, first, nmsg, r, err, errlen) < 0)
			break;

		for (size_t m = 0; m < nmsg; m++) {
			struct item *it = &w.v[map[m]];
			char buf[CHANGE_STRLEN];
			int e = r[m].error;

			if (!e)
				continue;
			failed = true;
			change_format(&it->ch, buf);
			if (!it->ch.del && e == ENOENT) {
				/* no such set or table: nothing of this batch can work */
				errf(err, errlen, "set %s of table inet %s is missing (was the ruleset "
				     "flushed?): set up again",
				     set_names[it->ch.kind][it->ch.c.addr.family == AF_INET6], f->table);
				fw_nft_replies_release(r, nmsg);
				goto out;
			}
			if (!it->ch.del && e == EEXIST) {
				it->overlap = true;
			} else if (it->ch.del && e == ENOENT) {
				log_debug("nftables: %s is not in the set (expired?)", buf);
				it->dropped = true;
			} else {
				report_refused(&w, &it->ch, e, r[m].ext);
				it->dropped = true;
			}
		}
		fw_nft_replies_release(r, nmsg);
		if (!failed) {
			ret = w.refused;
			break;
		}
		for (size_t i = 0; i < w.n; i++) {
			if (!w.v[i].overlap)
				continue;
			w.v[i].overlap = false;
			if (resolve_overlap(f, &w, &i, err, errlen) < 0)
				goto out;
		}
		if (round >= ROUNDS_MAX) {
			errf(err, errlen, "netlink: batch still refused after %d rounds", round);
			break;
		}
		log_debug("nftables: batch aborted by the kernel, sending it again without the "
			  "changes at fault");
	}
out:
	free(w.v);
	for (int i = 0; i < 4; i++)
		free(w.rs[i / 2][i % 2].v);
	free(map);
	free(r);
	return ret;
}

int fw_nft_commit(struct fw_nft *f, char *err, size_t errlen)
{
	unsigned warned = 0;
	int refused = 0;

	if (f->nq == 0)
		return 0;
	if (!f->table) {
		f->nq = 0;
		return errf(err, errlen, "nftables table not set up");
	}
	for (size_t off = 0; off < f->nq; off += BATCH_MAX) {
		size_t n = f->nq - off < BATCH_MAX ? f->nq - off : BATCH_MAX;
		int r = commit_batch(f, f->q + off, n, &warned, err, errlen);

		/* read our own notifications of this batch before the next one
		 * adds its own, so that they never overflow the monitor */
		if (f->mon)
			fw_nft_mon_drain(f->mon);
		if (r < 0) {
			refused = -1;
			break;
		}
		refused += r;
	}
	if (warned > WARN_MAX)
		log_warnx("nftables refused %u more changes (not shown)", warned - WARN_MAX);
	f->nq = 0;
	if (f->alloc > 4 * 1024 * 1024) {
		/* a big commit (a restore at start) need not pin its buffer */
		free(f->buf);
		f->buf = NULL;
		f->alloc = 0;
	}
	return refused;
}
