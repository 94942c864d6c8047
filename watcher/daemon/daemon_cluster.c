// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * daemon_cluster - the daemon's side of [cluster]: the link (cluster.h)
 * made from the configuration (the password read from its file), this
 * node's decisions handed to it, and the other nodes' decisions applied
 * through the one decision path (daemon_block.c), with origin
 * cluster:NODE, so loopback, this host and the allow list stay
 * protected exactly as for a local block.
 *
 * Shared rules (shared = yes, share = counts): the screen hands their
 * counted events here (screen_set_shared_hook) and they go to the shared
 * count while Redis is there; a key the shared count decides for here is
 * blocked through the judge, as the screen's own decision would be; a key
 * the shared count did not decide for, or whose batch it lost (refused,
 * the connection gone), is judged by the screen's own count
 * (screen_local_reached): a shared rule never blocks less than alone. Lines read
 * in log time (catching up) are counted alone.
 *
 * Owns d->cluster and d->cluster_sig. Must never: publish a decision it
 * was given by the cluster, or let Redis hold up local blocking.
 */
#include "daemon.h"
#include "allow.h"
#include "cluster.h"
#include "cluster_count.h"
#include "duration.h"
#include "event.h"
#include "line.h"
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

/* The screen counted cnt events of shared rule ri: for the shared count,
 * unless Redis is away or the events are of the past (catching up). */
static bool shared_count(void *arg, size_t ri, const struct decision *dc, unsigned long cnt, uint64_t now_ms)
{
	struct daemon *d = arg;
	const struct rule *r = dc->rule;
	char key[CIDR_STRLEN + 256];

	(void)ri;
	if (!d->cluster || now_ms + 60 * 1000 < daemon_now_ms())
		return false;
	if (dc->kind == DECIDE_ACCOUNT) {
		if (dc->userlen > CLUSTER_COUNT_KEYTEXT_MAX)
			return false;   /* an account name that long is counted alone */
		memcpy(key, dc->user, dc->userlen);
		key[dc->userlen] = '\0';
	} else {
		cidr_format(&dc->target, key);
	}
	return cluster_count(d->cluster, r->name, key, r->window_ms, r->limit,
			     cnt > UINT32_MAX ? UINT32_MAX : (uint32_t)cnt);
}

/* Decide for shared rule ri's key here, as the screen would (why: what
 * the log says of it). */
static void decide_here(struct daemon *d, long ri, const char *key, const char *why)
{
	const struct rule *r;
	struct decision dc = { 0 };
	struct event ev = { .count = 1 };
	static const char raw[] = "(the cluster's shared count)";
	struct logline ll = { .raw = raw, .rawlen = sizeof raw - 1 };
	char err[ERR_LEN];

	if (ri < 0)
		return;         /* the rule went away with a reload */
	r = &screen_rules(d->screen)->v[ri];
	if (!r->enabled || !r->shared || !r->limit)
		return;
	dc.rule = r;
	dc.count = r->limit;
	for (int k = 0; k < EV_NKINDS; k++)
		if (r->kinds & (1u << k)) {
			ev.kind = (enum ev_kind)k;
			break;
		}
	if (r->per == PER_ACCOUNT) {
		dc.kind = DECIDE_ACCOUNT;
		dc.user = key;
		dc.userlen = strlen(key);
	} else {
		dc.kind = DECIDE_ADDR;
		if (cidr_parse(key, &dc.target, err, sizeof err) < 0)
			return;
		ev.has_ip = true;
		ev.ip = dc.target.addr;
	}
	if (!why) {
		/* the shared count did not decide (or lost the events): this
		 * node's own count judges them, as while Redis is away */
		if (!screen_local_reached(d->screen, (size_t)ri, &dc, daemon_now_ms()))
			return;
		log_info("cluster: rule %s: this node's own count of %s reached %u (the shared count did not decide)",
			 r->name, dc.kind == DECIDE_ACCOUNT ? "an account" : key, r->limit);
	} else {
		log_info("cluster: rule %s: the shared count of %s reached %u within the window; %s", r->name,
			 dc.kind == DECIDE_ACCOUNT ? "an account" : key, r->limit, why);
		screen_note_shared_decision(d->screen, r);
	}
	daemon_shared_decision(d, &dc, &ev, &ll);
}

