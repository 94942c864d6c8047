// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * daemon_cluster - the daemon's side of [cluster]: the link (cluster.h)
 * made from the configuration (the password read from its file), this
 * node's decisions handed to it, and the other nodes' decisions applied
 * through the one decision path (daemon_block.c), with origin
 * cluster:NODE, so loopback, this host and the allow list stay
 * protected exactly as for a local block.
 *
 * Owns d->cluster and d->cluster_sig. Must never: publish a decision it
 * was given by the cluster, or let Redis hold up local blocking.
 */
#include "daemon.h"
#include "allow.h"
#include "cluster.h"
#include "duration.h"
#include "log.h"
#include "screen.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static uint64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* What is left of a decision made at ts_ms for dur_ms; 0: over. */
static uint64_t left_of(const struct cluster_entry *e)
{
	uint64_t now = wall_ms(), end;

	if (e->duration_ms == DURATION_PERMANENT)
		return DURATION_PERMANENT;
	end = e->ts_ms + e->duration_ms;
	if (e->ts_ms > now)             /* a clock ahead of ours: its whole duration */
		return e->duration_ms;
	return end > now ? end - now : 0;
}

static void apply(void *arg, const struct cluster_entry *e)
{
	struct daemon *d = arg;
	char origin[48], err[ERR_LEN];
	uint64_t left = left_of(e);
	int rc = 0;

	/* blocks keep 47 bytes of origin: a long node name is cut */
	snprintf(origin, sizeof origin, "cluster:%.39s", e->node);
	d->cluster_mute = true;
	switch (e->kind) {
	case CLUSTER_BLOCK:
		if (left)
			rc = daemon_block(d, &e->range, left, origin, e->reason, err, sizeof err);
		break;
	case CLUSTER_UNBLOCK:
		if (blocks_find(d->blocks, &e->range))
			rc = daemon_unblock(d, &e->range, err, sizeof err);
		break;
	case CLUSTER_ALLOW:
		if (left) {
			allow_add(screen_allowlist(d->screen), &e->range,
				  left == DURATION_PERMANENT ? UINT64_MAX : daemon_now_ms() + left);
			daemon_arm_sweep(d);
		}
		break;
	case CLUSTER_UNALLOW:
		allow_remove(screen_allowlist(d->screen), &e->range);
		break;
	case CLUSTER_ACCOUNT_BLOCK:
		if (left)
			rc = daemon_block_account(d, e->target, strlen(e->target), left, origin, e->reason, err, sizeof err);
		break;
	case CLUSTER_ACCOUNT_UNBLOCK:
		daemon_unblock_account(d, e->target, err, sizeof err);
		break;
	case CLUSTER_NKINDS:
		break;
	}
	d->cluster_mute = false;
	if (!left && (e->kind == CLUSTER_BLOCK || e->kind == CLUSTER_ALLOW || e->kind == CLUSTER_ACCOUNT_BLOCK))
		log_debug("cluster: %s %s from %s: over already, not applied", cluster_kind_name(e->kind), e->target,
			 e->node);
	else if (rc < 0)
		log_warnx("cluster: %s %s from %s not applied: %s", cluster_kind_name(e->kind), e->target, e->node, err);
	else
		log_info("cluster: %s %s from %s%s%s", cluster_kind_name(e->kind), e->target, e->node,
			 *e->reason ? ": " : "", e->reason);
	daemon_state_dirty(d);
}

static void moved(void *arg)
{
	daemon_state_dirty(arg);
}

void daemon_cluster_publish(struct daemon *d, int kind, const char *target, uint64_t dur_ms, const char *origin,
			    const char *reason)
{
	struct cluster_entry e = { .kind = (enum cluster_kind)kind, .duration_ms = dur_ms };

	if (!d->cluster || d->cluster_mute || d->restoring)
		return;
	snprintf(e.target, sizeof e.target, "%s", target);
	snprintf(e.origin, sizeof e.origin, "%s", origin ? origin : "");
	snprintf(e.reason, sizeof e.reason, "%s", reason ? reason : "");
	cluster_publish(d->cluster, &e);
}

/* The first line of the password file. */
static char *read_password(const char *path)
{
	FILE *fp = fopen(path, "re");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	if (!fp) {
		log_warn("cluster: cannot read password_file '%s'; connecting without a password", path);
		return NULL;
	}
	n = getline(&line, &cap, fp);
	fclose(fp);
	if (n < 0) {
		free(line);
		return xstrdup("");
	}
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	return line;
}

void daemon_cluster_free(struct daemon *d)
{
	if (d->cluster) {
		snprintf(d->cluster_saved_id, sizeof d->cluster_saved_id, "%s", cluster_last_id(d->cluster));
		cluster_free(d->cluster);
	}
	d->cluster = NULL;
	free(d->cluster_sig);
	d->cluster_sig = NULL;
}

void daemon_cluster_configure(struct daemon *d)
{
	const struct config *c = &d->b.cfg;
	struct cluster_opts o = { .limits = cluster_default_limits };
	struct cluster_hooks h = { .apply = apply, .moved = moved, .arg = d };
	char *sig, err[ERR_LEN];
	size_t len;

	len = strlen(c->cluster_redis) + strlen(c->cluster_user) + strlen(c->cluster_password_file) +
	      strlen(c->cluster_node) + strlen(c->cluster_prefix) + 64;
	sig = xmalloc(len);
	snprintf(sig, len, "%s|%s|%s|%s|%s|%u|%u", c->cluster_redis, c->cluster_user, c->cluster_password_file,
		 c->cluster_node, c->cluster_prefix, c->cluster_share, c->cluster_accept);
	if (d->cluster_sig && strcmp(sig, d->cluster_sig) == 0) {
		free(sig);
		return;
	}
	daemon_cluster_free(d);
	if (!*c->cluster_redis) {
		free(sig);
		return;
	}
	if (cluster_redis_parse(c->cluster_redis, &o.redis, err, sizeof err) < 0) {
		log_warnx("cluster: %s", err);
		free(sig);
		return;
	}
	o.user = c->cluster_user;
	o.password = *c->cluster_password_file ? read_password(c->cluster_password_file) : NULL;
	o.node = c->cluster_node;
	o.prefix = c->cluster_prefix;
	o.share = c->cluster_share;
	o.accept = c->cluster_accept;
	o.last_id = d->cluster_saved_id;
	d->cluster = cluster_new(d->loop, &o, &h);
	if (o.password) {
		explicit_bzero((char *)(uintptr_t)o.password, strlen(o.password));
		free((char *)(uintptr_t)o.password);
	}
	d->cluster_sig = sig;
	log_info("cluster: node %s, Redis %s, prefix %s", c->cluster_node, c->cluster_redis, c->cluster_prefix);
}
