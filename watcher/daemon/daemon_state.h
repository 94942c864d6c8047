/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * daemon_state - the daemon's side of the saved state (state.h): the
 * read-only view of its tables a snapshot is written from, and the sink
 * that puts a snapshot's records back into them at start.
 */
#ifndef MS_DAEMON_STATE_H
#define MS_DAEMON_STATE_H

#include "state.h"

#include <stddef.h>

struct daemon;

/* The view of d that state_save and state_saver_start read. */
void daemon_state_view(struct daemon *d, struct state_view *v);
/* Put the records of s back into d: blocks (into the kernel too, with
 * their remaining time, through the daemon's own checks), run-time allows,
 * account blocks, offenders and counts; blocks that ended while the
 * daemon was down go to d->expired_saved. Returns the number of blocks
 * restored. */
size_t daemon_state_restore(struct daemon *d, const struct saved_state *s);

#endif
