// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * daemon_metrics - [metrics]: the daemon's numbers for Prometheus: the
 * fields of status (read through report_walk, never counted again), the
 * blocks in force by origin and kind, the kernel's drop counters per set,
 * state saves, start time and version; written to a textfile-collector
 * file every interval (and at stop) and/or served by httpd on GET
 * /metrics.
 *
 * One table maps the paths of status fields (report_walk: rules, a rule's
 * name, decisions) to metric families; the rest is read here from the
 * daemon. A render builds the whole exposition in memory (expo), so the
 * textfile and the HTTP answer are the same bytes.
 *
 * Owns the server, the timer and the last drop counters read. Labels are
 * rules, sources, kinds of event, tables, origins and sets: never a
 * client's address or account. Must never block the loop on a scrape
 * (the kernel's sets are read at most once per interval).
 */
#include "config.h"
#include "daemon.h"
#include "expo.h"
#include "fileio.h"
#include "httpd.h"
#include "log.h"
#include "report.h"
#include "xalloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef MS_VERSION
#define MS_VERSION "0.1"
#endif

#define METRICS_PATH "/metrics"
#define METRICS_CTYPE "text/plain; version=0.0.4; charset=utf-8"
#define METRICS_DROPS_MAX 100000        /* more blocks than this: the sets are not dumped for their counters */

struct metrics {
	struct daemon *d;
	struct httpd *http;
	char *listen;           /* what http listens on */
	uint64_t timer, interval_ms;
	bool has_drops;
	uint64_t packets[2], bytes[2];  /* block4, block6 */
};

/* ---- status fields ---- */

struct field {
	const char *path;       /* '/'-separated; '*' an element's name, the value of label (first), label2 */
	const char *name;
	enum expo_type type;
	const char *label;      /* for the first '*'; "A/B": A for the first, B for the second */
	double scale;           /* 0: 1 */
	const char *help;
};

static const struct field fields[] = {
	{ "lines", "mailscreen_lines_total", EXPO_COUNTER, NULL, 0, "log lines read, all sources" },
	{ "old_lines", "mailscreen_old_lines_total", EXPO_COUNTER, NULL, 0,
	  "lines read in log time (catching up after a start)" },
	{ "cut_lines", "mailscreen_cut_lines_total", EXPO_COUNTER, NULL, 0,
	  "lines longer than max_line: counted, never matched" },
	{ "decisions", "mailscreen_decisions_total", EXPO_COUNTER, NULL, 0, "decisions (a rule's limit reached)" },
	{ "exempt", "mailscreen_exempt_events_total", EXPO_COUNTER, NULL, 0, "events exempt (allow list, trusted)" },
	{ "evictions", "mailscreen_evictions_total", EXPO_COUNTER, NULL, 0,
	  "tracked keys dropped at a table's bound, all rules" },
	{ "duplicate_events", "mailscreen_duplicate_events_total", EXPO_COUNTER, NULL, 0,
	  "events whose attempt or connection another line counted" },
	{ "tracked_keys", "mailscreen_tracked_keys", EXPO_GAUGE, NULL, 0, "keys tracked, all rules" },
	{ "blocks", "mailscreen_blocked_addresses", EXPO_GAUGE, NULL, 0, "addresses and ranges blocked now" },
	{ "accounts", "mailscreen_blocked_accounts", EXPO_GAUGE, NULL, 0, "accounts blocked now" },
	{ "allows", "mailscreen_allows", EXPO_GAUGE, NULL, 0, "entries of the allow list" },
	{ "paused", "mailscreen_paused", EXPO_GAUGE, NULL, 0, "1 while paused (counting, not blocking)" },
	{ "dry_run", "mailscreen_dry_run", EXPO_GAUGE, NULL, 0, "1 in a dry run (nftables untouched)" },
	{ "nft_errors", "mailscreen_nft_errors_total", EXPO_COUNTER, NULL, 0, "changes nftables refused" },
	{ "sessions_closed", "mailscreen_sessions_closed_total", EXPO_COUNTER, NULL, 0,
	  "connections of blocked addresses closed" },
	{ "tables/*/keys", "mailscreen_table_keys", EXPO_GAUGE, "table", 0, "keys tracked, by kind of table" },
	{ "tables/*/max", "mailscreen_table_keys_max", EXPO_GAUGE, "table", 0, "the bound of each table, per rule" },
	{ "tables/*/evictions", "mailscreen_table_evictions_total", EXPO_COUNTER, "table", 0,
	  "keys dropped at the bound, by kind of table" },
	{ "kernel/not_enforced", "mailscreen_kernel_not_enforced", EXPO_GAUGE, NULL, 0,
	  "listed blocks the kernel did not hold at the last check" },
	{ "kernel/repairs", "mailscreen_kernel_repairs_total", EXPO_COUNTER, NULL, 0,
	  "differences between the list and the kernel repaired" },
	{ "kernel/check_ms", "mailscreen_kernel_check_duration_seconds", EXPO_GAUGE, NULL, 0.001,
	  "how long the last kernel check took" },
	{ "cluster/connected", "mailscreen_cluster_connected", EXPO_GAUGE, NULL, 0,
	  "1 while both connections to Redis are ready" },
	{ "cluster/lag_ms", "mailscreen_cluster_lag_seconds", EXPO_GAUGE, NULL, 0.001,
	  "how old the last stream entry read was when it was read" },
	{ "cluster/queued", "mailscreen_cluster_queued", EXPO_GAUGE, NULL, 0, "decisions waiting to be published" },
	{ "cluster/dropped", "mailscreen_cluster_dropped_total", EXPO_COUNTER, NULL, 0,
	  "decisions not published: the queue was full, or Redis refused them" },
	{ "cluster/published", "mailscreen_cluster_published_total", EXPO_COUNTER, NULL, 0,
	  "decisions published to the other nodes" },
	{ "cluster/applied", "mailscreen_cluster_applied_total", EXPO_COUNTER, NULL, 0,
	  "decisions of other nodes handed to the decision path" },
	{ "cluster/rejected", "mailscreen_cluster_rejected_total", EXPO_COUNTER, NULL, 0,
	  "stream entries rejected by the checks" },
	{ "cluster/reconnects", "mailscreen_cluster_reconnects_total", EXPO_COUNTER, NULL, 0,
	  "connections to Redis lost and made again" },
	{ "cluster/count_events", "mailscreen_cluster_count_events_total", EXPO_COUNTER, NULL, 0,
	  "events of shared rules sent to the shared count" },
	{ "cluster/count_batches", "mailscreen_cluster_count_batches_total", EXPO_COUNTER, NULL, 0,
	  "batches of shared counts sent" },
	{ "cluster/count_decisions", "mailscreen_cluster_count_decisions_total", EXPO_COUNTER, NULL, 0,
	  "decisions the shared count made on this node" },
	{ "cluster/count_fallbacks", "mailscreen_cluster_count_fallbacks_total", EXPO_COUNTER, NULL, 0,
	  "events of shared rules counted alone (Redis away)" },
	{ "cluster/count_lost", "mailscreen_cluster_count_lost_total", EXPO_COUNTER, NULL, 0,
	  "batches of shared counts lost (connection lost, or refused by Redis)" },
	{ "cluster/peers/*/heartbeat_s_ago", "mailscreen_cluster_peer_heartbeat_age_seconds", EXPO_GAUGE, "node", 0,
	  "how long ago each node of the cluster wrote its heartbeat" },
	{ "files/rotations", "mailscreen_file_rotations_total", EXPO_COUNTER, NULL, 0, "log file rotations followed" },
	{ "files/truncations", "mailscreen_file_truncations_total", EXPO_COUNTER, NULL, 0, "log file truncations" },
	{ "files/overflows", "mailscreen_inotify_overflows_total", EXPO_COUNTER, NULL, 0, "inotify queue overflows" },
	{ "events/*/count", "mailscreen_events_total", EXPO_COUNTER, "kind", 0, "events, by kind" },
	{ "sources/*/lines", "mailscreen_source_lines_total", EXPO_COUNTER, "source", 0, "log lines read, by source" },
	{ "sources/*/events_by_kind/*/count", "mailscreen_source_events_total", EXPO_COUNTER, "source/kind", 0,
	  "events, by source and kind" },
	{ "sources/*/files/*/lag_bytes", "mailscreen_source_lag_bytes", EXPO_GAUGE, "source", 0,
	  "bytes of a file source's files not read yet" },
	{ "sources/*/lag_s", "mailscreen_source_lag_seconds", EXPO_GAUGE, "source", 0,
	  "how far a journal source is behind (0: caught up)" },
	{ "rules/*/events", "mailscreen_rule_events_total", EXPO_COUNTER, "rule", 0, "events counted, by rule" },
	{ "rules/*/tracked", "mailscreen_rule_tracked_keys", EXPO_GAUGE, "rule", 0, "keys tracked, by rule" },
	{ "rules/*/decisions", "mailscreen_rule_decisions_total", EXPO_COUNTER, "rule", 0,
	  "decisions (limit reached), by rule" },
	{ "rules/*/evictions", "mailscreen_rule_evictions_total", EXPO_COUNTER, "rule", 0,
	  "tracked keys dropped at the bound, by rule" },
	{ "rules/*/blocks_since_start", "mailscreen_rule_blocks_total", EXPO_COUNTER, "rule", 0,
	  "blocks made since start, by rule" },
	{ "rules/*/blocks_in_force", "mailscreen_rule_blocks", EXPO_GAUGE, "rule", 0,
	  "blocks in force that the rule made" },
};

static bool matches(const char *pattern, const char *const *path, size_t depth, const char *star[2])
{
	const char *p = pattern;
	int stars = 0;

	star[0] = star[1] = NULL;
	for (size_t i = 0; i < depth; i++) {
		const char *slash = strchr(p, '/');
		size_t len = slash ? (size_t)(slash - p) : strlen(p);
		if (!*p)
			return false;
		if (len == 1 && *p == '*') {
			if (stars < 2)
				star[stars++] = path[i];
		} else if (strlen(path[i]) != len || memcmp(path[i], p, len) != 0) {
			return false;
		}
		p = slash ? slash + 1 : p + len;
		if (!slash && i + 1 < depth)
			return false;
		if (slash && i + 1 == depth)
			return false;
	}
	return true;
}

static void on_field(void *arg, const char *const *path, size_t depth, const struct report_row *r, const void *rec)
{
	struct expo *e = arg;
	double v;

	if (!report_number(r, rec, &v))
		return;
	for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
		const struct field *f = &fields[i];
		const char *star[2];
		if (!matches(f->path, path, depth, star))
			continue;
		if (f->scale)
			v *= f->scale;
		if (f->label && strchr(f->label, '/')) {
			char first[32];
			const char *second = strchr(f->label, '/') + 1;
			snprintf(first, sizeof first, "%.*s", (int)(second - 1 - f->label), f->label);
			expo_add(e, f->name, (const char *const[]){ first, star[0] ? star[0] : "", second,
								    star[1] ? star[1] : "", NULL }, v);
		} else if (f->label)
			expo_add(e, f->name, (const char *const[]){ f->label, star[0] ? star[0] : "", NULL }, v);
		else
			expo_add(e, f->name, NULL, v);
		return;
	}
}

