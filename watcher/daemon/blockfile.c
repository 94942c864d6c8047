// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * blockfile - see blockfile.h. The file format and its bounds are described
 * there.
 *
 * Parsing is one pass over the text: each line becomes an entry or a
 * warning; comments go to one pool (offsets while the pool grows, pointers
 * once it is final); then the entries are sorted by target, which both
 * finds repeated targets (the later line wins) and makes the comparison of
 * two readings a merge of two sorted lists.
 *
 * Owns one inotify instance with a watch on the file's directory (and on
 * the target of a symbolic link), a pending timer at most, and the list
 * of the last good reading. Must never poll, block on anything but reading
 * the (regular, bounded) file, or call the callback from the inotify
 * handler.
 */
#include "blockfile.h"
#include "duration.h"
#include "log.h"
#include "privs.h"
#include "xalloc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#define EXAMPLE_DURATIONS "like 30s, 10m, 2h, 7d, permanent, or a number of minutes"
#define NO_COMMENT UINT32_MAX

/* ---- parsing ---- */

struct parser {
	const char *name;
	struct bf_list *out;
	size_t alloc;
	uint32_t *coff;         /* comment offsets into pool, per entry */
	size_t acoff;
	size_t pool_len, pool_alloc;
	size_t skipped, reported;
	bool full;              /* BLOCKFILE_ENTRIES_MAX reached */
};

static bool is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* s[0..n) for a message: printable ASCII as is, anything else as \xNN,
 * at most 40 bytes of s. */
static const char *quote(char *buf, size_t blen, const char *s, size_t n)
{
	size_t o = 0, i;

	for (i = 0; i < n && i < 40 && o + 5 < blen; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c >= 0x20 && c < 0x7f && c != '\\')
			buf[o++] = (char)c;
		else
			o += (size_t)snprintf(buf + o, blen - o, "\\x%02x", c);
	}
	if (i < n && o + 4 < blen) {
		memcpy(buf + o, "...", 3);
		o += 3;
	}
	buf[o] = '\0';
	return buf;
}

static void problem(struct parser *pr, int lineno, const char *msg, const char *what_then)
{
	if (pr->reported++ < BLOCKFILE_REPORT_MAX)
		log_warnx("%s:%d: %s; %s", pr->name, lineno, msg, what_then);
}

static int parse_target(const char *s, size_t n, struct cidr *out, char *err, size_t errlen)
{
	char buf[CIDR_STRLEN + 8], q[192];
	unsigned char a[16];
	char *slash;
	bool ok = n < sizeof buf;

	for (size_t i = 0; ok && i < n; i++)
		ok = (s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
		     (s[i] >= 'A' && s[i] <= 'F') || s[i] == ':' || s[i] == '.' || s[i] == '/';
	if (ok) {
		memcpy(buf, s, n);
		buf[n] = '\0';
		/* a plain address only: addr_parse would take a port */
		if ((slash = strchr(buf, '/')))
			*slash = '\0';
		ok = inet_pton(strchr(buf, ':') ? AF_INET6 : AF_INET, buf, a) == 1;
		if (slash)
			*slash = '/';
	}
	if (!ok)
		return errf(err, errlen, "'%s' is not an IP address or range (like 192.0.2.1, "
			    "198.51.100.0/24 or 2001:db8::/48)", quote(q, sizeof q, s, n));
	return cidr_parse(buf, out, err, errlen);
}

static int parse_duration(const char *s, size_t n, uint64_t *ms, char *err, size_t errlen)
{
	char buf[32], q[192];
	bool ascii = true;

	for (size_t i = 0; i < n; i++)
		ascii = ascii && (unsigned char)s[i] < 0x80;
	if (!ascii || n >= sizeof buf)  /* not for duration_parse to quote raw */
		return errf(err, errlen, "'%s' is not a duration (" EXAMPLE_DURATIONS ")",
			    quote(q, sizeof q, s, n));
	memcpy(buf, s, n);
	buf[n] = '\0';
	return duration_parse(buf, ms, 'm', true, err, errlen);
}

/* One line without its newline: 1 and *e, *com, *comlen for an entry, 0
 * for a blank or comment line, -1 with a message in err. */
static int parse_line(const char *p, size_t n, struct bf_entry *e, const char **com, size_t *comlen,
		      char *err, size_t errlen)
{
	char q[192];
	size_t i, d0;

	while (n && is_blank(p[n - 1]))
		n--;
	while (n && is_blank(*p))
		p++, n--;
	if (!n || *p == '#')
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return errf(err, errlen, "binary data (byte 0x%02x at column %zu), not text "
				    "like 'ADDRESS[/LEN] DURATION [comment]'", c, i + 1);
	}
	for (i = 0; i < n && !is_blank(p[i]) && p[i] != '#'; i++)
		;
	if (parse_target(p, i, &e->target, err, errlen) < 0)
		return -1;
	d0 = i;
	while (d0 < n && is_blank(p[d0]))
		d0++;
	if (d0 == n || p[d0] == '#')
		return errf(err, errlen, "no duration after '%s' (" EXAMPLE_DURATIONS ")",
			    quote(q, sizeof q, p, i));
	for (i = d0; i < n && !is_blank(p[i]) && p[i] != '#'; i++)
		;
	if (parse_duration(p + d0, i - d0, &e->duration_ms, err, errlen) < 0)
		return -1;
	while (i < n && (is_blank(p[i]) || p[i] == '#'))
		i++;
	*com = p + i;
	*comlen = n - i;
	return 1;
}

