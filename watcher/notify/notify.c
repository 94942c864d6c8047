// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * notify - see notify.h. One mail child and one program child at a time;
 * the batch timer is a loop timer on the monotonic clock (the hour's cap
 * too), the mails' dates are the wall clock's.
 */
#include "notify.h"
#include "child.h"
#include "duration.h"
#include "inifile.h"
#include "jsonw.h"
#include "log.h"
#include "loop.h"
#include "timefmt.h"
#include "xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define HOUR_MS 3600000ULL
#define BUSY_RETRY_MS 1000
#define EXIT_POLL_MS 100        /* without a pidfd: how often its exit is looked for */

/* ---- the configuration's values ---- */

/* An address as a recipient argument: printable, no space, comma, quote
 * or angle bracket, and never starting with '-' (sendmail gets "--"
 * before them all the same). */
static bool address_ok(const char *a)
{
	size_t n = strlen(a);

	if (!n || n > 254 || a[0] == '-' || !text_printable(a, n, NULL))
		return false;
	return strcspn(a, " \t,;<>\"'\\()[]") == n;
}

int notify_check(const char *mail_to, const char *mail_from, const char *sendmail, const char *program,
		 const char *report, const char **key, char *err, size_t errlen)
{
	char **w, *st;
	size_t n = ini_words(mail_to, &w, &st);
	int rc = 0;

	for (size_t i = 0; i < n && rc == 0; i++)
		if (!address_ok(w[i]))
			rc = errf(err, errlen, "'%s' is not a mail address (no spaces, quotes, brackets or commas; not "
				  "starting with '-')", w[i]);
	if (rc == 0 && n > NOTIFY_MAX_TO)
		rc = errf(err, errlen, "at most %d recipients", NOTIFY_MAX_TO);
	free(w);
	free(st);
	if (rc < 0) {
		*key = "mail_to";
		return -1;
	}
	if (*mail_from && !address_ok(mail_from)) {
		*key = "mail_from";
		return errf(err, errlen, "'%s' is not a mail address", mail_from);
	}
	if (sendmail[0] != '/') {
		*key = "sendmail";
		return errf(err, errlen, "'%s' is not an absolute path", sendmail);
	}
	if (*program && program[0] != '/') {
		*key = "program";
		return errf(err, errlen, "'%s' is not an absolute path", program);
	}
	if (strcmp(report, "daily") && strcmp(report, "hourly") && strcmp(report, "no")) {
		*key = "report";
		return errf(err, errlen, "'%s' is not daily, hourly or no", report);
	}
	return 0;
}

enum notify_report notify_report_kind(const char *report)
{
	return strcmp(report, "daily") == 0 ? NOTIFY_REPORT_DAILY : strcmp(report, "hourly") == 0 ?
	       NOTIFY_REPORT_HOURLY : NOTIFY_REPORT_NO;
}

/* ---- the batching policy ---- */

void notify_batch_init(struct notify_batch *b, size_t max_listed, size_t max_mails)
{
	memset(b, 0, sizeof *b);
	b->max = max_listed ? max_listed : 1;
	b->maxsent = max_mails ? max_mails : 1;
	b->v = xcalloc(b->max, sizeof *b->v);
	b->sent = xcalloc(b->maxsent, sizeof *b->sent);
}

void notify_batch_release(struct notify_batch *b)
{
	free(b->v);
	free(b->sent);
	memset(b, 0, sizeof *b);
}

bool notify_batch_add(struct notify_batch *b, const struct mail_block *blk, uint64_t now_ms)
{
	bool began = !b->n && !b->more;

	if (b->n < b->max)
		b->v[b->n++] = *blk;
	else
		b->more++;
	if (began)
		b->first_ms = now_ms ? now_ms : 1;
	return began;
}

void notify_batch_resize(struct notify_batch *b, size_t max_listed, size_t max_mails)
{
	struct notify_batch nb;
	size_t k;

	notify_batch_init(&nb, max_listed, max_mails);
	for (size_t i = 0; i < b->n; i++)
		notify_batch_add(&nb, &b->v[i], b->first_ms);
	nb.more += b->more;
	/* the hour's mails still count: the newest of them, oldest first */
	k = b->nsent < nb.maxsent ? b->nsent : nb.maxsent;
	for (size_t i = 0; i < k; i++)
		nb.sent[i] = b->sent[(b->next + b->maxsent - k + i) % b->maxsent];
	nb.nsent = k;
	nb.next = k % nb.maxsent;
	notify_batch_release(b);
	*b = nb;
}

