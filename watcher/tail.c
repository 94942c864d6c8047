// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tail - see tail.h.
 *
 * Owns one inotify instance (registered in the loop), every watch, every
 * open log file with its position (dev, inode, offset) and its partial
 * line, and a 64 KiB read buffer shared by all files.
 *
 * How it decides: an event never says "rotated"; it only says "look at this
 * name again". check_name() then compares what the path names now with the
 * file we hold open: same inode, read on; another inode or nothing, retire
 * ours (read it to its end, keep reading it for rotate_wait_ms) and open the
 * new one from offset 0. A queue overflow simply checks every name again.
 *
 * Must never: poll, block (every fd is non-blocking and reads are bounded
 * per turn), hold more than max_line bytes of any line, read one file from
 * within a callback for another (the read buffer is shared), or free a watch
 * while a line callback may still be running for it (tail_remove from a
 * callback defers the free to the end of the loop turn).
 */
#include "tail.h"
#include "log.h"
#include "xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

enum {
	CHUNK = 64 * 1024,              /* one read() */
	TURN_BUDGET = 4 * CHUNK,        /* per file per loop turn */
	DRAIN_BUDGET = 256 * CHUNK,     /* a rotated file, read at once */
	EVBUF = 64 * 1024,              /* one read() of the inotify fd */
	EV_READS = 8,                   /* inotify reads per wakeup */
};
#define DEFAULT_MAX_LINE 16384
#define DEFAULT_ROTATE_WAIT 10000u

#define FILE_MASK (IN_MODIFY | IN_ATTRIB | IN_MOVE_SELF | IN_DELETE_SELF)
/* Directories, whether watched for their files or as the parent of a
 * directory we wait for: one mask, because one inode has one mask. */
#define DIR_MASK (IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | \
		  IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)

enum ref_kind { REF_FILE, REF_DIR, REF_PARENT };

/* One inotify watch descriptor used by one object. Several objects can
 * share a wd (two patterns in one directory, one file matched twice):
 * the kernel watch is removed with its last reference. */
struct ref {
	int wd;
	enum ref_kind kind;
	void *obj;
};

enum discard { KEEP, DISCARD_CUT, DISCARD_SKIP };

struct tfile {
	struct tail_watch *w;
	char *name;             /* in w->dir */
	char *path;
	int fd, wd;             /* wd -1: no inotify watch */
	dev_t dev;
	ino_t ino;
	uint64_t off;           /* bytes read from fd */
	char *buf;              /* partial line, max_line + 1, lazily */
	size_t len;
	enum discard discard;   /* skipping to the next newline */
	bool pending;           /* may have unread data */
	bool retired;           /* path names another file now */
	bool spent;             /* retired and then truncated: nothing more to read */
	uint64_t grace;         /* timer that closes a retired file */
};

struct tail_watch {
	struct tail *t;
	char *pattern;
	char *dir;              /* no trailing slash, "/" for the root */
	char *base;             /* last component: a name or a glob */
	char *parent;           /* dir's parent, NULL if none */
	char *dirbase;          /* dir's name in parent */
	bool glob, removed, dormant;
	void *cookie;
	int dwd, pwd;           /* dir wd, parent wd (while waiting), -1 */
	struct tfile **files;
	size_t nfiles, afiles;
	const struct tail_pos *resume;  /* during tail_add_resume only */
	bool *resumed;
	size_t nresume;
};

struct tail {
	struct loop *loop;
	int ifd;
	tail_line_fn *fn;
	size_t max_line;
	unsigned rotate_wait;
	bool from_start;
	bool rescan;            /* tail_rescan() asked, done in kick_cb */
	int depth;              /* > 0 while callbacks may run */
	struct tail_stats st;
	struct tail_watch **watches;
	size_t nwatches, awatches;
	struct tail_watch **grave;      /* removed during callbacks */
	size_t ngrave, agrave;
	struct ref *refs, *snap;
	size_t nrefs, arefs, asnap;
	char *chunk;            /* CHUNK + 1 */
	char *evbuf;
	uint64_t kick;          /* 0 ms timer id while reading is pending */
	const struct tail_pos *pending_resume;  /* for the tail_add inside tail_add_resume */
	bool *pending_resumed;
	size_t npending_resume;
};

static void schedule_kick(struct tail *t);
static void bury(struct tail *t);

/* ---- inotify references ---- */

