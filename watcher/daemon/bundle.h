/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * bundle - everything a configuration file names, loaded and checked
 * together: the config, its filter files and its rules, with every
 * source's filter names resolved. `check` loads a bundle and reports;
 * `run` loads one at start and one per reload, and swaps it in only when
 * all of it is good. Every file is checked first (privs_check_file): a
 * symbolic link, or a file or directory others can write, is refused.
 */
#ifndef MS_BUNDLE_H
#define MS_BUNDLE_H

#include "config.h"
#include "filter.h"
#include "rules.h"

#include <stdbool.h>

struct inilayer;

/* The filter and rule files are read in layers (inilayer.h): the files
 * the option names, then their local overrides (for a directory DIR:
 * DIR.d/ *.conf in name order, then DIR/ *.local in name order; for a list
 * of files, each FILE.local), every one checked like the files it
 * overrides. The layers are kept for `check`'s provenance. */
struct bundle {
	struct config cfg;
	struct filterset *fs;
	struct ruleset rules;
	struct inilayer *filter_layers, *rule_layers;
	const char *filters_dir, *rules_dir;    /* resolved (static storage) */
};

int bundle_load(struct bundle *b, const char *cfgpath, bool must_exist, char *err, size_t errlen);
void bundle_release(struct bundle *b);

#endif
