// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * ctltime - how long the daemon keeps a control client waiting.
 *
 *   ctltime SOCKET STOPFILE [GAP_MS]
 *
 * Sends a "status" request to the control socket SOCKET (the raw request:
 * each word NUL-terminated, then an empty word), reads the whole answer
 * (until the daemon closes the connection), and prints the time from
 * connect() to that end in microseconds and when it was sent (wall clock,
 * microseconds since the epoch), one line per request; then waits
 * GAP_MS (default 5) and does it again, until STOPFILE exists. A request
 * the daemon does not answer with "ok" prints "error" and its first bytes.
 *
 * Plain C, no project code: it measures the daemon, not the command-line
 * client's start-up. Part of the spray benchmark (spray.sh).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static long long now_us(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int main(int argc, char **argv)
{
	static const char req[] = "status\0";   /* "status", NUL, then the empty word's NUL */
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	long gap_ms = argc > 3 ? atol(argv[3]) : 5;

	if (argc < 3 || strlen(argv[1]) >= sizeof sun.sun_path) {
		fprintf(stderr, "usage: ctltime SOCKET STOPFILE [GAP_MS]\n");
		return 2;
	}
	strcpy(sun.sun_path, argv[1]);
	setvbuf(stdout, NULL, _IOLBF, 0);
	while (access(argv[2], F_OK) != 0) {
		char buf[65536], head[64] = "";
		struct timespec gap = { gap_ms / 1000, (gap_ms % 1000) * 1000000 };
		long long t0 = now_us(CLOCK_MONOTONIC), wall = now_us(CLOCK_REALTIME);
		size_t got = 0;
		ssize_t r;
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (fd < 0) {
			perror("socket");
			return 1;
		}
		if (connect(fd, (struct sockaddr *)&sun, sizeof sun) < 0) {
			printf("error connect: %s\n", strerror(errno));
			close(fd);
			nanosleep(&gap, NULL);
			continue;
		}
		if (write(fd, req, sizeof req) != (ssize_t)sizeof req) {
			printf("error write: %s\n", strerror(errno));
			close(fd);
			continue;
		}
		while ((r = read(fd, buf, sizeof buf)) > 0) {
			if (got < sizeof head - 1) {
				size_t k = (size_t)r < sizeof head - 1 - got ? (size_t)r : sizeof head - 1 - got;
				memcpy(head + got, buf, k);
				head[got + k] = '\0';
			}
			got += (size_t)r;
		}
		close(fd);
		if (r < 0 || strncmp(head, "ok", 2) != 0) {
			for (char *p = head; *p; p++)
				if (*p < ' ')
					*p = ' ';
			printf("error reply: %s\n", r < 0 ? strerror(errno) : head);
		} else {
			printf("%lld %lld\n", now_us(CLOCK_MONOTONIC) - t0, wall);
		}
		nanosleep(&gap, NULL);
	}
	return 0;
}
