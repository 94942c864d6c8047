/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * state - the daemon's memory across restarts: blocks (with expiry,
 * reason, origin, repeat count), run-time allows, account blocks, the
 * repeat-offender history, every sliding-window count, and the read
 * position of every source (device, inode, offset and a fingerprint of the
 * file's head; the journal's cursor).
 *
 * One snapshot file, STATE_DIR/state, written whole and crash-safe
 * (temporary file, fsync, rename, fsync of the directory). The counts and
 * the positions in it belong to the same instant, so after a crash the
 * lines read since are read again and counted exactly once. While the
 * daemon runs, a child process writes it (state_saver), so that the loop
 * never waits for the formatting or the disk. A snapshot
 * that is torn, corrupt or of another version is reported, renamed aside
 * (state.bad-TIME) and not used; the daemon starts without it.
 */
#ifndef MS_STATE_H
#define MS_STATE_H

#include "tail.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct daemon;

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
	char *text;             /* the snapshot's records, applied by state_apply */
	size_t len;
};

/* Write the daemon's state now, in this process (at start and at stop,
 * and when no child can be made). 0, or -1 with a message. */
int state_save(struct daemon *d, char *err, size_t errlen);

/* Snapshots written while the loop goes on: a forked child writes the
 * state as it was at the fork, one child at a time. fn(arg, rc, msg) is
 * called from the loop when it is done: rc 0, or -1 with what went wrong. */
struct loop;
struct state_saver;
typedef void state_saved_fn(void *arg, int rc, const char *msg);
struct state_saver *state_saver_new(struct loop *l, state_saved_fn *fn, void *arg);
/* Start a snapshot of this instant and return at once. 0: started; -1
 * with a message: not started (busy, or no process could be made). */
int state_saver_start(struct state_saver *sv, struct daemon *d, char *err, size_t errlen);
bool state_saver_busy(const struct state_saver *sv);
/* Kill a running child and wait for it (at stop: a last snapshot written
 * in the daemon itself follows); fn is not called. */
void state_saver_cancel(struct state_saver *sv);
void state_saver_free(struct state_saver *sv);
/* Read STATE_DIR/state into *s (positions parsed; the rest kept for
 * state_apply). A missing file is no error (s->loaded false). A bad file
 * is set aside with a warning and also gives s->loaded false. */
void state_load(const char *state_dir, struct saved_state *s);
/* Put blocks (into the kernel too, with their remaining time), allows,
 * account blocks, offenders and counts back into the running daemon.
 * Returns the number of blocks restored. */
size_t state_apply(struct daemon *d, const struct saved_state *s);
/* The saved positions of one source. */
size_t state_file_positions(const struct saved_state *s, const char *source, struct tail_pos *out, size_t max);
const char *state_journal_cursor(const struct saved_state *s, const char *source);
void saved_state_release(struct saved_state *s);

#endif
