// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * journal - see journal.h. Owns one sd_journal per source, its fd
 * registration in the loop, a timeout timer (only when sd-journal asks for
 * one), a 0 ms drain timer (only while a batch was cut short) and one
 * reusable buffer in which each entry's raw line is composed.
 *
 * Field pointers returned by sd_journal_get_data are valid only until the
 * next get_data call, so each field is copied into the buffer before the
 * next one is looked up. Must never call the line callback from
 * journal_open (the caller is not set up yet) and never read without bound
 * in one loop turn.
 */
#include "journal.h"
#include "log.h"
#include "xalloc.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <systemd/sd-journal.h>

#define JOURNAL_MAX_LINE 16384
#define JOURNAL_BATCH 256
#define PROG_MAX 128            /* longer identifiers are cut */
#define HOST_MAX 255
#define FIELD_NAME_MAX 64
#define UNIT_NAME_MAX 255

struct jsource {
	struct loop *loop;
	sd_journal *sj;
	int fd;
	uint32_t events;
	uint64_t timeout_timer, timeout_at;     /* ids, 0 = none; at in usec */
	uint64_t drain_timer;
	journal_line_fn *fn;
	void *cookie;
	size_t max_line;
	unsigned batch;
	char *buf;
	size_t alloc;
	/* After journal_seek_cursor: the current entry is not consumed yet
	 * (pending) and/or sd-journal cannot name a position (saved). */
	bool pending;
	char *saved_cursor;
	bool busy, dead, failing;
	struct journal_stats st;
};

/* ---- terms ---- */

static bool field_name_ok(const char *s, size_t n)
{
	if (n == 0 || n > FIELD_NAME_MAX || (s[0] >= '0' && s[0] <= '9'))
		return false;
	if (n >= 2 && s[0] == '_' && s[1] == '_')
		return false;   /* address fields (__CURSOR, ...) cannot be matched */
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return false;
	return true;
}

static bool unit_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       strchr(":-_.\\@", c) != NULL;
}

static bool has_unit_suffix(const char *unit)
{
	static const char *const types[] = { "service", "socket", "target", "device", "mount",
					     "automount", "swap", "timer", "path", "slice", "scope" };
	const char *dot = strrchr(unit, '.');

	if (!dot)
		return false;
	for (size_t i = 0; i < sizeof types / sizeof types[0]; i++)
		if (strcmp(dot + 1, types[i]) == 0)
			return true;
	return false;
}

int journal_check_term(const char *term, char *err, size_t errlen)
{
	const char *eq = strchr(term, '=');

	if (eq) {
		if (!field_name_ok(term, (size_t)(eq - term)))
			return errf(err, errlen, "journal match '%s': invalid field name "
				    "(upper case letters, digits and '_', e.g. SYSLOG_IDENTIFIER=postfix/smtpd)",
				    term);
		return 0;
	}
	if (!*term)
		return errf(err, errlen, "empty journal unit name");
	if (strlen(term) > UNIT_NAME_MAX)
		return errf(err, errlen, "journal unit '%.32s...': name too long", term);
	for (const char *p = term; *p; p++)
		if (!unit_char_ok(*p))
			return errf(err, errlen, "journal unit '%s': invalid character '%c' "
				    "(a unit name such as postfix@-.service; globs are not supported)", term, *p);
	return 0;
}

static int add_term(sd_journal *sj, const char *term, char *err, size_t errlen)
{
	char *m;
	int r;

	if (journal_check_term(term, err, errlen) < 0)
		return -1;
	if (strchr(term, '='))
		m = xstrdup(term);
	else
		m = xasprintf("_SYSTEMD_UNIT=%s%s", term, has_unit_suffix(term) ? "" : ".service");
	r = sd_journal_add_match(sj, m, 0);
	free(m);
	if (r < 0)
		return errf(err, errlen, "journal match '%s': %s", term, strerror(-r));
	r = sd_journal_add_disjunction(sj);
	if (r < 0)
		return errf(err, errlen, "journal match '%s': %s", term, strerror(-r));
	return 0;
}

/* ---- reading ---- */

static void drain_cb(struct loop *l, void *arg);

