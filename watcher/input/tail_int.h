/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * tail_int - what the files of the tail module share, and nothing else:
 * tail.c (the instance, its inotify watches and events), tail_read.c
 * (reading a file into its line splitter) and tail_file.c (which
 * file a name stands for: opening, rotation, resuming). Private to them:
 * callers include tail.h, the module's whole public surface.
 *
 * Owns: nothing; it declares the layout of the tailer, its watches and
 * its files.
 *
 * Must never: be included outside tail*.c.
 */
#ifndef MS_TAIL_INT_H
#define MS_TAIL_INT_H

#include "tail.h"
#include "linesplit.h"
#include "loop.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sys/types.h>

enum {
	CHUNK = 64 * 1024,              /* one read() */
	TURN_BUDGET = 4 * CHUNK,        /* per file per loop turn */
	DRAIN_BUDGET = 256 * CHUNK,     /* a rotated file, read at once */
};

enum ref_kind { REF_FILE, REF_DIR, REF_PARENT };

/* One inotify watch descriptor used by one object. Several objects can
 * share a wd (two patterns in one directory, one file matched twice):
 * the kernel watch is removed with its last reference. */
struct ref {
	int wd;
	enum ref_kind kind;
	void *obj;
};

struct tfile {
	struct tail_watch *w;
	char *name;             /* in w->dir */
	char *path;
	int fd, wd;             /* wd -1: no inotify watch */
	dev_t dev;
	ino_t ino;
	uint64_t off;           /* bytes read from fd */
	struct linesplit split; /* its partial line; counts into the tail's */
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
	struct tail_stats st;   /* but lines, cut_lines, cut_bytes: in split */
	struct linesplit_stats split;   /* every file's splitter counts here */
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

/* tail.c */
void tail_ref_add(struct tail *t, int wd, enum ref_kind kind, void *obj);
void tail_ref_del(struct tail *t, enum ref_kind kind, void *obj);
void tail_schedule_kick(struct tail *t);
void tail_bury(struct tail *t);

/* tail_read.c */
void tail_flush_partial(struct tail *t, struct tfile *f);
bool tail_read_file(struct tail *t, struct tfile *f, size_t budget);
void tail_start_at_end(struct tail *t, struct tfile *f, uint64_t size);

/* tail_file.c */
void tail_free_file(struct tail *t, struct tfile *f);
void tail_retire(struct tail *t, struct tfile *f);
void tail_check_name(struct tail_watch *w, const char *name, bool initial);

#endif
