// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * filter - see filter.h. Owns the compiled regexes, the shared PCRE2
 * match data and JIT stack, per-filter counters, and each matcher's
 * program-tag cache. Never trusts a capture: addresses are validated,
 * fields bounded, counts capped.
 */
#include "filter_int.h"
#include "f2bmacro.h"
#include "inifile.h"
#include "inilayer.h"
#include "keydoc.h"
#include "log.h"
#include "xalloc.h"

#include <errno.h>
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

/* ---- loading ---- */

/* True if the pattern has a '|' outside any group or class (then a '^'
 * at its start does not anchor every alternative). Conservative: anything
 * it does not understand counts as yes. */
static bool top_level_alternation(const char *p)
{
	int depth = 0;

	if (strstr(p, "\\Q"))
		return true;
	for (; *p; p++) {
		if (*p == '\\') {
			if (!*++p)
				return true;
		} else if (*p == '[') {
			p++;
			if (*p == '^')
				p++;
			if (*p == ']')
				p++;
			for (; *p && *p != ']'; p++)
				if (*p == '\\' && !*++p)
					return true;
			if (!*p)
				return true;
		} else if (*p == '(') {
			depth++;
		} else if (*p == ')') {
			depth--;
		} else if (*p == '|' && depth <= 0) {
			return true;
		}
	}
	return false;
}

/* The literal text that every match of an anchored pattern starts with,
 * so that most lines can be turned away with one memcmp instead of a call
 * into PCRE2. Stops at the first thing that is not a plain literal, and
 * drops a literal that a quantifier makes optional. */
static size_t literal_prefix(const char *p, char *out, size_t max)
{
	size_t n = 0;

	if (*p != '^' || top_level_alternation(p))
		return 0;
	for (p++; *p && n < max;) {
		char c = *p, next;
		size_t adv = 1;
		if (c == '\\') {
			unsigned char e = (unsigned char)p[1];
			if (!e || e >= 0x80 || (e >= '0' && e <= '9') || (e >= 'a' && e <= 'z') || (e >= 'A' && e <= 'Z'))
				break;
			c = (char)e;
			adv = 2;
		} else if (strchr("^$.|?*+()[]{}", c) || (unsigned char)c >= 0x80) {
			break;
		}
		next = p[adv];
		if (next == '?' || next == '*' || next == '+' || next == '{')
			break;
		out[n++] = c;
		p += adv;
	}
	return n;
}

struct load {
	struct filterset *fs;
	const char *fname;      /* file's filter name (stem) */
	const char *path;       /* the file the value being read is from */
	struct inilayer_feeder *fd;     /* when reading layers */
	const struct inilayer *doc;
	struct filter **f;      /* filters of this file, not yet in fs */
	size_t nf, af;
	struct filter *cur;
	char section[128];
	int secline;
	char **warn;            /* moved into fs->warn with the filters */
	size_t nwarn, awarn;
};

static const char *path_intern(struct filterset *fs, const char *path)
{
	for (size_t i = 0; i < fs->npaths; i++)
		if (strcmp(fs->paths[i], path) == 0)
			return fs->paths[i];
	XGROW(fs->paths, fs->apaths, fs->npaths + 1);
	return fs->paths[fs->npaths++] = xstrdup(path);
}

/* Warn about the first fail2ban macro in a regex that loaded. */
static void check_macros(struct load *ld, const char *pattern, int lineno)
{
	char hint[512], buf[1024];

	if (!f2bmacro_hint(pattern, hint, sizeof hint))
		return;
	snprintf(buf, sizeof buf, "%s:%d: warning: %s", ld->path, lineno, hint);
	XGROW(ld->warn, ld->awarn, ld->nwarn + 1);
	ld->warn[ld->nwarn++] = xstrdup(buf);
}

