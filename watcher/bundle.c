// SPDX-License-Identifier: GPL-2.0-or-later
/* bundle - see bundle.h. */
#include "bundle.h"
#include "journal.h"
#include "log.h"
#include "xalloc.h"

#include <string.h>

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
	if (filterset_load_spec(b->fs, fdir, err, errlen) < 0 || ruleset_load_spec(&b->rules, rdir, err, errlen) < 0)
		goto fail;
	for (size_t i = 0; i < b->cfg.nsources; i++) {
		struct source_cfg *s = &b->cfg.sources[i];
		for (size_t k = 0; k < s->nfilters; k++)
			if (!filterset_has_file(b->fs, s->filters[k])) {
				if (s->lineno)
					errf(err, errlen, "%s:%d: [source %s] names filter file '%s', which is not in %s",
					     b->cfg.file, s->filters_lineno, s->name, s->filters[k], fdir);
				else
					errf(err, errlen, "the built-in source '%s' needs filter file '%s', which is not in "
					     "%s (install the shipped filters, or configure [source NAME] sections)",
					     s->name, s->filters[k], fdir);
				goto fail;
			}
		for (size_t k = 0; s->journal && s->journal[k]; k++) {
			char msg[256];
			if (journal_check_term(s->journal[k], msg, sizeof msg) < 0) {
				errf(err, errlen, "%s:%d: [source %s]: %s", b->cfg.file ? b->cfg.file : "(defaults)",
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
	config_release(&b->cfg);
	memset(b, 0, sizeof *b);
}
