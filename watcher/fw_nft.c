// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fw_nft - the daemon's nftables table, spoken to over netlink with
 * libnftnl + libmnl (see fw_nft.h for the contract).
 *
 * Owns: one NETLINK_NETFILTER socket, the table "inet <name>" with its sets
 * block4/block6, the base chain "input" and its two rules (plus the
 * anonymous port sets those rules use), and the queue of element changes
 * not yet sent.
 *
 * Must never: run the nft program, touch any other table, delete or
 * recreate the table outside fw_nft_destroy() (that would drop every
 * block), or let one refused change lose the others of its batch.
 *
 * How errors are mapped: every message in a batch carries NLM_F_ACK and
 * its own sequence number, and every queued change is exactly one
 * NEWSETELEM/DELSETELEM message (the start element and, unless the range
 * reaches the top of the address space, its end element). The kernel
 * processes a whole batch even after an error and answers each message,
 * then aborts the batch if any failed; so one round tells us every change
 * at fault, and the next round resends the others. Replies are capped
 * (NETLINK_CAP_ACK) and carry the kernel's extended ack text
 * (NETLINK_EXT_ACK) when there is one.
 *
 * What the kernel (6.x) does and how we use it: re-adding an existing
 * element only restarts its clock when an expiration is sent, so every
 * timed add carries NFTA_SET_ELEM_EXPIRATION = timeout. An add that
 * overlaps a range fails with EEXIST; since prefixes nest or are disjoint,
 * either the new block is already covered (dropped, debug log) or it covers
 * narrower blocks, which are then deleted in front of it (the set is dumped
 * to find them: only in that case). Deletes use the strict DELSETELEM, not
 * DESTROYSETELEM, see put_change(); ENOENT on a delete just drops it.
 *
 * Listing (fw_nft_list) dumps the sets with GETSETELEM and sorts the
 * elements: each start element carries the timeout, the time left and the
 * counter, and the end element after it marks last+1 of its range.
 *
 * The monitor owns a second NETLINK_NETFILTER socket in group
 * NFNLGRP_NFTABLES. The kernel sends a transaction's notifications, then
 * NEWGEN naming the process (NFTA_GEN_PROC_PID, its pid in the initial
 * PID namespace) and, as nlmsg_pid of every one of them, the netlink port
 * that sent the batch. So what a transaction did to our objects is noted
 * until its NEWGEN, then reported or dropped as a whole: ours if the port
 * is that of a tied fw_nft handle, or the pid is ours. Set elements are one
 * notification each: a tied handle drains the monitor after each batch
 * (at most BATCH_MAX changes), so our own restores never overflow it.
 */
#include "fw_nft.h"
#include "log.h"
#include "loop.h"
#include "xalloc.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/set.h>
#include <libnftnl/table.h>

#define CHAIN_NAME      "input"
#define CHAIN_PRIO      (-10)           /* "filter - 10" */
#define SET4_NAME       "block4"
#define SET6_NAME       "block6"
#define ALLOW4_NAME     "allow4"
#define ALLOW6_NAME     "allow6"
#define ARPHRD_LOOPBACK_ 772            /* <linux/if_arp.h> ARPHRD_LOOPBACK */

/* set_names[kind][v6]: kind 0 = blocks, 1 = allows (enum fw_nft_set) */
static const char *const set_names[2][2] = { { SET4_NAME, SET6_NAME }, { ALLOW4_NAME, ALLOW6_NAME } };

/* nftables' datatype ids (nftables include/datatype.h), stored in the set
 * so that `nft list` prints keys as addresses and ports. */
#define TYPE_IPADDR        7
#define TYPE_IP6ADDR       8
#define TYPE_INET_SERVICE 13

/* Changes per netlink batch. Each message gets its own ACK, and the kernel
 * queues all of them on our socket before we read one: about 1 KiB of
 * receive buffer each. Bigger commits are sent as several batches. */
#define BATCH_MAX       32768
#define MSG_ROOM        8192            /* bytes reserved per message; far under 64 KiB */
#define RX_SIZE         65536
#define ROUNDS_MAX      16
#define WARN_MAX        20              /* refused changes reported one by one per commit */
#define REPLY_WAIT_MS   5000

struct change {
	struct cidr c;                  /* c.addr is the first address */
	struct ipaddr last;             /* last address (a delete found in the set
	                                 * may be a range that is no prefix) */
	uint64_t timeout_ms;            /* 0 = permanent */
	bool del;
	uint8_t kind;                   /* enum fw_nft_set */
};

/* The kernel's answer to one message of a batch. */
struct reply {
	bool got;
	int error;                      /* 0 or a positive errno */
	char *ext;                      /* extended ack message, or NULL */
};

struct fw_nft {
	struct mnl_socket *nl;
	uint32_t portid;
	uint32_t seq;                   /* next sequence number */
	uint32_t set_id;                /* ids for sets created in a batch */
	char *table;                    /* set by fw_nft_setup() */

	struct change *q;
	size_t nq, qalloc;

	char *buf;                      /* the batch being built */
	size_t len, alloc;
	char *rx;                       /* RX_SIZE bytes */
	int sndbuf, rcvbuf;             /* what we asked for so far */
	struct fw_nft_monitor *mon;     /* drained after each batch, see fw_nft_monitor_own() */
};

static void mon_drain(struct fw_nft_monitor *m);
static void mon_forget(struct fw_nft_monitor *m, struct fw_nft *f);

/* ---- batch building ---------------------------------------------------- */

static char *room(struct fw_nft *f)
{
	xgrow((void **)&f->buf, &f->alloc, f->len + MSG_ROOM, 1);
	return f->buf + f->len;
}

static void put_done(struct fw_nft *f, const struct nlmsghdr *nlh)
{
	if (nlh->nlmsg_len > MSG_ROOM)
		log_panic("fw_nft: netlink message of %u bytes overran its room", nlh->nlmsg_len);
	f->len += NLMSG_ALIGN(nlh->nlmsg_len);
}

