// SPDX-License-Identifier: GPL-2.0-or-later
/* Unit tests for cluster_count.c: key names from checked rule names and
 * escaped keys, a batch merged per key and bounded, its EVAL argv, the
 * reply checked, and the counting script itself run on a private
 * redis-server (unix socket in the test's directory): three nodes'
 * events reach one limit, and exactly one call decides. */
#include "cluster_count.h"
#include "log.h"

#include "unit.h"

#include <check.h>
#include <hiredis.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

START_TEST(test_keys)
{
	char z[CLUSTER_COUNT_KEY_MAX], d[CLUSTER_COUNT_KEY_MAX], err[ERR_LEN];
	char longkey[CLUSTER_COUNT_KEYTEXT_MAX + 2];

	ck_assert_int_eq(cluster_count_keys("ms:", "auth-fail", "192.0.2.7", z, d, err, sizeof err), 0);
	ck_assert_str_eq(z, "ms:count:auth-fail:192.0.2.7");
	ck_assert_str_eq(d, "ms:decided:auth-fail:192.0.2.7");
	ck_assert_int_eq(cluster_count_keys("ms:", "r", "2001:db8::/64", z, d, err, sizeof err), 0);
	ck_assert_str_eq(z, "ms:count:r:2001:db8::/64");
	/* bytes outside the safe set escaped, '%' included: no two keys meet */
	ck_assert_int_eq(cluster_count_keys("ms:", "r", "a b%\n*\xff", z, d, err, sizeof err), 0);
	ck_assert_str_eq(z, "ms:count:r:a%20b%25%0A%2A%FF");
	ck_assert_int_eq(cluster_count_keys("ms:", "r", "user+x@example.org", z, d, err, sizeof err), 0);
	ck_assert_str_eq(z, "ms:count:r:user+x@example.org");
	/* bad rule names, keys, prefixes */
	ck_assert_int_eq(cluster_count_keys("ms:", "a:b", "k", z, d, err, sizeof err), -1);
	ck_assert_int_eq(cluster_count_keys("ms:", "", "k", z, d, err, sizeof err), -1);
	ck_assert_int_eq(cluster_count_keys("ms:", "r", "", z, d, err, sizeof err), -1);
	ck_assert_int_eq(cluster_count_keys("m s", "r", "k", z, d, err, sizeof err), -1);
	memset(longkey, 'a', sizeof longkey - 1);
	longkey[sizeof longkey - 1] = '\0';
	ck_assert_int_eq(cluster_count_keys("ms:", "r", longkey, z, d, err, sizeof err), -1);
	longkey[CLUSTER_COUNT_KEYTEXT_MAX] = '\0';
	memset(longkey, 0xff, CLUSTER_COUNT_KEYTEXT_MAX);       /* the longest escaped key fits */
	ck_assert_int_eq(cluster_count_keys("ms:", "r", longkey, z, d, err, sizeof err), 0);
	ck_assert_uint_eq(strlen(d), strlen("ms:decided:r:") + 3 * CLUSTER_COUNT_KEYTEXT_MAX);
}
END_TEST

static struct cluster_count_batch b;

