// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests for control.c: a real server in the real loop with a
 * stand-in handler (echo the words, a 5 MB body, an error), and real
 * clients: control_call() or a raw socket in a forked child (which may
 * drop to another uid first), or a raw non-blocking socket of this
 * process that the loop watches. A test waits for an event (the child's
 * result pipe reaching end of file, a reply arriving, a counter
 * changing); a fail-safe timer stops the loop and fails the test. The
 * command line (cmd_ctl) runs in a child too, against the same server.
 * Nothing sleeps. The tests of other users' access need root; they pass
 * trivially without it.
 */
#include "cmd.h"
#include "control.h"
#include "log.h"
#include "loop.h"
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

#define BIG_BODY (5u * 1024 * 1024)
#define FAILSAFE_MS 20000

static struct loop *L;
static bool timed_out;

/* ---- the stand-in handler ---- */

static void handler(void *arg, int argc, char **argv, struct ctl_reply *r)
{
	int *calls = arg;

	(*calls)++;
	if (strcmp(argv[0], "echo") == 0) {
		for (int i = 1; i < argc; i++)
			ctl_printf(r, "%s\n", argv[i]);
	} else if (strcmp(argv[0], "whoami") == 0) {
		ctl_printf(r, "uid %d\n", (int)r->peer_uid);
	} else if (strcmp(argv[0], "big") == 0) {
		for (unsigned i = 0; i < BIG_BODY / 16; i++)
			ctl_printf(r, "%015u\n", i);
	} else if (strcmp(argv[0], "unblock") == 0) {
		ctl_error(r, "%s is not blocked", argv[1]);
	} else if (strcmp(argv[0], "block") == 0 || strcmp(argv[0], "list") == 0 ||
		   strcmp(argv[0], "block-account") == 0 || strcmp(argv[0], "reset") == 0 ||
		   strcmp(argv[0], "pause") == 0) {
		/* what the command line sent, word by word */
		for (int i = 0; i < argc; i++)
			ctl_printf(r, "%s%s", i ? "|" : "", argv[i]);
		ctl_printf(r, "\n");
	} else if (strcmp(argv[0], "fail") == 0) {
		ctl_error(r, "it failed: %s", argc > 1 ? argv[1] : "for no reason");
		ctl_printf(r, "partial\n");
	} else if (strcmp(argv[0], "hostile") == 0) {
		/* a message quoting what no word can carry, as an error about a
		 * file or a name from a log might */
		ctl_error(r, "it said: two\nlines\r\033[2J\177 \xc2\x9b \xe9 caf\xc3\xa9 \\x0a");
	} else {
		ctl_error(r, "unknown command '%s'", argv[0]);
	}
}

/* ---- waiting ---- */

static void failsafe(struct loop *l, void *arg)
{
	(void)arg;
	timed_out = true;
	loop_stop(l);
}

/* Run the loop until *flag is set (by a callback that also stops it). */
static void run_until(const bool *flag)
{
	uint64_t id;

	timed_out = false;
	id = loop_add_timer(L, FAILSAFE_MS, failsafe, NULL);
	while (!*flag && !timed_out)
		loop_run(L);
	loop_cancel_timer(L, id);
	ck_assert_msg(!timed_out, "timed out waiting for an event");
}

/* Run the loop until a control counter satisfies pred. The check runs
 * once per loop turn (a 1 ms timer), not a sleep: events drive it. */
static struct control *wait_c;
static bool (*wait_pred)(const struct control_stats *);
static bool wait_done;

static void wait_tick(struct loop *l, void *arg)
{
	struct control_stats st;

	(void)arg;
	control_get_stats(wait_c, &st);
	if (wait_pred(&st)) {
		wait_done = true;
		loop_stop(l);
		return;
	}
	loop_add_timer(l, 1, wait_tick, NULL);
}

static void wait_stats(struct control *c, bool (*pred)(const struct control_stats *))
{
	wait_c = c;
	wait_pred = pred;
	wait_done = false;
	loop_add_timer(L, 0, wait_tick, NULL);
	run_until(&wait_done);
}

/* ---- servers ---- */

static int calls;

static const char *sock_path(const char *name)
{
	static char path[sizeof ut_dir + 64];

	snprintf(path, sizeof path, "%s/%s/control", ut_dir, name);
	return path;
}

static struct control *start(const char *name, const char *group, unsigned max)
{
	char err[512];
	struct control *c;

	/* other uids must reach the socket through the test directory */
	ck_assert_int_eq(chmod(ut_dir, 0755), 0);
	c = control_open(L, sock_path(name), group, max, handler, &calls, err, sizeof err);
	ck_assert_msg(c != NULL, "control_open: %s", err);
	return c;
}

/* ---- children: control_call or raw bytes, maybe as another user ---- */

struct who {
	uid_t uid;
	gid_t gid;
	int ngroups;
	gid_t groups[4];
};

