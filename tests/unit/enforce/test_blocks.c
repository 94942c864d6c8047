// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests for blocks.c: the list of blocks and what the kernel must
 * hold for it. The kernel here is a model of an nftables interval set
 * with timeouts: an element that overlaps another is refused (EEXIST), a
 * delete of an element that is not there fails (ENOENT), and an element
 * is gone once its expiry has passed. After every step the invariant is
 * checked: every listed block with time left is covered by a live
 * element at least as long as the block, and the set holds nothing else
 * than the elements the list needs.
 */
#include "blocks.h"
#include "duration.h"

#include "unit.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SEC 1000ULL
#define MIN (60 * SEC)
#define HOUR (60 * MIN)

/* ---- the model set ---- */

struct elem {
	struct cidr c;
	uint64_t exp;
};

static struct {
	struct elem v[4096];
	size_t n;
	uint64_t now;
	unsigned puts, dels, errors;
	char last_error[160];
} K;

static void k_reset(uint64_t now)
{
	memset(&K, 0, sizeof K);
	K.now = now;
}

static bool live(const struct elem *e)
{
	return e->exp > K.now;
}

static bool overlap(const struct cidr *a, const struct cidr *b)
{
	return a->addr.family == b->addr.family &&
	       (cidr_contains(a, &b->addr) || cidr_contains(b, &a->addr));
}

static bool same(const struct cidr *a, const struct cidr *b)
{
	return a->len == b->len && addr_equal(&a->addr, &b->addr);
}

static void k_error(const char *what, const struct cidr *c)
{
	char buf[CIDR_STRLEN];

	cidr_format(c, buf);
	K.errors++;
	snprintf(K.last_error, sizeof K.last_error, "%s %s", what, buf);
}

static void k_put(void *arg, const struct cidr *c, uint64_t exp, uint64_t now)
{
	(void)arg;
	ck_assert_uint_eq(now, K.now);
	K.puts++;
	if (exp <= K.now) {
		k_error("put with an expiry in the past:", c);
		return;
	}
	for (size_t i = 0; i < K.n; i++) {
		if (!live(&K.v[i]))
			continue;
		if (same(&K.v[i].c, c)) {
			K.v[i].exp = exp;       /* an update of the element */
			return;
		}
		if (overlap(&K.v[i].c, c)) {
			k_error("EEXIST: overlapping put of", c);
			return;
		}
	}
	ck_assert_uint_lt(K.n, 4096);
	K.v[K.n++] = (struct elem){ *c, exp };
}

static void k_del(void *arg, const struct cidr *c)
{
	(void)arg;
	K.dels++;
	for (size_t i = 0; i < K.n; i++)
		if (live(&K.v[i]) && same(&K.v[i].c, c)) {
			K.v[i] = K.v[--K.n];
			return;
		}
	k_error("ENOENT: delete of", c);
}

static const struct blocks_kernel model = { k_put, k_del, NULL };

/* Does the kernel drop address a at the model's now? */
static bool k_drops(const struct ipaddr *a)
{
	for (size_t i = 0; i < K.n; i++)
		if (live(&K.v[i]) && cidr_contains(&K.v[i].c, a))
			return true;
	return false;
}

static struct cidr C(const char *s)
{
	struct cidr c;

	ck_assert_msg(cidr_parse(s, &c, NULL, 0) == 0, "bad cidr %s", s);
	return c;
}

/* ---- the invariant ---- */

struct inv {
	struct blocks *b;
	unsigned bad;
	char msg[200];
};

static void check_block(void *arg, const struct block *blk)
{
	struct inv *iv = arg;
	char t[CIDR_STRLEN];
	bool covered = false;

	if (blk->expiry_ms <= K.now)
		return;
	for (size_t i = 0; i < K.n; i++)
		if (live(&K.v[i]) && K.v[i].c.addr.family == blk->target.addr.family &&
		    K.v[i].c.len <= blk->target.len && cidr_contains(&K.v[i].c, &blk->target.addr) &&
		    K.v[i].exp >= blk->expiry_ms)
			covered = true;
	if (!covered) {
		cidr_format(&blk->target, t);
		iv->bad++;
		snprintf(iv->msg, sizeof iv->msg, "listed block %s is not enforced until its expiry", t);
	}
}

struct need {
	const struct cidr *c;
	uint64_t max;
	bool listed;
};

