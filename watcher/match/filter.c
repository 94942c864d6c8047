// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * filter - see filter.h. The filterset's life and accessors, and the
 * matcher: dispatch by program tag through a cache, the regexes run on
 * the message, the event made of the captures (matcher_run), and the same
 * told filter by filter (matcher_explain). Reading filter files into a
 * filterset is filter_load.c's job; filter_int.h holds what both share.
 *
 * Owns: the filterset once loaded (its filters, their compiled regexes
 * and counters, the shared PCRE2 match data and JIT stack) and each
 * matcher's program-tag cache.
 *
 * Must never: trust a capture (addresses are validated, fields bounded,
 * counts capped); parse a filter file or compile a regex; lose the hot
 * path's inlining: lookup, run_regex, try_filter and dispatch stay in
 * this one translation unit (make bench measures it).
 */
#include "filter_int.h"
#include "log.h"
#include "xalloc.h"

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_COUNT 1000000UL
#define PROGCACHE 256           /* slots; cleared when 3/4 full */

struct progent {
	uint8_t len;
	bool used;
	char prog[PROG_MAX];
	struct filter **list;
	size_t n;
};

struct matcher {
	struct filterset *fs;
	struct filter **all;    /* in file order */
	size_t nall;
	struct filter **noprog; /* filters without program: for untagged lines */
	size_t nnoprog;
	struct progent cache[PROGCACHE];
	size_t cached;
	char sessbuf[PROG_MAX + 96];
	const struct filter *limit_filter;      /* hit a regex limit on the last line */
};

const char *filter_name(const struct filter *f)
{
	return f->name;
}

const char *filter_file(const struct filter *f)
{
	return f->file;
}

int filter_lineno(const struct filter *f)
{
	return f->lineno;
}

const char *filter_path(const struct filter *f)
{
	return f->path;
}

size_t filter_programs(const struct filter *f, const char *const **programs)
{
	*programs = (const char *const *)f->programs;
	return f->nprograms;
}

size_t filterset_warnings(const struct filterset *fs, FILE *fp)
{
	for (size_t i = 0; fp && i < fs->nwarn; i++)
		fprintf(fp, "%s\n", fs->warn[i]);
	return fs->nwarn;
}

const struct filter *matcher_limit_hit(const struct matcher *m, uint64_t *hits)
{
	if (m->limit_filter && hits)
		*hits = m->limit_filter->limit_hits;
	return m->limit_filter;
}

struct filterset *filterset_new(const struct filter_limits *lim)
{
	struct filterset *fs = xcalloc(1, sizeof *fs);

	if (lim)
		fs->lim = *lim;
	if (!fs->lim.match_limit)
		fs->lim.match_limit = 100000;
	if (!fs->lim.depth_limit)
		fs->lim.depth_limit = 10000;
	if (!fs->lim.max_field)
		fs->lim.max_field = 256;
	fs->cctx = pcre2_compile_context_create(NULL);
	fs->mctx = pcre2_match_context_create(NULL);
	fs->jstack = pcre2_jit_stack_create(32 * 1024, 512 * 1024, NULL);
	if (!fs->cctx || !fs->mctx || !fs->jstack)
		fatalx("out of memory (pcre2 contexts)");
	pcre2_set_match_limit(fs->mctx, fs->lim.match_limit);
	pcre2_set_depth_limit(fs->mctx, fs->lim.depth_limit);
	pcre2_jit_stack_assign(fs->mctx, NULL, fs->jstack);
	return fs;
}

void filterset_set_limits(struct filterset *fs, uint32_t match_limit, uint32_t depth_limit)
{
	fs->lim.match_limit = match_limit;
	fs->lim.depth_limit = depth_limit;
	pcre2_set_match_limit(fs->mctx, match_limit);
	pcre2_set_depth_limit(fs->mctx, depth_limit);
}

static void regex_release(struct regex *r)
{
	pcre2_code_free(r->code);
}

void filter_free(struct filter *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->nre; i++)
		regex_release(&f->re[i]);
	for (size_t i = 0; i < f->nign; i++)
		regex_release(&f->ign[i]);
	for (size_t i = 0; i < f->nps; i++) {
		free(f->ps[i].prog);
		free(f->ps[i].service);
	}
	free(f->ps);
	free(f->re);
	free(f->ign);
	free(f->re_matched);
	free(f->programs);
	free(f->programs_storage);
	free(f->service);
	free(f->name);
	free(f);
}

