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
 * one batch. Existing set elements are kept. Idempotent; may be called
 * again with another config (ports changed on reload). */
int fw_nft_setup(struct fw_nft *f, const struct fw_nft_config *cfg, char *err, size_t errlen);
/* Queue: block c for timeout_ms (0 = permanent). If c is already in the
 * set, its expiry becomes now + timeout_ms. */
void fw_nft_queue_add(struct fw_nft *f, const struct cidr *c, uint64_t timeout_ms);
void fw_nft_queue_del(struct fw_nft *f, const struct cidr *c);
size_t fw_nft_pending(const struct fw_nft *f);
/* Send the queued changes in one batch. Returns the number of elements the
 * kernel refused (each reported with log_warnx), or -1 if the batch could
 * not be sent at all (message in err). Elements not at fault are retried
 * so one bad element never loses the others. */
int fw_nft_commit(struct fw_nft *f, char *err, size_t errlen);
/* Remove the whole table (for tests and "mailscreen run --cleanup"). */
int fw_nft_destroy(struct fw_nft *f, const char *table, char *err, size_t errlen);

#endif