uint64_t notify_batch_due(const struct notify_batch *b, uint64_t batch_ms, uint64_t now_ms)
{
	uint64_t due;

	if (!b->n && !b->more)
		return 0;
	due = b->first_ms + batch_ms;
	/* the hour's mails spent: when the oldest of them is an hour old */
	if (b->nsent == b->maxsent) {
		uint64_t oldest = b->sent[b->next];
		if (oldest + HOUR_MS > due)
			due = oldest + HOUR_MS;
	}
	return due > now_ms ? due : now_ms;
}

void notify_batch_take(struct notify_batch *b, uint64_t now_ms, struct mail_block **v, size_t *n, uint64_t *more)
{
	*v = xcalloc(b->n ? b->n : 1, sizeof **v);
	memcpy(*v, b->v, b->n * sizeof **v);
	*n = b->n;
	*more = b->more;
	b->n = 0;
	b->more = 0;
	b->first_ms = 0;
	b->sent[b->next] = now_ms;
	b->next = (b->next + 1) % b->maxsent;
	if (b->nsent < b->maxsent)
		b->nsent++;
}

/* ---- running a program ---- */

static uint64_t mono_ms(void)
{
	return loop_now_ms();
}

static void __attribute__((noreturn)) exec_child(const char *path, char *const argv[], char *const envp[], int in,
						 int out)
{
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	setpgid(0, 0);
	if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(out, 2) < 0)
		_exit(127);
	if (close_range(3, ~0U, 0) < 0)
		for (int fd = 3; fd < 1024; fd++)
			close(fd);
	execve(path, argv, envp);
	dprintf(2, "cannot run %s: %s\n", path, strerror(errno));
	_exit(127);
}

/* what it wrote first: its first line, made printable */
static void first_line(const char *buf, size_t n, char *dst, size_t len)
{
	size_t k = 0;

	while (k < n && buf[k] != '\n')
		k++;
	text_sanitize(dst, len, buf, k);
}

/* Reads what is there of its output, keeping the first bytes in buf;
 * false when nothing more is there now (*eof: nor ever). */
static bool read_output(int fd, char *buf, size_t len, size_t *got, bool *eof)
{
	char tmp[4096];
	ssize_t r = read(fd, tmp, sizeof tmp);

	if (r < 0 && errno == EINTR)
		return true;
	if (r <= 0) {
		if (!(r < 0 && errno == EAGAIN))
			*eof = true;
		return false;
	}
	if (*got < len) {
		size_t k = (size_t)r < len - *got ? (size_t)r : len - *got;
		memcpy(buf + *got, tmp, k);
		*got += k;
	}
	return true;
}

