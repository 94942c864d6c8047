// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * control - see control.h. Owns the listening socket, the socket file
 * (made, and unlinked only while it is still the one made here), each
 * connection with its request buffer (at most CONTROL_MAX_REQUEST bytes)
 * and its reply, and the counters. Never blocks the loop and never
 * trusts a peer: who it is comes from the kernel (SO_PEERCRED), what it
 * sends is bounded in words, bytes and time, and a peer that does not
 * read its reply costs a buffer until the deadline, never a stall.
 */
#include "control.h"
#include "jsonw.h"
#include "log.h"
#include "loop.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#define LISTEN_BACKLOG 128
#define ACCEPT_PER_TURN 64              /* then let other events run */
#define ACCEPT_PAUSE_MS 1000            /* after EMFILE and the like */
#define REFUSED_LOG_MS 10000            /* at most one refusal logged per 10 s */
#define COMMAND_WORD_MAX 64
#define OPTION_NAME_MAX 32              /* "--reason": names the word after it */
#define IN_CHUNK 4096

/* ---- replies ---- */

void ctl_reply_init(struct ctl_reply *r)
{
	memset(r, 0, sizeof *r);
}

void ctl_reply_release(struct ctl_reply *r)
{
	free(r->body);
	memset(r, 0, sizeof *r);
}

static void reply_reserve(struct ctl_reply *r, size_t extra)
{
	if (extra >= SIZE_MAX - r->len - 1)
		fatalx("control reply too large");
	XGROW(r->body, r->alloc, r->len + extra + 1);
}

void ctl_write(struct ctl_reply *r, const void *buf, size_t n)
{
	if (!n)
		return;
	reply_reserve(r, n);
	memcpy(r->body + r->len, buf, n);
	r->len += n;
	r->body[r->len] = '\0';
}

void ctl_vprintf(struct ctl_reply *r, const char *fmt, va_list ap)
{
	va_list ap2;
	int n;

	reply_reserve(r, 128);
	va_copy(ap2, ap);
	n = vsnprintf(r->body + r->len, r->alloc - r->len, fmt, ap2);
	va_end(ap2);
	if (n < 0) {
		r->body[r->len] = '\0';
		return;
	}
	if ((size_t)n >= r->alloc - r->len) {
		reply_reserve(r, (size_t)n);
		vsnprintf(r->body + r->len, r->alloc - r->len, fmt, ap);
	}
	r->len += (size_t)n;
}

void ctl_printf(struct ctl_reply *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ctl_vprintf(r, fmt, ap);
	va_end(ap);
}