static void need_of(void *arg, const struct block *blk)
{
	struct need *nd = arg;

	if (blk->expiry_ms <= K.now)
		return;
	if (same(&blk->target, nd->c))
		nd->listed = true;
	if (blk->target.addr.family == nd->c->addr.family && blk->target.len >= nd->c->len &&
	    cidr_contains(nd->c, &blk->target.addr) && blk->expiry_ms > nd->max)
		nd->max = blk->expiry_ms;
}

static void invariant(struct blocks *b, const char *step)
{
	struct inv iv = { b, 0, "" };

	ck_assert_msg(K.errors == 0, "%s: kernel refused: %s", step, K.last_error);
	blocks_foreach(b, check_block, &iv);
	ck_assert_msg(iv.bad == 0, "%s: %s", step, iv.msg);
	/* nothing more than needed: each live element is a listed block,
	 * kept exactly until the latest expiry inside it */
	for (size_t i = 0; i < K.n; i++) {
		struct need nd = { &K.v[i].c, 0, false };
		char t[CIDR_STRLEN];

		if (!live(&K.v[i]))
			continue;
		cidr_format(&K.v[i].c, t);
		blocks_foreach(b, need_of, &nd);
		ck_assert_msg(nd.listed, "%s: element %s is not a listed block", step, t);
		ck_assert_msg(nd.max == K.v[i].exp, "%s: element %s kept until %llu, needed until %llu", step, t,
			      (unsigned long long)K.v[i].exp, (unsigned long long)nd.max);
	}
}

static void add(struct blocks *b, const char *t, uint64_t dur)
{
	struct cidr c = C(t);
	bool ext;

	blocks_add(b, &c, K.now, dur, "test", "test", &ext);
}

static bool del(struct blocks *b, const char *t)
{
	struct cidr c = C(t);

	return blocks_remove(b, &c, K.now);
}

/* time passes: the model set forgets expired elements, the list expires */
static void advance(struct blocks *b, uint64_t ms)
{
	K.now += ms;
	blocks_expire(b, K.now);
}

static bool drops(const char *a)
{
	struct ipaddr ip;

	ck_assert_int_eq(addr_parse(a, strlen(a), &ip), 0);
	return k_drops(&ip);
}

/* ---- the defects as reported ---- */

START_TEST(address_survives_a_shorter_range_over_it)
{
	struct blocks *b;

	k_reset(1000 * HOUR);
	b = blocks_new(&model);
	add(b, "203.0.113.5", DURATION_PERMANENT);
	invariant(b, "permanent .5");
	add(b, "203.0.113.0/24", 3 * SEC);
	invariant(b, "/24 for 3s over it");
	ck_assert(drops("203.0.113.77"));
	advance(b, 5 * SEC);
	invariant(b, "5s later");
	ck_assert(drops("203.0.113.5"));
	ck_assert(!drops("203.0.113.77"));
	ck_assert_uint_eq(blocks_count(b), 1);
	blocks_free(b);
}
END_TEST

START_TEST(rule_block_inside_a_short_manual_range_stays)
{
	struct blocks *b;

	k_reset(1000 * HOUR);
	b = blocks_new(&model);
	add(b, "2001:db8:1::/48", 10 * SEC);
	add(b, "2001:db8:1:2::/64", HOUR);       /* a rule's block, made under it */
	invariant(b, "rule block under the range");
	advance(b, 11 * SEC);
	invariant(b, "range ended");
	ck_assert(drops("2001:db8:1:2::99"));
	ck_assert(!drops("2001:db8:1:3::1"));
	advance(b, HOUR);
	invariant(b, "all ended");
	ck_assert(!drops("2001:db8:1:2::99"));
	for (size_t i = 0; i < K.n; i++)
		ck_assert(!live(&K.v[i]));
	blocks_free(b);
}
END_TEST

START_TEST(prefix_block_over_addresses_frees_none_that_still_has_time)
{
	struct blocks *b;
	char a[32];

	k_reset(1000 * HOUR);
	b = blocks_new(&model);
	for (int i = 1; i <= 5; i++) {
		snprintf(a, sizeof a, "198.51.100.%d", i);
		add(b, a, (uint64_t)i * HOUR);  /* repeat offenders: longer and longer */
	}
	add(b, "198.51.100.5", DURATION_PERMANENT);
	add(b, "198.51.100.0/24", 2 * HOUR);    /* [prefix] */
	invariant(b, "prefix over five addresses");
	ck_assert_uint_eq(K.n, 1);
	advance(b, 2 * HOUR + SEC);
	invariant(b, "prefix ended");
	ck_assert(!drops("198.51.100.1"));
	ck_assert(!drops("198.51.100.2"));
	ck_assert(drops("198.51.100.3"));
	ck_assert(drops("198.51.100.4"));
	ck_assert(drops("198.51.100.5"));
	ck_assert(!drops("198.51.100.99"));
	blocks_free(b);
}
END_TEST

