// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * httpd - see httpd.h. Each connection reads its request head into a
 * fixed buffer (READ), then writes its whole answer from memory (WRITE),
 * then shuts its side down and reads what the client still sends until it
 * closes or a short linger ends (DRAIN), so that unread request bytes
 * never turn the answer into a reset. One deadline timer per connection.
 * Owns the listening socket, the connections and their buffers.
 */
#include "httpd.h"

#include "log.h"
#include "loop.h"
#include "xalloc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#define DRAIN_MS 1000
#define DRAIN_MAX 65536

enum conn_state { C_READ, C_WRITE, C_DRAIN };

struct conn {
	struct httpd *h;
	int fd;
	enum conn_state state;
	uint64_t timer;
	char in[HTTPD_MAX_REQUEST];
	size_t nin;
	char *out;
	size_t nout, sent, drained;
};

struct httpd {
	struct loop *loop;
	int fd;
	char *path, *ctype;
	httpd_body_fn *fn;
	void *arg;
	struct conn *conns[HTTPD_MAX_CONNS];
	struct httpd_stats st;
};

int httpd_parse_addr(const char *text, struct sockaddr_storage *ss, socklen_t *sslen, bool *loopback, char *err,
		     size_t errlen)
{
	char host[64];
	const char *colon, *hs = text;
	size_t hl;
	char *end;
	unsigned long port;

	memset(ss, 0, sizeof *ss);
	if (text[0] == '[') {
		const char *rb = strchr(text, ']');
		if (!rb || rb[1] != ':')
			return errf(err, errlen, "'%s': an IPv6 address is written [ADDRESS]:PORT", text);
		hs = text + 1;
		hl = (size_t)(rb - hs);
		colon = rb + 1;
	} else {
		colon = strrchr(text, ':');
		if (!colon)
			return errf(err, errlen, "'%s': write ADDRESS:PORT (e.g. 127.0.0.1:9154 or [::1]:9154)", text);
		hl = (size_t)(colon - text);
	}
	if (hl == 0 || hl >= sizeof host)
		return errf(err, errlen, "'%s': no address before the port", text);
	memcpy(host, hs, hl);
	host[hl] = '\0';
	errno = 0;
	port = strtoul(colon + 1, &end, 10);
	if (!colon[1] || *end || errno || port == 0 || port > 65535 || colon[1] == '-' || colon[1] == '+')
		return errf(err, errlen, "'%s': the port must be 1 to 65535", text);
	if (text[0] == '[') {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
		if (inet_pton(AF_INET6, host, &s6->sin6_addr) != 1)
			return errf(err, errlen, "'%s': '%s' is not an IPv6 address", text, host);
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		*sslen = sizeof *s6;
		*loopback = IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr) ||
			    (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr) && s6->sin6_addr.s6_addr[12] == 127);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
		if (inet_pton(AF_INET, host, &s4->sin_addr) != 1)
			return errf(err, errlen, "'%s': '%s' is not an IPv4 address (an IPv6 one is written in [ ])",
				    text, host);
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		*sslen = sizeof *s4;
		*loopback = (ntohl(s4->sin_addr.s_addr) >> 24) == 127;
	}
	return 0;
}

bool httpd_is_loopback(const char *text)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	bool loopback;
	char err[ERR_LEN];

	return httpd_parse_addr(text, &ss, &sslen, &loopback, err, sizeof err) < 0 || loopback;
}

static void conn_close(struct conn *c)
{
	struct httpd *h = c->h;

	for (size_t i = 0; i < HTTPD_MAX_CONNS; i++)
		if (h->conns[i] == c)
			h->conns[i] = NULL;
	if (c->timer)
		loop_cancel_timer(h->loop, c->timer);
	loop_del_fd(h->loop, c->fd);
	close(c->fd);
	free(c->out);
	free(c);
}

