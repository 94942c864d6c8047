// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * state - see state.h. The snapshot is text, one record a line, so that
 * an admin can read it and a damaged one is easy to recognise:
 *
 *   mailscreen-state 1 SAVED_MS
 *   block CIDR START_MS EXPIRY_MS|- TIMES ORIGIN REASON
 *   allow CIDR EXPIRY_MS|-
 *   account USER START_MS EXPIRY_MS|- ORIGIN REASON
 *   offender HEXKEY T,T,...
 *   window TABLE HEXKEY T,T,...
 *   ended addr|account TARGET START_MS END_MS HOW ORIGIN REASON
 *   total RULE BLOCKS
 *   stats LINE         (a bucket of stats.h; a file without them loads)
 *   file SOURCE PATH DEV INO OFFSET FP FP_LEN
 *   journal SOURCE CURSOR
 *   cluster STREAM_ID  (the cluster's read position; a file without it loads)
 *   end HASH
 *
 * Strings are %-escaped (every byte outside '!'..'~', and '%'); HASH is
 * FNV-1a 64 of every byte before the "end" line, so a torn or edited file
 * is refused. Owns only the file (and the child writing it). Never sees
 * the daemon: what it saves comes through a read-only view of plain
 * records, what it reads back goes to the callbacks of a sink, which put
 * it where it belongs (state.h). Text read back is trusted no more than a
 * control request: a reason or origin with a control character (older
 * versions took them from the control socket) is handed on escaped
 * (\xNN), never raw, and a block or an account block the sink refuses
 * (a target it must never block, a name the deny file cannot hold) is
 * reported and skipped.
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
 * own temporary file (.state.PID.tmp, removed if it fails or is killed,
 * and at start), fsync, rename, fsync of the directory. One child at a
 * time; at stop a running child is killed and the last snapshot written
 * in the daemon itself.
 *
 * Must never: reach into the daemon (no daemon.h: only the view and the
 * sink), log in the child (it reports), or hand a sink a record it did
 * not check (fields parsed whole, lengths bounded, texts made printable).
 */
#include "state.h"
#include "child.h"
#include "fileio.h"
#include "hex.h"
#include "jsonw.h"
#include "log.h"
#include "window.h"
#include "xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define STATE_VERSION 1
#define STATE_MAX_SIZE (1ULL << 30)
#define FNV_SEED 1469598103934665603ULL
#define OUT_CHUNK (64 * 1024)
/* what an origin and a reason are cut to when read back: a block's sizes
 * (an account block's are the same) */
#define ORIGIN_LEN sizeof(((struct block *)NULL)->origin)
#define REASON_LEN sizeof(((struct block *)NULL)->reason)

static uint64_t fnv_more(uint64_t h, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 1099511628211ULL;
	return h;
}

static uint64_t fnv(const char *p, size_t n)
{
	return fnv_more(FNV_SEED, p, n);
}

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

/* What cannot be read from memory alone - the files' positions (fstat and
 * the head's fingerprint) and the journal's cursors (sd_journal refuses to
 * work in a forked child) - is formatted first, in the daemon itself. */
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

/* ---- reading ---- */

/* Unescape s in place; returns its length or -1. */
static long get_str(char *s)
{
	size_t o = 0;

	if (strcmp(s, "%-") == 0) {
		*s = '\0';
		return 0;
	}
	for (size_t i = 0; s[i]; i++) {
		if (s[i] == '%') {
			int a = hex_value(s[i + 1]), b = a < 0 ? -1 : hex_value(s[i + 2]);
			if (a < 0 || b < 0)
				return -1;
			s[o++] = (char)(a << 4 | b);
			i += 2;
		} else {
			s[o++] = s[i];
		}
	}
	s[o] = '\0';
	return (long)o;
}

static long get_hex(const char *s, unsigned char *out, size_t max)
{
	size_t n = 0;

	if (strcmp(s, "-") == 0)
		return 0;
	for (; s[0] && s[1] && n < max; s += 2) {
		int a = hex_value(s[0]), b = hex_value(s[1]);
		if (a < 0 || b < 0)
			return -1;
		out[n++] = (unsigned char)(a << 4 | b);
	}
	return *s ? -1 : (long)n;
}

/* s (n bytes, unescaped) as printable text: s itself when it is, else
 * escaped into buf (counted in *escaped). Keeps the record and its
 * meaning; drops only the power of its bytes over a log or a terminal. */
static const char *printable(const char *s, long n, char *buf, size_t buflen, size_t *escaped)
{
	if (text_printable(s, (size_t)n, NULL))
		return s;
	text_escape(buf, buflen, s, (size_t)n);
	(*escaped)++;
	return buf;
}

static bool get_u64(const char *s, uint64_t *v)
{
	char *end;

	if (strcmp(s, "-") == 0) {
		*v = UINT64_MAX;
		return true;
	}
	errno = 0;
	*v = strtoull(s, &end, 10);
	return !errno && end != s && !*end;
}

static uint32_t get_times(char *s, uint64_t *out, uint32_t max)
{
	uint32_t n = 0;
	char *save = NULL;

	if (strcmp(s, "-") == 0)
		return 0;
	for (char *t = strtok_r(s, ",", &save); t && n < max; t = strtok_r(NULL, ",", &save))
		if (get_u64(t, &out[n]))
			n++;
	return n;
}

/* Split a line into at most max space-separated fields. */
static int fields(char *line, char **f, int max)
{
	int n = 0;
	char *save = NULL;

	for (char *t = strtok_r(line, " ", &save); t && n < max; t = strtok_r(NULL, " ", &save))
		f[n++] = t;
	return n;
}

static void set_aside(const char *path, const char *why)
{
	char *bad = xasprintf("%s.bad-%lld", path, (long long)time(NULL));

	if (rename(path, bad) == 0)
		log_warnx("%s: %s; set aside as '%s', starting without saved state", path, why, bad);
	else
		log_warnx("%s: %s; starting without saved state (cannot set it aside: %s)", path, why, strerror(errno));
	free(bad);
}

/* Temporary files of writers that were killed half-way (.state.PID.tmp,
 * and .state.tmp of earlier versions): never a snapshot, only litter. */
static void remove_leftovers(const char *state_dir)
{
	DIR *dir = opendir(state_dir);
	struct dirent *de;

	if (!dir)
		return;
	while ((de = readdir(dir))) {
		size_t n = strlen(de->d_name);
		if (n >= 10 && strncmp(de->d_name, ".state.", 7) == 0 && strcmp(de->d_name + n - 4, ".tmp") == 0)
			unlinkat(dirfd(dir), de->d_name, 0);
	}
	closedir(dir);
}

void state_load(const char *state_dir, struct saved_state *s)
{
	char *path = xasprintf("%s/state", state_dir), *text = NULL, *end, *p;
	struct stat st;
	int fd;
	size_t len = 0;
	unsigned long long hash;
	int version;

	memset(s, 0, sizeof *s);
	remove_leftovers(state_dir);
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno != ENOENT)
			log_warn("cannot read saved state '%s'", path);
		free(path);
		return;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > STATE_MAX_SIZE) {
		close(fd);
		set_aside(path, "not a regular file, or too big");
		free(path);
		return;
	}
	text = xmalloc((size_t)st.st_size + 1);
	while (len < (size_t)st.st_size) {
		ssize_t r = read(fd, text + len, (size_t)st.st_size - len);
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	text[len] = '\0';
	/* the last line must be "end HASH" over everything before it */
	end = len >= 2 ? memrchr(text, '\n', len - 1) : NULL;
	if (len < 2 || text[len - 1] != '\n' || !end || sscanf(end + 1, "end %16llx", &hash) != 1 ||
	    memchr(text, '\0', len) || fnv(text, (size_t)(end + 1 - text)) != hash) {
		free(text);
		set_aside(path, len ? "torn or damaged (its checksum does not match)" : "empty");
		free(path);
		return;
	}
	if (sscanf(text, "mailscreen-state %d %llu", &version, &hash) != 2 || version != STATE_VERSION) {
		free(text);
		set_aside(path, "not a state file of this version");
		free(path);
		return;
	}
	end[1] = '\0';
	s->saved_ms = hash;
	s->text = text;
	s->len = (size_t)(end + 1 - text);
	s->loaded = true;
	/* positions now: they are needed when the sources open */
	for (p = strchr(text, '\n') + 1; p && *p;) {
		char *nl = strchr(p, '\n'), *line, *f[9];
		int n;
		if (!nl)
			break;
		if (strncmp(p, "file ", 5) && strncmp(p, "journal ", 8) && strncmp(p, "cluster ", 8)) {
			p = nl + 1;
			continue;
		}
		line = xstrndup(p, (size_t)(nl - p));
		n = fields(line, f, 9);
		if (n == 8 && strcmp(f[0], "file") == 0 && get_str(f[1]) >= 0 && get_str(f[2]) >= 0) {
			struct saved_file sf = { .source = xstrdup(f[1]), .path = xstrdup(f[2]) };
			uint64_t fplen;
			sf.pos.path = sf.path;
			if (get_u64(f[3], &sf.pos.dev) && get_u64(f[4], &sf.pos.ino) && get_u64(f[5], &sf.pos.offset) &&
			    get_u64(f[6], &sf.pos.fp) && get_u64(f[7], &fplen) && fplen <= TAIL_FP_LEN) {
				sf.pos.fp_len = (uint32_t)fplen;
				XGROW(s->files, s->afiles, s->nfiles + 1);
				s->files[s->nfiles++] = sf;
			} else {
				free(sf.source);
				free(sf.path);
			}
		} else if (n == 3 && strcmp(f[0], "journal") == 0 && get_str(f[1]) >= 0 && get_str(f[2]) >= 0) {
			XGROW(s->journals, s->ajournals, s->njournals + 1);
			s->journals[s->njournals++] = (struct saved_journal){ xstrdup(f[1]), xstrdup(f[2]) };
		} else if (n == 2 && strcmp(f[0], "cluster") == 0 && get_str(f[1]) > 0 &&
			   strlen(f[1]) < sizeof s->cluster_pos && strspn(f[1], "0123456789-") == strlen(f[1])) {
			snprintf(s->cluster_pos, sizeof s->cluster_pos, "%s", f[1]);
		}
		free(line);
		p = nl + 1;
	}
	free(path);
}

