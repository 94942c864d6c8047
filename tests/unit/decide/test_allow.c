// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests for allow.c: the allow list. Entries of the configuration
 * are replaced at every reload, manual ones stay; manual entries may
 * expire; a match honours ranges, both families and expiry; and gen
 * moves on with every change, and only then, since the daemon mirrors
 * the list into the kernel whenever gen has moved.
 */
#include "allow.h"

#include "unit.h"

#include <check.h>
#include <stdint.h>

#define NEVER UINT64_MAX

static struct cidr C(const char *s)
{
	struct cidr c;

	ck_assert_msg(cidr_parse(s, &c, NULL, 0) == 0, "bad cidr %s", s);
	return c;
}

static struct ipaddr A(const char *s)
{
	struct ipaddr a;

	ck_assert_msg(addr_parse(s, strlen(s), &a) == 0, "bad address %s", s);
	return a;
}

/* A configuration [allow] of the ranges given, up to a NULL. */
static void set_config(struct allowlist *al, const char *const *ranges)
{
	struct cidrlist cfg = { 0 };

	for (size_t i = 0; ranges[i]; i++) {
		struct cidr c = C(ranges[i]);
		cidrlist_add(&cfg, &c);
	}
	allow_set_config(al, &cfg);
	cidrlist_release(&cfg);
}

static bool add(struct allowlist *al, const char *range, uint64_t expiry)
{
	struct cidr c = C(range);

	return allow_add(al, &c, expiry);
}

static bool del(struct allowlist *al, const char *range)
{
	struct cidr c = C(range);

	return allow_remove(al, &c);
}

/* The entry for exactly range (and origin), or NULL. */
static const struct allow_entry *entry(const struct allowlist *al, const char *range, enum allow_origin o)
{
	struct cidr c = C(range);

	for (size_t i = 0; i < al->n; i++)
		if (al->v[i].origin == o && al->v[i].target.len == c.len &&
		    addr_equal(&al->v[i].target.addr, &c.addr))
			return &al->v[i];
	return NULL;
}

static bool allowed(const struct allowlist *al, const char *ip, uint64_t now)
{
	struct ipaddr a = A(ip);

	return allow_match(al, &a, now) != NULL;
}

/* ---- the configuration's entries ---- */

START_TEST(replacing_the_config_entries_keeps_the_manual_ones)
{
	struct allowlist al = { 0 };

	set_config(&al, (const char *const[]){ "192.0.2.0/28", "2001:db8:1::/48", NULL });
	ck_assert(add(&al, "198.51.100.7", NEVER));
	ck_assert(add(&al, "2001:db8:9::/64", 5000));
	ck_assert_uint_eq(al.n, 4);
	/* a reload with another [allow] */
	set_config(&al, (const char *const[]){ "203.0.113.0/24", NULL });
	ck_assert_uint_eq(al.n, 3);
	ck_assert_ptr_nonnull(entry(&al, "203.0.113.0/24", ALLOW_CONFIG));
	ck_assert_ptr_null(entry(&al, "192.0.2.0/28", ALLOW_CONFIG));
	ck_assert_ptr_null(entry(&al, "2001:db8:1::/48", ALLOW_CONFIG));
	ck_assert_ptr_nonnull(entry(&al, "198.51.100.7", ALLOW_MANUAL));
	ck_assert_uint_eq(entry(&al, "2001:db8:9::/64", ALLOW_MANUAL)->expiry_ms, 5000);
	ck_assert(!allowed(&al, "192.0.2.1", 1000));
	ck_assert(allowed(&al, "203.0.113.200", 1000));
	ck_assert(allowed(&al, "198.51.100.7", 1000));
	/* a configuration without [allow] drops its entries only */
	allow_set_config(&al, NULL);
	ck_assert_uint_eq(al.n, 2);
	ck_assert(!allowed(&al, "203.0.113.200", 1000));
	ck_assert(allowed(&al, "2001:db8:9::1", 1000));
	allow_release(&al);
}
END_TEST

/* ---- manual entries ---- */