struct call_job {
	const char *path;
	int argc;
	char **argv;
	const struct who *who;
	/* cli mode: cmd_ctl(argc, argv), stdout and stderr to files */
	bool cli;
	/* raw mode: these bytes instead of control_call */
	const char *raw;
	size_t rawlen;
	bool shut;      /* shutdown(SHUT_WR) after sending */
};

static void become(const struct who *w)
{
	if (!w)
		return;
	if (setgroups((size_t)w->ngroups, w->groups) < 0 || setgid(w->gid) < 0 || setuid(w->uid) < 0) {
		perror("become");
		_exit(3);
	}
}

static void write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			_exit(4);
		p += n;
		len -= (size_t)n;
	}
}

/* In the child: one call; the result goes to out as text:
 * "rc=0 error=E\nMSG\n" + body, or "rc=-1\nERR\n". */
static void child_call(const struct call_job *j, int out)
{
	struct ctl_reply r;
	char err[512], head[1024];
	int rc;

	become(j->who);
	rc = control_call(j->path, j->argc, j->argv, &r, err, sizeof err);
	if (rc < 0) {
		snprintf(head, sizeof head, "rc=-1\n%s\n", err);
		write_all(out, head, strlen(head));
		return;
	}
	snprintf(head, sizeof head, "rc=0 error=%d\n%s\n", r.error, r.msg);
	write_all(out, head, strlen(head));
	write_all(out, r.body ? r.body : "", r.len);
	ctl_reply_release(&r);
}

/* In the child: send raw bytes, read whatever comes back until the end. */
static void child_raw(const struct call_job *j, int out)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char buf[4096];
	size_t off = 0;
	int fd;

	become(j->who);
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", j->path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
		_exit(5);
	while (off < j->rawlen) {
		ssize_t n = send(fd, j->raw + off, j->rawlen - off, MSG_NOSIGNAL);
		if (n < 0)
			break;          /* refused early: the reply is waiting */
		off += (size_t)n;
	}
	if (j->shut)
		shutdown(fd, SHUT_WR);
	for (;;) {
		ssize_t n = read(fd, buf, sizeof buf);
		if (n <= 0)
			break;
		write_all(out, buf, (size_t)n);
	}
}

/* In the child: the command line's own code; reports its exit status,
 * with what it printed in cli.out and cli.err of the test directory. */
static void child_cli(const struct call_job *j, int out)
{
	char path[sizeof ut_dir + 16], head[32];
	int rc;

	snprintf(path, sizeof path, "%s/cli.out", ut_dir);
	if (!freopen(path, "w", stdout))
		_exit(6);
	snprintf(path, sizeof path, "%s/cli.err", ut_dir);
	if (!freopen(path, "w", stderr))
		_exit(6);
	rc = cmd_ctl(j->argc, j->argv);
	fflush(stdout);
	fflush(stderr);
	snprintf(head, sizeof head, "exit=%d", rc);
	write_all(out, head, strlen(head));
}

struct pipe_in {
	char *buf;
	size_t len, alloc;
	bool eof;
};

static void on_pipe(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct pipe_in *p = arg;

	(void)events;
	for (;;) {
		ssize_t n;
		if (p->alloc - p->len < 65536) {
			p->alloc = p->alloc ? p->alloc * 2 : 1 << 20;
			p->buf = realloc(p->buf, p->alloc);
			ck_assert_ptr_nonnull(p->buf);
		}
		n = read(fd, p->buf + p->len, p->alloc - p->len - 1);
		if (n > 0) {
			p->len += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EAGAIN)
			return;
		p->eof = true;
		loop_del_fd(l, fd);
		loop_stop(l);
		return;
	}
}

/* Fork a child that runs the job while this process runs the loop (and
 * so the server); returns what the child reported (free it). */
static char *run_job(const struct call_job *j, size_t *lenp)
{
	struct pipe_in in = { 0 };
	int p[2], st;
	pid_t pid;

	ck_assert_int_eq(pipe2(p, O_CLOEXEC), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		/* hold none of the server's descriptors, so closing them in
		 * the parent really closes them */
		if (p[1] != 3) {
			dup2(p[1], 3);
			p[1] = 3;
		}
		close_range(4, ~0U, 0);
		close_range(0, 2, 0) ;
		open("/dev/null", O_RDONLY);
		open("/dev/null", O_WRONLY);
		open("/dev/null", O_WRONLY);
		if (j->cli)
			child_cli(j, p[1]);
		else if (j->raw)
			child_raw(j, p[1]);
		else
			child_call(j, p[1]);
		_exit(0);
	}
	close(p[1]);
	ck_assert_int_eq(fcntl(p[0], F_SETFL, O_NONBLOCK), 0);
	ck_assert_int_eq(loop_add_fd(L, p[0], EPOLLIN, on_pipe, &in), 0);
	run_until(&in.eof);
	close(p[0]);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert_msg(WIFEXITED(st) && WEXITSTATUS(st) == 0, "child failed (status %d)", st);
	if (!in.buf)
		in.buf = malloc(1);
	in.buf[in.len] = '\0';
	if (lenp)
		*lenp = in.len;
	return in.buf;
}

