/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cluster - this node's link to the others through Redis: decisions
 * published to the stream PREFIX:decisions (and the snapshot
 * PREFIX:current, in one Lua script so they never disagree), the others'
 * decisions read from it with XREAD BLOCK on a second connection, checked
 * (cluster_entry.h) and handed to the caller, heartbeats in PREFIX:nodes.
 *
 * Two hiredis asynchronous connections in the one event loop
 * (redis_loop.h): nothing here blocks. Each reconnects with back-off;
 * every command has a timeout; what must be published while Redis is
 * away waits in a bounded queue (the overflow counted).
 *
 * Shared counting (share = counts, rules with shared = yes): the events
 * handed to cluster_count are batched (cluster_count.h) and sent once per
 * loop turn as one EVALSHA (EVAL until Redis knows the script) on the
 * publish connection; a key the script
 * decides for is handed to the decide hook. While the publish connection
 * is not ready, cluster_count declines (the caller counts alone); a batch
 * whose connection is lost, or that Redis refuses, is lost to the shared
 * count: its keys are handed to the alone hook (the caller's own count
 * judges them), as are those the shared count did not decide for.
 *
 * Owns the connections, the queue and the read position. Must never:
 * block the loop, publish an entry it was handed by the stream, or hand
 * the caller an entry that failed the checks.
 */
#ifndef MS_CLUSTER_H
#define MS_CLUSTER_H

#include "cluster_entry.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct loop;
struct cluster;

#define CLUSTER_ID_MAX 48       /* a stream ID, "MS-SEQ" */
#define CLUSTER_QUEUE_MAX 10000 /* decisions waiting for Redis at most */
#define CLUSTER_STREAM_MAX 100000       /* the stream's length (MAXLEN ~) */
#define CLUSTER_PEERS_MAX 64

struct cluster_opts {
	struct cluster_redis redis;
	const char *user, *password;    /* NULL: no AUTH */
	const char *node, *prefix;
	unsigned share, accept;         /* CLUSTER_* */
	const char *last_id;            /* the position saved in the state; NULL or "": none */
	struct cluster_limits limits;
	uint64_t timeout_ms;            /* of every command; 0: 5 s */
};

struct cluster_hooks {
	/* Apply another node's decision (checked, and of a class accepted). */
	void (*apply)(void *arg, const struct cluster_entry *e);
	/* The read position moved (save it with the state). */
	void (*moved)(void *arg);
	/* The shared count of rule's key reached its limit, and this node
	 * decides (no other does in the window). key: as given to
	 * cluster_count. */
	void (*decide)(void *arg, const char *rule, const char *key);
	/* The shared count did not decide for rule's key handed to
	 * cluster_count (not reached there, or decided by another node, or
	 * the batch refused by Redis or lost with the connection): the
	 * caller's own count judges it (what it reached alone, it decides,
	 * so a forged decided marker shields no key). */
	void (*alone)(void *arg, const char *rule, const char *key);
	void *arg;
};

struct cluster_peer {
	char node[CLUSTER_NAME_MAX + 1];
	uint64_t heartbeat_ms;          /* wall clock */
};

struct cluster_status {
	bool connected;                 /* both connections ready */
	bool reading;                   /* caught up and following the stream */
	char last_id[CLUSTER_ID_MAX];
	uint64_t lag_ms;                /* now minus the time of the last entry read, while entries wait */
	uint64_t queued, dropped, published, applied, rejected, skipped_own, reconnects;
	uint64_t pruned;                /* snapshot entries over for an hour, removed */
	/* shared counting: events handed over, batches sent, keys decided
	 * here, events counted alone (Redis away), batches lost with a
	 * connection or refused */
	uint64_t count_events, count_batches, count_decisions, count_fallbacks, count_lost;
	const struct cluster_peer *peers;
	size_t npeers;
};

struct cluster *cluster_new(struct loop *l, const struct cluster_opts *o, const struct cluster_hooks *h);
void cluster_free(struct cluster *c);
/* Publish a decision of this node, if its class is shared; e->node and
 * e->ts_ms are filled here. Queued while Redis is away. */
void cluster_publish(struct cluster *c, const struct cluster_entry *e);
/* Count cnt events of shared rule (window, limit) for key (a formatted
 * address or account). true: taken for the shared count (sent within the
 * loop turn); false: not (no counts shared, Redis away, too much in
 * flight, a key too long): the caller counts alone. */
bool cluster_count(struct cluster *c, const char *rule, const char *key, uint64_t window_ms, uint32_t limit,
		   uint32_t cnt);
/* The position to save; "" before any entry was read. */
const char *cluster_last_id(const struct cluster *c);
void cluster_get_status(const struct cluster *c, struct cluster_status *st);
/* Stream IDs "MS-SEQ" compared; -2 if either is not one. */
int cluster_id_cmp(const char *a, const char *b);

#endif
