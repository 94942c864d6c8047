// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * cluster_count - see cluster_count.h. Pure functions: key names built
 * from a checked rule name and an escaped key, a bounded batch merged per
 * key, its EVAL argv, and the script's reply checked against the batch.
 *
 * Owns nothing. Must never: let a byte of a key reach a key name
 * unescaped, write past a bound, or trust a reply that does not fit.
 */
#include "cluster_count.h"
#include "log.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

/* KEYS: per item its sorted set and its decided marker. ARGV: node, seq,
 * then per item window_ms, limit, count. Returns per item 1 (this call
 * decides) or 0. Scores are Redis's clock in ms; members node:seq:i:j
 * are unique while seq is never reused by the node. */
const char cluster_count_script[] =
	"local t = redis.call('TIME') "
	"local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) "
	"local out = {} "
	"for i = 1, #KEYS / 2 do "
	"local z, d, b = KEYS[2 * i - 1], KEYS[2 * i], 3 * i "
	"local w, lim, c = tonumber(ARGV[b]), tonumber(ARGV[b + 1]), tonumber(ARGV[b + 2]) "
	"local m = {} "
	"for j = 1, c do m[#m + 1] = now m[#m + 1] = ARGV[1] .. ':' .. ARGV[2] .. ':' .. i .. ':' .. j end "
	"redis.call('ZADD', z, unpack(m)) "
	"redis.call('ZREMRANGEBYSCORE', z, '-inf', now - w) "
	"redis.call('ZREMRANGEBYRANK', z, 0, -(lim + 1)) "
	"redis.call('PEXPIRE', z, w) "
	"local r = 0 "
	"if redis.call('ZCARD', z) >= lim and redis.call('SET', d, '1', 'NX', 'PX', w) then r = 1 end "
	"out[i] = r "
	"end "
	"return out";

static bool rule_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '.' ||
	       ch == '_' || ch == '-';
}

static bool key_char(char ch)
{
	return rule_char(ch) || ch == ':' || ch == '@' || ch == '/' || ch == '+';
}

int cluster_count_keys(const char *prefix, const char *rule, const char *key, char zkey[CLUSTER_COUNT_KEY_MAX],
		       char dkey[CLUSTER_COUNT_KEY_MAX], char *err, size_t errlen)
{
	static const char hex[] = "0123456789ABCDEF";
	char esc[3 * CLUSTER_COUNT_KEYTEXT_MAX + 1];
	size_t n = 0, kl = strlen(key), rl = strlen(rule);

	if (cluster_name_check(prefix, true, err, errlen) < 0)
		return -1;
	if (rl == 0 || rl > CLUSTER_NAME_MAX)
		return errf(err, errlen, "shared rule name must have 1 to %d characters", CLUSTER_NAME_MAX);
	for (size_t i = 0; i < rl; i++)
		if (!rule_char(rule[i]))
			return errf(err, errlen, "shared rule name may hold only letters, digits, '.', '_' and '-'");
	if (kl == 0 || kl > CLUSTER_COUNT_KEYTEXT_MAX)
		return errf(err, errlen, "shared counting key must have 1 to %d bytes", CLUSTER_COUNT_KEYTEXT_MAX);
	for (size_t i = 0; i < kl; i++) {
		unsigned char ch = (unsigned char)key[i];

		if (key_char((char)ch)) {
			esc[n++] = (char)ch;
		} else {
			esc[n++] = '%';
			esc[n++] = hex[ch >> 4];
			esc[n++] = hex[ch & 15];
		}
	}
	esc[n] = '\0';
	snprintf(zkey, CLUSTER_COUNT_KEY_MAX, "%scount:%s:%s", prefix, rule, esc);
	snprintf(dkey, CLUSTER_COUNT_KEY_MAX, "%sdecided:%s:%s", prefix, rule, esc);
	return 0;
}

void cluster_count_batch_reset(struct cluster_count_batch *b)
{
	b->n = 0;
}

int cluster_count_batch_add(struct cluster_count_batch *b, const char *prefix, const char *rule, size_t ri,
			    const char *key, uint64_t window_ms, uint32_t limit, uint32_t count, char *err,
			    size_t errlen)
{
	struct cluster_count_item it;

	if (window_ms == 0)
		return errf(err, errlen, "shared rule %s: the window must be at least 1 ms", rule);
	if (limit == 0 || limit > CLUSTER_COUNT_LIMIT_MAX)
		return errf(err, errlen, "shared rule %s: the limit must be 1 to %d", rule, CLUSTER_COUNT_LIMIT_MAX);
	if (count == 0)
		return 0;
	if (cluster_count_keys(prefix, rule, key, it.zkey, it.dkey, err, errlen) < 0)
		return -1;
	for (size_t i = 0; i < b->n; i++) {
		struct cluster_count_item *o = &b->item[i];

		if (strcmp(o->zkey, it.zkey) != 0)
			continue;
		/* the same counter: more events, never more than the limit
		 * (the rest cannot change whether it is reached) */
		o->count = count >= limit - o->count ? limit : o->count + count;
		return 0;
	}
	if (b->n == CLUSTER_COUNT_BATCH_MAX)
		return 1;
	it.rule = ri;
	snprintf(it.rule_name, sizeof it.rule_name, "%s", rule);
	snprintf(it.text, sizeof it.text, "%s", key);
	it.window_ms = window_ms;
	it.limit = limit;
	it.count = count > limit ? limit : count;
	b->item[b->n++] = it;
	return 0;
}

static const char *num(struct cluster_count_batch *b, size_t *k, uint64_t v)
{
	char *s = b->num[(*k)++];

	snprintf(s, sizeof b->num[0], "%" PRIu64, v);
	return s;
}

size_t cluster_count_batch_encode(struct cluster_count_batch *b, const char *node, uint64_t seq, bool sha,
				  const char **argv, size_t *lens)
{
	size_t argc = 0, k = 0;

	if (b->n == 0)
		return 0;
	argv[argc++] = sha ? "EVALSHA" : "EVAL";
	argv[argc++] = sha ? CLUSTER_COUNT_SCRIPT_SHA : cluster_count_script;
	argv[argc++] = num(b, &k, 2 * (uint64_t)b->n);
	for (size_t i = 0; i < b->n; i++) {
		argv[argc++] = b->item[i].zkey;
		argv[argc++] = b->item[i].dkey;
	}
	argv[argc++] = node;
	argv[argc++] = num(b, &k, seq);
	for (size_t i = 0; i < b->n; i++) {
		argv[argc++] = num(b, &k, b->item[i].window_ms);
		argv[argc++] = num(b, &k, b->item[i].limit);
		argv[argc++] = num(b, &k, b->item[i].count);
	}
	for (size_t i = 0; i < argc; i++)
		lens[i] = strlen(argv[i]);
	return argc;
}

int cluster_count_reply(const struct cluster_count_batch *b, const long long *vals, size_t n, bool *decide)
{
	if (n != b->n)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (vals[i] != 0 && vals[i] != 1)
			return -1;
	for (size_t i = 0; i < n; i++)
		decide[i] = vals[i] == 1;
	return 0;
}