void ctl_error(struct ctl_reply *r, const char *fmt, ...)
{
	char raw[CONTROL_MSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(raw, sizeof raw, fmt, ap);
	va_end(ap);
	text_escape(r->msg, sizeof r->msg, raw, strlen(raw));
	r->error = true;
}

/* ---- daemon side ---- */

enum conn_state { CONN_READ, CONN_WRITE };

struct conn {
	struct control *c;
	struct conn *prev, *next;
	int fd;
	enum conn_state state;
	char *in;                       /* the request so far */
	size_t inlen, inalloc;
	size_t scanned, wstart, nwords; /* incremental parse */
	struct ctl_reply reply;
	char head[CONTROL_MSG_MAX + 16];
	size_t headlen, off;            /* bytes of head + body written */
	uint64_t timer, last_progress;
};

struct control {
	struct loop *l;
	char *path;
	int fd;
	dev_t dev;
	ino_t ino;
	bool has_group;
	gid_t gid;
	uid_t euid;
	unsigned max_clients;
	uint64_t deadline_ms;
	control_fn *fn;
	void *arg;
	struct conn *conns;
	struct control_stats st;
	uint64_t pause_timer, refused_logged_ms;
};

static void conn_flush(struct conn *k);
static void conn_reply(struct conn *k);
static void on_conn(struct loop *l, int fd, uint32_t events, void *arg);

static void conn_close(struct conn *k)
{
	struct control *c = k->c;

	if (k->timer)
		loop_cancel_timer(c->l, k->timer);
	loop_del_fd(c->l, k->fd);
	close(k->fd);
	if (k->prev)
		k->prev->next = k->next;
	else
		c->conns = k->next;
	if (k->next)
		k->next->prev = k->prev;
	c->st.clients--;
	free(k->in);
	ctl_reply_release(&k->reply);
	free(k);
}

static void on_deadline(struct loop *l, void *arg)
{
	struct conn *k = arg;
	struct control *c = k->c;
	uint64_t now = loop_now_ms();

	k->timer = 0;
	if (k->state == CONN_WRITE && now - k->last_progress < c->deadline_ms) {
		k->timer = loop_add_timer(l, c->deadline_ms - (now - k->last_progress), on_deadline, k);
		return;
	}
	c->st.timeouts++;
	if (k->state == CONN_WRITE) {
		log_debug("control: closing a connection that stopped reading its reply");
		conn_close(k);
		return;
	}
	ctl_reply_release(&k->reply);
	ctl_error(&k->reply, "timed out waiting for the request");
	conn_reply(k);
}

/* Start writing k->reply; the connection closes when it is written. */
static void conn_reply(struct conn *k)
{
	struct control *c = k->c;

	if (k->reply.error)
		k->headlen = (size_t)snprintf(k->head, sizeof k->head, "error: %s\n", k->reply.msg);
	else
		k->headlen = (size_t)snprintf(k->head, sizeof k->head, "ok\n");
	if (k->headlen >= sizeof k->head)
		k->headlen = sizeof k->head - 1;
	k->state = CONN_WRITE;
	k->off = 0;
	k->last_progress = loop_now_ms();
	free(k->in);
	k->in = NULL;
	k->inlen = k->inalloc = 0;
	if (!k->timer)
		k->timer = loop_add_timer(c->l, c->deadline_ms, on_deadline, k);
	conn_flush(k);
}

static void conn_refuse(struct conn *k, uint64_t *counter, const char *msg)
{
	(*counter)++;
	ctl_error(&k->reply, "%s", msg);
	conn_reply(k);
}

static void conn_flush(struct conn *k)
{
	struct control *c = k->c;
	size_t total = k->headlen + k->reply.len;

	while (k->off < total) {
		struct iovec iov[2];
		struct msghdr mh = { .msg_iov = iov };
		ssize_t n;

		if (k->off < k->headlen) {
			iov[mh.msg_iovlen++] = (struct iovec){ k->head + k->off, k->headlen - k->off };
			if (k->reply.len)
				iov[mh.msg_iovlen++] = (struct iovec){ k->reply.body, k->reply.len };
		} else {
			size_t bo = k->off - k->headlen;
			iov[mh.msg_iovlen++] = (struct iovec){ k->reply.body + bo, k->reply.len - bo };
		}
		n = sendmsg(k->fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				if (loop_mod_fd(c->l, k->fd, EPOLLOUT) < 0) {
					log_warn("control: epoll_ctl");
					conn_close(k);
				}
				return;
			}
			log_debug("control: reply not delivered: %s", strerror(errno));
			conn_close(k);
			return;
		}
		k->off += (size_t)n;
		k->last_progress = loop_now_ms();
	}
	conn_close(k);
}

static void conn_dispatch(struct conn *k, size_t end)
{
	struct control *c = k->c;
	char *argv[CONTROL_MAX_WORDS + 1];
	int argc = 0;

	for (size_t i = 0; i < end; i += strlen(k->in + i) + 1)
		argv[argc++] = k->in + i;
	argv[argc] = NULL;
	c->st.requests++;
	if (loop_mod_fd(c->l, k->fd, 0) < 0)
		log_warn("control: epoll_ctl");
	c->fn(c->arg, argc, argv, &k->reply);
	conn_reply(k);
}

static bool command_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-';
}

/* A control character ends at in[i]: a C0 byte or DEL, or the second
 * byte of a C1 control in UTF-8 (0xc2 0x80-0x9f) within the word that
 * starts at wstart. */
static bool control_at(const char *in, size_t i, size_t wstart)
{
	unsigned char ch = (unsigned char)in[i];

	return (ch > 0 && ch < 0x20) || ch == 0x7f ||
	       (ch >= 0x80 && ch <= 0x9f && i > wstart && (unsigned char)in[i - 1] == 0xc2);
}

