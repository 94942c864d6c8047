/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * addr - IP addresses and CIDR ranges: parse, validate, normalise, format,
 * compare, mask. Text from logs is hostile, so parsing is strict: a bounded
 * length, no trailing garbage, no zone identifiers. Normalisation maps
 * IPv4-mapped IPv6 (::ffff:a.b.c.d) to IPv4 and strips brackets and an
 * optional port ("[2001:db8::1]:25", "192.0.2.1:25").
 */
#ifndef MS_ADDR_H
#define MS_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define ADDR_STRLEN 46          /* INET6_ADDRSTRLEN */
#define CIDR_STRLEN (ADDR_STRLEN + 4)

struct ipaddr {
	uint8_t family;         /* AF_INET or AF_INET6 */
	uint8_t b[16];          /* IPv4 in b[0..3], rest zero */
};

struct cidr {
	struct ipaddr addr;     /* host bits always zero */
	uint8_t len;            /* prefix length: 0..32 or 0..128 */
};

/* Parse one address from s[0..n) (not NUL-terminated needed). Accepts
 * brackets and a port as described above. 0 on success, -1 if invalid. */
int addr_parse(const char *s, size_t n, struct ipaddr *out);
/* Parse "ADDR" or "ADDR/LEN". Host bits beyond LEN are an error, so that
 * a typo in a range does not silently widen or shift it. */
int cidr_parse(const char *s, struct cidr *out, char *err, size_t errlen);

static inline int addr_bits(const struct ipaddr *a) { return a->family == AF_INET ? 32 : 128; }
void addr_format(const struct ipaddr *a, char buf[ADDR_STRLEN]);
/* Formats "ADDR" for a full-length prefix and "ADDR/LEN" otherwise. */
void cidr_format(const struct cidr *c, char buf[CIDR_STRLEN]);
bool addr_equal(const struct ipaddr *a, const struct ipaddr *b);
int addr_cmp(const struct ipaddr *a, const struct ipaddr *b);
/* Zero all bits after the first len. */
void addr_mask(struct ipaddr *a, int len);
void cidr_from_addr(struct cidr *c, const struct ipaddr *a, int len);
bool cidr_contains(const struct cidr *c, const struct ipaddr *a);
/* Last address of the range (all host bits set). */
void cidr_last(const struct cidr *c, struct ipaddr *out);
/* A range as a table key: family, prefix length, the 16 address bytes (so
 * a /64 and a /128 are different keys). */
#define CIDR_KEY_LEN 18
void cidr_key(const struct cidr *c, unsigned char key[CIDR_KEY_LEN]);
/* How many leading bits a and b share, at most max. */
int addr_common_len(const struct ipaddr *a, const struct ipaddr *b, int max);
/* a and b have an address in common (one contains the other). */
bool cidr_overlap(const struct cidr *a, const struct cidr *b);
/* a + 1; returns false on overflow (a was all ones). */
bool addr_increment(struct ipaddr *a);
bool addr_is_loopback(const struct ipaddr *a);
uint64_t addr_hash(const struct ipaddr *a, uint8_t len);

/* A plain list of ranges, for allow lists and trusted networks. */
struct cidrlist {
	struct cidr *v;
	size_t n, alloc;
};
void cidrlist_add(struct cidrlist *l, const struct cidr *c);
bool cidrlist_contains(const struct cidrlist *l, const struct ipaddr *a);
void cidrlist_release(struct cidrlist *l);

#endif
