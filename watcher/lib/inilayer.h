/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * inilayer - INI files in layers: shipped files, then local override files
 * that change single keys of their sections or add sections, with the
 * origin (file:line) of every value and of the values it replaced.
 *
 * A base file's sections are kept as they are written (two sections of
 * one name stay two, so the loader can call that an error). An override
 * file's section changes the last section of its name (so that its values
 * are read after every earlier one): each key it sets replaces that key's
 * whole value (all its lines: a list of regexes is one value), every other
 * key stays; a section of a name no file had yet is added (marked as
 * added by an override). Within one file, the lines of a
 * key in a section form one value. The loaders (config, rules, filters)
 * read the merged result through inilayer_feed, exactly as they read one
 * file, with every error prefixed by the file:line the value came from.
 * Owns copies of everything it read; never interprets a value.
 */
#ifndef MS_INILAYER_H
#define MS_INILAYER_H

#include "inifile.h"

#include <stdbool.h>
#include <stddef.h>

struct inilayer;

/* One file's value of a key: its lines, and where they are. */
struct ini_layer_value {
	const char *file;
	const char *const *values;      /* nvalues lines, in file order */
	const int *lines;
	size_t nvalues;
};

/* A key a section may hold and its default as shown to the user (NULL:
 * required). A loader's one list of its keys. */
struct ini_keydef {
	const char *name, *def;
};

struct ini_section_info {
	const char *name;
	const char *file;       /* the file that has its header (or first key) */
	int line;
	const char *owner;      /* the file group it belongs to (a filter file's name) */
	bool added;             /* added by an override file (no earlier file had it) */
	bool overridden;        /* an override file changed some of its keys */
};

struct inilayer *inilayer_new(void);
void inilayer_free(struct inilayer *d);
/* Read path as a base file (override false) or an override file. owner
 * names the group a section added by it belongs to (NULL: the file's name
 * without directory and ".conf"/".local"). 0, or -1 with "file:line: ..." */
int inilayer_add(struct inilayer *d, const char *path, const char *owner, bool override, char *err, size_t errlen);
/* The same from a string (name stands for the file in origins). */
int inilayer_add_string(struct inilayer *d, const char *name, const char *text, const char *owner, bool override,
			char *err, size_t errlen);

/* Called before and after the keys of each section fed (either may be
 * NULL); an error is prefixed with the section's file:line. */
typedef int inilayer_section_fn(void *arg, const struct ini_section_info *si, char *err, size_t errlen);

struct inilayer_feeder {
	inilayer_section_fn *begin, *end;
	inifile_fn *key;
	void *arg;
	const char *file;       /* set before each key(): the file its value is from */
};

/* Feed every section that has keys (only those of owner, if not NULL), in
 * order: begin(), each key's lines in force to key() as inifile_parse
 * would (an error prefixed with that line's file:line; secline is the
 * section's index + 1, so two sections of one name differ), end(). */
int inilayer_feed(const struct inilayer *d, const char *owner, struct inilayer_feeder *fd, char *err, size_t errlen);

/* The owners, in the order they came: a base file's own name even if it
 * has no section, an override file's only if it adds one. */
size_t inilayer_nowners(const struct inilayer *d);
/* Owner i's name; *file: the first file of that name; *base: whether
 * that is a base file. */
const char *inilayer_owner(const struct inilayer *d, size_t i, const char **file, bool *base);
/* The files read, in order, and whether each was an override. */
size_t inilayer_files(const struct inilayer *d, const char *const **files, const bool **override);

/* Provenance: the sections (by index), the keys of one, and a key's
 * layers, oldest first (the last is in force). */
size_t inilayer_nsections(const struct inilayer *d);
void inilayer_section(const struct inilayer *d, size_t i, struct ini_section_info *si);
/* The index of the first section of that name, or -1. */
long inilayer_find(const struct inilayer *d, const char *name);
size_t inilayer_nkeys(const struct inilayer *d, size_t sec);
const char *inilayer_key(const struct inilayer *d, size_t sec, size_t k, size_t *nlayers);
void inilayer_layer(const struct inilayer *d, size_t sec, size_t k, size_t layer, struct ini_layer_value *lv);

/* For a section an override added that turned out incomplete: " (it
 * overrides no section of the shipped files; did you mean [x] in
 * file:line?)" or " (it overrides no section of the shipped files, so it
 * must be complete)", into buf. what: "rule", "filter". */
void inilayer_added_hint(const struct inilayer *d, const struct ini_section_info *si, const char *what,
			 char *buf, size_t len);

/* The override files of a directory option: for DIR, DIR.d/ *.conf in
 * name order, then DIR/ *.local in name order; for a list of files, each
 * FILE.local (FILE without ".conf") that exists. For a configuration file
 * NAME.conf: NAME.d/ *.conf, then NAME.local. Only files that exist;
 * a NULL-ended array (inifile_paths_free), never NULL. */
char **inilayer_overrides_of_dir(const char *spec);
char **inilayer_overrides_of_file(const char *path);

#endif
