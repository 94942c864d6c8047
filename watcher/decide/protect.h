/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * protect - what no block may ever cover: loopback (127.0.0.0/8, ::1),
 * the addresses of this host, and the allow list (configured and run-time
 * entries that have not expired). A target that contains such an address
 * is either narrowed around the offending address (rule and prefix
 * decisions: the widest prefix that still contains the offender and none
 * of them) or refused (blocks an operator asked for: the command line,
 * the block list file, the saved state), always saying which address and
 * why.
 *
 * Owns nothing but the host's address list it reads (protect_read_host);
 * the allow list belongs to the screen. Must never: let a target through
 * that overlaps a protected range.
 */
#ifndef MS_PROTECT_H
#define MS_PROTECT_H

#include "addr.h"
#include "allow.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct protect_hit {
	struct cidr range;      /* the protected address or range */
	const char *what;       /* "loopback", "an address of this host", "on the allow list" */
};

/* Does c overlap a protected range at now_ms? If so, *hit says which. */
bool protect_find(const struct cidrlist *host, const struct allowlist *al, const struct cidr *c, uint64_t now_ms,
		  struct protect_hit *hit);
/* The widest prefix around address a (inside c), no wider than c, that
 * overlaps no protected range, in *out (c itself when nothing is in the
 * way). false when even a alone is protected; *hit then names why. *hit is
 * also set when c had to be narrowed (the first range in the way). */
bool protect_narrow(const struct cidrlist *host, const struct allowlist *al, const struct cidr *c,
		    const struct ipaddr *a, uint64_t now_ms, struct cidr *out, struct protect_hit *hit);
/* Make *t safe to block at now_ms: unchanged (1), narrowed around address
 * `around` (2; why says from what and why), or refused (-1; why says
 * why). around NULL: never narrow, refuse. */
int protect_target(const struct cidrlist *host, const struct allowlist *al, struct cidr *t,
		   const struct ipaddr *around, uint64_t now_ms, char *why, size_t whylen);
/* This host's own addresses (every interface, every family), each as a
 * full-length prefix. 0, or -1 with a message (out is then left empty). */
int protect_read_host(struct cidrlist *out, char *err, size_t errlen);
/* Format "X (what)" for messages: "192.0.2.10 (on the allow list)". */
void protect_describe(const struct protect_hit *hit, char *buf, size_t len);

#endif
