// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * filter_load - reading filter files into a filterset (see filter.h): one
 * file, the layers of shipped files and their local overrides, a spec, or
 * one --regex; the keys of a filter section, in one table (filter_keys);
 * compiling each regex, with its literal prefix and its named groups; the
 * warnings for filter authors (fail2ban macros).
 *
 * Owns: a file's filters while it loads (struct load), until install()
 * hands them to the filterset or load_abort() frees them; the filterset's
 * table of the paths regexes came from.
 *
 * Must never: leave a filterset half-changed (a file or a layer that fails
 * adds nothing); accept a key that is not in filter_keys, a named group
 * it does not know, or a regex that could not name whom to count; match
 * lines (filter.c does, on the hot path).
 */
#include "filter_int.h"
#include "f2bmacro.h"
#include "inifile.h"
#include "inilayer.h"
#include "keydoc.h"
#include "log.h"
#include "xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
