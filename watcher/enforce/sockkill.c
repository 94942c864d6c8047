// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * sockkill - destroy the open TCP sessions of blocked ranges, over
 * NETLINK_SOCK_DIAG (see sockkill.h for the contract).
 *
 * How: one dump of the TCP sockets in the states that can carry a
 * session, for every range of the call at once. Any dump walks the
 * kernel's whole TCP hash table (shared by all network namespaces and
 * both families), so the cost is one walk per call, not per range:
 *   - one request for both families: the old TCPDIAG_GETSOCK request,
 *     which dumps AF_UNSPEC, IPv4 and IPv6 sockets in a single walk (a
 *     kernel that refuses it gets the SOCK_DIAG_BY_FAMILY requests, one
 *     per family, and two walks);
 *   - an inet_diag bytecode filter, so that the kernel sends only the
 *     sockets we want: "local port is one of the ports" and "remote
 *     address is in one of the ranges" (the ranges only up to
 *     SOCKKILL_FILTER_MAX; beyond, the ports alone);
 *   - each socket sent is checked again here (state, local port, remote
 *     address against the ranges: a binary search over the full-length
 *     addresses, then the prefixes), collected (at most SOCKKILL_MAX), and
 *     only after the dump has ended destroyed one by one with SOCK_DESTROY
 *     (the socket's full identity, cookie included, so a reused port is
 *     never hit by mistake). A socket that closed in between (ENOENT) is
 *     not an error.
 *
 * The bytecode (struct inet_diag_bc_op: code, yes, no; "yes" and "no" are
 * how many bytes to step forward; stepping exactly onto the end accepts,
 * 4 bytes beyond it rejects). The kernel's audit wants every step a
 * multiple of 4, every "no" landing on an op reachable from the start by
 * "yes" steps, "yes" within 255 (a u8) and "no" within 65535; so each
 * condition steps with "yes" onto the next op, and a far jump is a JMP op
 * (whose "no" is always taken):
 *
 *     S_EQ port1  yes: next  no: S_EQ port2      (one per port; the last
 *     JMP         to the first D_COND             one's no: reject)
 *     S_EQ port2  ...
 *     D_COND r1   yes: next  no: D_COND r2       (one per range; the last
 *     JMP         to the end: accept              one's yes: the end,
 *     D_COND r2   ...                             its no: reject)
 *
 * S_EQ compares the local port; D_COND the remote address (the client,
 * for a server's socket), and an AF_INET condition also matches the
 * IPv4-mapped remotes of AF_INET6 sockets.
 *
 * Owns: one NETLINK_SOCK_DIAG socket for the length of a call.
 *
 * Must never: destroy a socket whose remote address lies outside the
 * ranges or whose local port is not asked for, touch listening sockets,
 * or run ss.
 */
#include "sockkill.h"
#include "log.h"
#include "xalloc.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>

#include <libmnl/libmnl.h>

#define RX_SIZE 65536

/* Every TCP state that can carry a session: all but LISTEN, CLOSE and
 * TIME_WAIT (a TIME_WAIT socket has no process behind it). */
#define STATES ((1u << TCP_ESTABLISHED) | (1u << TCP_SYN_SENT) | (1u << TCP_SYN_RECV) | \
		(1u << TCP_FIN_WAIT1) | (1u << TCP_FIN_WAIT2) | (1u << TCP_CLOSE_WAIT) | \
		(1u << TCP_LAST_ACK) | (1u << TCP_CLOSING))

/* Ports in the kernel filter at most (the configuration allows 64). */
#define FILTER_PORTS_MAX 64

#define OP_LEN ((size_t)sizeof(struct inet_diag_bc_op))
#define PORT_LEN (2 * OP_LEN)   /* S_EQ, and the port in a second op */
#define COND_LEN(alen) (OP_LEN + sizeof(struct inet_diag_hostcond) + (alen))

struct victim {
	uint8_t family;
	uint32_t target;                /* index into the call's ranges */
	struct inet_diag_sockid id;
};

/* A full-length target address, for the binary search. */
struct host {
	struct ipaddr addr;
	uint32_t target;
};

struct scan {
	const struct cidr *targets;
	struct host *hosts;             /* sorted */
	size_t nhosts;
	uint32_t *nets;                 /* targets that are prefixes */
	size_t nnets;
	const uint16_t *ports;
	size_t nports;
	struct victim *v;
	size_t n, alloc;
	bool more;                      /* matches left behind at SOCKKILL_MAX */
	unsigned seen;                  /* sockets sent by the kernel */
};

/* ---- the ranges, matched here ---- */

static int host_cmp(const void *a, const void *b)
{
	return addr_cmp(&((const struct host *)a)->addr, &((const struct host *)b)->addr);
}

static void scan_init(struct scan *s, const struct cidr *t, size_t n, const uint16_t *ports, size_t nports)
{
	memset(s, 0, sizeof *s);
	s->targets = t;
	s->ports = ports;
	s->nports = nports;
	s->hosts = xcalloc(n, sizeof *s->hosts);
	s->nets = xcalloc(n, sizeof *s->nets);
	for (size_t i = 0; i < n; i++) {
		if (t[i].len == addr_bits(&t[i].addr))
			s->hosts[s->nhosts++] = (struct host){ t[i].addr, (uint32_t)i };
		else
			s->nets[s->nnets++] = (uint32_t)i;
	}
	qsort(s->hosts, s->nhosts, sizeof *s->hosts, host_cmp);
}

static void scan_release(struct scan *s)
{
	free(s->hosts);
	free(s->nets);
	free(s->v);
}

/* The index of a range holding a, or -1. */
static long scan_match(const struct scan *s, const struct ipaddr *a)
{
	struct host key = { .addr = *a };
	const struct host *h = s->nhosts ? bsearch(&key, s->hosts, s->nhosts, sizeof *s->hosts, host_cmp) : NULL;

	if (h)
		return (long)h->target;
	for (size_t i = 0; i < s->nnets; i++)
		if (cidr_contains(&s->targets[s->nets[i]], a))
			return (long)s->nets[i];
	return -1;
}

/* The remote address of a dumped socket, IPv4-mapped made IPv4. */
static void remote_addr(const struct inet_diag_msg *m, struct ipaddr *a)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	const uint8_t *b = (const uint8_t *)m->id.idiag_dst;

	memset(a, 0, sizeof *a);
	if (m->idiag_family == AF_INET6 && memcmp(b, mapped, sizeof mapped) != 0) {
		a->family = AF_INET6;
		memcpy(a->b, b, 16);
	} else {
		a->family = AF_INET;
		memcpy(a->b, m->idiag_family == AF_INET6 ? b + 12 : b, 4);
	}
}

