// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * inilayer - see inilayer.h. Owns copies of every name, value and file
 * name it read; feeding never changes it, so the provenance stays
 * readable after the loaders are done. Never opens a file it was not
 * given, and never decides what a key means.
 */
#include "inilayer.h"
#include "log.h"
#include "xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct layer {
	const char *file;
	char **v;
	int *lines;
	size_t n, alloc, alines;
};

struct key {
	char *name;
	struct layer *l;
	size_t n, alloc;
};

struct section {
	char *name;
	const char *file, *owner;
	int line;
	bool added, overridden;
	struct key *k;
	size_t nk, ak;
};

struct inilayer {
	struct section *s;
	size_t ns, as;
	char **files;           /* in the order read */
	bool *ovr;
	size_t nfiles, afiles, aovr;
	struct owner { char *name; const char *file; bool base; } *owners;  /* distinct, in order */
	size_t nowners, aowners;
	char **strs;            /* other interned strings */
	size_t nstrs, astrs;
};

struct addctx {
	struct inilayer *d;
	const char *file, *owner;
	bool override;
	long cur;               /* section being filled, -1 none */
	int secline;            /* the header line of the text's current section */
	const char *secname;
};

struct inilayer *inilayer_new(void)
{
	return xcalloc(1, sizeof(struct inilayer));
}

void inilayer_free(struct inilayer *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->ns; i++) {
		struct section *s = &d->s[i];
		for (size_t k = 0; k < s->nk; k++) {
			for (size_t l = 0; l < s->k[k].n; l++) {
				for (size_t v = 0; v < s->k[k].l[l].n; v++)
					free(s->k[k].l[l].v[v]);
				free(s->k[k].l[l].v);
				free(s->k[k].l[l].lines);
			}
			free(s->k[k].l);
			free(s->k[k].name);
		}
		free(s->k);
		free(s->name);
	}
	free(d->s);
	for (size_t i = 0; i < d->nfiles; i++)
		free(d->files[i]);
	free(d->files);
	free(d->ovr);
	for (size_t i = 0; i < d->nowners; i++)
		free(d->owners[i].name);
	free(d->owners);
	for (size_t i = 0; i < d->nstrs; i++)
		free(d->strs[i]);
	free(d->strs);
	free(d);
}

static const char *owner_intern(struct inilayer *d, const char *owner, const char *file, bool base)
{
	for (size_t i = 0; i < d->nowners; i++)
		if (strcmp(d->owners[i].name, owner) == 0)
			return d->owners[i].name;
	XGROW(d->owners, d->aowners, d->nowners + 1);
	d->owners[d->nowners] = (struct owner){ xstrdup(owner), file, base };
	return d->owners[d->nowners++].name;
}

long inilayer_find(const struct inilayer *d, const char *name)
{
	for (size_t i = 0; i < d->ns; i++)
		if (strcmp(d->s[i].name, name) == 0)
			return (long)i;
	return -1;
}

/* An override merges into the last section of its name: its keys are then
 * fed after every earlier value, so it wins even where a base file has
 * two sections of one name (the configuration's [allow], say). */
static long find_last(const struct inilayer *d, const char *name)
{
	for (size_t i = d->ns; i-- > 0;)
		if (strcmp(d->s[i].name, name) == 0)
			return (long)i;
	return -1;
}

static long section_new(struct addctx *c, const char *name, int line)
{
	struct inilayer *d = c->d;
	struct section *s;

	XGROW(d->s, d->as, d->ns + 1);
	s = &d->s[d->ns];
	*s = (struct section){ .name = xstrdup(name), .file = c->file, .line = line,
			       .owner = owner_intern(d, c->owner, c->file, !c->override), .added = c->override };
	return (long)d->ns++;
}

static int add_key(void *arg, const char *section, const char *key, const char *value, int lineno, int secline,
		   char *err, size_t errlen)
{
	struct addctx *c = arg;
	struct section *s;
	struct key *k = NULL;
	struct layer *l;

	(void)err;
	(void)errlen;
	if (c->cur < 0 || secline != c->secline || strcmp(section, c->secname) != 0) {
		long found = c->override ? find_last(c->d, section) : -1;
		if (found >= 0 && c->d->s[found].file != c->file)
			c->d->s[found].overridden = true;
		c->cur = found >= 0 ? found : section_new(c, section, secline ? secline : lineno);
		c->secline = secline;
		c->secname = c->d->s[c->cur].name;
	}
	s = &c->d->s[c->cur];
	for (size_t i = 0; i < s->nk; i++)
		if (strcmp(s->k[i].name, key) == 0)
			k = &s->k[i];
	if (!k) {
		XGROW(s->k, s->ak, s->nk + 1);
		k = &s->k[s->nk++];
		*k = (struct key){ .name = xstrdup(key) };
	}
	if (k->n == 0 || k->l[k->n - 1].file != c->file) {
		XGROW(k->l, k->alloc, k->n + 1);
		k->l[k->n++] = (struct layer){ .file = c->file };
	}
	l = &k->l[k->n - 1];
	XGROW(l->v, l->alloc, l->n + 1);
	XGROW(l->lines, l->alines, l->n + 1);
	l->v[l->n] = xstrdup(value);
	l->lines[l->n++] = lineno;
	return 0;
}