static void ref_add(struct tail *t, int wd, enum ref_kind kind, void *obj)
{
	XGROW(t->refs, t->arefs, t->nrefs + 1);
	t->refs[t->nrefs++] = (struct ref){ wd, kind, obj };
}

static void ref_del(struct tail *t, enum ref_kind kind, void *obj)
{
	int wd = -1;

	for (size_t i = 0; i < t->nrefs; i++)
		if (t->refs[i].kind == kind && t->refs[i].obj == obj) {
			wd = t->refs[i].wd;
			t->refs[i] = t->refs[--t->nrefs];
			break;
		}
	if (wd < 0)
		return;
	for (size_t i = 0; i < t->nrefs; i++)
		if (t->refs[i].wd == wd)
			return;
	/* EINVAL: the kernel dropped it already (deleted, unmounted) */
	if (inotify_rm_watch(t->ifd, wd) < 0 && errno != EINVAL)
		log_warn("inotify_rm_watch");
}

static bool ref_live(const struct tail *t, const struct ref *r)
{
	for (size_t i = 0; i < t->nrefs; i++)
		if (t->refs[i].wd == r->wd && t->refs[i].kind == r->kind && t->refs[i].obj == r->obj)
			return true;
	return false;
}

/* ---- files ---- */

static char *join(const char *dir, const char *name)
{
	return strcmp(dir, "/") ? xasprintf("%s/%s", dir, name) : xasprintf("/%s", name);
}

static void deliver(struct tail *t, struct tfile *f, const char *line, size_t len, bool cut)
{
	t->st.lines++;
	if (cut)
		t->st.cut_lines++;
	t->fn(f->w->cookie, f->path, line, len, cut);
}

/* Deliver a buffered partial line: the file will not complete it. */
static void flush_partial(struct tail *t, struct tfile *f)
{
	if (f->len && f->discard == KEEP) {
		size_t len = f->len;
		f->len = 0;
		f->buf[len] = '\0';
		deliver(t, f, f->buf, len, false);
	}
	f->len = 0;
	f->discard = KEEP;
}

/* Add seg to the partial line; past max_line, deliver what fits as a cut
 * line and discard up to the next newline. */
static void stash(struct tail *t, struct tfile *f, const char *p, size_t seg)
{
	size_t room = t->max_line - f->len;

	if (!f->buf)
		f->buf = xmalloc(t->max_line + 1);
	if (seg <= room) {
		memcpy(f->buf + f->len, p, seg);
		f->len += seg;
		return;
	}
	memcpy(f->buf + f->len, p, room);
	f->buf[t->max_line] = '\0';
	f->len = 0;
	f->discard = DISCARD_CUT;
	t->st.cut_bytes += seg - room;
	deliver(t, f, f->buf, t->max_line, true);
}

/* Split p[0..n) into lines. p[n] must be writable. false if the watch was
 * removed by a callback (stop touching it). */
static bool consume(struct tail *t, struct tfile *f, char *p, size_t n)
{
	char *end = p + n;

	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t seg = (size_t)((nl ? nl : end) - p);

		if (f->discard != KEEP) {
			if (f->discard == DISCARD_CUT)
				t->st.cut_bytes += seg;
			if (!nl)
				return true;
			f->discard = KEEP;
		} else if (!nl) {
			stash(t, f, p, seg);
			return !f->w->removed;
		} else if (f->len == 0 && seg <= t->max_line) {
			*nl = '\0';
			deliver(t, f, p, seg, false);
		} else {
			stash(t, f, p, seg);
			if (f->discard == KEEP) {
				size_t len = f->len;
				f->len = 0;
				f->buf[len] = '\0';
				deliver(t, f, f->buf, len, false);
			} else {
				f->discard = KEEP;      /* the newline ends the cut line */
			}
		}
		p = nl + 1;
		if (f->w->removed)
			return false;
	}
	return true;
}

/* Read f from its offset, at most about budget bytes. true: end of file
 * reached. Otherwise f stays pending and a kick is scheduled (unless the
 * watch was removed). */