static void destroy(struct jsource *j)
{
	if (j->fd >= 0)
		loop_del_fd(j->loop, j->fd);
	if (j->timeout_timer)
		loop_cancel_timer(j->loop, j->timeout_timer);
	if (j->drain_timer)
		loop_cancel_timer(j->loop, j->drain_timer);
	sd_journal_close(j->sj);
	free(j->saved_cursor);
	free(j->buf);
	free(j);
}

static void schedule_drain(struct jsource *j)
{
	if (!j->drain_timer)
		j->drain_timer = loop_add_timer(j->loop, 0, drain_cb, j);
}

/* Copy n bytes to the buffer at *at, keeping room for a NUL after them. */
static void put(struct jsource *j, size_t *at, const void *p, size_t n)
{
	XGROW(j->buf, j->alloc, *at + n + 1);
	memcpy(j->buf + *at, p, n);
	*at += n;
}

/* The value of field in the current entry; 0, or a negative errno
 * (-ENOENT: no such field). Valid until the next lookup. */
static int get_field(struct jsource *j, const char *field, const char **val, size_t *len)
{
	size_t flen = strlen(field), n;
	const void *d;
	int r;

	r = sd_journal_get_data(j->sj, field, &d, &n);
	if (r < 0)
		return r;
	if (n <= flen)          /* "FIELD=" at least */
		return -EBADMSG;
	*val = (const char *)d + flen + 1;
	*len = n - flen - 1;
	return 0;
}

static long parse_pid(const char *s, size_t n)
{
	long v = 0;

	if (n == 0 || n > 10)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v <= 0x7fffffffL ? v : -1;
}

/* Turn the current entry into a logline and hand it on (or skip it). */
static void deliver(struct jsource *j)
{
	struct logline ll = { .pid = -1, .form = LOGTIME_JOURNAL };
	size_t at = 0, proglen = 0, msg_off, msglen, raw_len, host_off = 0, hostlen = 0;
	bool have_prog = false, have_host = false;
	const char *v;
	size_t n;
	uint64_t usec;

	if ((get_field(j, "SYSLOG_IDENTIFIER", &v, &n) == 0 && n) ||
	    (get_field(j, "_COMM", &v, &n) == 0 && n)) {
		proglen = n < PROG_MAX ? n : PROG_MAX;
		put(j, &at, v, proglen);
		have_prog = true;
	}
	if (get_field(j, "SYSLOG_PID", &v, &n) == 0)
		ll.pid = parse_pid(v, n);
	if (ll.pid < 0 && get_field(j, "_PID", &v, &n) == 0)
		ll.pid = parse_pid(v, n);
	if (have_prog) {
		char pid[24];
		if (ll.pid >= 0)
			put(j, &at, pid, (size_t)snprintf(pid, sizeof pid, "[%ld]", ll.pid));
		put(j, &at, ": ", 2);
	}
	if (get_field(j, "MESSAGE", &v, &n) < 0) {
		j->st.no_message++;
		return;
	}
	msg_off = at;
	msglen = n;
	if (msglen > j->max_line) {
		msglen = j->max_line;
		ll.cut = true;
		j->st.cut++;
	}
	put(j, &at, v, msglen);
	raw_len = at;
	j->buf[at++] = '\0';
	if (get_field(j, "_HOSTNAME", &v, &n) == 0 && n) {
		host_off = at;
		hostlen = n < HOST_MAX ? n : HOST_MAX;
		put(j, &at, v, hostlen);
		j->buf[at++] = '\0';
		have_host = true;
	}
	if (sd_journal_get_realtime_usec(j->sj, &usec) >= 0) {
		ll.time = (int64_t)(usec / 1000000);
		ll.usec = (uint32_t)(usec % 1000000);
	}
	/* pointers only now: put() may have moved the buffer */
	ll.raw = j->buf;
	ll.rawlen = raw_len;
	ll.msg = j->buf + msg_off;
	ll.msglen = msglen;
	if (have_prog) {
		ll.prog = j->buf;
		ll.proglen = proglen;
	}
	if (have_host) {
		ll.host = j->buf + host_off;
		ll.hostlen = hostlen;
	}
	j->st.lines++;
	j->fn(j->cookie, &ll);
}

