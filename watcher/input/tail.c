// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * tail - see tail.h. This file: the tailer, its inotify instance and the
 * watches (a pattern's directory, or its parent while the directory is
 * missing), the events, the loop turns that read pending files, and the
 * public calls. Reading a file into its line splitter (linesplit.c) is
 * tail_read.c; which file a name stands for (opening, rotation, resuming)
 * is tail_file.c; what they share is in tail_int.h.
 *
 * Owns one inotify instance (registered in the loop), every watch, every
 * open log file with its position (dev, inode, offset) and its line
 * splitter, the splitters' counters, and a 64 KiB read buffer shared by
 * all files.
 *
 * Must never: poll, or free a watch while a line callback may still be
 * running for it (tail_remove from a callback defers the free to the end
 * of the loop turn).
 */
#include "tail_int.h"
#include "log.h"
#include "xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

enum {
	EVBUF = 64 * 1024,              /* one read() of the inotify fd */
	EV_READS = 8,                   /* inotify reads per wakeup */
};
#define DEFAULT_MAX_LINE 16384
#define DEFAULT_ROTATE_WAIT 10000u

/* Directories, whether watched for their files or as the parent of a
 * directory we wait for: one mask, because one inode has one mask. */
#define DIR_MASK (IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | \
		  IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)

/* ---- inotify references ---- */

void tail_ref_add(struct tail *t, int wd, enum ref_kind kind, void *obj)
{
	XGROW(t->refs, t->arefs, t->nrefs + 1);
	t->refs[t->nrefs++] = (struct ref){ wd, kind, obj };
}

void tail_ref_del(struct tail *t, enum ref_kind kind, void *obj)
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

/* ---- watches and directories ---- */

static void scan_watch(struct tail_watch *w, bool initial)
{
	DIR *d;
	struct dirent *de;

	if (!w->glob) {
		tail_check_name(w, w->base, initial);
		return;
	}
	d = opendir(w->dir);
	if (!d) {
		log_warn("cannot list '%s'", w->dir);
		return;
	}
	while (!w->removed && (de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			tail_check_name(w, de->d_name, initial);
	closedir(d);
	/* files that vanished from the listing */
	for (size_t i = 0; i < w->nfiles && !w->removed; i++)
		if (!w->files[i]->retired) {
			char *name = xstrdup(w->files[i]->name);
			tail_check_name(w, name, false);
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
			tail_ref_add(t, wd, REF_DIR, w);
			if (w->pwd >= 0) {
				tail_ref_del(t, REF_PARENT, w);
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
		tail_ref_add(t, wd, REF_PARENT, w);
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
	tail_ref_del(t, REF_DIR, w);
	w->dwd = -1;
	log_info("'%s': directory '%s' disappeared", w->pattern, w->dir);
	for (size_t i = 0; i < w->nfiles && !w->removed; i++)
		tail_retire(t, w->files[i]);
	if (!w->removed && establish(w, false) < 0)
		go_dormant(w);
}

static void parent_lost(struct tail *t, struct tail_watch *w)
{
	tail_ref_del(t, REF_PARENT, w);
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
			tail_ref_del(t, REF_FILE, f);
			f->wd = -1;
		}
		if (!f->retired && (m & (IN_ATTRIB | IN_MOVE_SELF | IN_DELETE_SELF | IN_IGNORED))) {
			char *fname = xstrdup(f->name);
			tail_check_name(f->w, fname, false);
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
			tail_check_name(w, name, false);
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
		tail_free_file(t, w->files[i]);
	if (w->dwd >= 0)
		tail_ref_del(t, REF_DIR, w);
	if (w->pwd >= 0)
		tail_ref_del(t, REF_PARENT, w);
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
void tail_bury(struct tail *t)
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
				tail_read_file(t, f, TURN_BUDGET);
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
	tail_bury(t);
}

void tail_schedule_kick(struct tail *t)
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
	tail_bury(t);
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
	tail_schedule_kick(t);
	return w;
fail:
	free_watch(t, w);
	return NULL;
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
	st->lines = t->split.lines;
	st->cut_lines = t->split.cut_lines;
	st->cut_bytes = t->split.cut_bytes;
	st->files = 0;
	for (size_t i = 0; i < t->nwatches; i++)
		for (size_t j = 0; j < t->watches[i]->nfiles; j++)
			if (!t->watches[i]->removed && !t->watches[i]->files[j]->retired)
				st->files++;
}

void tail_rescan(struct tail *t)
{
	t->rescan = true;
	tail_schedule_kick(t);
}
