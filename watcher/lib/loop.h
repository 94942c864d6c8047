/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * loop - the one event loop: file descriptors over epoll and one-shot
 * timers over a single timerfd. Single-threaded; callbacks run to
 * completion. Nothing wakes the process when nothing happens.
 */
#ifndef MS_LOOP_H
#define MS_LOOP_H

#include <stdbool.h>
#include <stdint.h>

struct loop;
typedef void loop_fd_fn(struct loop *l, int fd, uint32_t events, void *arg);
typedef void loop_timer_fn(struct loop *l, void *arg);

struct loop *loop_new(void);
void loop_free(struct loop *l);
/* events: EPOLLIN etc. 0 on success, -1 with errno. */
int loop_add_fd(struct loop *l, int fd, uint32_t events, loop_fd_fn *fn, void *arg);
int loop_mod_fd(struct loop *l, int fd, uint32_t events);
void loop_del_fd(struct loop *l, int fd);
/* One-shot timer, ms from now (monotonic). Returns an id (never 0). */
uint64_t loop_add_timer(struct loop *l, uint64_t ms, loop_timer_fn *fn, void *arg);
void loop_cancel_timer(struct loop *l, uint64_t id);
/* Called once per loop turn after all ready events were handled (for
 * batching work such as netlink commits). At most a few. */
void loop_on_idle(struct loop *l, loop_timer_fn *fn, void *arg);
/* Run until loop_stop(). Returns 0, or -1 if epoll itself failed. */
int loop_run(struct loop *l);
void loop_stop(struct loop *l);
/* Monotonic milliseconds. */
uint64_t loop_now_ms(void);

#endif