/* ---- from the daemon ---- */

/* Blocks in force by origin and kind: counted here first (origins are few:
 * the rules, manual, file, prefix, kernel, location, cluster:NODE), then
 * one series each, so that a scrape costs a comparison per block, not a
 * series lookup. */
#define ORIGINS_MAX 256

struct origin_count {
	const char *origin;     /* the block's own string: valid during the render */
	uint64_t n[2];          /* addresses, accounts */
};

struct origins {
	struct origin_count v[ORIGINS_MAX];
	size_t n;
	uint64_t other[2];      /* past ORIGINS_MAX distinct origins */
	size_t last;            /* blocks come in runs of one origin */
};

static void count_origin(struct origins *o, const char *origin, int kind)
{
	if (o->n && strcmp(o->v[o->last].origin, origin) == 0) {
		o->v[o->last].n[kind]++;
		return;
	}
	for (size_t i = 0; i < o->n; i++)
		if (strcmp(o->v[i].origin, origin) == 0) {
			o->v[i].n[kind]++;
			o->last = i;
			return;
		}
	if (o->n == ORIGINS_MAX) {
		o->other[kind]++;
		return;
	}
	o->v[o->n] = (struct origin_count){ .origin = origin };
	o->v[o->n].n[kind] = 1;
	o->last = o->n++;
}

