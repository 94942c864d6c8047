// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tcpprobe - the TCP ends of the network namespace tests.
 *
 *   tcpprobe listen ADDR PORT...
 *	Listen on ADDR at every PORT; print "listening" once all are bound,
 *	then accept and close connections until killed.
 *
 *   tcpprobe keep ADDR PORT...
 *	Like listen, but keeps every accepted connection open (reading and
 *	discarding what arrives) until the client closes it or it is
 *	destroyed: the server end of an established session.
 *
 *   tcpprobe connect SRCADDR DSTADDR PORT TIMEOUT_MS
 *	Connect from SRCADDR (any port) to DSTADDR:PORT, waiting at most
 *	TIMEOUT_MS. Prints one word and exits:
 *	  connected   0  the handshake completed
 *	  refused     1  a RST came back (nothing listens)
 *	  timeout     1  no answer in time: the SYN (or SYN-ACK) was dropped
 *	  error: ...  2  bad usage or anything else (no route, bad address)
 *
 *   tcpprobe hold SRCADDR DSTADDR PORT SECONDS
 *	Connect as connect does (3 s at most; same words on failure), print
 *	"connected", then hold the connection for SECONDS, sending one byte
 *	every 200 ms (so a dropped connection keeps sending packets). Prints
 *	one more word and exits:
 *	  closed      0  the server closed the connection (FIN)
 *	  reset       0  the server reset it (RST, e.g. its socket was destroyed)
 *	  open        1  still open after SECONDS
 *
 *   tcpprobe send SRCADDR DSTADDR PORT SECONDS < BYTES
 *	Connect as connect does (3 s at most), print "connected", send the
 *	bytes on standard input (none: an idle client), never ending the
 *	sending side, then print what the server sends until it closes the
 *	connection, and one more line: "closed after N ms" or "reset after N
 *	ms" (counted from the connection), exit 0; or "open" if it is still
 *	open after SECONDS, exit 1.
 *
 *   tcpprobe ctl SOCKET WORD...
 *	Send WORD... as one raw control request (each word NUL-terminated,
 *	then an empty word) to the UNIX socket SOCKET and print the reply as
 *	it comes: the daemon's own answer, with no command-line checks in
 *	between. Exit 0 if the reply starts with "ok", 1 otherwise.
 *
 *   tcpprobe ctlraw SOCKET
 *	Send the bytes on standard input, exactly as they are (NULs, line
 *	breaks, anything), as the request, then end the sending side; print
 *	the reply and exit as ctl does. For requests no command line could
 *	send: a NUL inside a word, a request cut short.
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
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define MAX_PORTS 64
#define MAX_CONNS 256

static _Noreturn void usage(void)
{
	fprintf(stderr,
		"usage: tcpprobe listen ADDR PORT...\n"
		"       tcpprobe keep ADDR PORT...\n"
		"       tcpprobe connect SRCADDR DSTADDR PORT TIMEOUT_MS\n"
		"       tcpprobe hold SRCADDR DSTADDR PORT SECONDS\n"
		"       tcpprobe send SRCADDR DSTADDR PORT SECONDS < BYTES\n"
		"       tcpprobe ctl SOCKET WORD...\n"
		"       tcpprobe ctlraw SOCKET < REQUEST\n"
		"       tcpprobe notify SOCKET\n");
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

static _Noreturn void do_listen(int argc, char **argv, int keep)
{
	struct pollfd pfd[MAX_PORTS + MAX_CONNS];
	int n = 0, nlisten, one = 1;

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
	nlisten = n;
	printf("listening\n");
	fflush(stdout);
	for (;;) {
		if (poll(pfd, (nfds_t)n, -1) < 0) {
			if (errno == EINTR)
				continue;
			die("poll", NULL);
		}
		for (int i = 0; i < nlisten; i++) {
			int c;
			if (!(pfd[i].revents & POLLIN))
				continue;
			while ((c = accept4(pfd[i].fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK)) >= 0) {
				if (keep && n < MAX_PORTS + MAX_CONNS)
					pfd[n++] = (struct pollfd){ .fd = c, .events = POLLIN };
				else
					close(c);
			}
		}
		/* kept connections: discard data, close at EOF or error */
		for (int i = nlisten; i < n; i++) {
			char buf[512];
			ssize_t r;
			if (!pfd[i].revents)
				continue;
			while ((r = read(pfd[i].fd, buf, sizeof buf)) > 0)
				;
			if (r == 0 || (r < 0 && errno != EAGAIN && errno != EINTR) ||
			    (pfd[i].revents & (POLLERR | POLLHUP | POLLNVAL))) {
				close(pfd[i].fd);
				pfd[i--] = pfd[--n];
			}
		}
	}
}

/* Connect from argv[0] to argv[1] port argv[2] within timeout ms. Returns
 * the connected socket; otherwise prints the word and exits. */
static int open_connection(char **argv, long timeout)
{
	struct sockaddr_storage src, dst;
	socklen_t slen, dlen;
	struct pollfd pfd;
	int fd, err = 0, rc;
	socklen_t errlen = sizeof err;

	slen = sockaddr_make(argv[0], 0, &src);
	dlen = sockaddr_make(argv[1], (unsigned)number(argv[2], 1, 65535), &dst);
	if (src.ss_family != dst.ss_family) {
		printf("error: %s and %s are not of the same family\n", argv[0], argv[1]);
		exit(2);
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
			exit(1);
		}
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &errlen) < 0)
			die("SO_ERROR", NULL);
	}