START_TEST(test_batch_merge_bounds_encode)
{
	const char *argv[CLUSTER_COUNT_ARGV_MAX];
	size_t lens[CLUSTER_COUNT_ARGV_MAX], argc;
	char err[ERR_LEN], key[32];

	cluster_count_batch_reset(&b);
	ck_assert_uint_eq(cluster_count_batch_encode(&b, "mx1", 7, false, argv, lens), 0);
	ck_assert_int_eq(cluster_count_batch_add(&b, "ms:", "auth", 3, "192.0.2.7", 600000, 5, 1, err, sizeof err), 0);
	ck_assert_int_eq(cluster_count_batch_add(&b, "ms:", "auth", 3, "192.0.2.8", 600000, 5, 1, err, sizeof err), 0);
	ck_assert_int_eq(cluster_count_batch_add(&b, "ms:", "auth", 3, "192.0.2.7", 600000, 5, 2, err, sizeof err), 0);
	ck_assert_uint_eq(b.n, 2);
	ck_assert_uint_eq(b.item[0].count, 3);
	ck_assert_uint_eq(b.item[0].rule, 3);
	/* merged counts stop at the limit */
	ck_assert_int_eq(cluster_count_batch_add(&b, "ms:", "auth", 3, "192.0.2.7", 600000, 5, 9, err, sizeof err), 0);
	ck_assert_uint_eq(b.item[0].count, 5);
	ck_assert_int_eq(cluster_count_batch_add(&b, "ms:", "auth", 3, "192.0.2.9", 600000, 5, 4000000000u, err,
						 sizeof err), 0);
	ck_assert_uint_eq(b.item[2].count, 5);
	/* refused: bad limit, window, name */
	ck_assert_int_eq(cluster_count_batch_add(&b, "ms:", "auth", 3, "k", 600000, 0, 1, err, sizeof err), -1);
	ck_assert_int_eq(cluster_count_batch_add(&b, "ms:", "auth", 3, "k", 600000, CLUSTER_COUNT_LIMIT_MAX + 1, 1,
						 err, sizeof err), -1);
	ck_assert_int_eq(cluster_count_batch_add(&b, "ms:", "auth", 3, "k", 0, 5, 1, err, sizeof err), -1);
	ck_assert_int_eq(cluster_count_batch_add(&b, "ms:", "a b", 3, "k", 600000, 5, 1, err, sizeof err), -1);
	ck_assert_uint_eq(b.n, 3);

	argc = cluster_count_batch_encode(&b, "mx1", 7, false, argv, lens);
	ck_assert_uint_eq(argc, 5 + 5 * 3);
	ck_assert_str_eq(argv[0], "EVAL");
	ck_assert_ptr_eq(argv[1], cluster_count_script);
	ck_assert_str_eq(argv[2], "6");
	ck_assert_str_eq(argv[3], "ms:count:auth:192.0.2.7");
	ck_assert_str_eq(argv[4], "ms:decided:auth:192.0.2.7");
	ck_assert_str_eq(argv[7], "ms:count:auth:192.0.2.9");
	ck_assert_str_eq(argv[9], "mx1");
	ck_assert_str_eq(argv[10], "7");
	ck_assert_str_eq(argv[11], "600000");
	ck_assert_str_eq(argv[12], "5");
	ck_assert_str_eq(argv[13], "5");
	ck_assert_str_eq(argv[16], "1");        /* 192.0.2.8: one event */
	for (size_t i = 0; i < argc; i++)
		ck_assert_uint_eq(lens[i], strlen(argv[i]));

	/* a full batch says so and keeps what it has; a known key still merges */
	cluster_count_batch_reset(&b);
	for (int i = 0; i < CLUSTER_COUNT_BATCH_MAX; i++) {
		snprintf(key, sizeof key, "198.51.100.%d", i);
		ck_assert_int_eq(cluster_count_batch_add(&b, "ms:", "r", 0, key, 1000, 5, 1, err, sizeof err), 0);
	}
	ck_assert_int_eq(cluster_count_batch_add(&b, "ms:", "r", 0, "203.0.113.1", 1000, 5, 1, err, sizeof err), 1);
	ck_assert_int_eq(cluster_count_batch_add(&b, "ms:", "r", 0, "198.51.100.0", 1000, 5, 1, err, sizeof err), 0);
	ck_assert_uint_eq(b.n, CLUSTER_COUNT_BATCH_MAX);
	ck_assert_uint_eq(b.item[0].count, 2);
	argc = cluster_count_batch_encode(&b, "mx1", 8, true, argv, lens);
	ck_assert_uint_eq(argc, CLUSTER_COUNT_ARGV_MAX);
	ck_assert_str_eq(argv[0], "EVALSHA");
	ck_assert_str_eq(argv[1], CLUSTER_COUNT_SCRIPT_SHA);
	ck_assert_str_eq(argv[argc - 1], "1");
}
END_TEST

START_TEST(test_reply)
{
	char err[ERR_LEN];
	bool dec[3];
	const long long good[] = { 0, 1 }, bad[] = { 0, 2 };

	cluster_count_batch_reset(&b);
	ck_assert_int_eq(cluster_count_batch_add(&b, "ms:", "r", 0, "192.0.2.1", 1000, 5, 1, err, sizeof err), 0);
	ck_assert_int_eq(cluster_count_batch_add(&b, "ms:", "r", 0, "192.0.2.2", 1000, 5, 1, err, sizeof err), 0);
	ck_assert_int_eq(cluster_count_reply(&b, good, 2, dec), 0);
	ck_assert(!dec[0] && dec[1]);
	ck_assert_int_eq(cluster_count_reply(&b, good, 1, dec), -1);
	ck_assert_int_eq(cluster_count_reply(&b, bad, 2, dec), -1);
}
END_TEST

/* The script on a real Redis. */
static pid_t redis_pid;

static redisContext *redis_start(void)
{
	static char sock[sizeof ut_dir + 16], logf[sizeof ut_dir + 16];
	redisContext *rc = NULL;

	snprintf(sock, sizeof sock, "%s/redis.sock", ut_dir);
	snprintf(logf, sizeof logf, "%s/redis.log", ut_dir);
	redis_pid = fork();
	ck_assert_int_ge(redis_pid, 0);
	if (redis_pid == 0) {
		execlp("redis-server", "redis-server", "--port", "0", "--unixsocket", sock, "--save", "",
		       "--appendonly", "no", "--dir", ut_dir, "--logfile", logf,
		       (char *)NULL);
		_exit(127);
	}
	/* the server listens when it is ready: wait for that (or its death) */
	for (int i = 0; i < 1000; i++) {
		int st;

		ck_assert_int_eq(waitpid(redis_pid, &st, WNOHANG), 0);
		rc = redisConnectUnix(sock);
		if (rc && !rc->err)
			return rc;
		redisFree(rc);
		usleep(10000);
	}
	ck_abort_msg("redis-server did not start");
	return NULL;
}

