/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * httpd - a tiny HTTP/1.0 and 1.1 server inside the one event loop, for
 * one document (the metrics): GET or HEAD of its path answers 200 with
 * the body the callback makes at that moment; another path 404, another
 * method 405, a request that is no HTTP/1.x request 400, a head longer
 * than HTTPD_MAX_REQUEST bytes 431. Every answer ends with
 * "Connection: close" and the connection is closed after it.
 *
 * Bounded and never blocking: sockets are non-blocking; a request's head
 * must arrive whole within HTTPD_READ_MS, an answer must be taken by the
 * client within HTTPD_WRITE_MS (else the connection is closed, counted as
 * a timeout); at most HTTPD_MAX_CONNS connections are open, one more is
 * answered 503 at once and closed. Nothing the client sends is logged.
 *
 * Owns the listening socket and its connections. Must never: read a
 * request body, keep a connection after its answer, or wait.
 */
#ifndef MS_HTTPD_H
#define MS_HTTPD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define HTTPD_MAX_REQUEST 8192
#define HTTPD_READ_MS 5000
#define HTTPD_WRITE_MS 10000
#define HTTPD_MAX_CONNS 16

struct loop;
struct httpd;

/* The document: a malloc'ed body of *len bytes (the caller frees it). */
typedef char *httpd_body_fn(void *arg, size_t *len);

struct httpd_stats {
	uint64_t requests;      /* answered 200 */
	uint64_t errors;        /* answered 4xx */
	uint64_t timeouts;      /* closed at their deadline */
	uint64_t busy;          /* answered 503: too many connections */
};

/* "127.0.0.1:9154" or "[::1]:9154" into *ss; *loopback tells whether the
 * address is a loopback one. 0, or -1 with a message. */
int httpd_parse_addr(const char *text, struct sockaddr_storage *ss, socklen_t *sslen, bool *loopback, char *err,
		     size_t errlen);
/* False only for a valid address (httpd_parse_addr) that is not a loopback one. */
bool httpd_is_loopback(const char *text);
/* Listen on text (httpd_parse_addr) and serve path with fn. NULL with a
 * message if the address is bad or cannot be bound. */
struct httpd *httpd_open(struct loop *l, const char *text, const char *path, const char *content_type,
			 httpd_body_fn *fn, void *arg, char *err, size_t errlen);
void httpd_close(struct httpd *h);
void httpd_get_stats(const struct httpd *h, struct httpd_stats *st);

#endif