/* Read at most one batch of entries; re-schedule if there may be more. */
static void drain(struct jsource *j)
{
	unsigned n;
	bool more = true;

	j->busy = true;
	for (n = 0; n < j->batch && !j->dead; n++) {
		int r = j->pending ? 1 : sd_journal_next(j->sj);

		j->pending = false;
		if (r < 0) {
			j->st.errors++;
			if (!j->failing)
				log_warnx("cannot read the journal: %s", strerror(-r));
			j->failing = true;
			more = false;
			break;
		}
		j->failing = false;
		if (r == 0) {
			more = false;
			break;
		}
		free(j->saved_cursor);
		j->saved_cursor = NULL;
		j->st.entries++;
		{
			uint64_t t;
			if (sd_journal_get_realtime_usec(j->sj, &t) >= 0)
				j->st.last_usec = t;
		}
		deliver(j);
	}
	j->st.behind = more && !j->dead;
	j->busy = false;
	if (j->dead)
		destroy(j);
	else if (more)
		schedule_drain(j);
}

static void drain_cb(struct loop *l, void *arg)
{
	struct jsource *j = arg;

	j->drain_timer = 0;
	drain(j);
}

static void timeout_cb(struct loop *l, void *arg);

/* Follow what sd-journal wants watched after each sd_journal_process. */
static void rearm(struct jsource *j)
{
	uint64_t t = UINT64_MAX;
	int e = sd_journal_get_events(j->sj);

	if (e >= 0) {
		uint32_t ev = ((e & POLLIN) ? EPOLLIN : 0) | ((e & POLLOUT) ? EPOLLOUT : 0);
		if (ev != j->events && loop_mod_fd(j->loop, j->fd, ev) == 0)
			j->events = ev;
	}
	if (sd_journal_get_timeout(j->sj, &t) < 0)
		t = UINT64_MAX;
	if (t == j->timeout_at && (j->timeout_timer || t == UINT64_MAX))
		return;
	if (j->timeout_timer)
		loop_cancel_timer(j->loop, j->timeout_timer);
	j->timeout_timer = 0;
	j->timeout_at = t;
	if (t != UINT64_MAX) {
		uint64_t now = loop_now_ms() * 1000, ms = t > now ? (t - now + 999) / 1000 : 0;
		j->timeout_timer = loop_add_timer(j->loop, ms, timeout_cb, j);
	}
}

static void wake(struct jsource *j)
{
	int r = sd_journal_process(j->sj);

	if (r < 0)
		log_warnx("journal: cannot process changes: %s", strerror(-r));
	rearm(j);
	drain(j);
}

static void timeout_cb(struct loop *l, void *arg)
{
	struct jsource *j = arg;

	j->timeout_timer = 0;
	j->timeout_at = UINT64_MAX;
	wake(j);
}

static void fd_cb(struct loop *l, int fd, uint32_t events, void *arg)
{
	wake(arg);
}

/* ---- public ---- */

static int open_journal(sd_journal **sj, const char *path, char *err, size_t errlen)
{
	struct stat sb;
	int r;

	if (!path) {
		r = sd_journal_open(sj, SD_JOURNAL_LOCAL_ONLY | SD_JOURNAL_SYSTEM);
		if (r < 0)
			return errf(err, errlen, "cannot open the system journal: %s", strerror(-r));
		return 0;
	}
	if (stat(path, &sb) < 0)
		return errf(err, errlen, "cannot open journal '%s': %s", path, strerror(errno));
	if (S_ISDIR(sb.st_mode)) {
		r = sd_journal_open_directory(sj, path, 0);
	} else {
		const char *files[] = { path, NULL };
		r = sd_journal_open_files(sj, files, 0);
	}
	if (r < 0)
		return errf(err, errlen, "cannot open journal '%s': %s", path, strerror(-r));
	return 0;
}

int journal_term_has_entries(const char *term, const char *path, char *err, size_t errlen)
{
	sd_journal *sj = NULL;
	int r;

	if (open_journal(&sj, path, err, errlen) < 0)
		return -1;
	if (add_term(sj, term, err, errlen) < 0) {
		sd_journal_close(sj);
		return -1;
	}
	r = sd_journal_seek_head(sj);
	if (r >= 0)
		r = sd_journal_next(sj);
	sd_journal_close(sj);
	if (r < 0)
		return errf(err, errlen, "cannot read the journal: %s", strerror(-r));
	return r > 0;
}

