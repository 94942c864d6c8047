/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * state - the daemon's memory across restarts: blocks (with expiry,
 * reason, origin, repeat count), run-time allows, account blocks, the
 * repeat-offender history, every sliding-window count, and the read
 * position of every source (device, inode, offset and a fingerprint of the
 * file's head; the journal's cursor).
 *
 * One snapshot file, STATE_DIR/state, written whole and crash-safe
 * (file_replace, fileio.h). The counts and the positions in it belong to
 * the same instant, so after a crash the lines read since are read again
 * and counted exactly once. While the daemon runs, a child process writes
 * it (state_saver), so that the loop never waits for the formatting or the
 * disk. A snapshot that is torn, corrupt or of another version is
 * reported, renamed aside (state.bad-TIME) and not used; the daemon starts
 * without it.
 *
 * This module is the snapshot's encoder and decoder only: it never sees
 * the daemon. Saving reads the daemon's tables through a read-only view
 * (struct state_view) as plain records; restoring hands every record to
 * callbacks (struct state_sink), which put it where it belongs.
 * state_write.c writes the snapshot, state_read.c reads it back.
 *
 * The snapshot is text, one record a line, so that an admin can read it
 * and a damaged one is easy to recognise:
 *
 *   mailscreen-state 1 SAVED_MS
 *   block CIDR START_MS EXPIRY_MS|- TIMES ORIGIN REASON
 *   allow CIDR EXPIRY_MS|-
 *   account USER START_MS EXPIRY_MS|- ORIGIN REASON
 *   offender HEXKEY T,T,...
 *   window TABLE HEXKEY T,T,...
 *   ended addr|account TARGET START_MS END_MS HOW ORIGIN REASON
 *   total RULE BLOCKS
 *   stats LINE         (a bucket of stats.h; a file without them loads)
 *   file SOURCE PATH DEV INO OFFSET FP FP_LEN
 *   journal SOURCE CURSOR
 *   cluster STREAM_ID [STREAM]  (the cluster's read position, in STREAM:
 *                      PREFIXdecisions@REDIS; a file without it loads)
 *   end HASH
 *
 * Strings are %-escaped (every byte outside '!'..'~', and '%'); HASH is
 * FNV-1a 64 of every byte before the "end" line, so a torn or edited file
 * is refused.
 */
#ifndef MS_STATE_H
#define MS_STATE_H

#include "addr.h"
#include "blocks.h"
#include "history.h"
#include "tail.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- the records, as plain data ---- */

/* A block is a struct block (blocks.h). An account block: */
struct state_account {
	const char *user;       /* len bytes (when restoring: no NUL, maybe any other byte) */
	size_t len;
	const char *origin, *reason;
	uint64_t start_ms, expiry_ms;   /* expiry UINT64_MAX: permanent */
};

typedef void state_block_fn(void *arg, const struct block *b);
typedef void state_allow_fn(void *arg, const struct cidr *target, uint64_t expiry_ms);
typedef void state_account_fn(void *arg, const struct state_account *a);
/* The times of one key of the repeat-offender table (as window_dump
 * gives them), or of one key of a rule's table (as screen_dump does). */
typedef void state_offender_fn(void *arg, const void *key, size_t klen, const uint64_t *times, uint32_t n);
typedef void state_window_fn(void *arg, const char *table, const void *key, size_t klen, const uint64_t *times,
			     uint32_t n);
typedef void state_ended_fn(void *arg, const struct history_entry *e);
/* The blocks (and account blocks) a rule made, in all. */
typedef void state_total_fn(void *arg, const char *rule, uint64_t blocks);
/* One bucket of the statistics of what happened (stats.h's line). */
typedef void state_stats_fn(void *arg, const char *line);
/* pos->path is the file's path; pos->cookie is not looked at. */
typedef void state_file_fn(void *arg, const char *source, const struct tail_pos *pos);
typedef void state_journal_fn(void *arg, const char *source, const char *cursor);

/* ---- saving ---- */

/* What a snapshot is made of: each enumerator calls fn(fnarg, ...) once
 * per record of its kind, in the order they are to be restored (a table
 * restored in that order is the same table, least recently used first
 * included). blocks .. windows read memory only: they run in a forked
 * child, so they must use no descriptor and never log. files and
 * journals run in the daemon before that (a file's fingerprint is read
 * from the file; sd_journal refuses to work in a forked child). allows
 * gives the run-time allows only (those of the configuration are not
 * saved). Any may be NULL: nothing of that kind. */