static bool port_wanted(const struct scan *s, uint16_t port)
{
	if (s->nports == 0)
		return true;
	for (size_t i = 0; i < s->nports; i++)
		if (s->ports[i] == port)
			return true;
	return false;
}

static int dump_cb(const struct nlmsghdr *nlh, void *data)
{
	struct scan *s = data;
	const struct inet_diag_msg *m = mnl_nlmsg_get_payload(nlh);
	struct ipaddr a;
	long t;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof *m)
		return MNL_CB_OK;
	s->seen++;
	if (m->idiag_family != AF_INET && m->idiag_family != AF_INET6)
		return MNL_CB_OK;
	if (m->idiag_state == TCP_LISTEN || m->idiag_state == TCP_CLOSE ||
	    m->idiag_state == TCP_TIME_WAIT)
		return MNL_CB_OK;
	if (!port_wanted(s, ntohs(m->id.idiag_sport)))
		return MNL_CB_OK;
	remote_addr(m, &a);
	t = scan_match(s, &a);
	if (t < 0)
		return MNL_CB_OK;
	if (s->n >= SOCKKILL_MAX) {
		s->more = true;         /* the dump is read to its end all the same */
		return MNL_CB_OK;
	}
	XGROW(s->v, s->alloc, s->n + 1);
	s->v[s->n].family = m->idiag_family;
	s->v[s->n].target = (uint32_t)t;
	s->v[s->n].id = m->id;
	s->n++;
	return MNL_CB_OK;
}

/* ---- the kernel filter ---- */

static void put_op(uint8_t *p, uint8_t code, size_t yes, size_t no)
{
	struct inet_diag_bc_op op = { .code = code, .yes = (uint8_t)yes, .no = (uint16_t)no };

	memcpy(p, &op, sizeof op);
}

/* The bytecode for ports[0..nports) (none: any) and, if with_ranges, the
 * ranges t[0..n); *len 0 when there is nothing to filter. The caller
 * frees it. */
