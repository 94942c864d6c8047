// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * cmd_test - "mailscreen test": checks filter files against their
 * annotated sample logs (filters/samples/NAME.log beside filters/NAME.conf).
 *
 * Sample format: before each log line, one annotation per event the line
 * must produce, "#> KIND [key=value ...]", or "#> none". Keys are filter
 * ip user service session count only_if_counted; only the keys given are
 * compared, except that an event of an only_if_counted filter fits only an
 * annotation that says only_if_counted=... . A value with spaces is written
 * in double quotes (\" and \\ escape inside them); a bare - means the event
 * must not have that key, "-" in quotes is the text -. Other lines starting
 * with '#' are comments; blank lines are skipped. Also an error: an
 * annotation naming a filter the file does not have, and a filter of the
 * file that no sample line exercises.
 *
 * The log lines go through the same header parser and filters as "match"
 * does, and the verdicts are those of tests/filters/run-samples.sh. Prints
 * "SAMPLE:LINE: expected ... got ..." per mismatch, then "samples NAME: N
 * lines, N events, N failed" per file. Never counts, blocks or touches the
 * network.
 */
#include "cmd.h"
#include "config.h"
#include "event.h"
#include "filter.h"
#include "inifile.h"
#include "line.h"
#include "log.h"
#include "xalloc.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* The keys an annotation may compare, in the order "got" shows them. */
enum { K_FILTER, K_IP, K_USER, K_SERVICE, K_SESSION, K_COUNT, K_OIC, NKEYS };
static const char *const key_names[NKEYS] = {
	"filter", "ip", "user", "service", "session", "count", "only_if_counted",
};

struct ann {                    /* one "#> KIND key=value ..." */
	char *kind;
	size_t nkeys;
	int key[NKEYS];         /* in the order written */
	char *val[NKEYS];       /* NULL: the key must be absent */
};

struct sline {                  /* one log line of the sample, with its annotations */
	char *text;
	size_t sample_line;
	struct ann *ann;
	size_t nann;
};

struct tevent {                 /* one event, its keys as text (NULL: absent) */
	const char *kind;
	char *val[NKEYS];
};

struct tstate {
	struct tevent *ev;
	size_t nev, aev;
	size_t nfilters;
	const char **fnames;
	size_t *fcount;         /* events per filter */
};

static void usage(FILE *fp)
{
	fprintf(fp,
		"usage: mailscreen test [-c FILE] [FILTERFILE ...]\n"
		"\n"
		"Check filter files against their annotated sample logs (samples/NAME.log beside\n"
		"NAME.conf). Without FILTERFILE: every filter file with a sample in the configured\n"
		"filters directory, as 'check' finds it. Prints 'sample:line: expected ... got ...'\n"
		"per failure and a summary per file; exits 1 on any failure.\n"
		"\n"
		"  -c, --config FILE  take the filters directory from this configuration\n"
		"  -h, --help         this help\n");
}

/* A value as jq's tojson writes it: quoted, ", \ and controls escaped. */
static void put_json(FILE *o, const char *s)
{
	fputc('"', o);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"': fputs("\\\"", o); break;
		case '\\': fputs("\\\\", o); break;
		case '\b': fputs("\\b", o); break;
		case '\f': fputs("\\f", o); break;
		case '\n': fputs("\\n", o); break;
		case '\r': fputs("\\r", o); break;
		case '\t': fputs("\\t", o); break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				fprintf(o, "\\u%04x", *p);
			else
				fputc(*p, o);
		}
	}
	fputc('"', o);
}

static void show_want(FILE *o, const struct sline *sl)
{
	if (!sl->nann) {
		fputs("none", o);
		return;
	}
	for (size_t i = 0; i < sl->nann; i++) {
		const struct ann *a = &sl->ann[i];
		fprintf(o, "%s%s", i ? "; " : "", a->kind);
		for (size_t k = 0; k < a->nkeys; k++) {
			fprintf(o, " %s=", key_names[a->key[k]]);
			if (a->val[k])
				put_json(o, a->val[k]);
			else
				fputc('-', o);
		}
	}
}

