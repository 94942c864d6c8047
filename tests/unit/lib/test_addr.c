// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests for addr.c: parsing, normalisation, ranges. */
#include "addr.h"

#include "unit.h"

#include <check.h>
#include <stdlib.h>
#include <string.h>

static const char *norm(const char *s)
{
	static char buf[ADDR_STRLEN];
	struct ipaddr a;

	if (addr_parse(s, strlen(s), &a) < 0)
		return "invalid";
	addr_format(&a, buf);
	return buf;
}

START_TEST(parse_accepts_plain_bracketed_and_ported_forms)
{
	ck_assert_str_eq(norm("192.0.2.1"), "192.0.2.1");
	ck_assert_str_eq(norm("192.0.2.1:25"), "192.0.2.1");
	ck_assert_str_eq(norm("[192.0.2.1]"), "192.0.2.1");
	ck_assert_str_eq(norm("2001:db8::1"), "2001:db8::1");
	ck_assert_str_eq(norm("[2001:db8::1]:587"), "2001:db8::1");
	ck_assert_str_eq(norm("2001:DB8:0:0::1"), "2001:db8::1");
}
END_TEST

START_TEST(parse_maps_ipv4_mapped_ipv6_to_ipv4)
{
	ck_assert_str_eq(norm("::ffff:203.0.113.7"), "203.0.113.7");
	ck_assert_str_eq(norm("[::ffff:203.0.113.7]:25"), "203.0.113.7");
}
END_TEST

START_TEST(parse_rejects_garbage)
{
	const char *bad[] = { "", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.4:", "1.2.3.4:x",
			      "[1.2.3.4", "[::1]x", "fe80::1%eth0", "host.example", "1.2.3.4 ",
			      " 1.2.3.4", "::1::2", "01234567890123456789012345678901234567890123456789" };
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		ck_assert_msg(strcmp(norm(bad[i]), "invalid") == 0, "accepted '%s'", bad[i]);
}
END_TEST

START_TEST(parse_rejects_a_nul_inside)
{
	struct ipaddr a;

	ck_assert_int_eq(addr_parse("198.51.100.77\0]", 15, &a), -1);
	ck_assert_int_eq(addr_parse("198.51.100.77\0", 14, &a), -1);
	ck_assert_int_eq(addr_parse("198.51.100.77", 13, &a), 0);
}
END_TEST

START_TEST(cidr_parse_checks_length_and_host_bits)
{
	struct cidr c;
	char err[128], buf[CIDR_STRLEN];

	ck_assert_int_eq(cidr_parse("198.51.100.0/24", &c, err, sizeof err), 0);
	cidr_format(&c, buf);
	ck_assert_str_eq(buf, "198.51.100.0/24");
	ck_assert_int_eq(cidr_parse("2001:db8:1::/48", &c, err, sizeof err), 0);
	ck_assert_int_eq(c.len, 48);
	ck_assert_int_eq(cidr_parse("192.0.2.10", &c, err, sizeof err), 0);
	ck_assert_int_eq(c.len, 32);
	ck_assert_int_eq(cidr_parse("198.51.100.1/24", &c, err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "198.51.100.0/24"));
	ck_assert_int_eq(cidr_parse("198.51.100.0/33", &c, err, sizeof err), -1);
	ck_assert_int_eq(cidr_parse("198.51.100.0/", &c, err, sizeof err), -1);
	ck_assert_int_eq(cidr_parse("198.51.100.0/-1", &c, err, sizeof err), -1);
}
END_TEST

/* cidr_contains agrees with masking the address, at every prefix length
 * and for addresses inside, at the edge and just outside. */
START_TEST(cidr_contains_agrees_with_masking)
{
	unsigned seed = 12345;

	for (int round = 0; round < 20000; round++) {
		struct ipaddr a, r;
		struct cidr c;
		int fam = round & 1 ? AF_INET6 : AF_INET, bits = fam == AF_INET ? 32 : 128;

		memset(&a, 0, sizeof a);
		a.family = (uint8_t)fam;
		for (int i = 0; i < bits / 8; i++)
			a.b[i] = (unsigned char)(rand_r(&seed) >> 7);
		r = a;
		/* a range near the address: flip one bit somewhere */
		r.b[rand_r(&seed) % (bits / 8)] ^= (unsigned char)(1u << (rand_r(&seed) % 8));
		cidr_from_addr(&c, &r, (int)(rand_r(&seed) % (unsigned)(bits + 1)));
		{
			struct ipaddr m = a;
			addr_mask(&m, c.len);
			ck_assert_int_eq(cidr_contains(&c, &a), memcmp(m.b, c.addr.b, 16) == 0);
		}
	}
}
END_TEST

START_TEST(cidr_contains_and_last)
{
	struct cidr c;
	struct ipaddr a, last;
	char buf[ADDR_STRLEN];

	ck_assert_int_eq(cidr_parse("2001:db8:1::/48", &c, NULL, 0), 0);
	ck_assert_int_eq(addr_parse("2001:db8:1:ffff::5", 18, &a), 0);
	ck_assert(cidr_contains(&c, &a));
	ck_assert_int_eq(addr_parse("2001:db8:2::5", 13, &a), 0);
	ck_assert(!cidr_contains(&c, &a));
	ck_assert_int_eq(addr_parse("192.0.2.1", 9, &a), 0);
	ck_assert(!cidr_contains(&c, &a));
	ck_assert_int_eq(cidr_parse("192.0.2.0/24", &c, NULL, 0), 0);
	cidr_last(&c, &last);
	addr_format(&last, buf);
	ck_assert_str_eq(buf, "192.0.2.255");
	ck_assert(addr_increment(&last));
	addr_format(&last, buf);
	ck_assert_str_eq(buf, "192.0.3.0");
}
END_TEST

START_TEST(loopback_is_recognised)
{
	struct ipaddr a;

	ck_assert_int_eq(addr_parse("127.0.0.2", 9, &a), 0);
	ck_assert(addr_is_loopback(&a));
	ck_assert_int_eq(addr_parse("::1", 3, &a), 0);
	ck_assert(addr_is_loopback(&a));
	ck_assert_int_eq(addr_parse("::ffff:127.0.0.1", 16, &a), 0);
	ck_assert(addr_is_loopback(&a));
	ck_assert_int_eq(addr_parse("192.0.2.1", 9, &a), 0);
	ck_assert(!addr_is_loopback(&a));
}
END_TEST

int main(void)
{
	TCase *tc = tcase_create("addr");

	tcase_add_test(tc, parse_accepts_plain_bracketed_and_ported_forms);
	tcase_add_test(tc, parse_maps_ipv4_mapped_ipv6_to_ipv4);
	tcase_add_test(tc, parse_rejects_garbage);
	tcase_add_test(tc, parse_rejects_a_nul_inside);
	tcase_add_test(tc, cidr_parse_checks_length_and_host_bits);
	tcase_add_test(tc, cidr_contains_and_last);
	tcase_add_test(tc, cidr_contains_agrees_with_masking);
	tcase_add_test(tc, loopback_is_recognised);
	return ut_run("addr", tc);
}