struct state_view {
	void *arg;
	void (*blocks)(void *arg, state_block_fn *fn, void *fnarg);
	void (*allows)(void *arg, state_allow_fn *fn, void *fnarg);
	void (*accounts)(void *arg, state_account_fn *fn, void *fnarg);
	void (*offenders)(void *arg, state_offender_fn *fn, void *fnarg);
	void (*windows)(void *arg, state_window_fn *fn, void *fnarg);
	void (*ended)(void *arg, state_ended_fn *fn, void *fnarg);       /* oldest first */
	void (*totals)(void *arg, state_total_fn *fn, void *fnarg);
	void (*stats)(void *arg, state_stats_fn *fn, void *fnarg);
	void (*files)(void *arg, state_file_fn *fn, void *fnarg);
	void (*journals)(void *arg, state_journal_fn *fn, void *fnarg);
	/* the cluster's read position (a stream ID), "" or NULL: none */
	const char *(*cluster_pos)(void *arg);
	/* the stream it is a position in, "" or NULL: not known */
	const char *(*cluster_stream)(void *arg);
};

/* Write STATE_DIR/state from v now, in this process (at start and at
 * stop, and when no child can be made); now_ms is the time of saving it
 * records. 0, or -1 with a message. */
int state_save(const char *state_dir, const struct state_view *v, uint64_t now_ms, char *err, size_t errlen);

/* Snapshots written while the loop goes on: a forked child writes the
 * state as it was at the fork, one child at a time. fn(arg, rc, msg) is
 * called from the loop when it is done: rc 0, or -1 with what went wrong. */
struct loop;
struct state_saver;
typedef void state_saved_fn(void *arg, int rc, const char *msg);
struct state_saver *state_saver_new(struct loop *l, state_saved_fn *fn, void *arg);
/* Start a snapshot of this instant (v's files and journals are read
 * now, the rest in the child) and return at once. 0: started; -1 with a
 * message: not started (busy, or no process could be made). */
int state_saver_start(struct state_saver *sv, const char *state_dir, const struct state_view *v, uint64_t now_ms,
		      char *err, size_t errlen);
bool state_saver_busy(const struct state_saver *sv);
/* Kill a running child and wait for it (at stop: a last snapshot written
 * in the daemon itself follows); fn is not called. */
void state_saver_cancel(struct state_saver *sv);
void state_saver_free(struct state_saver *sv);

/* ---- restoring ---- */

/* What a snapshot holds besides what is applied at once: positions,
 * which are needed when the sources are opened. */
struct saved_file {
	char *source, *path;
	struct tail_pos pos;    /* pos.path is path */
};

struct saved_journal {
	char *source, *cursor;
};

struct saved_state {
	bool loaded;
	uint64_t saved_ms;
	struct saved_file *files;
	size_t nfiles, afiles;
	struct saved_journal *journals;
	size_t njournals, ajournals;
	char cluster_pos[48];   /* the cluster's read position; "": none */
	char cluster_stream[256];       /* the stream it is a position in; "": not known */
	char *text;             /* the snapshot's records, applied by state_apply */
	size_t len;
};

/* Where state_apply puts the records back. block and account return 0,
 * or -1 with why the record cannot be kept (it is then reported and
 * skipped). A text (origin, reason) that held a control character or a
 * byte that is not UTF-8 comes escaped (\xNN); a block's origin and reason
 * are cut to the size of struct block's, an account's to the same sizes.
 * Any callback may be NULL: such records are skipped. */
struct state_sink {
	void *arg;
	/* a block that lasts beyond now (its start, expiry and times as saved) */
	int (*block)(void *arg, const struct block *b, char *err, size_t errlen);
	/* a block that ended while the daemon was down (origin and reason
	 * made printable, as for block) */
	void (*expired_block)(void *arg, const struct block *b);
	/* a run-time allow that lasts beyond now */
	void (*allow)(void *arg, const struct cidr *target, uint64_t expiry_ms);
	/* an account block that lasts beyond now */
	int (*account)(void *arg, const struct state_account *a, char *err, size_t errlen);
	state_offender_fn *offender;
	state_window_fn *window;
	/* a block that had ended before the snapshot (user and texts
	 * printable, NUL-terminated and cut to the entry's sizes) */
	state_ended_fn *ended;
	state_total_fn *total;
	/* a line of stats (printable, NUL-terminated; its own parser checks it) */
	state_stats_fn *stats;
};

/* Read STATE_DIR/state into *s (positions parsed; the rest kept for
 * state_apply). A missing file is no error (s->loaded false). A bad file
 * is set aside with a warning and also gives s->loaded false. */
void state_load(const char *state_dir, struct saved_state *s);
/* Hand every record of s but the positions to to, in the snapshot's
 * order; now_ms tells what has ended. Records that are not understood are
 * skipped, and reported with the records refused, in a few warnings.
 * Returns the number of blocks restored. */
size_t state_apply(const struct saved_state *s, uint64_t now_ms, const struct state_sink *to);
/* The saved positions of one source. */
size_t state_file_positions(const struct saved_state *s, const char *source, struct tail_pos *out, size_t max);
const char *state_journal_cursor(const struct saved_state *s, const char *source);
void saved_state_release(struct saved_state *s);

#endif