static char *call_as(const char *path, const struct who *who, int argc, char **argv)
{
	struct call_job j = { .path = path, .argc = argc, .argv = argv, .who = who };
	return run_job(&j, NULL);
}

#define CALL(path, ...) call_as(path, NULL, (int)(sizeof (char *[]){ __VA_ARGS__ } / sizeof(char *)), \
				(char *[]){ __VA_ARGS__ })

static char *raw_as(const char *path, const struct who *who, const char *data, size_t len, bool shut)
{
	struct call_job j = { .path = path, .who = who, .raw = data, .rawlen = len, .shut = shut };
	return run_job(&j, NULL);
}

/* ---- raw connections of this process, watched by the loop ---- */

struct raw {
	int fd;
	char buf[512];
	size_t len;
	bool eof;
};

static void on_raw(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct raw *r = arg;

	(void)events;
	for (;;) {
		ssize_t n = read(fd, r->buf + r->len, sizeof r->buf - 1 - r->len);
		if (n > 0) {
			r->len += (size_t)n;
			r->buf[r->len] = '\0';
			continue;
		}
		if (n < 0 && errno == EAGAIN)
			return;
		r->eof = true;
		loop_del_fd(l, fd);
		loop_stop(l);
		return;
	}
}

static void raw_open(struct raw *r, const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };

	memset(r, 0, sizeof *r);
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
	r->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(r->fd, 0);
	ck_assert_int_eq(connect(r->fd, (struct sockaddr *)&sa, sizeof sa), 0);
	ck_assert_int_eq(loop_add_fd(L, r->fd, EPOLLIN, on_raw, r), 0);
}

static void raw_close(struct raw *r)
{
	if (!r->eof)
		loop_del_fd(L, r->fd);
	close(r->fd);
}

static struct control_stats stats(struct control *c)
{
	struct control_stats st;
	control_get_stats(c, &st);
	return st;
}

/* ---- the tests ---- */

