// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * inifile - see inifile.h. Owns nothing beyond one parse; sets inih's
 * global knobs before every parse (they are process-wide in Debian's
 * shared library).
 */
#include "inifile.h"
#include "log.h"
#include "xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <ini.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

struct reader {
	FILE *fp;               /* or text */
	const char *text;
	int lineno, secline;
	bool at_bol;            /* the next chunk starts a new line */
};

struct ctx {
	struct reader rd;
	const char *name;
	inifile_fn *fn;
	void *arg;
	char *err;
	size_t errlen;
	bool failed;
};

static char *reader_fn(char *buf, int size, void *stream)
{
	struct reader *rd = stream;
	char *r;

	if (rd->fp) {
		r = fgets(buf, size, rd->fp);
	} else {
		const char *nl;
		size_t n;
		if (!*rd->text)
			return NULL;
		nl = strchr(rd->text, '\n');
		n = nl ? (size_t)(nl - rd->text) + 1 : strlen(rd->text);
		if (n > (size_t)size - 1)
			n = (size_t)size - 1;
		memcpy(buf, rd->text, n);
		buf[n] = '\0';
		rd->text += n;
		r = buf;
	}
	if (!r)
		return NULL;
	if (rd->at_bol) {
		const char *p = buf;
		rd->lineno++;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p == '[')
			rd->secline = rd->lineno;
	}
	rd->at_bol = strchr(buf, '\n') != NULL;
	return r;
}

static int handler(void *user, const char *section, const char *key, const char *value)
{
	struct ctx *c = user;
	char msg[ERR_LEN];

	if (c->fn(c->arg, section, key, value, c->rd.lineno, c->rd.secline, msg, sizeof msg) == 0)
		return 1;
	errf(c->err, c->errlen, "%s:%d: %s", c->name, c->rd.lineno, msg);
	c->failed = true;
	return 0;
}

static int run(struct ctx *c)
{
	int rc;

	ini_use_stack = false;
	ini_allow_realloc = true;
	ini_max_line = 65536;
	ini_initial_alloc = 512;
	ini_allow_inline_comments = false;
	ini_allow_multiline = false;
	ini_stop_on_first_error = true;
	ini_allow_no_value = false;
	c->rd.at_bol = true;
	rc = ini_parse_stream(reader_fn, &c->rd, handler, c);
	if (rc == 0)
		return 0;
	if (c->failed)
		return -1;
	if (rc == -2)
		fatalx("out of memory parsing '%s'", c->name);
	return errf(c->err, c->errlen, "%s:%d: syntax error (expected '[section]' or 'key = value', "
		    "or a line longer than %d bytes)", c->name, rc, ini_max_line - 3);
}

int inifile_parse(const char *path, inifile_fn *fn, void *arg, char *err, size_t errlen)
{
	struct ctx c = { .name = path, .fn = fn, .arg = arg, .err = err, .errlen = errlen };
	int rc;

	c.rd.fp = fopen(path, "re");
	if (!c.rd.fp)
		return errf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
	rc = run(&c);
	fclose(c.rd.fp);
	return rc;
}

int inifile_parse_string(const char *name, const char *text, inifile_fn *fn, void *arg,
			 char *err, size_t errlen)
{
	struct ctx c = { .name = name, .fn = fn, .arg = arg, .err = err, .errlen = errlen };

	c.rd.text = text;
	return run(&c);
}

int ini_bool(const char *v, int *out)
{
	static const char *const yes[] = { "yes", "true", "on", "1" }, *const no[] = { "no", "false", "off", "0" };

	for (size_t i = 0; i < 4; i++) {
		if (strcasecmp(v, yes[i]) == 0)
			return *out = 1, 0;
		if (strcasecmp(v, no[i]) == 0)
			return *out = 0, 0;
	}
	return -1;
}

size_t ini_words(const char *value, char ***words, char **storage)
{
	char *s = xstrdup(value), *tok, *save = NULL;
	size_t n = 0, alloc = 0;

	*words = NULL;
	for (tok = strtok_r(s, " \t,", &save); tok; tok = strtok_r(NULL, " \t,", &save)) {
		XGROW(*words, alloc, n + 1);
		(*words)[n++] = tok;
	}
	*storage = s;
	return n;
}

char *ini_strip_comment(const char *value)
{
	size_t n = 0;

	for (const char *p = value; *p; p++)
		if ((*p == ';' || *p == '#') && p > value && (p[-1] == ' ' || p[-1] == '\t')) {
			n = (size_t)(p - value);
			while (n && (value[n - 1] == ' ' || value[n - 1] == '\t'))
				n--;
			return xstrndup(value, n);
		}
	return xstrdup(value);
}

static int cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int inifile_expand(const char *spec, const char *what, char ***paths, char *err, size_t errlen)
{
	struct stat sb;
	char **v = NULL;
	size_t n = 0, alloc = 0;

	if (stat(spec, &sb) == 0 && S_ISDIR(sb.st_mode)) {
		DIR *d = opendir(spec);
		struct dirent *de;
		if (!d)
			return errf(err, errlen, "%s: cannot open %s directory: %s", spec, what, strerror(errno));
		while ((de = readdir(d))) {
			size_t len = strlen(de->d_name);
			if (de->d_name[0] == '.' || len <= 5 || strcmp(de->d_name + len - 5, ".conf") != 0)
				continue;
			XGROW(v, alloc, n + 2);
			v[n++] = xasprintf("%s/%s", spec, de->d_name);
		}
		closedir(d);
		if (n)
			qsort(v, n, sizeof *v, cmpstr);
		else
			errf(err, errlen, "%s: no %s files (*.conf) in this directory", spec, what);
	} else {
		char **w, *st;
		size_t nw = ini_words(spec, &w, &st);
		for (size_t i = 0; i < nw; i++) {
			XGROW(v, alloc, n + 2);
			v[n++] = xstrdup(w[i]);
		}
		free(w);
		free(st);
		if (!n)
			errf(err, errlen, "no %s files given", what);
	}
	if (!n) {
		free(v);
		return -1;
	}
	v[n] = NULL;
	*paths = v;
	return 0;
}

void inifile_paths_free(char **paths)
{
	for (size_t i = 0; paths && paths[i]; i++)
		free(paths[i]);
	free(paths);
}
