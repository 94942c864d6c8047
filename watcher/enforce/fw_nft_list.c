// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fw_nft_list - what our sets hold, read back from the kernel: for the
 * command line and reconciling (fw_nft_list, fw_nft_list_set), and for a
 * commit whose add overlaps blocks already there (fw_nft_load_ranges).
 *
 * A listing dumps a set with GETSETELEM and sorts the elements: each start
 * element carries the timeout, the time left and the counter, and the end
 * element after it marks last+1 of its range.
 *
 * Owns: nothing beyond one dump's elements while they are read.
 *
 * Must never: change what the kernel holds (it only asks), or keep a dump
 * past the call (the set changes under it).
 */
#include "fw_nft_int.h"
#include "log.h"
#include "xalloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <sys/socket.h>

#include <linux/netfilter/nf_tables.h>

#include <libmnl/libmnl.h>
#include <libnftnl/expr.h>
#include <libnftnl/set.h>

/* One element of a dump: a range's start (with its timeout, expiry and
 * counter) or its end. */
struct key {
	struct ipaddr a;
	bool end;
	bool has_counter;
	uint64_t timeout_ms, expires_ms, packets, bytes;
};

struct keys {
	uint8_t family;
	uint8_t kind;                   /* enum fw_nft_set */
	struct key *v;
	size_t n, alloc;
};

static int elem_expr_cb(struct nftnl_expr *e, void *data)
{
	struct key *x = data;
	const char *name = nftnl_expr_get_str(e, NFTNL_EXPR_NAME);

	if (name && strcmp(name, "counter") == 0 && !x->has_counter) {
		x->has_counter = true;
		x->packets = nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_PACKETS);
		x->bytes = nftnl_expr_get_u64(e, NFTNL_EXPR_CTR_BYTES);
	}
	return 0;
}

static int dump_elem_cb(struct nftnl_set_elem *e, void *data)
{
	struct keys *k = data;
	uint32_t len = 0;
	const void *key = nftnl_set_elem_get(e, NFTNL_SET_ELEM_KEY, &len);
	struct key *x;

	if (!key || len != (k->family == AF_INET ? 4u : 16u))
		return 0;
	XGROW(k->v, k->alloc, k->n + 1);
	x = &k->v[k->n++];
	memset(x, 0, sizeof *x);
	x->a.family = k->family;
	memcpy(x->a.b, key, len);
	x->end = nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_FLAGS) &&
		 (nftnl_set_elem_get_u32(e, NFTNL_SET_ELEM_FLAGS) & NFT_SET_ELEM_INTERVAL_END);
	if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_TIMEOUT))
		x->timeout_ms = nftnl_set_elem_get_u64(e, NFTNL_SET_ELEM_TIMEOUT);
	if (nftnl_set_elem_is_set(e, NFTNL_SET_ELEM_EXPIRATION))
		x->expires_ms = nftnl_set_elem_get_u64(e, NFTNL_SET_ELEM_EXPIRATION);
	nftnl_set_elem_expr_foreach(e, elem_expr_cb, x);
	return 0;
}

static int dump_msg_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nftnl_set *s = nftnl_set_alloc();

	if (!s)
		fatalx("out of memory");
	if (nftnl_set_elems_nlmsg_parse(nlh, s) == 0)
		nftnl_set_elem_foreach(s, dump_elem_cb, data);
	nftnl_set_free(s);
	return MNL_CB_OK;
}

/* by address; an end element sorts before a start at the same address
 * (adjacent ranges) */
static int key_cmp(const void *pa, const void *pb)
{
	const struct key *a = pa, *b = pb;
	int c = addr_cmp(&a->a, &b->a);

	return c ? c : (int)b->end - (int)a->end;
}

#define DUMP_TRIES 3

/* Dump every element of block4 or block6 of `table` into k, sorted. A
 * dump the kernel marks as interrupted (the set changed under it) is
 * started again. */
static int dump_keys(struct fw_nft *f, const char *table, struct keys *k, char *err,
		     size_t errlen)
{
	const char *set = set_names[k->kind][k->family == AF_INET6];
	int ret = -1;

	for (int try = 0; try < DUMP_TRIES; try++) {
		struct nftnl_set *s = nftnl_set_alloc();
		struct nlmsghdr *nlh;
		uint32_t seq = f->seq++;
		ssize_t n;

		if (!s)
			fatalx("out of memory");
		drain(f);
		k->n = 0;
		f->len = 0;
		nlh = nftnl_nlmsg_build_hdr(room(f), NFT_MSG_GETSETELEM, NFPROTO_INET, NLM_F_DUMP,
					    seq);
		nftnl_set_set_str(s, NFTNL_SET_TABLE, table);
		nftnl_set_set_str(s, NFTNL_SET_NAME, set);
		nftnl_set_elems_nlmsg_build_payload(nlh, s);
		nftnl_set_free(s);
		put_done(f, nlh);
		if (mnl_socket_sendto(f->nl, f->buf, f->len) < 0)
			return errf(err, errlen, "netlink: cannot list set elements: %s",
				    strerror(errno));
		do {
			n = mnl_socket_recvfrom(f->nl, f->rx, RX_SIZE);
			if (n < 0) {
				ret = -1;
				break;
			}
			ret = mnl_cb_run(f->rx, (size_t)n, seq, f->portid, dump_msg_cb, k);
		} while (ret > 0);
		if (ret >= 0 || errno != EINTR)
			break;
		log_debug("nftables: listing set %s interrupted by a change, again", set);
	}
	if (ret < 0) {
		if (errno == ENOENT)
			return errf(err, errlen, "set %s of table inet %s is missing (is mailscreen "
				    "set up?)", set, table);
		return errf(err, errlen, "netlink: cannot list set %s of table inet %s: %s", set,
			    table, strerror(errno));
	}
	if (k->n > 1)
		qsort(k->v, k->n, sizeof *k->v, key_cmp);
	return 0;
}