/* "WHAT contains a control character (...)": the one that ends at w[i]
 * (see control_at), by its code and position; never the word itself. */
static void control_msg(char *msg, size_t len, const char *what, const char *w, size_t i)
{
	unsigned char ch = (unsigned char)w[i];

	if (ch >= 0x80)
		snprintf(msg, len, "%s contains a control character (U+%04X at position %zu)", what, ch, i);
	else
		snprintf(msg, len, "%s contains a control character (byte 0x%02x at position %zu)", what, ch, i + 1);
}

/* Refuse a word holding a control character at in[i]: name the word by
 * the option it is the value of ("--reason"), or by its number. */
static void conn_refuse_control(struct conn *k, size_t i)
{
	size_t pstart = k->wstart - 1;
	char what[OPTION_NAME_MAX + 16], msg[160];

	snprintf(what, sizeof what, "argument %zu", k->nwords);
	while (pstart > 0 && k->in[pstart - 1] != '\0')
		pstart--;
	if (k->nwords >= 2 && k->wstart - 1 - pstart > 2 && k->wstart - 1 - pstart <= OPTION_NAME_MAX &&
	    strncmp(k->in + pstart, "--", 2) == 0) {
		size_t j = pstart + 2;
		while (j < k->wstart - 1 && command_char(k->in[j]))
			j++;
		if (j == k->wstart - 1)
			snprintf(what, sizeof what, "%s", k->in + pstart);
	}
	control_msg(msg, sizeof msg, what, k->in + k->wstart, i - k->wstart);
	conn_refuse(k, &k->c->st.malformed, msg);
}

/* Scan the bytes read since the last call. Returns true when the
 * connection was handed on (dispatched or refused). */
static bool conn_scan(struct conn *k)
{
	struct control *c = k->c;

	for (size_t i = k->scanned; i < k->inlen; i++) {
		char ch = k->in[i];
		if (ch == '\0') {
			if (i == 0) {   /* no command word: the handler needs argv[0] */
				conn_refuse(k, &c->st.malformed,
					    "malformed request (a request is NUL-terminated words, the first a command name)");
				return true;
			}
			if (i == k->wstart) {
				conn_dispatch(k, i);
				return true;
			}
			if (++k->nwords > CONTROL_MAX_WORDS) {
				conn_refuse(k, &c->st.oversized, "request too large");
				return true;
			}
			k->wstart = i + 1;
		} else if (k->nwords == 0 && (!command_char(ch) || i - k->wstart >= COMMAND_WORD_MAX)) {
			conn_refuse(k, &c->st.malformed,
				    "malformed request (a request is NUL-terminated words, the first a command name)");
			return true;
		} else if (control_at(k->in, i, k->wstart)) {
			conn_refuse_control(k, i);
			return true;
		}
	}
	k->scanned = k->inlen;
	if (k->inlen == CONTROL_MAX_REQUEST) {
		conn_refuse(k, &c->st.oversized, "request too large");
		return true;
	}
	return false;
}

static void conn_read(struct conn *k)
{
	struct control *c = k->c;

	for (;;) {
		ssize_t n;

		if (k->inlen == k->inalloc) {
			size_t want = k->inalloc ? k->inalloc * 2 : IN_CHUNK;
			if (want > CONTROL_MAX_REQUEST)
				want = CONTROL_MAX_REQUEST;
			k->in = xrealloc(k->in, want);
			k->inalloc = want;
		}
		n = read(k->fd, k->in + k->inlen, k->inalloc - k->inlen);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			log_debug("control: read: %s", strerror(errno));
			conn_close(k);
			return;
		}
		if (n == 0) {
			/* a connection that sends nothing at all is a probe
			 * (another daemon checking that this one is alive) */
			if (k->inlen == 0) {
				conn_close(k);
				return;
			}
			conn_refuse(k, &c->st.malformed,
				    "malformed request (it ended before the empty word that closes it)");
			return;
		}
		k->inlen += (size_t)n;
		if (conn_scan(k))
			return;
	}
}