START_TEST(add_refuses_a_range_the_config_allows_already)
{
	struct allowlist al = { 0 };

	set_config(&al, (const char *const[]){ "192.0.2.0/24", "2001:db8::/32", NULL });
	ck_assert(!add(&al, "192.0.2.0/24", 5000));
	ck_assert(!add(&al, "2001:db8::/32", NEVER));
	ck_assert_uint_eq(al.n, 2);
	ck_assert_ptr_null(entry(&al, "192.0.2.0/24", ALLOW_MANUAL));
	/* the config's entry keeps no expiry */
	ck_assert_uint_eq(entry(&al, "192.0.2.0/24", ALLOW_CONFIG)->expiry_ms, NEVER);
	ck_assert(allowed(&al, "192.0.2.9", 6000));
	/* only the very same range: a narrower one is a manual entry of its own */
	ck_assert(add(&al, "192.0.2.0/25", 5000));
	ck_assert_uint_eq(al.n, 3);
	ck_assert_ptr_nonnull(entry(&al, "192.0.2.0/25", ALLOW_MANUAL));
	allow_release(&al);
}
END_TEST

START_TEST(add_again_updates_the_manual_entrys_expiry)
{
	struct allowlist al = { 0 };

	ck_assert(add(&al, "198.51.100.0/24", 5000));
	ck_assert(add(&al, "198.51.100.0/24", 9000));
	ck_assert_uint_eq(al.n, 1);
	ck_assert_uint_eq(al.v[0].expiry_ms, 9000);
	ck_assert(allowed(&al, "198.51.100.3", 8999));
	/* shorter too: the last word counts */
	ck_assert(add(&al, "198.51.100.0/24", 2000));
	ck_assert_uint_eq(al.n, 1);
	ck_assert(!allowed(&al, "198.51.100.3", 2000));
	/* and for good */
	ck_assert(add(&al, "198.51.100.0/24", NEVER));
	ck_assert_uint_eq(al.n, 1);
	ck_assert_uint_eq(al.v[0].expiry_ms, NEVER);
	ck_assert_int_eq(al.v[0].origin, ALLOW_MANUAL);
	/* the same address with another length is another entry */
	ck_assert(add(&al, "198.51.100.0/25", 3000));
	ck_assert_uint_eq(al.n, 2);
	ck_assert_uint_eq(entry(&al, "198.51.100.0/24", ALLOW_MANUAL)->expiry_ms, NEVER);
	allow_release(&al);
}
END_TEST

START_TEST(remove_takes_manual_entries_only)
{
	struct allowlist al = { 0 };

	set_config(&al, (const char *const[]){ "192.0.2.0/24", NULL });
	ck_assert(add(&al, "198.51.100.7", NEVER));
	ck_assert(add(&al, "2001:db8::/64", NEVER));
	ck_assert(!del(&al, "192.0.2.0/24"));
	ck_assert(allowed(&al, "192.0.2.1", 0));
	/* exactly the range: not an address inside it, not a wider one */
	ck_assert(!del(&al, "2001:db8::1"));
	ck_assert(!del(&al, "2001:db8::/48"));
	ck_assert_uint_eq(al.n, 3);
	ck_assert(del(&al, "2001:db8::/64"));
	ck_assert(!allowed(&al, "2001:db8::1", 0));
	ck_assert(!del(&al, "2001:db8::/64"));
	ck_assert_uint_eq(al.n, 2);
	ck_assert(allowed(&al, "198.51.100.7", 0));
	allow_release(&al);
}
END_TEST

START_TEST(clear_manual_removes_every_manual_entry_and_no_other)
{
	struct allowlist al = { 0 };

	ck_assert(add(&al, "198.51.100.7", NEVER));
	set_config(&al, (const char *const[]){ "192.0.2.0/24", "2001:db8::/32", NULL });
	ck_assert(add(&al, "203.0.113.0/24", 5000));
	ck_assert(add(&al, "2001:db8:ffff::/48", NEVER));
	ck_assert_uint_eq(allow_clear_manual(&al), 3);
	ck_assert_uint_eq(al.n, 2);
	ck_assert_ptr_nonnull(entry(&al, "192.0.2.0/24", ALLOW_CONFIG));
	ck_assert_ptr_nonnull(entry(&al, "2001:db8::/32", ALLOW_CONFIG));
	ck_assert(!allowed(&al, "198.51.100.7", 0));
	ck_assert(!allowed(&al, "203.0.113.1", 0));
	ck_assert_uint_eq(allow_clear_manual(&al), 0);
	ck_assert_uint_eq(al.n, 2);
	allow_release(&al);
}
END_TEST

