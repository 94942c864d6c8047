// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * protect - see protect.h. The lists are short (loopback, a host's few
 * addresses, an allow list of tens of entries), so a linear scan is the
 * right structure; narrowing takes at most one step per protected range.
 */
#include "protect.h"
#include "log.h"

#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

static const struct cidr loopback[2] = {
	{ .addr = { .family = AF_INET, .b = { 127 } }, .len = 8 },
	{ .addr = { .family = AF_INET6, .b = { [15] = 1 } }, .len = 128 },
};

/* Call fn on every protected range; stop at the first that returns true. */
typedef bool range_fn(void *arg, const struct cidr *r, const char *what);

static bool each_range(const struct cidrlist *host, const struct allowlist *al, uint64_t now_ms, range_fn *fn,
		       void *arg)
{
	for (int i = 0; i < 2; i++)
		if (fn(arg, &loopback[i], "loopback"))
			return true;
	for (size_t i = 0; host && i < host->n; i++)
		if (fn(arg, &host->v[i], "an address of this host"))
			return true;
	for (size_t i = 0; al && i < al->n; i++)
		if (al->v[i].expiry_ms > now_ms && fn(arg, &al->v[i].target, "on the allow list"))
			return true;
	return false;
}

struct overlap_q {
	const struct cidr *c;
	struct protect_hit *hit;
};

static bool overlaps(void *arg, const struct cidr *r, const char *what)
{
	struct overlap_q *q = arg;

	if (!cidr_overlap(q->c, r))
		return false;
	q->hit->range = *r;
	q->hit->what = what;
	return true;
}

bool protect_find(const struct cidrlist *host, const struct allowlist *al, const struct cidr *c, uint64_t now_ms,
		  struct protect_hit *hit)
{
	struct overlap_q q = { c, hit };

	return each_range(host, al, now_ms, overlaps, &q);
}

bool protect_narrow(const struct cidrlist *host, const struct allowlist *al, const struct cidr *c,
		    const struct ipaddr *a, uint64_t now_ms, struct cidr *out, struct protect_hit *hit)
{
	struct protect_hit h;
	int len = c->len, bits = addr_bits(a);
	bool first = true;

	if (a->family != c->addr.family || !cidr_contains(c, a)) {
		/* not around a: only c itself, if it is clean */
		*out = *c;
		return !protect_find(host, al, c, now_ms, hit);
	}
	for (;;) {
		int common;

		cidr_from_addr(out, a, len);
		if (!protect_find(host, al, out, now_ms, &h))
			return true;
		if (first)
			*hit = h;
		first = false;
		/* out overlaps h.range: either h.range holds a (nothing to
		 * narrow to), or out holds h.range, and the prefix of a one bit
		 * longer than what a and h.range share leaves it out */
		common = addr_common_len(a, &h.range.addr, h.range.len);
		if (common >= h.range.len || common + 1 > bits) {
			*hit = h;
			return false;
		}
		len = common + 1;
	}
}

/* "192.0.2.10 is on the allow list", "0.0.0.0/1 contains 127.0.0.0/8
 * (loopback)", "198.51.100.7 lies in 198.51.100.0/24 (on the allow list)" */
static void phrase(const struct cidr *t, const struct protect_hit *h, char *buf, size_t len)
{
	char tb[CIDR_STRLEN], hb[CIDR_STRLEN];

	cidr_format(t, tb);
	cidr_format(&h->range, hb);
	if (t->len == h->range.len)
		snprintf(buf, len, "%s is %s", tb, h->what);
	else if (t->len > h->range.len)
		snprintf(buf, len, "%s lies in %s (%s)", tb, hb, h->what);
	else
		snprintf(buf, len, "%s contains %s (%s)", tb, hb, h->what);
}

int protect_target(const struct cidrlist *host, const struct allowlist *al, struct cidr *t,
		   const struct ipaddr *around, uint64_t now_ms, char *why, size_t whylen)
{
	struct protect_hit hit;
	struct cidr out;
	char tb[CIDR_STRLEN], ob[CIDR_STRLEN], p[200];

	if (!protect_find(host, al, t, now_ms, &hit))
		return 1;
	if (around && protect_narrow(host, al, t, around, now_ms, &out, &hit)) {
		phrase(t, &hit, p, sizeof p);
		cidr_format(t, tb);
		cidr_format(&out, ob);
		snprintf(why, whylen, "%s narrowed to %s: %s", tb, ob, p);
		*t = out;
		return 2;
	}
	/* hit is what stopped the narrowing: it lies in (or over) t */
	phrase(t, &hit, why, whylen);
	return -1;
}

int protect_read_host(struct cidrlist *out, char *err, size_t errlen)
{
	struct ifaddrs *ifa, *i;

	out->n = 0;
	if (getifaddrs(&ifa) < 0)
		return errf(err, errlen, "cannot read this host's addresses: %s", strerror(errno));
	for (i = ifa; i; i = i->ifa_next) {
		struct cidr c = { .addr = { 0 } };

		if (!i->ifa_addr)
			continue;
		if (i->ifa_addr->sa_family == AF_INET) {
			const struct sockaddr_in *s = (const struct sockaddr_in *)(const void *)i->ifa_addr;
			c.addr.family = AF_INET;
			memcpy(c.addr.b, &s->sin_addr, 4);
			c.len = 32;
		} else if (i->ifa_addr->sa_family == AF_INET6) {
			const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)(const void *)i->ifa_addr;
			c.addr.family = AF_INET6;
			memcpy(c.addr.b, &s->sin6_addr, 16);
			c.len = 128;
		} else {
			continue;
		}
		cidrlist_add(out, &c);
	}
	freeifaddrs(ifa);
	return 0;
}

void protect_describe(const struct protect_hit *hit, char *buf, size_t len)
{
	char r[CIDR_STRLEN];

	cidr_format(&hit->range, r);
	snprintf(buf, len, "%s (%s)", r, hit->what);
}