static uint8_t *build_filter(const struct cidr *t, size_t n, bool with_ranges, const uint16_t *ports,
			     size_t nports, size_t *len)
{
	size_t total = 0, pos = 0, addr_start;
	uint8_t *p;

	if (nports > FILTER_PORTS_MAX)
		nports = 0;             /* matched here only */
	if (nports)
		total += nports * PORT_LEN + (nports - 1) * OP_LEN;
	addr_start = total;
	if (with_ranges) {
		for (size_t i = 0; i < n; i++)
			total += COND_LEN(t[i].addr.family == AF_INET ? 4u : 16u);
		total += (n - 1) * OP_LEN;
	}
	*len = total;
	if (total == 0)
		return NULL;
	p = xcalloc(1, total);
	for (size_t i = 0; i < nports; i++) {
		bool last = i + 1 == nports;
		struct inet_diag_bc_op port = { .no = ports[i] };

		put_op(p + pos, INET_DIAG_BC_S_EQ, PORT_LEN, last ? total - pos + 4 : PORT_LEN + OP_LEN);
		memcpy(p + pos + OP_LEN, &port, sizeof port);
		pos += PORT_LEN;
		if (!last) {
			put_op(p + pos, INET_DIAG_BC_JMP, OP_LEN, addr_start - pos);
			pos += OP_LEN;
		}
	}
	for (size_t i = 0; with_ranges && i < n; i++) {
		size_t alen = t[i].addr.family == AF_INET ? 4 : 16, clen = COND_LEN(alen);
		bool last = i + 1 == n;
		struct inet_diag_hostcond hc = {
			.family = t[i].addr.family,
			.prefix_len = t[i].len,
			.port = -1,
		};

		put_op(p + pos, INET_DIAG_BC_D_COND, clen, last ? total - pos + 4 : clen + OP_LEN);
		memcpy(p + pos + OP_LEN, &hc, sizeof hc);
		memcpy(p + pos + OP_LEN + sizeof hc, t[i].addr.b, alen);
		pos += clen;
		if (!last) {
			put_op(p + pos, INET_DIAG_BC_JMP, OP_LEN, total - pos);
			pos += OP_LEN;
		}
	}
	return p;
}

/* ---- talking to the kernel ---- */

/* One dump into s. family AF_UNSPEC: both families, with the old
 * TCPDIAG_GETSOCK request; else SOCK_DIAG_BY_FAMILY for that family. */
static int dump(struct mnl_socket *nl, char *rx, uint8_t family, uint32_t seq, const uint8_t *prog,
		size_t proglen, struct scan *s, char *err, size_t errlen)
{
	uint32_t portid = mnl_socket_get_portid(nl);
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(rx);
	ssize_t n;
	int ret;

	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	if (family == AF_UNSPEC) {
		struct inet_diag_req *req = mnl_nlmsg_put_extra_header(nlh, sizeof *req);

		nlh->nlmsg_type = TCPDIAG_GETSOCK;
		req->idiag_family = AF_INET;    /* not read for a dump */
		req->idiag_states = STATES;
	} else {
		struct inet_diag_req_v2 *req = mnl_nlmsg_put_extra_header(nlh, sizeof *req);

		nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
		req->sdiag_family = family;
		req->sdiag_protocol = IPPROTO_TCP;
		req->idiag_states = STATES;
	}
	if (proglen)
		mnl_attr_put(nlh, INET_DIAG_REQ_BYTECODE, proglen, prog);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return errf(err, errlen, "sock_diag: cannot ask for TCP sockets: %s", strerror(errno));
	do {
		n = mnl_socket_recvfrom(nl, rx, RX_SIZE);
		if (n < 0)
			return errf(err, errlen, "sock_diag: receive: %s", strerror(errno));
		ret = mnl_cb_run(rx, (size_t)n, seq, portid, dump_cb, s);
	} while (ret > 0);
	if (ret < 0)
		return errf(err, errlen, "sock_diag: cannot list %s TCP sockets: %s%s",
			    family == AF_INET ? "IPv4" : family == AF_INET6 ? "IPv6" : "the", strerror(errno),
			    errno == ENOENT ? " (kernel without CONFIG_INET_TCP_DIAG?)" : "");
	return 0;
}

