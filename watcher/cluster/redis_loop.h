/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * redis_loop - hiredis' asynchronous context driven by our own event loop:
 * its addRead/delRead/addWrite/delWrite/cleanup hooks become watches of
 * the context's socket in loop.h, and a ready socket is handed back to
 * hiredis. Like hiredis' own adapters for other loops, in a few lines.
 *
 * Owns the small adapter it attaches (freed by hiredis' cleanup hook).
 * Must never: block, or touch a context hiredis has freed.
 */
#ifndef MS_REDIS_LOOP_H
#define MS_REDIS_LOOP_H

#include <hiredis/async.h>

struct loop;

/* Attach ac to l. 0, or -1 if ac already has hooks or its fd is bad. */
int redis_loop_attach(struct loop *l, redisAsyncContext *ac);

#endif
