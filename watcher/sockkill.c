// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * sockkill - destroy the open TCP sessions of a blocked range, over
 * NETLINK_SOCK_DIAG (see sockkill.h for the contract).
 *
 * How: one dump per address family (AF_INET, and AF_INET6, which also
 * holds IPv4 clients of dual-stack sockets as ::ffff:a.b.c.d) of the TCP
 * sockets in the states that can carry a session, narrowed in the kernel
 * by a bytecode filter on the remote address so that a busy server does
 * not send us every socket it has. The matches are checked again here
 * (remote address and local port), collected (at most SOCKKILL_MAX), and
 * only after the dump has ended destroyed one by one with SOCK_DESTROY
 * (the socket's full identity, cookie included, so a reused port is never
 * hit by mistake). A socket that closed in between (ENOENT) is not an
 * error.
 *
 * Owns: one NETLINK_SOCK_DIAG socket for the length of a call.
 *
 * Must never: destroy a socket whose remote address lies outside the
 * range or whose local port is not asked for, touch listening sockets,
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

struct victim {
	uint8_t family;
	struct inet_diag_sockid id;
};

struct scan {
	const struct cidr *c;
	const uint16_t *ports;
	size_t nports;
	struct victim *v;
	size_t n, alloc;
	bool more;                      /* matches left behind at SOCKKILL_MAX */
};

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

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof *m)
		return MNL_CB_OK;
	if (m->idiag_family != AF_INET && m->idiag_family != AF_INET6)
		return MNL_CB_OK;
	if (m->idiag_state == TCP_LISTEN || m->idiag_state == TCP_CLOSE ||
	    m->idiag_state == TCP_TIME_WAIT)
		return MNL_CB_OK;
	remote_addr(m, &a);
	if (!cidr_contains(s->c, &a) || !port_wanted(s, ntohs(m->id.idiag_sport)))
		return MNL_CB_OK;
	if (s->n >= SOCKKILL_MAX) {
		s->more = true;         /* the dump is read to its end all the same */
		return MNL_CB_OK;
	}
	XGROW(s->v, s->alloc, s->n + 1);
	s->v[s->n].family = m->idiag_family;
	s->v[s->n].id = m->id;
	s->n++;
	return MNL_CB_OK;
}

/* Append the kernel-side filter "remote address in c" to a dump request:
 * one D_COND op that, when it holds, steps onto the end of the program
 * (accept), else 4 bytes beyond it (reject). The kernel maps IPv4-mapped
 * remotes of AF_INET6 sockets itself for an AF_INET condition. */
static void put_filter(struct nlmsghdr *nlh, const struct cidr *c)
{
	size_t alen = c->addr.family == AF_INET ? 4 : 16;
	size_t oplen = sizeof(struct inet_diag_bc_op) + sizeof(struct inet_diag_hostcond) + alen;
	uint8_t prog[sizeof(struct inet_diag_bc_op) + sizeof(struct inet_diag_hostcond) + 16];
	struct inet_diag_bc_op op = {
		.code = INET_DIAG_BC_D_COND,
		.yes = (uint8_t)oplen,
		.no = (uint16_t)(oplen + 4),
	};
	struct inet_diag_hostcond hc = {
		.family = c->addr.family,
		.prefix_len = c->len,
		.port = -1,
	};

	memset(prog, 0, sizeof prog);
	memcpy(prog, &op, sizeof op);
	memcpy(prog + sizeof op, &hc, sizeof hc);
	memcpy(prog + sizeof op + sizeof hc, c->addr.b, alen);
	mnl_attr_put(nlh, INET_DIAG_REQ_BYTECODE, oplen, prog);
}

/* Collect the matching sockets of one family into s. */
static int dump_family(struct mnl_socket *nl, char *rx, uint8_t family, uint32_t seq,
		       struct scan *s, char *err, size_t errlen)
{
	uint32_t portid = mnl_socket_get_portid(nl);
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(rx);
	struct inet_diag_req_v2 *req;
	ssize_t n;
	int ret;

	nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = seq;
	req = mnl_nlmsg_put_extra_header(nlh, sizeof *req);
	req->sdiag_family = family;
	req->sdiag_protocol = IPPROTO_TCP;
	req->idiag_states = STATES;
	put_filter(nlh, s->c);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return errf(err, errlen, "sock_diag: cannot ask for TCP sockets: %s",
			    strerror(errno));
	do {
		n = mnl_socket_recvfrom(nl, rx, RX_SIZE);
		if (n < 0)
			return errf(err, errlen, "sock_diag: receive: %s", strerror(errno));
		ret = mnl_cb_run(rx, (size_t)n, seq, portid, dump_cb, s);
	} while (ret > 0);
	if (ret < 0)
		return errf(err, errlen, "sock_diag: cannot list %s TCP sockets: %s%s",
			    family == AF_INET ? "IPv4" : "IPv6", strerror(errno),
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

int sockkill(const struct cidr *c, const uint16_t *ports, size_t nports, unsigned *killed,
	     char *err, size_t errlen)
{
	struct scan s = { .c = c, .ports = ports, .nports = nports };
	struct mnl_socket *nl;
	uint32_t seq = 1;
	char *rx;
	int ret = -1;

	*killed = 0;
	if (c->addr.family != AF_INET && c->addr.family != AF_INET6)
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

	if (c->addr.family == AF_INET && dump_family(nl, rx, AF_INET, seq++, &s, err, errlen) < 0)
		goto out;
	if (dump_family(nl, rx, AF_INET6, seq++, &s, err, errlen) < 0)
		goto out;
	for (size_t i = 0; i < s.n; i++) {
		int r = destroy(nl, rx, &s.v[i], seq++, err, errlen);

		if (r < 0)
			goto out;
		if (r == 0)
			++*killed;
	}
	ret = s.more ? 1 : 0;
out:
	free(s.v);
	free(rx);
	mnl_socket_close(nl);
	return ret;
}