static void on_conn(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct conn *k = arg;

	(void)l;
	(void)fd;
	if (k->state == CONN_READ)
		conn_read(k);
	else if (events & (EPOLLOUT | EPOLLERR | EPOLLHUP))
		conn_flush(k);
}

/* Members of the group may connect: the peer's primary group, or one of
 * the supplementary groups it had when it connected. */
static bool peer_in_group(const struct control *c, int fd, const struct ucred *uc)
{
	gid_t small[64], *groups = small;
	socklen_t len = sizeof small;
	bool found = false;
	int rc;

	if (uc->gid == c->gid)
		return true;
	rc = getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len);
	if (rc < 0 && errno == ERANGE) {
		groups = xmalloc(len);
		if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0)
			len = (socklen_t)-1;
	} else if (rc < 0 && errno == ENOPROTOOPT) {
		/* older kernels: the group database's view of the user */
		struct passwd *pw = getpwuid(uc->uid);
		int n = 64;
		len = (socklen_t)-1;
		if (pw && getgrouplist(pw->pw_name, pw->pw_gid, groups, &n) < 0) {
			groups = xreallocarray(NULL, (size_t)n, sizeof *groups);
			if (getgrouplist(pw->pw_name, pw->pw_gid, groups, &n) < 0)
				n = 0;
		}
		if (pw)
			len = (socklen_t)((size_t)n * sizeof *groups);
	} else if (rc < 0) {
		len = (socklen_t)-1;
	}
	if (len != (socklen_t)-1)
		for (size_t i = 0; i < len / sizeof *groups; i++)
			if (groups[i] == c->gid)
				found = true;
	if (groups != small)
		free(groups);
	return found;
}

static void conn_new(struct control *c, int fd)
{
	struct conn *k = xcalloc(1, sizeof *k);
	struct ucred uc = { .pid = 0, .uid = (uid_t)-1, .gid = (gid_t)-1 };
	socklen_t len = sizeof uc;
	bool allowed = false;

	k->c = c;
	k->fd = fd;
	k->state = CONN_READ;
	ctl_reply_init(&k->reply);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) < 0)
		log_warn("control: SO_PEERCRED");
	else
		allowed = uc.uid == 0 || uc.uid == c->euid || (c->has_group && peer_in_group(c, fd, &uc));
	k->reply.peer_uid = uc.uid;
	k->reply.peer_gid = uc.gid;
	k->reply.peer_pid = uc.pid;

	if (loop_add_fd(c->l, fd, EPOLLIN, on_conn, k) < 0) {
		log_warn("control: epoll_ctl");
		close(fd);
		free(k);
		return;
	}
	k->next = c->conns;
	if (c->conns)
		c->conns->prev = k;
	c->conns = k;
	c->st.clients++;

	if (!allowed) {
		char msg[64];
		uint64_t now = loop_now_ms();
		if (!c->refused_logged_ms || now - c->refused_logged_ms >= REFUSED_LOG_MS) {
			log_warnx("control: refused uid %d (pid %d) on %s (%llu refused so far)", (int)uc.uid,
				  (int)uc.pid, c->path, (unsigned long long)c->st.refused + 1);
			c->refused_logged_ms = now;
		}
		snprintf(msg, sizeof msg, "permission denied (uid %d)", (int)uc.uid);
		conn_refuse(k, &c->st.refused, msg);
		return;
	}
	if (c->st.clients > c->max_clients) {
		conn_refuse(k, &c->st.busy, "busy");
		return;
	}
	k->timer = loop_add_timer(c->l, c->deadline_ms, on_deadline, k);
}

static void on_listen(struct loop *l, int fd, uint32_t events, void *arg);

static void on_resume_accept(struct loop *l, void *arg)
{
	struct control *c = arg;

	c->pause_timer = 0;
	if (loop_mod_fd(l, c->fd, EPOLLIN) < 0)
		log_warn("control: epoll_ctl");
}