static void show_got(FILE *o, const struct tevent *ev, size_t n)
{
	if (!n) {
		fputs("none", o);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		fprintf(o, "%s%s", i ? "; " : "", ev[i].kind);
		for (int k = 0; k < NKEYS; k++)
			if (ev[i].val[k]) {
				fprintf(o, " %s=", key_names[k]);
				put_json(o, ev[i].val[k]);
			}
	}
}

/* Does event e satisfy annotation a: its kind, every key it lists (a NULL
 * value: the key is absent), and only_if_counted only if a says so? */
static bool fits(const struct ann *a, const struct tevent *e)
{
	bool says_oic = false;

	if (strcmp(a->kind, e->kind) != 0)
		return false;
	for (size_t k = 0; k < a->nkeys; k++) {
		const char *v = e->val[a->key[k]];
		if (a->key[k] == K_OIC)
			says_oic = true;
		if (a->val[k] ? !v || strcmp(v, a->val[k]) != 0 : v != NULL)
			return false;
	}
	return !e->val[K_OIC] || says_oic;
}

/* Can annotations ann[i..] be paired one to one with the unused events? */
static bool pairs(const struct ann *ann, size_t nann, size_t i, const struct tevent *ev, size_t nev, bool *used)
{
	if (i == nann)
		return true;
	for (size_t j = 0; j < nev; j++) {
		if (used[j] || !fits(&ann[i], &ev[j]))
			continue;
		used[j] = true;
		bool ok = pairs(ann, nann, i + 1, ev, nev, used);
		used[j] = false;
		if (ok)
			return true;
	}
	return false;
}

static void ann_release(struct ann *a)
{
	free(a->kind);
	for (size_t k = 0; k < a->nkeys; k++)
		free(a->val[k]);
	memset(a, 0, sizeof *a);
}

static void tevent_release(struct tevent *e)
{
	for (int k = 0; k < NKEYS; k++)
		free(e->val[k]);
}

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

/* Parses the text after "#>" into *a. 0, or -1 with a message in err. */
static int parse_ann(const char *p, struct ann *a, char *err, size_t errlen)
{
	const char *s;
	bool seen[NKEYS] = { false };

	memset(a, 0, sizeof *a);
	while (is_blank(*p))
		p++;
	for (s = p; *s && !is_blank(*s); s++)
		;
	if (s == p) {
		errf(err, errlen, "empty annotation");
		return -1;
	}
	a->kind = xstrndup(p, (size_t)(s - p));
	if (strcmp(a->kind, "none") != 0 && ev_kind_parse(a->kind, strlen(a->kind)) < 0) {
		errf(err, errlen, "unknown event kind '%s'", a->kind);
		goto fail;
	}
	p = s;
	for (;;) {
		int key = -1;
		char *val;

		while (is_blank(*p))
			p++;
		if (!*p)
			break;
		for (s = p; (*s >= 'a' && *s <= 'z') || *s == '_'; s++)
			;
		if (s == p || *s != '=') {
			errf(err, errlen, "bad annotation text '%s' (want key=value)", p);
			goto fail;
		}
		for (int k = 0; k < NKEYS; k++)
			if (strlen(key_names[k]) == (size_t)(s - p) && memcmp(key_names[k], p, (size_t)(s - p)) == 0)
				key = k;
		if (key < 0) {
			errf(err, errlen, "unknown key '%.*s' (known: filter ip user service session count only_if_counted)",
			     (int)(s - p), p);
			goto fail;
		}
		if (seen[key]) {
			errf(err, errlen, "key '%s' given twice", key_names[key]);
			goto fail;
		}
		seen[key] = true;
		p = s + 1;
		if (*p == '"') {
			size_t n = 0;
			bool closed = false;
			val = xmalloc(strlen(p) + 1);
			for (p++; *p; p++) {
				if (*p == '\\' && p[1]) {
					val[n++] = *++p;
					continue;
				}
				if (*p == '"') {
					closed = true;
					p++;
					break;
				}
				val[n++] = *p;
			}
			val[n] = '\0';
			if (!closed || (*p && !is_blank(*p))) {
				free(val);
				errf(err, errlen, closed ? "text after the quoted value of '%s'"
					: "unterminated quoted value for '%s'", key_names[key]);
				goto fail;
			}
		} else {
			for (s = p; *s && !is_blank(*s); s++)
				;
			val = s - p == 1 && *p == '-' ? NULL : xstrndup(p, (size_t)(s - p));
			p = s;
		}
		a->key[a->nkeys] = key;
		a->val[a->nkeys++] = val;
	}
	if (strcmp(a->kind, "none") == 0 && a->nkeys) {
		errf(err, errlen, "'none' takes no keys");
		goto fail;
	}
	return 0;
fail:
	ann_release(a);
	return -1;
}

