// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fw_nft_monitor - says when another process removed or emptied what our
 * table holds (fw_nft_monitor_open; see fw_nft.h for what is reported).
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
 *
 * Owns: that socket and its place in the loop, the transaction being
 * noted, and the ties to up to MON_OWN_MAX handles (not the handles).
 *
 * Must never: send anything to nftables, report a change this process
 * made, or report what happened to other tables or families.
 */
#include "fw_nft_int.h"
#include "log.h"
#include "loop.h"
#include "xalloc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>

#include <libmnl/libmnl.h>

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

/* the sets watched, indexed as in struct txn: set_names flattened
 * (block4, block6, allow4, allow6), so odd ones are IPv6 */
#define MON_SET(i) set_names[(i) / 2][(i) % 2]

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
		if (name && strcmp(name, MON_SET(i)) == 0)
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
	fw_nft_widest_prefix(&t->first[si], &last, &c);
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
			what_add(what, len, "set %s deleted", MON_SET(i));
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
		what_add(what, len, "element %s deleted from set %s", e, MON_SET(si));
		return;
	}
	for (int i = 0; i < 4; i++)
		if (t->elems[i] && !t->set[i])
			what_add(what, len, "set %s flushed (%zu element%s deleted)", MON_SET(i),
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

void fw_nft_mon_drain(struct fw_nft_monitor *m)
{
	mon_read(m, 0);
}

void fw_nft_mon_forget(struct fw_nft_monitor *m, struct fw_nft *f)
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
		fw_nft_mon_forget(m, m->own[0]);
	loop_del_fd(m->loop, m->fd);
	close(m->fd);
	free(m->table);
	free(m->rx);
	free(m);
}