START_TEST(removing_a_range_puts_back_what_it_covered)
{
	struct blocks *b;

	k_reset(1000 * HOUR);
	b = blocks_new(&model);
	add(b, "192.0.2.0/24", DURATION_PERMANENT);
	add(b, "192.0.2.7", HOUR);
	add(b, "192.0.2.128/25", 2 * HOUR);
	add(b, "192.0.2.200", 3 * HOUR);
	invariant(b, "nested three deep");
	ck_assert_uint_eq(K.n, 1);
	ck_assert(del(b, "192.0.2.0/24"));
	invariant(b, "outer range removed");
	ck_assert_uint_eq(K.n, 2);      /* .7 and the /25 (which covers .200) */
	ck_assert(drops("192.0.2.7") && drops("192.0.2.129") && drops("192.0.2.200"));
	ck_assert(!drops("192.0.2.8"));
	ck_assert(del(b, "192.0.2.128/25"));
	invariant(b, "/25 removed");
	ck_assert(drops("192.0.2.200") && !drops("192.0.2.129"));
	ck_assert(!del(b, "192.0.2.128/25"));
	blocks_free(b);
}
END_TEST

START_TEST(unblocking_inside_a_range_shortens_the_range_element)
{
	struct blocks *b;

	k_reset(1000 * HOUR);
	b = blocks_new(&model);
	add(b, "203.0.113.0/24", HOUR);
	add(b, "203.0.113.9", 5 * HOUR);
	invariant(b, "range held for 5h");
	ck_assert_uint_eq(K.v[0].exp, K.now + 5 * HOUR);
	ck_assert(del(b, "203.0.113.9"));
	invariant(b, "address unblocked");
	ck_assert_uint_eq(K.v[0].exp, K.now + HOUR);
	blocks_free(b);
}
END_TEST

START_TEST(forgetting_a_deleted_element_puts_back_what_it_covered)
{
	struct blocks *b;
	struct cidr r = C("203.0.113.0/24");

	k_reset(1000 * HOUR);
	b = blocks_new(&model);
	add(b, "203.0.113.5", HOUR);
	add(b, "203.0.113.0/24", HOUR / 2);
	/* someone deletes the /24 element by hand */
	k_del(NULL, &r);
	ck_assert_uint_eq(K.errors, 0);
	ck_assert(blocks_forget(b, &r, K.now));
	invariant(b, "range forgotten");
	ck_assert(drops("203.0.113.5"));
	blocks_free(b);
}
END_TEST

/* what the end hook heard: "target how" per entry, in order */
static char ended[256];

static void on_end(void *arg, const struct block *blk, enum blocks_end how)
{
	char t[CIDR_STRLEN];

	(void)arg;
	cidr_format(&blk->target, t);
	snprintf(ended + strlen(ended), sizeof ended - strlen(ended), "%s%s %s", *ended ? ", " : "", t,
		 how == BLOCKS_EXPIRED ? "expired" : how == BLOCKS_REMOVED ? "removed" : "forgotten");
}

START_TEST(every_entry_that_leaves_is_told_how_once)
{
	struct blocks *b;
	struct cidr a6 = C("203.0.113.6"), a7 = C("203.0.113.7");

	k_reset(1000 * HOUR);
	b = blocks_new(&model);
	blocks_on_end(b, on_end, NULL);
	ended[0] = '\0';
	add(b, "203.0.113.5", HOUR);
	add(b, "203.0.113.6", 2 * HOUR);
	add(b, "203.0.113.7", 2 * HOUR);
	add(b, "203.0.113.5", 2 * HOUR);      /* extended: nothing ends */
	ck_assert_str_eq(ended, "");
	ck_assert(blocks_remove(b, &a6, K.now));
	k_del(NULL, &a7);
	ck_assert(blocks_forget(b, &a7, K.now));
	ck_assert(!blocks_remove(b, &a6, K.now));
	ck_assert_uint_eq(blocks_expire(b, K.now + 2 * HOUR), 1);
	ck_assert_str_eq(ended, "203.0.113.6 removed, 203.0.113.7 forgotten, 203.0.113.5 expired");
	blocks_free(b);
	ck_assert_str_eq(ended, "203.0.113.6 removed, 203.0.113.7 forgotten, 203.0.113.5 expired");
}
END_TEST

