// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * accounts - see accounts.h. Blocked accounts are few (a bound of their
 * own, 100,000 by default in the daemon): an array with a linear search
 * is enough, and keeps the deny file's order stable.
 */
#include "accounts.h"
#include "denyfile.h"
#include "duration.h"
#include "log.h"
#include "xalloc.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct accounts {
	struct account_block *v;
	size_t n, alloc, max;
	bool dirty;
	accounts_fn *remove_fn;
	void *remove_arg;
};

struct accounts *accounts_new(size_t max)
{
	struct accounts *a = xcalloc(1, sizeof *a);

	a->max = max;
	a->dirty = true;        /* Dovecot wants the deny file to exist, even empty */
	return a;
}

void accounts_free(struct accounts *a)
{
	if (!a)
		return;
	free(a->v);
	free(a);
}

static struct account_block *find(struct accounts *a, const char *user, size_t len)
{
	for (size_t i = 0; i < a->n; i++)
		if (strlen(a->v[i].user) == len && strncasecmp(a->v[i].user, user, len) == 0)
			return &a->v[i];
	return NULL;
}

int accounts_add(struct accounts *a, const char *user, size_t len, uint64_t now_ms, uint64_t duration_ms,
		 const char *origin, const char *reason, char *err, size_t errlen)
{
	struct account_block *ab;

	if (!denyfile_valid_user(user, len))
		return errf(err, errlen, "'%.*s' cannot be an account name in the deny file (empty, too long, or "
			    "has ':' or control characters)", (int)(len > 64 ? 64 : len), user);
	if (!(ab = find(a, user, len))) {
		if (a->n >= a->max)
			return errf(err, errlen, "%zu accounts are blocked already", a->max);
		XGROW(a->v, a->alloc, a->n + 1);
		ab = &a->v[a->n++];
		memset(ab, 0, sizeof *ab);
		for (size_t i = 0; i < len; i++)
			ab->user[i] = (char)tolower((unsigned char)user[i]);
		ab->start_ms = now_ms;
		a->dirty = true;        /* the deny file holds names only: an extension leaves it */
	}
	ab->expiry_ms = duration_ms == DURATION_PERMANENT ? UINT64_MAX : now_ms + duration_ms;
	snprintf(ab->origin, sizeof ab->origin, "%s", origin);
	snprintf(ab->reason, sizeof ab->reason, "%s", reason);
	return 0;
}

bool accounts_restore_times(struct accounts *a, const char *user, size_t len, uint64_t start_ms, uint64_t expiry_ms)
{
	struct account_block *ab = find(a, user, len);

	if (!ab)
		return false;
	ab->start_ms = start_ms;
	ab->expiry_ms = expiry_ms;
	return true;
}

bool accounts_remove(struct accounts *a, const char *user)
{
	struct account_block *ab = find(a, user, strlen(user));

	if (!ab)
		return false;
	if (a->remove_fn)
		a->remove_fn(a->remove_arg, ab);
	*ab = a->v[--a->n];
	a->dirty = true;
	return true;
}

size_t accounts_clear(struct accounts *a)
{
	size_t n = a->n;

	for (size_t i = 0; a->remove_fn && i < n; i++)
		a->remove_fn(a->remove_arg, &a->v[i]);
	a->n = 0;
	a->dirty = a->dirty || n;
	return n;
}

size_t accounts_expire(struct accounts *a, uint64_t now_ms, accounts_fn *fn, void *arg)
{
	size_t n = 0;

	for (size_t i = a->n; i > 0; i--)
		if (a->v[i - 1].expiry_ms <= now_ms) {
			if (fn)
				fn(arg, &a->v[i - 1]);
			a->v[i - 1] = a->v[--a->n];
			a->dirty = true;
			n++;
		}
	return n;
}

void accounts_on_remove(struct accounts *a, accounts_fn *fn, void *arg)
{
	a->remove_fn = fn;
	a->remove_arg = arg;
}

size_t accounts_count(const struct accounts *a)
{
	return a->n;
}

void accounts_foreach(const struct accounts *a, accounts_fn *fn, void *arg)
{
	for (size_t i = 0; i < a->n; i++)
		fn(arg, &a->v[i]);
}

int accounts_write_denyfile(struct accounts *a, const char *path, bool force, char *err, size_t errlen)
{
	const char **users;
	int rc;

	if (!a->dirty && !force)
		return 0;
	a->dirty = false;       /* a failed write is said once, and tried again at the next change */
	users = xcalloc(a->n ? a->n : 1, sizeof *users);
	for (size_t i = 0; i < a->n; i++)
		users[i] = a->v[i].user;
	rc = denyfile_write(path, users, a->n, err, errlen);
	free(users);
	return rc < 0 ? -1 : 1;
}