START_TEST(request_round_trips_and_socket_is_0600_in_a_new_0755_directory)
{
	struct control *c = start("rt", NULL, 16);
	struct stat st;
	char *out, dir[sizeof ut_dir + 8];

	ck_assert_int_eq(stat(sock_path("rt"), &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));
	ck_assert_int_eq(st.st_mode & 07777, 0600);
	snprintf(dir, sizeof dir, "%s/rt", ut_dir);
	ck_assert_int_eq(stat(dir, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0755);

	out = CALL(sock_path("rt"), "echo", "a", "b c", "--json");
	ck_assert_str_eq(out, "rc=0 error=0\n\na\nb c\n--json\n");
	free(out);
	out = CALL(sock_path("rt"), "whoami");
	ck_assert_str_eq(out, "rc=0 error=0\n\nuid 0\n");
	free(out);
	ck_assert_uint_eq(stats(c).requests, 2);
	control_close(c);
	ck_assert_int_eq(access(sock_path("rt"), F_OK), -1);
}
END_TEST

START_TEST(error_line_is_passed_through_with_its_body)
{
	struct control *c = start("err", NULL, 16);
	char *out;

	out = CALL(sock_path("err"), "fail", "disk full");
	ck_assert_str_eq(out, "rc=0 error=1\nit failed: disk full\npartial\n");
	free(out);
	/* a line break in a message cannot break the protocol, nor an
	 * escape sequence act on a terminal: sent escaped, UTF-8 kept */
	out = CALL(sock_path("err"), "hostile");
	ck_assert_str_eq(out, "rc=0 error=1\nit said: two\\x0alines\\x0d\\x1b[2J\\x7f \\xc2\\x9b \\xe9 caf\xc3\xa9 "
			 "\\x0a\n");
	free(out);
	out = CALL(sock_path("err"), "nosuch");
	ck_assert_str_eq(out, "rc=0 error=1\nunknown command 'nosuch'\n");
	free(out);
	control_close(c);
}
END_TEST

START_TEST(five_megabyte_body_arrives_whole)
{
	struct control *c = start("big", NULL, 16);
	struct call_job j = { .path = sock_path("big"), .argc = 1, .argv = (char *[]){ "big", NULL } };
	const char *head = "rc=0 error=0\n\n";
	size_t len;
	char *out = run_job(&j, &len), line[17];

	ck_assert_uint_eq(len, strlen(head) + BIG_BODY);
	ck_assert(memcmp(out, head, strlen(head)) == 0);
	for (unsigned i = 0; i < BIG_BODY / 16; i++) {
		snprintf(line, sizeof line, "%015u\n", i);
		ck_assert_msg(memcmp(out + strlen(head) + 16 * i, line, 16) == 0, "line %u differs", i);
	}
	free(out);
	control_close(c);
}
END_TEST

START_TEST(oversized_requests_are_refused_and_the_server_goes_on)
{
	struct control *c = start("big-req", NULL, 16);
	const char *path = sock_path("big-req");
	char *req, *out, *argv[CONTROL_MAX_WORDS + 1], err[256];
	struct ctl_reply r;
	size_t n = 0;

	/* too many words */
	req = malloc(16 + 2 * (CONTROL_MAX_WORDS + 1));
	memcpy(req, "echo", 5);
	n = 5;
	for (int i = 0; i < CONTROL_MAX_WORDS; i++) {
		memcpy(req + n, "x", 2);
		n += 2;
	}
	req[n++] = '\0';
	out = raw_as(path, NULL, req, n, false);
	ck_assert_str_eq(out, "error: request too large\n");
	free(out);
	free(req);
	/* too many bytes */
	n = CONTROL_MAX_REQUEST + 4096;
	req = malloc(n);
	memcpy(req, "echo", 5);
	memset(req + 5, 'a', n - 7);
	req[n - 2] = req[n - 1] = '\0';
	out = raw_as(path, NULL, req, n, false);
	ck_assert_str_eq(out, "error: request too large\n");
	free(out);
	free(req);
	ck_assert_uint_eq(stats(c).oversized, 2);
	ck_assert_uint_eq(calls, 0);

	/* exactly the limits are fine */
	for (int i = 0; i < CONTROL_MAX_WORDS; i++)
		argv[i] = "w";
	argv[0] = "echo";
	out = call_as(path, NULL, CONTROL_MAX_WORDS, argv);
	ck_assert(strncmp(out, "rc=0 error=0\n\nw\n", 16) == 0);
	free(out);

	/* the client refuses to send what the server would refuse */
	argv[CONTROL_MAX_WORDS] = "w";
	ck_assert_int_eq(control_call(path, CONTROL_MAX_WORDS + 1, argv, &r, err, sizeof err), -1);
	ck_assert_str_eq(err, "request too large");
	ctl_reply_release(&r);

	out = CALL(path, "echo", "still", "here");
	ck_assert_str_eq(out, "rc=0 error=0\n\nstill\nhere\n");
	free(out);
	control_close(c);
}
END_TEST

START_TEST(malformed_requests_are_refused_and_the_server_goes_on)
{
	struct control *c = start("bad-req", NULL, 16);
	const char *path = sock_path("bad-req");
	static const char cut[] = "echo\0abc";
	static const char http[] = "GET / HTTP/1.0\r\n\r\n";
	char *out;

	/* ends (end of file) before the empty word */
	out = raw_as(path, NULL, cut, sizeof cut - 1, true);
	ck_assert_str_eq(out, "error: malformed request (it ended before the empty word that closes it)\n");
	free(out);
	/* garbage without NULs, the sender waiting for an answer */
	out = raw_as(path, NULL, http, sizeof http - 1, false);
	ck_assert_str_eq(out, "error: malformed request (a request is NUL-terminated words, the first a "
		      "command name)\n");
	free(out);
	ck_assert_uint_eq(stats(c).malformed, 2);
	ck_assert_uint_eq(calls, 0);
	/* a connection that sends nothing and closes is a probe, not an error */
	out = raw_as(path, NULL, "", 0, true);
	ck_assert_str_eq(out, "");
	free(out);
	ck_assert_uint_eq(stats(c).malformed, 2);

	out = CALL(path, "echo", "ok");
	ck_assert_str_eq(out, "rc=0 error=0\n\nok\n");
	free(out);
	control_close(c);
}
END_TEST

/* One raw request; the reply must be exactly want. */
static void raw_reply(const char *path, const char *req, size_t len, const char *want)
{
	char *out = raw_as(path, NULL, req, len, false);

	ck_assert_str_eq(out, want);
	free(out);
}

#define RAW_REPLY(path, req, want) raw_reply(path, req, sizeof req - 1, want)

START_TEST(words_with_control_characters_are_refused_before_the_handler)
{
	struct control *c = start("ctl-chars", NULL, 16);
	const char *path = sock_path("ctl-chars");
	char *out, err[256];
	struct ctl_reply r;

	/* a forged log line in a reason: the value of an option is named
	 * by the option */
	RAW_REPLY(path, "block\0" "192.0.2.7\0" "--reason\0" "x\nmailscreen: unblock 192.0.2.8\0",
		  "error: --reason contains a control character (byte 0x0a at position 2)\n");
	/* other words by their number, the command being 0 */
	RAW_REPLY(path, "echo\0" "ok\0" "a\033[31m\0", "error: argument 2 contains a control character (byte 0x1b "
		  "at position 2)\n");
	RAW_REPLY(path, "echo\0" "\r\0", "error: argument 1 contains a control character (byte 0x0d at position 1)\n");
	RAW_REPLY(path, "echo\0" "a\tb\0", "error: argument 1 contains a control character (byte 0x09 at position 2)\n");
	RAW_REPLY(path, "echo\0" "abc\177\0", "error: argument 1 contains a control character (byte 0x7f at position "
		  "4)\n");
	/* C1 controls in UTF-8: U+009B is CSI to a terminal, U+0085 a line break */
	RAW_REPLY(path, "echo\0" "--json\0" "\xc2\x9b" "2J\0", "error: --json contains a control character (U+009B at "
		  "position 1)\n");
	RAW_REPLY(path, "echo\0" "xy\xc2\x85\0", "error: argument 1 contains a control character (U+0085 at position "
		  "3)\n");
	/* what follows "--" must look like an option name to name the word */
	RAW_REPLY(path, "echo\0" "--re\xe9son\0" "\n\0", "error: argument 2 contains a control character (byte 0x0a at "
		  "position 1)\n");
	RAW_REPLY(path, "echo\0" "--\0" "\n\0", "error: argument 2 contains a control character (byte 0x0a at "
		  "position 1)\n");
	/* refused as soon as seen: the request need not be complete */
	RAW_REPLY(path, "echo\0" "a\nb", "error: argument 1 contains a control character (byte 0x0a at position 2)\n");
	ck_assert_uint_eq(stats(c).malformed, 10);
	ck_assert_uint_eq(calls, 0);

	/* other bytes pass, UTF-8 or not (an account name is the mail
	 * server's bytes): U+00A0 is no control, nor a lone 0x9b, nor 0xc2
	 * before something else */
	RAW_REPLY(path, "echo\0" "b\xe9" "b\0" "\xc2\xa0\0" "\x9b\0" "\xc2" "A\0" "caf\xc3\xa9\0\0",
		  "ok\nb\xe9" "b\n\xc2\xa0\n\x9b\n\xc2" "A\ncaf\xc3\xa9\n");
	ck_assert_uint_eq(calls, 1);

	/* the client refuses to send what the server would refuse */
	ck_assert_int_eq(control_call(path, 3, (char *[]){ "block", "--reason", "x\ny", NULL }, &r, err, sizeof err), -1);
	ck_assert_str_eq(err, "argument 2 contains a control character (byte 0x0a at position 2)");
	ctl_reply_release(&r);
	ck_assert_int_eq(control_call(path, 2, (char *[]){ "echo", "\xc2\x80", NULL }, &r, err, sizeof err), -1);
	ck_assert_str_eq(err, "argument 1 contains a control character (U+0080 at position 1)");
	ctl_reply_release(&r);
	ck_assert_uint_eq(calls, 1);

	out = CALL(path, "echo", "still", "here");
	ck_assert_str_eq(out, "rc=0 error=0\n\nstill\nhere\n");
	free(out);
	control_close(c);
}
END_TEST

START_TEST(slow_client_is_dropped_at_the_deadline_while_others_are_served)
{
	struct control *c = start("slow", NULL, 16);
	const char *path = sock_path("slow");
	struct raw slow;
	uint64_t t0 = loop_now_ms();
	char *out;

	control_set_deadline(c, 1500);
	raw_open(&slow, path);
	ck_assert_int_eq(send(slow.fd, "echo\0", 5, 0), 5);     /* and never the end */
	out = CALL(path, "echo", "meanwhile");
	ck_assert_str_eq(out, "rc=0 error=0\n\nmeanwhile\n");
	free(out);
	ck_assert_uint_eq(stats(c).timeouts, 0);
	ck_assert(!slow.eof);

	run_until(&slow.eof);
	ck_assert_str_eq(slow.buf, "error: timed out waiting for the request\n");
	ck_assert_uint_ge(loop_now_ms() - t0, 1500);
	ck_assert_uint_eq(stats(c).timeouts, 1);
	ck_assert_uint_eq(stats(c).clients, 0);
	raw_close(&slow);
	control_close(c);
}
END_TEST

static bool one_client(const struct control_stats *st) { return st->clients == 1; }

START_TEST(connections_beyond_max_clients_are_told_busy)
{
	struct control *c = start("busy", NULL, 2);
	const char *path = sock_path("busy");
	struct raw a, b, extra;
	char *out;

	raw_open(&a, path);
	raw_open(&b, path);
	raw_open(&extra, path);
	run_until(&extra.eof);
	ck_assert_str_eq(extra.buf, "error: busy\n");
	ck_assert(!a.eof && !b.eof);
	ck_assert_uint_eq(stats(c).busy, 1);
	ck_assert_uint_eq(stats(c).clients, 2);
	raw_close(&extra);

	/* a slot frees: served again */
	raw_close(&a);
	wait_stats(c, one_client);
	out = CALL(path, "echo", "room");
	ck_assert_str_eq(out, "rc=0 error=0\n\nroom\n");
	free(out);
	/* the one that waited is still served */
	ck_assert_int_eq(send(b.fd, "echo\0b\0\0", 8, 0), 8);
	run_until(&b.eof);
	ck_assert_str_eq(b.buf, "ok\nb\n");
	raw_close(&b);
	ck_assert_uint_eq(stats(c).busy, 1);
	control_close(c);
}
END_TEST

START_TEST(second_server_on_a_live_path_is_refused)
{
	struct control *c = start("live", NULL, 16), *c2;
	const char *path = sock_path("live");
	char err[512], want[512], *out;

	c2 = control_open(L, path, NULL, 16, handler, &calls, err, sizeof err);
	ck_assert_ptr_null(c2);
	snprintf(want, sizeof want, "another mailscreen is running (control socket %s answers)", path);
	ck_assert_str_eq(err, want);
	out = CALL(path, "echo", "first");
	ck_assert_str_eq(out, "rc=0 error=0\n\nfirst\n");
	free(out);
	ck_assert_uint_eq(stats(c).malformed, 0);
	control_close(c);
}
END_TEST

START_TEST(stale_socket_is_replaced_and_other_files_are_not)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char err[512], dir[sizeof ut_dir + 8], *out;
	const char *path = sock_path("stale");
	struct control *c;
	int fd;

	snprintf(dir, sizeof dir, "%s/stale", ut_dir);
	ck_assert_int_eq(mkdir(dir, 0755), 0);
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	close(fd);      /* the file stays; nobody answers: a crashed daemon's */
	c = start("stale", NULL, 16);
	out = CALL(path, "echo", "new");
	ck_assert_str_eq(out, "rc=0 error=0\n\nnew\n");
	free(out);
	control_close(c);

	ut_write("stale/control", "not a socket\n");
	ck_assert_ptr_null(control_open(L, path, NULL, 16, handler, &calls, err, sizeof err));
	ck_assert_msg(strstr(err, "exists and is not a socket"), "%s", err);
	ck_assert_int_eq(access(path, F_OK), 0);
}
END_TEST

