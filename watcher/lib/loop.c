// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * loop - see loop.h. Owns the epoll fd, the timerfd and the timer heap.
 * Registrations are kept in a small array indexed by fd, so a callback
 * may delete its own (or another) fd safely during a turn: the stale
 * epoll event is recognised by a generation number and dropped.
 */
#include "loop.h"
#include "log.h"
#include "xalloc.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

struct fdreg {
	loop_fd_fn *fn;
	void *arg;
	uint32_t gen;           /* 0 = free */
};

struct timer {
	uint64_t when, id;
	loop_timer_fn *fn;
	void *arg;
};

struct idle {
	loop_timer_fn *fn;
	void *arg;
};

struct loop {
	int epfd, tfd;
	struct fdreg *fds;
	size_t nfds;
	uint32_t gen;
	struct timer *heap;
	size_t nheap, aheap;
	uint64_t next_id, armed;
	struct idle idle[4];
	int nidle;
	bool stop;
};

uint64_t loop_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void timer_fd_cb(struct loop *l, int fd, uint32_t ev, void *arg);

struct loop *loop_new(void)
{
	struct loop *l = xcalloc(1, sizeof *l);

	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0)
		fatal("epoll_create1");
	l->tfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (l->tfd < 0)
		fatal("timerfd_create");
	l->next_id = 1;
	if (loop_add_fd(l, l->tfd, EPOLLIN, timer_fd_cb, NULL) < 0)
		fatal("epoll_ctl");
	return l;
}

void loop_free(struct loop *l)
{
	if (!l)
		return;
	close(l->epfd);
	close(l->tfd);
	free(l->fds);
	free(l->heap);
	free(l);
}

static uint64_t pack(int fd, uint32_t gen) { return (uint64_t)gen << 32 | (uint32_t)fd; }

int loop_add_fd(struct loop *l, int fd, uint32_t events, loop_fd_fn *fn, void *arg)
{
	struct epoll_event ev = { .events = events };

	if (fd < 0)
		return errno = EBADF, -1;
	if ((size_t)fd >= l->nfds) {
		size_t n = l->nfds ? l->nfds : 16;
		while (n <= (size_t)fd)
			n *= 2;
		l->fds = xreallocarray(l->fds, n, sizeof *l->fds);
		memset(l->fds + l->nfds, 0, (n - l->nfds) * sizeof *l->fds);
		l->nfds = n;
	}
	if (++l->gen == 0)
		l->gen = 1;
	ev.data.u64 = pack(fd, l->gen);
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		return -1;
	l->fds[fd] = (struct fdreg){ fn, arg, l->gen };
	return 0;
}

int loop_mod_fd(struct loop *l, int fd, uint32_t events)
{
	struct epoll_event ev = { .events = events };

	if (fd < 0 || (size_t)fd >= l->nfds || !l->fds[fd].gen)
		return errno = EBADF, -1;
	ev.data.u64 = pack(fd, l->fds[fd].gen);
	return epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev);
}

void loop_del_fd(struct loop *l, int fd)
{
	if (fd < 0 || (size_t)fd >= l->nfds || !l->fds[fd].gen)
		return;
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
	l->fds[fd].gen = 0;
}

/* ---- timers: a binary min-heap on (when, id) ---- */

static bool t_less(const struct timer *a, const struct timer *b)
{
	return a->when < b->when || (a->when == b->when && a->id < b->id);
}

static void heap_up(struct timer *h, size_t i)
{
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (!t_less(&h[i], &h[p]))
			break;
		struct timer t = h[i]; h[i] = h[p]; h[p] = t;
		i = p;
	}
}

static void heap_down(struct timer *h, size_t n, size_t i)
{
	for (;;) {
		size_t m = i, c1 = 2 * i + 1, c2 = 2 * i + 2;
		if (c1 < n && t_less(&h[c1], &h[m]))
			m = c1;
		if (c2 < n && t_less(&h[c2], &h[m]))
			m = c2;
		if (m == i)
			break;
		struct timer t = h[i]; h[i] = h[m]; h[m] = t;
		i = m;
	}
}

static void heap_remove(struct loop *l, size_t i)
{
	l->heap[i] = l->heap[--l->nheap];
	if (i < l->nheap) {
		heap_down(l->heap, l->nheap, i);
		heap_up(l->heap, i);
	}
}

static void arm(struct loop *l)
{
	struct itimerspec its = { 0 };
	uint64_t when = l->nheap ? l->heap[0].when : 0;

	if (when == l->armed)
		return;
	if (when) {
		/* absolute monotonic time; 0 would disarm, so never pass it */
		its.it_value.tv_sec = (time_t)(when / 1000);
		its.it_value.tv_nsec = (long)(when % 1000) * 1000000L;
		if (!its.it_value.tv_sec && !its.it_value.tv_nsec)
			its.it_value.tv_nsec = 1;
	}
	if (timerfd_settime(l->tfd, TFD_TIMER_ABSTIME, &its, NULL) < 0)
		log_warn("timerfd_settime");
	l->armed = when;
}

uint64_t loop_add_timer(struct loop *l, uint64_t ms, loop_timer_fn *fn, void *arg)
{
	XGROW(l->heap, l->aheap, l->nheap + 1);
	l->heap[l->nheap] = (struct timer){ loop_now_ms() + ms, l->next_id++, fn, arg };
	heap_up(l->heap, l->nheap++);
	arm(l);
	return l->next_id - 1;
}

void loop_cancel_timer(struct loop *l, uint64_t id)
{
	for (size_t i = 0; i < l->nheap; i++)
		if (l->heap[i].id == id) {
			heap_remove(l, i);
			arm(l);
			return;
		}
}

static void timer_fd_cb(struct loop *l, int fd, uint32_t ev, void *arg)
{
	uint64_t exp, now = loop_now_ms(), last_id = l->next_id;

	(void)ev;
	(void)arg;
	if (read(fd, &exp, sizeof exp) < 0 && errno != EAGAIN)
		log_warn("timerfd read");
	l->armed = 0;
	/* timers added by these callbacks wait for the next turn, so a
	 * callback that re-schedules itself at 0 ms cannot starve the fds */
	while (l->nheap && l->heap[0].when <= now && l->heap[0].id < last_id) {
		struct timer t = l->heap[0];
		heap_remove(l, 0);
		t.fn(l, t.arg);
	}
	arm(l);
}

void loop_on_idle(struct loop *l, loop_timer_fn *fn, void *arg)
{
	if (l->nidle == (int)(sizeof l->idle / sizeof l->idle[0]))
		log_panic("too many idle hooks");
	l->idle[l->nidle++] = (struct idle){ fn, arg };
}

int loop_run(struct loop *l)
{
	struct epoll_event evs[64];

	l->stop = false;
	while (!l->stop) {
		int n = epoll_wait(l->epfd, evs, 64, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			log_warn("epoll_wait");
			return -1;
		}
		for (int i = 0; i < n && !l->stop; i++) {
			int fd = (int)(uint32_t)evs[i].data.u64;
			uint32_t gen = (uint32_t)(evs[i].data.u64 >> 32);
			if ((size_t)fd >= l->nfds || l->fds[fd].gen != gen)
				continue;       /* deleted during this turn */
			l->fds[fd].fn(l, fd, evs[i].events, l->fds[fd].arg);
		}
		for (int i = 0; i < l->nidle; i++)
			l->idle[i].fn(l, l->idle[i].arg);
	}
	return 0;
}

void loop_stop(struct loop *l)
{
	l->stop = true;
}