/* ---- matching ---- */

START_TEST(match_honours_ranges_and_both_families)
{
	struct allowlist al = { 0 };
	const struct allow_entry *e;
	struct ipaddr a;

	set_config(&al, (const char *const[]){ "192.0.2.0/28", "2001:db8:1::/48", NULL });
	ck_assert(add(&al, "198.51.100.7", NEVER));
	ck_assert(add(&al, "2001:db8:2::5", NEVER));
	ck_assert(allowed(&al, "192.0.2.0", 0));
	ck_assert(allowed(&al, "192.0.2.15", 0));
	ck_assert(!allowed(&al, "192.0.2.16", 0));
	ck_assert(allowed(&al, "::ffff:192.0.2.3", 0));
	ck_assert(allowed(&al, "2001:db8:1:ffff::1", 0));
	ck_assert(!allowed(&al, "2001:db8:3::1", 0));
	ck_assert(allowed(&al, "198.51.100.7", 0));
	ck_assert(!allowed(&al, "198.51.100.8", 0));
	ck_assert(allowed(&al, "2001:db8:2::5", 0));
	ck_assert(!allowed(&al, "2001:db8:2::6", 0));
	/* the entry that allows is the one returned */
	a = A("2001:db8:1::9");
	e = allow_match(&al, &a, 0);
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(e->origin, ALLOW_CONFIG);
	ck_assert_uint_eq(e->target.len, 48);
	a = A("198.51.100.7");
	e = allow_match(&al, &a, 0);
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(e->origin, ALLOW_MANUAL);
	allow_release(&al);
}
END_TEST

START_TEST(match_never_crosses_families)
{
	struct allowlist al = { 0 };

	/* everything of one family allows nothing of the other */
	set_config(&al, (const char *const[]){ "0.0.0.0/0", NULL });
	ck_assert(allowed(&al, "203.0.113.1", 0));
	ck_assert(!allowed(&al, "2001:db8::1", 0));
	set_config(&al, (const char *const[]){ "::/0", NULL });
	ck_assert(allowed(&al, "2001:db8::1", 0));
	ck_assert(!allowed(&al, "203.0.113.1", 0));
	allow_release(&al);
}
END_TEST

START_TEST(match_honours_expiry)
{
	struct allowlist al = { 0 };

	ck_assert(add(&al, "203.0.113.0/24", 5000));
	ck_assert(add(&al, "2001:db8::/64", NEVER));
	ck_assert(allowed(&al, "203.0.113.5", 0));
	ck_assert(allowed(&al, "203.0.113.5", 4999));
	/* an entry ends at its expiry, even before allow_expire drops it */
	ck_assert(!allowed(&al, "203.0.113.5", 5000));
	ck_assert(!allowed(&al, "203.0.113.5", 6000));
	ck_assert_uint_eq(al.n, 2);
	ck_assert(allowed(&al, "2001:db8::5", UINT64_MAX - 1));
	/* an expired entry does not hide a wider one that is still in force */
	set_config(&al, (const char *const[]){ "203.0.0.0/16", NULL });
	ck_assert(allowed(&al, "203.0.113.5", 6000));
	allow_release(&al);
}
END_TEST

/* ---- expiry ---- */