/* Length of the valid UTF-8 sequence at s[0..n), or 0. */
static size_t utf8_len(const unsigned char *s, size_t n)
{
	size_t len;
	unsigned char lo = 0x80, hi = 0xbf;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3, lo = s[0] == 0xe0 ? 0xa0 : 0x80, hi = s[0] == 0xed ? 0x9f : 0xbf;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4, lo = s[0] == 0xf0 ? 0x90 : 0x80, hi = s[0] == 0xf4 ? 0x8f : 0xbf;
	else
		return 0;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

/* Copy a comment into the pool (tabs as spaces, bytes that are not UTF-8
 * and C1 controls as '?', cut at BLOCKFILE_COMMENT_MAX on a character
 * boundary); its offset, or NO_COMMENT. */
static uint32_t pool_comment(struct parser *pr, const char *s, size_t n)
{
	const unsigned char *u = (const unsigned char *)s;
	char *d;
	size_t o = 0, i = 0;

	if (!n)
		return NO_COMMENT;
	XGROW(pr->out->pool, pr->pool_alloc, pr->pool_len + BLOCKFILE_COMMENT_MAX + 1);
	d = pr->out->pool + pr->pool_len;
	while (i < n) {
		size_t len = u[i] < 0x80 ? 1 : utf8_len(u + i, n - i);
		if (o + (len ? len : 1) > BLOCKFILE_COMMENT_MAX)
			break;
		if (!len)
			d[o++] = '?', i++;
		else if (len == 2 && u[i] == 0xc2 && u[i + 1] < 0xa0)
			d[o++] = '?', i += 2;   /* U+0080-U+009F: a terminal obeys it */
		else if (u[i] == '\t')
			d[o++] = ' ', i++;
		else
			memcpy(d + o, s + i, len), o += len, i += len;
	}
	d[o] = '\0';
	pr->pool_len += o + 1;
	return (uint32_t)(pr->pool_len - o - 1);
}

static void add_entry(struct parser *pr, const struct bf_entry *e, const char *com, size_t comlen)
{
	struct bf_list *l = pr->out;

	XGROW(l->v, pr->alloc, l->n + 1);
	XGROW(pr->coff, pr->acoff, l->n + 1);
	l->v[l->n] = *e;
	pr->coff[l->n] = pool_comment(pr, com, comlen);
	l->n++;
}

static int cmp_target(const struct cidr *a, const struct cidr *b)
{
	int c = addr_cmp(&a->addr, &b->addr);

	return c ? c : (a->len > b->len) - (a->len < b->len);
}

static int cmp_entry(const void *pa, const void *pb)
{
	const struct bf_entry *a = pa, *b = pb;
	int c = cmp_target(&a->target, &b->target);

	return c ? c : (a->lineno > b->lineno) - (a->lineno < b->lineno);
}

/* Sort, and keep only the last line of each target. */
static void dedupe(struct parser *pr)
{
	struct bf_list *l = pr->out;
	size_t j = 0;

	if (l->n)
		qsort(l->v, l->n, sizeof *l->v, cmp_entry);
	for (size_t i = 0; i < l->n; i++) {
		if (j && cmp_target(&l->v[j - 1].target, &l->v[i].target) == 0) {
			char c[CIDR_STRLEN], msg[CIDR_STRLEN + 64];
			cidr_format(&l->v[i].target, c);
			snprintf(msg, sizeof msg, "'%s' is already listed on line %d", c, l->v[j - 1].lineno);
			problem(pr, l->v[i].lineno, msg, "this line wins");
			pr->skipped++;
			l->v[j - 1] = l->v[i];
		} else {
			l->v[j++] = l->v[i];
		}
	}
	l->n = j;
}

size_t blockfile_parse(const char *name, const char *text, size_t len, struct bf_list *out)
{
	struct parser pr = { .name = name, .out = out };
	const char *p = text, *end = text + len;
	int lineno = 0;

	memset(out, 0, sizeof *out);
	while (p < end && lineno < INT_MAX) {
		const char *line = p, *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char err[ERR_LEN];
		struct bf_entry e = { .lineno = ++lineno };
		const char *com = NULL;
		size_t comlen = 0;
		int r;

		p = nl ? nl + 1 : end;
		if (n > BLOCKFILE_LINE_MAX) {
			snprintf(err, sizeof err, "line is %zu bytes long, longer than the limit of %d "
				 "(one entry a line: ADDRESS[/LEN] DURATION [comment])", n, BLOCKFILE_LINE_MAX);
			r = -1;
		} else {
			r = parse_line(line, n, &e, &com, &comlen, err, sizeof err);
		}
		if (r < 0) {
			problem(&pr, lineno, err, "line skipped");
			pr.skipped++;
		} else if (r > 0 && out->n >= BLOCKFILE_ENTRIES_MAX) {
			if (!pr.full)   /* always reported: it is once, and it matters */
				log_warnx("%s:%d: more than %d entries (split the list, or block ranges "
					  "instead of single addresses); this line and every later entry "
					  "skipped", name, lineno, BLOCKFILE_ENTRIES_MAX);
			pr.full = true;
			pr.skipped++;
		} else if (r > 0) {
			add_entry(&pr, &e, com, comlen);
		}
	}
	for (size_t i = 0; i < out->n; i++)
		out->v[i].comment = pr.coff[i] == NO_COMMENT ? "" : out->pool + pr.coff[i];
	free(pr.coff);
	dedupe(&pr);
	if (pr.reported > BLOCKFILE_REPORT_MAX)
		log_warnx("%s: %zu more problems not reported", name, pr.reported - BLOCKFILE_REPORT_MAX);
	return pr.skipped;
}

void bf_list_release(struct bf_list *l)
{
	free(l->v);
	free(l->pool);
	memset(l, 0, sizeof *l);
}

/* ---- comparing two readings ---- */

struct change {
	struct bf_entry *add, *rem;
	size_t nadd, nrem, aadd, arem;
};

static void push(struct bf_entry **v, size_t *n, size_t *alloc, const struct bf_entry *e)
{
	XGROW(*v, *alloc, *n + 1);
	(*v)[(*n)++] = *e;
}

static void diff(const struct bf_list *old, const struct bf_list *new, struct change *c)
{
	size_t i = 0, j = 0;

	memset(c, 0, sizeof *c);
	while (i < old->n || j < new->n) {
		int r = i == old->n ? 1 : j == new->n ? -1 : cmp_target(&old->v[i].target, &new->v[j].target);
		if (r < 0) {
			push(&c->rem, &c->nrem, &c->arem, &old->v[i++]);
		} else if (r > 0) {
			push(&c->add, &c->nadd, &c->aadd, &new->v[j++]);
		} else {
			if (old->v[i].duration_ms != new->v[j].duration_ms) {
				push(&c->rem, &c->nrem, &c->arem, &old->v[i]);
				push(&c->add, &c->nadd, &c->aadd, &new->v[j]);
			}
			i++, j++;
		}
	}
}

/* ---- reading and watching ---- */

/* what to do about a refused file, and what then happens */
#define REFUSED_HINT "; it is read again once fixed (only root or the daemon's user may own it and write to it, " \
		     "or to a directory above it: chown root, chmod go-w)"

#define DIR_MASK (IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE | IN_MOVED_FROM | \
		  IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)
