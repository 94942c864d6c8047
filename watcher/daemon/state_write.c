// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * state_write - a snapshot of the daemon's state written to STATE_DIR/state
 * (the format: state.h), in the daemon itself (state_save) or behind the
 * loop's back in a forked child (state_saver_*).
 *
 * Writing never stalls the loop. A snapshot is formatted straight into a
 * 64 KiB buffer that goes to the file whenever it fills (no stdio, no
 * copy of the whole text in memory), and while the daemon runs, a forked
 * child does it: fork() gives the child the daemon's memory as it is at
 * that instant, copy-on-write, so the counts and the read positions in
 * the snapshot still belong to one instant, while the loop goes on at
 * once. Measured with 100,000 failures from distinct IPv6 /64s with
 * distinct 200-byte user names (tests/bench/spray.sh): formatting the
 * 53 MB snapshot in the loop took 120-180 ms and its fsync 60 ms more,
 * and both grow with the tables (max_keys allows ten times as many keys),
 * so no in-loop or chunked formatting can bound a control answer; chunking
 * would also need a copy of every table to keep one instant. The fork
 * costs a copy of the page tables only: 2-8 ms for 45 MB of tables on
 * the 2-core test machine (a virtual one), 5-20 ms for 140 MB, against
 * seconds of formatting at that size. The few things that cannot be read from memory
 * (files' fingerprints, journal cursors: sd_journal refuses to work in a
 * forked child) are formatted in the daemon before the fork.
 *
 * The child (child.h: it keeps no descriptor of the daemon's and dies with
 * it) writes crash-safe as the daemon does (file_replace, fileio.h): its
 * own temporary file (.state.PID.tmp, removed if it fails or is killed),
 * fsync, rename, fsync of the directory. One child at a time; at stop a
 * running child is killed and the last snapshot written in the daemon
 * itself.
 *
 * Owns: the output buffer, the saver and its one child, and the child's
 * temporary file.
 *
 * Must never: reach into the daemon (no daemon.h: what it saves comes
 * through the read-only view of plain records, struct state_view), log
 * in the child (it reports), or read a snapshot back (state_read.c).
 */
#include "state_int.h"
#include "child.h"
#include "fileio.h"
#include "log.h"
#include "xalloc.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define OUT_CHUNK (64 * 1024)

/* ---- writing: a snapshot goes out through a 64 KiB buffer ---- */

struct out {
	int fd;                 /* the file; -1: into mem instead */
	int err;                /* errno of the first failed write, or 0 */
	uint64_t hash;          /* FNV-1a 64 of every byte passed on so far */
	char *mem;              /* fd -1: what was passed on */
	size_t memlen, memalloc;
	size_t len;
	char buf[OUT_CHUNK];
};

static void out_flush(struct out *o)
{
	if (!o->len)
		return;
	o->hash = fnv_more(o->hash, o->buf, o->len);
	if (o->fd < 0) {
		XGROW(o->mem, o->memalloc, o->memlen + o->len);
		memcpy(o->mem + o->memlen, o->buf, o->len);
		o->memlen += o->len;
	} else if (!o->err && write_all(o->fd, o->buf, o->len) < 0) {
		o->err = errno ? errno : EIO;
	}
	o->len = 0;
}

static struct out *out_new(int fd)
{
	struct out *o = xmalloc(sizeof *o);

	o->fd = fd;
	o->err = 0;
	o->hash = FNV_SEED;
	o->mem = NULL;
	o->memlen = o->memalloc = 0;
	o->len = 0;
	return o;
}

/* Room for n more bytes (n <= OUT_CHUNK). */
static inline char *out_room(struct out *o, size_t n)
{
	if (o->len + n > sizeof o->buf)
		out_flush(o);
	return o->buf + o->len;
}

static void put_mem(struct out *o, const char *s, size_t n)
{
	while (n) {
		size_t k = sizeof o->buf - o->len;
		if (!k) {
			out_flush(o);
			continue;
		}
		if (k > n)
			k = n;
		memcpy(o->buf + o->len, s, k);
		o->len += k;
		s += k;
		n -= k;
	}
}

static inline void put_c(struct out *o, char c)
{
	*out_room(o, 1) = c;
	o->len++;
}