result:
	if (err == 0) {
		printf("connected\n");
		fflush(stdout);
		return fd;
	}
	if (err == ECONNREFUSED) {
		printf("refused\n");
		exit(1);
	}
	if (err == ETIMEDOUT) {
		printf("timeout\n");
		exit(1);
	}
	printf("error: connect %s -> %s port %s: %s\n", argv[0], argv[1], argv[2], strerror(err));
	exit(2);
}

static int do_connect(int argc, char **argv)
{
	if (argc != 4)
		usage();
	close(open_connection(argv, number(argv[3], 1, 600000)));
	return 0;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int do_hold(int argc, char **argv)
{
	long long end;
	int fd;

	if (argc != 4)
		usage();
	end = now_ms() + number(argv[3], 1, 3600) * 1000;
	fd = open_connection(argv, 3000);
	for (long long t; (t = now_ms()) < end;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		long long wait = end - t < 200 ? end - t : 200;
		char buf[512];
		ssize_t r;
		int rc = poll(&pfd, 1, (int)wait);

		if (rc < 0 && errno != EINTR)
			die("poll", NULL);
		if (rc > 0) {
			r = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
			if (r == 0) {
				printf("closed\n");
				return 0;
			}
			if (r < 0 && (errno == ECONNRESET || errno == ECONNABORTED || errno == EPIPE)) {
				printf("reset\n");
				return 0;
			}
			if (r < 0 && errno != EAGAIN && errno != EINTR)
				die("recv", NULL);
			continue;       /* data from the server: ignored */
		}
		if (rc == 0 && send(fd, ".", 1, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
			if (errno == ECONNRESET || errno == ECONNABORTED || errno == EPIPE) {
				printf("reset\n");
				return 0;
			}
			if (errno != EAGAIN)
				die("send", NULL);
		}
	}
	printf("open\n");
	return 1;
}

static int do_send(int argc, char **argv)
{
	long long start, end;
	char buf[4096];
	ssize_t r;
	int fd;

	if (argc != 4)
		usage();
	fd = open_connection(argv, 3000);
	start = now_ms();
	end = start + number(argv[3], 1, 3600) * 1000;
	while ((r = read(0, buf, sizeof buf)) > 0)
		for (ssize_t off = 0; off < r;) {
			ssize_t w = send(fd, buf + off, (size_t)(r - off), MSG_NOSIGNAL);
			if (w < 0) {
				if (errno == EINTR)
					continue;
				if (errno == ECONNRESET || errno == EPIPE)
					goto replies;   /* the server stopped reading: its answer may be there */
				die("send", NULL);
			}
			off += w;
		}
replies:
	fcntl(fd, F_SETFL, O_NONBLOCK);
	for (long long t; (t = now_ms()) < end;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int rc = poll(&pfd, 1, (int)(end - t));
		if (rc < 0 && errno != EINTR)
			die("poll", NULL);
		if (rc <= 0)
			continue;
		r = recv(fd, buf, sizeof buf, 0);
		if (r > 0) {
			fwrite(buf, 1, (size_t)r, stdout);
			continue;
		}
		if (r == 0 || errno == ECONNRESET) {
			printf("%s after %lld ms\n", r == 0 ? "closed" : "reset", now_ms() - start);
			return 0;
		}
		if (errno != EAGAIN && errno != EINTR)
			die("recv", NULL);
	}
	printf("open\n");
	return 1;
}

/* Send req[0..len) to the control socket at path, end the sending side
 * if shut, and print the reply; 0 if it starts with "ok". A server that
 * refuses early closes before reading everything: the reply still
 * counts. */
static int ctl_exchange(const char *path, const char *req, size_t len, int shut)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char buf[4096];
	size_t got = 0;
	ssize_t r;
	int fd, ok = 0;

	if (strlen(path) >= sizeof sun.sun_path)
		usage();
	strcpy(sun.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket", NULL);
	if (connect(fd, (struct sockaddr *)&sun, sizeof sun) < 0)
		die("connect", path);
	for (size_t off = 0; off < len; off += (size_t)r)
		if ((r = send(fd, req + off, len - off, MSG_NOSIGNAL)) < 0) {
			if (errno == EPIPE || errno == ECONNRESET)
				break;
			die("write", path);
		}
	if (shut)
		shutdown(fd, SHUT_WR);
	while ((r = read(fd, buf, sizeof buf)) > 0) {
		if (!got)
			ok = r >= 2 && strncmp(buf, "ok", 2) == 0;
		got += (size_t)r;
		fwrite(buf, 1, (size_t)r, stdout);
	}
	if (r < 0 && !(errno == ECONNRESET && got))
		die("read", path);
	return ok ? 0 : 1;
}

static int do_ctl(int argc, char **argv)
{
	static char req[65536];
	size_t len = 0;

	if (argc < 2)
		usage();
	for (int i = 1; i < argc; i++) {
		size_t n = strlen(argv[i]) + 1;
		if (len + n + 1 > sizeof req) {
			printf("error: request too long\n");
			return 2;
		}
		memcpy(req + len, argv[i], n);
		len += n;
	}
	req[len++] = '\0';
	return ctl_exchange(argv[0], req, len, 0);
}

static int do_ctlraw(int argc, char **argv)
{
	static char req[65536 + 1];
	size_t len = 0;
	ssize_t r;

	if (argc != 1)
		usage();
	while (len < sizeof req && (r = read(0, req + len, sizeof req - len)) != 0) {
		if (r < 0)
			die("read", "standard input");
		len += (size_t)r;
	}
	return ctl_exchange(argv[0], req, len, 1);
}

/* notify SOCKET: be systemd's notification socket (a datagram socket at
 * SOCKET) and print each message on one line, its fields joined by " | ",
 * flushed at once, until killed. */
static int do_notify(int argc, char **argv)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char buf[4096];
	int fd;

	if (argc != 1 || strlen(argv[0]) >= sizeof sa.sun_path)
		usage();
	strcpy(sa.sun_path, argv[0]);
	unlink(argv[0]);
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) < 0 ||
	    bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
		die("notify socket", argv[0]);
	chmod(argv[0], 0666);
	printf("listening\n");
	fflush(stdout);
	for (;;) {
		ssize_t n = recv(fd, buf, sizeof buf - 1, 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("recv", NULL);
		}
		while (n > 0 && buf[n - 1] == '\n')
			n--;
		for (ssize_t i = 0; i < n; i++)
			if (buf[i] == '\n')
				fputs(" | ", stdout);
			else
				putchar(buf[i]);
		putchar('\n');
		fflush(stdout);
	}
}

int main(int argc, char **argv)
{
	if (argc < 2)
		usage();
	if (strcmp(argv[1], "listen") == 0)
		do_listen(argc - 2, argv + 2, 0);
	if (strcmp(argv[1], "keep") == 0)
		do_listen(argc - 2, argv + 2, 1);
	if (strcmp(argv[1], "send") == 0)
		return do_send(argc - 2, argv + 2);
	if (strcmp(argv[1], "connect") == 0)
		return do_connect(argc - 2, argv + 2);
	if (strcmp(argv[1], "hold") == 0)
		return do_hold(argc - 2, argv + 2);
	if (strcmp(argv[1], "ctl") == 0)
		return do_ctl(argc - 2, argv + 2);
	if (strcmp(argv[1], "ctlraw") == 0)
		return do_ctlraw(argc - 2, argv + 2);
	if (strcmp(argv[1], "notify") == 0)
		return do_notify(argc - 2, argv + 2);
	usage();
}