static bool read_file(struct tail *t, struct tfile *f, size_t budget)
{
	struct stat st;
	size_t done = 0;

	if (f->fd < 0 || f->w->removed || f->spent)
		return true;
	if (fstat(f->fd, &st) == 0 && (uint64_t)st.st_size < f->off && f->retired) {
		/* A rotated-away file that shrinks is being reused (copied over,
		 * or truncated by a second rotation): what it holds now is not
		 * the rest of what we read, so stop here rather than read its
		 * lines a second time. */
		log_info("rotated '%s' was truncated; no longer reading it", f->path);
		flush_partial(t, f);
		f->spent = true;
		return true;
	}
	if (fstat(f->fd, &st) == 0 && (uint64_t)st.st_size < f->off) {
		t->st.truncations++;
		log_info("'%s' was truncated; reading it from the start", f->path);
		flush_partial(t, f);
		if (f->w->removed)
			return true;
		f->off = 0;
	}
	while (done < budget) {
		ssize_t n = pread(f->fd, t->chunk, CHUNK, (off_t)f->off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				log_warn("cannot read '%s'", f->path);
			return true;
		}
		if (n == 0)
			return true;
		f->off += (uint64_t)n;
		t->st.bytes += (uint64_t)n;
		done += (size_t)n;
		if (!consume(t, f, t->chunk, (size_t)n))
			return true;
	}
	f->pending = true;
	schedule_kick(t);
	return false;
}

static void free_file(struct tail *t, struct tfile *f)
{
	if (f->grace)
		loop_cancel_timer(t->loop, f->grace);
	if (f->wd >= 0)
		ref_del(t, REF_FILE, f);
	if (f->fd >= 0)
		close(f->fd);
	free(f->name);
	free(f->path);
	free(f->buf);
	free(f);
}

static void unlink_file(struct tail_watch *w, struct tfile *f)
{
	for (size_t i = 0; i < w->nfiles; i++)
		if (w->files[i] == f) {
			memmove(w->files + i, w->files + i + 1, (w->nfiles - i - 1) * sizeof *w->files);
			w->nfiles--;
			return;
		}
}

/* The retired file's time is up: take what is left, deliver an unfinished
 * last line, close. */
static void grace_cb(struct loop *l, void *arg)
{
	struct tfile *f = arg;
	struct tail_watch *w = f->w;
	struct tail *t = w->t;

	f->grace = 0;
	if (w->removed)
		return;
	t->depth++;
	if (!read_file(t, f, DRAIN_BUDGET)) {
		if (!w->removed)        /* still being written: come back soon */
			f->grace = loop_add_timer(l, 0, grace_cb, f);
	} else {
		flush_partial(t, f);
		if (!w->removed) {
			log_debug("closing rotated '%s'", f->path);
			unlink_file(w, f);
			free_file(t, f);
		}
	}
	t->depth--;
	bury(t);
}

/* The path no longer names f: read it to its end now, then keep reading
 * what is appended for rotate_wait ms. */
static void retire(struct tail *t, struct tfile *f)
{
	if (f->retired)
		return;
	f->retired = true;
	t->st.rotations++;
	log_info("'%s' was rotated or removed; reading the old file for %u ms more",
		 f->path, t->rotate_wait);
	f->grace = loop_add_timer(t->loop, t->rotate_wait, grace_cb, f);
	f->pending = false;
	read_file(t, f, DRAIN_BUDGET);
}

static void watch_file(struct tail *t, struct tfile *f)
{
	char proc[64];
	int wd;

	/* Through /proc the watch lands on the inode we opened, even if the
	 * path was replaced meanwhile. */
	snprintf(proc, sizeof proc, "/proc/self/fd/%d", f->fd);
	wd = inotify_add_watch(t->ifd, proc, FILE_MASK);
	if (wd < 0 && errno == ENOENT)
		wd = inotify_add_watch(t->ifd, f->path, FILE_MASK);
	if (wd < 0) {
		log_warn("cannot watch '%s'%s", f->path,
			 errno == ENOSPC ? " (raise fs.inotify.max_user_watches)" : "");
		return;
	}
	f->wd = wd;
	ref_add(t, wd, REF_FILE, f);
}

/* Where to start in a file that existed at start: after its last newline,
 * so that a line being written is delivered whole; past a partial line
 * longer than a chunk, at the end, skipping the rest of that line. */
static void start_at_end(struct tail *t, struct tfile *f, uint64_t size)
{
	size_t n = size < CHUNK ? (size_t)size : CHUNK;
	char *buf;
	ssize_t got;
	const char *nl;

	f->off = size;
	if (!size)
		return;
	buf = xmalloc(n);
	got = pread(f->fd, buf, n, (off_t)(size - n));
	if (got == (ssize_t)n && (nl = memrchr(buf, '\n', n)))
		f->off = size - n + (uint64_t)(nl - buf) + 1;
	else if (got == (ssize_t)n && size <= CHUNK)
		f->off = 0;
	else
		f->discard = DISCARD_SKIP;
	free(buf);
}