/* Reads SAMPLE into lines[]; prints each annotation format problem as
 * "SAMPLE:LINE: message" and counts it in *nerr. -1 if it cannot be read. */
static int read_sample(const char *sample, struct sline **lines, size_t *nlines, size_t *nerr, FILE *o)
{
	FILE *fp = fopen(sample, "r");
	struct ann *pend = NULL;
	size_t npend = 0, apend = 0, alines = 0, lineno = 0, firstann = 0;
	bool hasnone = false;
	char *buf = NULL, err[ERR_LEN];
	size_t bufsz = 0;
	ssize_t n;

	*lines = NULL;
	*nlines = 0;
	if (!fp) {
		fprintf(o, "%s: cannot open: %m\n", sample);
		return -1;
	}
	while ((n = getline(&buf, &bufsz, fp)) >= 0) {
		const char *p;
		struct sline *sl;

		lineno++;
		if (n > 0 && buf[n - 1] == '\n')
			buf[--n] = '\0';
		if (strncmp(buf, "#>", 2) == 0) {
			struct ann a;
			if (parse_ann(buf + 2, &a, err, sizeof err) < 0) {
				fprintf(o, "%s:%zu: %s\n", sample, lineno, err);
				(*nerr)++;
				continue;
			}
			if (strcmp(a.kind, "none") == 0) {
				ann_release(&a);
				hasnone = true;
			} else {
				XGROW(pend, apend, npend + 1);
				pend[npend++] = a;
			}
			if (!firstann)
				firstann = lineno;
			continue;
		}
		for (p = buf; is_blank(*p); p++)
			;
		if (buf[0] == '#' || !*p)
			continue;
		if (!npend && !hasnone) {
			fprintf(o, "%s:%zu: log line without an annotation (#> KIND ... or #> none)\n", sample, lineno);
			(*nerr)++;
		}
		if (npend && hasnone) {
			fprintf(o, "%s:%zu: '#> none' together with event annotations\n", sample, lineno);
			(*nerr)++;
		}
		XGROW(*lines, alines, *nlines + 1);
		sl = &(*lines)[(*nlines)++];
		sl->text = xstrndup(buf, (size_t)n);
		sl->sample_line = lineno;
		sl->ann = npend ? xmalloc(npend * sizeof *pend) : NULL;
		if (npend)
			memcpy(sl->ann, pend, npend * sizeof *pend);
		sl->nann = npend;
		npend = 0;
		hasnone = false;
		firstann = 0;
	}
	if (npend || hasnone) {
		fprintf(o, "%s:%zu: annotation not followed by a log line\n", sample, firstann);
		(*nerr)++;
	}
	for (size_t i = 0; i < npend; i++)
		ann_release(&pend[i]);
	free(pend);
	free(buf);
	fclose(fp);
	return 0;
}

static void sample_free(struct sline *lines, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < lines[i].nann; k++)
			ann_release(&lines[i].ann[k]);
		free(lines[i].ann);
		free(lines[i].text);
	}
	free(lines);
}