static void on_listen(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct control *c = arg;

	(void)events;
	for (int i = 0; i < ACCEPT_PER_TURN; i++) {
		int s = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (s < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			/* out of descriptors or memory: the pending connection
			 * would wake us at once again, so pause accepting */
			log_warn("control: accept on %s (pausing for %d ms)", c->path, ACCEPT_PAUSE_MS);
			if (loop_mod_fd(l, fd, 0) == 0)
				c->pause_timer = loop_add_timer(l, ACCEPT_PAUSE_MS, on_resume_accept, c);
			return;
		}
		conn_new(c, s);
	}
}

static int make_parent(const char *path, char *err, size_t errlen)
{
	char *dir = xstrdup(path), *slash = strrchr(dir, '/');
	struct stat st;
	int rc = 0;

	if (slash && slash != dir) {
		*slash = '\0';
		if (stat(dir, &st) < 0) {
			if (errno != ENOENT || mkdir(dir, 0755) < 0 || chmod(dir, 0755) < 0)
				rc = errf(err, errlen, "cannot create directory '%s' for the control socket: %s", dir,
					  strerror(errno));
		} else if (!S_ISDIR(st.st_mode)) {
			rc = errf(err, errlen, "'%s' is not a directory (control socket %s)", dir, path);
		}
	}
	free(dir);
	return rc;
}

/* 1 if a server answers on path, 0 if nothing does (a stale file was
 * removed), -1 on error. */
static int probe_existing(const char *path, const struct sockaddr_un *sa, char *err, size_t errlen)
{
	struct stat st;
	int fd, rc;

	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return 0;
		return errf(err, errlen, "cannot check control socket '%s': %s", path, strerror(errno));
	}
	if (!S_ISSOCK(st.st_mode))
		return errf(err, errlen, "'%s' exists and is not a socket (remove it, or set another 'control' path)",
			    path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errf(err, errlen, "socket: %s", strerror(errno));
	rc = connect(fd, (const struct sockaddr *)sa, sizeof *sa);
	if (rc == 0 || errno == EAGAIN) {
		/* EAGAIN: a live server whose backlog is full */
		close(fd);
		return 1;
	}
	rc = errno;
	close(fd);
	if (rc != ECONNREFUSED)
		return errf(err, errlen, "cannot check control socket '%s': %s", path, strerror(rc));
	if (unlink(path) < 0 && errno != ENOENT)
		return errf(err, errlen, "cannot remove stale control socket '%s': %s", path, strerror(errno));
	log_info("control: removed stale socket %s", path);
	return 0;
}