void filterset_free(struct filterset *fs)
{
	if (!fs)
		return;
	for (size_t i = 0; i < fs->nf; i++)
		filter_free(fs->f[i]);
	for (size_t i = 0; i < fs->nfiles; i++) {
		free(fs->files[i].name);
		free(fs->files[i].path);
	}
	for (size_t i = 0; i < fs->nwarn; i++)
		free(fs->warn[i]);
	free(fs->warn);
	for (size_t i = 0; i < fs->npaths; i++)
		free(fs->paths[i]);
	free(fs->paths);
	free(fs->f);
	free(fs->files);
	pcre2_match_data_free(fs->md);
	pcre2_jit_stack_free(fs->jstack);
	pcre2_match_context_free(fs->mctx);
	pcre2_compile_context_free(fs->cctx);
	free(fs);
}

bool filterset_has_file(const struct filterset *fs, const char *name)
{
	for (size_t i = 0; i < fs->nfiles; i++)
		if (strcmp(fs->files[i].name, name) == 0)
			return true;
	return false;
}

size_t filterset_nfilters(const struct filterset *fs)
{
	return fs->nf;
}

void filterset_stats(const struct filterset *fs, size_t i, struct filter_stats *st)
{
	const struct filter *f = fs->f[i];

	*st = (struct filter_stats){
		.file = f->file, .name = f->name, .tried = f->tried, .matched = f->matched,
		.ignored = f->ignored, .bad_ip = f->bad_ip, .limit_hits = f->limit_hits,
		.nregex = f->nre, .regex_matched = f->re_matched,
	};
}

/* ---- matching ---- */

static bool untagged_too(const struct filter *f);

struct matcher *matcher_new(struct filterset *fs, const char *const *files, size_t nfiles,
			    char *err, size_t errlen)
{
	struct matcher *m = xcalloc(1, sizeof *m);
	size_t alloc = 0, anp = 0;

	m->fs = fs;
	for (size_t k = 0; k < fs->nfiles; k++) {
		bool want = !files;
		for (size_t j = 0; files && j < nfiles; j++)
			if (strcmp(files[j], fs->files[k].name) == 0)
				want = true;
		if (!want)
			continue;
		for (size_t i = fs->files[k].first; i < fs->files[k].first + fs->files[k].n; i++) {
			XGROW(m->all, alloc, m->nall + 1);
			m->all[m->nall++] = fs->f[i];
			if (untagged_too(fs->f[i])) {
				XGROW(m->noprog, anp, m->nnoprog + 1);
				m->noprog[m->nnoprog++] = fs->f[i];
			}
		}
	}
	for (size_t j = 0; files && j < nfiles; j++)
		if (!filterset_has_file(fs, files[j])) {
			matcher_free(m);
			errf(err, errlen, "no filter file named '%s' is loaded", files[j]);
			return NULL;
		}
	return m;
}

static void cache_clear(struct matcher *m)
{
	for (size_t i = 0; i < PROGCACHE; i++) {
		free(m->cache[i].list);
		m->cache[i].list = NULL;
		m->cache[i].used = false;
	}
	m->cached = 0;
}

void matcher_free(struct matcher *m)
{
	if (!m)
		return;
	cache_clear(m);
	free(m->all);
	free(m->noprog);
	free(m);
}

static uint32_t hash_prog(const char *p, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)p[i]) * 16777619u;
	return h;
}

static bool untagged_too(const struct filter *f)
{
	if (!f->nprograms)
		return true;
	for (size_t i = 0; i < f->nprograms; i++)
		if (strcmp(f->programs[i], "-") == 0)
			return true;
	return false;
}

/* "-" stands for the lines without a tag and matches no tag, not even a
 * literal "-:" one. */
static bool prog_matches(const struct filter *f, const char *prog)
{
	if (!f->nprograms)
		return true;
	for (size_t i = 0; i < f->nprograms; i++)
		if (strcmp(f->programs[i], "-") != 0 && fnmatch(f->programs[i], prog, 0) == 0)
			return true;
	return false;
}