/* FNV-1a over the first len bytes; len bytes must be there. */
static bool head_fp(int fd, uint32_t len, uint64_t *fp)
{
	unsigned char buf[TAIL_FP_LEN];
	uint64_t h = 1469598103934665603ULL;

	if (len > TAIL_FP_LEN || pread(fd, buf, len, 0) != (ssize_t)len)
		return false;
	for (uint32_t i = 0; i < len; i++)
		h = (h ^ buf[i]) * 1099511628211ULL;
	*fp = h;
	return true;
}

/* The saved position of the file open on fd, if it is the same file. */
static const struct tail_pos *resume_match(struct tail_watch *w, int fd, const struct stat *st)
{
	for (size_t i = 0; i < w->nresume; i++) {
		const struct tail_pos *p = &w->resume[i];
		uint64_t fp;
		if (w->resumed[i] || p->dev != (uint64_t)st->st_dev || p->ino != (uint64_t)st->st_ino)
			continue;
		if ((uint64_t)st->st_size < p->offset || !head_fp(fd, p->fp_len, &fp) || fp != p->fp)
			return NULL;    /* truncated or reused since: a new file */
		w->resumed[i] = true;
		return p;
	}
	return NULL;
}

static void rename_file(struct tfile *f, const char *name, char *path)
{
	free(f->name);
	free(f->path);
	f->name = xstrdup(name);
	f->path = path;
	f->pending = true;
}

/* Open name in w's directory (path is taken over). A file we already hold
 * under another name (renamed within a glob, or back) goes on where it was. */
static void open_file(struct tail_watch *w, const char *name, char *path, bool initial)
{
	struct tail *t = w->t;
	struct tfile *f;
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);

	if (fd < 0) {
		if (errno != ENOENT)
			log_warn("cannot open '%s'", path);
		free(path);
		return;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		free(path);
		return;
	}
	for (size_t i = 0; i < w->nfiles; i++) {
		struct stat o;

		f = w->files[i];
		if (f->dev != st.st_dev || f->ino != st.st_ino)
			continue;
		close(fd);
		if (f->retired) {
			log_info("'%s' is back as '%s'", f->path, path);
			loop_cancel_timer(t->loop, f->grace);
			f->grace = 0;
			f->retired = false;
		} else if (stat(f->path, &o) == 0 && o.st_dev == f->dev && o.st_ino == f->ino) {
			free(path);     /* a second hard link: read once */
			return;
		}
		rename_file(f, name, path);
		return;
	}
	f = xcalloc(1, sizeof *f);
	f->w = w;
	f->name = xstrdup(name);
	f->path = path;
	f->fd = fd;
	f->wd = -1;
	f->dev = st.st_dev;
	f->ino = st.st_ino;
	watch_file(t, f);
	if (initial && w->resume) {
		const struct tail_pos *p = resume_match(w, fd, &st);
		f->off = p ? p->offset : 0;
		if (p)
			log_info("'%s': going on at offset %llu", f->path, (unsigned long long)f->off);
		else
			log_info("'%s' is new since the last run; reading it from the start", f->path);
	} else if (initial && !t->from_start) {
		start_at_end(t, f, (uint64_t)st.st_size);
	}
	f->pending = true;
	XGROW(w->files, w->afiles, w->nfiles + 1);
	w->files[w->nfiles++] = f;
	log_debug("following '%s' from offset %llu", f->path, (unsigned long long)f->off);
}

static struct tfile *find_current(struct tail_watch *w, const char *name)
{
	for (size_t i = 0; i < w->nfiles; i++)
		if (!w->files[i]->retired && !strcmp(w->files[i]->name, name))
			return w->files[i];
	return NULL;
}

/* Something happened to name in w's directory: bring our view in line
 * with what the path names now. */
static void check_name(struct tail_watch *w, const char *name, bool initial)
{
	struct tail *t = w->t;
	struct tfile *cur;
	struct stat st;
	char *path;

	if (w->removed)
		return;
	if (w->glob ? fnmatch(w->base, name, FNM_PERIOD) != 0 : strcmp(w->base, name) != 0)
		return;
	cur = find_current(w, name);
	path = join(w->dir, name);
	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode)) {
		free(path);
		if (cur)
			retire(t, cur);
		return;
	}
	if (cur && cur->dev == st.st_dev && cur->ino == st.st_ino) {
		cur->pending = true;
		free(path);
		return;
	}
	if (cur) {
		retire(t, cur);
		if (w->removed) {
			free(path);
			return;
		}
	}
	open_file(w, name, path, initial);
}