static int compile(struct load *ld, const char *pattern, struct regex *r, bool need_fields,
		   char *err, size_t errlen)
{
	static const char *const allowed[] = { "ip", "user", "session", "count", "service" };
	PCRE2_SIZE off;
	int ec;
	uint32_t namecount, entsize, caps;
	PCRE2_SPTR table;

	memset(r, 0, sizeof *r);
	r->g_ip = r->g_user = r->g_session = r->g_count = r->g_service = -1;
	r->code = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, 0, &ec, &off, ld->fs->cctx);
	if (!r->code) {
		PCRE2_UCHAR msg[256];
		pcre2_get_error_message(ec, msg, sizeof msg);
		return errf(err, errlen, "bad regex: %s at offset %zu in '%s'", (char *)msg, (size_t)off, pattern);
	}
	r->jit = pcre2_jit_compile(r->code, PCRE2_JIT_COMPLETE) == 0;
	r->prefixlen = (uint8_t)literal_prefix(pattern, r->prefix, PREFIX_MAX);
	pcre2_pattern_info(r->code, PCRE2_INFO_NAMECOUNT, &namecount);
	pcre2_pattern_info(r->code, PCRE2_INFO_NAMEENTRYSIZE, &entsize);
	pcre2_pattern_info(r->code, PCRE2_INFO_NAMETABLE, &table);
	pcre2_pattern_info(r->code, PCRE2_INFO_CAPTURECOUNT, &caps);
	for (uint32_t i = 0; i < namecount; i++) {
		const unsigned char *e = table + (size_t)i * entsize;
		int num = (e[0] << 8) | e[1];
		const char *name = (const char *)e + 2;
		int *slot[] = { &r->g_ip, &r->g_user, &r->g_session, &r->g_count, &r->g_service };
		size_t k;
		for (k = 0; k < 5; k++)
			if (strcmp(name, allowed[k]) == 0)
				break;
		if (k == 5) {
			/* name points into the compiled code: report before freeing it */
			errf(err, errlen, "unknown named group '%s' (known: ip, user, session, count, service)", name);
			pcre2_code_free(r->code);
			return -1;
		}
		*slot[k] = num;
	}
	if (need_fields && r->g_ip < 0 && r->g_user < 0) {
		pcre2_code_free(r->code);
		return errf(err, errlen, "regex has neither (?<ip>...) nor (?<user>...): it could not name whom to count");
	}
	if (caps + 1 > ld->fs->md_pairs)
		ld->fs->md_pairs = caps + 1;
	return 0;
}

static int finish_filter(struct load *ld, char *err, size_t errlen)
{
	struct filter *f = ld->cur;

	if (!f)
		return 0;
	ld->cur = NULL;
	if (f->kind < 0)
		return errf(err, errlen, "filter '%s' (line %d) has no 'event' key", f->name, f->lineno);
	if (f->nre == 0)
		return errf(err, errlen, "filter '%s' (line %d) has no 'regex' key", f->name, f->lineno);
	if (f->handoff && f->kind != EV_CONNECT)
		return errf(err, errlen, "filter '%s' (line %d): handoff = yes is for connect events only", f->name,
			    f->lineno);
	if (f->session_only && f->kind != EV_AUTH_OK)
		return errf(err, errlen, "filter '%s' (line %d): scope = session is for auth-ok events only", f->name,
			    f->lineno);
	f->re_matched = xcalloc(f->nre, sizeof *f->re_matched);
	return 0;
}

static bool valid_name(const char *s)
{
	if (!*s || strlen(s) > 64)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-' || *s == '_' || *s == '.'))
			return false;
	return true;
}

static bool filter_name_taken(struct load *ld, const char *name)
{
	for (size_t i = 0; i < ld->fs->nf; i++)
		if (strcmp(ld->fs->f[i]->name, name) == 0)
			return true;
	for (size_t i = 0; i < ld->nf; i++)
		if (strcmp(ld->f[i]->name, name) == 0)
			return true;
	return false;
}

/* The keys of a filter: what load_value() accepts and `mailscreen
 * options` prints, in one table (docs/filters.md says more of each). */
