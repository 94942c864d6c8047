// SPDX-License-Identifier: GPL-2.0-or-later
/* bundle - see bundle.h. */
#include "bundle.h"
#include "inifile.h"
#include "inilayer.h"
#include "journal.h"
#include "log.h"
#include "privs.h"
#include "xalloc.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

/* Every file a filters or rules option names must be one only root (or
 * the daemon's user) can change (privs_check_file). A file that is missing
 * is left to the loader to report. */
static int check_paths(char **paths, char *err, size_t errlen)
{
	struct stat st;

	for (size_t i = 0; paths[i]; i++)
		if ((lstat(paths[i], &st) == 0 || errno != ENOENT) && privs_check_file(paths[i], err, errlen) < 0)
			return -1;
	return 0;
}

/* The files of a filters or rules option and their overrides, each
 * checked, read into layers. */
static struct inilayer *read_layers(const char *spec, const char *what, char *err, size_t errlen)
{
	struct inilayer *doc = inilayer_new();
	char **paths = NULL, **over = inilayer_overrides_of_dir(spec);
	int rc = inifile_expand(spec, what, &paths, err, errlen);

	if (rc == 0)
		rc = check_paths(paths, err, errlen);
	if (rc == 0)
		rc = check_paths(over, err, errlen);
	for (size_t i = 0; rc == 0 && paths[i]; i++)
		rc = inilayer_add(doc, paths[i], NULL, false, err, errlen);
	for (size_t i = 0; rc == 0 && over[i]; i++)
		rc = inilayer_add(doc, over[i], NULL, true, err, errlen);
	inifile_paths_free(paths);
	inifile_paths_free(over);
	if (rc < 0) {
		inilayer_free(doc);
		return NULL;
	}
	return doc;
}

/* The configuration file and its overrides (all read already). */
static int check_config_files(const struct config *c, char *err, size_t errlen)
{
	const char *const *files;
	size_t n = c->layers ? inilayer_files(c->layers, &files, NULL) : 0;

	for (size_t i = 0; i < n; i++)
		if (privs_check_file(files[i], err, errlen) < 0)
			return -1;
	return 0;
}

int bundle_load(struct bundle *b, const char *cfgpath, bool must_exist, char *err, size_t errlen)
{
	static char fdir[4096], rdir[4096];
	struct filter_limits lim;

	memset(b, 0, sizeof *b);
	if (config_load(&b->cfg, cfgpath, must_exist, err, errlen) < 0)
		return -1;
	snprintf(fdir, sizeof fdir, "%s", config_resolve_dir(b->cfg.filters, SYSCONFDIR "/mailscreen/filters", "filters"));
	snprintf(rdir, sizeof rdir, "%s", config_resolve_dir(b->cfg.rules, SYSCONFDIR "/mailscreen/rules", "rules"));
	b->filters_dir = fdir;
	b->rules_dir = rdir;
	lim = (struct filter_limits){ .match_limit = (uint32_t)b->cfg.match_limit,
				      .depth_limit = (uint32_t)b->cfg.depth_limit };
	b->fs = filterset_new(&lim);
	/* the configuration was read, but nothing of it is used unless it, the
	 * filters and the rules are files no one else can change; each
	 * directory is listed once, so the files checked are the files loaded */
	if (check_config_files(&b->cfg, err, errlen) < 0 ||
	    !(b->filter_layers = read_layers(fdir, "filter", err, errlen)) ||
	    !(b->rule_layers = read_layers(rdir, "rule", err, errlen)) ||
	    filterset_load_layers(b->fs, b->filter_layers, err, errlen) < 0 ||
	    ruleset_load_layers(&b->rules, b->rule_layers, err, errlen) < 0)
		goto fail;
	for (size_t i = 0; i < b->cfg.nsources; i++) {
		struct source_cfg *s = &b->cfg.sources[i];
		for (size_t k = 0; k < s->nfilters; k++)
			if (!filterset_has_file(b->fs, s->filters[k])) {
				if (s->lineno)
					errf(err, errlen, "%s:%d: [source %s] names filter file '%s', which is not in %s",
					     s->filters_file, s->filters_lineno, s->name, s->filters[k], fdir);
				else
					errf(err, errlen, "the built-in source '%s' needs filter file '%s', which is not in "
					     "%s (install the shipped filters, or configure [source NAME] sections)",
					     s->name, s->filters[k], fdir);
				goto fail;
			}
		for (size_t k = 0; s->journal && s->journal[k]; k++) {
			char msg[ERR_LEN];
			if (journal_check_term(s->journal[k], msg, sizeof msg) < 0) {
				errf(err, errlen, "%s:%d: [source %s]: %s", s->file ? s->file : "(defaults)",
				     s->lineno, s->name, msg);
				goto fail;
			}
		}
	}
	return 0;
fail:
	bundle_release(b);
	return -1;
}

void bundle_release(struct bundle *b)
{
	filterset_free(b->fs);
	ruleset_release(&b->rules);
	inilayer_free(b->filter_layers);
	inilayer_free(b->rule_layers);
	config_release(&b->cfg);
	memset(b, 0, sizeof *b);
}