static void count_block(void *arg, const struct block *b)
{
	count_origin(arg, b->origin, 0);
}

static void count_account(void *arg, const struct account_block *a)
{
	count_origin(arg, a->origin, 1);
}

static void add_blocks(struct daemon *d, struct expo *e)
{
	static const char *const kinds[] = { "address", "account" };
	struct origins *o = xcalloc(1, sizeof *o);

	blocks_foreach(d->blocks, count_block, o);
	accounts_foreach(d->accounts, count_account, o);
	for (size_t i = 0; i < o->n; i++)
		for (int k = 0; k < 2; k++)
			if (o->v[i].n[k])
				expo_set(e, "mailscreen_blocks",
					 (const char *const[]){ "origin", o->v[i].origin, "kind", kinds[k], NULL },
					 (double)o->v[i].n[k]);
	for (int k = 0; k < 2; k++)
		if (o->other[k])
			expo_set(e, "mailscreen_blocks", (const char *const[]){ "origin", "other", "kind", kinds[k], NULL },
				 (double)o->other[k]);
	free(o);
}

static void add_drops(void *arg, const struct fw_nft_elem *el)
{
	struct metrics *m = arg;
	int v6 = el->target.addr.family == AF_INET6;

	if (el->has_counter) {
		m->packets[v6] += el->packets;
		m->bytes[v6] += el->bytes;
	}
}

