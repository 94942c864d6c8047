/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * history - the blocks and account blocks that ended (expired, lifted,
 * taken out of the kernel by someone else), the newest last, bounded: at
 * most max entries are kept, the oldest dropped first. 'mailscreen
 * history' shows them beside the blocks in force; the snapshot keeps
 * them across restarts (state.h).
 *
 * Owns its entries (plain copies). Never decides anything: the daemon
 * tells it what ended.
 */
#ifndef MS_HISTORY_H
#define MS_HISTORY_H

#include "addr.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HISTORY_DEFAULT_MAX 1000

struct history_entry {
	bool account;           /* an account block: user; else target */
	struct cidr target;
	char user[256];
	char origin[48];        /* a rule's name, "manual", "file", "prefix", "kernel" */
	char reason[160];
	char how[16];           /* "expired", "unblocked", "removed" (from the kernel by another) */
	uint64_t start_ms, end_ms;
};

struct history;

struct history *history_new(size_t max);
void history_free(struct history *h);
/* A new bound (0: keep nothing); the oldest entries beyond it go. */
void history_set_max(struct history *h, size_t max);
/* Append e (copied); the oldest goes when full. */
void history_add(struct history *h, const struct history_entry *e);
size_t history_count(const struct history *h);
/* The i-th entry, 0 the oldest. */
const struct history_entry *history_get(const struct history *h, size_t i);

/* What 'history WHO' asks for: an address or range (entries of blocks
 * that overlap it), an account (its blocks, any case), or everything. */
struct history_query {
	enum { HQ_ALL, HQ_TARGET, HQ_ACCOUNT } what;
	struct cidr target;
	const char *user;
};
/* Whether a block of target (account false) or of user (account true)
 * is one q asks for. */
bool history_match(const struct history_query *q, bool account, const struct cidr *target, const char *user);

#endif
