// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests for cluster_entry.c: the [cluster] values' syntax, a shared
 * decision encoded and read back, every kind of bad entry a peer or a
 * forger could write rejected, our own entries skipped, accept honoured,
 * and the reconnection back-off. */
#include "cluster.h"
#include "cluster_entry.h"
#include "duration.h"
#include "log.h"

#include "unit.h"

#include <check.h>
#include <string.h>

static int decode(const char *const *s, size_t n, unsigned accept, struct cluster_entry *out, char *err)
{
	size_t lens[64];

	for (size_t i = 0; i < n; i++)
		lens[i] = strlen(s[i]);
	return cluster_entry_decode(s, lens, n, &cluster_default_limits, "me", accept, out, err, ERR_LEN);
}

START_TEST(test_redis_address)
{
	struct cluster_redis r;
	char err[ERR_LEN];

	ck_assert_int_eq(cluster_redis_parse("unix:/run/redis/redis.sock", &r, err, sizeof err), 0);
	ck_assert(r.is_unix);
	ck_assert_str_eq(r.path, "/run/redis/redis.sock");
	ck_assert_int_eq(cluster_redis_parse("192.0.2.7:6379", &r, err, sizeof err), 0);
	ck_assert_str_eq(r.path, "192.0.2.7");
	ck_assert_uint_eq(r.port, 6379);
	ck_assert_int_eq(cluster_redis_parse("[2001:db8::7]:6380", &r, err, sizeof err), 0);
	ck_assert_str_eq(r.path, "2001:db8::7");
	ck_assert_uint_eq(r.port, 6380);
	ck_assert_int_eq(cluster_redis_parse("redis.example.org:6379", &r, err, sizeof err), 0);
	ck_assert_int_eq(cluster_redis_parse("unix:relative", &r, err, sizeof err), -1);
	ck_assert_int_eq(cluster_redis_parse("192.0.2.7", &r, err, sizeof err), -1);
	ck_assert_int_eq(cluster_redis_parse("192.0.2.7:0", &r, err, sizeof err), -1);
	ck_assert_int_eq(cluster_redis_parse("192.0.2.7:65536", &r, err, sizeof err), -1);
	ck_assert_int_eq(cluster_redis_parse("2001:db8::7:6379", &r, err, sizeof err), -1);
	ck_assert_int_eq(cluster_redis_parse("[2001:db8::zz]:6379", &r, err, sizeof err), -1);
	ck_assert_int_eq(cluster_redis_parse("a b:1", &r, err, sizeof err), -1);
}
END_TEST

START_TEST(test_names_and_classes)
{
	char err[ERR_LEN];
	unsigned m;

	ck_assert_int_eq(cluster_name_check("mx1.example-org_2", false, err, sizeof err), 0);
	ck_assert_int_eq(cluster_name_check("mx1:a", false, err, sizeof err), -1);
	ck_assert_int_eq(cluster_name_check("mailscreen:", true, err, sizeof err), 0);
	ck_assert_int_eq(cluster_name_check("", false, err, sizeof err), -1);
	ck_assert_int_eq(cluster_name_check("a b", true, err, sizeof err), -1);
	ck_assert_int_eq(cluster_name_check("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false, err,
					    sizeof err), -1);   /* 65 */
	ck_assert_int_eq(cluster_classes_parse("blocks accounts", &m, err, sizeof err), 0);
	ck_assert_uint_eq(m, CLUSTER_BLOCKS | CLUSTER_ACCOUNTS);
	ck_assert_int_eq(cluster_classes_parse("", &m, err, sizeof err), 0);
	ck_assert_uint_eq(m, 0);
	ck_assert_int_eq(cluster_classes_parse("blocks allow", &m, err, sizeof err), -1);
	ck_assert(strstr(err, "'allow'"));
}
END_TEST