/* The kernel's per-block counters, summed per set (once per interval). */
static void read_drops(struct metrics *m)
{
	struct daemon *d = m->d;
	char err[ERR_LEN];

	m->has_drops = false;
	memset(m->packets, 0, sizeof m->packets);
	memset(m->bytes, 0, sizeof m->bytes);
	if (!d->nft || d->dry_run || blocks_count(d->blocks) > METRICS_DROPS_MAX)
		return;
	if (fw_nft_list(d->nft, d->b.cfg.table, add_drops, m, err, sizeof err) < 0) {
		log_debug("metrics: cannot read the kernel's counters: %s", err);
		return;
	}
	m->has_drops = true;
}

static void declare(struct expo *e)
{
	for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
		expo_family(e, fields[i].name, fields[i].type, fields[i].help);
	expo_family(e, "mailscreen_blocks", EXPO_GAUGE, "blocks in force, by origin (a rule, manual, file, prefix, "
		    "kernel) and kind (address or account)");
	expo_family(e, "mailscreen_set_dropped_packets", EXPO_GAUGE,
		    "packets dropped by the blocks in force, by set (the kernel's per-element counters summed)");
	expo_family(e, "mailscreen_set_dropped_bytes", EXPO_GAUGE,
		    "bytes dropped by the blocks in force, by set (the kernel's per-element counters summed)");
	expo_family(e, "mailscreen_state_saves_total", EXPO_COUNTER, "state snapshots written, by result");
	expo_family(e, "mailscreen_state_save_duration_seconds", EXPO_GAUGE, "how long the last snapshot took");
	expo_family(e, "mailscreen_state_last_save_timestamp_seconds", EXPO_GAUGE,
		    "when the last snapshot was written");
	expo_family(e, "mailscreen_http_requests_total", EXPO_COUNTER,
		    "connections to the metrics server, by result (ok, error, timeout, busy)");
	expo_family(e, "mailscreen_start_time_seconds", EXPO_GAUGE, "when the daemon started, since the epoch");
	expo_family(e, "mailscreen_build_info", EXPO_GAUGE, "always 1; the version as a label");
}

char *metrics_render(struct metrics *m, size_t *len)
{
	struct daemon *d = m->d;
	struct expo e;
	char *buf = NULL;
	FILE *fp;

	expo_init(&e);
	declare(&e);
	daemon_status_walk(d, daemon_now_ms(), on_field, &e);
	add_blocks(d, &e);
	if (m->has_drops)
		for (int v6 = 0; v6 < 2; v6++) {
			const char *const set[] = { "set", v6 ? "block6" : "block4", NULL };
			expo_set(&e, "mailscreen_set_dropped_packets", set, (double)m->packets[v6]);
			expo_set(&e, "mailscreen_set_dropped_bytes", set, (double)m->bytes[v6]);
		}
	expo_set(&e, "mailscreen_state_saves_total", (const char *const[]){ "result", "ok", NULL },
		 (double)d->saves.ok);
	expo_set(&e, "mailscreen_state_saves_total", (const char *const[]){ "result", "error", NULL },
		 (double)d->saves.failed);
	if (d->saves.ok || d->saves.failed)
		expo_set(&e, "mailscreen_state_save_duration_seconds", NULL, (double)d->saves.last_ms / 1000);
	if (d->saves.last_at)
		expo_set(&e, "mailscreen_state_last_save_timestamp_seconds", NULL, (double)d->saves.last_at);
	struct httpd_stats hs;
	if (metrics_http_stats(m, &hs)) {
		expo_set(&e, "mailscreen_http_requests_total", (const char *const[]){ "result", "ok", NULL },
			 (double)hs.requests);
		expo_set(&e, "mailscreen_http_requests_total", (const char *const[]){ "result", "error", NULL },
			 (double)hs.errors);
		expo_set(&e, "mailscreen_http_requests_total", (const char *const[]){ "result", "timeout", NULL },
			 (double)hs.timeouts);
		expo_set(&e, "mailscreen_http_requests_total", (const char *const[]){ "result", "busy", NULL },
			 (double)hs.busy);
	}
	expo_set(&e, "mailscreen_start_time_seconds", NULL, (double)d->started);
	expo_set(&e, "mailscreen_build_info", (const char *const[]){ "version", MS_VERSION, NULL }, 1);
	*len = 0;
	fp = open_memstream(&buf, len);
	if (!fp)
		fatal("open_memstream");
	expo_write(&e, fp);
	if (fclose(fp) != 0)
		fatal("open_memstream");
	expo_release(&e);
	return buf;
}