START_TEST(queries_count_cover_and_next_expiry)
{
	struct blocks *b;
	struct cidr p24 = C("198.51.100.0/24"), p16 = C("198.51.0.0/16"), p48 = C("2001:db8::/48");
	struct ipaddr ip;

	k_reset(1000 * HOUR);
	b = blocks_new(NULL);
	ck_assert_uint_eq(blocks_next_expiry(b), UINT64_MAX);
	add(b, "198.51.100.1", HOUR);
	add(b, "198.51.100.2", 2 * HOUR);
	add(b, "198.51.101.2", 3 * HOUR);
	add(b, "198.51.100.0/24", 30 * MIN);
	add(b, "2001:db8::/64", DURATION_PERMANENT);
	ck_assert_uint_eq(blocks_count(b), 5);
	ck_assert_uint_eq(blocks_count_inside(b, &p24), 2);
	ck_assert_uint_eq(blocks_count_inside(b, &p16), 4);
	ck_assert_uint_eq(blocks_count_inside(b, &p48), 1);
	ck_assert_uint_eq(blocks_next_expiry(b), K.now + 30 * MIN);
	addr_parse("198.51.100.1", 12, &ip);
	ck_assert_uint_eq(blocks_covering(b, &ip)->target.len, 32);
	addr_parse("198.51.100.9", 12, &ip);
	ck_assert_uint_eq(blocks_covering(b, &ip)->target.len, 24);
	addr_parse("198.51.102.9", 12, &ip);
	ck_assert_ptr_null(blocks_covering(b, &ip));
	advance(b, 31 * MIN);
	ck_assert_uint_eq(blocks_count(b), 4);
	ck_assert_uint_eq(blocks_next_expiry(b), K.now - 31 * MIN + HOUR);
	blocks_free(b);
}
END_TEST

struct order {
	char got[8][CIDR_STRLEN];
	int n;
};

static void record(void *arg, const struct block *blk)
{
	struct order *o = arg;

	ck_assert_int_lt(o->n, 8);
	cidr_format(&blk->target, o->got[o->n++]);
}

START_TEST(foreach_is_in_address_order_ranges_first)
{
	static const char *const in[] = { "192.0.2.9", "192.0.2.0/24", "192.0.2.1", "10.0.0.1", "2001:db8::1" };
	static const char *const want[] = { "10.0.0.1", "192.0.2.0/24", "192.0.2.1", "192.0.2.9", "2001:db8::1" };
	struct blocks *b;
	struct order o = { .n = 0 };

	k_reset(1000 * HOUR);
	b = blocks_new(NULL);
	for (int i = 0; i < 5; i++)
		add(b, in[i], HOUR);
	blocks_foreach(b, record, &o);
	ck_assert_int_eq(o.n, 5);
	for (int i = 0; i < 5; i++)
		ck_assert_str_eq(o.got[i], want[i]);
	blocks_free(b);
}
END_TEST

/* ---- every order of add, expire and remove ---- */

/* Three nested targets per family, each with a duration; every
 * permutation of their adds, then every permutation of their ends (a
 * removal or an expiry), with the invariant after each step. */
static void nested_orders(const char *const t[3])
{
	static const uint64_t durs[3][3] = {
		{ HOUR, 2 * HOUR, 3 * HOUR },
		{ 3 * HOUR, 2 * HOUR, HOUR },
		{ 2 * HOUR, DURATION_PERMANENT, HOUR },
	};
	static const int perm[6][3] = { { 0, 1, 2 }, { 0, 2, 1 }, { 1, 0, 2 }, { 1, 2, 0 }, { 2, 0, 1 }, { 2, 1, 0 } };

	for (int d = 0; d < 3; d++)
		for (int pa = 0; pa < 6; pa++)
			for (int pe = 0; pe < 6; pe++)
				for (int how = 0; how < 8; how++) {     /* bit i: end i by removal, else expiry */
					struct blocks *b;
					char step[160];

					k_reset(1000 * HOUR);
					b = blocks_new(&model);
					for (int i = 0; i < 3; i++) {
						int k = perm[pa][i];
						add(b, t[k], durs[d][k]);
						K.now += SEC;
						blocks_expire(b, K.now);
						snprintf(step, sizeof step, "durs %d adds %d: add %s", d, pa, t[k]);
						invariant(b, step);
					}
					for (int i = 0; i < 3; i++) {
						int k = perm[pe][i];
						struct cidr c = C(t[k]);
						struct block *blk = blocks_find(b, &c);
						snprintf(step, sizeof step, "durs %d adds %d ends %d how %d: end %s", d, pa, pe,
							 how, t[k]);
						if (!blk)
							continue;
						if ((how >> k) & 1 || blk->expiry_ms == UINT64_MAX) {
							ck_assert(blocks_remove(b, &c, K.now));
						} else if (blk->expiry_ms > K.now) {
							K.now = blk->expiry_ms;
							blocks_expire(b, K.now);
						}
						invariant(b, step);
					}
					ck_assert_uint_eq(blocks_count(b), 0);
					for (size_t i = 0; i < K.n; i++)
						ck_assert(!live(&K.v[i]));
					blocks_free(b);
				}
}

