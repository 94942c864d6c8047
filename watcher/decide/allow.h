/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * allow - the allow list: addresses and ranges that are never counted nor
 * blocked. Entries come from the configuration ([allow], replaced on every
 * reload) or from the control socket (kept across reloads, optionally
 * with an expiry). Loopback is always exempt and never listed.
 */
#ifndef MS_ALLOW_H
#define MS_ALLOW_H

#include "addr.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum allow_origin { ALLOW_CONFIG, ALLOW_MANUAL };

struct allow_entry {
	struct cidr target;
	enum allow_origin origin;
	uint64_t expiry_ms;     /* UINT64_MAX = no expiry */
};

struct allowlist {
	struct allow_entry *v;
	size_t n, alloc;
	uint64_t gen;           /* moves on with every change (for those who mirror the list) */
};

/* Replace the configuration's entries, keep the manual ones. */
void allow_set_config(struct allowlist *a, const struct cidrlist *cfg);
/* Add or update a manual entry. Returns false if the very same range is
 * already allowed by the configuration (nothing to do). */
bool allow_add(struct allowlist *a, const struct cidr *c, uint64_t expiry_ms);
/* Remove a manual entry; false if there is none for exactly this range. */
bool allow_remove(struct allowlist *a, const struct cidr *c);
/* Remove every manual entry; returns how many. */
size_t allow_clear_manual(struct allowlist *a);
/* The entry that allows a at now_ms, or NULL. */
const struct allow_entry *allow_match(const struct allowlist *a, const struct ipaddr *ip, uint64_t now_ms);
/* Drop expired manual entries; returns how many. */
size_t allow_expire(struct allowlist *a, uint64_t now_ms);
void allow_release(struct allowlist *a);

#endif
