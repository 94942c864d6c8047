// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * daemon_status - what 'mailscreen status' shows: one list of fields
 * (status_rows: the JSON key, the text, the kind, where the value is),
 * written as text or as JSON by report.c, over a plain view of the
 * daemon taken just before (gather). A field is added in two places: its
 * value in the view, its row in the list; both outputs follow.
 *
 * 'status RULE' is one rule in detail (rule_rows over a view of its
 * own): its counters, the blocks in force it made (the newest
 * STATUS_RULE_BLOCKS) and the keys it tracks with the highest counts
 * (STATUS_RULE_KEYS), so the answer stays small whatever the tables hold
 * (finding them walks the rule's keys once: linear in max_keys at most).
 *
 * Keys, value types and text read by scripts and tests (tests/netns,
 * the benchmarks) stay as they are. Reads the daemon, changes nothing;
 * text from outside (a file name) is shown escaped.
 */
#include "daemon.h"
#include "httpd.h"
#include "daemon_logging.h"
#include "cluster.h"
#include "notify.h"
#include "event.h"
#include "geo.h"
#include "journal.h"
#include "line.h"
#include "log.h"
#include "report.h"
#include "duration.h"
#include "jsonw.h"
#include "tail.h"
#include "xalloc.h"

#include <stdlib.h>
#include <string.h>

struct st_count {
	const char *name;
	uint64_t n;
};

struct st_table {
	const char *name, *bound;
	uint64_t keys, max, evictions;
};

struct st_file {
	char *path;
	uint64_t offset, size, lag, inode;
	bool rotated;
};

struct st_source {
	const char *name;
	uint64_t lines, events;
	struct st_count *kinds;         /* events by kind (JSON and metrics only): kind_v */
	size_t nkinds;
	struct st_count kind_v[EV_NKINDS];
	bool has_format;        /* [source] names a format */
	const char *format;
	uint64_t not_format;
	bool has_files, has_journal;
	struct st_file *files;
	size_t nfiles, afiles;
	char *cursor;           /* NULL: nothing read yet */
	uint64_t lag_s;
};

/* One rule: its settings and counters. */
struct st_rule {
	const char *name, *file, *per;
	const char *summary;    /* "per ip, limit 5 in 10m, block 1h": in summary_buf (never copied) */
	char summary_buf[160];
	int64_t line;
	uint64_t limit;
	int64_t window_s, block_s;      /* block_s -1: permanent */
	bool log_only, enabled;
	uint64_t events, tracked, decisions, evictions;
	uint64_t in_force, since_start, total;
	bool shared;
	uint64_t shared_sent, shared_alone, shared_decisions;
};

struct st_peer {
	const char *name;
	int64_t heartbeat_s_ago;
};

struct st_view {
	int64_t uptime_s;
	bool paused, dry_run;
	const char *config;
	uint64_t blocks, accounts, allows, tracked;
	uint64_t lines, old_lines, ended_blocks, cut_lines, decisions, exempt, evictions;
	uint64_t exempt_account_events;
	struct st_table *tables;
	size_t ntables;
	uint64_t uncounted, duplicates;
	uint64_t log_suppressed;        /* [logging] event lines over lines_per_second */
	uint64_t paused_decisions, nft_errors, sessions_closed, session_scans;
	bool kernel_checked;
	uint64_t not_enforced, check_ms, repairs, adopted;
	int64_t checked_s_ago;  /* -1: never */
	bool has_location;      /* [location] database set */
	const char *geo_path;
	bool geo_off;
	uint64_t geo_lookups, geo_cached, geo_unknown, geo_reopened, located, unlocated;
	bool has_cluster;       /* [cluster] redis set */
	const char *cl_node, *cl_redis, *cl_last_id;
	bool cl_connected, cl_down;
	uint64_t cl_lag_ms, cl_queued, cl_dropped, cl_published, cl_applied, cl_rejected, cl_reconnects, cl_pruned;
	uint64_t cl_count_events, cl_count_batches, cl_count_decisions, cl_count_fallbacks, cl_count_lost;
	struct st_peer *cl_peers;
	size_t cl_npeers;
	char cl_id_buf[CLUSTER_ID_MAX];
	bool has_files;
	struct tail_stats files;
	bool has_control;
	struct control_stats control;
	bool has_http;                  /* [metrics] listen: its server */
	struct httpd_stats http;
	bool has_notify;
	struct notify_counts notify;
	struct st_count *events;
	size_t nevents;
	struct st_source *sources;
	size_t nsources;
	struct st_rule *rules;
	size_t nrules;
	/* storage */
	struct st_table table_v[SCREEN_NTABLES];
	struct st_count event_v[EV_NKINDS];
};

#define V(m) offsetof(struct st_view, m)
#define T(m) offsetof(struct st_table, m)
#define E(m) offsetof(struct st_count, m)
#define S(m) offsetof(struct st_source, m)
#define F(m) offsetof(struct st_file, m)
#define R(m) offsetof(struct st_rule, m)
#define P(m) offsetof(struct st_peer, m)
#define LINE REPORT_GROUP_ROW(NULL, 0, 0)
#define END REPORT_END_ROW

/* In text order; each group is a line of text. */
static const struct report_row status_rows[] = {
	LINE,
	REPORT_ROW(SECS, "uptime_s", "mailscreen: up %s", V(uptime_s)),
	REPORT_ROW(BOOL, "paused", ", PAUSED (counting, not blocking)", V(paused)),
	REPORT_ROW(BOOL, "dry_run", ", dry run (nftables untouched)", V(dry_run)),
	END,
	LINE,
	REPORT_ROW(STR, "config", "configuration: %s", V(config)),
	END,
	LINE,
	REPORT_ROW(U64, "blocks", "blocks: %s", V(blocks)),
	REPORT_ROW(U64, "accounts", ", blocked accounts: %s", V(accounts)),
	REPORT_ROW(U64, "allows", ", allows: %s", V(allows)),
	REPORT_ROW(U64, "tracked_keys", ", tracked keys: %s", V(tracked)),
	END,
	LINE,
	REPORT_ROW(U64, "lines", "lines: %s", V(lines)),
	REPORT_ROW(U64, "old_lines", " (%s read in log time", V(old_lines)),
	REPORT_ROW(U64, "ended_blocks", ", %s of their blocks had ended", V(ended_blocks)),
	REPORT_ROW(U64, "cut_lines", ", %s cut at max_line and not matched)", V(cut_lines)),
	REPORT_ROW(U64, "decisions", ", decisions: %s", V(decisions)),
	REPORT_ROW(U64, "exempt", ", exempt events: %s", V(exempt)),
	REPORT_ROW(U64, "exempt_account_events", " (%s of [allow] accounts)", V(exempt_account_events)),
	REPORT_ROW(U64, "evictions", ", evicted keys: %s", V(evictions)),
	END,
	/* per kind of table, with the option that bounds it */
	{ .kind = REPORT_MAP, .key = "tables", .text = "tables:", .off = V(tables), .flags = REPORT_INLINE,
	  .count = V(ntables), .size = sizeof(struct st_table), .sep = "," },
	{ .kind = REPORT_STR, .text = " %s", .off = T(name), .flags = REPORT_NAME },
	REPORT_ROW(U64, "keys", " %s", T(keys)),
	REPORT_ROW(STR, NULL, " (%s", T(bound)),
	REPORT_ROW(U64, "max", " %s per table", T(max)),
	REPORT_ROW(U64, "evictions", ", %s evicted)", T(evictions)),
	END,
	REPORT_GROUP_ROW(NULL, REPORT_TEXT_NONZERO, 0),
	REPORT_ROW(U64, "only_if_counted_skipped",
		   "only_if_counted events not counted (their key had no count yet): %s", V(uncounted)),
	END,
	REPORT_GROUP_ROW(NULL, REPORT_TEXT_NONZERO, 0),
	REPORT_ROW(U64, "duplicate_events", "events whose attempts or connections another line counted: %s",
		   V(duplicates)),
	END,
	REPORT_GROUP_ROW(NULL, REPORT_TEXT_NONZERO, 0),
	REPORT_ROW(U64, "log_lines_suppressed", "event log lines suppressed (over [logging] lines_per_second): %s",
		   V(log_suppressed)),
	END,
	REPORT_GROUP_ROW(NULL, REPORT_TEXT_NONZERO, 0),
	REPORT_ROW(U64, "paused_decisions", "while paused: %s decisions not applied", V(paused_decisions)),
	REPORT_ROW(U64, "nft_errors", "; nftables errors: %s", V(nft_errors)),
	REPORT_ROW(U64, "sessions_closed", "; connections closed: %s", V(sessions_closed)),
	REPORT_ROW(U64, "session_scans", " (%s socket table scans)", V(session_scans)),
	END,
	REPORT_GROUP_ROW("kernel", REPORT_TEXT_IF, V(kernel_checked)),
	REPORT_ROW(U64, "not_enforced", "kernel: %s listed blocks not enforced", V(not_enforced)),
	REPORT_ROW(I64, "checked_s_ago", " (checked %ss ago", V(checked_s_ago)),
	REPORT_ROW(U64, "check_ms", " in %sms", V(check_ms)),
	REPORT_ROW(U64, "repairs", "; %s repairs", V(repairs)),
	REPORT_ROW(U64, "adopted", ", %s blocks found only in the kernel, since start)", V(adopted)),
	END,
	REPORT_GROUP_ROW("location", REPORT_IF, V(has_location)),
	REPORT_ROW(STR, "database", "location: %s", V(geo_path)),
	REPORT_ROW(BOOL, "off", " -- cannot be read: location screening is off", V(geo_off)),
	REPORT_ROW(U64, "lookups", ", %s lookups", V(geo_lookups)),
	REPORT_ROW(U64, "cached", " (%s from the cache", V(geo_cached)),
	REPORT_ROW(U64, "unknown", ", %s not placed)", V(geo_unknown)),
	REPORT_ROW(U64, "reopened", ", read again %s times", V(geo_reopened)),
	REPORT_ROW(U64, "located_events", "; events counted by location rules: %s", V(located)),
	REPORT_ROW(U64, "unlocated_events", ", not screened for want of a database: %s", V(unlocated)),
	END,
	REPORT_GROUP_ROW("cluster", REPORT_IF, V(has_cluster)),
	REPORT_ROW(STR, "node", "cluster: node %s", V(cl_node)),
	REPORT_ROW(STR, "redis", ", Redis %s", V(cl_redis)),
	REPORT_ROW(BOOL, "connected", ", connected", V(cl_connected)),
	REPORT_ROW(BOOL, NULL, ", NOT connected (blocking alone, queueing what it shares)", V(cl_down)),
	REPORT_ROW(STR, "last_id", "; read up to %s", V(cl_last_id)),
	REPORT_ROW(U64, "lag_ms", " (the last entry %sms old when read)", V(cl_lag_ms)),
	REPORT_ROW(U64, "queued", "; queued %s", V(cl_queued)),
	REPORT_ROW(U64, "dropped", ", dropped %s", V(cl_dropped)),
	REPORT_ROW(U64, "published", ", published %s", V(cl_published)),
	REPORT_ROW(U64, "applied", ", applied %s", V(cl_applied)),
	REPORT_ROW(U64, "rejected", ", rejected %s", V(cl_rejected)),
	REPORT_ROW(U64, "reconnects", ", reconnects %s", V(cl_reconnects)),
	REPORT_ROW(U64, "pruned", ", long-ended decisions removed from the snapshot %s", V(cl_pruned)),
	REPORT_ROW(U64, "count_events", "; shared counts: events sent %s", V(cl_count_events)),
	REPORT_ROW(U64, "count_batches", " in %s batches", V(cl_count_batches)),
	REPORT_ROW(U64, "count_decisions", ", decisions made here %s", V(cl_count_decisions)),
	REPORT_ROW(U64, "count_fallbacks", ", events counted alone (Redis away) %s", V(cl_count_fallbacks)),
	REPORT_ROW(U64, "count_lost", ", batches lost %s", V(cl_count_lost)),
	{ .kind = REPORT_MAP, .key = "peers", .text = "cluster peers:", .off = V(cl_peers), .flags = REPORT_INLINE,
	  .count = V(cl_npeers), .size = sizeof(struct st_peer), .sep = "," },
	{ .kind = REPORT_STR, .text = " %s", .off = P(name), .flags = REPORT_NAME },
	REPORT_ROW(I64, "heartbeat_s_ago", " (heartbeat %ss ago)", P(heartbeat_s_ago)),
	END,
	END,
	REPORT_GROUP_ROW("files", REPORT_IF, V(has_files)),
	REPORT_ROW(U64, "lines", "files: %s lines", V(files.lines)),
	REPORT_ROW(U64, "bytes", NULL, V(files.bytes)),
	REPORT_ROW(U64, "cut_lines", ", %s cut at max_line", V(files.cut_lines)),
	REPORT_ROW(U64, "cut_bytes", " (%s bytes dropped)", V(files.cut_bytes)),
	REPORT_ROW(U64, "rotations", ", %s rotations", V(files.rotations)),
	REPORT_ROW(U64, "truncations", ", %s truncations", V(files.truncations)),
	REPORT_ROW(U64, "overflows", ", %s inotify overflows", V(files.overflows)),
	END,
	REPORT_GROUP_ROW("notify", REPORT_IF, V(has_notify)),
	REPORT_ROW(U64, "mails", "notify: %s mails", V(notify.mails)),
	REPORT_ROW(U64, "reports", " (%s reports)", V(notify.reports)),
	REPORT_ROW(U64, "mail_failures", ", %s failed", V(notify.mail_failures)),
	REPORT_ROW(U64, "unlisted", ", %s blocks not listed", V(notify.unlisted)),
	REPORT_ROW(U64, "programs", "; program: %s runs", V(notify.programs)),
	REPORT_ROW(U64, "program_failures", ", %s failed", V(notify.program_failures)),
	REPORT_ROW(U64, "program_dropped", ", %s blocks not told (queue full)", V(notify.program_dropped)),
	END,
	REPORT_GROUP_ROW("metrics_http", REPORT_IF, V(has_http)),
	REPORT_ROW(U64, "ok", "metrics server: %s answered", V(http.requests)),
	REPORT_ROW(U64, "errors", ", %s refused (4xx)", V(http.errors)),
	REPORT_ROW(U64, "timeouts", ", %s timed out", V(http.timeouts)),
	REPORT_ROW(U64, "busy", ", %s busy (503)", V(http.busy)),
	END,
	REPORT_GROUP_ROW("control", REPORT_IF, V(has_control)),
	REPORT_ROW(U64, "requests", "control: %s requests", V(control.requests)),
	REPORT_ROW(U64, "refused", ", %s refused peers", V(control.refused)),
	REPORT_ROW(U64, "malformed", ", %s malformed", V(control.malformed)),
	REPORT_ROW(U64, "oversized", ", %s oversized", V(control.oversized)),
	REPORT_ROW(U64, "timeouts", ", %s timed out", V(control.timeouts)),
	REPORT_ROW(U64, "busy", ", %s busy", V(control.busy)),
	END,
	/* events by kind: "events": {"connect": 0, ...} */
	{ .kind = REPORT_MAP, .key = "events", .text = "events:", .off = V(events),
	  .flags = REPORT_INLINE | REPORT_SCALAR, .count = V(nevents), .size = sizeof(struct st_count) },
	{ .kind = REPORT_STR, .text = " %s", .off = E(name), .flags = REPORT_NAME },
	REPORT_ROW(U64, "count", " %s", E(n)),
	END,
	{ .kind = REPORT_LIST, .key = "sources", .text = "sources:", .off = V(sources), .count = V(nsources),
	  .size = sizeof(struct st_source) },
	{ .kind = REPORT_STR, .key = "name", .text = "  %s", .off = S(name), .flags = REPORT_NAME },
	REPORT_ROW(U64, "lines", ": %s lines", S(lines)),
	REPORT_ROW(U64, "events", ", %s events", S(events)),
	/* its events by kind: "events_by_kind": {"connect": 0, ...} */
	{ .kind = REPORT_MAP, .key = "events_by_kind", .off = S(kinds), .flags = REPORT_SCALAR, .count = S(nkinds),
	  .size = sizeof(struct st_count) },
	{ .kind = REPORT_STR, .off = E(name), .flags = REPORT_NAME },
	REPORT_ROW(U64, "count", NULL, E(n)),
	END,
	/* a file source with a format: its lines of another */
	REPORT_GROUP_ROW(NULL, REPORT_IF, S(has_format)),
	REPORT_ROW(STR, "format", ", format %s", S(format)),
	REPORT_ROW(U64, "not_format", " (%s lines not in it)", S(not_format)),
	END,
	/* a file source: its open files */
	{ .kind = REPORT_LIST, .key = "files", .off = S(files), .flags = REPORT_IF, .cond = S(has_files),
	  .count = S(nfiles), .size = sizeof(struct st_file) },
	{ .kind = REPORT_STR, .key = "path", .text = "    %s", .off = F(path), .flags = REPORT_NAME },
	REPORT_ROW(U64, "offset", ": offset %s", F(offset)),
	REPORT_ROW(U64, "size", " of %s", F(size)),
	REPORT_ROW(U64, "lag_bytes", " (%s bytes behind", F(lag)),
	REPORT_ROW(U64, "inode", "; inode %s)", F(inode)),
	REPORT_ROW(BOOL, "rotated", ", rotated away, still being read", F(rotated)),
	END,
	/* a journal source: where it is */
	REPORT_GROUP_ROW(NULL, REPORT_IF, S(has_journal)),
	{ .kind = REPORT_STR, .key = "journal_cursor", .text = "    journal cursor: %s", .off = S(cursor),
	  .none = "(nothing read yet)" },
	REPORT_ROW(U64, "lag_s", " (%s s behind)", S(lag_s)),
	END,
	END,
	/* per rule: "rules": {"auth-ip": {...}, ...} */
	{ .kind = REPORT_MAP, .key = "rules", .text = "rules:", .off = V(rules), .count = V(nrules),
	  .size = sizeof(struct st_rule) },
	{ .kind = REPORT_STR, .text = "  %s:", .off = R(name), .flags = REPORT_NAME },
	REPORT_ROW(U64, "events", " %s events counted", R(events)),
	REPORT_ROW(U64, "tracked", ", %s keys tracked", R(tracked)),
	REPORT_ROW(U64, "blocks_in_force", ", blocks: %s in force", R(in_force)),
	REPORT_ROW(U64, "blocks_since_start", ", %s made since start", R(since_start)),
	REPORT_ROW(U64, "blocks_total", ", %s in all", R(total)),
	REPORT_ROW(U64, "decisions", NULL, R(decisions)),
	REPORT_ROW(U64, "evictions", NULL, R(evictions)),
	REPORT_ROW(STR, NULL, " (%s)", R(summary)),
	REPORT_ROW(STR, "per", NULL, R(per)),
	REPORT_ROW(U64, "limit", NULL, R(limit)),
	REPORT_ROW(I64, "window_s", NULL, R(window_s)),
	REPORT_ROW(I64, "block_s", NULL, R(block_s)),
	REPORT_ROW(BOOL, "log_only", NULL, R(log_only)),
	REPORT_ROW(BOOL, "enabled", NULL, R(enabled)),
	REPORT_ROW(BOOL, "shared", NULL, R(shared)),
	REPORT_ROW(U64, "shared_events_sent", NULL, R(shared_sent)),
	REPORT_ROW(U64, "shared_events_alone", NULL, R(shared_alone)),
	REPORT_ROW(U64, "shared_decisions", NULL, R(shared_decisions)),
	END,
};

/* ---- one rule: 'status RULE' ---- */

#define STATUS_RULE_BLOCKS 20   /* blocks in force shown, the newest */
#define STATUS_RULE_KEYS 10     /* tracked keys shown, the highest counts */

struct st_block {
	char *target;           /* an address, a range or an account name */
	bool account, utc;
	int64_t start, expiry;  /* expiry REPORT_NO_TIME: permanent */
	const char *reason;
};

struct st_key {
	char *key;
	uint64_t count;
	int64_t last;
	bool utc;
};

struct st_detail {
	struct st_rule r;
	char *where;            /* "file:line" */
	struct st_block *blocks;
	size_t nblocks, ablocks;
	uint64_t blocks_shown;
	struct st_key *keys;    /* keys_v */
	size_t nkeys;
	struct st_key keys_v[STATUS_RULE_KEYS];
	uint64_t keys_shown;
};

#define D(m) offsetof(struct st_detail, m)
#define B(m) offsetof(struct st_block, m)
#define K(m) offsetof(struct st_key, m)

static const struct report_row rule_rows[] = {
	LINE,
	REPORT_ROW(STR, "name", "rule %s", D(r.name)),
	REPORT_ROW(STR, "where", " (%s)", D(where)),
	REPORT_ROW(STR, NULL, ": %s", D(r.summary)),
	REPORT_ROW(STR, "per", NULL, D(r.per)),
	REPORT_ROW(U64, "limit", NULL, D(r.limit)),
	REPORT_ROW(I64, "window_s", NULL, D(r.window_s)),
	REPORT_ROW(I64, "block_s", NULL, D(r.block_s)),
	REPORT_ROW(BOOL, "log_only", NULL, D(r.log_only)),
	REPORT_ROW(BOOL, "enabled", NULL, D(r.enabled)),
	END,
	LINE,
	REPORT_ROW(U64, "events", "events counted: %s", D(r.events)),
	REPORT_ROW(U64, "tracked", ", keys tracked: %s", D(r.tracked)),
	REPORT_ROW(U64, "evictions", " (%s evicted)", D(r.evictions)),
	REPORT_ROW(U64, "decisions", ", decisions (limit reached): %s", D(r.decisions)),
	END,
	LINE,
	REPORT_ROW(U64, "blocks_in_force", "blocks: %s in force", D(r.in_force)),
	REPORT_ROW(U64, "blocks_since_start", ", %s made since start", D(r.since_start)),
	REPORT_ROW(U64, "blocks_total", ", %s in all", D(r.total)),
	END,
	LINE,
	REPORT_ROW(U64, "blocks_shown", "blocks in force it made, the newest first (%s shown):", D(blocks_shown)),
	END,
	{ .kind = REPORT_LIST, .key = "blocks", .off = D(blocks), .count = D(nblocks), .size = sizeof(struct st_block) },
	REPORT_ROW(STR, "target", "  %s", B(target)),
	REPORT_ROW(BOOL, "account", " (account)", B(account)),
	{ .kind = REPORT_TIME, .key = "start", .text = " since %s", .off = B(start), .cond = B(utc) },
	{ .kind = REPORT_TIME, .key = "expiry", .text = " until %s", .off = B(expiry), .cond = B(utc),
	  .none = "permanent" },
	REPORT_ROW(STR, "reason", ": %s", B(reason)),
	END,
	LINE,
	REPORT_ROW(U64, "keys_shown", "keys it tracks, the highest counts first (%s shown):", D(keys_shown)),
	END,
	{ .kind = REPORT_LIST, .key = "keys", .off = D(keys), .count = D(nkeys), .size = sizeof(struct st_key) },
	REPORT_ROW(STR, "key", "  %s", K(key)),
	REPORT_ROW(U64, "count", ": %s", K(count)),
	{ .kind = REPORT_TIME, .key = "last", .text = ", last %s", .off = K(last), .cond = K(utc) },
	END,
};

/* the option that bounds each kind of table (screen.h) */
static const char *const table_bound[SCREEN_NTABLES] = { "max_keys", "max_accounts", "max_sessions" };

/* A journal source is behind when its last turn stopped at the batch
 * limit: by the age of the last entry it read. Caught up, it is 0. */
static uint64_t journal_lag_s(const struct journal_stats *js, uint64_t now_ms)
{
	uint64_t last_ms = js->last_usec / 1000;

	return js->behind && js->last_usec && now_ms > last_ms ? (now_ms - last_ms) / 1000 : 0;
}

struct filectx {
	const struct src *src;
	struct st_source *s;
};

static void collect_file(void *arg, const struct tail_pos *p)
{
	struct filectx *fc = arg;
	struct st_source *s = fc->s;

	if (p->cookie != fc->src)
		return;
	XGROW(s->files, s->afiles, s->nfiles + 1);
	s->files[s->nfiles++] = (struct st_file){
		.path = xstrdup(p->path),
		.offset = p->offset,
		.size = p->size,
		.lag = p->size > p->offset ? p->size - p->offset : 0,
		.inode = p->ino,
		.rotated = p->retired,
	};
}

static void gather(struct daemon *d, uint64_t now, struct st_view *v)
{
	struct screen_stats st;

	memset(v, 0, sizeof *v);
	screen_stats(d->screen, &st);
	v->uptime_s = (int64_t)(time(NULL) - d->started);
	v->paused = d->paused;
	v->dry_run = d->dry_run;
	v->config = d->b.cfg.file ? d->b.cfg.file : "built-in defaults";
	v->blocks = blocks_count(d->blocks);
	v->accounts = accounts_count(d->accounts);
	v->allows = screen_allowlist(d->screen)->n;
	v->tracked = st.tracked;
	v->lines = d->lines;
	v->old_lines = d->old_lines;
	v->ended_blocks = d->ended_blocks;
	v->cut_lines = d->cut_lines;
	v->decisions = st.decisions;
	v->exempt = st.exempt;
	v->exempt_account_events = st.exempt_accounts;
	v->evictions = st.evictions;
	v->tables = v->table_v;
	v->ntables = SCREEN_NTABLES;
	for (int t = 0; t < SCREEN_NTABLES; t++)
		v->table_v[t] = (struct st_table){ screen_table_name((enum screen_table)t), table_bound[t],
						   st.table[t].keys, st.table[t].max, st.table[t].evictions };
	v->uncounted = st.uncounted;
	v->duplicates = st.duplicates;
	v->log_suppressed = logging_suppressed(d);
	v->paused_decisions = d->paused_decisions;
	v->nft_errors = d->nft_errors;
	v->sessions_closed = d->sessions_closed;
	v->session_scans = d->session_scans;
	v->kernel_checked = d->kcheck.at_ms != 0;
	v->not_enforced = d->kcheck.not_enforced;
	v->checked_s_ago = d->kcheck.at_ms ? (int64_t)((now - d->kcheck.at_ms) / 1000) : -1;
	v->check_ms = d->kcheck.took_ms;
	v->repairs = d->kcheck.repairs;
	v->adopted = d->kcheck.adopted;
	v->located = st.located;
	v->unlocated = st.unlocated;
	if (d->geo) {
		struct geo_stats gs;
		geo_stats(d->geo, &gs);
		v->has_location = true;
		v->geo_path = geo_path(d->geo);
		v->geo_off = !gs.loaded;
		v->geo_lookups = gs.lookups;
		v->geo_cached = gs.cached;
		v->geo_unknown = gs.unknown;
		v->geo_reopened = gs.reopened;
	}
	if (d->tail) {
		v->has_files = true;
		tail_get_stats(d->tail, &v->files);
	}
	if (d->ctl) {
		v->has_control = true;
		control_get_stats(d->ctl, &v->control);
	}
	v->has_http = metrics_http_stats(d->metrics, &v->http);
	v->has_notify = *d->b.cfg.mail_to || *d->b.cfg.program;
	notify_get_counts(d->notify, &v->notify);
	v->events = v->event_v;
	v->nevents = EV_NKINDS;
	for (int k = 0; k < EV_NKINDS; k++)
		v->event_v[k] = (struct st_count){ ev_kind_name((enum ev_kind)k), st.events[k] };
	v->sources = xcalloc(d->nsrcs ? d->nsrcs : 1, sizeof *v->sources);
	v->nsources = d->nsrcs;
	for (size_t i = 0; i < d->nsrcs; i++) {
		const struct src *src = d->srcs[i];
		struct st_source *s = &v->sources[i];
		s->name = src->name;
		s->lines = src->lines;
		s->events = src->events;
		s->kinds = s->kind_v;
		s->nkinds = EV_NKINDS;
		for (int k = 0; k < EV_NKINDS; k++)
			s->kind_v[k] = (struct st_count){ ev_kind_name((enum ev_kind)k), src->kind_events[k] };
		if (src->format) {
			s->has_format = true;
			s->format = logline_format_name((enum logline_format)src->format);
			s->not_format = src->not_format;
		}
		if (src->tw && d->tail) {
			struct filectx fc = { src, s };
			s->has_files = true;
			tail_foreach_file(d->tail, collect_file, &fc);
		} else if (src->j) {
			struct journal_stats js;
			s->has_journal = true;
			s->cursor = journal_cursor(src->j);
			journal_get_stats(src->j, &js);
			s->lag_s = journal_lag_s(&js, now);
		}
	}
}

static const char *const per_names[] = { [PER_IP] = "ip", [PER_ACCOUNT] = "account", [PER_SESSION] = "session" };

/* The blocks in force of every rule, counted in one walk of the blocks
 * (one walk per rule made status 8 walks of 100,000 blocks: 150 ms). */
struct rule_counts {
	const char **names;     /* the rules' names */
	uint64_t *n;
	size_t nrules;
};

static void count_block(void *arg, const struct block *b)
{
	struct rule_counts *rc = arg;

	for (size_t i = 0; i < rc->nrules; i++)
		if (strcmp(b->origin, rc->names[i]) == 0 || geo_block_of_rule(b->origin, b->reason, rc->names[i])) {
			rc->n[i]++;
			return;
		}
}

static void count_account(void *arg, const struct account_block *a)
{
	struct rule_counts *rc = arg;

	for (size_t i = 0; i < rc->nrules; i++)
		if (strcmp(a->origin, rc->names[i]) == 0) {
			rc->n[i]++;
			return;
		}
}

/* n[i]: the blocks in force that rule i made (n holds every rule's). */
static void count_rule_blocks(struct daemon *d, uint64_t *n)
{
	struct rule_counts rc = { .nrules = screen_rule_count(d->screen), .n = n };

	rc.names = xcalloc(rc.nrules ? rc.nrules : 1, sizeof *rc.names);
	for (size_t i = 0; i < rc.nrules; i++) {
		struct screen_rule_stats rs;
		screen_rule_stats(d->screen, i, &rs);
		rc.names[i] = rs.rule->name;
		n[i] = 0;
	}
	blocks_foreach(d->blocks, count_block, &rc);
	accounts_foreach(d->accounts, count_account, &rc);
	free(rc.names);
}

static void gather_rule(struct daemon *d, size_t i, uint64_t in_force, struct st_rule *r)
{
	struct screen_rule_stats rs;
	char win[32], blk[32];

	screen_rule_stats(d->screen, i, &rs);
	*r = (struct st_rule){
		.name = rs.rule->name,
		.file = rs.rule->file,
		.line = rs.rule->lineno,
		.per = rs.rule->per < sizeof per_names / sizeof per_names[0] && per_names[rs.rule->per] ?
		       per_names[rs.rule->per] : "?",
		.limit = rs.rule->limit,
		.window_s = (int64_t)(rs.rule->window_ms / 1000),
		.block_s = rs.rule->block_ms == DURATION_PERMANENT ? -1 : (int64_t)(rs.rule->block_ms / 1000),
		.log_only = rs.rule->log_only,
		.enabled = rs.rule->enabled,
		.events = rs.counted,
		.tracked = rs.keys,
		.decisions = rs.decisions,
		.evictions = rs.evictions,
		.in_force = in_force,
		.since_start = rs.blocks,
		.total = rs.blocks + rs.blocks_before,
		.shared = rs.rule->shared,
		.shared_sent = rs.shared_sent,
		.shared_alone = rs.shared_alone,
		.shared_decisions = rs.shared_decisions,
	};
	duration_format(rs.rule->window_ms, win, sizeof win);
	if (rs.rule->block_ms == DURATION_PERMANENT)
		snprintf(blk, sizeof blk, "permanent");
	else
		duration_format(rs.rule->block_ms, blk, sizeof blk);
	r->summary = r->summary_buf;
	snprintf(r->summary_buf, sizeof r->summary_buf, "per %s, limit %llu in %s, %s%s%s", r->per,
		 (unsigned long long)r->limit, win, r->log_only ? "log only" : "block ", r->log_only ? "" : blk,
		 r->enabled ? "" : ", disabled");
}

static void gather_rules(struct daemon *d, struct st_view *v)
{
	uint64_t *n;

	v->nrules = screen_rule_count(d->screen);
	v->rules = xcalloc(v->nrules ? v->nrules : 1, sizeof *v->rules);
	n = xcalloc(v->nrules ? v->nrules : 1, sizeof *n);
	count_rule_blocks(d, n);
	for (size_t i = 0; i < v->nrules; i++)
		gather_rule(d, i, n[i], &v->rules[i]);
	free(n);
}

static uint64_t wall_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* [cluster]: the link's state, its counters and the peers' heartbeats */
static void gather_cluster(struct daemon *d, struct st_view *v)
{
	struct cluster_status cs;
	uint64_t now = wall_now_ms();

	if (!d->cluster)
		return;
	cluster_get_status(d->cluster, &cs);
	v->has_cluster = true;
	v->cl_node = d->b.cfg.cluster_node;
	v->cl_redis = d->b.cfg.cluster_redis;
	snprintf(v->cl_id_buf, sizeof v->cl_id_buf, "%s", cs.last_id[0] ? cs.last_id : "-");
	v->cl_last_id = v->cl_id_buf;
	v->cl_connected = cs.connected;
	v->cl_down = !cs.connected;
	v->cl_lag_ms = cs.lag_ms;
	v->cl_queued = cs.queued;
	v->cl_dropped = cs.dropped;
	v->cl_published = cs.published;
	v->cl_applied = cs.applied;
	v->cl_rejected = cs.rejected;
	v->cl_reconnects = cs.reconnects;
	v->cl_pruned = cs.pruned;
	v->cl_count_events = cs.count_events;
	v->cl_count_batches = cs.count_batches;
	v->cl_count_decisions = cs.count_decisions;
	v->cl_count_fallbacks = cs.count_fallbacks;
	v->cl_count_lost = cs.count_lost;
	v->cl_peers = xcalloc(cs.npeers ? cs.npeers : 1, sizeof *v->cl_peers);
	for (size_t i = 0; i < cs.npeers; i++) {
		v->cl_peers[i].name = cs.peers[i].node;
		v->cl_peers[i].heartbeat_s_ago = now > cs.peers[i].heartbeat_ms ?
							 (int64_t)((now - cs.peers[i].heartbeat_ms) / 1000) : 0;
	}
	v->cl_npeers = cs.npeers;
}

static void release(struct st_view *v)
{
	free(v->cl_peers);
	free(v->rules);
	for (size_t i = 0; i < v->nsources; i++) {
		for (size_t k = 0; k < v->sources[i].nfiles; k++)
			free(v->sources[i].files[k].path);
		free(v->sources[i].files);
		free(v->sources[i].cursor);
	}
	free(v->sources);
}

void daemon_status(struct daemon *d, FILE *out, bool json, uint64_t now_ms)
{
	struct st_view v;

	gather(d, now_ms, &v);
	gather_rules(d, &v);
	gather_cluster(d, &v);
	report_write(out, json, status_rows, sizeof status_rows / sizeof status_rows[0], &v);
	release(&v);
}

void daemon_status_walk(struct daemon *d, uint64_t now_ms, report_visit_fn *fn, void *arg)
{
	struct st_view v;

	gather(d, now_ms, &v);
	gather_rules(d, &v);
	gather_cluster(d, &v);
	report_walk(status_rows, sizeof status_rows / sizeof status_rows[0], &v, fn, arg);
	release(&v);
}

/* ---- one rule ---- */

struct detail_ctx {
	struct st_detail *dt;
	const char *name;
	bool utc;
};

static void add_block(struct detail_ctx *c, const char *target, bool account, uint64_t start_ms,
		      uint64_t expiry_ms, const char *reason)
{
	struct st_detail *dt = c->dt;

	XGROW(dt->blocks, dt->ablocks, dt->nblocks + 1);
	dt->blocks[dt->nblocks++] = (struct st_block){
		.target = xstrdup(target),
		.account = account,
		.utc = c->utc,
		.start = (int64_t)(start_ms / 1000),
		.expiry = expiry_ms == UINT64_MAX ? REPORT_NO_TIME : (int64_t)(expiry_ms / 1000),
		.reason = reason,
	};
}

static void detail_block(void *arg, const struct block *b)
{
	struct detail_ctx *c = arg;
	char t[CIDR_STRLEN];

	if (strcmp(b->origin, c->name) != 0 && !geo_block_of_rule(b->origin, b->reason, c->name))
		return;
	cidr_format(&b->target, t);
	add_block(c, t, false, b->start_ms, b->expiry_ms, b->reason);
}

static void detail_account(void *arg, const struct account_block *a)
{
	struct detail_ctx *c = arg;

	if (strcmp(a->origin, c->name) == 0)
		add_block(c, a->user, true, a->start_ms, a->expiry_ms, a->reason);
}

/* the newest first */
static int by_start_desc(const void *a, const void *b)
{
	const struct st_block *x = a, *y = b;

	return x->start < y->start ? 1 : x->start > y->start ? -1 : strcmp(x->target, y->target);
}

/* Keeps the STATUS_RULE_KEYS highest counts (ties: the most recent). */
static void detail_key(void *arg, const struct rule *r, const char *key, uint32_t within, uint64_t newest_ms)
{
	struct detail_ctx *c = arg;
	struct st_detail *dt = c->dt;
	size_t at;

	(void)r;
	if (!within)
		return;
	dt->keys_shown++;
	if (dt->nkeys == STATUS_RULE_KEYS) {
		struct st_key *low = &dt->keys_v[STATUS_RULE_KEYS - 1];
		if (within < low->count || (within == low->count && (int64_t)(newest_ms / 1000) <= low->last))
			return;
		free(low->key);
		dt->nkeys--;
	}
	for (at = dt->nkeys; at > 0; at--) {
		const struct st_key *k = &dt->keys_v[at - 1];
		if (k->count > within || (k->count == within && k->last >= (int64_t)(newest_ms / 1000)))
			break;
		dt->keys_v[at] = dt->keys_v[at - 1];
	}
	dt->keys_v[at] = (struct st_key){ xstrdup(key), within, (int64_t)(newest_ms / 1000), c->utc };
	dt->nkeys++;
}

int daemon_status_rule(struct daemon *d, FILE *out, bool json, bool utc, const char *name, uint64_t now_ms,
		       char *err, size_t errlen)
{
	long i = screen_rule_find(d->screen, name);
	struct st_detail dt;
	struct detail_ctx c = { &dt, name, utc };

	if (i < 0) {
		size_t n = screen_rule_count(d->screen), len = 0;
		char known[400] = "", safe[4 * 128 + 4];
		for (size_t k = 0; k < n && len < sizeof known; k++) {
			struct screen_rule_stats rs;
			screen_rule_stats(d->screen, k, &rs);
			len += (size_t)snprintf(known + len, sizeof known - len, "%s%s", k ? ", " : "", rs.rule->name);
		}
		text_escape(safe, sizeof safe, name, strlen(name));
		return errf(err, errlen, "unknown rule '%s' (the rules: %s)", safe, n ? known : "none");
	}
	memset(&dt, 0, sizeof dt);
	dt.keys = dt.keys_v;
	{
		uint64_t *n = xcalloc(screen_rule_count(d->screen), sizeof *n);
		count_rule_blocks(d, n);
		gather_rule(d, (size_t)i, n[i], &dt.r);
		free(n);
	}
	dt.where = xasprintf("%s:%lld", dt.r.file ? dt.r.file : "?", (long long)dt.r.line);
	blocks_foreach(d->blocks, detail_block, &c);
	accounts_foreach(d->accounts, detail_account, &c);
	if (dt.nblocks > 1)
		qsort(dt.blocks, dt.nblocks, sizeof *dt.blocks, by_start_desc);
	for (size_t k = STATUS_RULE_BLOCKS; k < dt.nblocks; k++)
		free(dt.blocks[k].target);
	if (dt.nblocks > STATUS_RULE_BLOCKS)
		dt.nblocks = STATUS_RULE_BLOCKS;
	dt.blocks_shown = dt.nblocks;
	screen_foreach_rule_key(d->screen, (size_t)i, now_ms, detail_key, &c);
	dt.keys_shown = dt.nkeys;
	report_write(out, json, rule_rows, sizeof rule_rows / sizeof rule_rows[0], &dt);
	for (size_t k = 0; k < dt.nblocks; k++)
		free(dt.blocks[k].target);
	free(dt.blocks);
	for (size_t k = 0; k < dt.nkeys; k++)
		free(dt.keys_v[k].key);
	free(dt.where);
	return 0;
}