static void conn_deadline(struct loop *l, void *arg)
{
	struct conn *c = arg;

	(void)l;
	c->timer = 0;
	if (c->state != C_DRAIN)
		c->h->st.timeouts++;
	conn_close(c);
}

static void arm(struct conn *c, uint64_t ms)
{
	if (c->timer)
		loop_cancel_timer(c->h->loop, c->timer);
	c->timer = loop_add_timer(c->h->loop, ms, conn_deadline, c);
}

static void drain(struct conn *c)
{
	char buf[4096];
	ssize_t n;

	while ((n = read(c->fd, buf, sizeof buf)) > 0) {
		c->drained += (size_t)n;
		if (c->drained > DRAIN_MAX)
			break;
	}
	if (n == 0 || c->drained > DRAIN_MAX || (n < 0 && errno != EAGAIN && errno != EINTR))
		conn_close(c);
}

/* Write what is left; done: shut down and drain. */
static void flush(struct conn *c)
{
	while (c->sent < c->nout) {
		ssize_t n = send(c->fd, c->out + c->sent, c->nout - c->sent, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return;
			conn_close(c);
			return;
		}
		c->sent += (size_t)n;
	}
	shutdown(c->fd, SHUT_WR);
	c->state = C_DRAIN;
	loop_mod_fd(c->h->loop, c->fd, EPOLLIN);
	arm(c, DRAIN_MS);
	drain(c);
}

static void respond(struct conn *c, int code, const char *reason, const char *extra, const char *body, size_t blen,
		    bool head)
{
	char hdr[512];
	int hn = snprintf(hdr, sizeof hdr,
			  "HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n%sConnection: close\r\n\r\n",
			  code, reason, code == 200 ? c->h->ctype : "text/plain; charset=utf-8", blen, extra);

	c->nout = (size_t)hn + (head ? 0 : blen);
	c->out = xmalloc(c->nout + 1);
	memcpy(c->out, hdr, (size_t)hn);
	if (!head)
		memcpy(c->out + hn, body, blen);
	c->state = C_WRITE;
	loop_mod_fd(c->h->loop, c->fd, EPOLLOUT);
	arm(c, HTTPD_WRITE_MS);
	flush(c);
}

static void respond_text(struct conn *c, int code, const char *reason, const char *extra)
{
	char body[64];
	int n = snprintf(body, sizeof body, "%d %s\n", code, reason);

	c->h->st.errors += code >= 400 && code < 500;
	respond(c, code, reason, extra, body, (size_t)n, false);
}

/* The head is whole (it ends at end): answer it. */
static void answer(struct conn *c, size_t end)
{
	char *line = c->in, *sp1, *sp2, *eol;
	bool head;
	size_t plen;

	c->in[end] = '\0';
	eol = strpbrk(line, "\r\n");
	if (eol)
		*eol = '\0';
	sp1 = strchr(line, ' ');
	sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
	if (!sp1 || !sp2 || sp1 == line || sp2 == sp1 + 1 || strchr(sp2 + 1, ' ') ||
	    (strcmp(sp2 + 1, "HTTP/1.0") != 0 && strcmp(sp2 + 1, "HTTP/1.1") != 0)) {
		respond_text(c, 400, "Bad Request", "");
		return;
	}
	*sp1 = *sp2 = '\0';
	head = strcmp(line, "HEAD") == 0;
	if (!head && strcmp(line, "GET") != 0) {
		respond_text(c, 405, "Method Not Allowed", "Allow: GET, HEAD\r\n");
		return;
	}
	plen = strlen(c->h->path);
	if (strncmp(sp1 + 1, c->h->path, plen) != 0 || (sp1[1 + plen] && sp1[1 + plen] != '?')) {
		respond_text(c, 404, "Not Found", "");
		return;
	}
	{
		size_t blen = 0;
		char *body = c->h->fn(c->h->arg, &blen);
		c->h->st.requests++;
		respond(c, 200, "OK", "", body, blen, head);
		free(body);
	}
}