#define LINK_MASK (IN_CLOSE_WRITE | IN_ATTRIB | IN_DELETE_SELF | IN_MOVE_SELF)

struct blockfile {
	struct loop *loop;
	char *path, *dir;
	const char *base;       /* in path */
	int ifd, dwd, lwd;      /* lwd: watch on a symbolic link's target, or -1 */
	uint64_t timer;
	blockfile_fn *fn;
	void *arg;
	struct bf_list cur;
	bool in_cb, closed;
};

/* The whole file into *buf. 0, 1 if it does not exist, -1 with a message. */
static int read_whole(const char *path, char **buf, size_t *len, char *err, size_t errlen)
{
	struct stat st;
	size_t alloc;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);

	*buf = NULL;
	*len = 0;
	if (fd < 0 && errno == ENOENT)
		return 1;
	if (fd < 0)
		return errf(err, errlen, "cannot open '%s': %s", path, strerror(errno));
	if (fstat(fd, &st) < 0) {
		int e = errno;
		close(fd);
		return errf(err, errlen, "cannot stat '%s': %s", path, strerror(e));
	}
	if (!S_ISREG(st.st_mode) || st.st_size > BLOCKFILE_SIZE_MAX) {
		close(fd);
		if (!S_ISREG(st.st_mode))
			return errf(err, errlen, "'%s' is not a regular file", path);
		return errf(err, errlen, "'%s' is larger than %u MiB", path, BLOCKFILE_SIZE_MAX >> 20);
	}
	alloc = (size_t)st.st_size + 1;
	*buf = xmalloc(alloc);
	for (;;) {
		ssize_t r;
		if (*len == alloc) {
			if (alloc > BLOCKFILE_SIZE_MAX) {
				close(fd);
				free(*buf);
				*buf = NULL;
				return errf(err, errlen, "'%s' is larger than %u MiB", path, BLOCKFILE_SIZE_MAX >> 20);
			}
			XGROW(*buf, alloc, alloc + 1);
		}
		r = read(fd, *buf + *len, alloc - *len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			close(fd);
			free(*buf);
			*buf = NULL;
			return errf(err, errlen, "cannot read '%s': %s", path, strerror(e));
		}
		if (r == 0)
			break;
		*len += (size_t)r;
	}
	close(fd);
	return 0;
}

