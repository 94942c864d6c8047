// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * cluster_entry - see cluster_entry.h. Pure functions: the [cluster]
 * values' syntax, the stream entry's encoding, and the checks an entry
 * read from Redis passes (known version and kind, a target that parses,
 * a range no wider than the limits, a bounded duration, bounded fields).
 *
 * Owns nothing. Must never: trust a byte of an entry before it is checked,
 * or quote an attacker's long value whole in a message.
 */
#include "cluster_entry.h"
#include "duration.h"
#include "log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const struct cluster_limits cluster_default_limits = {
	.min_v4 = 8, .min_v6 = 16, .max_duration_ms = 366ull * 24 * 3600 * 1000, .allow_permanent = true,
};

static const char *const kind_names[CLUSTER_NKINDS] = {
	[CLUSTER_BLOCK] = "block",
	[CLUSTER_UNBLOCK] = "unblock",
	[CLUSTER_ALLOW] = "allow",
	[CLUSTER_UNALLOW] = "unallow",
	[CLUSTER_ACCOUNT_BLOCK] = "block-account",
	[CLUSTER_ACCOUNT_UNBLOCK] = "unblock-account",
};

static const struct {
	const char *name;
	unsigned bit;
} classes[] = {
	{ "blocks", CLUSTER_BLOCKS },
	{ "allows", CLUSTER_ALLOWS },
	{ "accounts", CLUSTER_ACCOUNTS },
	{ "counts", CLUSTER_COUNTS },
};

const char *cluster_kind_name(enum cluster_kind k)
{
	return (unsigned)k < CLUSTER_NKINDS ? kind_names[k] : "?";
}

int cluster_kind_parse(const char *s, size_t n, enum cluster_kind *out)
{
	for (int k = 0; k < CLUSTER_NKINDS; k++)
		if (strlen(kind_names[k]) == n && memcmp(kind_names[k], s, n) == 0) {
			*out = (enum cluster_kind)k;
			return 0;
		}
	return -1;
}

unsigned cluster_kind_class(enum cluster_kind k)
{
	switch (k) {
	case CLUSTER_BLOCK:
	case CLUSTER_UNBLOCK:
		return CLUSTER_BLOCKS;
	case CLUSTER_ALLOW:
	case CLUSTER_UNALLOW:
		return CLUSTER_ALLOWS;
	case CLUSTER_ACCOUNT_BLOCK:
	case CLUSTER_ACCOUNT_UNBLOCK:
		return CLUSTER_ACCOUNTS;
	case CLUSTER_NKINDS:
		break;
	}
	return 0;
}

static bool name_char(char ch, bool prefix)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '.' ||
	       ch == '_' || ch == '-' || (prefix && ch == ':');
}

int cluster_name_check(const char *s, bool prefix, char *err, size_t errlen)
{
	const char *what = prefix ? "prefix" : "node";
	size_t n = strlen(s);

	if (n == 0 || n > CLUSTER_NAME_MAX)
		return errf(err, errlen, "%s: give 1 to %d characters", what, CLUSTER_NAME_MAX);
	for (size_t i = 0; i < n; i++)
		if (!name_char(s[i], prefix))
			return errf(err, errlen, "%s '%s': use only A-Z a-z 0-9 . _ -%s", what, s, prefix ? " :" : "");
	return 0;
}