static char *xstrndup_or_null(const char *s, size_t n)
{
	return s ? xstrndup(s, n) : NULL;
}

static void collect(void *arg, const struct event *ev, const struct logline *ll)
{
	struct tstate *st = arg;
	struct tevent *e;
	char buf[ADDR_STRLEN > 32 ? ADDR_STRLEN : 32];

	(void)ll;
	XGROW(st->ev, st->aev, st->nev + 1);
	e = &st->ev[st->nev++];
	memset(e, 0, sizeof *e);
	e->kind = ev_kind_name(ev->kind);
	e->val[K_FILTER] = xstrdup(ev->filter_name);
	if (ev->has_ip) {
		addr_format(&ev->ip, buf);
		e->val[K_IP] = xstrdup(buf);
	}
	e->val[K_USER] = xstrndup_or_null(ev->user, ev->userlen);
	e->val[K_SERVICE] = xstrndup_or_null(ev->service, ev->servicelen);
	e->val[K_SESSION] = xstrndup_or_null(ev->session, ev->sessionlen);
	snprintf(buf, sizeof buf, "%lu", ev->count);
	e->val[K_COUNT] = xstrdup(buf);
	if (ev->only_if_counted)
		e->val[K_OIC] = xstrdup("true");
	for (size_t i = 0; i < st->nfilters; i++)
		if (strcmp(st->fnames[i], ev->filter_name) == 0)
			st->fcount[i]++;
}

/* The name of a filter file: its base name without ".conf". */
static void file_stem(const char *file, char *name, size_t len)
{
	const char *b = strrchr(file, '/');
	size_t n;

	b = b ? b + 1 : file;
	n = strlen(b);
	if (n > 5 && strcmp(b + n - 5, ".conf") == 0)
		n -= 5;
	snprintf(name, len, "%.*s", (int)n, b);
}

/* The sample of FILE: DIR/samples/NAME.log beside DIR/NAME.conf. */
static void sample_path(const char *file, char *out, size_t len)
{
	const char *b = strrchr(file, '/');
	char name[256];

	file_stem(file, name, sizeof name);
	if (b)
		snprintf(out, len, "%.*s/samples/%s.log", (int)(b - file), file, name);
	else
		snprintf(out, len, "./samples/%s.log", name);
}