const struct filter *filterset_find(const struct filterset *fs, const char *name)
{
	for (size_t i = 0; i < fs->nf; i++)
		if (strcmp(fs->f[i]->name, name) == 0)
			return fs->f[i];
	return NULL;
}

/* The same dispatch as matcher_run: a tag too long for the cache counts
 * as no tag. */
bool filter_applies(const struct filter *f, const struct logline *ll)
{
	char prog[PROG_MAX];

	if (!ll->prog || ll->proglen >= PROG_MAX)
		return untagged_too(f);
	memcpy(prog, ll->prog, ll->proglen);
	prog[ll->proglen] = '\0';
	return prog_matches(f, prog);
}

/* The filters that apply to lines tagged prog[0..n). */
static inline __attribute__((always_inline)) struct progent *lookup(struct matcher *m, const char *prog, size_t n)
{
	uint32_t h = hash_prog(prog, n);
	struct progent *e;
	size_t alloc = 0;

	for (size_t i = 0; i < PROGCACHE; i++) {
		e = &m->cache[(h + i) % PROGCACHE];
		if (!e->used)
			break;
		if (e->len == n && memcmp(e->prog, prog, n) == 0)
			return e;
	}
	if (m->cached >= PROGCACHE * 3 / 4)
		cache_clear(m);
	for (size_t i = 0;; i++) {
		e = &m->cache[(h + i) % PROGCACHE];
		if (!e->used)
			break;
	}
	e->used = true;
	e->len = (uint8_t)n;
	memcpy(e->prog, prog, n);
	e->prog[n] = '\0';
	e->n = 0;
	for (size_t i = 0; i < m->nall; i++)
		if (prog_matches(m->all[i], e->prog)) {
			XGROW(e->list, alloc, e->n + 1);
			e->list[e->n++] = m->all[i];
		}
	m->cached++;
	return e;
}

/* 1 match, 0 no match, -1 limit or error */
static int run_regex(struct filterset *fs, const struct regex *r, const char *s, size_t n)
{
	int rc;

	if (r->prefixlen && (n < r->prefixlen || memcmp(s, r->prefix, r->prefixlen) != 0))
		return 0;
	if (r->jit)
		rc = pcre2_jit_match(r->code, (PCRE2_SPTR)s, n, 0, 0, fs->md, fs->mctx);
	else
		rc = pcre2_match(r->code, (PCRE2_SPTR)s, n, 0, 0, fs->md, fs->mctx);
	if (rc >= 0)
		return 1;
	return rc == PCRE2_ERROR_NOMATCH ? 0 : -1;
}

static bool group(struct filterset *fs, int g, const char *s, const char **p, size_t *len)
{
	PCRE2_SIZE *ov;

	if (g < 0)
		return false;
	ov = pcre2_get_ovector_pointer(fs->md);
	if (ov[2 * g] == PCRE2_UNSET)
		return false;
	*p = s + ov[2 * g];
	*len = ov[2 * g + 1] - ov[2 * g];
	return true;
}

static const char *service_for(const struct filter *f, const struct logline *ll)
{
	for (size_t i = 0; ll->prog && i < f->nps; i++)
		if (strlen(f->ps[i].prog) == ll->proglen && memcmp(f->ps[i].prog, ll->prog, ll->proglen) == 0)
			return f->ps[i].service;
	return f->service;
}

/* What the filter made of the line; *ri and *ii say which regex and
 * which ignore regex decided it (-1: none). */
/* Inlined: a call per filter tried costs the daemon's hot path measurably
 * (make bench), now that matcher_explain calls it too. */
static inline __attribute__((always_inline)) enum filter_outcome try_filter(struct matcher *m, struct filter *f, const struct logline *ll,
				      struct event *ev, int *ri, int *ii)
{
	struct filterset *fs = m->fs;
	const struct regex *r = NULL;
	const char *p;
	size_t len;
	int rc = 0;