/* If the path is a symbolic link, watch what it points to (edits there do
 * not show in our directory); drop the watch on a previous target. */
static void watch_link_target(struct blockfile *b)
{
	struct stat st;
	int wd = -1;

	if (lstat(b->path, &st) == 0 && S_ISLNK(st.st_mode)) {
		wd = inotify_add_watch(b->ifd, b->path, LINK_MASK);
		if (wd < 0 && errno != ENOENT)
			log_warn("cannot watch what '%s' points to", b->path);
	}
	if (b->lwd >= 0 && b->lwd != wd && b->lwd != b->dwd)
		inotify_rm_watch(b->ifd, b->lwd);
	b->lwd = wd == b->dwd ? -1 : wd;
}

/* Read and parse the file into *out. 0; -1 if it cannot be read, -2 if it
 * is refused (privs_check_target), with a message in err: *out untouched. */
static int load(struct blockfile *b, struct bf_list *out, char *err, size_t errlen)
{
	struct stat st;
	char *text, why[768];
	size_t len;
	int r;

	watch_link_target(b);
	/* trusted like the configuration: a list that someone other than root
	 * (or the daemon's user) could write would let them block anyone */
	if (stat(b->path, &st) == 0 && privs_check_target(b->path, why, sizeof why) < 0) {
		errf(err, errlen, "block list '%s' refused: %s", b->path, why);
		return -2;
	}
	r = read_whole(b->path, &text, &len, err, errlen);
	if (r < 0)
		return -1;
	if (r == 0)
		blockfile_parse(b->path, text, len, out);
	else
		memset(out, 0, sizeof *out);
	free(text);
	return 0;
}