const struct keydoc filter_keys[] = {
	{ "program", "globs", "(every line)", "program tags the filter reads (* ? [...] as in the shell); - stands "
	  "for the lines without a tag" },
	{ "event", "event kind", "(required)", "one of connect auth-fail auth-ok rcpt-fail rset abuse disconnect" },
	{ "service", "word", "", "the service the events name, for the rules' services lists" },
	{ "program_service", "TAG=SERVICE pairs", "", "the service for lines of exactly that tag, before service" },
	{ "session", "pid or capture", "capture", "pid: an event whose regex captures no session gets "
	  "program[pid] as its session" },
	{ "regex", "PCRE2 pattern", "(at least one)", "repeatable; the first that matches makes the event (the "
	  "whole value is the pattern: no comment)" },
	{ "ignore", "PCRE2 pattern", "", "repeatable; if one matches, the event is cancelled" },
	{ "only_if_counted", "yes/no", "no", "the events count only where the rule already counts the key "
	  "(follow-ups)" },
	{ "handoff", "yes/no", "no", "connect filters: the next connect of the same address and service from "
	  "another filter within 30 seconds counts 0" },
	{ "scope", "address or session", "address", "auth-ok filters: session: a login exempts its session, not "
	  "its address" },
	{ "session_address", "yes/no", "no", "an event naming an address and a session lends the address to the "
	  "session (for an hour); one naming only the session borrows it" },
};
const size_t filter_nkeys = KEYDOC_N(filter_keys);

static int load_value(void *arg, const char *section, const char *key, const char *value, int lineno,
		      int secline, char *err, size_t errlen)
{
	struct load *ld = arg;
	struct filter *f;

	if (!ld->cur || strcmp(section, ld->section) != 0 || secline != ld->secline) {
		char tmp[1024];
		if (finish_filter(ld, tmp, sizeof tmp) < 0)
			return errf(err, errlen, "%s", tmp);
		if (!*section)
			return errf(err, errlen, "key '%s' outside a [filter] section", key);
		if (!valid_name(section))
			return errf(err, errlen, "bad filter name '%s' (use a-z, 0-9, '-', '_', '.')", section);
		if (filter_name_taken(ld, section))
			return errf(err, errlen, "filter '%s' is defined twice", section);
		snprintf(ld->section, sizeof ld->section, "%s", section);
		ld->secline = secline;
		f = xcalloc(1, sizeof *f);
		f->name = xstrdup(section);
		f->kind = -1;
		XGROW(ld->f, ld->af, ld->nf + 1);
		ld->f[ld->nf++] = f;
		ld->cur = f;
	}
	f = ld->cur;
	if (!f->lineno)
		f->lineno = lineno;
	if (!keydoc_find(filter_keys, filter_nkeys, key)) {
		char known[512];
		keydoc_known(filter_keys, filter_nkeys, known, sizeof known);
		return errf(err, errlen, "unknown key '%s' in [%s] (known: %s)", key, section, known);
	}
	if (strcmp(key, "event") == 0) {
		int k = ev_kind_parse(value, strlen(value));
		if (k < 0)
			return errf(err, errlen, "unknown event '%s' (known: connect, auth-fail, auth-ok, rcpt-fail, "
				    "rset, abuse, disconnect)", value);
		f->kind = k;
	} else if (strcmp(key, "program") == 0) {
		free(f->programs);
		free(f->programs_storage);
		f->nprograms = ini_words(value, &f->programs, &f->programs_storage);
		for (size_t i = 0; i < f->nprograms; i++)
			if (strlen(f->programs[i]) >= PROG_MAX)
				return errf(err, errlen, "program '%s' is too long", f->programs[i]);
	} else if (strcmp(key, "only_if_counted") == 0) {
		int b;
		if (ini_bool(value, &b) < 0)
			return errf(err, errlen, "only_if_counted wants yes or no, not '%s'", value);
		f->only_if_counted = b != 0;
	} else if (strcmp(key, "handoff") == 0) {
		int b;
		if (ini_bool(value, &b) < 0)
			return errf(err, errlen, "handoff wants yes or no, not '%s'", value);
		f->handoff = b != 0;
	} else if (strcmp(key, "session_address") == 0) {
		int b;
		if (ini_bool(value, &b) < 0)
			return errf(err, errlen, "session_address wants yes or no, not '%s'", value);
		f->session_address = b != 0;
	} else if (strcmp(key, "scope") == 0) {
		if (strcmp(value, "session") == 0)
			f->session_only = true;
		else if (strcmp(value, "address") == 0)
			f->session_only = false;
		else
			return errf(err, errlen, "scope = '%s': use address (a login exempts the session and the "
				    "address, the default) or session (only the session)", value);
	} else if (strcmp(key, "service") == 0) {
		free(f->service);
		f->service = xstrdup(value);
	} else if (strcmp(key, "session") == 0) {
		if (strcmp(value, "pid") == 0)
			f->session_pid = true;
		else if (strcmp(value, "capture") == 0)
			f->session_pid = false;
		else
			return errf(err, errlen, "session = '%s': use pid (the process is the session, as with Postfix "
				    "smtpd) or capture (only what (?<session>...) captures, the default)", value);
	} else if (strcmp(key, "program_service") == 0) {
		char **w, *st;
		size_t n = ini_words(value, &w, &st);
		for (size_t i = 0; i < n; i++) {
			char *eq = strchr(w[i], '=');
			if (!eq || eq == w[i] || !eq[1]) {
				errf(err, errlen, "program_service wants PROGRAM=SERVICE pairs, not '%s'", w[i]);
				free(w);
				free(st);
				return -1;
			}
			*eq = '\0';
			XGROW(f->ps, f->aps, f->nps + 1);
			f->ps[f->nps].prog = xstrdup(w[i]);
			f->ps[f->nps++].service = xstrdup(eq + 1);
		}
		free(w);
		free(st);
	} else if (strcmp(key, "regex") == 0 || strcmp(key, "ignore") == 0) {
		bool ign = key[0] == 'i';
		struct regex r;
		if (compile(ld, value, &r, !ign, err, errlen) < 0) {
			char hint[512];
			size_t el = strlen(err);
			/* "neither (?<ip>...) nor ..." because of a <HOST>: say so */
			if (f2bmacro_hint(value, hint, sizeof hint) && el + 3 < errlen)
				snprintf(err + el, errlen - el, " (%s)", hint);
			return -1;
		}
		r.lineno = lineno;
		r.file = path_intern(ld->fs, ld->path);
		check_macros(ld, value, lineno);
		if (ign) {
			XGROW(f->ign, f->aign, f->nign + 1);
			f->ign[f->nign++] = r;
		} else {
			XGROW(f->re, f->are, f->nre + 1);
			f->re[f->nre++] = r;
		}
	} else {
		log_panic("filter key '%s' is in filter_keys but not parsed", key);
	}
	return 0;
}

