/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * accounts - the blocked accounts, as blocks.c is for addresses: add (or
 * extend), remove, expire, iterate, a bound, and the deny file Dovecot
 * reads (denyfile.h) rendered from them when they changed.
 *
 * Names are the attacker's text: each is checked as the deny file needs
 * (denyfile_valid_user) and kept lower case, so "Bob" and "bob" are one
 * account. Owns its array; nothing else touches it. Must never write a
 * name the deny file cannot hold.
 */
#ifndef MS_ACCOUNTS_H
#define MS_ACCOUNTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct account_block {
	char user[256];
	char origin[48];
	char reason[160];
	uint64_t start_ms, expiry_ms;   /* UINT64_MAX = permanent */
};

struct accounts;

/* At most max accounts blocked at once (more are refused). */
struct accounts *accounts_new(size_t max);
void accounts_free(struct accounts *a);
/* Block user[0..len) (or extend: the expiry becomes now + duration,
 * DURATION_PERMANENT for ever). 0, or -1 with a message. */
int accounts_add(struct accounts *a, const char *user, size_t len, uint64_t now_ms, uint64_t duration_ms,
		 const char *origin, const char *reason, char *err, size_t errlen);
/* Give user's entry exactly these times back (restoring a saved block). */
bool accounts_restore_times(struct accounts *a, const char *user, size_t len, uint64_t start_ms, uint64_t expiry_ms);
/* Unblock (any case); false if not blocked. */
bool accounts_remove(struct accounts *a, const char *user);
/* Unblock every account; returns how many. */
size_t accounts_clear(struct accounts *a);
/* Drop expired entries, calling fn (if any) on each first; returns how
 * many. */
typedef void accounts_fn(void *arg, const struct account_block *ab);
/* Told of every account block that is removed or cleared (not of those
 * that expire: accounts_expire tells its own fn), just before it goes. */
void accounts_on_remove(struct accounts *a, accounts_fn *fn, void *arg);
size_t accounts_expire(struct accounts *a, uint64_t now_ms, accounts_fn *fn, void *arg);
size_t accounts_count(const struct accounts *a);
void accounts_foreach(const struct accounts *a, accounts_fn *fn, void *arg);
/* Rewrite the deny file at path if the list changed since the last
 * write (or force). 1 written, 0 nothing to do, -1 with a message (tried
 * again at the next change, so that a broken path is said once). */
int accounts_write_denyfile(struct accounts *a, const char *path, bool force, char *err, size_t errlen);

#endif