START_TEST(test_round_trip)
{
	struct cluster_entry e = { .kind = CLUSTER_BLOCK, .duration_ms = 600000, .ts_ms = 1765000000000ull }, back;
	char buf[CLUSTER_ENCODE_BUF], err[ERR_LEN];
	const char *f[CLUSTER_FIELDS_MAX * 2];
	size_t n;

	strcpy(e.node, "mx1");
	strcpy(e.target, "203.0.113.0/24");
	strcpy(e.origin, "rule");
	strcpy(e.rule, "postfix-auth");
	strcpy(e.reason, "5 failures in 10m");
	n = cluster_entry_encode(&e, buf, f);
	ck_assert_uint_eq(n % 2, 0);
	ck_assert_int_eq(decode(f, n, CLUSTER_BLOCKS, &back, err), 1);
	ck_assert_int_eq(back.kind, CLUSTER_BLOCK);
	ck_assert_str_eq(back.node, "mx1");
	ck_assert_str_eq(back.target, "203.0.113.0/24");
	ck_assert_int_eq(back.range.len, 24);
	ck_assert_uint_eq(back.duration_ms, 600000);
	ck_assert_uint_eq(back.ts_ms, 1765000000000ull);
	ck_assert_str_eq(back.rule, "postfix-auth");
	ck_assert_str_eq(back.reason, "5 failures in 10m");

	e.duration_ms = DURATION_PERMANENT;
	e.kind = CLUSTER_ACCOUNT_BLOCK;
	strcpy(e.target, "alice@example.org");
	n = cluster_entry_encode(&e, buf, f);
	ck_assert_int_eq(decode(f, n, CLUSTER_ACCOUNTS, &back, err), 1);
	ck_assert_uint_eq(back.duration_ms, DURATION_PERMANENT);
	ck_assert_str_eq(back.target, "alice@example.org");

	/* our own entry: skipped, not an error */
	strcpy(e.node, "me");
	n = cluster_entry_encode(&e, buf, f);
	ck_assert_int_eq(decode(f, n, CLUSTER_ACCOUNTS, &back, err), 0);
}
END_TEST

#define N(a) (sizeof (a) / sizeof *(a))
#define BASE "v", "1", "node", "mx2", "ts", "1765000000000"

START_TEST(test_forged_entries_rejected)
{
	struct cluster_entry e;
	char err[ERR_LEN], huge[4000];
	unsigned all = CLUSTER_BLOCKS | CLUSTER_ACCOUNTS;

	{ const char *s[] = { BASE, "kind", "block", "target", "203.0.113.9", "duration", "60000", "x-new", "ignored" };
	  ck_assert_int_eq(decode(s, N(s), all, &e, err), 1); }                 /* unknown field: ignored */
	{ const char *s[] = { "v", "1", "node", "mx2", "kind", "block", "target", "203.0.113.9", "duration", "60000" };
	  ck_assert_int_eq(decode(s, N(s), all, &e, err), -1); ck_assert(strstr(err, "no field ts")); }
	{ const char *s[] = { "v", "2", "node", "mx2", "kind", "block", "target", "203.0.113.9", "duration", "1" };
	  ck_assert_int_eq(decode(s, N(s), all, &e, err), -1); ck_assert(strstr(err, "version")); }
	{ const char *s[] = { BASE, "kind", "nuke", "target", "203.0.113.9", "duration", "1" };
	  ck_assert_int_eq(decode(s, N(s), all, &e, err), -1); ck_assert(strstr(err, "unknown kind")); }
	{ const char *s[] = { BASE, "kind", "block", "target", "not-an-address", "duration", "1" };
	  ck_assert_int_eq(decode(s, N(s), all, &e, err), -1); }
	{ const char *s[] = { BASE, "kind", "block", "target", "0.0.0.0/0", "duration", "1" };
	  ck_assert_int_eq(decode(s, N(s), all, &e, err), -1); ck_assert(strstr(err, "wider")); }
	{ const char *s[] = { BASE, "kind", "block", "target", "2001:db8::/8", "duration", "1" };
	  ck_assert_int_eq(decode(s, N(s), all, &e, err), -1); }
	{ const char *s[] = { BASE, "kind", "block", "target", "203.0.113.9/24", "duration", "1" };
	  ck_assert_int_eq(decode(s, N(s), all, &e, err), -1); }                /* host bits */
	{ const char *s[] = { BASE, "kind", "block", "target", "203.0.113.9", "duration", "99999999999999999999" };
	  ck_assert_int_eq(decode(s, N(s), all, &e, err), -1); }
	{ const char *s[] = { BASE, "kind", "block", "target", "203.0.113.9", "duration", "0" };
	  ck_assert_int_eq(decode(s, N(s), all, &e, err), -1); }
	{ const char *s[] = { BASE, "kind", "block", "target", "203.0.113.9", "duration", "-5" };
	  ck_assert_int_eq(decode(s, N(s), all, &e, err), -1); }
	{ const char *s[] = { BASE, "kind", "block", "target", "203.0.113.9" };
	  ck_assert_int_eq(decode(s, N(s), all, &e, err), -1); ck_assert(strstr(err, "duration")); }
	{ const char *s[] = { BASE, "kind", "block", "kind", "allow", "target", "203.0.113.9", "duration", "1" };
	  ck_assert_int_eq(decode(s, N(s), all, &e, err), -1); ck_assert(strstr(err, "twice")); }
	{ const char *s[] = { "v", "1", "node", "bad node", "kind", "block", "target", "203.0.113.9", "duration", "1", "ts", "1" };
	  ck_assert_int_eq(decode(s, N(s), all, &e, err), -1); }
	{ const char *s[] = { BASE, "kind", "block-account", "target", "al ice", "duration", "1" };
	  ck_assert_int_eq(decode(s, N(s), all, &e, err), -1); }
	/* an allow when allows are not accepted */
	{ const char *s[] = { BASE, "kind", "allow", "target", "203.0.113.9", "duration", "60000" };
	  ck_assert_int_eq(decode(s, N(s), all, &e, err), -1); ck_assert(strstr(err, "accept"));
	  ck_assert_int_eq(decode(s, N(s), all | CLUSTER_ALLOWS, &e, err), 1); }
	/* accounts not accepted */
	{ const char *s[] = { BASE, "kind", "block-account", "target", "bob", "duration", "60000" };
	  ck_assert_int_eq(decode(s, N(s), CLUSTER_BLOCKS, &e, err), -1); }
	/* a huge field */
	memset(huge, 'a', sizeof huge - 1);
	huge[sizeof huge - 1] = '\0';
	{ const char *s[] = { BASE, "kind", "block", "target", "203.0.113.9", "duration", "1", "reason", huge };
	  ck_assert_int_eq(decode(s, N(s), all, &e, err), -1); ck_assert(strlen(err) < 200); }
	/* odd count */
	{ const char *s[] = { BASE, "kind" };
	  ck_assert_int_eq(decode(s, N(s), all, &e, err), -1); ck_assert_uint_eq(N(s) % 2, 1); }
	/* control characters in text fields are replaced */
	{ const char *s[] = { BASE, "kind", "unblock", "target", "203.0.113.9", "duration", "0", "reason", "a\nb\033" };
	  ck_assert_int_eq(decode(s, N(s), all, &e, err), 1); ck_assert_str_eq(e.reason, "a?b?"); }
}
END_TEST