/* Start a batch; returns the sequence number its first message gets. */
static uint32_t batch_begin(struct fw_nft *f)
{
	f->len = 0;
	put_done(f, nftnl_batch_begin(room(f), f->seq++));
	return f->seq;
}

static void batch_end(struct fw_nft *f)
{
	put_done(f, nftnl_batch_end(room(f), f->seq++));
}

static struct nlmsghdr *msg_hdr(struct fw_nft *f, uint16_t type, uint16_t flags)
{
	return nftnl_nlmsg_build_hdr(room(f), type, NFPROTO_INET, flags | NLM_F_ACK, f->seq++);
}

/* ---- talking ----------------------------------------------------------- */

static int grow_sockbuf(struct fw_nft *f, int opt, int optforce, int *cur, size_t want)
{
	int fd = mnl_socket_get_fd(f->nl);
	int v;

	if (want > INT_MAX / 2)
		want = INT_MAX / 2;
	v = (int)want;
	if (v <= *cur)
		return 0;
	/* FORCE needs CAP_NET_ADMIN, which we need for nftables anyway;
	 * the plain option is capped by net.core.[rw]mem_max. */
	if (setsockopt(fd, SOL_SOCKET, optforce, &v, sizeof v) < 0 &&
	    setsockopt(fd, SOL_SOCKET, opt, &v, sizeof v) < 0)
		return -1;
	*cur = v;
	return 0;
}

/* Throw away replies to earlier, abandoned requests. */
static void drain(struct fw_nft *f)
{
	while (recv(mnl_socket_get_fd(f->nl), f->rx, RX_SIZE, MSG_DONTWAIT) > 0)
		;
}

static char *extack_msg(const struct nlmsghdr *nlh)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a;
	size_t off = sizeof *e;

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return NULL;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - NLMSG_HDRLEN;
	if (NLMSG_HDRLEN + off >= nlh->nlmsg_len)
		return NULL;
	mnl_attr_for_each(a, nlh, off) {
		if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MSG &&
		    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
			return xstrdup(mnl_attr_get_str(a));
	}
	return NULL;
}

static void replies_release(struct reply *r, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(r[i].ext);
		r[i].ext = NULL;
	}
}

/* Send the batch in f->buf, whose nmsg messages carry the sequence numbers
 * first..first+nmsg-1, and collect one reply per message in r[]. Returns -1
 * (message in err) if the batch was not sent, refused as a whole, or its
 * replies were lost; r[] then holds nothing to release. */
static int batch_send(struct fw_nft *f, uint32_t first, size_t nmsg, struct reply *r,
		      char *err, size_t errlen)
{
	int fd = mnl_socket_get_fd(f->nl);
	uint32_t begin = first - 1, end = first + (uint32_t)nmsg;
	size_t got = 0;
	ssize_t n;
	int left;

	memset(r, 0, nmsg * sizeof *r);
	drain(f);
	if (grow_sockbuf(f, SO_SNDBUF, SO_SNDBUFFORCE, &f->sndbuf, f->len + 4096) < 0 ||
	    grow_sockbuf(f, SO_RCVBUF, SO_RCVBUFFORCE, &f->rcvbuf, nmsg * 1024 + 262144) < 0)
		log_warn("netlink: cannot raise socket buffers for a batch of %zu messages", nmsg);
	n = mnl_socket_sendto(f->nl, f->buf, f->len);
	if (n < 0)
		return errf(err, errlen, "netlink: cannot send batch of %zu bytes: %s", f->len,
			    strerror(errno));
	if ((size_t)n != f->len)
		return errf(err, errlen, "netlink: short send (%zd of %zu bytes)", n, f->len);

	/* The kernel handles a batch inside sendmsg(), so every reply is
	 * already queued; the poll timeout only guards against a bug. */
	while (got < nmsg) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		const struct nlmsghdr *nlh;
		int pr = poll(&p, 1, REPLY_WAIT_MS);

		if (pr < 0 && errno == EINTR)
			continue;
		if (pr <= 0) {
			replies_release(r, nmsg);
			return errf(err, errlen, "netlink: %zu of %zu replies missing", nmsg - got, nmsg);
		}
		n = recv(fd, f->rx, RX_SIZE, 0);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0) {
			int e = errno;

			replies_release(r, nmsg);
			if (e == ENOBUFS)
				return errf(err, errlen, "netlink: replies lost (receive buffer overrun)");
			return errf(err, errlen, "netlink: receive: %s", strerror(e));
		}
		left = (int)n;
		for (nlh = (const struct nlmsghdr *)f->rx; mnl_nlmsg_ok(nlh, left);
		     nlh = mnl_nlmsg_next(nlh, &left)) {
			const struct nlmsgerr *e;
			uint32_t seq = nlh->nlmsg_seq;

			if (nlh->nlmsg_type != NLMSG_ERROR ||
			    nlh->nlmsg_len < NLMSG_HDRLEN + sizeof *e)
				continue;
			e = mnl_nlmsg_get_payload(nlh);
			if (seq - first < nmsg) {      /* unsigned: survives wrap-around */
				struct reply *x = &r[seq - first];

				if (x->got)
					continue;
				x->got = true;
				x->error = -e->error;
				if (e->error)
					x->ext = extack_msg(nlh);
				got++;
			} else if ((seq == begin || seq == end) && e->error) {
				char *ext = extack_msg(nlh);

				errf(err, errlen, "netlink: batch refused: %s%s%s%s", strerror(-e->error),
				     ext ? " (" : "", ext ? ext : "", ext ? ")" : "");
				free(ext);
				replies_release(r, nmsg);
				return -1;
			}
			/* anything else answers an older request: ignore */
		}
	}
	return 0;
}

/* ---- open / close ------------------------------------------------------ */

struct fw_nft *fw_nft_open(char *err, size_t errlen)
{
	struct fw_nft *f;
	struct mnl_socket *nl;
	int one = 1;

	nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!nl) {
		errf(err, errlen, "cannot open netfilter netlink socket: %s", strerror(errno));
		return NULL;
	}
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		errf(err, errlen, "cannot bind netfilter netlink socket: %s", strerror(errno));
		mnl_socket_close(nl);
		return NULL;
	}
	/* Without these, replies would be larger (a copy of each message)
	 * and carry no explanation; neither is fatal. */
	if (mnl_socket_setsockopt(nl, NETLINK_CAP_ACK, &one, sizeof one) < 0)
		log_debug("netlink: NETLINK_CAP_ACK: %s", strerror(errno));
	if (mnl_socket_setsockopt(nl, NETLINK_EXT_ACK, &one, sizeof one) < 0)
		log_debug("netlink: NETLINK_EXT_ACK: %s", strerror(errno));

	f = xcalloc(1, sizeof *f);
	f->nl = nl;
	f->portid = mnl_socket_get_portid(nl);
	f->seq = (uint32_t)time(NULL);
	f->rx = xmalloc(RX_SIZE);
	return f;
}

void fw_nft_close(struct fw_nft *f)
{
	if (!f)
		return;
	if (f->mon) {
		/* what f sent is known as ours only while f is */
		mon_drain(f->mon);
		mon_forget(f->mon, f);
	}
	mnl_socket_close(f->nl);
	free(f->table);
	free(f->q);
	free(f->buf);
	free(f->rx);
	free(f);
}

/* ---- setup ------------------------------------------------------------- */

struct set_query {
	bool found;
	uint32_t flags, key_len;
};

static int set_query_cb(const struct nlmsghdr *nlh, void *data)
{
	struct set_query *q = data;
	struct nftnl_set *s = nftnl_set_alloc();

	if (!s)
		fatalx("out of memory");
	if (nftnl_set_nlmsg_parse(nlh, s) == 0) {
		q->found = true;
		q->flags = nftnl_set_get_u32(s, NFTNL_SET_FLAGS);
		q->key_len = nftnl_set_get_u32(s, NFTNL_SET_KEY_LEN);
	}
	nftnl_set_free(s);
	return MNL_CB_OK;
}

/* 1 if set `name` exists with the shape we need, 0 if it (or the table)
 * does not exist, -1 if it cannot be asked or has the wrong shape. */
static int set_exists(struct fw_nft *f, const char *table, const char *name, uint32_t key_len,
		      char *err, size_t errlen)
{
	const uint32_t need = NFT_SET_TIMEOUT | NFT_SET_INTERVAL;
	struct set_query q = { 0 };
	struct nftnl_set *s;
	struct nlmsghdr *nlh;
	uint32_t seq;
	ssize_t n;
	int ret;

	drain(f);
	f->len = 0;
	seq = f->seq;
	nlh = msg_hdr(f, NFT_MSG_GETSET, 0);
	s = nftnl_set_alloc();
	if (!s)
		fatalx("out of memory");
	nftnl_set_set_str(s, NFTNL_SET_TABLE, table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, name);
	nftnl_set_nlmsg_build_payload(nlh, s);
	nftnl_set_free(s);
	put_done(f, nlh);
	if (mnl_socket_sendto(f->nl, f->buf, f->len) < 0)
		return errf(err, errlen, "netlink: cannot ask for set '%s': %s", name, strerror(errno));
	do {
		n = mnl_socket_recvfrom(f->nl, f->rx, RX_SIZE);
		if (n < 0)
			return errf(err, errlen, "netlink: receive: %s", strerror(errno));
		ret = mnl_cb_run(f->rx, (size_t)n, seq, f->portid, set_query_cb, &q);
	} while (ret > 0);
	if (ret < 0) {
		if (errno == ENOENT)
			return 0;
		return errf(err, errlen, "cannot look up set '%s' in table inet %s: %s", name, table,
			    strerror(errno));
	}
	if (!q.found)
		return 0;
	if ((q.flags & need) != need || q.key_len != key_len)
		return errf(err, errlen, "set '%s' in table inet %s lacks the timeout/interval flags "
			    "or has the wrong key type (remove the table and set up again)", name, table);
	return 1;
}

static struct nftnl_expr *expr_new(const char *name)
{
	struct nftnl_expr *e = nftnl_expr_alloc(name);

	if (!e)
		fatalx("out of memory (nftables expression '%s')", name);
	return e;
}

static void rule_meta_cmp(struct nftnl_rule *r, uint32_t key, const void *val, uint32_t len)
{
	struct nftnl_expr *e = expr_new("meta");

	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
	nftnl_rule_add_expr(r, e);
	e = expr_new("cmp");
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, NFT_CMP_EQ);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, val, len);
	nftnl_rule_add_expr(r, e);
}

static void rule_meta_eq(struct nftnl_rule *r, uint32_t key, uint8_t val)
{
	rule_meta_cmp(r, key, &val, sizeof val);
}

static void rule_verdict(struct nftnl_rule *r, int verdict)
{
	struct nftnl_expr *e = expr_new("immediate");

	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, (uint32_t)verdict);
	nftnl_rule_add_expr(r, e);
}

static struct nftnl_rule *rule_new(const struct fw_nft_config *cfg)
{
	struct nftnl_rule *r = nftnl_rule_alloc();

	if (!r)
		fatalx("out of memory");
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, cfg->table);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, CHAIN_NAME);
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
	return r;
}

static void rule_send(struct fw_nft *f, struct nftnl_rule *r)
{
	struct nlmsghdr *nlh = msg_hdr(f, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND);

	nftnl_rule_nlmsg_build_payload(nlh, r);
	put_done(f, nlh);
	nftnl_rule_free(r);
}

static void rule_payload_lookup(struct nftnl_rule *r, uint32_t base, uint32_t off, uint32_t len,
				const char *set, uint32_t set_id)
{
	struct nftnl_expr *e = expr_new("payload");

	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, off);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
	nftnl_rule_add_expr(r, e);
	e = expr_new("lookup");
	nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
	nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, set);
	if (set_id)
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, set_id);
	nftnl_rule_add_expr(r, e);
}

