/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cluster_count - shared counting's words, as plain data: the Redis key
 * names of one (rule, key) counter, a batch of the events of shared
 * rules (one loop turn's worth, merged per key and bounded), that batch
 * encoded as the argv of one EVAL of the counting script, and the
 * script's reply read back into one verdict per key.
 *
 * The script (cluster_count_script) keeps, for each (rule, key), a sorted
 * set of events scored by Redis's own clock (one clock for all nodes),
 * removes those older than the window, keeps at most limit of them (the
 * limit is reached or not either way), expires the set with the window,
 * and answers "decide" for a key at most once per window: only the call
 * that creates the key's decided marker (SET NX PX window) does, so two
 * nodes never both decide nor both miss the limit.
 *
 * Owns nothing but its arguments. Must never: talk to Redis, put a byte
 * in a key name that was not checked or escaped, or let a batch grow
 * past its bounds.
 */
#ifndef MS_CLUSTER_COUNT_H
#define MS_CLUSTER_COUNT_H

#include "cluster_entry.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CLUSTER_COUNT_BATCH_MAX 128     /* keys in one EVAL at most */
#define CLUSTER_COUNT_KEYTEXT_MAX 128   /* a formatted address or account, before escaping */
#define CLUSTER_COUNT_LIMIT_MAX 1000    /* a shared rule's limit at most (members per key) */
/* "PREFIX" "decided:" RULE ":" KEY (each key byte escaped to at most 3) */
#define CLUSTER_COUNT_KEY_MAX (CLUSTER_PREFIX_MAX + 8 + CLUSTER_NAME_MAX + 1 + 3 * CLUSTER_COUNT_KEYTEXT_MAX + 1)
/* argv: EVAL, script, numkeys, 2 keys per item, node, seq, 3 per item */
#define CLUSTER_COUNT_ARGV_MAX (5 + 5 * CLUSTER_COUNT_BATCH_MAX)

extern const char cluster_count_script[];
/* Its SHA1, as EVALSHA wants it (a unit test checks it against SCRIPT
 * LOAD: change both together). */
#define CLUSTER_COUNT_SCRIPT_SHA "733554a5b2fa4752f0b3828a14bb2677a219dea1"

struct cluster_count_item {
	char zkey[CLUSTER_COUNT_KEY_MAX];       /* the sorted set of events */
	char dkey[CLUSTER_COUNT_KEY_MAX];       /* the decided marker */
	size_t rule;                    /* the caller's index of the rule */
	char rule_name[CLUSTER_NAME_MAX + 1];
	char text[CLUSTER_COUNT_KEYTEXT_MAX + 1];       /* the key as given */
	uint64_t window_ms;
	uint32_t limit, count;          /* count: events of this batch, at most limit */
};

struct cluster_count_batch {
	size_t n;
	struct cluster_count_item item[CLUSTER_COUNT_BATCH_MAX];
	char num[CLUSTER_COUNT_BATCH_MAX * 3 + 2][24];  /* the numbers of the argv */
};

/* The two key names of rule's counter of key (a formatted address or
 * account): PREFIXcount:RULE:KEY and PREFIXdecided:RULE:KEY. rule: a
 * name of [A-Za-z0-9._-]; key: any bytes, at most
 * CLUSTER_COUNT_KEYTEXT_MAX, those outside [A-Za-z0-9._:@/+-] written
 * %XX (so two keys never share a name). */
int cluster_count_keys(const char *prefix, const char *rule, const char *key, char zkey[CLUSTER_COUNT_KEY_MAX],
		       char dkey[CLUSTER_COUNT_KEY_MAX], char *err, size_t errlen);

void cluster_count_batch_reset(struct cluster_count_batch *b);
/* Add count events of rule (the caller's index ri, its window and limit)
 * for key. Merged with the same key already in the batch. 0: added; 1:
 * the batch is full (send it, reset it, add again); -1: refused (bad
 * name, key, window or limit), why in err. */
int cluster_count_batch_add(struct cluster_count_batch *b, const char *prefix, const char *rule, size_t ri,
			    const char *key, uint64_t window_ms, uint32_t limit, uint32_t count, char *err,
			    size_t errlen);
/* The argv of the batch's EVALSHA (sha true: the script by its SHA1,
 * which Redis knows once any EVAL of it ran) or EVAL (pointing into b and
 * node): node makes the events' members unique with seq, a number the
 * node never uses twice. Returns argc; 0 for an empty batch. */
size_t cluster_count_batch_encode(struct cluster_count_batch *b, const char *node, uint64_t seq, bool sha,
				  const char **argv, size_t *lens);
/* The script's reply: n integers, one per item, 1 if this call decided
 * for it, 0 if not; read into decide[]. -1 if the reply does not fit the
 * batch (then nothing is decided from it). */
int cluster_count_reply(const struct cluster_count_batch *b, const long long *vals, size_t n, bool *decide);

#endif