START_TEST(every_order_of_nested_ipv4_ranges)
{
	static const char *const t[3] = { "203.0.113.0/24", "203.0.113.0/26", "203.0.113.5" };

	nested_orders(t);
}
END_TEST

START_TEST(every_order_of_nested_ipv6_ranges)
{
	static const char *const t[3] = { "2001:db8::/32", "2001:db8:5::/48", "2001:db8:5:0:1::/80" };

	nested_orders(t);
}
END_TEST

/* Random adds, removals and expiries over a small address space, so
 * that ranges keep nesting and parting; the invariant after each. */
START_TEST(random_changes_keep_every_block_enforced)
{
	static const int lens4[] = { 16, 20, 24, 26, 28, 30, 32, 32, 32 };
	static const int lens6[] = { 32, 48, 56, 64, 64, 96, 128 };
	struct blocks *b;
	unsigned seed = 12345;

	k_reset(1000 * HOUR);
	b = blocks_new(&model);
	for (int step = 0; step < 20000; step++) {
		char buf[80];
		struct cidr c;
		struct ipaddr a = { 0 };
		unsigned r = rand_r(&seed);
		bool v6 = r & 1;
		int len;

		a.family = v6 ? AF_INET6 : AF_INET;
		if (v6) {
			a.b[0] = 0x20, a.b[1] = 0x01, a.b[2] = 0x0d, a.b[3] = 0xb8;
			a.b[5] = (uint8_t)(rand_r(&seed) & 3);
			a.b[7] = (uint8_t)(rand_r(&seed) & 3);
			a.b[15] = (uint8_t)(rand_r(&seed) & 7);
			len = lens6[rand_r(&seed) % 7];
		} else {
			a.b[0] = 198, a.b[1] = 51, a.b[2] = (uint8_t)(100 + (rand_r(&seed) & 1));
			a.b[3] = (uint8_t)(rand_r(&seed) & 0x1f);
			len = lens4[rand_r(&seed) % 9];
		}
		cidr_from_addr(&c, &a, len);
		switch (rand_r(&seed) % 5) {
		case 0:
		case 1: {
			bool ext;
			uint64_t dur = rand_r(&seed) % 10 == 0 ? DURATION_PERMANENT : (uint64_t)(1 + rand_r(&seed) % 600) * SEC;
			blocks_add(b, &c, K.now, dur, "r", "r", &ext);
			break;
		}
		case 2:
			blocks_remove(b, &c, K.now);
			break;
		default:
			K.now += (uint64_t)(rand_r(&seed) % 30) * SEC;
			blocks_expire(b, K.now);
			break;
		}
		cidr_format(&c, buf);
		if (step % 7 == 0 || K.errors) {
			char what[120];
			snprintf(what, sizeof what, "random step %d (%s)", step, buf);
			invariant(b, what);
		}
	}
	blocks_free(b);
}
END_TEST

int main(void)
{
	TCase *tc = tcase_create("blocks");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, address_survives_a_shorter_range_over_it);
	tcase_add_test(tc, rule_block_inside_a_short_manual_range_stays);
	tcase_add_test(tc, prefix_block_over_addresses_frees_none_that_still_has_time);
	tcase_add_test(tc, removing_a_range_puts_back_what_it_covered);
	tcase_add_test(tc, unblocking_inside_a_range_shortens_the_range_element);
	tcase_add_test(tc, forgetting_a_deleted_element_puts_back_what_it_covered);
	tcase_add_test(tc, every_entry_that_leaves_is_told_how_once);
	tcase_add_test(tc, queries_count_cover_and_next_expiry);
	tcase_add_test(tc, foreach_is_in_address_order_ranges_first);
	tcase_add_test(tc, every_order_of_nested_ipv4_ranges);
	tcase_add_test(tc, every_order_of_nested_ipv6_ranges);
	tcase_add_test(tc, random_changes_keep_every_block_enforced);
	return ut_run("blocks", tc);
}