static void redis_stop(redisContext *rc)
{
	redisFree(rc);
	kill(redis_pid, SIGTERM);
	waitpid(redis_pid, NULL, 0);
}

/* Send one node's batch; decide[] gets the verdicts. */
static void send_batch(redisContext *rc, const char *node, uint64_t seq, bool *decide)
{
	static bool loaded;
	const char *argv[CLUSTER_COUNT_ARGV_MAX];
	size_t lens[CLUSTER_COUNT_ARGV_MAX];
	long long vals[CLUSTER_COUNT_BATCH_MAX];
	size_t argc = cluster_count_batch_encode(&b, node, seq, loaded, argv, lens);
	redisReply *r = redisCommandArgv(rc, (int)argc, argv, lens);

	ck_assert_ptr_nonnull(r);
	ck_assert_msg(r->type == REDIS_REPLY_ARRAY, "reply type %d: %s", r->type, r->str ? r->str : "");
	ck_assert_uint_le(r->elements, CLUSTER_COUNT_BATCH_MAX);
	for (size_t i = 0; i < r->elements; i++) {
		ck_assert_int_eq(r->element[i]->type, REDIS_REPLY_INTEGER);
		vals[i] = r->element[i]->integer;
	}
	ck_assert_int_eq(cluster_count_reply(&b, vals, r->elements, decide), 0);
	freeReplyObject(r);
	loaded = true;  /* EVAL the first time, EVALSHA after */
}

static void add(const char *key, uint32_t limit, uint32_t count)
{
	char err[ERR_LEN];

	ck_assert_int_eq(cluster_count_batch_add(&b, "ms:", "auth", 0, key, 600000, limit, count, err, sizeof err), 0);
}

START_TEST(test_script_three_nodes_one_decision)
{
	redisContext *rc = redis_start();
	bool dec[4];
	redisReply *r;

	/* the SHA1 EVALSHA sends is the script's */
	r = redisCommand(rc, "SCRIPT LOAD %s", cluster_count_script);
	ck_assert_int_eq(r->type, REDIS_REPLY_STRING);
	ck_assert_str_eq(r->str, CLUSTER_COUNT_SCRIPT_SHA);
	freeReplyObject(r);
	r = redisCommand(rc, "SCRIPT FLUSH");
	freeReplyObject(r);

	/* two failures on each of three nodes, limit 5: the third node's
	 * batch crosses it and decides; nothing decides again in the window */
	cluster_count_batch_reset(&b);
	add("192.0.2.7", 5, 2);
	add("192.0.2.8", 5, 1);
	send_batch(rc, "mx1", 100, dec);
	ck_assert(!dec[0] && !dec[1]);
	cluster_count_batch_reset(&b);
	add("192.0.2.7", 5, 2);
	send_batch(rc, "mx2", 100, dec);       /* same seq, another node: its own members */
	ck_assert(!dec[0]);
	cluster_count_batch_reset(&b);
	add("192.0.2.8", 5, 1);
	add("192.0.2.7", 5, 2);
	send_batch(rc, "mx3", 100, dec);
	ck_assert(!dec[0] && dec[1]);
	cluster_count_batch_reset(&b);
	add("192.0.2.7", 5, 3);
	send_batch(rc, "mx1", 101, dec);
	ck_assert(!dec[0]);

	/* members bounded by the limit, every key expiring with the window */
	r = redisCommand(rc, "ZCARD ms:count:auth:192.0.2.7");
	ck_assert_int_eq(r->integer, 5);
	freeReplyObject(r);
	r = redisCommand(rc, "PTTL ms:count:auth:192.0.2.7");
	ck_assert(r->integer > 0 && r->integer <= 600000);
	freeReplyObject(r);
	r = redisCommand(rc, "PTTL ms:decided:auth:192.0.2.7");
	ck_assert(r->integer > 0 && r->integer <= 600000);
	freeReplyObject(r);
	r = redisCommand(rc, "EXISTS ms:decided:auth:192.0.2.8");
	ck_assert_int_eq(r->integer, 0);
	freeReplyObject(r);
	redis_stop(rc);
}
END_TEST

int main(void)
{
	TCase *tc = tcase_create("cluster_count");

	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_keys);
	tcase_add_test(tc, test_batch_merge_bounds_encode);
	tcase_add_test(tc, test_reply);
	tcase_add_test(tc, test_script_three_nodes_one_decision);
	return ut_run("cluster_count", tc);
}
