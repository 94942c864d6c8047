// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tail_file - which file a watched name stands for: opening it (from its
 * end, from the start, or at an offset saved by an earlier run), following
 * it through rotation, and the positions to save for the next run.
 *
 * How it decides: an event never says "rotated"; it only says "look at this
 * name again". tail_check_name() then compares what the path names now with the
 * file we hold open: same inode, read on; another inode or nothing, retire
 * ours (read it to its end, keep reading it for rotate_wait_ms) and open the
 * new one from offset 0. A queue overflow simply checks every name again.
 * Across runs a file is known by device, inode and a fingerprint of its
 * first bytes, so that a reused inode is a new file.
 *
 * Owns: opening and closing the files, their inotify watches (as
 * references of tail.c), and the grace timers of retired files.
 *
 * Must never: open anything but a regular file, read one file twice
 * because two names (hard links) lead to it, or go on at a saved offset in
 * a file that is not the one saved (another inode, or the same inode
 * shorter than the offset or with another head).
 */
#include "tail_int.h"
#include "log.h"
#include "xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#define FILE_MASK (IN_MODIFY | IN_ATTRIB | IN_MOVE_SELF | IN_DELETE_SELF)

static char *join(const char *dir, const char *name)
{
	return strcmp(dir, "/") ? xasprintf("%s/%s", dir, name) : xasprintf("/%s", name);
}

void tail_free_file(struct tail *t, struct tfile *f)
{
	if (f->grace)
		loop_cancel_timer(t->loop, f->grace);
	if (f->wd >= 0)
		tail_ref_del(t, REF_FILE, f);
	if (f->fd >= 0)
		close(f->fd);
	free(f->name);
	free(f->path);
	linesplit_release(&f->split);
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
	if (!tail_read_file(t, f, DRAIN_BUDGET)) {
		if (!w->removed)        /* still being written: come back soon */
			f->grace = loop_add_timer(l, 0, grace_cb, f);
	} else {
		tail_flush_partial(t, f);
		if (!w->removed) {
			log_debug("closing rotated '%s'", f->path);
			unlink_file(w, f);
			tail_free_file(t, f);
		}
	}
	t->depth--;
	tail_bury(t);
}

/* The path no longer names f: read it to its end now, then keep reading
 * what is appended for rotate_wait ms. */
void tail_retire(struct tail *t, struct tfile *f)
{
	if (f->retired)
		return;
	f->retired = true;
	t->st.rotations++;
	log_info("'%s' was rotated or removed; reading the old file for %u ms more",
		 f->path, t->rotate_wait);
	f->grace = loop_add_timer(t->loop, t->rotate_wait, grace_cb, f);
	f->pending = false;
	tail_read_file(t, f, DRAIN_BUDGET);
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
	tail_ref_add(t, wd, REF_FILE, f);
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
	linesplit_init(&f->split, w->t->max_line, &w->t->split);
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
		tail_start_at_end(t, f, (uint64_t)st.st_size);
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
void tail_check_name(struct tail_watch *w, const char *name, bool initial)
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
			tail_retire(t, cur);
		return;
	}
	if (cur && cur->dev == st.st_dev && cur->ino == st.st_ino) {
		cur->pending = true;
		free(path);
		return;
	}
	if (cur) {
		tail_retire(t, cur);
		if (w->removed) {
			free(path);
			return;
		}
	}
	open_file(w, name, path, initial);
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
		linesplit_init(&f->split, w->t->max_line, &w->t->split);
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
	tail_schedule_kick(t);
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
				.offset = f->off - linesplit_pending(&f->split),
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