/* 0 if destroyed, 1 if it was already gone, -1 (message in err). */
static int destroy(struct mnl_socket *nl, char *rx, const struct victim *v, uint32_t seq,
		   char *err, size_t errlen)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(rx);
	struct inet_diag_req_v2 *req;
	ssize_t n;
	int ret;

	nlh->nlmsg_type = SOCK_DESTROY;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = seq;
	req = mnl_nlmsg_put_extra_header(nlh, sizeof *req);
	req->sdiag_family = v->family;
	req->sdiag_protocol = IPPROTO_TCP;
	req->id = v->id;
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return errf(err, errlen, "sock_diag: cannot send SOCK_DESTROY: %s", strerror(errno));
	do {
		n = mnl_socket_recvfrom(nl, rx, RX_SIZE);
		if (n < 0)
			return errf(err, errlen, "sock_diag: receive: %s", strerror(errno));
		ret = mnl_cb_run(rx, (size_t)n, seq, mnl_socket_get_portid(nl), NULL, NULL);
	} while (ret > 0);
	if (ret == 0)
		return 0;
	switch (errno) {
	case ENOENT:
		return 1;               /* closed since the dump */
	case EOPNOTSUPP:
		return errf(err, errlen, "the kernel does not allow destroying sockets "
			    "(CONFIG_INET_DIAG_DESTROY)");
	case EPERM:
		return errf(err, errlen, "not allowed to destroy sockets (needs CAP_NET_ADMIN)");
	default:
		return errf(err, errlen, "sock_diag: SOCK_DESTROY: %s", strerror(errno));
	}
}

/* Every matching socket into s: one walk for both families, or one per
 * family needed if the kernel refuses that. */
static int collect(struct mnl_socket *nl, char *rx, const struct cidr *t, size_t n, uint32_t *seq,
		   struct scan *s, struct sockkill_result *res, char *err, size_t errlen)
{
	bool any4 = false;
	size_t proglen;
	uint8_t *prog;
	int ret;

	for (size_t i = 0; i < n; i++)
		any4 |= t[i].addr.family == AF_INET;
	res->kernel_filtered = n <= SOCKKILL_FILTER_MAX;
	prog = build_filter(t, n, res->kernel_filtered, s->ports, s->nports, &proglen);
	ret = dump(nl, rx, AF_UNSPEC, (*seq)++, prog, proglen, s, err, errlen);
	if (ret < 0) {
		log_debug("%s; asking per address family instead", err);
		s->n = 0;
		s->seen = 0;
		s->more = false;
		/* IPv4 clients also come as ::ffff:a.b.c.d on AF_INET6 sockets */
		if (any4) {
			ret = dump(nl, rx, AF_INET, (*seq)++, prog, proglen, s, err, errlen);
			res->dumps += ret == 0;
		}
		if (!any4 || ret == 0)
			ret = dump(nl, rx, AF_INET6, (*seq)++, prog, proglen, s, err, errlen);
	}
	res->dumps += ret == 0;
	free(prog);
	return ret;
}

int sockkill(const struct cidr *targets, size_t ntargets, const uint16_t *ports, size_t nports,
	     unsigned *killed_per, struct sockkill_result *res, char *err, size_t errlen)
{
	struct scan s;
	struct mnl_socket *nl;
	uint32_t seq = 1;
	char *rx;
	int ret = -1;

	memset(res, 0, sizeof *res);
	if (killed_per)
		memset(killed_per, 0, ntargets * sizeof *killed_per);
	if (ntargets == 0)
		return 0;
	if (ntargets > UINT32_MAX)
		return errf(err, errlen, "sockkill: too many ranges");
	for (size_t i = 0; i < ntargets; i++)
		if ((targets[i].addr.family != AF_INET && targets[i].addr.family != AF_INET6) ||
		    targets[i].len > addr_bits(&targets[i].addr))
			return errf(err, errlen, "sockkill: not an IP range");
	nl = mnl_socket_open(NETLINK_SOCK_DIAG);
	if (!nl)
		return errf(err, errlen, "cannot open sock_diag netlink socket: %s", strerror(errno));
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		errf(err, errlen, "cannot bind sock_diag netlink socket: %s", strerror(errno));
		mnl_socket_close(nl);
		return -1;
	}
	rx = xmalloc(RX_SIZE);
	scan_init(&s, targets, ntargets, ports, nports);

	if (collect(nl, rx, targets, ntargets, &seq, &s, res, err, errlen) < 0)
		goto out;
	for (size_t i = 0; i < s.n; i++) {
		int r = destroy(nl, rx, &s.v[i], seq++, err, errlen);

		if (r < 0)
			goto out;
		if (r == 0) {
			res->killed++;
			if (killed_per)
				killed_per[s.v[i].target]++;
		}
	}
	ret = s.more ? 1 : 0;
out:
	res->seen = s.seen;
	scan_release(&s);
	free(rx);
	mnl_socket_close(nl);
	return ret;
}