/* "dir/name.conf" -> "name" */
static char *stem_of(const char *path)
{
	const char *base = strrchr(path, '/');
	size_t len;

	base = base ? base + 1 : path;
	len = strlen(base);
	if (len > 5 && strcmp(base + len - 5, ".conf") == 0)
		len -= 5;
	else if (len > 6 && strcmp(base + len - 6, ".local") == 0)
		len -= 6;
	return xstrndup(base, len);
}

static int add(struct inilayer *d, const char *path, const char *text, const char *owner, bool override,
	       char *err, size_t errlen)
{
	struct addctx c = { .d = d, .override = override, .cur = -1 };
	char *stem = owner ? NULL : stem_of(path);
	int rc;

	XGROW(d->files, d->afiles, d->nfiles + 1);
	XGROW(d->ovr, d->aovr, d->nfiles + 1);
	d->ovr[d->nfiles] = override;
	c.file = d->files[d->nfiles++] = xstrdup(path);
	c.owner = owner ? owner : stem;
	if (!override)
		owner_intern(d, c.owner, c.file, true);
	if (text)
		rc = inifile_parse_string(path, text, add_key, &c, err, errlen);
	else
		rc = inifile_parse(path, add_key, &c, err, errlen);
	free(stem);
	return rc;
}

int inilayer_add(struct inilayer *d, const char *path, const char *owner, bool override, char *err, size_t errlen)
{
	return add(d, path, NULL, owner, override, err, errlen);
}

int inilayer_add_string(struct inilayer *d, const char *name, const char *text, const char *owner, bool override,
			char *err, size_t errlen)
{
	return add(d, name, text, owner, override, err, errlen);
}

static void info(const struct inilayer *d, size_t i, struct ini_section_info *si)
{
	const struct section *s = &d->s[i];

	*si = (struct ini_section_info){ .name = s->name, .file = s->file, .line = s->line, .owner = s->owner,
					 .added = s->added, .overridden = s->overridden };
}

int inilayer_feed(const struct inilayer *d, const char *owner, struct inilayer_feeder *fd, char *err, size_t errlen)
{
	char msg[ERR_LEN];

	for (size_t i = 0; i < d->ns; i++) {
		const struct section *s = &d->s[i];
		struct ini_section_info si;
		if ((owner && strcmp(s->owner, owner) != 0) || s->nk == 0)
			continue;
		info(d, i, &si);
		if (fd->begin && fd->begin(fd->arg, &si, msg, sizeof msg) < 0)
			return errf(err, errlen, "%s:%d: %s", s->file, s->line, msg);
		/* the section's index stands for its header line: two sections
		 * of one name are told apart even when they come from two files */
		for (size_t k = 0; k < s->nk; k++) {
			const struct layer *l = &s->k[k].l[s->k[k].n - 1];
			fd->file = l->file;
			for (size_t v = 0; v < l->n; v++)
				if (fd->key(fd->arg, s->name, s->k[k].name, l->v[v], l->lines[v], (int)i + 1, msg, sizeof msg) < 0)
					return errf(err, errlen, "%s:%d: %s", l->file, l->lines[v], msg);
		}
		if (fd->end && fd->end(fd->arg, &si, msg, sizeof msg) < 0)
			return errf(err, errlen, "%s:%d: %s", s->file, s->line, msg);
	}
	return 0;
}

size_t inilayer_nowners(const struct inilayer *d)
{
	return d->nowners;
}

const char *inilayer_owner(const struct inilayer *d, size_t i, const char **file, bool *base)
{
	if (file)
		*file = d->owners[i].file;
	if (base)
		*base = d->owners[i].base;
	return d->owners[i].name;
}

size_t inilayer_files(const struct inilayer *d, const char *const **files, const bool **override)
{
	*files = (const char *const *)d->files;
	if (override)
		*override = d->ovr;
	return d->nfiles;
}

size_t inilayer_nsections(const struct inilayer *d)
{
	return d->ns;
}

void inilayer_section(const struct inilayer *d, size_t i, struct ini_section_info *si)
{
	info(d, i, si);
}

size_t inilayer_nkeys(const struct inilayer *d, size_t sec)
{
	return d->s[sec].nk;
}

