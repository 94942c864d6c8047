// SPDX-License-Identifier: GPL-2.0-or-later
/* addr - see addr.h. Owns nothing; pure functions over small structs. */
#include "addr.h"
#include "log.h"
#include "xalloc.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

static bool all_digits(const char *s, size_t n)
{
	if (n == 0 || n > 5)
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

int addr_parse(const char *s, size_t n, struct ipaddr *out)
{
	char buf[ADDR_STRLEN + 1];
	const char *colon;

	if (memchr(s, '\0', n))
		return -1;      /* "192.0.2.1\0junk" is no address: never cut at a NUL */
	if (n >= 2 && s[0] == '[') {
		const char *close = memchr(s, ']', n);
		if (!close)
			return -1;
		size_t rest = n - (size_t)(close - s) - 1;
		if (rest && (close[1] != ':' || !all_digits(close + 2, rest - 1)))
			return -1;
		s++;
		n = (size_t)(close - s);
	} else if ((colon = memchr(s, ':', n)) && !memchr(colon + 1, ':', n - (size_t)(colon - s) - 1)) {
		/* exactly one colon: IPv4 with a port */
		if (!all_digits(colon + 1, n - (size_t)(colon - s) - 1))
			return -1;
		n = (size_t)(colon - s);
	}
	if (n == 0 || n > ADDR_STRLEN)
		return -1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	memset(out, 0, sizeof *out);
	if (memchr(buf, ':', n)) {
		if (inet_pton(AF_INET6, buf, out->b) != 1)
			return -1;
		out->family = AF_INET6;
		if (memcmp(out->b, v4mapped, sizeof v4mapped) == 0) {
			memmove(out->b, out->b + 12, 4);
			memset(out->b + 4, 0, 12);
			out->family = AF_INET;
		}
		return 0;
	}
	if (inet_pton(AF_INET, buf, out->b) != 1)
		return -1;
	out->family = AF_INET;
	return 0;
}

int cidr_parse(const char *s, struct cidr *out, char *err, size_t errlen)
{
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	struct ipaddr masked;

	if (addr_parse(s, alen, &out->addr) < 0 || s[0] == '[')
		return errf(err, errlen, "'%s' is not an IP address or range", s);
	out->len = (uint8_t)addr_bits(&out->addr);
	if (slash) {
		char *end;
		long len = strtol(slash + 1, &end, 10);
		if (!slash[1] || *end || slash[1] == '-' || slash[1] == '+' || len < 0 || len > addr_bits(&out->addr))
			return errf(err, errlen, "'%s': bad prefix length (0..%d)", s, addr_bits(&out->addr));
		out->len = (uint8_t)len;
	}
	masked = out->addr;
	addr_mask(&masked, out->len);
	if (!addr_equal(&masked, &out->addr)) {
		char buf[ADDR_STRLEN];
		addr_format(&masked, buf);
		return errf(err, errlen, "'%s' has host bits set (did you mean %s/%u?)", s, buf, out->len);
	}
	return 0;
}

void addr_format(const struct ipaddr *a, char buf[ADDR_STRLEN])
{
	if (!inet_ntop(a->family == AF_INET ? AF_INET : AF_INET6, a->b, buf, ADDR_STRLEN))
		strcpy(buf, "?");
}

void cidr_format(const struct cidr *c, char buf[CIDR_STRLEN])
{
	addr_format(&c->addr, buf);
	if (c->len != addr_bits(&c->addr)) {
		size_t n = strlen(buf);
		snprintf(buf + n, CIDR_STRLEN - n, "/%u", c->len);
	}
}

bool addr_equal(const struct ipaddr *a, const struct ipaddr *b)
{
	return a->family == b->family && memcmp(a->b, b->b, 16) == 0;
}

int addr_cmp(const struct ipaddr *a, const struct ipaddr *b)
{
	if (a->family != b->family)
		return a->family < b->family ? -1 : 1;
	return memcmp(a->b, b->b, 16);
}

void addr_mask(struct ipaddr *a, int len)
{
	int bits = addr_bits(a);

	if (len < 0)
		len = 0;
	for (int i = 0; i < 16; i++) {
		int keep = len - i * 8;
		if (i * 8 >= bits || keep <= 0)
			a->b[i] = 0;
		else if (keep < 8)
			a->b[i] &= (uint8_t)(0xff << (8 - keep));
	}
}

void cidr_from_addr(struct cidr *c, const struct ipaddr *a, int len)
{
	c->addr = *a;
	if (len > addr_bits(a) || len < 0)
		len = addr_bits(a);
	addr_mask(&c->addr, len);
	c->len = (uint8_t)len;
}

bool cidr_contains(const struct cidr *c, const struct ipaddr *a)
{
	int whole = c->len / 8, rest = c->len % 8;

	/* the range's own address has its host bits clear: compare the
	 * prefix's whole bytes, then the bits of the one it ends in */
	if (a->family != c->addr.family || memcmp(a->b, c->addr.b, (size_t)whole) != 0)
		return false;
	return !rest || ((a->b[whole] ^ c->addr.b[whole]) & (0xff00 >> rest) & 0xff) == 0;
}

void cidr_last(const struct cidr *c, struct ipaddr *out)
{
	int bits = addr_bits(&c->addr);

	*out = c->addr;
	for (int i = c->len; i < bits; i++)
		out->b[i / 8] |= (uint8_t)(0x80 >> (i % 8));
}

void cidr_key(const struct cidr *c, unsigned char key[CIDR_KEY_LEN])
{
	key[0] = c->addr.family;
	key[1] = c->len;
	memcpy(key + 2, c->addr.b, 16);
}

int addr_common_len(const struct ipaddr *a, const struct ipaddr *b, int max)
{
	int n = 0;

	while (n < max) {
		if (n % 8 == 0 && n + 8 <= max && a->b[n / 8] == b->b[n / 8]) {
			n += 8;
			continue;
		}
		if (((a->b[n / 8] ^ b->b[n / 8]) >> (7 - n % 8)) & 1)
			break;
		n++;
	}
	return n;
}

bool cidr_overlap(const struct cidr *a, const struct cidr *b)
{
	return a->addr.family == b->addr.family &&
	       addr_common_len(&a->addr, &b->addr, a->len < b->len ? a->len : b->len) == (a->len < b->len ? a->len : b->len);
}

bool addr_increment(struct ipaddr *a)
{
	for (int i = addr_bits(a) / 8 - 1; i >= 0; i--)
		if (++a->b[i] != 0)
			return true;
	return false;
}

bool addr_is_loopback(const struct ipaddr *a)
{
	static const uint8_t lo6[16] = { [15] = 1 };

	if (a->family == AF_INET)
		return a->b[0] == 127;
	return memcmp(a->b, lo6, 16) == 0;
}

uint64_t addr_hash(const struct ipaddr *a, uint8_t len)
{
	/* FNV-1a over family, length and the bytes in use, then mixed. */
	uint64_t h = 1469598103934665603ULL;
	int n = a->family == AF_INET ? 4 : 16;

	h = (h ^ a->family) * 1099511628211ULL;
	h = (h ^ len) * 1099511628211ULL;
	for (int i = 0; i < n; i++)
		h = (h ^ a->b[i]) * 1099511628211ULL;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h;
}

void cidrlist_add(struct cidrlist *l, const struct cidr *c)
{
	XGROW(l->v, l->alloc, l->n + 1);
	l->v[l->n++] = *c;
}

bool cidrlist_contains(const struct cidrlist *l, const struct ipaddr *a)
{
	for (size_t i = 0; i < l->n; i++)
		if (cidr_contains(&l->v[i], a))
			return true;
	return false;
}

void cidrlist_release(struct cidrlist *l)
{
	free(l->v);
	memset(l, 0, sizeof *l);
}
