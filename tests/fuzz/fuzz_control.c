// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * fuzz_control - the control socket's request parser, driven through the
 * real server (control_open in the real loop) over a real UNIX socket, as
 * a client would: connect, send the request, close the sending side, read
 * the reply to the end.
 *
 * Input: the first byte is how the request is cut into writes (0: one
 * write; N: writes of N bytes, the loop turning between them, so that the
 * server's incremental scan meets every split); the rest is the request.
 *
 * The verdict is checked against a model of PROTOCOL in control.h: words
 * each ended by a NUL, an empty word ends the request, the command word of
 * a-z 0-9 '-' (1 to 64 bytes), no control character in any word (C0, DEL,
 * C1 in UTF-8), at most CONTROL_MAX_WORDS words and CONTROL_MAX_REQUEST
 * bytes. A request is handed to the handler (which checks that no word
 * holds a control character, and echoes the words it got, so they are
 * compared byte for byte) or refused as malformed, as holding a control
 * character (with the word's name, the character and its position), or as
 * too large; a connection that sends nothing gets no reply. The reply is one line, then the body, then end of file; the
 * server never times out (it always sees the end of the request), and it
 * has closed the connection when the client sees end of file.
 */
#include "fuzz.h"

#include "control.h"
#include "log.h"
#include "loop.h"

#include <errno.h>
#include <stdbool.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>

#define FAILSAFE_MS 20000
#define REPLY_MAX (CONTROL_MAX_REQUEST + 1024)

enum verdict { V_DISPATCH, V_MALFORMED, V_CONTROL, V_TOO_LARGE, V_PROBE };

static struct loop *L;
static struct control *C;
static char sockpath[128];

/* the exchange in progress */
static struct client {
	int fd;
	const char *req;
	size_t len, sent, chunk;
	bool shut, done, timed_out;
	size_t rlen;
	char reply[REPLY_MAX];
} cl;

static void handler(void *arg, int argc, char **argv, struct ctl_reply *r)
{
	(void)arg;
	FUZZ_ASSERT(argc >= 1 && argc <= CONTROL_MAX_WORDS && argv[argc] == NULL, "argc %d", argc);
	for (int i = 0; i < argc; i++)
		for (const unsigned char *p = (const unsigned char *)argv[i]; *p; p++)
			FUZZ_ASSERT(*p >= 0x20 && *p != 0x7f && !(*p == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f),
				    "word %d holds a control character", i);
	if (strcmp(argv[0], "fail") == 0)
		ctl_error(r, "failed: %s", argc > 1 ? argv[1] : "no reason");
	ctl_printf(r, "%d\n", argc);
	for (int i = 0; i < argc; i++) {
		FUZZ_ASSERT(argv[i][0] != '\0', "empty word %d", i);
		ctl_write(r, argv[i], strlen(argv[i]) + 1);
	}
}

/* The model: what the server must answer to req[0..len). For V_CONTROL,
 * *end is the offset of the control character's first byte, *word the
 * start of its word and *nword the word's number. */
static enum verdict model(const char *req, size_t len, size_t *end, size_t *word, size_t *nword)
{
	size_t wstart = 0, nwords = 0, n = len < CONTROL_MAX_REQUEST ? len : CONTROL_MAX_REQUEST;

	for (size_t i = 0; i < n; i++) {
		char ch = req[i];
		unsigned char u = (unsigned char)ch;
		if (ch == '\0') {
			if (i == 0)
				return V_MALFORMED;     /* no command word */
			if (i == wstart) {
				*end = i;
				return V_DISPATCH;
			}
			if (++nwords > CONTROL_MAX_WORDS)
				return V_TOO_LARGE;
			wstart = i + 1;
		} else if (nwords == 0 && (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-') ||
					    i - wstart >= 64)) {
			return V_MALFORMED;
		} else if (u < 0x20 || u == 0x7f ||
			   (u >= 0x80 && u <= 0x9f && i > wstart && (unsigned char)req[i - 1] == 0xc2)) {
			*end = u >= 0x80 ? i - 1 : i;
			*word = wstart;
			*nword = nwords;
			return V_CONTROL;
		}
	}
	if (len >= CONTROL_MAX_REQUEST)
		return V_TOO_LARGE;
	return len ? V_MALFORMED : V_PROBE;
}

static void send_some(void)
{
	while (!cl.shut && cl.sent < cl.len) {
		size_t n = cl.len - cl.sent;
		ssize_t w;

		if (cl.chunk && n > cl.chunk)
			n = cl.chunk;
		w = send(cl.fd, cl.req + cl.sent, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (w < 0) {            /* the server refused and closed */
			cl.shut = true;
			return;
		}
		cl.sent += (size_t)w;
		if (cl.chunk)
			return;         /* one piece per loop turn */
	}
	if (!cl.shut) {
		shutdown(cl.fd, SHUT_WR);
		cl.shut = true;
	}
}

static void on_idle(struct loop *l, void *arg)
{
	(void)l;
	(void)arg;
	if (cl.fd >= 0 && !cl.done)
		send_some();
}

static void on_reply(struct loop *l, int fd, uint32_t events, void *arg)
{
	(void)events;
	(void)arg;
	for (;;) {
		char buf[4096];
		ssize_t n = read(fd, buf, sizeof buf);
		if (n > 0) {
			FUZZ_ASSERT(cl.rlen + (size_t)n <= sizeof cl.reply, "reply longer than %zu bytes", sizeof cl.reply);
			memcpy(cl.reply + cl.rlen, buf, (size_t)n);
			cl.rlen += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		/* end of file, or a reset after the reply (the server did not
		 * read the rest of a refused request) */
		FUZZ_ASSERT(n == 0 || errno == ECONNRESET, "read: %s", strerror(errno));
		cl.done = true;
		loop_stop(l);
		return;
	}
}

static void failsafe(struct loop *l, void *arg)
{
	(void)arg;
	cl.timed_out = true;
	loop_stop(l);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[512];

	(void)argc;
	(void)argv;
	log_init("fuzz_control", LOG_LVL_WARN);
	L = loop_new();
	snprintf(sockpath, sizeof sockpath, "%s/control", fuzz_tmpdir());
	C = control_open(L, sockpath, NULL, 1, handler, NULL, err, sizeof err);
	if (!C) {
		fprintf(stderr, "fuzz_control: %s\n", err);
		exit(2);
	}
	loop_on_idle(L, on_idle, NULL);
	return 0;
}

static bool line_clean(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct control_stats before, after;
	enum verdict v;
	size_t end = 0, word = 0, nword = 0, hl;
	uint64_t timer;
	char *nl;

	if (size < 1)
		return 0;
	memset(&cl, 0, offsetof(struct client, reply));
	cl.chunk = data[0];
	cl.req = (const char *)data + 1;
	cl.len = size - 1;
	v = model(cl.req, cl.len, &end, &word, &nword);
	control_get_stats(C, &before);

	cl.fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	FUZZ_ASSERT(cl.fd >= 0, "socket: %s", strerror(errno));
	memcpy(sa.sun_path, sockpath, strlen(sockpath) + 1);
	FUZZ_ASSERT(connect(cl.fd, (struct sockaddr *)&sa, sizeof sa) == 0, "connect: %s", strerror(errno));
	FUZZ_ASSERT(loop_add_fd(L, cl.fd, EPOLLIN, on_reply, NULL) == 0, "epoll: %s", strerror(errno));
	send_some();
	timer = loop_add_timer(L, FAILSAFE_MS, failsafe, NULL);
	loop_run(L);
	FUZZ_ASSERT(!cl.timed_out, "no end of the reply within %d ms", FAILSAFE_MS);
	loop_cancel_timer(L, timer);
	loop_del_fd(L, cl.fd);
	close(cl.fd);
	cl.fd = -1;
	control_get_stats(C, &after);

	FUZZ_ASSERT(after.clients == 0, "the server still holds %u connections", after.clients);
	FUZZ_ASSERT(after.timeouts == before.timeouts, "the server timed out waiting for the request");
	FUZZ_ASSERT((after.requests - before.requests == 1) == (v == V_DISPATCH), "requests %llu -> %llu, verdict %d",
		    (unsigned long long)before.requests, (unsigned long long)after.requests, (int)v);
	if (v == V_PROBE) {
		FUZZ_ASSERT(cl.rlen == 0, "a reply to an empty connection");
		return 0;
	}
	nl = memchr(cl.reply, '\n', cl.rlen);
	FUZZ_ASSERT(nl, "no reply line (%zu bytes)", cl.rlen);
	hl = (size_t)(nl - cl.reply);
	FUZZ_ASSERT(line_clean(cl.reply, hl), "control characters in the reply line");
	switch (v) {
	case V_DISPATCH: {
		char head[32];
		int argc = 0, n;
		bool fail = end >= 5 && memcmp(cl.req, "fail", 5) == 0;
		for (size_t i = 0; i < end; i++)
			argc += cl.req[i] == '\0';
		if (fail)
			FUZZ_ASSERT(hl >= 7 && memcmp(cl.reply, "error: ", 7) == 0 && hl < 7 + CONTROL_MSG_MAX,
				    "reply line '%.*s' to fail", (int)hl, cl.reply);
		else
			FUZZ_ASSERT(hl == 2 && memcmp(cl.reply, "ok", 2) == 0, "reply line '%.*s'", (int)hl, cl.reply);
		n = snprintf(head, sizeof head, "%d\n", argc);
		FUZZ_ASSERT(cl.rlen == hl + 1 + (size_t)n + end && memcmp(nl + 1, head, (size_t)n) == 0 &&
			    memcmp(nl + 1 + n, cl.req, end) == 0, "the handler got other words than were sent");
		break;
	}
	case V_MALFORMED: {
		static const char mal[] = "error: malformed request (";
		FUZZ_ASSERT(hl > sizeof mal - 1 && memcmp(cl.reply, mal, sizeof mal - 1) == 0 && cl.rlen == hl + 1,
			    "reply '%.*s' to a malformed request", (int)hl, cl.reply);
		FUZZ_ASSERT(after.malformed == before.malformed + 1, "malformed not counted");
		break;
	}
	case V_CONTROL: {
		/* named by the option before it ("--" and a-z 0-9 '-', 3 to 32
		 * bytes) or by number; the character by code and position */
		char what[64], want[160];
		size_t ps = word - 1, pl;
		unsigned char u = (unsigned char)cl.req[end];
		bool opt;
		while (ps > 0 && cl.req[ps - 1] != '\0')
			ps--;
		pl = word - 1 - ps;
		opt = nword >= 2 && pl > 2 && pl <= 32 && memcmp(cl.req + ps, "--", 2) == 0;
		for (size_t i = ps + 2; opt && i < word - 1; i++) {
			char ch = cl.req[i];
			opt = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-';
		}
		if (opt)
			snprintf(what, sizeof what, "%.*s", (int)pl, cl.req + ps);
		else
			snprintf(what, sizeof what, "argument %zu", nword);
		if (u == 0xc2)
			snprintf(want, sizeof want, "error: %s contains a control character (U+%04X at position %zu)\n",
				 what, (unsigned char)cl.req[end + 1], end - word + 1);
		else
			snprintf(want, sizeof want, "error: %s contains a control character (byte 0x%02x at position "
				 "%zu)\n", what, u, end - word + 1);
		FUZZ_ASSERT(cl.rlen == hl + 1 && strlen(want) == cl.rlen && memcmp(cl.reply, want, cl.rlen) == 0,
			    "reply '%.*s' to a control character, expected '%s'", (int)hl, cl.reply, want);
		FUZZ_ASSERT(after.malformed == before.malformed + 1, "control character not counted as malformed");
		break;
	}
	case V_TOO_LARGE:
		FUZZ_ASSERT(cl.rlen == hl + 1 && strncmp(cl.reply, "error: request too large\n", cl.rlen) == 0,
			    "reply '%.*s' to a request too large", (int)hl, cl.reply);
		FUZZ_ASSERT(after.oversized == before.oversized + 1, "too large not counted");
		break;
	case V_PROBE:
		break;
	}
	return 0;
}
