// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * daemon_status - what 'mailscreen status' shows: one list of fields
 * (status_rows: the JSON key, the text, the kind, where the value is),
 * written as text or as JSON by report.c, over a plain view of the
 * daemon taken just before (gather). A field is added in two places: its
 * value in the view, its row in the list; both outputs follow.
 *
 * Keys, value types and text read by scripts and tests (tests/netns,
 * the benchmarks) stay as they are. Reads the daemon, changes nothing;
 * text from outside (a file name) is shown escaped.
 */
#include "daemon.h"
#include "event.h"
#include "journal.h"
#include "line.h"
#include "report.h"
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
	bool has_format;        /* [source] names a format */
	const char *format;
	uint64_t not_format;
	bool has_files, has_journal;
	struct st_file *files;
	size_t nfiles, afiles;
	char *cursor;           /* NULL: nothing read yet */
	uint64_t lag_s;
};

struct st_view {
	int64_t uptime_s;
	bool paused, dry_run;
	const char *config;
	uint64_t blocks, accounts, allows, tracked;
	uint64_t lines, old_lines, ended_blocks, cut_lines, decisions, exempt, evictions;
	struct st_table *tables;
	size_t ntables;
	uint64_t uncounted, duplicates;
	uint64_t paused_decisions, nft_errors, sessions_closed, session_scans;
	bool kernel_checked;
	uint64_t not_enforced, check_ms, repairs, adopted;
	int64_t checked_s_ago;  /* -1: never */
	bool has_files;
	struct tail_stats files;
	bool has_control;
	struct control_stats control;
	struct st_count *events;
	size_t nevents;
	struct st_source *sources;
	size_t nsources;
	/* storage */
	struct st_table table_v[SCREEN_NTABLES];
	struct st_count event_v[EV_NKINDS];
};

#define V(m) offsetof(struct st_view, m)
#define T(m) offsetof(struct st_table, m)
#define E(m) offsetof(struct st_count, m)
#define S(m) offsetof(struct st_source, m)
#define F(m) offsetof(struct st_file, m)
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
	REPORT_GROUP_ROW("files", REPORT_IF, V(has_files)),
	REPORT_ROW(U64, "lines", "files: %s lines", V(files.lines)),
	REPORT_ROW(U64, "bytes", NULL, V(files.bytes)),
	REPORT_ROW(U64, "cut_lines", ", %s cut at max_line", V(files.cut_lines)),
	REPORT_ROW(U64, "cut_bytes", " (%s bytes dropped)", V(files.cut_bytes)),
	REPORT_ROW(U64, "rotations", ", %s rotations", V(files.rotations)),
	REPORT_ROW(U64, "truncations", ", %s truncations", V(files.truncations)),
	REPORT_ROW(U64, "overflows", ", %s inotify overflows", V(files.overflows)),
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
	REPORT_ROW(STR, "name", "  %s", S(name)),
	REPORT_ROW(U64, "lines", ": %s lines", S(lines)),
	REPORT_ROW(U64, "events", ", %s events", S(events)),
	/* a file source with a format: its lines of another */
	REPORT_GROUP_ROW(NULL, REPORT_IF, S(has_format)),
	REPORT_ROW(STR, "format", ", format %s", S(format)),
	REPORT_ROW(U64, "not_format", " (%s lines not in it)", S(not_format)),
	END,
	/* a file source: its open files */
	{ .kind = REPORT_LIST, .key = "files", .off = S(files), .flags = REPORT_IF, .cond = S(has_files),
	  .count = S(nfiles), .size = sizeof(struct st_file) },
	REPORT_ROW(STR, "path", "    %s", F(path)),
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
	v->evictions = st.evictions;
	v->tables = v->table_v;
	v->ntables = SCREEN_NTABLES;
	for (int t = 0; t < SCREEN_NTABLES; t++)
		v->table_v[t] = (struct st_table){ screen_table_name((enum screen_table)t), table_bound[t],
						   st.table[t].keys, st.table[t].max, st.table[t].evictions };
	v->uncounted = st.uncounted;
	v->duplicates = st.duplicates;
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
	if (d->tail) {
		v->has_files = true;
		tail_get_stats(d->tail, &v->files);
	}
	if (d->ctl) {
		v->has_control = true;
		control_get_stats(d->ctl, &v->control);
	}
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

static void release(struct st_view *v)
{
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
	report_write(out, json, status_rows, sizeof status_rows / sizeof status_rows[0], &v);
	release(&v);
}