struct control *control_open(struct loop *l, const char *path, const char *group, unsigned max_clients,
			     control_fn *fn, void *arg, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct control *c;
	struct group *gr = NULL;
	struct stat st;
	mode_t old;
	int fd, rc;

	if (!path || !*path) {
		errf(err, errlen, "no control socket path");
		return NULL;
	}
	if (strlen(path) >= sizeof sa.sun_path) {
		errf(err, errlen, "control socket path '%s' is too long (at most %zu bytes)", path,
		     sizeof sa.sun_path - 1);
		return NULL;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (group && *group) {
		errno = 0;
		gr = getgrnam(group);
		if (!gr) {
			errf(err, errlen, "control_group '%s' is not a known group%s%s", group, errno ? ": " : "",
			     errno ? strerror(errno) : "");
			return NULL;
		}
	}
	if (make_parent(path, err, errlen) < 0)
		return NULL;
	rc = probe_existing(path, &sa, err, errlen);
	if (rc < 0)
		return NULL;
	if (rc > 0) {
		errf(err, errlen, "another mailscreen is running (control socket %s answers)", path);
		return NULL;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		errf(err, errlen, "socket: %s", strerror(errno));
		return NULL;
	}
	old = umask(0177);
	rc = bind(fd, (struct sockaddr *)&sa, sizeof sa);
	umask(old);
	if (rc < 0) {
		errf(err, errlen, "cannot bind control socket '%s': %s", path, strerror(errno));
		close(fd);
		return NULL;
	}
	if (gr && chown(path, (uid_t)-1, gr->gr_gid) < 0) {
		/* without CAP_CHOWN (as under the shipped unit) only to a
		 * group the daemon belongs to */
		if (errno == EPERM)
			errf(err, errlen, "cannot give control socket '%s' to group '%s': %s (the daemon must "
			     "belong to it: under systemd, add SupplementaryGroups=%s, see mailscreen.service)",
			     path, group, strerror(errno), group);
		else
			errf(err, errlen, "cannot give control socket '%s' to group '%s': %s", path, group,
			     strerror(errno));
		unlink(path);
		close(fd);
		return NULL;
	}
	if ((gr && chmod(path, 0660) < 0) || (!gr && chmod(path, 0600) < 0) || stat(path, &st) < 0) {
		errf(err, errlen, "cannot set the owner and mode of control socket '%s': %s", path, strerror(errno));
		unlink(path);
		close(fd);
		return NULL;
	}
	if (listen(fd, LISTEN_BACKLOG) < 0) {
		errf(err, errlen, "cannot listen on control socket '%s': %s", path, strerror(errno));
		unlink(path);
		close(fd);
		return NULL;
	}
	c = xcalloc(1, sizeof *c);
	c->l = l;
	c->path = xstrdup(path);
	c->fd = fd;
	c->dev = st.st_dev;
	c->ino = st.st_ino;
	c->has_group = gr != NULL;
	c->gid = gr ? gr->gr_gid : (gid_t)-1;
	c->euid = geteuid();
	c->max_clients = max_clients ? max_clients : 1;
	c->deadline_ms = CONTROL_DEADLINE_MS;
	c->fn = fn;
	c->arg = arg;
	if (loop_add_fd(l, fd, EPOLLIN, on_listen, c) < 0) {
		errf(err, errlen, "epoll_ctl: %s", strerror(errno));
		unlink(path);
		close(fd);
		free(c->path);
		free(c);
		return NULL;
	}
	return c;
}

void control_close(struct control *c)
{
	struct stat st;

	if (!c)
		return;
	while (c->conns)
		conn_close(c->conns);
	if (c->pause_timer)
		loop_cancel_timer(c->l, c->pause_timer);
	loop_del_fd(c->l, c->fd);
	close(c->fd);
	/* a newer daemon may have replaced the file: leave that one alone */
	if (stat(c->path, &st) == 0 && st.st_dev == c->dev && st.st_ino == c->ino)
		unlink(c->path);
	free(c->path);
	free(c);
}

void control_get_stats(const struct control *c, struct control_stats *st)
{
	*st = c->st;
}

void control_set_deadline(struct control *c, uint64_t ms)
{
	c->deadline_ms = ms ? ms : 1;
}

/* ---- client side ---- */

/* Wait until fd is ready for events; -1 with err on timeout or error. */
static int wait_fd(int fd, short events, const char *path, char *err, size_t errlen)
{
	struct pollfd p = { .fd = fd, .events = events };

	for (;;) {
		int n = poll(&p, 1, CONTROL_CALL_TIMEOUT_MS);
		if (n > 0)
			return 0;
		if (n == 0)
			return errf(err, errlen, "no answer from %s within %d s", path, CONTROL_CALL_TIMEOUT_MS / 1000);
		if (errno != EINTR)
			return errf(err, errlen, "poll: %s", strerror(errno));
	}
}

static int call_connect(const char *path, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = CONTROL_CALL_TIMEOUT_MS / 1000 };
	int fd, e;

	if (strlen(path) >= sizeof sa.sun_path)
		return errf(err, errlen, "control socket path '%s' is too long", path);
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errf(err, errlen, "socket: %s", strerror(errno));
	/* a blocking connect waits while the server's backlog is full:
	 * bound that wait too */
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	while (connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		e = errno;
		if (e == EINTR)
			continue;
		close(fd);
		if (e == ENOENT || e == ECONNREFUSED) {
			errf(err, errlen, "cannot connect to %s: is mailscreen running?", path);
			errno = e;
			return -1;
		}
		if (e == EACCES || e == EPERM)
			return errf(err, errlen, "cannot connect to %s: permission denied (root and members of "
				    "control_group may use it)", path);
		if (e == EAGAIN || e == EINPROGRESS)
			return errf(err, errlen, "cannot connect to %s: the daemon does not accept connections", path);
		return errf(err, errlen, "cannot connect to %s: %s", path, strerror(e));
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) < 0) {
		e = errno;
		close(fd);
		return errf(err, errlen, "fcntl: %s", strerror(e));
	}
	return fd;
}