static void destroy(struct blockfile *b)
{
	if (b->timer)
		loop_cancel_timer(b->loop, b->timer);
	if (b->ifd >= 0) {
		loop_del_fd(b->loop, b->ifd);
		close(b->ifd);
	}
	bf_list_release(&b->cur);
	free(b->path);
	free(b->dir);
	free(b);
}

static void call(struct blockfile *b, const struct bf_entry *add, size_t nadd,
		 const struct bf_entry *rem, size_t nrem)
{
	b->in_cb = true;
	b->fn(b->arg, add, nadd, rem, nrem);
	b->in_cb = false;
}

static void reload_cb(struct loop *l, void *arg);

static void schedule(struct blockfile *b)
{
	if (!b->timer)
		b->timer = loop_add_timer(b->loop, BLOCKFILE_DELAY_MS, reload_cb, b);
}

void blockfile_reload(struct blockfile *b)
{
	struct bf_list next, prev;
	struct change c;
	char err[ERR_LEN];
	int r;

	if (b->in_cb) {
		schedule(b);
		return;
	}
	if (b->timer) {
		loop_cancel_timer(b->loop, b->timer);
		b->timer = 0;
	}
	r = load(b, &next, err, sizeof err);
	if (r < 0) {
		log_warnx("%s; keeping the previous %zu entries%s", err, b->cur.n, r == -2 ? REFUSED_HINT : "");
		return;
	}
	diff(&b->cur, &next, &c);
	prev = b->cur;
	b->cur = next;
	if (c.nadd || c.nrem) {
		log_info("block list '%s': %zu entries (%zu added, %zu removed)",
			 b->path, b->cur.n, c.nadd, c.nrem);
		call(b, c.add, c.nadd, c.rem, c.nrem);
	}
	free(c.add);
	free(c.rem);
	bf_list_release(&prev);
	if (b->closed)
		destroy(b);
}

static void reload_cb(struct loop *l, void *arg)
{
	struct blockfile *b = arg;

	(void)l;
	b->timer = 0;
	blockfile_reload(b);
}

static void on_event(struct blockfile *b, const struct inotify_event *ev)
{
	if (ev->mask & IN_Q_OVERFLOW) {
		schedule(b);
	} else if (b->dwd >= 0 && ev->wd == b->dwd) {
		if (ev->mask & (IN_DELETE_SELF | IN_MOVE_SELF | IN_UNMOUNT | IN_IGNORED)) {
			log_warnx("directory '%s' was removed or moved: changes to '%s' are no longer seen "
				  "(restart or reload to watch it again)", b->dir, b->path);
			if (!(ev->mask & IN_IGNORED))
				inotify_rm_watch(b->ifd, b->dwd);
			b->dwd = -1;
			schedule(b);
		} else if ((ev->len && strcmp(ev->name, b->base) == 0) || (!ev->len && (ev->mask & IN_ATTRIB))) {
			/* the file, or the directory's own mode or owner (which
			 * may turn a refused file into a good one) */
			schedule(b);
		}
	} else if (b->lwd >= 0 && ev->wd == b->lwd) {
		if (ev->mask & IN_IGNORED)
			b->lwd = -1;
		schedule(b);
	}
}