	f->tried++;
	*ri = *ii = -1;
	for (size_t i = 0; i < f->nre; i++) {
		rc = run_regex(fs, &f->re[i], ll->msg, ll->msglen);
		if (rc < 0) {
			f->limit_hits++;
			m->limit_filter = f;
			*ri = (int)i;
			return FILTER_LIMIT;
		}
		if (rc) {
			r = &f->re[i];
			memset(ev, 0, sizeof *ev);
			ev->regex = *ri = (int)i;
			break;
		}
	}
	if (!r)
		return FILTER_NO_MATCH;
	ev->kind = (enum ev_kind)f->kind;
	ev->only_if_counted = f->only_if_counted;
	ev->handoff = f->handoff;
	ev->session_only = f->session_only;
	ev->session_address = f->session_address;
	ev->filter = f;
	ev->filter_name = f->name;
	ev->time = ll->time;
	ev->usec = ll->usec;
	ev->count = 1;
	if (group(fs, r->g_ip, ll->msg, &p, &len)) {
		if (addr_parse(p, len, &ev->ip) < 0) {
			f->bad_ip++;
			return FILTER_BAD_IP;
		}
		ev->has_ip = true;
	}
	if (group(fs, r->g_user, ll->msg, &p, &len) && len) {
		ev->user = p;
		ev->userlen = len < fs->lim.max_field ? len : fs->lim.max_field;
	}
	if (group(fs, r->g_session, ll->msg, &p, &len) && len) {
		ev->session = p;
		ev->sessionlen = len < fs->lim.max_field ? len : fs->lim.max_field;
	} else if (f->session_pid && ll->prog && ll->pid >= 0 && ll->proglen < PROG_MAX) {
		/* "prog[pid]", without the cost of snprintf on the hot path;
		 * only where the filter says one process serves one client: a
		 * Dovecot process serves many, and one login of theirs must
		 * not make every other client's session authenticated */
		char digits[24], *d = digits + sizeof digits;
		unsigned long pid = (unsigned long)ll->pid;
		size_t o = ll->proglen;
		do
			*--d = (char)('0' + pid % 10);
		while (pid /= 10);
		memcpy(m->sessbuf, ll->prog, o);
		m->sessbuf[o++] = '[';
		memcpy(m->sessbuf + o, d, (size_t)(digits + sizeof digits - d));
		o += (size_t)(digits + sizeof digits - d);
		m->sessbuf[o++] = ']';
		ev->session = m->sessbuf;
		ev->sessionlen = o;
	}
	if (group(fs, r->g_count, ll->msg, &p, &len)) {
		unsigned long c = 0;
		for (size_t i = 0; i < len && p[i] >= '0' && p[i] <= '9' && c < MAX_COUNT; i++)
			c = c * 10 + (unsigned long)(p[i] - '0');
		if (c > MAX_COUNT)
			c = MAX_COUNT;
		if (c == 0)
			return FILTER_ZERO_COUNT;
		ev->count = c;
	}
	if (group(fs, r->g_service, ll->msg, &p, &len) && len) {
		ev->service = p;
		ev->servicelen = len < 32 ? len : 32;
	} else if ((ev->service = service_for(f, ll))) {
		ev->servicelen = strlen(ev->service);
	}
	/* the event keeps pointers into the line, not into the match data, so
	 * the ignore regexes may reuse it now */
	for (size_t i = 0; i < f->nign; i++) {
		rc = run_regex(fs, &f->ign[i], ll->msg, ll->msglen);
		if (rc < 0) {
			f->limit_hits++;
			m->limit_filter = f;
			*ii = (int)i;
			return FILTER_LIMIT;
		}
		if (rc) {
			f->ignored++;
			*ii = (int)i;
			return FILTER_IGNORED;
		}
	}
	f->matched++;
	f->re_matched[ev->regex]++;
	return FILTER_EVENT;
}

/* The filters the line's program tag takes. */
static inline __attribute__((always_inline)) size_t dispatch(struct matcher *m, const struct logline *ll, struct filter ***list)
{
	if (ll->prog && ll->proglen < PROG_MAX) {
		struct progent *e = lookup(m, ll->prog, ll->proglen);
		*list = e->list;
		return e->n;
	}
	*list = m->noprog;
	return m->nnoprog;
}

