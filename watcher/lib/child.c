// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * child - see child.h. Owns the child's process id and the read end of its
 * report pipe (non-blocking, in the loop); the child writes its message,
 * if any, and exits, and the end of the pipe is the parent's cue to reap
 * it (at once: a child whose pipe closed is exiting).
 */
#include "child.h"
#include "log.h"
#include "loop.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#define REPORT_FD 3

struct child {
	struct loop *loop;
	pid_t pid;
	int fd;                 /* read end of the report pipe */
	child_done_fn *done;
	void *arg;
	char msg[ERR_LEN];
	size_t msglen;
};

static void __attribute__((noreturn)) run_child(pid_t parent, int report, child_fn *fn, void *arg)
{
	char err[ERR_LEN] = "";
	int rc;

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(2);
	if (report != REPORT_FD && dup2(report, REPORT_FD) < 0)
		_exit(2);
	if (close_range(REPORT_FD + 1, ~0U, 0) < 0)
		for (int fd = REPORT_FD + 1; fd < 65536; fd++)
			close(fd);
	rc = fn(arg, err, sizeof err);
	if (rc < 0 && !err[0])
		snprintf(err, sizeof err, "failed");
	if (rc < 0)
		(void)!write(REPORT_FD, err, strlen(err));
	_exit(rc < 0 ? 1 : 0);
}

static void reap(struct child *c, int *status)
{
	loop_del_fd(c->loop, c->fd);
	close(c->fd);
	while (waitpid(c->pid, status, 0) < 0 && errno == EINTR)
		;
}

static void on_report(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct child *c = arg;
	int status = 0, rc = 0;

	(void)l;
	(void)events;
	for (;;) {
		char buf[256];
		ssize_t r = read(fd, buf, sizeof buf);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN)
			return;
		if (r <= 0)
			break;          /* end of the pipe: the child is exiting */
		for (ssize_t i = 0; i < r && c->msglen < sizeof c->msg - 1; i++)
			c->msg[c->msglen++] = buf[i];
	}
	reap(c, &status);
	c->msg[c->msglen] = '\0';
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		rc = -1;
		if (!c->msglen && WIFSIGNALED(status))
			snprintf(c->msg, sizeof c->msg, "its process was killed by signal %d", WTERMSIG(status));
		else if (!c->msglen)
			snprintf(c->msg, sizeof c->msg, "its process failed (exit status %d)",
				 WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	}
	c->done(c->arg, c->pid, rc, rc ? c->msg : "");
	free(c);
}

struct child *child_start(struct loop *l, child_fn *fn, void *fnarg, child_done_fn *done, void *donearg, char *err,
			  size_t errlen)
{
	struct child *c;
	pid_t parent = getpid(), pid;
	int p[2];

	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0) {
		errf(err, errlen, "pipe: %s", strerror(errno));
		return NULL;
	}
	c = xcalloc(1, sizeof *c);
	if (loop_add_fd(l, p[0], EPOLLIN, on_report, c) < 0) {
		errf(err, errlen, "epoll: %s", strerror(errno));
		goto fail;
	}
	pid = fork();
	if (pid == 0)
		run_child(parent, p[1], fn, fnarg);
	if (pid < 0) {
		errf(err, errlen, "fork: %s", strerror(errno));
		loop_del_fd(l, p[0]);
		goto fail;
	}
	close(p[1]);
	c->loop = l;
	c->pid = pid;
	c->fd = p[0];
	c->done = done;
	c->arg = donearg;
	return c;
fail:
	close(p[0]);
	close(p[1]);
	free(c);
	return NULL;
}

pid_t child_pid(const struct child *c)
{
	return c->pid;
}

void child_kill(struct child *c)
{
	int status;

	if (!c)
		return;
	kill(c->pid, SIGKILL);
	reap(c, &status);
	free(c);
}