size_t state_apply(const struct saved_state *s, uint64_t now, const struct state_sink *to)
{
	uint64_t times[1024];
	size_t blocks = 0, bad = 0, escaped = 0, names = 0;
	char *copy, *p, first[ERR_LEN] = "";

	if (!s->loaded)
		return 0;
	copy = xstrndup(s->text, s->len);
	for (p = strchr(copy, '\n') + 1; p && *p;) {
		char *nl = strchr(p, '\n'), *f[9];
		unsigned char key[WINDOW_KEY_MAX];
		int n;
		long kl;

		if (!nl)
			break;
		*nl = '\0';
		n = fields(p, f, 9);
		p = nl + 1;
		if (n == 7 && strcmp(f[0], "block") == 0) {
			struct block b = { 0 };
			uint64_t t;
			char err[ERR_LEN], origin[ORIGIN_LEN], reason[REASON_LEN];
			long ol, rl;
			if (cidr_parse(f[1], &b.target, NULL, 0) < 0 || !get_u64(f[2], &b.start_ms) ||
			    !get_u64(f[3], &b.expiry_ms) || !get_u64(f[4], &t) || (ol = get_str(f[5])) < 0 ||
			    (rl = get_str(f[6])) < 0) {
				bad++;
				continue;
			}
			b.times = (uint32_t)t;
			snprintf(b.origin, sizeof b.origin, "%s", printable(f[5], ol, origin, sizeof origin, &escaped));
			snprintf(b.reason, sizeof b.reason, "%s", printable(f[6], rl, reason, sizeof reason, &escaped));
			if (b.expiry_ms <= now) {
				/* ended while the daemon was down; the kernel may still
				 * hold it for what it covered */
				if (to->expired_block)
					to->expired_block(to->arg, &b);
				continue;
			}
			if (!to->block)
				continue;
			if (to->block(to->arg, &b, err, sizeof err) < 0) {
				log_warnx("saved block of %s not restored: %s", f[1], err);
				continue;
			}
			blocks++;
		} else if (n == 3 && strcmp(f[0], "allow") == 0) {
			struct cidr c;
			uint64_t expiry;
			if (cidr_parse(f[1], &c, NULL, 0) < 0 || !get_u64(f[2], &expiry)) {
				bad++;
				continue;
			}
			if (expiry > now && to->allow)
				to->allow(to->arg, &c, expiry);
		} else if (n == 6 && strcmp(f[0], "account") == 0) {
			struct state_account a = { .user = f[1] };
			long ul = get_str(f[1]), ol, rl;
			char err[ERR_LEN], origin[ORIGIN_LEN], reason[REASON_LEN];
			if (ul <= 0 || !get_u64(f[2], &a.start_ms) || !get_u64(f[3], &a.expiry_ms) ||
			    (ol = get_str(f[4])) < 0 || (rl = get_str(f[5])) < 0) {
				bad++;
				continue;
			}
			if (a.expiry_ms <= now || !to->account)
				continue;
			a.len = (size_t)ul;
			a.origin = printable(f[4], ol, origin, sizeof origin, &escaped);
			a.reason = printable(f[5], rl, reason, sizeof reason, &escaped);
			if (to->account(to->arg, &a, err, sizeof err) < 0) {
				/* a name with a control character (or ':') can be
				 * in no deny file: that block cannot be kept */
				if (!names++)
					snprintf(first, sizeof first, "%s", err);
				continue;
			}
		} else if (n == 3 && strcmp(f[0], "offender") == 0) {
			uint32_t nt;
			if ((kl = get_hex(f[1], key, sizeof key)) < 0) {
				bad++;
				continue;
			}
			nt = get_times(f[2], times, 1024);
			if (to->offender)
				to->offender(to->arg, key, (size_t)kl, times, nt);
		} else if (n == 4 && strcmp(f[0], "window") == 0) {
			uint32_t nt;
			if (get_str(f[1]) < 0 || (kl = get_hex(f[2], key, sizeof key)) < 0) {
				bad++;
				continue;
			}
			nt = get_times(f[3], times, 1024);
			if (to->window)
				to->window(to->arg, f[1], key, (size_t)kl, times, nt);
		} else if (n == 8 && strcmp(f[0], "ended") == 0) {
			struct history_entry e = { 0 };
			long ul, hl, ol, rl;
			char ubuf[sizeof e.user], obuf[ORIGIN_LEN], rbuf[REASON_LEN], hbuf[sizeof e.how];
			e.account = strcmp(f[1], "account") == 0;
			if ((!e.account && strcmp(f[1], "addr")) || (ul = get_str(f[2])) <= 0 ||
			    (!e.account && cidr_parse(f[2], &e.target, NULL, 0) < 0) || !get_u64(f[3], &e.start_ms) ||
			    !get_u64(f[4], &e.end_ms) || (hl = get_str(f[5])) < 0 || (ol = get_str(f[6])) < 0 ||
			    (rl = get_str(f[7])) < 0) {
				bad++;
				continue;
			}
			if (e.account)
				snprintf(e.user, sizeof e.user, "%s", printable(f[2], ul, ubuf, sizeof ubuf, &escaped));
			snprintf(e.how, sizeof e.how, "%s", printable(f[5], hl, hbuf, sizeof hbuf, &escaped));
			snprintf(e.origin, sizeof e.origin, "%s", printable(f[6], ol, obuf, sizeof obuf, &escaped));
			snprintf(e.reason, sizeof e.reason, "%s", printable(f[7], rl, rbuf, sizeof rbuf, &escaped));
			if (to->ended)
				to->ended(to->arg, &e);
		} else if (n == 3 && strcmp(f[0], "total") == 0) {
			uint64_t total;
			if (get_str(f[1]) <= 0 || !get_u64(f[2], &total) || total == UINT64_MAX) {
				bad++;
				continue;
			}
			if (to->total)
				to->total(to->arg, f[1], total);
		} else if (n == 2 && strcmp(f[0], "stats") == 0) {
			long sl = get_str(f[1]);
			if (sl <= 0 || !text_printable(f[1], (size_t)sl, NULL)) {
				bad++;
				continue;
			}
			if (to->stats)
				to->stats(to->arg, f[1]);
		} else if (n > 0 && strcmp(f[0], "file") && strcmp(f[0], "journal") && strcmp(f[0], "cluster")) {
			bad++;
		}
	}
	free(copy);
	if (bad)
		log_warnx("saved state: %zu records not understood, skipped", bad);
	if (escaped)
		log_warnx("saved state: %zu reasons or origins held control characters or bytes that are not UTF-8; "
			  "restored escaped (\\xNN)", escaped);
	if (names)
		log_warnx("saved state: %zu account blocks not restored (the first: %s)", names, first);
	return blocks;
}

size_t state_file_positions(const struct saved_state *s, const char *source, struct tail_pos *out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < s->nfiles && n < max; i++)
		if (strcmp(s->files[i].source, source) == 0)
			out[n++] = s->files[i].pos;
	return n;
}

const char *state_journal_cursor(const struct saved_state *s, const char *source)
{
	for (size_t i = 0; i < s->njournals; i++)
		if (strcmp(s->journals[i].source, source) == 0)
			return s->journals[i].cursor;
	return NULL;
}

void saved_state_release(struct saved_state *s)
{
	for (size_t i = 0; i < s->nfiles; i++) {
		free(s->files[i].source);
		free(s->files[i].path);
	}
	for (size_t i = 0; i < s->njournals; i++) {
		free(s->journals[i].source);
		free(s->journals[i].cursor);
	}
	free(s->files);
	free(s->journals);
	free(s->text);
	memset(s, 0, sizeof *s);
}
