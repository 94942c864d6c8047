/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * fw_nft - the daemon's nftables table, through libnftnl + libmnl.
 *
 * Owns one table (family inet, default name "mailscreen") and nothing
 * else: sets block4 (ipv4_addr) and block6 (ipv6_addr), and allow4 and
 * allow6, all with the timeout and interval flags, and a base chain
 * "input" on the input hook that first accepts loopback traffic and
 * packets whose source is in an allow set, then drops packets whose
 * source is in a block set, only for the configured TCP ports unless all
 * ports. Blocks are set elements with a kernel
 * timeout, so they expire without the daemon. Changes are queued and sent
 * in one netlink batch per fw_nft_commit(); the kernel's answer to every
 * message is read back and errors are reported per element.
 * fw_nft_list() reads the sets back, with each block's drop counter.
 * A monitor (fw_nft_monitor_open) listens to the kernel's nftables
 * notifications and says when another process removed or emptied what
 * the table holds, so that the daemon can put it back.
 */
#ifndef MS_FW_NFT_H
#define MS_FW_NFT_H

#include "addr.h"
#include "loop.h"

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
/* The same for either kind of set: FW_NFT_BLOCK (block4/block6, as the
 * two above) or FW_NFT_ALLOW (allow4/allow6). */
enum fw_nft_set { FW_NFT_BLOCK, FW_NFT_ALLOW };
void fw_nft_queue_set(struct fw_nft *f, enum fw_nft_set which, const struct cidr *c, uint64_t timeout_ms, bool del);
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
/* The same for either kind of set (fw_nft_list is FW_NFT_BLOCK). */
int fw_nft_list_set(struct fw_nft *f, const char *table, enum fw_nft_set which, fw_nft_elem_fn *fn, void *arg,
		    char *err, size_t errlen);
/* Remove the whole table (for tests and "mailscreen run --cleanup"). A
 * table that is not there is not an error. */
int fw_nft_destroy(struct fw_nft *f, const char *table, char *err, size_t errlen);

/* ---- monitor ----
 * Watches the kernel's nftables notifications (NFNLGRP_NFTABLES) on a
 * socket of its own, registered in the loop, and calls fn when a process
 * other than this one deleted table inet `table`, its set block4/block6 or
 * its chain "input", added or deleted rules of that chain, or deleted
 * elements of the sets. Once per transaction (one `nft` command, however
 * many objects it touched), after the kernel announced its generation and
 * who made it; changes made by this process are never reported. Other
 * tables and families never are. `what`, lower case, for a log line:
 *   "table inet T deleted"   (subsumes all else: `nft flush ruleset`)
 *   "set block4 deleted" (or block6, allow4, allow6), "chain input deleted", "rules of chain input
 *   changed", "set block6 flushed (N elements deleted)" (two or more
 *   elements in one transaction), several of them joined by ", ";
 *   "element 192.0.2.7 deleted from set block4" (exactly one element, or
 *   one range, and nothing else: perhaps an admin's deliberate unblock --
 *   the caller decides; also what flushing a set of one element says);
 *   "notifications lost" (the receive buffer overflowed, e.g. a flush of a
 *   huge set: resynchronise).
 * fn must not close the monitor. Element expiry sends no notification, so
 * expired blocks are never reported. */
struct fw_nft_monitor;
typedef void fw_nft_lost_fn(void *arg, const char *what);
struct fw_nft_monitor *fw_nft_monitor_open(struct loop *l, const char *table, fw_nft_lost_fn *fn,
					   void *arg, char *err, size_t errlen);
/* Tie f to m, which should be done for the handle the daemon commits with:
 * (1) changes sent through f are known as ours by f's netlink port, also
 * in a PID namespace, where the pid the kernel names (the initial
 * namespace's) is not getpid(); (2) fw_nft_commit() on f reads m's socket
 * after each batch (so fn may be called from inside it), so that the
 * notifications of our own big commits -- one per element -- never
 * overflow m's buffer, which would look like a loss and cause a resync of
 * its own, and so on. Up to 4 handles per monitor, one monitor per handle;
 * -1 if that is exceeded. Closing either side unties them; fw_nft_close()
 * of a tied handle reads m's socket first (fn may be called). */
int fw_nft_monitor_own(struct fw_nft_monitor *m, struct fw_nft *f);
void fw_nft_monitor_close(struct fw_nft_monitor *m);

#endif