/* ---- watches and directories ---- */

static void scan_watch(struct tail_watch *w, bool initial)
{
	DIR *d;
	struct dirent *de;

	if (!w->glob) {
		check_name(w, w->base, initial);
		return;
	}
	d = opendir(w->dir);
	if (!d) {
		log_warn("cannot list '%s'", w->dir);
		return;
	}
	while (!w->removed && (de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			check_name(w, de->d_name, initial);
	closedir(d);
	/* files that vanished from the listing */
	for (size_t i = 0; i < w->nfiles && !w->removed; i++)
		if (!w->files[i]->retired) {
			char *name = xstrdup(w->files[i]->name);
			check_name(w, name, false);
			free(name);
		}
}

/* Watch w's directory, or, while it does not exist, its parent. 0 when
 * one of them is watched; -1 with errno otherwise. */
static int establish(struct tail_watch *w, bool initial)
{
	struct tail *t = w->t;

	for (int tries = 0; tries < 2; tries++) {
		int wd = inotify_add_watch(t->ifd, w->dir, DIR_MASK);
		if (wd >= 0) {
			w->dwd = wd;
			ref_add(t, wd, REF_DIR, w);
			if (w->pwd >= 0) {
				ref_del(t, REF_PARENT, w);
				w->pwd = -1;
			}
			if (w->dormant)
				log_info("'%s': directory '%s' is back", w->pattern, w->dir);
			w->dormant = false;
			scan_watch(w, initial);
			return 0;
		}
		if (errno != ENOENT && errno != ENOTDIR)
			return -1;
		if (w->pwd >= 0)
			return 0;
		if (!w->parent)
			return errno = ENOENT, -1;
		wd = inotify_add_watch(t->ifd, w->parent, DIR_MASK);
		if (wd < 0)
			return -1;
		w->pwd = wd;
		ref_add(t, wd, REF_PARENT, w);
		log_info("'%s': waiting for directory '%s'", w->pattern, w->dir);
		/* again: the directory may have appeared in between */
	}
	return 0;
}

static void go_dormant(struct tail_watch *w)
{
	if (!w->dormant)
		log_warnx("'%s': directory '%s' is gone and so is '%s'; not watched until a rescan",
			  w->pattern, w->dir, w->parent ? w->parent : w->dir);
	w->dormant = true;
}

/* The directory was deleted, moved or unmounted: its files are retired
 * (still read for a while), and we wait for the directory again. */
static void dir_lost(struct tail *t, struct tail_watch *w)
{
	ref_del(t, REF_DIR, w);
	w->dwd = -1;
	log_info("'%s': directory '%s' disappeared", w->pattern, w->dir);
	for (size_t i = 0; i < w->nfiles && !w->removed; i++)
		retire(t, w->files[i]);
	if (!w->removed && establish(w, false) < 0)
		go_dormant(w);
}

static void parent_lost(struct tail *t, struct tail_watch *w)
{
	ref_del(t, REF_PARENT, w);
	w->pwd = -1;
	if (establish(w, false) < 0)
		go_dormant(w);
}

/* ---- events ---- */

static void rescan_all(struct tail *t)
{
	for (size_t i = 0; i < t->nwatches; i++) {
		struct tail_watch *w = t->watches[i];

		if (w->removed)
			continue;
		if (w->dwd < 0) {
			if (establish(w, false) < 0)
				go_dormant(w);
		} else {
			scan_watch(w, false);
		}
		for (size_t j = 0; j < w->nfiles; j++)
			w->files[j]->pending = true;
	}
}

static void handle_ref(struct tail *t, const struct ref *r, const struct inotify_event *ev)
{
	const char *name = ev->len ? ev->name : NULL;
	uint32_t m = ev->mask;

	switch (r->kind) {
	case REF_FILE: {
		struct tfile *f = r->obj;
		if (f->w->removed)
			return;
		if (m & IN_MODIFY)
			f->pending = true;
		if (m & IN_IGNORED) {
			ref_del(t, REF_FILE, f);
			f->wd = -1;
		}
		if (!f->retired && (m & (IN_ATTRIB | IN_MOVE_SELF | IN_DELETE_SELF | IN_IGNORED))) {
			char *fname = xstrdup(f->name);
			check_name(f->w, fname, false);
			free(fname);
		}
		return;
	}
	case REF_DIR: {
		struct tail_watch *w = r->obj;
		if (w->removed)
			return;
		if (m & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED | IN_UNMOUNT))
			dir_lost(t, w);
		else if (name)
			check_name(w, name, false);
		return;
	}
	case REF_PARENT: {
		struct tail_watch *w = r->obj;
		if (w->removed)
			return;
		if (m & (IN_DELETE_SELF | IN_MOVE_SELF | IN_IGNORED | IN_UNMOUNT))
			parent_lost(t, w);
		else if (name && (m & (IN_CREATE | IN_MOVED_TO)) && !strcmp(name, w->dirbase))
			establish(w, false);
		return;
	}
	}
}

static void handle_event(struct tail *t, const struct inotify_event *ev)
{
	size_t n = 0;

	if (ev->mask & IN_Q_OVERFLOW) {
		t->st.overflows++;
		log_warnx("inotify queue overflowed; rescanning every watch "
			  "(raise fs.inotify.max_queued_events)");
		rescan_all(t);
		return;
	}
	/* handlers may add and remove references: work on a copy */
	for (size_t i = 0; i < t->nrefs; i++)
		if (t->refs[i].wd == ev->wd) {
			XGROW(t->snap, t->asnap, n + 1);
			t->snap[n++] = t->refs[i];
		}
	for (size_t i = 0; i < n; i++) {
		struct ref r = t->snap[i];
		if (ref_live(t, &r))
			handle_ref(t, &r, ev);
	}
}

static void free_watch(struct tail *t, struct tail_watch *w)
{
	for (size_t i = 0; i < w->nfiles; i++)
		free_file(t, w->files[i]);
	if (w->dwd >= 0)
		ref_del(t, REF_DIR, w);
	if (w->pwd >= 0)
		ref_del(t, REF_PARENT, w);
	free(w->files);
	free(w->pattern);
	free(w->dir);
	free(w->base);
	free(w->parent);
	free(w->dirbase);
	free(w);
}

static void unlink_watch(struct tail *t, struct tail_watch *w)
{
	for (size_t i = 0; i < t->nwatches; i++)
		if (t->watches[i] == w) {
			memmove(t->watches + i, t->watches + i + 1,
				(t->nwatches - i - 1) * sizeof *t->watches);
			t->nwatches--;
			return;
		}
}

/* Free the watches removed while callbacks ran. */
static void bury(struct tail *t)
{
	if (t->depth)
		return;
	for (size_t i = 0; i < t->ngrave; i++) {
		unlink_watch(t, t->grave[i]);
		free_watch(t, t->grave[i]);
	}
	t->ngrave = 0;
}

static void run_pending(struct tail *t)
{
	for (size_t i = 0; i < t->nwatches; i++) {
		struct tail_watch *w = t->watches[i];

		for (size_t j = 0; j < w->nfiles && !w->removed; j++) {
			struct tfile *f = w->files[j];
			if (f->pending) {
				f->pending = false;
				read_file(t, f, TURN_BUDGET);
			}
		}
	}
}

static void kick_cb(struct loop *l, void *arg)
{
	struct tail *t = arg;

	t->kick = 0;
	t->depth++;
	if (t->rescan) {
		t->rescan = false;
		rescan_all(t);
	}
	run_pending(t);
	t->depth--;
	bury(t);
}

static void schedule_kick(struct tail *t)
{
	if (!t->kick)
		t->kick = loop_add_timer(t->loop, 0, kick_cb, t);
}

static void inotify_cb(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct tail *t = arg;

	t->depth++;
	for (int r = 0; r < EV_READS; r++) {
		ssize_t n = read(fd, t->evbuf, EVBUF);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				log_warn("inotify read");
			break;
		}
		for (char *p = t->evbuf; p < t->evbuf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)(void *)p;
			p += sizeof *ev + ev->len;
			handle_event(t, ev);
		}
	}
	run_pending(t);
	t->depth--;
	bury(t);
}