START_TEST(client_reports_a_daemon_that_is_not_running)
{
	struct ctl_reply r;
	char err[512], want[512];
	const char *path = sock_path("none");

	ck_assert_int_eq(control_call(path, 1, (char *[]){ "status", NULL }, &r, err, sizeof err), -1);
	snprintf(want, sizeof want, "cannot connect to %s: is mailscreen running?", path);
	ck_assert_str_eq(err, want);
	ctl_reply_release(&r);
}
END_TEST

static const struct who stranger = { .uid = 12345, .gid = 12345 };

START_TEST(other_uid_is_refused_without_a_group)
{
	struct control *c;
	const char *path;
	char *out, want[64];

	if (geteuid() != 0)
		return;
	c = start("uid", NULL, 16);
	path = sock_path("uid");
	/* the file's mode stops it first */
	out = call_as(path, &stranger, 1, (char *[]){ "whoami", NULL });
	ck_assert_msg(strstr(out, "rc=-1\ncannot connect to") && strstr(out, "permission denied"), "%s", out);
	free(out);
	/* and if the mode were loosened, the peer check still does */
	ck_assert_int_eq(chmod(path, 0666), 0);
	out = call_as(path, &stranger, 1, (char *[]){ "whoami", NULL });
	snprintf(want, sizeof want, "rc=0 error=1\npermission denied (uid %d)\n", (int)stranger.uid);
	ck_assert_str_eq(out, want);
	free(out);
	ck_assert_uint_eq(stats(c).refused, 1);
	ck_assert_uint_eq(calls, 0);
	control_close(c);
}
END_TEST