const char *inilayer_key(const struct inilayer *d, size_t sec, size_t k, size_t *nlayers)
{
	if (nlayers)
		*nlayers = d->s[sec].k[k].n;
	return d->s[sec].k[k].name;
}

void inilayer_layer(const struct inilayer *d, size_t sec, size_t k, size_t layer, struct ini_layer_value *lv)
{
	const struct layer *l = &d->s[sec].k[k].l[layer];

	*lv = (struct ini_layer_value){ .file = l->file, .values = (const char *const *)l->v, .lines = l->lines,
					.nvalues = l->n };
}

/* Levenshtein distance, capped: names are short */
static size_t distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), row[65], prev, tmp;

	if (la > 64 || lb > 64)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t best = prev + (a[i - 1] != b[j - 1]);
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			tmp = row[j];
			row[j] = best;
			prev = tmp;
		}
	}
	return row[lb];
}

void inilayer_added_hint(const struct inilayer *d, const struct ini_section_info *si, const char *what,
			 char *buf, size_t len)
{
	const struct section *best = NULL;
	size_t bestd = 3;

	if (!si->added) {
		snprintf(buf, len, "%s", "");
		return;
	}
	for (size_t i = 0; i < d->ns; i++) {
		size_t dist;
		if (d->s[i].added)
			continue;
		dist = distance(si->name, d->s[i].name);
		if (dist < bestd) {
			bestd = dist;
			best = &d->s[i];
		}
	}
	if (best)
		snprintf(buf, len, " (no shipped %s is named '%s', so this section adds a new %s; "
			 "did you mean [%s] of %s:%d?)", what, si->name, what, best->name, best->file, best->line);
	else
		snprintf(buf, len, " (no shipped %s is named '%s', so this section adds a new %s, "
			 "which needs every required key)", what, si->name, what);
}

/* ---- which files override ---- */

static int cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void push(char ***v, size_t *n, size_t *alloc, char *s)
{
	XGROW(*v, *alloc, *n + 2);
	(*v)[(*n)++] = s;
	(*v)[*n] = NULL;
}

/* dir's regular entries ending in ext (not hidden), sorted, appended */
static void list_dir(const char *dir, const char *ext, char ***v, size_t *n, size_t *alloc)
{
	DIR *dp = opendir(dir);
	struct dirent *de;
	size_t first = *n, el = strlen(ext);

	if (!dp)
		return;
	while ((de = readdir(dp))) {
		size_t len = strlen(de->d_name);
		if (de->d_name[0] == '.' || len <= el || strcmp(de->d_name + len - el, ext) != 0)
			continue;
		push(v, n, alloc, xasprintf("%s/%s", dir, de->d_name));
	}
	closedir(dp);
	if (*n > first)
		qsort(*v + first, *n - first, sizeof **v, cmpstr);
}

static char **finish_list(char **v)
{
	return v ? v : xcalloc(1, sizeof *v);
}

char **inilayer_overrides_of_dir(const char *spec)
{
	struct stat st;
	char **v = NULL;
	size_t n = 0, alloc = 0;

	if (stat(spec, &st) == 0 && S_ISDIR(st.st_mode)) {
		char *dir = xstrdup(spec), *dropins;
		size_t len = strlen(dir);
		while (len > 1 && dir[len - 1] == '/')
			dir[--len] = '\0';
		dropins = xasprintf("%s.d", dir);
		list_dir(dropins, ".conf", &v, &n, &alloc);
		list_dir(dir, ".local", &v, &n, &alloc);
		free(dropins);
		free(dir);
	} else {
		char **w, *storage;
		size_t nw = ini_words(spec, &w, &storage);
		for (size_t i = 0; i < nw; i++) {
			size_t len = strlen(w[i]);
			char *local;
			if (len > 5 && strcmp(w[i] + len - 5, ".conf") == 0)
				len -= 5;
			local = xasprintf("%.*s.local", (int)len, w[i]);
			if (access(local, F_OK) == 0)
				push(&v, &n, &alloc, local);
			else
				free(local);
		}
		free(w);
		free(storage);
	}
	return finish_list(v);
}

char **inilayer_overrides_of_file(const char *path)
{
	char **v = NULL, *base, *dropins, *local;
	size_t n = 0, alloc = 0, len = strlen(path);

	if (len > 5 && strcmp(path + len - 5, ".conf") == 0)
		len -= 5;
	base = xstrndup(path, len);
	dropins = xasprintf("%s.d", base);
	local = xasprintf("%s.local", base);
	list_dir(dropins, ".conf", &v, &n, &alloc);
	if (access(local, F_OK) == 0)
		push(&v, &n, &alloc, local);
	else
		free(local);
	free(dropins);
	free(base);
	return finish_list(v);
}