/* Before any drop: "meta iiftype loopback accept" (the host talking to
 * itself, whatever address it uses), and "ip saddr @allow4 accept" /
 * "ip6 saddr @allow6 accept" (the allow list, kept in step by the
 * daemon). So no block, however wide, can cut those off. */
static void put_accept_rules(struct fw_nft *f, const struct fw_nft_config *cfg)
{
	uint16_t lo = ARPHRD_LOOPBACK_;
	struct nftnl_rule *r = rule_new(cfg);

	rule_meta_cmp(r, NFT_META_IIFTYPE, &lo, sizeof lo);
	rule_verdict(r, NF_ACCEPT);
	rule_send(f, r);
	for (int v6 = 0; v6 <= 1; v6++) {
		r = rule_new(cfg);
		rule_meta_eq(r, NFT_META_NFPROTO, v6 ? NFPROTO_IPV6 : NFPROTO_IPV4);
		if (v6)
			rule_payload_lookup(r, NFT_PAYLOAD_NETWORK_HEADER, 8, 16, ALLOW6_NAME, 0);
		else
			rule_payload_lookup(r, NFT_PAYLOAD_NETWORK_HEADER, 12, 4, ALLOW4_NAME, 0);
		rule_verdict(r, NF_ACCEPT);
		rule_send(f, r);
	}
}

/* An anonymous constant set of TCP ports, created in this batch for one
 * rule; the kernel names it (__setN) and deletes it with the rule. */
static uint32_t put_port_set(struct fw_nft *f, const char *table, const uint16_t *ports, size_t n)
{
	uint32_t id = ++f->set_id;
	struct nftnl_set *s = nftnl_set_alloc();
	struct nlmsghdr *nlh;

	if (!s)
		fatalx("out of memory");
	nftnl_set_set_str(s, NFTNL_SET_TABLE, table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, "__set%d");
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, NFT_SET_ANONYMOUS | NFT_SET_CONSTANT);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, TYPE_INET_SERVICE);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, sizeof(uint16_t));
	nftnl_set_set_u32(s, NFTNL_SET_ID, id);
	nlh = msg_hdr(f, NFT_MSG_NEWSET, NLM_F_CREATE);
	nftnl_set_nlmsg_build_payload(nlh, s);
	put_done(f, nlh);

	for (size_t i = 0; i < n; i++) {
		struct nftnl_set_elem *e = nftnl_set_elem_alloc();
		uint16_t be = htons(ports[i]);

		if (!e)
			fatalx("out of memory");
		nftnl_set_elem_set(e, NFTNL_SET_ELEM_KEY, &be, sizeof be);
		nftnl_set_elem_add(s, e);
	}
	nlh = msg_hdr(f, NFT_MSG_NEWSETELEM, NLM_F_CREATE);
	nftnl_set_elems_nlmsg_build_payload(nlh, s);
	put_done(f, nlh);
	nftnl_set_free(s);
	return id;
}

static void put_rule(struct fw_nft *f, const struct fw_nft_config *cfg, const uint16_t *ports,
		     size_t nports, bool v6)
{
	struct nftnl_rule *r;
	uint32_t port_set = 0;

	if (!cfg->all_ports)
		port_set = put_port_set(f, cfg->table, ports, nports);
	r = rule_new(cfg);
	/* meta nfproto ipv4|ipv6 */
	rule_meta_eq(r, NFT_META_NFPROTO, v6 ? NFPROTO_IPV6 : NFPROTO_IPV4);
	/* meta l4proto tcp th dport { ports } */
	if (!cfg->all_ports) {
		rule_meta_eq(r, NFT_META_L4PROTO, IPPROTO_TCP);
		rule_payload_lookup(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2, "__set%d", port_set);
	}
	/* ip saddr @block4 | ip6 saddr @block6 */
	if (v6)
		rule_payload_lookup(r, NFT_PAYLOAD_NETWORK_HEADER, 8, 16, SET6_NAME, 0);
	else
		rule_payload_lookup(r, NFT_PAYLOAD_NETWORK_HEADER, 12, 4, SET4_NAME, 0);
	nftnl_rule_add_expr(r, expr_new("counter"));
	rule_verdict(r, NF_DROP);
	rule_send(f, r);
}

static void put_block_set(struct fw_nft *f, const char *table, const char *name, bool v6,
			  bool counters)
{
	struct nftnl_set *s = nftnl_set_alloc();
	struct nlmsghdr *nlh;

	if (!s)
		fatalx("out of memory");
	nftnl_set_set_str(s, NFTNL_SET_TABLE, table);
	nftnl_set_set_str(s, NFTNL_SET_NAME, name);
	nftnl_set_set_u32(s, NFTNL_SET_FLAGS, NFT_SET_TIMEOUT | NFT_SET_INTERVAL);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_TYPE, v6 ? TYPE_IP6ADDR : TYPE_IPADDR);
	nftnl_set_set_u32(s, NFTNL_SET_KEY_LEN, v6 ? 16 : 4);
	nftnl_set_set_u32(s, NFTNL_SET_ID, ++f->set_id);
	/* Per-element packet/byte counters: every element gets a copy of
	 * the set's expressions when it is added. */
	if (counters)
		nftnl_set_add_expr(s, expr_new("counter"));
	nlh = msg_hdr(f, NFT_MSG_NEWSET, NLM_F_CREATE);
	nftnl_set_nlmsg_build_payload(nlh, s);
	put_done(f, nlh);
	nftnl_set_free(s);
}

static size_t sorted_ports(const struct fw_nft_config *cfg, uint16_t *out)
{
	size_t n = 0;

	for (size_t i = 0; i < cfg->nports && i < sizeof cfg->ports / sizeof cfg->ports[0]; i++) {
		size_t j = n;

		if (cfg->ports[i] == 0)
			continue;
		while (j > 0 && out[j - 1] > cfg->ports[i])
			j--;
		if (j > 0 && out[j - 1] == cfg->ports[i])
			continue;
		memmove(out + j + 1, out + j, (n - j) * sizeof *out);
		out[j] = cfg->ports[i];
		n++;
	}
	return n;
}