/* ---- public ---- */

struct tail *tail_new(struct loop *l, const struct tail_opts *opts, tail_line_fn *fn)
{
	struct tail *t;
	int ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);

	if (ifd < 0) {
		log_warn("inotify_init1%s", errno == EMFILE ? " (raise fs.inotify.max_user_instances)" : "");
		return NULL;
	}
	t = xcalloc(1, sizeof *t);
	t->loop = l;
	t->ifd = ifd;
	t->fn = fn;
	t->max_line = opts && opts->max_line ? opts->max_line : DEFAULT_MAX_LINE;
	t->rotate_wait = opts && opts->rotate_wait_ms ? opts->rotate_wait_ms : DEFAULT_ROTATE_WAIT;
	t->from_start = opts && opts->from_start;
	t->chunk = xmalloc(CHUNK + 1);
	t->evbuf = xmalloc(EVBUF);
	if (loop_add_fd(l, ifd, EPOLLIN, inotify_cb, t) < 0) {
		log_warn("cannot add the inotify fd to the loop");
		close(ifd);
		free(t->chunk);
		free(t->evbuf);
		free(t);
		return NULL;
	}
	return t;
}

void tail_free(struct tail *t)
{
	if (!t)
		return;
	if (t->kick)
		loop_cancel_timer(t->loop, t->kick);
	for (size_t i = 0; i < t->nwatches; i++)
		free_watch(t, t->watches[i]);
	loop_del_fd(t->loop, t->ifd);
	close(t->ifd);
	free(t->watches);
	free(t->grave);
	free(t->refs);
	free(t->snap);
	free(t->chunk);
	free(t->evbuf);
	free(t);
}