START_TEST(members_of_control_group_are_accepted)
{
	struct group *gr = getgrnam("nogroup");
	struct control *c;
	struct stat st;
	const char *path;
	char *out, err[256];

	if (geteuid() != 0)
		return;
	ck_assert_ptr_nonnull(gr);
	gid_t g = gr->gr_gid;
	struct who primary = { .uid = 12346, .gid = g };
	struct who supplementary = { .uid = 12347, .gid = 12347, .ngroups = 1, .groups = { g } };

	ck_assert_ptr_null(control_open(L, sock_path("grp"), "no-such-group-here", 16, handler, &calls, err,
					sizeof err));
	ck_assert_msg(strstr(err, "'no-such-group-here' is not a known group"), "%s", err);

	c = start("grp", "nogroup", 16);
	path = sock_path("grp");
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 07777, 0660);
	ck_assert_uint_eq(st.st_gid, g);

	out = call_as(path, &primary, 1, (char *[]){ "whoami", NULL });
	ck_assert_str_eq(out, "rc=0 error=0\n\nuid 12346\n");
	free(out);
	out = call_as(path, &supplementary, 1, (char *[]){ "whoami", NULL });
	ck_assert_str_eq(out, "rc=0 error=0\n\nuid 12347\n");
	free(out);
	/* not a member: the mode stops it, and the peer check would */
	out = call_as(path, &stranger, 1, (char *[]){ "whoami", NULL });
	ck_assert_msg(strstr(out, "rc=-1\ncannot connect to"), "%s", out);
	free(out);
	ck_assert_int_eq(chmod(path, 0666), 0);
	out = call_as(path, &stranger, 1, (char *[]){ "whoami", NULL });
	ck_assert_str_eq(out, "rc=0 error=1\npermission denied (uid 12345)\n");
	free(out);
	ck_assert_uint_eq(stats(c).refused, 1);
	ck_assert_uint_eq(stats(c).requests, 2);
	control_close(c);
}
END_TEST