static void put_s(struct out *o, const char *s)
{
	put_mem(o, s, strlen(s));
}

static void put_u64(struct out *o, uint64_t v)
{
	char tmp[20], *p = tmp + sizeof tmp;

	do
		*--p = (char)('0' + v % 10);
	while ((v /= 10));
	put_mem(o, p, (size_t)(tmp + sizeof tmp - p));
}

static const char hexdig[] = "0123456789abcdef";

/* A string, %-escaped: every byte outside '!'..'~', and '%'. */
static void put_str(struct out *o, const char *s, size_t n)
{
	if (!n)
		put_mem(o, "%-", 2);            /* the empty string */
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		char *w = out_room(o, 3);
		if (c > ' ' && c < 0x7f && c != '%') {
			w[0] = (char)c;
			o->len++;
		} else {
			w[0] = '%';
			w[1] = hexdig[c >> 4];
			w[2] = hexdig[c & 15];
			o->len += 3;
		}
	}
}

static void put_cstr(struct out *o, const char *s)
{
	put_str(o, s, strlen(s));
}

static void put_hex(struct out *o, const void *key, size_t n)
{
	const unsigned char *k = key;

	if (!n)
		put_c(o, '-');
	for (size_t i = 0; i < n; i++) {
		char *w = out_room(o, 2);
		w[0] = hexdig[k[i] >> 4];
		w[1] = hexdig[k[i] & 15];
		o->len += 2;
	}
}

static void put_times(struct out *o, const uint64_t *t, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++) {
		if (i)
			put_c(o, ',');
		put_u64(o, t[i]);
	}
	if (!n)
		put_c(o, '-');
}

static void put_expiry(struct out *o, uint64_t ms)
{
	if (ms == UINT64_MAX)
		put_c(o, '-');
	else
		put_u64(o, ms);
}

static void dump_window(void *arg, const char *table, const void *key, size_t klen, const uint64_t *times, uint32_t n)
{
	struct out *o = arg;

	put_mem(o, "window ", 7);
	put_cstr(o, table);
	put_c(o, ' ');
	put_hex(o, key, klen);
	put_c(o, ' ');
	put_times(o, times, n);
	put_c(o, '\n');
}

static void dump_offender(void *arg, const void *key, size_t klen, const uint64_t *times, uint32_t n)
{
	struct out *o = arg;

	put_mem(o, "offender ", 9);
	put_hex(o, key, klen);
	put_c(o, ' ');
	put_times(o, times, n);
	put_c(o, '\n');
}

static void dump_block(void *arg, const struct block *b)
{
	struct out *o = arg;
	char t[CIDR_STRLEN];

	cidr_format(&b->target, t);
	put_mem(o, "block ", 6);
	put_s(o, t);
	put_c(o, ' ');
	put_u64(o, b->start_ms);
	put_c(o, ' ');
	put_expiry(o, b->expiry_ms);
	put_c(o, ' ');
	put_u64(o, b->times);
	put_c(o, ' ');
	put_cstr(o, b->origin);
	put_c(o, ' ');
	put_cstr(o, b->reason);
	put_c(o, '\n');
}

static void dump_ended(void *arg, const struct history_entry *e)
{
	struct out *o = arg;
	char t[CIDR_STRLEN];

	put_mem(o, "ended ", 6);
	if (e->account) {
		put_s(o, "account ");
		put_cstr(o, e->user);
	} else {
		cidr_format(&e->target, t);
		put_s(o, "addr ");
		put_s(o, t);
	}
	put_c(o, ' ');
	put_u64(o, e->start_ms);
	put_c(o, ' ');
	put_u64(o, e->end_ms);
	put_c(o, ' ');
	put_cstr(o, e->how);
	put_c(o, ' ');
	put_cstr(o, e->origin);
	put_c(o, ' ');
	put_cstr(o, e->reason);
	put_c(o, '\n');
}

static void dump_total(void *arg, const char *rule, uint64_t blocks)
{
	struct out *o = arg;

	put_mem(o, "total ", 6);
	put_cstr(o, rule);
	put_c(o, ' ');
	put_u64(o, blocks);
	put_c(o, '\n');
}

