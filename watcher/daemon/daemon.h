/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * daemon - the running daemon's state, shared by daemon.c (the event loop
 * and the pipeline) and daemon_ctl.c (the control commands). There is one
 * struct daemon; nothing else holds mutable state.
 */
#ifndef MS_DAEMON_H
#define MS_DAEMON_H

#include "accounts.h"
#include "blocks.h"
#include "bundle.h"
#include "control.h"
#include "fw_nft.h"
#include "history.h"
#include "loop.h"
#include "report.h"
#include "screen.h"
#include "state.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

struct daemon;
struct tail;
struct jsource;
struct tail_watch;
struct blockfile;
struct wtable;
struct nft_guard;
struct bf_entry;
struct logline;

struct src {
	struct daemon *d;
	char *name;
	struct matcher *m;
	struct tail_watch *tw;
	struct jsource *j;
	char *path;             /* file glob, or NULL */
	char *jkey;             /* journal terms + path, for reuse on reload */
	uint64_t lines, events;
	uint64_t kind_events[EV_NKINDS];        /* events, by kind */
	int format;             /* enum logline_format: 0 (auto) or the one [source] names */
	uint64_t not_format;    /* lines not in it (matched as auto would) */
};


struct daemon {
	struct loop *loop;
	struct bundle b;
	const char *cfgpath;
	bool cfg_explicit, dry_run_flag, from_start, foreground;
	bool dry_run, paused;
	struct screen *screen;
	struct geo *geo;                /* [location] database; NULL: none */
	struct dedup *dedup;            /* one attempt, one count, across all sources */
	uint64_t status_ms;             /* the last STATUS= told to systemd */
	uint64_t status_timer;          /* a STATUS= due at the end of the second */
	struct blocks *blocks;
	struct blocks *allows;          /* the allow list as the kernel's allow sets hold it */
	uint64_t allows_gen;            /* the allow list's generation mirrored in allows */
	struct cidrlist host;           /* this host's addresses (protect.h), read at host_read_ms */
	uint64_t host_read_ms;
	uint64_t expiry_timer, expiry_at;       /* the next block or allow that ends (wall clock) */
	uint64_t verify_timer;
	struct kernel_check {
		uint64_t at_ms;                 /* last check (0: none yet) */
		uint64_t took_ms;
		size_t not_enforced;            /* listed blocks the kernel did not drop, at the last check */
		uint64_t repairs;               /* differences repaired since start */
		uint64_t adopted;               /* kernel elements taken into the list since start */
	} kcheck;
	struct cidr *expired_saved;     /* at start: blocks of the snapshot that ended while down */
	size_t nexpired_saved;
	struct wtable *offenders;       /* earlier blocks per address, for [repeat] */
	struct blocks *past;            /* catching up: the blocks by the log's clock (never the kernel's) */
	uint64_t past_clock;            /* catching up: the stamp of the last line read in log time */
	bool past_read;                 /* ... and one was read since the last sweep */
	struct accounts *accounts;      /* blocked accounts (accounts.h) */
	struct history *history;        /* blocks that ended (history.h), [daemon] history of them */
	struct tail *tail;
	struct fw_nft *nft;
	struct control *ctl;
	struct blockfile *bfile;
	char *bfile_path;
	struct cidr *kill;              /* blocked since the last scan: close their sessions */
	size_t nkill, akill;
	bool kill_unsupported;
	uint64_t kill_timer;            /* a deferred scan is due */
	uint64_t kill_not_before;       /* monotonic ms: no scan before */
	struct src **srcs;
	size_t nsrcs;
	int sigfd;
	uint64_t sweep_timer;
	uint64_t lines, old_lines, ended_blocks, blocks_issued, nft_errors, sessions_closed, paused_decisions;
	uint64_t cut_lines;             /* longer than max_line: counted, never matched */
	uint64_t session_scans;         /* socket-table walks made to close sessions */
	uint64_t max_window_ms;
	time_t started;
	/* saved state */
	struct saved_state saved;       /* at start only */
	bool state_ok, state_is_dirty, state_again;
	struct state_saver *saver;      /* writes snapshots behind the loop */
	unsigned state_warned;
	uint64_t state_timer, blocks_saved;
	struct nft_guard *guard;        /* watches for others removing the table */
	struct logging *logging;        /* [logging] (daemon_logging.c) */
	struct cfgwatch *cfgwatch;      /* [logging] watch_config (daemon_cfgwatch.c) */
	char *refused;                  /* the last reload refusal said (said once when the files change) */
	struct {
		uint64_t ok, failed;    /* snapshots written, failed */
		uint64_t started_ms, last_ms;   /* the last one's start (monotonic) and how long it took */
		int64_t last_at;        /* when the last one was written (0: none) */
	} saves;
	struct metrics *metrics;        /* [metrics] (metrics.h) */
	/* what happened, told (daemon_report.c) */
	struct stats *stats;            /* per minute and hour (stats.h) */
	struct notify *notify;          /* mails and the program (notify.h) */
	uint64_t report_timer;          /* the next minute's boundary */
	struct drop_count {             /* the kernel's drop counters at the last check (daemon_guard.c) */
		struct cidr c;
		uint64_t packets;
	} *drops_prev;
	size_t ndrops_prev;
	bool drops_based;               /* drops_prev holds a first check's counters */
	bool restoring;                 /* starting (the block list file, the saved state): nothing is new */
	/* [cluster] (daemon_cluster.c): NULL when there is no Redis */
	struct cluster *cluster;
	char *cluster_sig;              /* the [cluster] values it was made with */
	bool cluster_mute;              /* applying another node's decision: not published again */
	char cluster_saved_id[48];      /* the stream position of the saved state */
	char cluster_saved_stream[256]; /* the stream it is a position in ("": not known) */
};

