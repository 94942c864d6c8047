/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fw_nft - the daemon's nftables table, through libnftnl + libmnl.
 *
 * Owns one table (family inet, default name "mailscreen") and nothing
 * else: sets block4 (ipv4_addr) and block6 (ipv6_addr), both with the
 * timeout and interval flags, and a base chain "input" on the input hook
 * that drops packets whose source is in a set, only for the configured
 * TCP ports unless all ports. Blocks are set elements with a kernel
 * timeout, so they expire without the daemon. Changes are queued and sent
 * in one netlink batch per fw_nft_commit(); the kernel's answer to every
 * message is read back and errors are reported per element.
 * fw_nft_list() reads the sets back, with each block's drop counter.
 */
#ifndef MS_FW_NFT_H
#define MS_FW_NFT_H

#include "addr.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fw_nft;

struct fw_nft_config {
	const char *table;      /* name; family is always inet */
	bool all_ports;
	uint16_t ports[64];
	size_t nports;
};

struct fw_nft *fw_nft_open(char *err, size_t errlen);
void fw_nft_close(struct fw_nft *f);
/* Create (or, if present, bring up to date) the table, sets and chain, in
 * one batch. Existing set elements are kept: existing sets are left as they
 * are, and the chain is flushed and its two rules added again in the same
 * batch (never duplicated, never missing). Idempotent; may be called again
 * with another config (ports changed on reload). New sets get per-element
 * counters (set expression "counter") when the kernel allows it. Fails if
 * block4/block6 exist without the timeout and interval flags. */
int fw_nft_setup(struct fw_nft *f, const struct fw_nft_config *cfg, char *err, size_t errlen);
/* Queue: block c for timeout_ms (0 = permanent). If c is already in the
 * set, its expiry becomes now + timeout_ms (and its timeout timeout_ms).
 * If a blocked range already covers c, nothing changes (logged at debug
 * level, not a refusal). If c covers narrower blocks, it replaces them.
 * A /0 is refused. */
void fw_nft_queue_add(struct fw_nft *f, const struct cidr *c, uint64_t timeout_ms);
/* Queue: unblock exactly c (as it was added). Not being in the set
 * (expired) is not an error. Deleting a part of a blocked range does
 * nothing: the range stays whole. */
void fw_nft_queue_del(struct fw_nft *f, const struct cidr *c);
size_t fw_nft_pending(const struct fw_nft *f);
/* Send the queued changes in one batch (bigger commits go as several
 * batches of up to 32768 changes). Returns the number of changes the
 * kernel refused (each reported with log_warnx), or -1 if a batch could
 * not be sent at all or the sets are missing (message in err). Changes not
 * at fault are sent again, so one bad change never loses the others. The
 * queue is empty afterwards, whatever the result. */
int fw_nft_commit(struct fw_nft *f, char *err, size_t errlen);
/* One block as the kernel holds it. */
struct fw_nft_elem {
	struct cidr target;
	uint64_t timeout_ms;            /* 0 = permanent (or unknown) */
	uint64_t expires_ms;            /* time left; 0 = permanent (or unknown) */
	uint64_t packets, bytes;        /* dropped by this block, if has_counter */
	bool has_counter;               /* false: the set has no per-element counters */
};
typedef void fw_nft_elem_fn(void *arg, const struct fw_nft_elem *e);
/* Dump block4 then block6 of table `table` and call fn once per block, in
 * address order (IPv4 first). Interval start/end elements are paired back
 * into prefixes; a range that is no prefix (not made by mailscreen) comes
 * back as the prefixes covering it, the first of them carrying the
 * range's counter. Expired elements are not listed. Slow on big sets
 * (about 1M elements: tens of seconds, memory for all of them): for the
 * command line and for reconciling, not for each block. Returns 0, or -1
 * with a message in err (e.g. the table or a set is missing). */
int fw_nft_list(struct fw_nft *f, const char *table, fw_nft_elem_fn *fn, void *arg, char *err,
		size_t errlen);
/* Remove the whole table (for tests and "mailscreen run --cleanup"). A
 * table that is not there is not an error. */
int fw_nft_destroy(struct fw_nft *f, const char *table, char *err, size_t errlen);

#endif