START_TEST(expire_drops_expired_manual_entries_only)
{
	struct allowlist al = { 0 };

	set_config(&al, (const char *const[]){ "192.0.2.0/24", NULL });
	ck_assert(add(&al, "198.51.100.1", 1000));
	ck_assert(add(&al, "198.51.100.2", 2000));
	ck_assert(add(&al, "198.51.100.3", 3000));
	ck_assert(add(&al, "2001:db8::/64", NEVER));
	ck_assert_uint_eq(allow_expire(&al, 999), 0);
	ck_assert_uint_eq(al.n, 5);
	/* at its expiry an entry goes */
	ck_assert_uint_eq(allow_expire(&al, 2000), 2);
	ck_assert_uint_eq(al.n, 3);
	ck_assert_ptr_null(entry(&al, "198.51.100.1", ALLOW_MANUAL));
	ck_assert_ptr_null(entry(&al, "198.51.100.2", ALLOW_MANUAL));
	ck_assert_ptr_nonnull(entry(&al, "198.51.100.3", ALLOW_MANUAL));
	/* the config's entries and manual ones for good stay for ever */
	ck_assert_uint_eq(allow_expire(&al, UINT64_MAX - 1), 1);
	ck_assert_uint_eq(al.n, 2);
	ck_assert_ptr_nonnull(entry(&al, "192.0.2.0/24", ALLOW_CONFIG));
	ck_assert_ptr_nonnull(entry(&al, "2001:db8::/64", ALLOW_MANUAL));
	allow_release(&al);
}
END_TEST

/* ---- gen ---- */

START_TEST(gen_moves_on_every_change_and_not_otherwise)
{
	struct allowlist al = { 0 };
	struct ipaddr a = A("198.51.100.7");
	uint64_t g = al.gen;

#define MOVED()                                                         \
	do {                                                            \
		ck_assert_uint_ne(al.gen, g);                           \
		g = al.gen;                                             \
	} while (0)
#define STILL() ck_assert_uint_eq(al.gen, g)

	set_config(&al, (const char *const[]){ "192.0.2.0/24", NULL });
	MOVED();
	ck_assert(add(&al, "198.51.100.7", 5000));
	MOVED();
	ck_assert(add(&al, "198.51.100.7", 9000));     /* a new expiry */
	MOVED();
	ck_assert(add(&al, "203.0.113.0/24", NEVER));
	MOVED();
	ck_assert(!add(&al, "192.0.2.0/24", NEVER));   /* refused */
	STILL();
	ck_assert(!del(&al, "192.0.2.0/24"));          /* the config's */
	STILL();
	ck_assert(!del(&al, "198.51.100.8"));          /* not there */
	STILL();
	ck_assert_ptr_nonnull(allow_match(&al, &a, 0));
	ck_assert_ptr_null(allow_match(&al, &a, 9000));
	STILL();
	ck_assert_uint_eq(allow_expire(&al, 8999), 0);
	STILL();
	ck_assert_uint_eq(allow_expire(&al, 9000), 1);
	MOVED();
	ck_assert(del(&al, "203.0.113.0/24"));
	MOVED();
	ck_assert(add(&al, "2001:db8::/64", NEVER));
	MOVED();
	ck_assert_uint_eq(allow_clear_manual(&al), 1);
	MOVED();
	ck_assert_uint_eq(allow_clear_manual(&al), 0);
	STILL();
	allow_set_config(&al, NULL);
	MOVED();
	ck_assert_uint_eq(al.n, 0);
#undef MOVED
#undef STILL
	allow_release(&al);
}
END_TEST

int main(void)
{
	TCase *tc = tcase_create("allow");

	tcase_add_test(tc, replacing_the_config_entries_keeps_the_manual_ones);
	tcase_add_test(tc, add_refuses_a_range_the_config_allows_already);
	tcase_add_test(tc, add_again_updates_the_manual_entrys_expiry);
	tcase_add_test(tc, remove_takes_manual_entries_only);
	tcase_add_test(tc, clear_manual_removes_every_manual_entry_and_no_other);
	tcase_add_test(tc, match_honours_ranges_and_both_families);
	tcase_add_test(tc, match_never_crosses_families);
	tcase_add_test(tc, match_honours_expiry);
	tcase_add_test(tc, expire_drops_expired_manual_entries_only);
	tcase_add_test(tc, gen_moves_on_every_change_and_not_otherwise);
	return ut_run("allow", tc);
}
