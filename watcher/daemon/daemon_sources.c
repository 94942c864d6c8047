// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * daemon_sources - the daemon's sources: files followed by tail.c and
 * journals read by journal.c, built from the configuration's [source]
 * sections. A reload reuses the open watches of sources that read the
 * same file or journal, so positions and partial lines survive it; a
 * source that cannot be opened fails the whole (re)configuration, and
 * nothing of the old set is touched then.
 *
 * Owns the sources' array in struct daemon and the tail handle. Must
 * never: close a handle an old source still holds.
 */
#include "daemon.h"
#include "log.h"
#include "xalloc.h"
#include "daemon_state.h"
#include "journal.h"
#include "line.h"
#include "state.h"
#include "tail.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void on_file_line(void *cookie, const char *path, const char *line, size_t len, bool cut)
{
	struct src *s = cookie;
	struct logline ll;

	(void)path;
	logline_parse(&ll, line, len, time(NULL));
	ll.cut = cut;
	if (s->format && !logline_fits((enum logline_format)s->format, &ll))
		s->not_format++;
	daemon_handle_line(s->d, s, &ll);
}

static void on_journal_line(void *cookie, const struct logline *ll)
{
	struct src *s = cookie;

	daemon_handle_line(s->d, s, ll);
}

/* ---- sources ---- */

static char *journal_key(const struct source_cfg *sc)
{
	size_t len = 1;
	char *k;

	for (size_t i = 0; sc->journal[i]; i++)
		len += strlen(sc->journal[i]) + 1;
	len += sc->journal_path ? strlen(sc->journal_path) : 0;
	k = xcalloc(1, len + 1);
	for (size_t i = 0; sc->journal[i]; i++) {
		strcat(k, sc->journal[i]);
		strcat(k, " ");
	}
	strcat(k, "|");
	if (sc->journal_path)
		strcat(k, sc->journal_path);
	return k;
}

static void src_free(struct daemon *d, struct src *s)
{
	if (!s)
		return;
	if (s->tw)
		tail_remove(d->tail, s->tw);
	if (s->j)
		journal_close(s->j);
	matcher_free(s->m);
	free(s->name);
	free(s->path);
	free(s->jkey);
	free(s);
}

/* Build the sources of bundle b, reusing the open watches of old sources
 * that read the same file or journal (so positions and buffered partial
 * lines survive a reload). On failure nothing of the old set is touched. */
int daemon_sources_build(struct daemon *d, struct bundle *b, struct src ***out, char *err, size_t errlen)
{
	struct src **v = xcalloc(b->cfg.nsources ? b->cfg.nsources : 1, sizeof *v);
	size_t n = b->cfg.nsources;

	for (size_t i = 0; i < n; i++) {
		struct source_cfg *sc = &b->cfg.sources[i];
		struct src *s = xcalloc(1, sizeof *s);
		v[i] = s;
		s->d = d;
		s->name = xstrdup(sc->name);
		s->format = sc->format;
		s->m = matcher_new(b->fs, (const char *const *)sc->filters, sc->nfilters, err, errlen);
		if (!s->m)
			goto fail;
		if (sc->path)
			s->path = xstrdup(sc->path);
		else
			s->jkey = journal_key(sc);
		for (size_t k = 0; k < d->nsrcs; k++) {
			struct src *o = d->srcs[k];
			if (!o)
				continue;
			if ((s->path && o->path && strcmp(s->path, o->path) == 0 && o->tw) ||
			    (s->jkey && o->jkey && strcmp(s->jkey, o->jkey) == 0 && o->j)) {
				s->tw = o->tw;
				s->j = o->j;
				s->lines = o->lines;
				s->events = o->events;
				s->not_format = o->not_format;
				break;
			}
		}
	}
	/* only now open what is new; reused handles are claimed in sources_swap */
	for (size_t i = 0; i < n; i++) {
		struct source_cfg *sc = &b->cfg.sources[i];
		struct src *s = v[i];
		char msg[ERR_LEN];
		if (s->tw || s->j)
			continue;
		if (sc->path) {
			if (!d->tail) {
				struct tail_opts to = { .max_line = b->cfg.max_line, .from_start = d->from_start };
				d->tail = tail_new(d->loop, &to, on_file_line);
			}
			if (d->saved.loaded) {
				/* we ran before: go on where we stopped */
				struct tail_pos pos[64];
				size_t np = state_file_positions(&d->saved, sc->name, pos, 64);
				s->tw = tail_add_resume(d->tail, sc->path, s, pos, np, msg, sizeof msg);
			} else {
				s->tw = tail_add(d->tail, sc->path, s, msg, sizeof msg);
			}
		} else {
			struct journal_opts jo = { .path = sc->journal_path, .from_start = d->from_start,
						   .max_line = b->cfg.max_line };
			const char *cursor = d->saved.loaded ? state_journal_cursor(&d->saved, sc->name) : NULL;
			s->j = journal_open(d->loop, (const char *const *)sc->journal, &jo, on_journal_line, s, msg,
					    sizeof msg);
			if (s->j && cursor && journal_seek_cursor(s->j, cursor, msg, sizeof msg) < 0)
				log_warnx("[source %s]: cannot go on at the saved journal cursor (%s); reading new "
					  "entries only", sc->name, msg);
		}
		if (!s->tw && !s->j) {
			errf(err, errlen, "[source %s]: %s", sc->name, msg);
			goto fail;
		}
	}
	*out = v;
	return 0;
fail:
	for (size_t i = 0; i < n; i++) {
		if (!v[i])
			continue;
		/* never close a handle that still belongs to an old source */
		for (size_t o = 0; o < d->nsrcs; o++)
			if (d->srcs[o] && ((v[i]->tw && v[i]->tw == d->srcs[o]->tw) || (v[i]->j && v[i]->j == d->srcs[o]->j)))
				v[i]->tw = NULL, v[i]->j = NULL;
		src_free(d, v[i]);
	}
	free(v);
	return -1;
}

/* Swap in new sources: old ones whose handles were taken over are freed
 * without closing them; the rest are closed. */
void daemon_sources_swap(struct daemon *d, struct src **v, size_t n)
{
	for (size_t o = 0; o < d->nsrcs; o++) {
		struct src *old = d->srcs[o];
		for (size_t i = 0; i < n; i++) {
			if (old->tw && v[i]->tw == old->tw) {
				tail_watch_set_cookie(old->tw, v[i]);
				old->tw = NULL;
			}
			if (old->j && v[i]->j == old->j) {
				journal_set_cookie(old->j, v[i]);
				old->j = NULL;
			}
		}
		src_free(d, old);
	}
	free(d->srcs);
	d->srcs = v;
	d->nsrcs = n;
}

