/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * cluster_entry - the cluster's words, as plain data: the [cluster]
 * values (the Redis address, node and prefix names, the share/accept
 * classes), one shared decision encoded as the field/value pairs of a
 * Redis stream entry, the checks every entry read back must pass before
 * anything is applied (it comes from the network: untrusted), and the
 * reconnection back-off.
 *
 * Owns nothing but its arguments. Must never: talk to Redis, touch the
 * daemon, or accept an entry it cannot fully check.
 */
#ifndef MS_CLUSTER_ENTRY_H
#define MS_CLUSTER_ENTRY_H

#include "addr.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CLUSTER_VERSION 1               /* field v of every entry */
#define CLUSTER_NAME_MAX 64             /* node: [A-Za-z0-9._-] */
#define CLUSTER_PREFIX_MAX 64           /* key prefix: [A-Za-z0-9._:-] */
#define CLUSTER_TARGET_MAX 256          /* an account name (as block-account), or a range */
#define CLUSTER_TEXT_MAX 256            /* origin, rule, reason: longer is cut */
#define CLUSTER_FIELD_MAX 1024          /* a longer field: the entry is rejected */
#define CLUSTER_FIELDS_MAX 32           /* field/value pairs of one entry at most */
#define CLUSTER_PATH_MAX 108            /* a unix socket path */

/* What a node shares and accepts ([cluster] share, accept). */
enum {
	CLUSTER_BLOCKS = 1u << 0,
	CLUSTER_ALLOWS = 1u << 1,
	CLUSTER_ACCOUNTS = 1u << 2,
	CLUSTER_COUNTS = 1u << 3,       /* shared = yes rules: not yet, refused */
};

enum cluster_kind {
	CLUSTER_BLOCK,
	CLUSTER_UNBLOCK,
	CLUSTER_ALLOW,
	CLUSTER_UNALLOW,
	CLUSTER_ACCOUNT_BLOCK,
	CLUSTER_ACCOUNT_UNBLOCK,
	CLUSTER_NKINDS
};

/* A Redis server: unix:/path, or HOST:PORT ([ADDR]:PORT for IPv6). */
struct cluster_redis {
	bool is_unix;
	char path[CLUSTER_PATH_MAX];    /* unix socket, or the host */
	uint16_t port;
};

/* One shared decision. target: the range (kinds on addresses) or the
 * account name; duration_ms DURATION_PERMANENT for permanent, 0 for
 * kinds that lift. */
struct cluster_entry {
	enum cluster_kind kind;
	char node[CLUSTER_NAME_MAX + 1];
	char target[CLUSTER_TARGET_MAX + 1];
	struct cidr range;              /* parsed target of an address kind */
	uint64_t duration_ms;
	char origin[CLUSTER_TEXT_MAX + 1], rule[CLUSTER_TEXT_MAX + 1], reason[CLUSTER_TEXT_MAX + 1];
	uint64_t ts_ms;                 /* wall clock of the decision */
};

/* What an entry read back may carry at most. */
struct cluster_limits {
	int min_v4, min_v6;             /* shortest prefix a block may have */
	uint64_t max_duration_ms;       /* longest non-permanent duration */
	bool allow_permanent;
};
/* The defaults: /8 for IPv4, /16 for IPv6 (the [prefix] bounds), a year. */
extern const struct cluster_limits cluster_default_limits;

int cluster_redis_parse(const char *s, struct cluster_redis *out, char *err, size_t errlen);
/* A node name (prefix false) or a key prefix (prefix true): not empty,
 * at most 64 of [A-Za-z0-9._-] (':' also in a prefix). */
int cluster_name_check(const char *s, bool prefix, char *err, size_t errlen);
/* Words of "blocks allows accounts counts" into a CLUSTER_* mask. */
int cluster_classes_parse(const char *words, unsigned *mask, char *err, size_t errlen);
/* The class a kind belongs to (CLUSTER_BLOCKS, _ALLOWS or _ACCOUNTS). */
unsigned cluster_kind_class(enum cluster_kind k);
const char *cluster_kind_name(enum cluster_kind k);
int cluster_kind_parse(const char *s, size_t n, enum cluster_kind *out);

/* Encode: the field/value pairs of e, as NUL-terminated strings in
 * fields[2*i], fields[2*i+1] (pointing into e or into buf). Returns the
 * number of strings (even), at most CLUSTER_FIELDS_MAX * 2. */
#define CLUSTER_ENCODE_BUF 96
size_t cluster_entry_encode(const struct cluster_entry *e, char buf[CLUSTER_ENCODE_BUF], const char **fields);

/* Decode and check the strings of one entry read from the stream (field,
 * value, field, value...; lens their lengths; values may hold any byte).
 * 1: *out is good and for us; 0: skipped without fault (our own entry:
 * self is this node's name), *out left partly filled; -1: rejected, with
 * why in err (never quoting more than a few bytes of the value). Unknown
 * fields are ignored. accept: the CLUSTER_* classes this node applies;
 * an entry of another class is rejected. */
int cluster_entry_decode(const char *const *strs, const size_t *lens, size_t n, const struct cluster_limits *lim,
			 const char *self, unsigned accept, struct cluster_entry *out, char *err, size_t errlen);

/* The wait before the next reconnection: doubles from 100 ms up to
 * 30 s, each wait then drawn in [3/4, 1] of it with rnd. prev 0: the first. */
#define CLUSTER_BACKOFF_MIN_MS 100
#define CLUSTER_BACKOFF_MAX_MS 30000
uint64_t cluster_backoff_next(uint64_t prev_base_ms, uint64_t *base_ms, uint32_t rnd);

#endif