int notify_exec(const char *path, char *const argv[], char *const envp[], const char *input, size_t inlen,
		uint64_t timeout_ms, char *err, size_t errlen)
{
	int in[2], out[2], status = 0, pfd;
	pid_t pid;
	uint64_t start = mono_ms();
	/* timeout = permanent (UINT64_MAX): never, not a deadline wrapped
	 * into the past */
	uint64_t deadline = timeout_ms > UINT64_MAX - start ? UINT64_MAX : start + timeout_ms;
	char buf[512], line[300];
	size_t got = 0, done = 0;
	bool eof = false, reaped = false;

	signal(SIGPIPE, SIG_IGN);
	if (pipe2(in, O_CLOEXEC) < 0)
		return errf(err, errlen, "pipe: %s", strerror(errno));
	if (pipe2(out, O_CLOEXEC) < 0) {
		close(in[0]);
		close(in[1]);
		return errf(err, errlen, "pipe: %s", strerror(errno));
	}
	pid = fork();
	if (pid == 0)
		exec_child(path, argv, envp, in[0], out[1]);
	close(in[0]);
	close(out[1]);
	if (pid < 0) {
		close(in[1]);
		close(out[0]);
		return errf(err, errlen, "fork: %s", strerror(errno));
	}
	setpgid(pid, pid);      /* whichever of the two runs first */
	fcntl(in[1], F_SETFL, O_NONBLOCK);
	fcntl(out[0], F_SETFL, O_NONBLOCK);
	/* readable when it exits (else its exit is looked for every
	 * EXIT_POLL_MS) */
	pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (!inlen) {
		close(in[1]);
		in[1] = -1;
	}
	while (!eof || in[1] >= 0) {
		struct pollfd p[3];
		int np = 0, left;
		uint64_t now = mono_ms();
		/* it exited: what it left behind (a "cmd &" of a script's)
		 * may hold its output, it has ended all the same */
		if (waitpid(pid, &status, WNOHANG) == pid) {
			reaped = true;
			/* what it wrote before (a pipe holds 64 KiB): bounded,
			 * as the job may write on */
			for (int k = 0; k < 16 && !eof && read_output(out[0], buf, sizeof buf, &got, &eof); k++)
				;
			break;
		}
		if (now >= deadline)
			break;
		left = deadline - now > INT_MAX ? INT_MAX : (int)(deadline - now);
		if (!eof)
			p[np++] = (struct pollfd){ .fd = out[0], .events = POLLIN };
		if (in[1] >= 0)
			p[np++] = (struct pollfd){ .fd = in[1], .events = POLLOUT };
		if (pfd >= 0)
			p[np++] = (struct pollfd){ .fd = pfd, .events = POLLIN };
		else if (left > EXIT_POLL_MS)
			left = EXIT_POLL_MS;
		if (poll(p, (nfds_t)np, left) < 0 && errno != EINTR)
			break;
		for (int i = 0; i < np; i++) {
			if (p[i].fd == out[0] && p[i].revents) {
				read_output(out[0], buf, sizeof buf, &got, &eof);
			} else if (p[i].fd == in[1] && p[i].revents) {
				ssize_t w = write(in[1], input + done, inlen - done);
				if (w < 0 && errno != EINTR && errno != EAGAIN) {
					close(in[1]);   /* it does not read: its status will say */
					in[1] = -1;
				} else if (w > 0 && (done += (size_t)w) == inlen) {
					close(in[1]);
					in[1] = -1;
				}
			}
		}
	}
	if (in[1] >= 0)
		close(in[1]);
	close(out[0]);
	if (pfd >= 0)
		close(pfd);
	/* it closed its output: wait for its end, up to the deadline */
	while (!reaped) {
		pid_t r = waitpid(pid, &status, WNOHANG);
		if (r == pid) {
			reaped = true;
			break;
		}
		if (r < 0 && errno != EINTR)
			break;
		if (mono_ms() >= deadline)
			break;
		poll(NULL, 0, 10);
	}
	first_line(buf, got, line, sizeof line);
	if (!reaped) {
		char d[32];
		kill(-pid, SIGKILL);
		kill(pid, SIGKILL);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		duration_format(timeout_ms, d, sizeof d);
		return errf(err, errlen, "killed after %s (timeout)%s%s", d, *line ? ": " : "", line);
	}
	if (WIFSIGNALED(status))
		return errf(err, errlen, "killed by signal %d%s%s", WTERMSIG(status), *line ? ": " : "", line);
	if (WEXITSTATUS(status) != 0)
		return errf(err, errlen, "exit status %d%s%s", WEXITSTATUS(status), *line ? ": " : "", line);
	return 0;
}

/* ---- the notifier ---- */

struct job {
	char *path;
	char **argv, **envp;
	char *input;
	size_t inlen;
	uint64_t timeout_ms;
};

struct notify {
	struct loop *loop;
	struct notify_cfg cfg;          /* its strings are own[] */
	char *own[4];
	char **to;                      /* mail_to's words */
	size_t nto;
	char host[256];
	struct notify_batch batch;
	uint64_t timer;
	struct child *mailer;           /* sendmail running */
	char *report;                   /* a report mail waiting for the mailer */
	size_t reportlen;
	struct child *runner;           /* the program running */
	struct mail_block queue[NOTIFY_PROGRAM_QUEUE];
	size_t qhead, qlen;
	unsigned long serial;
	bool capped_said;               /* the wait for the hour's cap is logged */
	struct notify_counts counts;
};

