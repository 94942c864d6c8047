// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * daemon_cfgwatch - [logging] watch_config: the directories of the
 * configuration file, of the rule and filter files and of their local
 * overrides, watched with inotify; a change to one of their files (the
 * configuration file's own name, *.conf, *.local, a NAME.d directory)
 * starts a reload once a second has passed without another, so that an
 * editor's temporary file and rename, or several files saved at once,
 * make one reload. The reload is the SIGHUP one (daemon_reload_changed):
 * a broken change is refused and said once; a change that leaves every
 * value as it is reloads nothing.
 *
 * Owns the inotify descriptor, its watches and the quiet timer. Watches
 * are made again after each reload (directories may have changed). Must
 * never: reload on every event of a burst, wake on every write to a file
 * of a watched directory (a log file beside the configuration), hold the
 * loop while events keep coming (a bounded number of reads per wake-up),
 * or stop the daemon when a directory cannot be watched (said once at
 * debug level, SIGHUP still works).
 */
#include "daemon.h"
#include "daemon_logging.h"
#include "inifile.h"
#include "inilayer.h"
#include "log.h"
#include "xalloc.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

#define QUIET_MS 1000
#define MAX_READS 16            /* per wake-up: a directory written without pause must not hold the loop */
#define MAX_DIRS 64

struct cfgwatch {
	int fd;
	uint64_t timer;
	char *cfgbase;          /* the configuration file's own name */
	char *dirs[MAX_DIRS];
	size_t ndirs;
};

static void add_dir(struct cfgwatch *w, const char *dir)
{
	struct stat st;

	if (w->ndirs >= MAX_DIRS || stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return;
	for (size_t i = 0; i < w->ndirs; i++)
		if (strcmp(w->dirs[i], dir) == 0)
			return;
	/* no IN_MODIFY: a file is changed once it is closed, and a log file
	 * written beside the configuration must not wake the daemon per write */
	if (inotify_add_watch(w->fd, dir, IN_CLOSE_WRITE | IN_MOVED_TO | IN_MOVED_FROM | IN_CREATE | IN_DELETE |
			      IN_ONLYDIR) < 0) {
		log_debug("watch_config: cannot watch %s: %s (SIGHUP still reloads)", dir, strerror(errno));
		return;
	}
	w->dirs[w->ndirs++] = xstrdup(dir);
}

static void add_parent(struct cfgwatch *w, const char *file)
{
	char *dup = xstrdup(file), *slash = strrchr(dup, '/');

	if (slash) {
		*slash = '\0';
		add_dir(w, slash == dup ? "/" : dup);
	}
	free(dup);
}

static void add_files(struct cfgwatch *w, const struct inilayer *l)
{
	const char *const *files;
	size_t n = l ? inilayer_files(l, &files, NULL) : 0;

	for (size_t i = 0; i < n; i++)
		add_parent(w, files[i]);
}

/* A rules or filters option: a directory (and DIR.d), or files. */
static void add_spec(struct cfgwatch *w, const char *spec)
{
	char **words, *st, buf[PATH_MAX];
	size_t n = ini_words(spec, &words, &st);

	for (size_t i = 0; i < n; i++) {
		struct stat sb;
		if (stat(words[i], &sb) == 0 && S_ISDIR(sb.st_mode)) {
			add_dir(w, words[i]);
			snprintf(buf, sizeof buf, "%s.d", words[i]);
			add_dir(w, buf);
		} else {
			add_parent(w, words[i]);
		}
	}
	free(words);
	free(st);
}

static bool ends_with(const char *s, size_t n, const char *suffix)
{
	size_t k = strlen(suffix);

	return n > k && memcmp(s + n - k, suffix, k) == 0;
}

/* Is this a name whose change may change the configuration? */
static bool relevant(const struct cfgwatch *w, const char *name)
{
	size_t n = strlen(name);

	if (name[0] == '.')
		return false;   /* editors' swap and temporary files */
	return (w->cfgbase && strcmp(name, w->cfgbase) == 0) || ends_with(name, n, ".conf") ||
	       ends_with(name, n, ".local") || ends_with(name, n, ".d");
}

static void quiet_cb(struct loop *l, void *arg)
{
	struct daemon *d = arg;

	(void)l;
	d->cfgwatch->timer = 0;
	daemon_reload_changed(d);
}

static void on_inotify(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct daemon *d = arg;
	struct cfgwatch *w = d->cfgwatch;
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	bool hit = false;
	ssize_t n;
	int reads = 0;

	(void)events;
	while (reads++ < MAX_READS && (n = read(fd, buf, sizeof buf)) > 0) {
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const struct inotify_event *)(void *)p;
			if ((ev->mask & IN_Q_OVERFLOW) || (ev->len && relevant(w, ev->name)))
				hit = true;
			p += sizeof *ev + ev->len;
		}
	}
	if (!hit)
		return;
	/* a second of quiet after the last change */
	if (w->timer)
		loop_cancel_timer(l, w->timer);
	w->timer = loop_add_timer(l, QUIET_MS, quiet_cb, d);
}

void cfgwatch_close(struct daemon *d)
{
	struct cfgwatch *w = d->cfgwatch;

	if (!w)
		return;
	if (w->timer)
		loop_cancel_timer(d->loop, w->timer);
	if (w->fd >= 0) {
		loop_del_fd(d->loop, w->fd);
		close(w->fd);
	}
	for (size_t i = 0; i < w->ndirs; i++)
		free(w->dirs[i]);
	free(w->cfgbase);
	free(w);
	d->cfgwatch = NULL;
}

void cfgwatch_update(struct daemon *d)
{
	const struct bundle *b = &d->b;
	struct cfgwatch *w;
	uint64_t timer = d->cfgwatch ? d->cfgwatch->timer : 0;

	if (d->cfgwatch) {
		d->cfgwatch->timer = 0;         /* a change still waiting for its quiet second stays due */
		cfgwatch_close(d);
	}
	if (!b->cfg.watch_config || !b->cfg.file) {
		if (timer)
			loop_cancel_timer(d->loop, timer);
		return;
	}
	w = xcalloc(1, sizeof *w);
	w->fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	w->timer = timer;
	d->cfgwatch = w;
	if (w->fd < 0 || loop_add_fd(d->loop, w->fd, EPOLLIN, on_inotify, d) < 0) {
		log_warnx("watch_config: cannot watch the configuration files: %s (SIGHUP still reloads)",
			  strerror(errno));
		if (w->fd >= 0)
			close(w->fd);
		w->fd = -1;
		return;
	}
	{
		const char *slash = strrchr(b->cfg.file, '/');
		w->cfgbase = xstrdup(slash ? slash + 1 : b->cfg.file);
	}
	add_parent(w, b->cfg.file);
	{
		/* NAME.d of NAME.conf */
		char buf[PATH_MAX];
		size_t len = strlen(b->cfg.file);
		if (ends_with(b->cfg.file, len, ".conf") && len - 5 + 3 < sizeof buf) {
			snprintf(buf, sizeof buf, "%.*s.d", (int)(len - 5), b->cfg.file);
			add_dir(w, buf);
		}
	}
	add_files(w, b->cfg.layers);
	add_files(w, b->rule_layers);
	add_files(w, b->filter_layers);
	add_spec(w, b->rules_dir);
	add_spec(w, b->filters_dir);
}