uint64_t daemon_now_ms(void);
/* STATUS= for systemd: with a note at once, else at most once a second */
void daemon_notify_status(struct daemon *d, const char *note);
/* Make sure expiries are looked at (blocks, allows, accounts, windows). */
void daemon_arm_sweep(struct daemon *d);
/* Block (or extend) c for dur_ms (DURATION_PERMANENT), now. origin: a rule
 * name, "manual", "file", "prefix" or "kernel". A target that covers
 * loopback, an address of this host or an allowed address is refused
 * (protect.h): -1 with the reason in err; so is a /0. Unblocks nothing,
 * allows nothing. 0, or -1 with a message. */
int daemon_block(struct daemon *d, const struct cidr *c, uint64_t dur_ms, const char *origin, const char *reason,
		 char *err, size_t errlen);
/* Put back a saved block as it was (start, expiry, times, origin,
 * reason), through the same checks and with the same consequences as
 * daemon_block; now_ms is the time of restoring. 0, or -1 with a message. */
int daemon_restore_block(struct daemon *d, const struct block *saved, uint64_t now_ms, char *err, size_t errlen);
/* Make *t safe to block (protect.h): unchanged (1), narrowed around
 * address `around` (2; why says from what and why), or refused (-1; why
 * says why). around NULL: never narrow, refuse. */
/* This host's addresses, read again when older than a second. */
const struct cidrlist *daemon_host(struct daemon *d);
int daemon_protect(struct daemon *d, struct cidr *t, const struct ipaddr *around, char *why, size_t whylen);
int daemon_unblock(struct daemon *d, const struct cidr *c, char *err, size_t errlen);
int daemon_block_account(struct daemon *d, const char *user, size_t len, uint64_t dur_ms, const char *origin,
			 const char *reason, char *err, size_t errlen);
int daemon_unblock_account(struct daemon *d, const char *user, char *err, size_t errlen);
/* Lifts every block but the block list file's (the admin's own list, read
 * again at each start: *kept counts them). The blocks lifted. */
size_t daemon_reset_blocks(struct daemon *d, size_t *kept);
/* Reload the configuration (as SIGHUP does); -1 if refused. */
int daemon_reload(struct daemon *d);
/* The same, because the files changed (watch_config): silent if no value
 * changed, and a refusal said before is not said again. */
int daemon_reload_changed(struct daemon *d);
/* Write the state file now (after a control command changed something). */
void daemon_save_state(struct daemon *d);
/* ---- between the daemon's own files ---- */

/* daemon.c: the state changed (written behind, every state_interval). */
void daemon_state_dirty(struct daemon *d);
/* daemon_pipeline.c: one line from source s. */
void daemon_handle_line(struct daemon *d, struct src *s, const struct logline *ll);
/* daemon_pipeline.c: the cluster's shared count decided for a shared
 * rule's key here: carried out by the judge (ev, ll stand for it). */
struct decision;
struct event;
void daemon_shared_decision(struct daemon *d, const struct decision *dc, const struct event *ev,
			    const struct logline *ll);
/* daemon_block.c: the account deny file, if the blocked accounts changed. */
void daemon_write_deny_file(struct daemon *d);
/* daemon_block.c: keep the blocks and account blocks that end in
 * d->history (once, after d->blocks and d->accounts are made). */
void daemon_history_init(struct daemon *d);
/* daemon_block.c: an account block that expired (accounts_expire's fn;
 * arg is the daemon). */
