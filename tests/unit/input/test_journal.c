// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests for journal.c against real journal files: entries are written
 * in journal export format to systemd-journal-remote, which makes (or
 * appends to) a .journal file; the source reads it through sd-journal and
 * the one event loop. Live tailing is awaited through the loop: the line
 * callback stops it when enough lines arrived, a fail-safe timer fails the
 * test. No sleeps.
 *
 * Without systemd-journal-remote the test is skipped (exit 77), unless
 * CI=true, where a skip is a failure.
 */
#include "journal.h"
#include "loop.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define T0 1700000000000000ULL          /* 2023-11-14T22:13:20Z, usec */
#define SEC 1000000ULL
#define FAILSAFE_MS 10000
#define MAXREC 16

static const char *jr_bin;              /* systemd-journal-remote */

/* ---- writing journal files ---- */

struct ent {
	uint64_t t;                     /* realtime usec; also gives the monotonic stamp */
	const char *unit, *ident, *spid, *pid, *host;
	const char *msg;                /* NULL: no MESSAGE field */
	size_t msglen;                  /* > 0: written as a binary field */
};

static void export_entry(FILE *f, const struct ent *e)
{
	fprintf(f, "__REALTIME_TIMESTAMP=%llu\n", (unsigned long long)e->t);
	fprintf(f, "__MONOTONIC_TIMESTAMP=%llu\n", (unsigned long long)(e->t - T0 + SEC));
	fprintf(f, "_BOOT_ID=0123456789abcdef0123456789abcdef\n");
	if (e->host)
		fprintf(f, "_HOSTNAME=%s\n", e->host);
	if (e->unit)
		fprintf(f, "_SYSTEMD_UNIT=%s\n", e->unit);
	if (e->ident)
		fprintf(f, "SYSLOG_IDENTIFIER=%s\n", e->ident);
	if (e->spid)
		fprintf(f, "SYSLOG_PID=%s\n", e->spid);
	if (e->pid)
		fprintf(f, "_PID=%s\n", e->pid);
	if (e->msg && e->msglen) {
		/* binary field: name, newline, little-endian 64-bit size, data */
		unsigned char le[8];
		for (int i = 0; i < 8; i++)
			le[i] = (unsigned char)((uint64_t)e->msglen >> (8 * i));
		fputs("MESSAGE\n", f);
		fwrite(le, 1, 8, f);
		fwrite(e->msg, 1, e->msglen, f);
		fputc('\n', f);
	} else if (e->msg) {
		fprintf(f, "MESSAGE=%s\n", e->msg);
	}
	fputc('\n', f);
}

/* Feed entries to systemd-journal-remote -o file (creates or appends).
 * 0, or -1 with the reason in why. */