static bool exists(const char *path)
{
	struct stat sb;

	return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

/* Checks one filter file against its sample; prints its failures and its
 * summary line. Returns whether it passed. */
static bool test_one(const char *file, FILE *o)
{
	char name[256], sample[4096], err[ERR_LEN];
	struct filterset *fs;
	struct matcher *m;
	struct sline *lines = NULL;
	struct tstate st = { 0 };
	size_t nlines = 0, nerr = 0, nbad = 0, nevents = 0;
	time_t now = time(NULL);

	file_stem(file, name, sizeof name);
	sample_path(file, sample, sizeof sample);
	if (!exists(file)) {
		fprintf(o, "%s: no such filter file\nsamples %s: 0 lines, 0 events, 1 failed\n", file, name);
		return false;
	}
	if (!exists(sample)) {
		fprintf(o, "%s: no sample log %s (every filter file needs one)\n"
			"samples %s: 0 lines, 0 events, 1 failed\n", file, sample, name);
		return false;
	}
	fs = filterset_new(NULL);
	if (filterset_load(fs, file, err, sizeof err) < 0 ||
	    !(m = matcher_new(fs, NULL, 0, err, sizeof err))) {
		fprintf(o, "%s: %s\nsamples %s: ? lines, ? events, 1 failed\n", file, err, name);
		filterset_free(fs);
		return false;
	}
	filterset_warnings(fs, o);
	if (read_sample(sample, &lines, &nlines, &nerr, o) < 0) {
		fprintf(o, "samples %s: ? lines, ? events, 1 failed\n", name);
		matcher_free(m);
		filterset_free(fs);
		return false;
	}
	st.nfilters = filterset_nfilters(fs);
	st.fnames = xmalloc((st.nfilters + 1) * sizeof *st.fnames);
	st.fcount = xcalloc(st.nfilters + 1, sizeof *st.fcount);
	for (size_t i = 0; i < st.nfilters; i++) {
		struct filter_stats fst;
		filterset_stats(fs, i, &fst);
		st.fnames[i] = fst.name;
	}
	for (size_t i = 0; i < nlines; i++) {
		struct logline ll;
		bool *used;

		st.nev = 0;
		logline_parse(&ll, lines[i].text, strlen(lines[i].text), now);
		matcher_run(m, &ll, collect, &st);
		nevents += st.nev;
		used = xcalloc(st.nev + 1, sizeof *used);
		if (lines[i].nann != st.nev || !pairs(lines[i].ann, lines[i].nann, 0, st.ev, st.nev, used)) {
			fprintf(o, "%s:%zu: expected ", sample, lines[i].sample_line);
			show_want(o, &lines[i]);
			fputs(" got ", o);
			show_got(o, st.ev, st.nev);
			fputc('\n', o);
			nbad++;
		}
		free(used);
		for (size_t k = 0; k < st.nev; k++)
			tevent_release(&st.ev[k]);
	}
	for (size_t i = 0; i < nlines; i++)
		for (size_t k = 0; k < lines[i].nann; k++) {
			const struct ann *a = &lines[i].ann[k];
			for (size_t j = 0; j < a->nkeys; j++) {
				bool known = false;
				if (a->key[j] != K_FILTER || !a->val[j])
					continue;
				for (size_t f = 0; f < st.nfilters; f++)
					known = known || strcmp(st.fnames[f], a->val[j]) == 0;
				if (!known) {
					fprintf(o, "%s:%zu: annotation names filter ", sample, lines[i].sample_line);
					put_json(o, a->val[j]);
					fprintf(o, ", which %s does not have\n", file);
					nbad++;
				}
			}
		}
	for (size_t f = 0; f < st.nfilters; f++)
		if (!st.fcount[f]) {
			fprintf(o, "%s: filter [%s] is not exercised: no sample line produces an event from it\n",
				file, st.fnames[f]);
			nbad++;
		}
	fprintf(o, "samples %s: %zu lines, %zu events, %zu failed\n", name, nlines, nevents, nbad + nerr);
	free(st.ev);
	free(st.fnames);
	free(st.fcount);
	sample_free(lines, nlines);
	matcher_free(m);
	filterset_free(fs);
	return nbad + nerr == 0;
}

int cmd_test(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cfgpath = NULL;
	char err[ERR_LEN];
	bool ok = true;
	int opt;

	while ((opt = getopt_long(argc, argv, "c:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c': cfgpath = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (optind < argc) {
		for (int i = optind; i < argc; i++)
			ok = test_one(argv[i], stdout) && ok;
	} else {
		struct config cfg;
		char **paths;
		size_t ntested = 0;

		if (config_load(&cfg, cfgpath, cfgpath != NULL, err, sizeof err) < 0) {
			fprintf(stderr, "mailscreen test: %s\n", err);
			return 1;
		}
		if (inifile_expand(config_resolve_dir(cfg.filters, SYSCONFDIR "/mailscreen/filters", "filters"),
				   "filter", &paths, err, sizeof err) < 0) {
			fprintf(stderr, "mailscreen test: %s\n", err);
			config_release(&cfg);
			return 1;
		}
		config_release(&cfg);
		for (size_t i = 0; paths[i]; i++) {
			char sample[4096];
			sample_path(paths[i], sample, sizeof sample);
			if (!exists(sample))
				continue;
			ok = test_one(paths[i], stdout) && ok;
			ntested++;
		}
		inifile_paths_free(paths);
		if (!ntested) {
			fprintf(stderr, "mailscreen test: no filter file with a sample log (samples/NAME.log)\n");
			return 1;
		}
	}
	return ok ? 0 : 1;
}