/* The shared count of rule's key reached its limit and this node decides. */
static void shared_decide(void *arg, const char *rule, const char *key)
{
	struct daemon *d = arg;

	decide_here(d, screen_rule_find(d->screen, rule), key, "this node decides");
}

/* The shared count did not decide for rule's key (or lost its events). */
static void shared_alone(void *arg, const char *rule, const char *key)
{
	struct daemon *d = arg;

	decide_here(d, screen_rule_find(d->screen, rule), key, NULL);
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

/* The first line of the password file; NULL if it cannot be read (errno
 * says why). */
static char *read_password(const char *path)
{
	FILE *fp = fopen(path, "re");
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;

	if (!fp)
		return NULL;
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
	if (d->cluster_sig)             /* it holds the password */
		explicit_bzero(d->cluster_sig, strlen(d->cluster_sig));
	free(d->cluster_sig);
	d->cluster_sig = NULL;
}

static void free_secret(char *s)
{
	if (s) {
		explicit_bzero(s, strlen(s));
		free(s);
	}
}

void daemon_cluster_configure(struct daemon *d)
{
	const struct config *c = &d->b.cfg;
	struct cluster_opts o = { .limits = cluster_default_limits };
	struct cluster_hooks h = { .apply = apply, .moved = moved, .decide = shared_decide, .alone = shared_alone,
				   .arg = d };
	char *sig, *pw = NULL, err[ERR_LEN], stream[sizeof d->cluster_saved_stream];
	size_t len, base;

	screen_set_shared_hook(d->screen, shared_count, d);
	/* the password read at each reload: one rotated in the same file
	 * makes the link again, with it */
	if (*c->cluster_redis && *c->cluster_password_file) {
		pw = read_password(c->cluster_password_file);
		if (!pw)
			log_warn("cluster: cannot read password_file '%s'%s", c->cluster_password_file,
				 d->cluster ? "; the link keeps the password it has" : "; connecting without a password");
	}
	len = strlen(c->cluster_redis) + strlen(c->cluster_user) + strlen(c->cluster_password_file) +
	      strlen(c->cluster_node) + strlen(c->cluster_prefix) + (pw ? strlen(pw) : 0) + 64;
	sig = xmalloc(len);
	base = (size_t)snprintf(sig, len, "%s|%s|%s|%s|%s|%u|%u\n", c->cluster_redis, c->cluster_user,
				c->cluster_password_file, c->cluster_node, c->cluster_prefix, c->cluster_share,
				c->cluster_accept);
	snprintf(sig + base, len - base, "%s", pw ? pw : "");
	/* the same link: nothing to do (a password file that cannot be read
	 * now leaves the link as it is) */
	if (d->cluster_sig && (pw || !*c->cluster_password_file ? strcmp(sig, d->cluster_sig) == 0
								 : strncmp(sig, d->cluster_sig, base) == 0)) {
		free_secret(sig);
		free_secret(pw);
		return;
	}
	daemon_cluster_free(d);
	if (!*c->cluster_redis) {
		free_secret(sig);
		return;
	}
	if (cluster_redis_parse(c->cluster_redis, &o.redis, err, sizeof err) < 0) {
		log_warnx("cluster: %s", err);
		free_secret(sig);
		free_secret(pw);
		return;
	}
	o.user = c->cluster_user;
	o.password = pw;
	o.node = c->cluster_node;
	o.prefix = c->cluster_prefix;
	o.share = c->cluster_share;
	o.accept = c->cluster_accept;
	/* a position is one in the stream it was read from: of another
	 * (prefix or Redis changed) it would skip that stream's entries
	 * older than it, and its snapshot */
	snprintf(stream, sizeof stream, "%sdecisions@%s", c->cluster_prefix, c->cluster_redis);
	if (*d->cluster_saved_id && *d->cluster_saved_stream && strcmp(stream, d->cluster_saved_stream) != 0) {
		log_info("cluster: the saved read position is one of %s, not of %s: starting from the snapshot",
			 d->cluster_saved_stream, stream);
		d->cluster_saved_id[0] = '\0';
	}
	snprintf(d->cluster_saved_stream, sizeof d->cluster_saved_stream, "%s", stream);
	o.last_id = d->cluster_saved_id;
	d->cluster = cluster_new(d->loop, &o, &h);
	free_secret(pw);
	d->cluster_sig = sig;
	log_info("cluster: node %s, Redis %s, prefix %s", c->cluster_node, c->cluster_redis, c->cluster_prefix);
}
