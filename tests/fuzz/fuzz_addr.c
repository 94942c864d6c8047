// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fuzz_addr - the address parser (addr_parse, on bytes that are not
 * NUL-terminated, as filters hand it their captures) and the range parser
 * (cidr_parse, on the same bytes up to the first NUL, as the config, the
 * block list file and the command line hand it words).
 *
 * Invariants: a parsed address is normalised (IPv4 has no bytes past the
 * fourth, IPv6 is never IPv4-mapped) and survives format-and-parse; a
 * parsed range has no host bits, a length within its family, contains its
 * first and last address, and survives format-and-parse; an error message
 * is a terminated string.
 */
#include "fuzz.h"

#include "addr.h"

#include <stdbool.h>

static void check_addr(const struct ipaddr *a)
{
	static const uint8_t zero[16], mapped[12] = { [10] = 0xff, [11] = 0xff };
	char buf[ADDR_STRLEN];
	struct ipaddr back;

	FUZZ_ASSERT(a->family == AF_INET || a->family == AF_INET6, "family %u", a->family);
	if (a->family == AF_INET)
		FUZZ_ASSERT(memcmp(a->b + 4, zero, 12) == 0, "IPv4 with bytes past the fourth");
	else
		FUZZ_ASSERT(memcmp(a->b, mapped, 12) != 0, "IPv4-mapped IPv6 left as IPv6");
	addr_format(a, buf);
	FUZZ_ASSERT(memchr(buf, '\0', sizeof buf) != NULL, "unterminated format");
	FUZZ_ASSERT(addr_parse(buf, strlen(buf), &back) == 0, "'%s' does not parse back", buf);
	FUZZ_ASSERT(addr_equal(a, &back) && addr_cmp(a, &back) == 0, "'%s' parses back differently", buf);
	(void)addr_hash(a, (uint8_t)addr_bits(a));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ipaddr a, first, last;
	struct cidr c, back;
	char *s, err[256], buf[CIDR_STRLEN];

	if (addr_parse((const char *)data, size, &a) == 0)
		check_addr(&a);

	s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	memset(err, 'x', sizeof err);
	if (cidr_parse(s, &c, err, sizeof err) == 0) {
		check_addr(&c.addr);
		FUZZ_ASSERT(c.len <= addr_bits(&c.addr), "/%u", c.len);
		first = c.addr;
		addr_mask(&first, c.len);
		FUZZ_ASSERT(addr_equal(&first, &c.addr), "host bits set in '%s'", s);
		cidr_last(&c, &last);
		FUZZ_ASSERT(cidr_contains(&c, &c.addr) && cidr_contains(&c, &last), "range without its ends");
		FUZZ_ASSERT(addr_cmp(&c.addr, &last) <= 0, "last before first");
		cidr_format(&c, buf);
		FUZZ_ASSERT(memchr(buf, '\0', sizeof buf) != NULL, "unterminated format");
		FUZZ_ASSERT(cidr_parse(buf, &back, err, sizeof err) == 0, "'%s' does not parse back: %s", buf, err);
		FUZZ_ASSERT(addr_equal(&back.addr, &c.addr) && back.len == c.len, "'%s' parses back differently", buf);
	} else {
		FUZZ_ASSERT(memchr(err, '\0', sizeof err) != NULL, "unterminated error message");
	}
	free(s);
	return 0;
}