START_TEST(close_leaves_a_newer_servers_socket_alone)
{
	struct control *c = start("newer", NULL, 16);
	const char *path = sock_path("newer");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	/* someone replaced our file (a second daemon after a forced start) */
	ck_assert_int_eq(unlink(path), 0);
	snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
	control_close(c);
	ck_assert_int_eq(access(path, F_OK), 0);
	close(fd);
}
END_TEST

static char *slurp(const char *name)
{
	char path[sizeof ut_dir + 16], *buf = calloc(1, 65536);
	FILE *fp;

	snprintf(path, sizeof path, "%s/%s", ut_dir, name);
	fp = fopen(path, "r");
	ck_assert_ptr_nonnull(fp);
	ck_assert_ptr_nonnull(buf);
	ck_assert(fread(buf, 1, 65535, fp) < 65535);
	fclose(fp);
	return buf;
}

/* Run "mailscreen ARGS..." (cmd_ctl) in a child; returns its exit status,
 * with its stdout and stderr in *out and *err (free them). */
static int cli(char **out, char **err, int argc, char **argv)
{
	struct call_job j = { .argc = argc, .argv = argv, .cli = true };
	char *res = run_job(&j, NULL);
	int rc = -1;

	ck_assert_int_eq(sscanf(res, "exit=%d", &rc), 1);
	free(res);
	*out = slurp("cli.out");
	*err = slurp("cli.err");
	return rc;
}

#define CLI(out, err, ...) cli(out, err, (int)(sizeof (char *[]){ __VA_ARGS__ } / sizeof(char *)), \
			       (char *[]){ __VA_ARGS__, NULL })