static void dump_stats(void *arg, const char *line)
{
	struct out *o = arg;

	put_mem(o, "stats ", 6);
	put_cstr(o, line);
	put_c(o, '\n');
}

static void dump_allow(void *arg, const struct cidr *target, uint64_t expiry_ms)
{
	struct out *o = arg;
	char t[CIDR_STRLEN];

	cidr_format(target, t);
	put_mem(o, "allow ", 6);
	put_s(o, t);
	put_c(o, ' ');
	put_expiry(o, expiry_ms);
	put_c(o, '\n');
}

static void dump_account(void *arg, const struct state_account *a)
{
	struct out *o = arg;

	put_mem(o, "account ", 8);
	put_str(o, a->user, a->len);
	put_c(o, ' ');
	put_u64(o, a->start_ms);
	put_c(o, ' ');
	put_expiry(o, a->expiry_ms);
	put_c(o, ' ');
	put_cstr(o, a->origin);
	put_c(o, ' ');
	put_cstr(o, a->reason);
	put_c(o, '\n');
}

static void dump_pos(void *arg, const char *source, const struct tail_pos *p)
{
	struct out *o = arg;

	put_mem(o, "file ", 5);
	put_cstr(o, source);
	put_c(o, ' ');
	put_cstr(o, p->path);
	put_c(o, ' ');
	put_u64(o, p->dev);
	put_c(o, ' ');
	put_u64(o, p->ino);
	put_c(o, ' ');
	put_u64(o, p->offset);
	put_c(o, ' ');
	put_u64(o, p->fp);
	put_c(o, ' ');
	put_u64(o, p->fp_len);
	put_c(o, '\n');
}

struct sources_text {
	char *text;
	size_t len;
};

static void dump_journal(void *arg, const char *source, const char *cursor)
{
	struct out *o = arg;

	put_mem(o, "journal ", 8);
	put_cstr(o, source);
	put_c(o, ' ');
	put_cstr(o, cursor);
	put_c(o, '\n');
}

/* What cannot be read from memory alone - the files' positions (fstat and
 * the head's fingerprint) and the journal's cursors (sd_journal refuses to
 * work in a forked child) - is formatted first, in the daemon itself. */
static void format_sources(const struct state_view *v, struct sources_text *st)
{
	struct out *o = out_new(-1);

	if (v->files)
		v->files(v->arg, dump_pos, o);
	if (v->journals)
		v->journals(v->arg, dump_journal, o);
	out_flush(o);
	st->len = o->memlen;
	st->text = o->mem;
	free(o);
}

/* Everything else: from memory only, so that a forked child can do it. */
static void format_state(const struct state_view *v, uint64_t now_ms, const struct sources_text *st, struct out *o)
{
	put_mem(o, "mailscreen-state ", 17);
	put_u64(o, STATE_VERSION);
	put_c(o, ' ');
	put_u64(o, now_ms);
	put_c(o, '\n');
	if (v->blocks)
		v->blocks(v->arg, dump_block, o);
	if (v->allows)
		v->allows(v->arg, dump_allow, o);
	if (v->accounts)
		v->accounts(v->arg, dump_account, o);
	if (v->offenders)
		v->offenders(v->arg, dump_offender, o);
	if (v->windows)
		v->windows(v->arg, dump_window, o);
	if (v->ended)
		v->ended(v->arg, dump_ended, o);
	if (v->totals)
		v->totals(v->arg, dump_total, o);
	if (v->stats)
		v->stats(v->arg, dump_stats, o);
	if (v->cluster_pos && v->cluster_pos(v->arg) && *v->cluster_pos(v->arg)) {
		put_mem(o, "cluster ", 8);
		put_cstr(o, v->cluster_pos(v->arg));
		if (v->cluster_stream && v->cluster_stream(v->arg) && *v->cluster_stream(v->arg)) {
			put_c(o, ' ');
			put_cstr(o, v->cluster_stream(v->arg));
		}
		put_c(o, '\n');
	}
	put_mem(o, st->text, st->len);
	/* the checksum line covers every byte before it */
	out_flush(o);
	{
		char end[32];
		int n = snprintf(end, sizeof end, "end %016llx\n", (unsigned long long)o->hash);
		if (!o->err && write_all(o->fd, end, (size_t)n) < 0)
			o->err = errno ? errno : EIO;
	}
}

