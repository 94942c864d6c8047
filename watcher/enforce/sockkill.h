/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * sockkill - end the TCP sessions blocked clients already have open.
 *
 * A drop rule only stops new packets; an established session lingers
 * until it times out. sockkill() finds the local TCP sockets whose remote
 * address lies in one of the blocked ranges and destroys them through
 * sock_diag (SOCK_DESTROY, what `ss -K` does): the kernel aborts them as
 * if with a reset, and the server process sees ECONNABORTED.
 *
 * Finding them means a walk of the kernel's whole TCP socket table (about
 * 1 ms on a table of 256k buckets, however few sockets there are), so a
 * caller gathers the ranges blocked over a while (the daemon: since its
 * last scan, at most one per 100 ms) and asks once for all of them.
 */
#ifndef MS_SOCKKILL_H
#define MS_SOCKKILL_H

#include "addr.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Sockets destroyed per call at most; a call that stops there returns 1. */
#define SOCKKILL_MAX 4096

/* Ranges matched by the kernel's filter (inet_diag bytecode) at most.
 * With more, the kernel filters on the local ports only and the ranges
 * are matched here. The filter runs for every socket of the mail ports,
 * about 5 ns per range; sending a socket costs about 0.35 us. Measured
 * with 5,000 connections to port 25: a scan takes 4.0 ms with 1 range in
 * the kernel, 10.8 ms with 256, and 5.8 ms with any number matched here;
 * so past about 64 the kernel's filter is the slower one. (Its size
 * limit, 64 KB, would allow about 2,000.) */
#define SOCKKILL_FILTER_MAX 64

struct sockkill_result {
	unsigned killed;        /* sockets destroyed, all ranges together */
	unsigned dumps;         /* walks of the kernel's socket table made: 1,
				 * or 2 (one per family) on a kernel that
				 * refuses the request for both at once */
	unsigned seen;          /* sockets the kernel sent, past its filter */
	bool kernel_filtered;   /* the ranges were matched in the kernel */
};

/* Destroy the TCP sockets (any state but LISTEN, CLOSE and TIME_WAIT)
 * whose remote address is in one of targets[0..ntargets) and whose local
 * port is one of ports[0..nports) (nports 0: any local port). IPv4
 * clients of dual-stack IPv6 sockets (::ffff:a.b.c.d) count as IPv4.
 * killed_per (NULL, or ntargets counters, zeroed here) gets the sockets
 * destroyed per range; a socket in several ranges counts for one: a
 * full-length address before a prefix. res is filled also when -1 is
 * returned. No targets: nothing is asked of the kernel. Returns 0 when
 * every such socket is gone, 1 when SOCKKILL_MAX were destroyed and more
 * may remain, -1 with a message in err: e.g. a kernel without
 * CONFIG_INET_DIAG_DESTROY (EOPNOTSUPP), or missing CAP_NET_ADMIN. */
int sockkill(const struct cidr *targets, size_t ntargets, const uint16_t *ports, size_t nports,
	     unsigned *killed_per, struct sockkill_result *res, char *err, size_t errlen);

#endif