static void on_inotify(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct blockfile *b = arg;
	char buf[16384] __attribute__((aligned(__alignof__(struct inotify_event))));

	(void)l;
	(void)events;
	/* a bounded number of reads: events that keep coming wait for the
	 * next turn of the loop (level-triggered), never hold it */
	for (int reads = 0; reads < 16; reads++) {
		ssize_t r = read(fd, buf, sizeof buf);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno != EAGAIN)
			log_warn("inotify read for '%s'", b->path);
		if (r <= 0)
			return;
		for (const char *p = buf; p < buf + r; ) {
			const struct inotify_event *ev = (const struct inotify_event *)(const void *)p;
			on_event(b, ev);
			p += sizeof *ev + ev->len;
		}
	}
}

struct blockfile *blockfile_open(struct loop *l, const char *path, blockfile_fn *fn, void *arg,
				 char *err, size_t errlen)
{
	struct blockfile *b;
	char *slash;

	if (!path || !*path)
		return errf(err, errlen, "no block list file named"), NULL;
	b = xcalloc(1, sizeof *b);
	b->loop = l;
	b->fn = fn;
	b->arg = arg;
	b->ifd = b->dwd = b->lwd = -1;
	b->path = xstrdup(path);
	slash = strrchr(b->path, '/');
	b->base = slash ? slash + 1 : b->path;
	b->dir = slash ? xstrndup(b->path, slash == b->path ? 1 : (size_t)(slash - b->path)) : xstrdup(".");
	if (!*b->base || !strcmp(b->base, ".") || !strcmp(b->base, "..")) {
		errf(err, errlen, "'%s' does not name a file", path);
		goto fail;
	}
	b->ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (b->ifd < 0) {
		errf(err, errlen, "inotify_init1: %s%s", strerror(errno),
		     errno == EMFILE ? " (raise fs.inotify.max_user_instances)" : "");
		goto fail;
	}
	/* watch first, read second: no change falls between the two */
	b->dwd = inotify_add_watch(b->ifd, b->dir, DIR_MASK);
	if (b->dwd < 0) {
		errf(err, errlen, "cannot watch directory '%s' of '%s': %s%s", b->dir, path, strerror(errno),
		     errno == ENOSPC ? " (raise fs.inotify.max_user_watches)" : "");
		goto fail;
	}
	{
		char why[1024];
		int r = load(b, &b->cur, why, sizeof why);
		if (r < 0)
			log_warnx("%s; starting without its entries%s", why, r == -2 ? REFUSED_HINT : "");
	}
	if (loop_add_fd(l, b->ifd, EPOLLIN, on_inotify, b) < 0) {
		errf(err, errlen, "cannot add the inotify fd for '%s' to the loop: %s", path, strerror(errno));
		goto fail;
	}
	log_info("block list '%s': %zu entries", b->path, b->cur.n);
	call(b, b->cur.v, b->cur.n, NULL, 0);
	if (b->closed) {
		errf(err, errlen, "block list '%s' closed by its callback", path);
		destroy(b);
		return NULL;
	}
	return b;
fail:
	if (b->ifd >= 0) {
		close(b->ifd);
		b->ifd = -1;
	}
	destroy(b);
	return NULL;
}

const struct bf_list *blockfile_list(const struct blockfile *b)
{
	return &b->cur;
}

void blockfile_close(struct blockfile *b)
{
	if (!b)
		return;
	if (b->in_cb)
		b->closed = true;
	else
		destroy(b);
}