static char *tmp_path(const char *dir, long pid)
{
	return xasprintf("%s/.state.%ld.tmp", dir, pid);
}

struct snapshot {
	const struct state_view *v;
	uint64_t now_ms;
	const struct sources_text *st;
};

static int fill(void *arg, int fd, const char *tmp, char *err, size_t errlen)
{
	const struct snapshot *sn = arg;
	struct out *o = out_new(fd);
	int e;

	format_state(sn->v, sn->now_ms, sn->st, o);
	e = o->err;
	free(o);
	if (e)
		return errf(err, errlen, "cannot write '%s': %s", tmp, strerror(e));
	return 0;
}

/* Write the snapshot into a temporary file of its own, make it durable and
 * put it in place of the old one. 0, or -1 with a message. */
static int write_snapshot(const struct state_view *v, const char *dir, uint64_t now_ms,
			  const struct sources_text *st, char *err, size_t errlen)
{
	char *path = xasprintf("%s/state", dir), *tmp = tmp_path(dir, (long)getpid());
	struct snapshot sn = { v, now_ms, st };
	int rc;

	/* a directory that cannot be synced after the rename is no failure:
	 * the new content is in place either way */
	rc = file_replace(path, tmp, fill, &sn, err, errlen);
	free(path);
	free(tmp);
	return rc < 0 ? -1 : 0;
}

int state_save(const char *state_dir, const struct state_view *v, uint64_t now_ms, char *err, size_t errlen)
{
	struct sources_text st;
	int rc;

	format_sources(v, &st);
	rc = write_snapshot(v, state_dir, now_ms, &st, err, errlen);
	free(st.text);
	return rc;
}

/* ---- writing behind the loop's back: a forked child (child.h) ---- */

struct state_saver {
	struct loop *loop;
	state_saved_fn *fn;
	void *arg;
	struct child *job;      /* the child writing, or NULL */
	char *dir;              /* where it writes */
};

struct job {
	const struct state_view *v;
	const char *dir;
	uint64_t now_ms;
	const struct sources_text *st;
};

static int save_in_child(void *arg, char *err, size_t errlen)
{
	const struct job *j = arg;

	return write_snapshot(j->v, j->dir, j->now_ms, j->st, err, errlen);
}

/* A child that died half-way leaves its temporary file. */
static void remove_tmp(const char *dir, pid_t pid)
{
	char *tmp = tmp_path(dir, (long)pid);

	unlink(tmp);
	free(tmp);
}

static void saved(void *arg, pid_t pid, int rc, const char *msg)
{
	struct state_saver *sv = arg;

	sv->job = NULL;
	if (rc < 0)
		remove_tmp(sv->dir, pid);
	sv->fn(sv->arg, rc, msg);
}

struct state_saver *state_saver_new(struct loop *l, state_saved_fn *fn, void *arg)
{
	struct state_saver *sv = xcalloc(1, sizeof *sv);

	sv->loop = l;
	sv->fn = fn;
	sv->arg = arg;
	return sv;
}

bool state_saver_busy(const struct state_saver *sv)
{
	return sv && sv->job;
}

int state_saver_start(struct state_saver *sv, const char *state_dir, const struct state_view *v, uint64_t now_ms,
		      char *err, size_t errlen)
{
	struct sources_text st;
	struct job j = { v, state_dir, now_ms, &st };

	if (sv->job)
		return errf(err, errlen, "a snapshot is being written already");
	format_sources(v, &st);
	free(sv->dir);
	sv->dir = xstrdup(j.dir);
	sv->job = child_start(sv->loop, save_in_child, &j, saved, sv, err, errlen);
	free(st.text);
	return sv->job ? 0 : -1;
}

void state_saver_cancel(struct state_saver *sv)
{
	pid_t pid;

	if (!sv || !sv->job)
		return;
	pid = child_pid(sv->job);
	child_kill(sv->job);
	sv->job = NULL;
	remove_tmp(sv->dir, pid);
}

void state_saver_free(struct state_saver *sv)
{
	if (!sv)
		return;
	state_saver_cancel(sv);
	free(sv->dir);
	free(sv);
}