/* Split pattern into dir, base, parent, dirbase. -1 with a message. */
static int split_pattern(struct tail_watch *w, const char *pattern, char *err, size_t errlen)
{
	const char *slash = strrchr(pattern, '/');
	const char *base = slash ? slash + 1 : pattern;
	char *ps;

	if (!*base)
		return errf(err, errlen, "'%s' names a directory, not a file", pattern);
	if (!strcmp(base, ".") || !strcmp(base, ".."))
		return errf(err, errlen, "'%s' names a directory, not a file", pattern);
	w->dir = !slash ? xstrdup(".") : slash == pattern ? xstrdup("/")
		: xstrndup(pattern, (size_t)(slash - pattern));
	if (strpbrk(w->dir, "*?["))
		return errf(err, errlen, "'%s': wildcards are allowed in the last path component only",
			    pattern);
	w->base = xstrdup(base);
	w->glob = strpbrk(base, "*?[") != NULL;
	if (!strcmp(w->dir, "/") || !strcmp(w->dir, "."))
		return 0;
	ps = strrchr(w->dir, '/');
	w->parent = !ps ? xstrdup(".") : ps == w->dir ? xstrdup("/")
		: xstrndup(w->dir, (size_t)(ps - w->dir));
	w->dirbase = xstrdup(ps ? ps + 1 : w->dir);
	return 0;
}

struct tail_watch *tail_add(struct tail *t, const char *pattern, void *cookie, char *err, size_t errlen)
{
	struct tail_watch *w = xcalloc(1, sizeof *w);
	struct stat st;

	w->t = t;
	w->pattern = xstrdup(pattern);
	w->cookie = cookie;
	w->dwd = w->pwd = -1;
	w->resume = t->pending_resume;
	w->resumed = t->pending_resumed;
	w->nresume = t->npending_resume;
	if (!*pattern) {
		errf(err, errlen, "empty path");
		goto fail;
	}
	if (split_pattern(w, pattern, err, errlen) < 0)
		goto fail;
	if (!w->glob && stat(pattern, &st) == 0 && S_ISDIR(st.st_mode)) {
		errf(err, errlen, "'%s' is a directory; name the log files in it (a glob will do)",
		     pattern);
		goto fail;
	}
	XGROW(t->watches, t->awatches, t->nwatches + 1);
	t->watches[t->nwatches++] = w;
	if (establish(w, true) < 0) {
		if (errno == ENOENT)
			errf(err, errlen, "cannot watch '%s': neither '%s' nor its parent exist",
			     pattern, w->dir);
		else
			errf(err, errlen, "cannot watch '%s': %s%s", pattern, strerror(errno),
			     errno == ENOSPC ? " (raise fs.inotify.max_user_watches)" : "");
		unlink_watch(t, w);
		goto fail;
	}
	schedule_kick(t);
	return w;
fail:
	free_watch(t, w);
	return NULL;
}

/* Saved files that are no longer at the path: rotated away while we were
 * down. Find them in the directory by inode, read their rest, retire them. */