static int call_send(int fd, const char *req, size_t len, const char *path, char *err, size_t errlen)
{
	size_t off = 0;

	while (off < len) {
		ssize_t n = send(fd, req + off, len - off, MSG_NOSIGNAL);
		if (n >= 0) {
			off += (size_t)n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			if (wait_fd(fd, POLLOUT, path, err, errlen) < 0)
				return -1;
			continue;
		}
		/* the server closed early (a refusal): its reply is waiting */
		if (errno == EPIPE || errno == ECONNRESET)
			return 0;
		return errf(err, errlen, "cannot send to %s: %s", path, strerror(errno));
	}
	return 0;
}

static int call_recv(int fd, struct ctl_reply *out, const char *path, char *err, size_t errlen)
{
	for (;;) {
		ssize_t n;

		reply_reserve(out, 65536);
		n = read(fd, out->body + out->len, out->alloc - out->len - 1);
		if (n > 0) {
			out->len += (size_t)n;
			out->body[out->len] = '\0';
			continue;
		}
		if (n == 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			if (wait_fd(fd, POLLIN, path, err, errlen) < 0)
				return -1;
			continue;
		}
		/* a server that refuses a request closes without reading
		 * the rest of it: the reply arrived, then the reset */
		if (errno == ECONNRESET && out->len)
			return 0;
		return errf(err, errlen, "cannot read from %s: %s", path, strerror(errno));
	}
}

static int call_parse(struct ctl_reply *out, const char *path, char *err, size_t errlen)
{
	char *nl = out->len ? memchr(out->body, '\n', out->len) : NULL;
	size_t skip;

	if (!out->len)
		return errf(err, errlen, "%s closed the connection without a reply", path);
	if (!nl)
		return errf(err, errlen, "malformed reply from %s", path);
	*nl = '\0';
	if (strcmp(out->body, "ok") == 0) {
		out->error = false;
	} else if (strncmp(out->body, "error: ", 7) == 0) {
		ctl_error(out, "%s", out->body + 7);
	} else {
		*nl = '\n';
		return errf(err, errlen, "malformed reply from %s", path);
	}
	skip = (size_t)(nl - out->body) + 1;
	memmove(out->body, out->body + skip, out->len - skip + 1);
	out->len -= skip;
	return 0;
}

int control_call(const char *path, int argc, char *const *argv, struct ctl_reply *out, char *err, size_t errlen)
{
	char *req;
	size_t len = 1;
	int fd, rc;

	ctl_reply_init(out);
	if (argc < 1 || !argv[0][0])
		return errf(err, errlen, "no command");
	if (argc > CONTROL_MAX_WORDS)
		return errf(err, errlen, "request too large");
	for (int i = 0; i < argc; i++) {
		size_t n = strlen(argv[i]);
		if (!n)
			return errf(err, errlen, "an empty word cannot be sent (argument %d)", i);
		for (size_t j = 0; j < n; j++)
			if (control_at(argv[i], j, 0)) {
				char what[32];
				snprintf(what, sizeof what, "argument %d", i);
				control_msg(err, errlen, what, argv[i], j);
				return -1;
			}
		len += n + 1;
		if (len > CONTROL_MAX_REQUEST)
			return errf(err, errlen, "request too large");
	}
	req = xmalloc(len);
	len = 0;
	for (int i = 0; i < argc; i++) {
		size_t n = strlen(argv[i]) + 1;
		memcpy(req + len, argv[i], n);
		len += n;
	}
	req[len++] = '\0';

	fd = call_connect(path, err, errlen);
	if (fd < 0) {
		int e = errno;
		free(req);
		errno = e;
		return -1;
	}
	rc = call_send(fd, req, len, path, err, errlen);
	free(req);
	if (rc == 0)
		rc = call_recv(fd, out, path, err, errlen);
	close(fd);
	if (rc == 0)
		rc = call_parse(out, path, err, errlen);
	if (rc < 0)
		ctl_reply_release(out);
	return rc;
}