#define SETUP_MSGS_MAX 20

int fw_nft_setup(struct fw_nft *f, const struct fw_nft_config *cfg, char *err, size_t errlen)
{
	uint16_t ports[sizeof cfg->ports / sizeof cfg->ports[0]];
	const char *what[SETUP_MSGS_MAX];
	struct reply r[SETUP_MSGS_MAX];
	size_t nports = 0, nmsg;
	int have4, have6, havea4, havea6;

	if (!cfg->table || !*cfg->table || strlen(cfg->table) >= NFT_NAME_MAXLEN)
		return errf(err, errlen, "invalid nftables table name '%s'",
			    cfg->table ? cfg->table : "");
	if (!cfg->all_ports) {
		nports = sorted_ports(cfg, ports);
		if (nports == 0)
			return errf(err, errlen, "no ports to protect (give ports, or 'all')");
	}
	have4 = set_exists(f, cfg->table, SET4_NAME, 4, err, errlen);
	if (have4 < 0)
		return -1;
	have6 = set_exists(f, cfg->table, SET6_NAME, 16, err, errlen);
	if (have6 < 0)
		return -1;
	/* a table made by an older version has no allow sets yet */
	if ((havea4 = set_exists(f, cfg->table, ALLOW4_NAME, 4, err, errlen)) < 0 ||
	    (havea6 = set_exists(f, cfg->table, ALLOW6_NAME, 16, err, errlen)) < 0)
		return -1;

	/* First try with per-element counters; a kernel that refuses set
	 * expressions gets plain sets. Existing sets are never re-sent:
	 * NEWSET for an existing set with other properties fails. */
	for (int counters = 1; counters >= 0; counters--) {
		struct nftnl_table *t = nftnl_table_alloc();
		struct nftnl_chain *c = nftnl_chain_alloc();
		struct nftnl_rule *flush = nftnl_rule_alloc();
		struct nlmsghdr *nlh;
		uint32_t first = batch_begin(f), seq;
		size_t bad = SIZE_MAX;

		if (!t || !c || !flush)
			fatalx("out of memory");
		nftnl_table_set_str(t, NFTNL_TABLE_NAME, cfg->table);
		nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_INET);
		nlh = msg_hdr(f, NFT_MSG_NEWTABLE, NLM_F_CREATE);
		nftnl_table_nlmsg_build_payload(nlh, t);
		put_done(f, nlh);
		nftnl_table_free(t);
		what[0] = "table";
		nmsg = 1;

		if (!have4) {
			put_block_set(f, cfg->table, SET4_NAME, false, counters);
			what[nmsg++] = "set " SET4_NAME;
		}
		if (!have6) {
			put_block_set(f, cfg->table, SET6_NAME, true, counters);
			what[nmsg++] = "set " SET6_NAME;
		}
		if (!havea4) {
			put_block_set(f, cfg->table, ALLOW4_NAME, false, counters);
			what[nmsg++] = "set " ALLOW4_NAME;
		}
		if (!havea6) {
			put_block_set(f, cfg->table, ALLOW6_NAME, true, counters);
			what[nmsg++] = "set " ALLOW6_NAME;
		}

		nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, cfg->table);
		nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, CHAIN_NAME);
		nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, "filter");
		nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, NF_INET_LOCAL_IN);
		nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, CHAIN_PRIO);
		nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
		nlh = msg_hdr(f, NFT_MSG_NEWCHAIN, NLM_F_CREATE);
		nftnl_chain_nlmsg_build_payload(nlh, c);
		put_done(f, nlh);
		nftnl_chain_free(c);
		what[nmsg++] = "chain " CHAIN_NAME;

		/* Flush the chain and add the rules again, in the same batch:
		 * never a duplicate rule, never a moment without one. */
		nftnl_rule_set_str(flush, NFTNL_RULE_TABLE, cfg->table);
		nftnl_rule_set_str(flush, NFTNL_RULE_CHAIN, CHAIN_NAME);
		nlh = msg_hdr(f, NFT_MSG_DELRULE, 0);
		nftnl_rule_nlmsg_build_payload(nlh, flush);
		put_done(f, nlh);
		nftnl_rule_free(flush);
		what[nmsg++] = "chain flush";

		put_accept_rules(f, cfg);
		what[nmsg++] = "loopback rule";
		what[nmsg++] = "ipv4 allow rule";
		what[nmsg++] = "ipv6 allow rule";
		for (int v6 = 0; v6 <= 1; v6++) {
			if (!cfg->all_ports) {
				what[nmsg++] = "port set";
				what[nmsg++] = "port set elements";
			}
			put_rule(f, cfg, ports, nports, v6);
			what[nmsg++] = v6 ? "ipv6 rule" : "ipv4 rule";
		}
		batch_end(f);
		seq = f->seq;
		if (seq - first - 1 != nmsg)
			log_panic("fw_nft: setup batch has %u messages, expected %zu", seq - first - 1, nmsg);

		if (batch_send(f, first, nmsg, r, err, errlen) < 0)
			return -1;
		for (size_t i = 0; i < nmsg && bad == SIZE_MAX; i++)
			if (r[i].error)
				bad = i;
		if (bad == SIZE_MAX) {
			replies_release(r, nmsg);
			break;
		}
		if (counters && strncmp(what[bad], "set ", 4) == 0 &&
		    (r[bad].error == EOPNOTSUPP || r[bad].error == EINVAL)) {
			log_info("nftables: sets without per-element counters (%s)",
				 strerror(r[bad].error));
			replies_release(r, nmsg);
			continue;
		}
		errf(err, errlen, "cannot set up table inet %s: %s: %s%s%s%s", cfg->table, what[bad],
		     strerror(r[bad].error), r[bad].ext ? " (" : "", r[bad].ext ? r[bad].ext : "",
		     r[bad].ext ? ")" : "");
		replies_release(r, nmsg);
		return -1;
	}

	if (!f->table || strcmp(f->table, cfg->table) != 0) {
		free(f->table);
		f->table = xstrdup(cfg->table);
	}
	return 0;
}

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

