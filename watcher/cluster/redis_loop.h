/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * redis_loop - hiredis' asynchronous context driven by our own event loop:
 * its addRead/delRead/addWrite/delWrite/cleanup hooks become watches of
 * the context's socket in loop.h, and a ready socket is handed back to
 * hiredis. Like hiredis' own adapters for other loops, in a few lines.
 *
 * What a reply may make is bounded: the objects of one reply (strings,
 * arrays, numbers) at most REDIS_LOOP_REPLY_MAX bytes, the bytes waiting
 * to be parsed (an unfinished string) at most REDIS_LOOP_BUF_MAX; past
 * either, the connection fails (its callbacks get NULL, its disconnect
 * callback is called), so a hostile or broken server cannot make the
 * memory grow without bound.
 *
 * Owns the small adapter it attaches (freed by hiredis' cleanup hook).
 * Must never: block, or touch a context hiredis has freed.
 */
#ifndef MS_REDIS_LOOP_H
#define MS_REDIS_LOOP_H

#include <hiredis/async.h>

struct loop;

#define REDIS_LOOP_REPLY_MAX (128u << 20)     /* about 400,000 snapshot entries */
#define REDIS_LOOP_BUF_MAX (16u << 20)

/* Attach ac to l. 0, or -1 if ac already has hooks or its fd is bad. */
int redis_loop_attach(struct loop *l, redisAsyncContext *ac);

#endif