static void load_abort(struct load *ld)
{
	for (size_t i = 0; i < ld->nf; i++)
		filter_free(ld->f[i]);
	free(ld->f);
	for (size_t i = 0; i < ld->nwarn; i++)
		free(ld->warn[i]);
	free(ld->warn);
}

/* A ';' or '#' after a blank starts a comment in every value but a regex
 * (regex, ignore), where it is part of the pattern. */
static int load_key(void *arg, const char *section, const char *key, const char *value, int lineno,
		    int secline, char *err, size_t errlen)
{
	struct load *ld = arg;
	char *v;
	int rc;

	if (ld->fd)
		ld->path = ld->fd->file;
	if (strcmp(key, "regex") == 0 || strcmp(key, "ignore") == 0)
		return load_value(arg, section, key, value, lineno, secline, err, errlen);
	v = ini_strip_comment(value);
	rc = load_value(arg, section, key, v, lineno, secline, err, errlen);
	free(v);
	return rc;
}

/* Move a loaded file's filters into the set, under the file name ld->fname. */
static void install(struct load *ld)
{
	struct filterset *fs = ld->fs;

	XGROW(fs->files, fs->afiles, fs->nfiles + 1);
	fs->files[fs->nfiles] = (struct ffile){ xstrdup(ld->fname), xstrdup(ld->path), fs->nf, ld->nf };
	for (size_t i = 0; i < ld->nwarn; i++) {
		XGROW(fs->warn, fs->awarn, fs->nwarn + 1);
		fs->warn[fs->nwarn++] = ld->warn[i];
	}
	free(ld->warn);
	for (size_t i = 0; i < ld->nf; i++) {
		ld->f[i]->file = fs->files[fs->nfiles].name;
		ld->f[i]->path = fs->files[fs->nfiles].path;
		XGROW(fs->f, fs->af, fs->nf + 1);
		fs->f[fs->nf++] = ld->f[i];
	}
	fs->nfiles++;
	free(ld->f);
	pcre2_match_data_free(fs->md);
	fs->md = pcre2_match_data_create(fs->md_pairs ? fs->md_pairs : 1, NULL);
	if (!fs->md)
		fatalx("out of memory (pcre2 match data)");
}

