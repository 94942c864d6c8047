/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fuzz_event - what is always true of an event a filter made of a line,
 * whatever the filter and the line: shared by fuzz_match (the shipped
 * filters on hostile lines) and fuzz_filterfile (hostile filters on
 * sample lines).
 *
 * The address: valid and normalised, and written in the message: some
 * substring of it (the capture, at most "[v6]:port", 53 bytes) parses to
 * it. Usually that is its canonical text ("203.0.113.5"), found at once;
 * an IPv6 address written another way ("2001:DB8:0::1", "::ffff:c000:201")
 * is looked for among all short substrings. The fields: within the
 * message and within their limits, or (session) the "prog[pid]" of the
 * line, or (service) the filter's own name of it.
 */
#ifndef MS_FUZZ_EVENT_H
#define MS_FUZZ_EVENT_H

#include "fuzz.h"

#include "event.h"
#include "filter.h"
#include "line.h"

#include <stdbool.h>

#define FUZZ_MAX_FIELD 256      /* filter_limits.max_field's default */
#define FUZZ_CAPTURE_MAX 64     /* longer than any text addr_parse accepts */

static bool fuzz_in_msg(const struct logline *ll, const char *p, size_t n)
{
	return p >= ll->msg && n <= ll->msglen && (size_t)(p - ll->msg) <= ll->msglen - n;
}

static bool fuzz_ip_written(const struct logline *ll, const struct ipaddr *ip)
{
	char buf[ADDR_STRLEN];
	struct ipaddr a;

	addr_format(ip, buf);
	if (memmem(ll->msg, ll->msglen, buf, strlen(buf)))
		return true;
	for (size_t i = 0; i < ll->msglen; i++)
		for (size_t n = 1; n <= FUZZ_CAPTURE_MAX && n <= ll->msglen - i; n++)
			if (addr_parse(ll->msg + i, n, &a) == 0 && addr_equal(&a, ip))
				return true;
	return false;
}

static void fuzz_check_event(const struct event *ev, const struct logline *ll)
{
	static const uint8_t zero[12], mapped[12] = { [10] = 0xff, [11] = 0xff };

	FUZZ_ASSERT((unsigned)ev->kind < EV_NKINDS, "kind %d", (int)ev->kind);
	FUZZ_ASSERT(ev->time == ll->time && ev->usec == ll->usec, "the event's time is not the line's");
	FUZZ_ASSERT(ev->filter && ev->filter_name && strcmp(ev->filter_name, filter_name(ev->filter)) == 0,
		    "filter name");
	FUZZ_ASSERT(ev->regex >= 0, "regex %d", ev->regex);
	FUZZ_ASSERT(ev->count >= 1 && ev->count <= 1000000, "count %lu", ev->count);
	if (ev->has_ip) {
		char buf[ADDR_STRLEN];
		addr_format(&ev->ip, buf);
		FUZZ_ASSERT(ev->ip.family == AF_INET || ev->ip.family == AF_INET6, "family %u", ev->ip.family);
		if (ev->ip.family == AF_INET)
			FUZZ_ASSERT(memcmp(ev->ip.b + 4, zero, 12) == 0, "IPv4 %s with bytes past the fourth", buf);
		else
			FUZZ_ASSERT(memcmp(ev->ip.b, mapped, 12) != 0, "IPv4-mapped %s not normalised", buf);
		FUZZ_ASSERT(fuzz_ip_written(ll, &ev->ip), "address %s is not written in the message '%.*s'", buf,
			    (int)ll->msglen, ll->msg);
	}
	if (ev->user)
		FUZZ_ASSERT(fuzz_in_msg(ll, ev->user, ev->userlen) && ev->userlen >= 1 &&
			    ev->userlen <= FUZZ_MAX_FIELD, "user outside the message or too long (%zu)", ev->userlen);
	if (ev->session && !fuzz_in_msg(ll, ev->session, ev->sessionlen)) {
		char want[128];
		int n;
		FUZZ_ASSERT(ll->prog && ll->pid >= 0, "session made up without prog[pid]");
		n = snprintf(want, sizeof want, "%.*s[%ld]", (int)ll->proglen, ll->prog, ll->pid);
		FUZZ_ASSERT(n > 0 && (size_t)n == ev->sessionlen && memcmp(want, ev->session, ev->sessionlen) == 0,
			    "session '%.*s' is not '%s'", (int)ev->sessionlen, ev->session, want);
	} else if (ev->session) {
		FUZZ_ASSERT(ev->sessionlen >= 1 && ev->sessionlen <= FUZZ_MAX_FIELD, "session of %zu bytes",
			    ev->sessionlen);
	}
	if (ev->service && fuzz_in_msg(ll, ev->service, ev->servicelen))
		FUZZ_ASSERT(ev->servicelen >= 1 && ev->servicelen <= 32, "service of %zu bytes", ev->servicelen);
	else if (ev->service)
		FUZZ_ASSERT(strlen(ev->service) == ev->servicelen, "service length");
	else
		FUZZ_ASSERT(ev->servicelen == 0, "service length without a service");
}

#endif