int matcher_run(struct matcher *m, const struct logline *ll, filter_event_fn *fn, void *arg)
{
	struct filter **list;
	size_t n;
	struct event ev;
	int events = 0, ri, ii;

	m->limit_filter = NULL;
	/* a cut line ends where max_line fell, not where the server ended it:
	 * "rip=203.0.113.55, ..." cut after "203.0.113.5" would satisfy a
	 * '$'-anchored regex and name the wrong client */
	if (ll->cut)
		return 0;
	n = dispatch(m, ll, &list);
	for (size_t i = 0; i < n; i++)
		if (try_filter(m, list[i], ll, &ev, &ri, &ii) == FILTER_EVENT) {
			fn(arg, &ev, ll);
			events++;
		}
	return events;
}

/* The groups regex r captured on s: run it again (the ignore regexes
 * may have reused the match data since), then walk the name table. */
static void explain_groups(struct filterset *fs, const struct regex *r, const char *s, size_t n,
			   struct filter_explain *fx)
{
	uint32_t caps = 0, namecount = 0, entsize = 0;
	PCRE2_SPTR table = NULL;
	PCRE2_SIZE *ov;

	fx->ngroups = 0;
	if (run_regex(fs, r, s, n) != 1)
		return;
	ov = pcre2_get_ovector_pointer(fs->md);
	pcre2_pattern_info(r->code, PCRE2_INFO_CAPTURECOUNT, &caps);
	pcre2_pattern_info(r->code, PCRE2_INFO_NAMECOUNT, &namecount);
	pcre2_pattern_info(r->code, PCRE2_INFO_NAMEENTRYSIZE, &entsize);
	pcre2_pattern_info(r->code, PCRE2_INFO_NAMETABLE, &table);
	for (uint32_t g = 1; g <= caps && fx->ngroups < FILTER_EXPLAIN_GROUPS; g++) {
		struct filter_group *fg = &fx->groups[fx->ngroups];
		if (ov[2 * g] == PCRE2_UNSET)
			continue;
		fg->num = (int)g;
		fg->name = NULL;
		for (uint32_t k = 0; k < namecount; k++) {
			const unsigned char *e = table + (size_t)k * entsize;
			if ((uint32_t)((e[0] << 8) | e[1]) == g)
				fg->name = (const char *)e + 2;
		}
		fg->p = s + ov[2 * g];
		fg->len = ov[2 * g + 1] - ov[2 * g];
		fx->ngroups++;
	}
}

int matcher_explain(struct matcher *m, const struct logline *ll, filter_event_fn *fn,
		    filter_explain_fn *xfn, void *arg)
{
	struct filter **list;
	size_t n;
	struct event ev;
	int events = 0;

	m->limit_filter = NULL;
	if (ll->cut)
		return 0;
	n = dispatch(m, ll, &list);
	for (size_t i = 0; i < n; i++) {
		struct filter *f = list[i];
		struct filter_explain fx = { .filter = f, .nregex = f->nre };
		fx.outcome = try_filter(m, f, ll, &ev, &fx.regex, &fx.ignore);
		if (fx.regex >= 0) {
			fx.regex_line = f->re[fx.regex].lineno;
			if (strcmp(f->re[fx.regex].file, f->path) != 0)
				fx.regex_file = f->re[fx.regex].file;
			if (fx.outcome != FILTER_LIMIT)
				explain_groups(m->fs, &f->re[fx.regex], ll->msg, ll->msglen, &fx);
		}
		if (fx.ignore >= 0) {
			fx.ignore_line = f->ign[fx.ignore].lineno;
			if (strcmp(f->ign[fx.ignore].file, f->path) != 0)
				fx.ignore_file = f->ign[fx.ignore].file;
		}
		if (fx.outcome == FILTER_EVENT) {
			fx.ev = &ev;
			fn(arg, &ev, ll);
			events++;
		}
		xfn(arg, &fx, ll);
	}
	return events;
}

const char *filter_outcome_name(enum filter_outcome o)
{
	static const char *const names[] = {
		[FILTER_EVENT] = "event", [FILTER_NO_MATCH] = "no-match", [FILTER_IGNORED] = "ignored",
		[FILTER_LIMIT] = "limit", [FILTER_BAD_IP] = "bad-ip", [FILTER_ZERO_COUNT] = "zero-count",
	};

	return (unsigned)o < sizeof names / sizeof names[0] ? names[o] : "?";
}