static void strv_free(char **v)
{
	for (size_t i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

static void job_free(struct job *j)
{
	free(j->path);
	strv_free(j->argv);
	strv_free(j->envp);
	free(j->input);
	free(j);
}

static int run_job(void *arg, char *err, size_t errlen)
{
	struct job *j = arg;

	return notify_exec(j->path, j->argv, j->envp, j->input, j->inlen, j->timeout_ms, err, errlen);
}

static char **clean_env(void)
{
	char **e = xcalloc(3, sizeof *e);

	e[0] = xstrdup("PATH=/usr/sbin:/usr/bin:/sbin:/bin");
	e[1] = xstrdup("LC_ALL=C.UTF-8");
	return e;
}

static void arm(struct notify *n);

static void mail_done(void *arg, pid_t pid, int rc, const char *msg)
{
	struct notify *n = arg;

	(void)pid;
	n->mailer = NULL;
	if (rc < 0) {
		n->counts.mail_failures++;
		log_warnx("notify: %s failed: %s", n->cfg.sendmail, msg);
	}
	arm(n);
}

/* Start sendmail with the message; false if it could not start. */
static bool send_message(struct notify *n, char *msg, size_t len)
{
	struct job *j = xcalloc(1, sizeof *j);
	char err[ERR_LEN];
	size_t k = 0;

	j->path = xstrdup(n->cfg.sendmail);
	j->argv = xcalloc(n->nto + 4, sizeof *j->argv);
	j->argv[k++] = xstrdup(n->cfg.sendmail);
	j->argv[k++] = xstrdup("-i");
	j->argv[k++] = xstrdup("--");
	for (size_t i = 0; i < n->nto; i++)
		j->argv[k++] = xstrdup(n->to[i]);
	j->envp = clean_env();
	j->input = msg;
	j->inlen = len;
	j->timeout_ms = n->cfg.timeout_ms;
	n->mailer = child_start(n->loop, run_job, j, mail_done, n, err, sizeof err);
	/* the child has its own copy of the job */
	job_free(j);
	if (!n->mailer) {
		n->counts.mail_failures++;
		log_warnx("notify: cannot run %s: %s", n->cfg.sendmail, err);
		return false;
	}
	n->counts.mails++;
	return true;
}

static void head(struct notify *n, FILE *o, const char *subject)
{
	char from[300];
	struct mail_head h = { .to = (const char *const *)n->to, .nto = n->nto, .subject = subject, .host = n->host,
			       .serial = ++n->serial };
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	h.now_ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	if (*n->cfg.mail_from)
		snprintf(from, sizeof from, "%s", n->cfg.mail_from);
	else
		snprintf(from, sizeof from, "mailscreen@%s", n->host);
	h.from = from;
	mail_write_head(o, &h);
}

static void send_batch(struct notify *n)
{
	struct mail_block *v;
	size_t cnt, len = 0, ndry = 0;
	uint64_t more;
	char *msg = NULL, subject[700];
	FILE *o;

	notify_batch_take(&n->batch, mono_ms(), &v, &cnt, &more);
	n->counts.unlisted += more;
	for (size_t i = 0; i < cnt; i++)
		ndry += v[i].dry_run;
	if (cnt + more == 1 && ndry)
		snprintf(subject, sizeof subject, "mailscreen on %s: dry run: would block %s%s%s", n->host,
			 v[0].account ? "account '" : "", v[0].what, v[0].account ? "'" : "");
	else if (cnt + more == 1)
		snprintf(subject, sizeof subject, "mailscreen on %s: %s%s%s blocked", n->host,
			 v[0].account ? "account '" : "", v[0].what, v[0].account ? "'" : "");
	else if (ndry && ndry == cnt)
		/* the unlisted ones of a batch whose listed ones are all dry
		 * run: the same run (dry_run changes only at a reload) */
		snprintf(subject, sizeof subject, "mailscreen on %s: dry run: would make %llu blocks", n->host,
			 (unsigned long long)(cnt + more));
	else if (ndry)
		snprintf(subject, sizeof subject, "mailscreen on %s: %llu blocks (%zu of them in dry run, not made)",
			 n->host, (unsigned long long)(cnt + more), ndry);
	else
		snprintf(subject, sizeof subject, "mailscreen on %s: %llu blocks", n->host,
			 (unsigned long long)(cnt + more));
	o = open_memstream(&msg, &len);
	if (!o)
		fatal("open_memstream");
	head(n, o, subject);
	mail_write_blocks(o, v, cnt, more, false);
	fclose(o);
	free(v);
	if (!send_message(n, msg, len))
		return;
}

static void on_timer(struct loop *l, void *arg)
{
	struct notify *n = arg;

	(void)l;
	n->timer = 0;
	arm(n);
}

/* Whatever is due leaves now (the report first), else the timer waits
 * for it. */
static void arm(struct notify *n)
{
	uint64_t now = mono_ms(), due;

	if (n->timer) {
		loop_cancel_timer(n->loop, n->timer);
		n->timer = 0;
	}
	if (!n->nto)
		return;
	if (n->report && !n->mailer) {
		char *m = n->report;
		n->report = NULL;
		if (send_message(n, m, n->reportlen))
			n->counts.reports++;
	}
	due = notify_batch_due(&n->batch, n->cfg.batch_ms, now);
	if (!due)
		return;
	if (due <= now && !n->mailer) {
		send_batch(n);
		n->capped_said = false;
		return;
	}
	if (!n->capped_said && due > n->batch.first_ms + n->cfg.batch_ms) {
		char left[32];
		duration_format(due - now, left, sizeof left);
		log_info("notify: the %llu block mails of the hour are sent; the blocks made since wait %s for the "
			 "next mail", (unsigned long long)n->cfg.max_mails, left);
		n->capped_said = true;
	}
	n->timer = loop_add_timer(n->loop, due > now ? due - now : BUSY_RETRY_MS, on_timer, n);
}

static void program_next(struct notify *n);

static void program_done(void *arg, pid_t pid, int rc, const char *msg)
{
	struct notify *n = arg;

	(void)pid;
	n->runner = NULL;
	if (rc < 0) {
		n->counts.program_failures++;
		log_warnx("notify: %s failed: %s", n->cfg.program, msg);
	}
	program_next(n);
}

static char *envvar(const char *name, const char *value)
{
	char *v;
	size_t len = strlen(name) + 1 + strlen(value) * 4 + 8;

	v = xmalloc(len);
	snprintf(v, len, "%s=", name);
	text_sanitize(v + strlen(v), len - strlen(v), value, strlen(value));
	return v;
}

static char *printable(const char *s)
{
	size_t len = strlen(s) * 4 + 8;
	char *v = xmalloc(len);

	text_sanitize(v, len, s, strlen(s));
	return v;
}

static void program_next(struct notify *n)
{
	struct mail_block *b;
	struct job *j;
	char dur[32], when[TIMEFMT_LEN], err[ERR_LEN];

	if (n->runner || !n->qlen || !*n->cfg.program)
		return;
	b = &n->queue[n->qhead];
	n->qhead = (n->qhead + 1) % NOTIFY_PROGRAM_QUEUE;
	n->qlen--;
	duration_format(b->dur_ms, dur, sizeof dur);
	timefmt_iso((int64_t)(b->at_ms / 1000), when);
	j = xcalloc(1, sizeof *j);
	j->path = xstrdup(n->cfg.program);
	j->argv = xcalloc(8, sizeof *j->argv);
	j->argv[0] = xstrdup(n->cfg.program);
	/* in dry run nothing was blocked: a program that acts on "block"
	 * must not act on this */
	j->argv[1] = xstrdup(b->dry_run ? "would-block" : "block");
	j->argv[2] = xstrdup(b->account ? "account" : "address");
	j->argv[3] = printable(b->what);
	j->argv[4] = xstrdup(dur);
	j->argv[5] = printable(b->origin);
	j->argv[6] = printable(b->reason);
	j->envp = xcalloc(11, sizeof *j->envp);
	j->envp[0] = xstrdup("PATH=/usr/sbin:/usr/bin:/sbin:/bin");
	j->envp[1] = xstrdup("LC_ALL=C.UTF-8");
	j->envp[2] = xstrdup(b->dry_run ? "MAILSCREEN_EVENT=would-block" : "MAILSCREEN_EVENT=block");
	j->envp[3] = envvar("MAILSCREEN_KIND", b->account ? "account" : "address");
	j->envp[4] = envvar("MAILSCREEN_TARGET", b->what);
	j->envp[5] = envvar("MAILSCREEN_DURATION", dur);
	j->envp[6] = envvar("MAILSCREEN_ORIGIN", b->origin);
	j->envp[7] = envvar("MAILSCREEN_REASON", b->reason);
	j->envp[8] = envvar("MAILSCREEN_TIME", when);
	j->envp[9] = xstrdup(b->dry_run ? "MAILSCREEN_DRY_RUN=1" : "MAILSCREEN_DRY_RUN=0");
	j->timeout_ms = n->cfg.timeout_ms;
	n->runner = child_start(n->loop, run_job, j, program_done, n, err, sizeof err);
	job_free(j);
	if (!n->runner) {
		n->counts.program_failures++;
		log_warnx("notify: cannot run %s: %s", n->cfg.program, err);
		return;
	}
	n->counts.programs++;
}

struct notify *notify_new(struct loop *l)
{
	struct notify *n = xcalloc(1, sizeof *n);

	n->loop = l;
	if (gethostname(n->host, sizeof n->host - 1) < 0 || !*n->host)
		snprintf(n->host, sizeof n->host, "localhost");
	notify_batch_init(&n->batch, 100, 10);
	n->cfg.mail_to = n->own[0] = xstrdup("");
	n->cfg.mail_from = n->own[1] = xstrdup("");
	n->cfg.sendmail = n->own[2] = xstrdup("/usr/sbin/sendmail");
	n->cfg.program = n->own[3] = xstrdup("");
	return n;
}

static void cfg_release(struct notify *n)
{
	for (int i = 0; i < 4; i++)
		free(n->own[i]);
	strv_free(n->to);
	n->to = NULL;
	n->nto = 0;
}

void notify_configure(struct notify *n, const struct notify_cfg *c)
{
	char **w, *st;
	size_t k;

	cfg_release(n);
	n->cfg = *c;
	n->cfg.mail_to = n->own[0] = xstrdup(c->mail_to);
	n->cfg.mail_from = n->own[1] = xstrdup(c->mail_from);
	n->cfg.sendmail = n->own[2] = xstrdup(c->sendmail);
	n->cfg.program = n->own[3] = xstrdup(c->program);
	k = ini_words(c->mail_to, &w, &st);
	n->to = xcalloc(k + 1, sizeof *n->to);
	for (size_t i = 0; i < k; i++)
		n->to[i] = xstrdup(w[i]);
	n->nto = k;
	free(w);
	free(st);
	if (n->batch.max != c->max_listed || n->batch.maxsent != c->max_mails)
		notify_batch_resize(&n->batch, c->max_listed, c->max_mails);
	arm(n);
}

bool notify_mail_on(const struct notify *n)
{
	return n->nto > 0;
}

void notify_block(struct notify *n, const struct mail_block *b)
{
	if (n->nto && notify_batch_add(&n->batch, b, mono_ms()))
		arm(n);
	if (*n->cfg.program) {
		if (n->qlen == NOTIFY_PROGRAM_QUEUE) {
			if (n->counts.program_dropped++ % 1000 == 0)
				log_warnx("notify: %d blocks wait for %s already; this one and more are not told to it "
					  "(%llu so far)", NOTIFY_PROGRAM_QUEUE, n->cfg.program,
					  (unsigned long long)n->counts.program_dropped);
		} else {
			n->queue[(n->qhead + n->qlen++) % NOTIFY_PROGRAM_QUEUE] = *b;
			program_next(n);
		}
	}
}

void notify_report_mail(struct notify *n, const char *subject, const char *body, size_t len)
{
	char *msg = NULL;
	size_t mlen = 0;
	FILE *o;

	if (!n->nto)
		return;
	o = open_memstream(&msg, &mlen);
	if (!o)
		fatal("open_memstream");
	head(n, o, subject);
	for (const char *p = body, *end = body + len; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t k = nl ? (size_t)(nl - p) : (size_t)(end - p);
		mail_write_line(o, p, k);
		p += k + (nl ? 1 : 0);
	}
	fclose(o);
	free(n->report);        /* an older report not sent yet: replaced */
	n->report = msg;
	n->reportlen = mlen;
	arm(n);
}

void notify_get_counts(const struct notify *n, struct notify_counts *c)
{
	*c = n->counts;
}

void notify_free(struct notify *n)
{
	if (!n)
		return;
	if (n->timer)
		loop_cancel_timer(n->loop, n->timer);
	child_kill(n->mailer);
	child_kill(n->runner);
	free(n->report);
	notify_batch_release(&n->batch);
	cfg_release(n);
	free(n);
}
