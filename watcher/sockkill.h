/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sockkill - end the TCP sessions a blocked client already has open.
 *
 * A drop rule only stops new packets; an established session lingers
 * until it times out. sockkill() finds the local TCP sockets whose remote
 * address lies in a blocked range and destroys them through sock_diag
 * (SOCK_DESTROY, what `ss -K` does): the kernel aborts them as if with a
 * reset, and the server process sees ECONNABORTED.
 */
#ifndef MS_SOCKKILL_H
#define MS_SOCKKILL_H

#include "addr.h"

#include <stddef.h>
#include <stdint.h>

/* Sockets destroyed per call at most; a call that stops there returns 1. */
#define SOCKKILL_MAX 4096

/* Destroy the TCP sockets (any state but LISTEN, CLOSE and TIME_WAIT)
 * whose remote address is in c and whose local port is one of
 * ports[0..nports) (nports 0: any local port). IPv4 clients of dual-stack
 * IPv6 sockets (::ffff:a.b.c.d) count as IPv4. *killed gets the number of
 * sockets destroyed (also when -1 is returned). Returns 0 when every such
 * socket is gone, 1 when SOCKKILL_MAX were destroyed and more may remain,
 * -1 with a message in err: e.g. a kernel without
 * CONFIG_INET_DIAG_DESTROY (EOPNOTSUPP), or missing CAP_NET_ADMIN. */
int sockkill(const struct cidr *c, const uint16_t *ports, size_t nports, unsigned *killed,
	     char *err, size_t errlen);

#endif