static int layer_end(void *arg, const struct ini_section_info *si, char *err, size_t errlen)
{
	struct load *ld = arg;
	char msg[ERR_LEN], hint[ERR_LEN];

	if (finish_filter(ld, msg, sizeof msg) == 0)
		return 0;
	inilayer_added_hint(ld->doc, si, "filter", hint, sizeof hint);
	return errf(err, errlen, "%s%s", msg, hint);
}

/* One filter file: the sections of one owner. */
static int load_owner(struct filterset *fs, const struct inilayer *doc, size_t i, char *err, size_t errlen)
{
	const char *path;
	bool base;
	const char *name = inilayer_owner(doc, i, &path, &base);
	struct inilayer_feeder fd = { .key = load_key, .end = layer_end };
	struct load ld = { .fs = fs, .fname = name, .path = path, .fd = &fd, .doc = doc };

	fd.arg = &ld;
	if (filterset_has_file(fs, name))
		return errf(err, errlen, "%s: a filter file named '%s' is already loaded", path, name);
	if (inilayer_feed(doc, name, &fd, err, errlen) < 0) {
		load_abort(&ld);
		return -1;
	}
	if (ld.nf == 0) {
		load_abort(&ld);
		return base ? errf(err, errlen, "%s: no filters in this file", path) : 0;
	}
	ld.path = path;
	install(&ld);
	return 0;
}

int filterset_load_layers(struct filterset *fs, const struct inilayer *doc, char *err, size_t errlen)
{
	size_t n = inilayer_nowners(doc), first = fs->nfiles, nwarn = fs->nwarn;

	for (size_t i = 0; i < n; i++)
		if (load_owner(fs, doc, i, err, errlen) < 0) {
			/* leave the set as it was */
			while (fs->nwarn > nwarn)
				free(fs->warn[--fs->nwarn]);
			while (fs->nfiles > first) {
				struct ffile *ff = &fs->files[--fs->nfiles];
				while (fs->nf > ff->first)
					filter_free(fs->f[--fs->nf]);
				free(ff->name);
				free(ff->path);
			}
			return -1;
		}
	return 0;
}

int filterset_load(struct filterset *fs, const char *path, char *err, size_t errlen)
{
	struct inilayer *doc = inilayer_new();
	int rc = inilayer_add(doc, path, NULL, false, err, errlen);

	if (rc == 0)
		rc = filterset_load_layers(fs, doc, err, errlen);
	inilayer_free(doc);
	return rc;
}

int filterset_add_regex(struct filterset *fs, const char *regex, const char *program, const char *event,
			char *err, size_t errlen)
{
	struct load ld = { .fs = fs, .fname = "regex", .path = "--regex" };
	char tmp[1024];

	if (filterset_has_file(fs, "regex"))
		return errf(err, errlen, "a filter file named 'regex' is already loaded");
	if ((program && load_value(&ld, "regex", "program", program, 1, 1, err, errlen) < 0) ||
	    load_value(&ld, "regex", "event", event ? event : "auth-fail", 1, 1, err, errlen) < 0 ||
	    load_value(&ld, "regex", "regex", regex, 1, 1, err, errlen) < 0) {
		load_abort(&ld);
		return -1;
	}
	if (finish_filter(&ld, tmp, sizeof tmp) < 0) {
		errf(err, errlen, "%s", tmp);
		load_abort(&ld);
		return -1;
	}
	install(&ld);
	return 0;
}

int filterset_load_spec(struct filterset *fs, const char *spec, char *err, size_t errlen)
{
	struct inilayer *doc = inilayer_new();
	char **paths, **over;
	int rc = 0;

	if (inifile_expand(spec, "filter", &paths, err, errlen) < 0) {
		inilayer_free(doc);
		return -1;
	}
	over = inilayer_overrides_of_dir(spec);
	for (size_t i = 0; paths[i] && rc == 0; i++)
		rc = inilayer_add(doc, paths[i], NULL, false, err, errlen);
	for (size_t i = 0; over[i] && rc == 0; i++)
		rc = inilayer_add(doc, over[i], NULL, true, err, errlen);
	if (rc == 0)
		rc = filterset_load_layers(fs, doc, err, errlen);
	inifile_paths_free(paths);
	inifile_paths_free(over);
	inilayer_free(doc);
	return rc;
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