START_TEST(test_backoff)
{
	uint64_t base = 0, d;

	d = cluster_backoff_next(0, &base, 0);
	ck_assert_uint_eq(base, CLUSTER_BACKOFF_MIN_MS);
	ck_assert_uint_eq(d, 75);
	d = cluster_backoff_next(base, &base, 0xffffffffu);
	ck_assert_uint_eq(base, 200);
	ck_assert(d >= 150 && d <= 200);
	for (int i = 0; i < 20; i++)
		d = cluster_backoff_next(base, &base, (uint32_t)i * 7919u);
	ck_assert_uint_eq(base, CLUSTER_BACKOFF_MAX_MS);
	ck_assert(d >= CLUSTER_BACKOFF_MAX_MS * 3 / 4 && d <= CLUSTER_BACKOFF_MAX_MS);
}
END_TEST

/* Stream IDs: by time, then sequence; anything else is no ID. */
START_TEST(test_stream_ids)
{
	ck_assert_int_eq(cluster_id_cmp("1796655297794-0", "1796655297794-0"), 0);
	ck_assert_int_eq(cluster_id_cmp("1796655297794-1", "1796655297794-0"), 1);
	ck_assert_int_eq(cluster_id_cmp("1796655297794-9", "1796655297795-0"), -1);
	ck_assert_int_eq(cluster_id_cmp("99-0", "100-0"), -1);  /* numbers, not text */
	ck_assert_int_eq(cluster_id_cmp("100", "100-0"), 0);
	ck_assert_int_eq(cluster_id_cmp("", "1-0"), -2);
	ck_assert_int_eq(cluster_id_cmp("1-x", "1-0"), -2);
	ck_assert_int_eq(cluster_id_cmp("1-0 ", "1-0"), -2);
}
END_TEST

int main(void)
{
	TCase *tc = tcase_create("cluster_entry");

	tcase_add_test(tc, test_redis_address);
	tcase_add_test(tc, test_names_and_classes);
	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_forged_entries_rejected);
	tcase_add_test(tc, test_backoff);
	tcase_add_test(tc, test_stream_ids);
	return ut_run("cluster_entry", tc);
}