static void resume_rotated(struct tail_watch *w)
{
	struct tail *t = w->t;
	DIR *d;
	struct dirent *de;
	size_t left = 0;

	for (size_t i = 0; i < w->nresume; i++)
		left += !w->resumed[i];
	if (!left || !(d = opendir(w->dir)))
		return;
	while ((de = readdir(d))) {
		struct stat st;
		char *path = join(w->dir, de->d_name);
		const struct tail_pos *p;
		struct tfile *f;
		int fd;

		if (stat(path, &st) < 0 || !S_ISREG(st.st_mode) ||
		    (fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY)) < 0) {
			free(path);
			continue;
		}
		if (!(p = resume_match(w, fd, &st))) {
			close(fd);
			free(path);
			continue;
		}
		f = xcalloc(1, sizeof *f);
		f->w = w;
		f->name = xstrdup(de->d_name);
		f->path = path;
		f->fd = fd;
		f->wd = -1;
		f->dev = st.st_dev;
		f->ino = st.st_ino;
		f->off = p->offset;
		watch_file(t, f);
		/* first in the list: its rest is older than the new file's lines */
		XGROW(w->files, w->afiles, w->nfiles + 1);
		memmove(w->files + 1, w->files, w->nfiles * sizeof *w->files);
		w->files[0] = f;
		w->nfiles++;
		log_info("'%s' was rotated to '%s' while we were stopped; reading its rest from offset %llu",
			 p->path, path, (unsigned long long)f->off);
		/* retired, but read from the loop like every file: nothing is
		 * delivered before the caller is ready */
		f->retired = true;
		t->st.rotations++;
		f->grace = loop_add_timer(t->loop, t->rotate_wait, grace_cb, f);
		f->pending = true;
	}
	closedir(d);
	schedule_kick(t);
}

struct tail_watch *tail_add_resume(struct tail *t, const char *pattern, void *cookie, const struct tail_pos *saved,
				   size_t nsaved, char *err, size_t errlen)
{
	struct tail_watch *w;
	bool *resumed = xcalloc(nsaved ? nsaved : 1, sizeof *resumed);

	/* tail_add's first scan sees the saved positions through the watch */
	t->pending_resume = saved;
	t->pending_resumed = resumed;
	t->npending_resume = nsaved;
	w = tail_add(t, pattern, cookie, err, errlen);
	t->pending_resume = NULL;
	t->npending_resume = 0;
	if (w) {
		resume_rotated(w);
		w->resume = NULL;
		w->nresume = 0;
	}
	free(resumed);
	return w;
}

void tail_watch_set_cookie(struct tail_watch *w, void *cookie)
{
	w->cookie = cookie;
}

const char *tail_watch_pattern(const struct tail_watch *w)
{
	return w->pattern;
}

void tail_remove(struct tail *t, struct tail_watch *w)
{
	if (!w || w->removed)
		return;
	w->removed = true;
	if (t->depth) {
		XGROW(t->grave, t->agrave, t->ngrave + 1);
		t->grave[t->ngrave++] = w;
		return;
	}
	unlink_watch(t, w);
	free_watch(t, w);
}

void tail_get_stats(const struct tail *t, struct tail_stats *st)
{
	*st = t->st;
	st->files = 0;
	for (size_t i = 0; i < t->nwatches; i++)
		for (size_t j = 0; j < t->watches[i]->nfiles; j++)
			if (!t->watches[i]->removed && !t->watches[i]->files[j]->retired)
				st->files++;
}

void tail_foreach_file(const struct tail *t, tail_pos_fn *fn, void *arg)
{
	for (size_t i = 0; i < t->nwatches; i++) {
		const struct tail_watch *w = t->watches[i];

		for (size_t j = 0; j < w->nfiles && !w->removed; j++) {
			const struct tfile *f = w->files[j];
			struct tail_pos pos = {
				.path = f->path,
				.cookie = w->cookie,
				.dev = (uint64_t)f->dev,
				.ino = (uint64_t)f->ino,
				.offset = f->off - f->len,
				.retired = f->retired,
			};
			struct stat st;
			/* fingerprint what the file holds now, up to TAIL_FP_LEN */
			if (fstat(f->fd, &st) == 0) {
				pos.size = (uint64_t)st.st_size;
				pos.fp_len = st.st_size < TAIL_FP_LEN ? (uint32_t)st.st_size : TAIL_FP_LEN;
				if (!head_fp(f->fd, pos.fp_len, &pos.fp))
					pos.fp_len = 0, pos.fp = 1469598103934665603ULL;
			}
			fn(arg, &pos);
		}
	}
}

void tail_rescan(struct tail *t)
{
	t->rescan = true;
	schedule_kick(t);
}