START_TEST(command_line_checks_normalises_sends_and_reports)
{
	struct control *c = start("cli", NULL, 16);
	char sock[sizeof ut_dir + 64], want[512], *out, *err, *cfg;

	snprintf(sock, sizeof sock, "%s", sock_path("cli"));
	/* normal forms: the address, the duration, options after arguments */
	ck_assert_int_eq(CLI(&out, &err, "block", "-r", "port scan", "::ffff:192.0.2.7", "90m", "-s", sock), 0);
	ck_assert_str_eq(out, "block|192.0.2.7|1h30m|--reason|port scan\n");
	ck_assert_str_eq(err, "");
	free(out), free(err);
	ck_assert_int_eq(CLI(&out, &err, "block", "2001:DB8::/32", "permanent", "-s", sock), 0);
	ck_assert_str_eq(out, "block|2001:db8::/32|permanent\n");
	free(out), free(err);
	ck_assert_int_eq(CLI(&out, &err, "list", "--json", "blocks", "--socket", sock), 0);
	ck_assert_str_eq(out, "list|blocks|--json\n");
	free(out), free(err);
	ck_assert_int_eq(CLI(&out, &err, "block-account", "-s", sock, "--", "-bob@example.org", "2h"), 0);
	ck_assert_str_eq(out, "block-account|-bob@example.org|2h\n");
	free(out), free(err);
	/* -c: the socket from the configuration's 'control' key */
	snprintf(want, sizeof want, "[daemon]\ncontrol = %s\n", sock);
	cfg = strdup(ut_write("cli.conf", want));
	ck_assert_int_eq(CLI(&out, &err, "reset", "all", "-c", cfg), 0);
	ck_assert_str_eq(out, "reset|all\n");
	free(out), free(err), free(cfg);
	ck_assert_uint_eq(calls, 5);

	/* the daemon's error: on stderr, exit 1 */
	ck_assert_int_eq(CLI(&out, &err, "unblock", "192.0.2.9", "-s", sock), 1);
	ck_assert_str_eq(out, "");
	ck_assert_str_eq(err, "mailscreen: 192.0.2.9 is not blocked\n");
	free(out), free(err);

	/* usage errors: exit 2, nothing sent */
	calls = 0;
	ck_assert_int_eq(CLI(&out, &err, "list", "things", "-s", sock), 2);
	ck_assert_str_eq(err, "mailscreen list: unknown subcommand 'things' (one of: blocks allows failures accounts)\n");
	free(out), free(err);
	ck_assert_int_eq(CLI(&out, &err, "block", "192.0.2.1/8", "-s", sock), 2);
	ck_assert_msg(strstr(err, "mailscreen block: '192.0.2.1/8'"), "%s", err);
	free(out), free(err);
	ck_assert_int_eq(CLI(&out, &err, "block", "192.0.2.1", "soon", "-s", sock), 2);
	ck_assert_msg(strstr(err, "mailscreen block: 'soon' is not a duration"), "%s", err);
	free(out), free(err);
	ck_assert_int_eq(CLI(&out, &err, "unblock", "-s", sock), 2);
	ck_assert_msg(strstr(err, "mailscreen unblock: missing an address or range"), "%s", err);
	free(out), free(err);
	ck_assert_int_eq(CLI(&out, &err, "pause", "now", "-s", sock), 2);
	ck_assert_msg(strstr(err, "mailscreen pause: unexpected argument 'now'"), "%s", err);
	free(out), free(err);
	ck_assert_int_eq(CLI(&out, &err, "status", "--reason", "x", "-s", sock), 2);
	ck_assert_msg(strstr(err, "mailscreen status: unknown option '--reason'"), "%s", err);
	free(out), free(err);
	ck_assert_int_eq(CLI(&out, &err, "block", "192.0.2.1", "--reason", "two\nlines", "-s", sock), 2);
	ck_assert_msg(strstr(err, "--reason: give one line of UTF-8 text without control characters"), "%s", err);
	free(out), free(err);
	ck_assert_int_eq(CLI(&out, &err, "block", "192.0.2.1", "--reason", "caf\xe9", "-s", sock), 2);
	ck_assert_msg(strstr(err, "--reason: give one line of UTF-8 text"), "%s", err);
	free(out), free(err);
	ck_assert_int_eq(CLI(&out, &err, "block", "192.0.2.1", "--reason", "CSI \xc2\x9b" "2J", "-s", sock), 2);
	ck_assert_msg(strstr(err, "--reason: give one line of UTF-8 text"), "%s", err);
	free(out), free(err);
	/* what a complaint quotes, it quotes escaped */
	ck_assert_int_eq(CLI(&out, &err, "block-account", "eve\033[8m\xc2\x9b", "-s", sock), 2);
	ck_assert_str_eq(err, "mailscreen block-account: 'eve\\x1b[8m\\xc2\\x9b' is not an account name (no spaces or "
			 "control characters, at most 256 bytes)\n");
	free(out), free(err);
	ck_assert_int_eq(CLI(&out, &err, "block", "192.0.2.1\033[2J", "-s", sock), 2);
	ck_assert_str_eq(err, "mailscreen block: '192.0.2.1\\x1b[2J' is not an IP address or range\n");
	free(out), free(err);
	ck_assert_int_eq(CLI(&out, &err, "list", "\033]0;x\007", "-s", sock), 2);
	ck_assert_str_eq(err, "mailscreen list: unknown subcommand '\\x1b]0;x\\x07' (one of: blocks allows failures "
			 "accounts)\n");
	free(out), free(err);
	ck_assert_int_eq(CLI(&out, &err, "block", "-h"), 0);
	ck_assert_msg(strncmp(out, "usage: mailscreen block ", 24) == 0, "%s", out);
	free(out), free(err);
	ck_assert_uint_eq(calls, 0);
	ck_assert_uint_eq(stats(c).requests, 6);
	control_close(c);

	/* no daemon: exit 1 with what to check */
	ck_assert_int_eq(CLI(&out, &err, "status", "-s", sock), 1);
	snprintf(want, sizeof want, "mailscreen: cannot connect to %s: is mailscreen running?\n", sock);
	ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "%s", err);
	/* ... and how to reach a daemon listening elsewhere */
	ck_assert_msg(strstr(err + strlen(want), "(the given socket)") && strstr(err, "give it with -s SOCKET"), "%s",
		      err);
	free(out), free(err);
}
END_TEST

static void reset_calls(void)
{
	calls = 0;
}

int main(void)
{
	TCase *tc = tcase_create("control");
	int rc;

	log_init("test_control", LOG_LVL_WARN);
	signal(SIGPIPE, SIG_IGN);
	L = loop_new();
	tcase_add_checked_fixture(tc, reset_calls, NULL);
	tcase_add_test(tc, request_round_trips_and_socket_is_0600_in_a_new_0755_directory);
	tcase_add_test(tc, error_line_is_passed_through_with_its_body);
	tcase_add_test(tc, five_megabyte_body_arrives_whole);
	tcase_add_test(tc, oversized_requests_are_refused_and_the_server_goes_on);
	tcase_add_test(tc, malformed_requests_are_refused_and_the_server_goes_on);
	tcase_add_test(tc, words_with_control_characters_are_refused_before_the_handler);
	tcase_add_test(tc, slow_client_is_dropped_at_the_deadline_while_others_are_served);
	tcase_add_test(tc, connections_beyond_max_clients_are_told_busy);
	tcase_add_test(tc, second_server_on_a_live_path_is_refused);
	tcase_add_test(tc, stale_socket_is_replaced_and_other_files_are_not);
	tcase_add_test(tc, client_reports_a_daemon_that_is_not_running);
	tcase_add_test(tc, other_uid_is_refused_without_a_group);
	tcase_add_test(tc, members_of_control_group_are_accepted);
	tcase_add_test(tc, close_leaves_a_newer_servers_socket_alone);
	tcase_add_test(tc, command_line_checks_normalises_sends_and_reports);
	rc = ut_run("control", tc);
	loop_free(L);
	return rc;
}