/* The end of the head in c->in (after its blank line), or 0. */
static size_t head_end(const struct conn *c)
{
	for (size_t i = 0; i + 1 < c->nin; i++) {
		if (c->in[i] == '\n' && c->in[i + 1] == '\n')
			return i + 2;
		if (i + 3 < c->nin && memcmp(c->in + i, "\r\n\r\n", 4) == 0)
			return i + 4;
	}
	return 0;
}

static void conn_io(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct conn *c = arg;

	(void)l;
	(void)fd;
	if (c->state == C_WRITE) {
		flush(c);
		return;
	}
	if (c->state == C_DRAIN) {
		drain(c);
		return;
	}
	for (;;) {
		ssize_t n = read(c->fd, c->in + c->nin, sizeof c->in - 1 - c->nin);
		size_t end;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			conn_close(c);
			return;
		}
		c->nin += (size_t)n;
		end = head_end(c);
		if (end) {
			answer(c, end);
			return;
		}
		if (c->nin == sizeof c->in - 1) {
			respond_text(c, 431, "Request Header Fields Too Large", "");
			return;
		}
	}
	(void)events;
}

static void on_accept(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct httpd *h = arg;

	(void)events;
	for (;;) {
		int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		size_t slot;
		struct conn *c;
		if (cfd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return;         /* EAGAIN, or out of descriptors: the next turn tries again */
		}
		for (slot = 0; slot < HTTPD_MAX_CONNS && h->conns[slot]; slot++)
			;
		if (slot == HTTPD_MAX_CONNS) {
			static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n"
						   "Connection: close\r\n\r\n";
			h->st.busy++;
			(void)!send(cfd, busy, sizeof busy - 1, MSG_NOSIGNAL | MSG_DONTWAIT);
			close(cfd);
			continue;
		}
		c = xcalloc(1, sizeof *c);
		c->h = h;
		c->fd = cfd;
		if (loop_add_fd(l, cfd, EPOLLIN, conn_io, c) < 0) {
			close(cfd);
			free(c);
			continue;
		}
		h->conns[slot] = c;
		arm(c, HTTPD_READ_MS);
	}
}

struct httpd *httpd_open(struct loop *l, const char *text, const char *path, const char *content_type,
			 httpd_body_fn *fn, void *arg, char *err, size_t errlen)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	bool loopback;
	int fd, one = 1;
	struct httpd *h;

	if (httpd_parse_addr(text, &ss, &sslen, &loopback, err, errlen) < 0)
		return NULL;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		errf(err, errlen, "%s: socket: %s", text, strerror(errno));
		return NULL;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (ss.ss_family == AF_INET6)
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
	if (bind(fd, (struct sockaddr *)&ss, sslen) < 0 || listen(fd, 64) < 0) {
		errf(err, errlen, "%s: cannot listen: %s", text, strerror(errno));
		close(fd);
		return NULL;
	}
	h = xcalloc(1, sizeof *h);
	h->loop = l;
	h->fd = fd;
	h->path = xstrdup(path);
	h->ctype = xstrdup(content_type);
	h->fn = fn;
	h->arg = arg;
	if (loop_add_fd(l, fd, EPOLLIN, on_accept, h) < 0) {
		errf(err, errlen, "%s: epoll: %s", text, strerror(errno));
		httpd_close(h);
		return NULL;
	}
	return h;
}

void httpd_close(struct httpd *h)
{
	if (!h)
		return;
	for (size_t i = 0; i < HTTPD_MAX_CONNS; i++)
		if (h->conns[i])
			conn_close(h->conns[i]);
	loop_del_fd(h->loop, h->fd);
	close(h->fd);
	free(h->path);
	free(h->ctype);
	free(h);
}

void httpd_get_stats(const struct httpd *h, struct httpd_stats *st)
{
	*st = h->st;
}
