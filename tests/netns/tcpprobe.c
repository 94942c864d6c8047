// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tcpprobe - the TCP ends of the network namespace tests.
 *
 *   tcpprobe listen ADDR PORT...
 *	Listen on ADDR at every PORT; print "listening" once all are bound,
 *	then accept and close connections until killed.
 *
 *   tcpprobe connect SRCADDR DSTADDR PORT TIMEOUT_MS
 *	Connect from SRCADDR (any port) to DSTADDR:PORT, waiting at most
 *	TIMEOUT_MS. Prints one word and exits:
 *	  connected   0  the handshake completed
 *	  refused     1  a RST came back (nothing listens)
 *	  timeout     1  no answer in time: the SYN (or SYN-ACK) was dropped
 *	  error: ...  2  bad usage or anything else (no route, bad address)
 *
 * IPv4 and IPv6; the family follows the addresses. A test tells "dropped"
 * from "broken set-up" by the word, so refused and timeout stay distinct.
 * Never retries: one SYN decides (the first retransmission comes after
 * a second, longer than any timeout the tests use).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_PORTS 64

static _Noreturn void usage(void)
{
	fprintf(stderr,
		"usage: tcpprobe listen ADDR PORT...\n"
		"       tcpprobe connect SRCADDR DSTADDR PORT TIMEOUT_MS\n");
	exit(2);
}

static _Noreturn void die(const char *what, const char *arg)
{
	printf("error: %s%s%s: %s\n", what, arg ? " " : "", arg ? arg : "", strerror(errno));
	fflush(stdout);
	exit(2);
}

static long number(const char *s, long min, long max)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(s, &end, 10);
	if (errno || end == s || *end || n < min || n > max) {
		printf("error: '%s' is not a number from %ld to %ld\n", s, min, max);
		exit(2);
	}
	return n;
}

/* Fill ss from a numeric address and port; returns the address length. */
static socklen_t sockaddr_make(const char *addr, unsigned port, struct sockaddr_storage *ss)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof *ss);
	if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		return sizeof *s4;
	}
	if (inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		return sizeof *s6;
	}
	printf("error: '%s' is not an IPv4 or IPv6 address\n", addr);
	exit(2);
}

static _Noreturn void do_listen(int argc, char **argv)
{
	struct pollfd pfd[MAX_PORTS];
	int n = 0, one = 1;

	if (argc < 2 || argc - 1 > MAX_PORTS)
		usage();
	for (int i = 1; i < argc; i++) {
		struct sockaddr_storage ss;
		socklen_t len = sockaddr_make(argv[0], (unsigned)number(argv[i], 1, 65535), &ss);
		int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

		if (fd < 0)
			die("socket", NULL);
		if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0)
			die("SO_REUSEADDR", NULL);
		if (ss.ss_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) < 0)
			die("IPV6_V6ONLY", NULL);
		if (bind(fd, (struct sockaddr *)&ss, len) < 0)
			die("bind", argv[i]);
		if (listen(fd, 128) < 0)
			die("listen", argv[i]);
		pfd[n++] = (struct pollfd){ .fd = fd, .events = POLLIN };
	}
	printf("listening\n");
	fflush(stdout);
	for (;;) {
		if (poll(pfd, (nfds_t)n, -1) < 0) {
			if (errno == EINTR)
				continue;
			die("poll", NULL);
		}
		for (int i = 0; i < n; i++) {
			int c;
			if (!(pfd[i].revents & POLLIN))
				continue;
			while ((c = accept4(pfd[i].fd, NULL, NULL, SOCK_CLOEXEC)) >= 0)
				close(c);
		}
	}
}

static int do_connect(int argc, char **argv)
{
	struct sockaddr_storage src, dst;
	socklen_t slen, dlen;
	struct pollfd pfd;
	int fd, err = 0, rc;
	socklen_t errlen = sizeof err;
	long timeout;

	if (argc != 4)
		usage();
	slen = sockaddr_make(argv[0], 0, &src);
	dlen = sockaddr_make(argv[1], (unsigned)number(argv[2], 1, 65535), &dst);
	timeout = number(argv[3], 1, 600000);
	if (src.ss_family != dst.ss_family) {
		printf("error: %s and %s are not of the same family\n", argv[0], argv[1]);
		return 2;
	}
	fd = socket(dst.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		die("socket", NULL);
	if (bind(fd, (struct sockaddr *)&src, slen) < 0)
		die("bind", argv[0]);
	if (connect(fd, (struct sockaddr *)&dst, dlen) < 0) {
		if (errno != EINPROGRESS) {
			err = errno;
			goto result;
		}
		pfd = (struct pollfd){ .fd = fd, .events = POLLOUT };
		do
			rc = poll(&pfd, 1, (int)timeout);
		while (rc < 0 && errno == EINTR);
		if (rc < 0)
			die("poll", NULL);
		if (rc == 0) {
			printf("timeout\n");
			return 1;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &errlen) < 0)
			die("SO_ERROR", NULL);
	}
result:
	close(fd);
	if (err == 0) {
		printf("connected\n");
		return 0;
	}
	if (err == ECONNREFUSED) {
		printf("refused\n");
		return 1;
	}
	if (err == ETIMEDOUT) {
		printf("timeout\n");
		return 1;
	}
	printf("error: connect %s -> %s port %s: %s\n", argv[0], argv[1], argv[2], strerror(err));
	return 2;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		usage();
	if (strcmp(argv[1], "listen") == 0)
		do_listen(argc - 2, argv + 2);
	if (strcmp(argv[1], "connect") == 0)
		return do_connect(argc - 2, argv + 2);
	usage();
}