int cluster_redis_parse(const char *s, struct cluster_redis *out, char *err, size_t errlen)
{
	const char *colon;
	size_t hl;
	char *end;
	unsigned long port;

	memset(out, 0, sizeof *out);
	if (strncmp(s, "unix:", 5) == 0) {
		if (s[5] != '/')
			return errf(err, errlen, "redis '%s': a unix socket path must be absolute (unix:/run/redis/redis.sock)",
				    s);
		if (strlen(s + 5) >= sizeof out->path)
			return errf(err, errlen, "redis: the socket path is longer than %zu bytes", sizeof out->path - 1);
		out->is_unix = true;
		snprintf(out->path, sizeof out->path, "%s", s + 5);
		return 0;
	}
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		struct in6_addr a6;
		char buf[INET6_ADDRSTRLEN];
		if (!close || close[1] != ':' || (size_t)(close - s - 1) >= sizeof buf)
			return errf(err, errlen, "redis '%s': write an IPv6 address as [ADDRESS]:PORT", s);
		hl = (size_t)(close - s - 1);
		memcpy(buf, s + 1, hl);
		buf[hl] = '\0';
		if (inet_pton(AF_INET6, buf, &a6) != 1)
			return errf(err, errlen, "redis '%s': '%s' is not an IPv6 address", s, buf);
		memcpy(out->path, buf, hl + 1);
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || colon == s)
			return errf(err, errlen, "redis '%s': give unix:/PATH or HOST:PORT ([ADDRESS]:PORT for IPv6)", s);
		hl = (size_t)(colon - s);
		if (hl >= sizeof out->path || memchr(s, ':', hl))
			return errf(err, errlen, "redis '%s': give unix:/PATH or HOST:PORT ([ADDRESS]:PORT for IPv6)", s);
		for (size_t i = 0; i < hl; i++)
			if (!name_char(s[i], false))
				return errf(err, errlen, "redis '%s': '%.*s' is not a host name or address", s, (int)hl, s);
		memcpy(out->path, s, hl);
		out->path[hl] = '\0';
	}
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (errno || *end || end == colon + 1 || colon[1] == '-' || colon[1] == '+' || port < 1 || port > 65535)
		return errf(err, errlen, "redis '%s': the port must be a number from 1 to 65535", s);
	out->port = (uint16_t)port;
	return 0;
}

int cluster_classes_parse(const char *words, unsigned *mask, char *err, size_t errlen)
{
	const char *p = words;

	*mask = 0;
	while (*p) {
		size_t n;
		bool found = false;
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		n = strcspn(p, " \t,");
		if (!n)
			break;
		for (size_t i = 0; i < sizeof classes / sizeof classes[0]; i++)
			if (strlen(classes[i].name) == n && memcmp(classes[i].name, p, n) == 0) {
				*mask |= classes[i].bit;
				found = true;
			}
		if (!found || n > 32)
			return errf(err, errlen, "'%.*s' is not one of blocks allows accounts counts", (int)(n > 32 ? 32 : n),
				    p);
		p += n;
	}
	return 0;
}

/* ---- encoding ---- */

size_t cluster_entry_encode(const struct cluster_entry *e, char buf[CLUSTER_ENCODE_BUF], const char **fields)
{
	size_t n = 0;
	int v = snprintf(buf, CLUSTER_ENCODE_BUF, "%d", CLUSTER_VERSION);
	char *dur = buf + v + 1, *ts;
	int d;

	if (e->duration_ms == DURATION_PERMANENT)
		d = snprintf(dur, (size_t)(CLUSTER_ENCODE_BUF - v - 1), "permanent");
	else
		d = snprintf(dur, (size_t)(CLUSTER_ENCODE_BUF - v - 1), "%llu", (unsigned long long)e->duration_ms);
	ts = dur + d + 1;
	snprintf(ts, (size_t)(CLUSTER_ENCODE_BUF - v - d - 2), "%llu", (unsigned long long)e->ts_ms);
#define PAIR(f, val) (fields[n++] = (f), fields[n++] = (val))
	PAIR("v", buf);
	PAIR("node", e->node);
	PAIR("kind", cluster_kind_name(e->kind));
	PAIR("target", e->target);
	PAIR("duration", dur);
	PAIR("origin", e->origin);
	PAIR("rule", e->rule);
	PAIR("reason", e->reason);
	PAIR("ts", ts);
#undef PAIR
	return n;
}

/* ---- decoding: untrusted ---- */

