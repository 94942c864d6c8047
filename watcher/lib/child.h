/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * child - one piece of work done by a forked child while the loop goes on.
 *
 * The child starts with a copy-on-write copy of the daemon's memory as it
 * is at the fork: it reads the daemon's state of that instant while the
 * daemon changes its own. It runs fn, reports its result through a pipe
 * and exits; the parent hears of it in the loop, reaps it and calls done.
 * The child keeps none of the daemon's descriptors open (it closes every
 * one but its report pipe before fn runs, so a control client never waits
 * for it to see the end of its answer, and no socket outlives the daemon
 * in it), and it dies with the daemon (PR_SET_PDEATHSIG). fn must need no
 * descriptor of the daemon's, and must never log: it reports instead.
 */
#ifndef MS_CHILD_H
#define MS_CHILD_H

#include <stddef.h>
#include <sys/types.h>

struct loop;
struct child;

/* In the child: 0, or -1 with a message. */
typedef int child_fn(void *arg, char *err, size_t errlen);
/* In the parent, from the loop, once the child is gone: rc 0, or -1 with
 * its message (or how it died). The struct child is freed after it. */
typedef void child_done_fn(void *arg, pid_t pid, int rc, const char *msg);

/* Fork a child running fn(fnarg) and return at once; NULL with a message
 * if no child could be made. fnarg may point into the caller's stack: the
 * child has its own copy of it. */
struct child *child_start(struct loop *l, child_fn *fn, void *fnarg, child_done_fn *done, void *donearg, char *err,
			  size_t errlen);
pid_t child_pid(const struct child *c);
/* Kill the child, wait for it and free c; done is not called. */
void child_kill(struct child *c);

#endif