/* Pair sorted start and end elements into ranges. Expired elements are
 * not dumped; an end element left from one is ignored, and a start with
 * no end before the next start is stale. A start with no end at all
 * reaches the top of the address space. */
static void pair_keys(const struct keys *k, struct ranges *out)
{
	bool open = false;
	size_t start = 0;

	out->n = 0;
	for (size_t i = 0; i <= k->n; i++) {
		struct range *r;

		if (i < k->n && !k->v[i].end) {
			open = true;
			start = i;
			continue;
		}
		if (!open)
			continue;
		XGROW(out->v, out->alloc, out->n + 1);
		r = &out->v[out->n++];
		r->first = k->v[start].a;
		r->start = start;
		if (i < k->n) {
			r->last = k->v[i].a;
			addr_decrement(&r->last);
		} else {
			r->last = r->first;
			memset(r->last.b, 0xff, (size_t)addr_bits(&r->first) / 8);
		}
		open = false;
	}
}

/* Dump block4 or block6 of the set-up table into ranges. Slow on a big
 * set. */
int fw_nft_load_ranges(struct fw_nft *f, uint8_t kind, uint8_t family, struct ranges *out, char *err,
		       size_t errlen)
{
	struct keys k = { .family = family, .kind = kind };

	if (dump_keys(f, f->table, &k, err, errlen) < 0) {
		free(k.v);
		return -1;
	}
	pair_keys(&k, out);
	free(k.v);
	out->loaded = true;
	return 0;
}

/* The widest prefix that starts at first and ends at or before last. No
 * prefix shorter than first's bits less its trailing zero bits starts at
 * first, so the search starts there: a /64 is found at once, not after
 * 64 tries (a dump of 100,000 blocks spent a third of its time here). */
void fw_nft_widest_prefix(const struct ipaddr *first, const struct ipaddr *last, struct cidr *out)
{
	int bits = addr_bits(first), tz = 0;

	for (int i = bits / 8 - 1; i >= 0 && first->b[i] == 0; i--)
		tz += 8;
	if (tz < bits) {
		unsigned v = first->b[(bits - tz) / 8 - 1];
		while (!(v & 1)) {
			v >>= 1;
			tz++;
		}
	}
	for (int len = bits - tz; len < bits; len++) {
		struct ipaddr l;

		cidr_from_addr(out, first, len);
		cidr_last(out, &l);
		if (addr_cmp(&l, last) <= 0)
			return;
	}
	cidr_from_addr(out, first, bits);
}

int fw_nft_list(struct fw_nft *f, const char *table, fw_nft_elem_fn *fn, void *arg, char *err,
		size_t errlen)
{
	return fw_nft_list_set(f, table, FW_NFT_BLOCK, fn, arg, err, errlen);
}

int fw_nft_list_set(struct fw_nft *f, const char *table, enum fw_nft_set which, fw_nft_elem_fn *fn, void *arg,
		    char *err, size_t errlen)
{
	static const uint8_t families[] = { AF_INET, AF_INET6 };

	if (!table || !*table || strlen(table) >= NFT_NAME_MAXLEN)
		return errf(err, errlen, "invalid nftables table name '%s'", table ? table : "");
	for (size_t fi = 0; fi < sizeof families; fi++) {
		struct keys k = { .family = families[fi], .kind = (uint8_t)which };
		struct ranges rs = { 0 };

		if (dump_keys(f, table, &k, err, errlen) < 0) {
			free(k.v);
			return -1;
		}
		pair_keys(&k, &rs);
		for (size_t i = 0; i < rs.n; i++) {
			const struct key *s = &k.v[rs.v[i].start];
			struct fw_nft_elem e = {
				.timeout_ms = s->timeout_ms,
				.expires_ms = s->expires_ms,
				.packets = s->packets,
				.bytes = s->bytes,
				.has_counter = s->has_counter,
			};
			struct ipaddr next = rs.v[i].first, l;

			/* a prefix in one go; any other range piece by piece */
			for (;;) {
				fw_nft_widest_prefix(&next, &rs.v[i].last, &e.target);
				fn(arg, &e);
				e.packets = e.bytes = 0;
				e.has_counter = false;
				cidr_last(&e.target, &l);
				if (addr_cmp(&l, &rs.v[i].last) >= 0 || !addr_increment(&l))
					break;
				next = l;
			}
		}
		free(rs.v);
		free(k.v);
	}
	return 0;
}