static int write_journal(const char *file, const struct ent *ents, size_t n, char *why, size_t whylen)
{
	char *text = NULL;
	size_t len = 0, off = 0;
	FILE *f = open_memstream(&text, &len), *errs = tmpfile();
	int p[2], st;
	pid_t pid;

	if (!f || !errs || pipe(p) < 0) {
		snprintf(why, whylen, "setup: %s", strerror(errno));
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		export_entry(f, &ents[i]);
	fclose(f);
	pid = fork();
	if (pid < 0) {
		snprintf(why, whylen, "fork: %s", strerror(errno));
		return -1;
	}
	if (pid == 0) {
		dup2(p[0], 0);
		dup2(fileno(errs), 1);
		dup2(fileno(errs), 2);
		close(p[0]);
		close(p[1]);
		execl(jr_bin, jr_bin, "-o", file, "-", (char *)NULL);
		_exit(127);
	}
	close(p[0]);
	while (off < len) {
		ssize_t w = write(p[1], text + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			break;
		off += (size_t)w;
	}
	close(p[1]);
	free(text);
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 || off < len) {
		char out[300] = "";
		size_t got;
		rewind(errs);
		got = fread(out, 1, sizeof out - 1, errs);
		out[got] = '\0';
		snprintf(why, whylen, "%s -o %s failed (status %d): %s", jr_bin, file, st, out);
		fclose(errs);
		return -1;
	}
	fclose(errs);
	return 0;
}

static void must_write(const char *file, const struct ent *ents, size_t n)
{
	char why[512];

	ck_assert_msg(write_journal(file, ents, n, why, sizeof why) == 0, "%s", why);
}

/* ---- a temporary directory per test ---- */

struct tmp {
	char dir[64];
	char file[128];         /* dir/a.journal */
};

static void tmp_make(struct tmp *t)
{
	strcpy(t->dir, "/tmp/ms-journal-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(t->dir));
	snprintf(t->file, sizeof t->file, "%s/a.journal", t->dir);
}

static void tmp_remove(struct tmp *t)
{
	DIR *d = opendir(t->dir);
	struct dirent *de;
	char p[512];

	if (!d)
		return;
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) {
			snprintf(p, sizeof p, "%s/%s", t->dir, de->d_name);
			unlink(p);
		}
	closedir(d);
	rmdir(t->dir);
}

/* ---- collecting lines through the loop ---- */

struct rec {
	char raw[512], msg[512], prog[64], host[64];
	size_t rawlen, msglen;
	bool has_prog, has_host, cut;
	long pid;
	int64_t time;
	uint32_t usec;
	char *cursor;
};

struct ctx {
	struct loop *l;
	struct jsource *js;
	int want, got;
	bool timed_out, cursors, close_in_cb;
	struct rec r[MAXREC];
	/* called when got reaches stage_at (once), e.g. to append more */
	int stage_at;
	void (*stage)(struct ctx *c);
	int marked_at;
	struct tmp *t;
};

static void copy(char *dst, size_t cap, const char *src, size_t n)
{
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

static void on_line(void *cookie, const struct logline *ll)
{
	struct ctx *c = cookie;

	if (c->got < MAXREC) {
		struct rec *r = &c->r[c->got];
		copy(r->raw, sizeof r->raw, ll->raw, ll->rawlen);
		copy(r->msg, sizeof r->msg, ll->msg, ll->msglen);
		r->rawlen = ll->rawlen;
		r->msglen = ll->msglen;
		r->has_prog = ll->prog != NULL;
		if (ll->prog)
			copy(r->prog, sizeof r->prog, ll->prog, ll->proglen);
		r->has_host = ll->host != NULL;
		if (ll->host)
			copy(r->host, sizeof r->host, ll->host, ll->hostlen);
		r->pid = ll->pid;
		r->cut = ll->cut;
		r->time = ll->time;
		r->usec = ll->usec;
		ck_assert_int_eq(ll->raw[ll->rawlen], '\0');
		if (c->cursors)
			r->cursor = journal_cursor(c->js);
	}
	c->got++;
	if (c->stage && c->got == c->stage_at)
		c->stage(c);
	if (c->close_in_cb) {
		journal_close(c->js);
		c->js = NULL;
		loop_stop(c->l);
	}
	if (c->got == c->want)
		loop_stop(c->l);
}

static void failsafe(struct loop *l, void *arg)
{
	struct ctx *c = arg;

	c->timed_out = true;
	loop_stop(l);
}

static void ctx_init(struct ctx *c, struct tmp *t)
{
	memset(c, 0, sizeof *c);
	c->l = loop_new();
	c->t = t;
}

static void ctx_open(struct ctx *c, const char *const *terms, const char *path, bool from_start,
		     size_t max_line, unsigned batch)
{
	struct journal_opts o = { .path = path, .from_start = from_start, .max_line = max_line, .batch = batch };
	char err[512] = "";

	c->js = journal_open(c->l, terms, &o, on_line, c, err, sizeof err);
	ck_assert_msg(c->js != NULL, "journal_open: %s", err);
}

/* Run the loop until want lines arrived (or the fail-safe fired). */
static void ctx_run(struct ctx *c, int want)
{
	uint64_t fs;

	c->want = want;
	fs = loop_add_timer(c->l, FAILSAFE_MS, failsafe, c);
	ck_assert_int_eq(loop_run(c->l), 0);
	loop_cancel_timer(c->l, fs);
	ck_assert_msg(!c->timed_out, "timed out with %d of %d lines", c->got, want);
}

static void ctx_release(struct ctx *c)
{
	journal_close(c->js);
	loop_free(c->l);
	for (int i = 0; i < MAXREC; i++)
		free(c->r[i].cursor);
}

/* ---- selection and fields ---- */

START_TEST(unit_terms_select_entries_and_fill_fields)
{
	const struct ent e[] = {
		{ T0 + 250000, "postfix@-.service", "postfix/smtpd", "123", "100", "mx1",
		  "connect from unknown[203.0.113.5]", 0 },
		{ T0 + SEC, "ssh.service", "sshd", "77", "77", "mx1", "not for us", 0 },
		{ T0 + 2 * SEC + 7, "dovecot.service", "dovecot", NULL, "456", "mx1",
		  "imap-login: Disconnected: Connection closed", 0 },
	};
	const char *terms[] = { "postfix@-.service", "dovecot.service", NULL };
	struct journal_stats st;
	struct tmp t;
	struct ctx c;

	tmp_make(&t);
	must_write(t.file, e, 3);
	ctx_init(&c, &t);
	ctx_open(&c, terms, t.file, true, 0, 0);
	ctx_run(&c, 2);
	/* the sshd entry lies between the two: had it matched, it would be second */
	ck_assert_int_eq(c.got, 2);
	ck_assert_str_eq(c.r[0].prog, "postfix/smtpd");
	ck_assert_int_eq(c.r[0].pid, 123);     /* SYSLOG_PID wins over _PID */
	ck_assert_int_eq(c.r[0].time, (int64_t)(T0 / SEC));
	ck_assert_uint_eq(c.r[0].usec, 250000);
	ck_assert_str_eq(c.r[0].msg, "connect from unknown[203.0.113.5]");
	ck_assert_str_eq(c.r[0].raw, "postfix/smtpd[123]: connect from unknown[203.0.113.5]");
	ck_assert_uint_eq(c.r[0].rawlen, strlen(c.r[0].raw));
	ck_assert(c.r[0].has_host);
	ck_assert_str_eq(c.r[0].host, "mx1");
	ck_assert_str_eq(c.r[1].prog, "dovecot");
	ck_assert_int_eq(c.r[1].pid, 456);     /* no SYSLOG_PID: _PID */
	ck_assert_int_eq(c.r[1].time, (int64_t)(T0 / SEC) + 2);
	ck_assert_uint_eq(c.r[1].usec, 7);
	ck_assert_str_eq(c.r[1].raw, "dovecot[456]: imap-login: Disconnected: Connection closed");
	journal_get_stats(c.js, &st);
	ck_assert_uint_eq(st.entries, 2);
	ck_assert_uint_eq(st.lines, 2);
	ck_assert_uint_eq(journal_entries_read(c.js), 2);
	ctx_release(&c);
	tmp_remove(&t);
}
END_TEST

START_TEST(unit_without_suffix_means_service)
{
	const struct ent e[] = {
		{ T0, "dovecot.socket", "dovecot", NULL, "1", NULL, "socket, not service", 0 },
		{ T0 + SEC, "dovecot.service", "dovecot", NULL, "2", NULL, "the service", 0 },
	};
	const char *terms[] = { "dovecot", NULL };
	struct tmp t;
	struct ctx c;

	tmp_make(&t);
	must_write(t.file, e, 2);
	ctx_init(&c, &t);
	ctx_open(&c, terms, t.file, true, 0, 0);
	ctx_run(&c, 1);
	ck_assert_int_eq(c.got, 1);
	ck_assert_str_eq(c.r[0].msg, "the service");
	ck_assert(!c.r[0].has_host);
	ctx_release(&c);
	tmp_remove(&t);
}
END_TEST

START_TEST(syslog_identifier_term_is_a_field_match)
{
	const struct ent e[] = {
		{ T0, "postfix@-.service", "postfix/smtpd", "10", NULL, NULL, "smtpd one", 0 },
		{ T0 + SEC, "postfix@-.service", "postfix/qmgr", "11", NULL, NULL, "qmgr", 0 },
		{ T0 + 2 * SEC, NULL, "postfix/smtpd", "12", NULL, NULL, "smtpd two, no unit", 0 },
	};
	const char *terms[] = { "SYSLOG_IDENTIFIER=postfix/smtpd", NULL };
	struct tmp t;
	struct ctx c;

	tmp_make(&t);
	must_write(t.file, e, 3);
	ctx_init(&c, &t);
	ctx_open(&c, terms, t.file, true, 0, 0);
	ctx_run(&c, 2);
	ck_assert_int_eq(c.got, 2);
	ck_assert_str_eq(c.r[0].raw, "postfix/smtpd[10]: smtpd one");
	ck_assert_str_eq(c.r[1].raw, "postfix/smtpd[12]: smtpd two, no unit");
	ctx_release(&c);
	tmp_remove(&t);
}
END_TEST

START_TEST(entries_without_message_are_skipped)
{
	const struct ent e[] = {
		{ T0, "x.service", "x", "1", NULL, NULL, NULL, 0 },
		{ T0 + SEC, "x.service", "x", "2", NULL, NULL, "has one", 0 },
	};
	const char *terms[] = { "x.service", NULL };
	struct journal_stats st;
	struct tmp t;
	struct ctx c;

	tmp_make(&t);
	must_write(t.file, e, 2);
	ctx_init(&c, &t);
	ctx_open(&c, terms, t.file, true, 0, 0);
	ctx_run(&c, 1);
	ck_assert_int_eq(c.got, 1);
	ck_assert_str_eq(c.r[0].raw, "x[2]: has one");
	journal_get_stats(c.js, &st);
	ck_assert_uint_eq(st.entries, 2);
	ck_assert_uint_eq(st.no_message, 1);
	ck_assert_uint_eq(st.lines, 1);
	ctx_release(&c);
	tmp_remove(&t);
}
END_TEST

START_TEST(long_message_is_cut_at_max_line)
{
	char longmsg[201];
	const char *terms[] = { "x.service", NULL };
	struct journal_stats st;
	struct tmp t;
	struct ctx c;

	for (int i = 0; i < 200; i++)
		longmsg[i] = (char)('a' + i % 26);
	longmsg[200] = '\0';
	const struct ent e[] = {
		{ T0, "x.service", "x", "5", NULL, NULL, longmsg, 0 },
		{ T0 + SEC, "x.service", "x", "5", NULL, NULL, "short", 0 },
	};
	tmp_make(&t);
	must_write(t.file, e, 2);
	ctx_init(&c, &t);
	ctx_open(&c, terms, t.file, true, 40, 0);
	ctx_run(&c, 2);
	ck_assert_uint_eq(c.r[0].msglen, 40);
	ck_assert_int_eq(memcmp(c.r[0].msg, longmsg, 40), 0);
	ck_assert_uint_eq(c.r[0].rawlen, strlen("x[5]: ") + 40);
	ck_assert_int_eq(strncmp(c.r[0].raw, "x[5]: abcdefghij", 16), 0);
	ck_assert_str_eq(c.r[1].msg, "short");
	journal_get_stats(c.js, &st);
	ck_assert_uint_eq(st.cut, 1);
	ctx_release(&c);
	tmp_remove(&t);
}
END_TEST

/* A cut message must not reach the filters: its end is where max_line
 * fell, not where the server ended it ("rip=203.0.113.55" cut to
 * "rip=203.0.113.5"). The line says it was cut; one of exactly max_line
 * bytes was not. */
START_TEST(cut_message_is_marked_cut)
{
	char exact[41], over[42];
	const char *terms[] = { "x.service", NULL };
	struct tmp t;
	struct ctx c;

	memset(exact, 'e', 40);
	exact[40] = '\0';
	memcpy(over, "rip=203.0.113.55, lip=192.0.2.1, TLS, ab", 40);
	over[40] = 'c';
	over[41] = '\0';
	const struct ent e[] = {
		{ T0, "x.service", "x", "5", NULL, NULL, over, 0 },
		{ T0 + SEC, "x.service", "x", "5", NULL, NULL, exact, 0 },
		{ T0 + 2 * SEC, "x.service", "x", "5", NULL, NULL, "short", 0 },
	};
	tmp_make(&t);
	must_write(t.file, e, 3);
	ctx_init(&c, &t);
	ctx_open(&c, terms, t.file, true, 40, 0);
	ctx_run(&c, 3);
	ck_assert_uint_eq(c.r[0].msglen, 40);
	ck_assert(c.r[0].cut);
	ck_assert_uint_eq(c.r[1].msglen, 40);
	ck_assert(!c.r[1].cut);
	ck_assert(!c.r[2].cut);
	ctx_release(&c);
	tmp_remove(&t);
}
END_TEST

START_TEST(binary_message_is_delivered_by_length)
{
	static const char bin[] = "before\0after\nnext line";
	const struct ent e[] = {
		{ T0, "x.service", "x", "9", NULL, NULL, bin, sizeof bin - 1 },
	};
	const char *terms[] = { "x.service", NULL };
	struct tmp t;
	struct ctx c;

	tmp_make(&t);
	must_write(t.file, e, 1);
	ctx_init(&c, &t);
	ctx_open(&c, terms, t.file, true, 0, 0);
	ctx_run(&c, 1);
	ck_assert_uint_eq(c.r[0].msglen, sizeof bin - 1);
	ck_assert_int_eq(memcmp(c.r[0].msg, bin, sizeof bin - 1), 0);
	ck_assert_uint_eq(c.r[0].rawlen, strlen("x[9]: ") + sizeof bin - 1);
	ctx_release(&c);
	tmp_remove(&t);
}
END_TEST

START_TEST(missing_identifier_falls_back_and_raw_is_the_message)
{
	const struct ent e[] = {
		{ T0, "x.service", NULL, NULL, "33", NULL, "no tag at all", 0 },
	};
	const char *terms[] = { "x.service", NULL };
	struct tmp t;
	struct ctx c;

	tmp_make(&t);
	must_write(t.file, e, 1);
	ctx_init(&c, &t);
	ctx_open(&c, terms, t.file, true, 0, 0);
	ctx_run(&c, 1);
	ck_assert(!c.r[0].has_prog);
	ck_assert_int_eq(c.r[0].pid, 33);
	ck_assert_str_eq(c.r[0].raw, "no tag at all");
	ctx_release(&c);
	tmp_remove(&t);
}
END_TEST

/* ---- position and live tailing ---- */

static void append_b(struct ctx *c)
{
	const struct ent e[] = {
		{ T0 + 20 * SEC, "x.service", "x", "1", NULL, NULL, "new b", 0 },
		{ T0 + 21 * SEC, "x.service", "x", "1", NULL, NULL, "new c", 0 },
	};

	must_write(c->t->file, e, 2);
}

static void append_a(struct loop *l, void *arg)
{
	struct ctx *c = arg;
	const struct ent e[] = {
		{ T0 + 10 * SEC, "x.service", "x", "1", NULL, NULL, "new a", 0 },
	};

	must_write(c->t->file, e, 1);
}

START_TEST(tail_mode_follows_appends_to_the_same_file_live)
{
	const struct ent old[] = {
		{ T0, "x.service", "x", "1", NULL, NULL, "old 1", 0 },
		{ T0 + SEC, "x.service", "x", "1", NULL, NULL, "old 2", 0 },
	};
	const char *terms[] = { "x.service", NULL };
	struct tmp t;
	struct ctx c;

	tmp_make(&t);
	must_write(t.file, old, 2);
	ctx_init(&c, &t);
	ctx_open(&c, terms, t.file, false, 0, 0);
	/* Appended while the loop runs: "new a" from a timer; "new b" and
	 * "new c" from the callback that received "new a", when nothing but
	 * the journal's fd can wake the source again. */
	loop_add_timer(c.l, 0, append_a, &c);
	c.stage_at = 1;
	c.stage = append_b;
	ctx_run(&c, 3);
	ck_assert_int_eq(c.got, 3);
	ck_assert_str_eq(c.r[0].msg, "new a");
	ck_assert_str_eq(c.r[1].msg, "new b");
	ck_assert_str_eq(c.r[2].msg, "new c");
	ck_assert_uint_eq(journal_entries_read(c.js), 3);
	ctx_release(&c);
	tmp_remove(&t);
}
END_TEST

static void write_second_file(struct ctx *c)
{
	char path[160];
	const struct ent e[] = {
		{ T0 + 30 * SEC, "x.service", "x", "2", NULL, NULL, "from b.journal", 0 },
	};

	snprintf(path, sizeof path, "%s/b.journal", c->t->dir);
	must_write(path, e, 1);
}

static void write_first_file(struct loop *l, void *arg)
{
	struct ctx *c = arg;
	const struct ent e[] = {
		{ T0 + 10 * SEC, "x.service", "x", "1", NULL, NULL, "first of two", 0 },
		{ T0 + 11 * SEC, "x.service", "x", "1", NULL, NULL, "second of two", 0 },
	};

	must_write(c->t->file, e, 2);
}

START_TEST(directory_source_picks_up_new_files_live)
{
	const char *terms[] = { "x.service", NULL };
	struct tmp t;
	struct ctx c;
	char *cur;

	tmp_make(&t);
	ctx_init(&c, &t);
	/* an empty directory, opened at its tail */
	ctx_open(&c, terms, t.dir, false, 0, 0);
	cur = journal_cursor(c.js);
	ck_assert_ptr_null(cur);
	/* both entries of the first file count, not only the last one */
	loop_add_timer(c.l, 0, write_first_file, &c);
	c.stage_at = 2;
	c.stage = write_second_file;
	ctx_run(&c, 3);
	ck_assert_int_eq(c.got, 3);
	ck_assert_str_eq(c.r[0].msg, "first of two");
	ck_assert_str_eq(c.r[1].msg, "second of two");
	ck_assert_str_eq(c.r[2].msg, "from b.journal");
	ck_assert_int_eq(c.r[2].pid, 2);
	cur = journal_cursor(c.js);
	ck_assert_ptr_nonnull(cur);
	free(cur);
	ctx_release(&c);
	tmp_remove(&t);
}
END_TEST

static bool behind_at_mark;
static uint64_t last_at_mark;

static void mark(struct loop *l, void *arg)
{
	struct ctx *c = arg;
	struct journal_stats st;

	c->marked_at = c->got;
	journal_get_stats(c->js, &st);
	behind_at_mark = st.behind;
	last_at_mark = st.last_usec;
}

START_TEST(batches_are_bounded_and_yield_to_the_loop)
{
	const struct ent e[] = {
		{ T0, "x.service", "x", "1", NULL, NULL, "one", 0 },
		{ T0 + SEC, "x.service", "x", "1", NULL, NULL, "two", 0 },
		{ T0 + 2 * SEC, "x.service", "x", "1", NULL, NULL, "three", 0 },
		{ T0 + 3 * SEC, "x.service", "x", "1", NULL, NULL, "four", 0 },
		{ T0 + 4 * SEC, "x.service", "x", "1", NULL, NULL, "five", 0 },
	};
	const char *terms[] = { "x.service", NULL };
	struct tmp t;
	struct ctx c;

	tmp_make(&t);
	must_write(t.file, e, 5);
	ctx_init(&c, &t);
	ctx_open(&c, terms, t.file, true, 0, 2);
	/* A timer due now, queued after the source's first read: it must run
	 * after the first batch of two, before the re-scheduled rest. */
	c.marked_at = -1;
	loop_add_timer(c.l, 0, mark, &c);
	ctx_run(&c, 5);
	ck_assert_int_eq(c.got, 5);
	ck_assert_str_eq(c.r[4].msg, "five");
	ck_assert_int_eq(c.marked_at, 2);
	/* between the batches the source knows it is behind, and where */
	ck_assert(behind_at_mark);
	ck_assert_uint_eq(last_at_mark, T0 + SEC);
	{
		struct journal_stats st;
		journal_get_stats(c.js, &st);
		ck_assert(!st.behind);
		ck_assert_uint_eq(st.last_usec, T0 + 4 * SEC);
	}
	ctx_release(&c);
	tmp_remove(&t);
}
END_TEST

START_TEST(cursor_resumes_after_the_last_consumed_entry)
{
	const struct ent e[] = {
		{ T0, "x.service", "x", "1", NULL, NULL, "e1", 0 },
		{ T0 + SEC, "x.service", "x", "1", NULL, NULL, "e2", 0 },
		{ T0 + 2 * SEC, "x.service", "x", "1", NULL, NULL, "e3", 0 },
	};
	const char *terms[] = { "x.service", NULL };
	char err[256], *cur, *c2, *c3;
	struct tmp t;
	struct ctx c;

	tmp_make(&t);
	must_write(t.file, e, 3);
	ctx_init(&c, &t);
	ctx_open(&c, terms, t.file, true, 0, 0);
	c.cursors = true;
	ctx_run(&c, 3);
	ck_assert_ptr_nonnull(c.r[1].cursor);
	ck_assert_ptr_nonnull(c.r[2].cursor);
	ck_assert_str_ne(c.r[1].cursor, c.r[2].cursor);
	c2 = strdup(c.r[1].cursor);
	c3 = strdup(c.r[2].cursor);
	ctx_release(&c);

	/* opened at the tail, the position is the last entry */
	ctx_init(&c, &t);
	ctx_open(&c, terms, t.file, false, 0, 0);
	cur = journal_cursor(c.js);
	ck_assert_str_eq(cur, c3);
	free(cur);
	/* resume after e2: e3 only (had more come, the same drain would
	 * have delivered them before the loop stopped) */
	ck_assert_int_eq(journal_seek_cursor(c.js, c2, err, sizeof err), 0);
	cur = journal_cursor(c.js);
	ck_assert_str_eq(cur, c2);
	free(cur);
	ctx_run(&c, 1);
	ck_assert_int_eq(c.got, 1);
	ck_assert_str_eq(c.r[0].msg, "e3");
	cur = journal_cursor(c.js);
	ck_assert_str_eq(cur, c3);
	free(cur);
	ck_assert_int_eq(journal_seek_cursor(c.js, "no cursor", err, sizeof err), -1);
	ck_assert_ptr_nonnull(strstr(err, "no cursor"));
	ctx_release(&c);
	tmp_remove(&t);

	/* e2 is not in this other file: resume at the first entry after it */
	const struct ent other[] = { e[0], e[2] };
	tmp_make(&t);
	must_write(t.file, other, 2);
	ctx_init(&c, &t);
	ctx_open(&c, terms, t.file, false, 0, 0);
	ck_assert_int_eq(journal_seek_cursor(c.js, c2, err, sizeof err), 0);
	cur = journal_cursor(c.js);
	ck_assert_str_eq(cur, c2);
	free(cur);
	ctx_run(&c, 1);
	ck_assert_int_eq(c.got, 1);
	ck_assert_str_eq(c.r[0].msg, "e3");
	ctx_release(&c);
	tmp_remove(&t);
	free(c2);
	free(c3);
}
END_TEST

START_TEST(close_from_the_callback_stops_delivery)
{
	const struct ent e[] = {
		{ T0, "x.service", "x", "1", NULL, NULL, "e1", 0 },
		{ T0 + SEC, "x.service", "x", "1", NULL, NULL, "e2", 0 },
	};
	const char *terms[] = { "x.service", NULL };
	struct tmp t;
	struct ctx c;

	tmp_make(&t);
	must_write(t.file, e, 2);
	ctx_init(&c, &t);
	ctx_open(&c, terms, t.file, true, 0, 0);
	c.close_in_cb = true;
	ctx_run(&c, 1);
	ck_assert_int_eq(c.got, 1);
	ck_assert_ptr_null(c.js);
	ctx_release(&c);
	tmp_remove(&t);
}
END_TEST

/* ---- errors ---- */

START_TEST(bad_terms_and_paths_are_reported)
{
	const char *bad[] = { "syslog_identifier=x", "1FIELD=x", "__CURSOR=x", "=x",
			      "postfix*.service", "post fix", "", NULL };
	const char *terms[] = { "dovecot.service", "bad field=x", NULL };
	struct journal_opts o = { .path = "/nonexistent/journal" };
	struct loop *l = loop_new();
	char err[256];

	for (int i = 0; bad[i]; i++) {
		err[0] = '\0';
		ck_assert_msg(journal_check_term(bad[i], err, sizeof err) == -1, "accepted '%s'", bad[i]);
		ck_assert_msg(err[0], "no message for '%s'", bad[i]);
	}
	ck_assert_int_eq(journal_check_term("SYSLOG_IDENTIFIER=postfix/smtpd", err, sizeof err), 0);
	ck_assert_int_eq(journal_check_term("_SYSTEMD_UNIT=x.service", err, sizeof err), 0);
	ck_assert_int_eq(journal_check_term("postfix@-.service", err, sizeof err), 0);
	ck_assert_ptr_null(journal_open(l, NULL, &o, on_line, NULL, err, sizeof err));
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent/journal"));
	o.path = "/tmp";
	ck_assert_ptr_null(journal_open(l, terms, &o, on_line, NULL, err, sizeof err));
	ck_assert_ptr_nonnull(strstr(err, "bad field=x"));
	loop_free(l);
}
END_TEST

START_TEST(system_journal_opens_without_a_path)
{
	const char *terms[] = { "postfix@-.service", "SYSLOG_IDENTIFIER=postfix/smtpd", NULL };
	struct loop *l = loop_new();
	struct jsource *js;
	char err[256] = "", *cur;

	/* The machine's own journal (possibly empty, as in a container
	 * without journald): opening at the tail must work either way. */
	js = journal_open(l, terms, NULL, on_line, NULL, err, sizeof err);
	ck_assert_msg(js != NULL, "journal_open: %s", err);
	cur = journal_cursor(js);
	free(cur);
	journal_close(js);
	loop_free(l);
}
END_TEST

/* ---- main ---- */

static const char *find_journal_remote(void)
{
	static const char *const cand[] = { "/usr/lib/systemd/systemd-journal-remote",
					    "/lib/systemd/systemd-journal-remote",
					    "/usr/bin/systemd-journal-remote" };

	for (size_t i = 0; i < sizeof cand / sizeof cand[0]; i++)
		if (access(cand[i], X_OK) == 0)
			return cand[i];
	return NULL;
}

/* Can we make a journal file here? 0, or -1 with the reason. */
static int probe(char *why, size_t whylen)
{
	const struct ent e = { T0, "x.service", "x", "1", NULL, NULL, "probe", 0 };
	char dir[] = "/tmp/ms-journal-probe-XXXXXX", file[64];
	int r;

	jr_bin = find_journal_remote();
	if (!jr_bin) {
		snprintf(why, whylen, "systemd-journal-remote not found (apt-get install systemd-journal-remote)");
		return -1;
	}
	if (!mkdtemp(dir)) {
		snprintf(why, whylen, "mkdtemp: %s", strerror(errno));
		return -1;
	}
	snprintf(file, sizeof file, "%s/p.journal", dir);
	r = write_journal(file, &e, 1, why, whylen);
	unlink(file);
	rmdir(dir);
	return r;
}

int main(void)
{
	const char *ci = getenv("CI");
	Suite *s = suite_create("journal");
	TCase *tc = tcase_create("journal");
	char why[512];
	SRunner *sr;
	int nf;

	if (probe(why, sizeof why) < 0) {
		if (ci && strcmp(ci, "true") == 0) {
			fprintf(stderr, "test_journal: cannot run under CI=true: %s\n", why);
			return EXIT_FAILURE;
		}
		fprintf(stderr, "test_journal: SKIP: %s\n", why);
		return 77;
	}
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, unit_terms_select_entries_and_fill_fields);
	tcase_add_test(tc, unit_without_suffix_means_service);
	tcase_add_test(tc, syslog_identifier_term_is_a_field_match);
	tcase_add_test(tc, entries_without_message_are_skipped);
	tcase_add_test(tc, long_message_is_cut_at_max_line);
	tcase_add_test(tc, cut_message_is_marked_cut);
	tcase_add_test(tc, binary_message_is_delivered_by_length);
	tcase_add_test(tc, missing_identifier_falls_back_and_raw_is_the_message);
	tcase_add_test(tc, tail_mode_follows_appends_to_the_same_file_live);
	tcase_add_test(tc, directory_source_picks_up_new_files_live);
	tcase_add_test(tc, batches_are_bounded_and_yield_to_the_loop);
	tcase_add_test(tc, cursor_resumes_after_the_last_consumed_entry);
	tcase_add_test(tc, close_from_the_callback_stops_delivery);
	tcase_add_test(tc, bad_terms_and_paths_are_reported);
	tcase_add_test(tc, system_journal_opens_without_a_path);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	nf = srunner_ntests_failed(sr);
	srunner_free(sr);
	return nf ? EXIT_FAILURE : EXIT_SUCCESS;
}