void daemon_account_expired(void *arg, const struct account_block *ab);
/* daemon_cluster.c: start, restart (the [cluster] values changed) or
 * stop the link to the other nodes, after each configuration. */
void daemon_cluster_configure(struct daemon *d);
void daemon_cluster_free(struct daemon *d);
/* daemon_cluster.c: a decision of this node made (kind: enum cluster_kind),
 * for the others; nothing while restoring or applying theirs. */
void daemon_cluster_publish(struct daemon *d, int kind, const char *target, uint64_t dur_ms, const char *origin,
			    const char *reason);
/* daemon_block.c: the block list file's changes (blockfile.h callback). */
void daemon_on_blockfile(void *arg, const struct bf_entry *added, size_t nadded, const struct bf_entry *removed,
			 size_t nremoved);
/* daemon_sources.c: build the sources of bundle b, reusing the open
 * watches of old sources that read the same file or journal; on failure
 * nothing of the old set is touched. Then swap them in. */
int daemon_sources_build(struct daemon *d, struct bundle *b, struct src ***out, char *err, size_t errlen);
void daemon_sources_swap(struct daemon *d, struct src **v, size_t n);
/* daemon_guard.c: the blocks' and allows' tables, with the sinks that
 * queue their kernel changes. */
void daemon_kernel_init(struct daemon *d);
/* daemon_guard.c: the idle hook: deny file, allow sets, expiry timer, one
 * netlink batch, closing sessions. */
void daemon_commit(struct loop *l, void *arg);
void daemon_nft_config(const struct config *c, struct fw_nft_config *fc);
/* daemon_guard.c: compare the kernel's sets with the list and repair
 * (at_start: also take out ranges of the snapshot that ended while down). */
void daemon_kernel_check(struct daemon *d, bool at_start);
void daemon_arm_verify(struct daemon *d);
/* daemon_guard.c: watch the configured table for others' changes (again
 * after a reload that renamed it or switched dry_run); close at stop. */
void daemon_guard_open(struct daemon *d);
void daemon_guard_follow(struct daemon *d);
void daemon_guard_close(struct daemon *d);

/* daemon_report.c: statistics, summaries in the log, notifications and
 * the report mail. init once the loop exists; configure after each
 * (re)load; free at stop. */
void daemon_report_init(struct daemon *d);
void daemon_report_configure(struct daemon *d);
void daemon_report_free(struct daemon *d);
/* A new block (what: the address or range, or the account name) made now;
 * one that ended or was lifted. */
void daemon_report_block(struct daemon *d, bool account, const char *what, uint64_t dur_ms, const char *origin,
			 const char *reason);
void daemon_report_lift(struct daemon *d, const char *origin);
/* 'report': of the last since_ms (a duration), as text, JSON or HTML. */
enum daemon_report_format { REPORT_TEXT, REPORT_JSON, REPORT_HTML };
void daemon_report_write(struct daemon *d, FILE *out, uint64_t since_ms, enum daemon_report_format f, bool utc);
/* 'report --mail': the same text mailed now, as the report mail is. 0, or
 * -1 with a message (no mail_to). */
int daemon_report_mail(struct daemon *d, uint64_t since_ms, char *err, size_t errlen);

/* The control socket's handler (daemon_ctl.c). */
void daemon_control(void *arg, int argc, char **argv, struct ctl_reply *r);
/* What 'status' shows, as text or JSON (daemon_status.c). */
void daemon_status(struct daemon *d, FILE *out, bool json, uint64_t now_ms);
/* One rule in detail ('status RULE'); times in UTC if utc. An unknown
 * rule: -1 with a message naming the rules there are. */
/* [metrics] (daemon_metrics.c): made at start; configure applies d's
 * configuration (at start and after each reload: the server opened,
 * moved or closed, the textfile written now and every interval); stop
 * writes the textfile a last time; render makes the exposition
 * (malloc'ed, *len bytes). */
struct metrics *metrics_new(struct daemon *d);
void metrics_configure(struct metrics *m);
void metrics_stop(struct metrics *m);
void metrics_free(struct metrics *m);
char *metrics_render(struct metrics *m, size_t *len);
/* The metrics server's counters; false when it does not listen. */
struct httpd_stats;
bool metrics_http_stats(const struct metrics *m, struct httpd_stats *st);
/* The fields of status, each with its path (report_walk), for the metrics. */
void daemon_status_walk(struct daemon *d, uint64_t now_ms, report_visit_fn *fn, void *arg);
int daemon_status_rule(struct daemon *d, FILE *out, bool json, bool utc, const char *name, uint64_t now_ms,
		       char *err, size_t errlen);

#endif