/* A node name of n untrusted bytes into out (CLUSTER_NAME_MAX + 1). */
static int node_check_n(const char *s, size_t n, char *out, char *err, size_t errlen)
{
	if (n == 0 || n > CLUSTER_NAME_MAX)
		return errf(err, errlen, "a node name of %zu bytes (1 to %d)", n, CLUSTER_NAME_MAX);
	for (size_t i = 0; i < n; i++)
		if (!name_char(s[i], false))
			return errf(err, errlen, "a node name with a character other than A-Z a-z 0-9 . _ -");
	memcpy(out, s, n);
	out[n] = '\0';
	return 0;
}

static bool is_field(const char *s, size_t n, const char *name)
{
	return strlen(name) == n && memcmp(s, name, n) == 0;
}

static int parse_u64(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;

	if (n == 0 || n > 20)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (v > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return 0;
}

/* A text field copied with control characters replaced, cut at the
 * buffer's size. */
static void copy_text(char *dst, size_t cap, const char *s, size_t n)
{
	if (n >= cap)
		n = cap - 1;
	for (size_t i = 0; i < n; i++)
		dst[i] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ? '?' : s[i];
	dst[n] = '\0';
}

static int check_account(const char *s, size_t n, char *err, size_t errlen)
{
	const unsigned char *u = (const unsigned char *)s;

	if (n == 0 || n > CLUSTER_TARGET_MAX)
		return errf(err, errlen, "an account name of %zu bytes (1 to %d)", n, CLUSTER_TARGET_MAX);
	for (size_t i = 0; i < n; i++)
		if (u[i] <= 0x20 || u[i] == 0x7f || (u[i] == 0xc2 && i + 1 < n && u[i + 1] >= 0x80 && u[i + 1] <= 0x9f))
			return errf(err, errlen, "an account name with a space or control character");
	return 0;
}

static int check_range(const char *s, size_t n, const struct cluster_limits *lim, struct cidr *out, char *err,
		       size_t errlen)
{
	char buf[64], msg[ERR_LEN];

	if (n == 0 || n >= sizeof buf || strspn(s, "0123456789abcdefABCDEF.:/") < n)
		return errf(err, errlen, "a target that is not an address or range");
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (cidr_parse(buf, out, msg, sizeof msg) < 0)
		return errf(err, errlen, "target '%s': %s", buf, msg);
	if (out->addr.family == AF_INET ? out->len < lim->min_v4 : out->len < lim->min_v6)
		return errf(err, errlen, "target '%s': a range wider than /%d", buf,
			    out->addr.family == AF_INET ? lim->min_v4 : lim->min_v6);
	return 0;
}

int cluster_entry_decode(const char *const *strs, const size_t *lens, size_t n, const struct cluster_limits *lim,
			 const char *self, unsigned accept, struct cluster_entry *out, char *err, size_t errlen)
{
	const char *val[9] = { 0 };
	size_t vlen[9] = { 0 };
	static const char *const names[9] = { "v", "node", "kind", "target", "duration", "origin", "rule", "reason",
					      "ts" };
	enum { F_V, F_NODE, F_KIND, F_TARGET, F_DURATION, F_ORIGIN, F_RULE, F_REASON, F_TS };
	uint64_t num;
	char msg[ERR_LEN];
	unsigned cls;

	memset(out, 0, sizeof *out);
	if (n % 2 || n / 2 > CLUSTER_FIELDS_MAX)
		return errf(err, errlen, "%zu strings (pairs of field and value, at most %d pairs)", n, CLUSTER_FIELDS_MAX);
	for (size_t i = 0; i < n; i += 2) {
		if (lens[i] > CLUSTER_FIELD_MAX || lens[i + 1] > CLUSTER_FIELD_MAX)
			return errf(err, errlen, "a field of %zu bytes (at most %d)",
				    lens[i] > lens[i + 1] ? lens[i] : lens[i + 1], CLUSTER_FIELD_MAX);
		for (size_t f = 0; f < 9; f++)
			if (is_field(strs[i], lens[i], names[f])) {
				if (val[f])
					return errf(err, errlen, "field %s twice", names[f]);
				val[f] = strs[i + 1];
				vlen[f] = lens[i + 1];
			}
	}
	/* the version first: another version may have other fields */
	if (!val[F_V] || parse_u64(val[F_V], vlen[F_V], &num) < 0 || num != CLUSTER_VERSION)
		return errf(err, errlen, "unknown version '%.*s' (this node reads %d)",
			    !val[F_V] ? 0 : vlen[F_V] > 8 ? 8 : (int)vlen[F_V], val[F_V] ? val[F_V] : "", CLUSTER_VERSION);
	for (size_t f = 0; f <= F_TS; f++)
		if (!val[f] && f != F_ORIGIN && f != F_RULE && f != F_REASON)
			return errf(err, errlen, "no field %s", names[f]);
	if (node_check_n(val[F_NODE], vlen[F_NODE], out->node, msg, sizeof msg) < 0)
		return errf(err, errlen, "%s", msg);
	if (self && strcmp(out->node, self) == 0)
		return 0;
	if (cluster_kind_parse(val[F_KIND], vlen[F_KIND], &out->kind) < 0)
		return errf(err, errlen, "unknown kind '%.*s'", vlen[F_KIND] > 16 ? 16 : (int)vlen[F_KIND], val[F_KIND]);
	cls = cluster_kind_class(out->kind);
	if (!(accept & cls))
		return errf(err, errlen, "a %s, which this node does not accept (accept)", cluster_kind_name(out->kind));
	if (cls == CLUSTER_ACCOUNTS) {
		if (check_account(val[F_TARGET], vlen[F_TARGET], err, errlen) < 0)
			return -1;
	} else if (check_range(val[F_TARGET], vlen[F_TARGET], lim, &out->range, err, errlen) < 0) {
		return -1;
	}
	memcpy(out->target, val[F_TARGET], vlen[F_TARGET]);
	out->target[vlen[F_TARGET]] = '\0';
	if (vlen[F_DURATION] == 9 && memcmp(val[F_DURATION], "permanent", 9) == 0) {
		if (!lim->allow_permanent)
			return errf(err, errlen, "a permanent %s", cluster_kind_name(out->kind));
		out->duration_ms = DURATION_PERMANENT;
	} else if (parse_u64(val[F_DURATION], vlen[F_DURATION], &out->duration_ms) < 0 ||
		   out->duration_ms > lim->max_duration_ms) {
		return errf(err, errlen, "a duration that is not a number of ms up to %llu or 'permanent'",
			    (unsigned long long)lim->max_duration_ms);
	}
	if ((out->kind == CLUSTER_BLOCK || out->kind == CLUSTER_ACCOUNT_BLOCK) && out->duration_ms == 0)
		return errf(err, errlen, "a %s of no duration", cluster_kind_name(out->kind));
	if (parse_u64(val[F_TS], vlen[F_TS], &out->ts_ms) < 0)
		return errf(err, errlen, "a time stamp that is not a number");
	if (val[F_ORIGIN])
		copy_text(out->origin, sizeof out->origin, val[F_ORIGIN], vlen[F_ORIGIN]);
	if (val[F_RULE])
		copy_text(out->rule, sizeof out->rule, val[F_RULE], vlen[F_RULE]);
	if (val[F_REASON])
		copy_text(out->reason, sizeof out->reason, val[F_REASON], vlen[F_REASON]);
	return 1;
}

/* ---- back-off ---- */

uint64_t cluster_backoff_next(uint64_t prev_base_ms, uint64_t *base_ms, uint32_t rnd)
{
	uint64_t base = prev_base_ms ? prev_base_ms * 2 : CLUSTER_BACKOFF_MIN_MS;

	if (base < CLUSTER_BACKOFF_MIN_MS)
		base = CLUSTER_BACKOFF_MIN_MS;
	if (base > CLUSTER_BACKOFF_MAX_MS)
		base = CLUSTER_BACKOFF_MAX_MS;
	*base_ms = base;
	return base - base / 4 + rnd % (base / 4 + 1);
}
