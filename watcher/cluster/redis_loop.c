// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * redis_loop - see redis_loop.h. The adapter keeps the events hiredis
 * wants and mirrors them into one epoll registration. hiredis may free
 * the context (and call cleanup) from inside redisAsyncHandleRead or
 * Write: the adapter then only marks itself dead and is freed once the
 * callback that holds it returns.
 *
 * Owns struct rloop. Must never: use ac after cleanup ran.
 */
#include "redis_loop.h"
#include "log.h"
#include "loop.h"
#include "xalloc.h"

#include <stdbool.h>
#include <stdlib.h>
#include <sys/epoll.h>

struct rloop {
	struct loop *l;
	redisAsyncContext *ac;
	int fd;
	uint32_t want;          /* EPOLLIN | EPOLLOUT hiredis asked for */
	bool registered, in_cb, dead;
	size_t used;            /* bytes the reply being read made so far */
};

/* ---- replies built within a bound ---- */

#define OBJ_COST 64             /* a redisReply and its allocation's overhead */

static redisReplyObjectFunctions *orig_fn;      /* hiredis' own (the same for every context) */

/* Room for cost more bytes in the reply being read; a reply's first
 * object starts the count again. */
static bool take_room(const redisReadTask *task, size_t cost)
{
	struct rloop *r = task->privdata;

	if (!r)
		return false;
	if (!task->parent)
		r->used = 0;
	if (cost > REDIS_LOOP_REPLY_MAX - r->used) {
		/* NULL: hiredis fails the reply (out of memory), and the
		 * connection with it */
		log_warnx("Redis sent a reply of more than %u MB; dropping the connection", REDIS_LOOP_REPLY_MAX >> 20);
		return false;
	}
	r->used += cost;
	return true;
}

static void *b_string(const redisReadTask *task, char *s, size_t len)
{
	return take_room(task, OBJ_COST + len) ? orig_fn->createString(task, s, len) : NULL;
}

static void *b_array(const redisReadTask *task, int n)
{
	return n >= 0 && take_room(task, OBJ_COST + (size_t)n * sizeof(void *)) ? orig_fn->createArray(task, n) : NULL;
}

static void *b_integer(const redisReadTask *task, long long v)
{
	return take_room(task, OBJ_COST) ? orig_fn->createInteger(task, v) : NULL;
}

static void *b_nil(const redisReadTask *task)
{
	return take_room(task, OBJ_COST) ? orig_fn->createNil(task) : NULL;
}

static void b_free(void *obj)
{
	orig_fn->freeObject(obj);
}

static redisReplyObjectFunctions bounded_fn = {
	.createString = b_string,
	.createArray = b_array,
	.createInteger = b_integer,
	.createNil = b_nil,
	.freeObject = b_free,
};

static void on_fd(struct loop *l, int fd, uint32_t events, void *arg);

static void update(struct rloop *r)
{
	if (r->dead)
		return;
	if (!r->want) {
		if (r->registered)
			loop_del_fd(r->l, r->fd);
		r->registered = false;
	} else if (!r->registered) {
		r->registered = loop_add_fd(r->l, r->fd, r->want, on_fd, r) == 0;
	} else {
		loop_mod_fd(r->l, r->fd, r->want);
	}
}

static void add_read(void *p) { struct rloop *r = p; r->want |= EPOLLIN; update(r); }
static void del_read(void *p) { struct rloop *r = p; r->want &= ~(uint32_t)EPOLLIN; update(r); }
static void add_write(void *p) { struct rloop *r = p; r->want |= EPOLLOUT; update(r); }
static void del_write(void *p) { struct rloop *r = p; r->want &= ~(uint32_t)EPOLLOUT; update(r); }

static void cleanup(void *p)
{
	struct rloop *r = p;

	r->want = 0;
	update(r);
	r->dead = true;
	r->ac = NULL;
	if (!r->in_cb)
		free(r);
}

static void on_fd(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct rloop *r = arg;

	(void)l;
	(void)fd;
	r->in_cb = true;
	if (events & (EPOLLIN | EPOLLERR | EPOLLHUP)) {
		redisAsyncHandleRead(r->ac);
		/* an unfinished string that never ends: failed, not kept */
		if (!r->dead && r->ac->c.reader && r->ac->c.reader->len - r->ac->c.reader->pos > REDIS_LOOP_BUF_MAX) {
			log_warnx("Redis sent a string of more than %u MB; dropping the connection", REDIS_LOOP_BUF_MAX >> 20);
			redisAsyncFree(r->ac);
		}
	}
	if (!r->dead && (events & (EPOLLOUT | EPOLLERR)) && (r->want & EPOLLOUT))
		redisAsyncHandleWrite(r->ac);
	r->in_cb = false;
	if (r->dead)
		free(r);
}

int redis_loop_attach(struct loop *l, redisAsyncContext *ac)
{
	struct rloop *r;

	if (ac->ev.data || ac->c.fd < 0 || !ac->c.reader || !ac->c.reader->fn)
		return -1;
	if (!orig_fn)
		orig_fn = ac->c.reader->fn;
	if (ac->c.reader->fn != orig_fn && ac->c.reader->fn != &bounded_fn)
		return -1;
	r = xcalloc(1, sizeof *r);
	r->l = l;
	r->ac = ac;
	r->fd = ac->c.fd;
	ac->ev.addRead = add_read;
	ac->ev.delRead = del_read;
	ac->ev.addWrite = add_write;
	ac->ev.delWrite = del_write;
	ac->ev.cleanup = cleanup;
	ac->ev.data = r;
	ac->c.reader->fn = &bounded_fn;
	ac->c.reader->privdata = r;
	return 0;
}