bool metrics_http_stats(const struct metrics *m, struct httpd_stats *st)
{
	if (!m || !m->http)
		return false;
	httpd_get_stats(m->http, st);
	return true;
}

static char *http_body(void *arg, size_t *len)
{
	return metrics_render(arg, len);
}

/* ---- the textfile ---- */

struct fill {
	char *buf;
	size_t len;
};

static int fill_textfile(void *arg, int fd, const char *tmp, char *err, size_t errlen)
{
	const struct fill *f = arg;

	if (fchmod(fd, 0644) < 0 || write_all(fd, f->buf, f->len) < 0)
		return errf(err, errlen, "%s: %s", tmp, strerror(errno));
	return 0;
}

static void write_textfile(struct metrics *m)
{
	const char *path = m->d->b.cfg.metrics_textfile;
	char err[ERR_LEN], *tmp;
	struct fill f;
	int rc;

	if (!path || !*path)
		return;
	f.buf = metrics_render(m, &f.len);
	tmp = xasprintf("%s.tmp.XXXXXX", path);
	rc = file_replace(path, tmp, fill_textfile, &f, err, sizeof err);
	if (rc < 0)
		log_warnx("metrics: cannot write %s: %s", path, err);
	free(tmp);
	free(f.buf);
}

static void tick(struct loop *l, void *arg)
{
	struct metrics *m = arg;

	(void)l;
	m->timer = loop_add_timer(m->d->loop, m->interval_ms, tick, m);
	read_drops(m);
	write_textfile(m);
}

/* ---- configuration ---- */

struct metrics *metrics_new(struct daemon *d)
{
	struct metrics *m = xcalloc(1, sizeof *m);

	m->d = d;
	return m;
}

void metrics_configure(struct metrics *m)
{
	const struct config *c = &m->d->b.cfg;

	if (!m->listen || strcmp(m->listen, c->metrics_listen) != 0) {
		char err[ERR_LEN];
		httpd_close(m->http);
		m->http = NULL;
		free(m->listen);
		m->listen = xstrdup(c->metrics_listen);
		if (*m->listen) {
			m->http = httpd_open(m->d->loop, m->listen, METRICS_PATH, METRICS_CTYPE, http_body, m, err,
					     sizeof err);
			if (m->http)
				log_info("metrics: serving http://%s" METRICS_PATH, m->listen);
			else
				log_warnx("metrics: %s (metrics not served)", err);
			if (!httpd_is_loopback(m->listen))
				log_warnx("metrics: %s is not a loopback address: anyone who can reach it reads the "
					  "metrics", m->listen);
		}
	}
	if (m->timer)
		loop_cancel_timer(m->d->loop, m->timer);
	m->timer = 0;
	m->interval_ms = c->metrics_interval_ms;
	if (*c->metrics_textfile || m->http)
		tick(m->d->loop, m);
}

void metrics_stop(struct metrics *m)
{
	if (m->timer)
		loop_cancel_timer(m->d->loop, m->timer);
	m->timer = 0;
	write_textfile(m);
}

void metrics_free(struct metrics *m)
{
	if (!m)
		return;
	if (m->timer)
		loop_cancel_timer(m->d->loop, m->timer);
	httpd_close(m->http);
	free(m->listen);
	free(m);
}