struct jsource *journal_open(struct loop *l, const char *const *terms, const struct journal_opts *opts,
			     journal_line_fn *fn, void *cookie, char *err, size_t errlen)
{
	struct jsource *j;
	size_t max_line = opts && opts->max_line ? opts->max_line : JOURNAL_MAX_LINE;
	int r;

	j = xcalloc(1, sizeof *j);
	j->loop = l;
	j->fd = -1;
	j->fn = fn;
	j->cookie = cookie;
	j->max_line = max_line;
	j->batch = opts && opts->batch ? opts->batch : JOURNAL_BATCH;
	j->timeout_at = UINT64_MAX;
	if (open_journal(&j->sj, opts ? opts->path : NULL, err, errlen) < 0) {
		free(j);
		return NULL;
	}
	for (size_t i = 0; terms && terms[i]; i++)
		if (add_term(j->sj, terms[i], err, errlen) < 0)
			goto fail;
	/* Compressed fields are decompressed only this far: enough to see
	 * that a message is longer than max_line. */
	sd_journal_set_data_threshold(j->sj, max_line + sizeof "MESSAGE=");
	/* The fd first, then the position: changes in between are not lost. */
	r = sd_journal_get_fd(j->sj);
	if (r < 0) {
		errf(err, errlen, "cannot watch the journal: %s (check fs.inotify.max_user_instances "
		     "and max_user_watches)", strerror(-r));
		goto fail;
	}
	j->fd = r;
	r = sd_journal_get_events(j->sj);
	j->events = r > 0 && (r & POLLOUT) ? EPOLLIN | EPOLLOUT : EPOLLIN;
	if (loop_add_fd(l, j->fd, j->events, fd_cb, j) < 0) {
		errf(err, errlen, "cannot watch the journal: %s", strerror(errno));
		j->fd = -1;
		goto fail;
	}
	if (opts && opts->from_start) {
		r = opts->since_usec ? sd_journal_seek_realtime_usec(j->sj, opts->since_usec)
				     : sd_journal_seek_head(j->sj);
	} else {
		r = sd_journal_seek_tail(j->sj);
		/* Stand on the last entry, so that next() yields the first new
		 * one. With no matching entry at all, the tail would make next()
		 * jump to the last of several new entries: then every entry is
		 * new, so start at the head. */
		if (r >= 0 && (r = sd_journal_previous(j->sj)) == 0)
			r = sd_journal_seek_head(j->sj);
	}
	if (r < 0) {
		errf(err, errlen, "cannot position in the journal: %s", strerror(-r));
		goto fail;
	}
	rearm(j);
	schedule_drain(j);      /* from_start, or entries that came meanwhile */
	return j;
fail:
	destroy(j);
	return NULL;
}

void journal_set_cookie(struct jsource *j, void *cookie)
{
	j->cookie = cookie;
}

void journal_close(struct jsource *j)
{
	if (!j)
		return;
	if (j->busy)
		j->dead = true;         /* drain() frees it when the callback returns */
	else
		destroy(j);
}

uint64_t journal_entries_read(const struct jsource *j)
{
	return j->st.entries;
}

void journal_get_stats(const struct jsource *j, struct journal_stats *st)
{
	*st = j->st;
}

char *journal_cursor(struct jsource *j)
{
	char *c = NULL;
	int r;

	if (j->saved_cursor)
		return xstrdup(j->saved_cursor);
	r = sd_journal_get_cursor(j->sj, &c);
	if (r == -ENOMEM)
		fatalx("out of memory");
	return r < 0 ? NULL : c;
}

int journal_seek_cursor(struct jsource *j, const char *cursor, char *err, size_t errlen)
{
	int r;

	r = sd_journal_seek_cursor(j->sj, cursor);
	if (r < 0)
		return errf(err, errlen, "invalid journal cursor '%s': %s", cursor, strerror(-r));
	j->pending = false;
	r = sd_journal_next(j->sj);
	if (r < 0)
		return errf(err, errlen, "cannot seek to journal cursor '%s': %s", cursor, strerror(-r));
	/* On the named entry: consumed. On a later one (the named entry is
	 * gone): that one is still to be delivered. At the end: nothing yet. */
	if (r > 0 && sd_journal_test_cursor(j->sj, cursor) <= 0)
		j->pending = true;
	free(j->saved_cursor);
	j->saved_cursor = r > 0 && !j->pending ? NULL : xstrdup(cursor);
	schedule_drain(j);
	return 0;
}