/* ---- what is in a set (asked when an added range overlaps, and by
 * fw_nft_list) ---------------------------------------------------------- */

struct range {
	struct ipaddr first, last;
	size_t start;                   /* index of its start element in the keys */
};

struct ranges {
	bool loaded;
	struct range *v;
	size_t n, alloc;
};

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

static void addr_decrement(struct ipaddr *a)
{
	for (int i = addr_bits(a) / 8 - 1; i >= 0; i--)
		if (a->b[i]-- != 0)
			break;
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
static int load_ranges(struct fw_nft *f, uint8_t kind, uint8_t family, struct ranges *out, char *err,
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

/* The widest prefix that starts at first and ends at or before last. */
static void widest_prefix(const struct ipaddr *first, const struct ipaddr *last, struct cidr *out)
{
	for (int len = 0; len < addr_bits(first); len++) {
		struct ipaddr l;

		cidr_from_addr(out, first, len);
		cidr_last(out, &l);
		if (addr_equal(&out->addr, first) && addr_cmp(&l, last) <= 0)
			return;
	}
	cidr_from_addr(out, first, addr_bits(first));
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
				widest_prefix(&next, &rs.v[i].last, &e.target);
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
	if (!rs->loaded && load_ranges(f, c.kind, c.c.addr.family, rs, err, errlen) < 0)
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
		if (batch_send(f, first, nmsg, r, err, errlen) < 0)
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
				replies_release(r, nmsg);
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
		replies_release(r, nmsg);
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
			mon_drain(f->mon);
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

/* ---- teardown ---------------------------------------------------------- */

int fw_nft_destroy(struct fw_nft *f, const char *table, char *err, size_t errlen)
{
	struct nftnl_table *t = nftnl_table_alloc();
	struct nlmsghdr *nlh;
	struct reply r;
	uint32_t first;

	if (!t)
		fatalx("out of memory");
	first = batch_begin(f);
	nftnl_table_set_str(t, NFTNL_TABLE_NAME, table);
	nftnl_table_set_u32(t, NFTNL_TABLE_FAMILY, NFPROTO_INET);
	nlh = msg_hdr(f, NFT_MSG_DELTABLE, 0);
	nftnl_table_nlmsg_build_payload(nlh, t);
	put_done(f, nlh);
	nftnl_table_free(t);
	batch_end(f);
	if (batch_send(f, first, 1, &r, err, errlen) < 0)
		return -1;
	if (r.error && r.error != ENOENT) {
		errf(err, errlen, "cannot delete table inet %s: %s%s%s%s", table, strerror(r.error),
		     r.ext ? " (" : "", r.ext ? r.ext : "", r.ext ? ")" : "");
		free(r.ext);
		return -1;
	}
	free(r.ext);
	if (f->table && strcmp(f->table, table) == 0) {
		free(f->table);
		f->table = NULL;
	}
	return 0;
}

/* ---- monitor ----------------------------------------------------------- */

/* Message types of kernels >= 6.3 ("destroy": delete, no error if absent),
 * for headers older than that. */
#define MSG_DESTROYTABLE        26
#define MSG_DESTROYCHAIN        27
#define MSG_DESTROYRULE         28
#define MSG_DESTROYSET          29
#define MSG_DESTROYSETELEM      30

#define MON_RCVBUF      (16 << 20)      /* the kernel doubles it */
#define MON_RX_SIZE     65536
#define MON_READS       256             /* datagrams per wake-up; the rest next turn */
#define MON_OWN_MAX     4
#define MON_WHAT_MAX    256

/* What the transaction being read did to our objects so far. */
struct txn {
	bool table, chain, rules;       /* table / chain deleted, rules added or deleted */
	bool set[4];                    /* block4 / block6 / allow4 / allow6 deleted */
	size_t elems[4];                /* elements deleted (a range counts once) */
	struct ipaddr first[4], end[4]; /* the first deleted element, and an end element */
	bool has_first[4], has_end[4];
};

struct fw_nft_monitor {
	struct loop *loop;
	int fd;
	char *table;
	fw_nft_lost_fn *fn;
	void *arg;
	struct fw_nft *own[MON_OWN_MAX]; /* our own handles (their netlink ports) */
	size_t nown;
	struct txn t;
	char *rx;
};

/* the sets watched, indexed as in struct txn: odd ones are IPv6 */
static const char *const mon_sets[4] = { SET4_NAME, SET6_NAME, ALLOW4_NAME, ALLOW6_NAME };

struct attrs {
	const struct nlattr *a[8];
};

static int attr_cb(const struct nlattr *a, void *data)
{
	struct attrs *x = data;
	uint16_t type = mnl_attr_get_type(a);

	if (type < sizeof x->a / sizeof x->a[0])
		x->a[type] = a;
	return MNL_CB_OK;
}

static const char *attr_str(const struct attrs *x, int type)
{
	const struct nlattr *a = x->a[type];

	if (!a || mnl_attr_validate(a, MNL_TYPE_NUL_STRING) < 0)
		return NULL;
	return mnl_attr_get_str(a);
}

static int set_index(const char *name)
{
	for (int i = 0; i < 4; i++)
		if (name && strcmp(name, mon_sets[i]) == 0)
			return i;
	return -1;
}

/* One element of a DELSETELEM notification of block4/block6. */
static void txn_elem(struct txn *t, int si, const struct nlattr *elem)
{
	struct attrs x = { 0 }, k = { 0 };
	struct ipaddr a = { .family = si % 2 ? AF_INET6 : AF_INET };
	uint16_t len = si % 2 ? 16 : 4;
	bool end;

	if (mnl_attr_parse_nested(elem, attr_cb, &x) < 0)
		return;
	end = x.a[NFTA_SET_ELEM_FLAGS] &&
	      mnl_attr_validate(x.a[NFTA_SET_ELEM_FLAGS], MNL_TYPE_U32) == 0 &&
	      (ntohl(mnl_attr_get_u32(x.a[NFTA_SET_ELEM_FLAGS])) & NFT_SET_ELEM_INTERVAL_END);
	if (x.a[NFTA_SET_ELEM_KEY] && mnl_attr_parse_nested(x.a[NFTA_SET_ELEM_KEY], attr_cb, &k) >= 0 &&
	    k.a[NFTA_DATA_VALUE] && mnl_attr_get_payload_len(k.a[NFTA_DATA_VALUE]) == len)
		memcpy(a.b, mnl_attr_get_payload(k.a[NFTA_DATA_VALUE]), len);
	if (end) {
		if (!t->has_end[si]) {
			t->end[si] = a;
			t->has_end[si] = true;
		}
		return;
	}
	if (t->elems[si]++ == 0) {
		t->first[si] = a;
		t->has_first[si] = true;
	}
}

/* Note what one notification (not NEWGEN) did to our objects. */
static void txn_note(struct fw_nft_monitor *m, const struct nlmsghdr *nlh, uint8_t type)
{
	const struct nfgenmsg *g = mnl_nlmsg_get_payload(nlh);
	struct txn *t = &m->t;
	struct attrs x = { 0 };
	const struct nlattr *e;
	int si;

	if (g->nfgen_family != NFPROTO_INET ||
	    mnl_attr_parse(nlh, sizeof *g, attr_cb, &x) < 0)
		return;
	/* the table attribute is number 1 in every one of these messages */
	if (!attr_str(&x, NFTA_TABLE_NAME) || strcmp(attr_str(&x, NFTA_TABLE_NAME), m->table) != 0)
		return;
	switch (type) {
	case NFT_MSG_DELTABLE:
	case MSG_DESTROYTABLE:
		t->table = true;
		break;
	case NFT_MSG_DELCHAIN:
	case MSG_DESTROYCHAIN:
		if (attr_str(&x, NFTA_CHAIN_NAME) && strcmp(attr_str(&x, NFTA_CHAIN_NAME), CHAIN_NAME) == 0)
			t->chain = true;
		break;
	case NFT_MSG_NEWRULE:
	case NFT_MSG_DELRULE:
	case MSG_DESTROYRULE:
		if (attr_str(&x, NFTA_RULE_CHAIN) && strcmp(attr_str(&x, NFTA_RULE_CHAIN), CHAIN_NAME) == 0)
			t->rules = true;
		break;
	case NFT_MSG_DELSET:
	case MSG_DESTROYSET:
		if ((si = set_index(attr_str(&x, NFTA_SET_NAME))) >= 0)
			t->set[si] = true;
		break;
	case NFT_MSG_DELSETELEM:
	case MSG_DESTROYSETELEM:
		if ((si = set_index(attr_str(&x, NFTA_SET_ELEM_LIST_SET))) < 0 ||
		    !x.a[NFTA_SET_ELEM_LIST_ELEMENTS])
			break;
		mnl_attr_for_each_nested(e, x.a[NFTA_SET_ELEM_LIST_ELEMENTS])
			txn_elem(t, si, e);
		break;
	}
}

/* "192.0.2.7", "198.51.100.0/24", or "10.0.0.1-10.0.0.6" */
static void elem_format(const struct txn *t, int si, char *buf, size_t len)
{
	char a[ADDR_STRLEN], b[ADDR_STRLEN];
	struct ipaddr last;
	struct cidr c;

	if (!t->has_end[si] || addr_cmp(&t->end[si], &t->first[si]) <= 0) {
		addr_format(&t->first[si], a);
		snprintf(buf, len, "%s", a);
		return;
	}
	last = t->end[si];
	addr_decrement(&last);
	widest_prefix(&t->first[si], &last, &c);
	if (c.len > 0) {
		struct ipaddr l;

		cidr_last(&c, &l);
		if (addr_equal(&l, &last)) {
			char cb[CIDR_STRLEN];

			cidr_format(&c, cb);
			snprintf(buf, len, "%s", cb);
			return;
		}
	}
	addr_format(&t->first[si], a);
	addr_format(&last, b);
	snprintf(buf, len, "%s-%s", a, b);
}

static void what_add(char *what, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void what_add(char *what, size_t len, const char *fmt, ...)
{
	size_t used = strlen(what);
	va_list ap;

	if (used && used + 2 < len) {
		memcpy(what + used, ", ", 3);
		used += 2;
	}
	va_start(ap, fmt);
	vsnprintf(what + used, len - used, fmt, ap);
	va_end(ap);
}

/* Say in words what the transaction did to our objects; empty if nothing. */
static void txn_describe(const struct fw_nft_monitor *m, char *what, size_t len)
{
	const struct txn *t = &m->t;
	size_t elems = t->elems[0] + t->elems[1] + t->elems[2] + t->elems[3];

	what[0] = '\0';
	if (t->table) {
		what_add(what, len, "table inet %s deleted", m->table);
		return;
	}
	for (int i = 0; i < 4; i++)
		if (t->set[i])
			what_add(what, len, "set %s deleted", mon_sets[i]);
	if (t->chain)
		what_add(what, len, "chain %s deleted", CHAIN_NAME);
	else if (t->rules)
		what_add(what, len, "rules of chain %s changed", CHAIN_NAME);
	if (!what[0] && elems == 1) {
		/* one block, maybe on purpose: the caller decides */
		int si = 0;
		char e[2 * ADDR_STRLEN + 2];

		while (!t->elems[si])
			si++;
		elem_format(t, si, e, sizeof e);
		what_add(what, len, "element %s deleted from set %s", e, mon_sets[si]);
		return;
	}
	for (int i = 0; i < 4; i++)
		if (t->elems[i] && !t->set[i])
			what_add(what, len, "set %s flushed (%zu element%s deleted)", mon_sets[i],
				 t->elems[i], t->elems[i] == 1 ? "" : "s");
}

static bool own_portid(const struct fw_nft_monitor *m, uint32_t portid)
{
	for (size_t i = 0; i < m->nown; i++)
		if (m->own[i]->portid == portid)
			return true;
	return false;
}

/* A NEWGEN ends a transaction: report it unless it was ours. */
static void txn_end(struct fw_nft_monitor *m, const struct nlmsghdr *nlh)
{
	char what[MON_WHAT_MAX];
	struct attrs x = { 0 };
	bool has_pid = false, own;
	uint32_t pid = 0;

	if (mnl_attr_parse(nlh, sizeof(struct nfgenmsg), attr_cb, &x) >= 0 &&
	    x.a[NFTA_GEN_PROC_PID] && mnl_attr_validate(x.a[NFTA_GEN_PROC_PID], MNL_TYPE_U32) == 0) {
		pid = ntohl(mnl_attr_get_u32(x.a[NFTA_GEN_PROC_PID]));
		has_pid = true;
	}
	/* The kernel names the process by its pid in the initial PID
	 * namespace, which is not getpid() inside a container; there the
	 * netlink port of a tied handle tells. */
	own = own_portid(m, nlh->nlmsg_pid) || (has_pid && pid == (uint32_t)getpid());
	txn_describe(m, what, sizeof what);
	memset(&m->t, 0, sizeof m->t);
	if (own || !what[0])
		return;
	log_debug("nftables monitor: %s (by pid %u, port %u)", what, pid, nlh->nlmsg_pid);
	m->fn(m->arg, what);
}

/* Read and handle up to max datagrams (all there are if max is 0). */
static void mon_read(struct fw_nft_monitor *m, unsigned max)
{
	int fd = m->fd;
	bool lost = false;

	for (unsigned i = 0; max == 0 || i < max; i++) {
		struct sockaddr_nl from;
		socklen_t fromlen = sizeof from;
		const struct nlmsghdr *nlh;
		ssize_t n = recvfrom(fd, m->rx, MON_RX_SIZE, MSG_DONTWAIT, (struct sockaddr *)&from,
				     &fromlen);
		int left;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS) {
				/* the kernel dropped some: what we hold is partial */
				memset(&m->t, 0, sizeof m->t);
				lost = true;
				continue;
			}
			if (errno != EAGAIN)
				log_warn("nftables monitor: receive");
			break;
		}
		if (from.nl_pid != 0)
			continue;       /* only the kernel speaks for nf_tables */
		left = (int)n;
		for (nlh = (const struct nlmsghdr *)m->rx; mnl_nlmsg_ok(nlh, left);
		     nlh = mnl_nlmsg_next(nlh, &left)) {
			uint8_t type = (uint8_t)NFNL_MSG_TYPE(nlh->nlmsg_type);

			if (NFNL_SUBSYS_ID(nlh->nlmsg_type) != NFNL_SUBSYS_NFTABLES ||
			    nlh->nlmsg_len < NLMSG_HDRLEN + sizeof(struct nfgenmsg))
				continue;
			if (type == NFT_MSG_NEWGEN)
				txn_end(m, nlh);
			else
				txn_note(m, nlh, type);
		}
	}
	if (lost) {
		log_debug("nftables monitor: notifications lost (receive buffer overrun)");
		m->fn(m->arg, "notifications lost");
	}
}

static void mon_readable(struct loop *l, int fd, uint32_t events, void *arg)
{
	(void)l;
	(void)fd;
	(void)events;
	mon_read(arg, MON_READS);
}

static void mon_drain(struct fw_nft_monitor *m)
{
	mon_read(m, 0);
}

static void mon_forget(struct fw_nft_monitor *m, struct fw_nft *f)
{
	for (size_t i = 0; i < m->nown; i++)
		if (m->own[i] == f) {
			m->own[i] = m->own[--m->nown];
			break;
		}
	f->mon = NULL;
}

struct fw_nft_monitor *fw_nft_monitor_open(struct loop *l, const char *table, fw_nft_lost_fn *fn,
					   void *arg, char *err, size_t errlen)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	unsigned group = NFNLGRP_NFTABLES;
	int size = MON_RCVBUF;
	struct fw_nft_monitor *m;
	int fd;

	if (!table || !*table || strlen(table) >= NFT_NAME_MAXLEN) {
		errf(err, errlen, "invalid nftables table name '%s'", table ? table : "");
		return NULL;
	}
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_NETFILTER);
	if (fd < 0) {
		errf(err, errlen, "cannot open netfilter netlink socket: %s", strerror(errno));
		return NULL;
	}
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
	    setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group, sizeof group) < 0) {
		errf(err, errlen, "cannot listen to nftables notifications: %s", strerror(errno));
		close(fd);
		return NULL;
	}
	/* A flush of a big set is one notification per element: make room,
	 * and when that is not enough, ENOBUFS says so (resync). */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size) < 0 &&
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size) < 0)
		log_debug("nftables monitor: cannot raise the receive buffer: %s", strerror(errno));

	m = xcalloc(1, sizeof *m);
	m->loop = l;
	m->fd = fd;
	m->table = xstrdup(table);
	m->fn = fn;
	m->arg = arg;
	m->rx = xmalloc(MON_RX_SIZE);
	if (loop_add_fd(l, fd, EPOLLIN, mon_readable, m) < 0) {
		errf(err, errlen, "cannot watch the nftables notification socket: %s", strerror(errno));
		close(fd);
		free(m->table);
		free(m->rx);
		free(m);
		return NULL;
	}
	return m;
}

int fw_nft_monitor_own(struct fw_nft_monitor *m, struct fw_nft *f)
{
	if (f->mon == m)
		return 0;
	if (f->mon || m->nown >= MON_OWN_MAX)
		return -1;
	m->own[m->nown++] = f;
	f->mon = m;
	return 0;
}

void fw_nft_monitor_close(struct fw_nft_monitor *m)
{
	if (!m)
		return;
	while (m->nown)
		mon_forget(m, m->own[0]);
	loop_del_fd(m->loop, m->fd);
	close(m->fd);
	free(m->table);
	free(m->rx);
	free(m);
}
