/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * inifile - read an INI file with inih, knowing the line of every key.
 *
 * Debian's inih is built without line numbers in the handler and with a
 * 200-byte line limit by default; this wrapper feeds inih through a reader
 * that counts lines, turns the limits it needs on (heap line buffer that
 * grows, no inline comments, no continuation lines, stop at the first
 * error) and formats every error as "file:line: message".
 */
#ifndef MS_INIFILE_H
#define MS_INIFILE_H

#include <stddef.h>

/* Called for every key. lineno is the key's line, secline the line of
 * the [section] header it belongs to (0 before any), which tells two
 * sections of the same name apart. Return 0, or -1 after writing a
 * message (without file:line, which is prepended) into err. */
typedef int inifile_fn(void *arg, const char *section, const char *key, const char *value,
		       int lineno, int secline, char *err, size_t errlen);

/* 0 on success; -1 with "file:line: message" in err. */
int inifile_parse(const char *path, inifile_fn *fn, void *arg, char *err, size_t errlen);
/* The same for a string (name is used in messages). */
int inifile_parse_string(const char *name, const char *text, inifile_fn *fn, void *arg,
			 char *err, size_t errlen);

/* Helpers for handlers: parse a boolean (yes/no/true/false/on/off/1/0) and
 * split a value into space-separated words (the words point into a copy
 * that *storage owns; free it and the array). */
int ini_bool(const char *value, int *out);
/* What a "filters" or "rules" option names: a directory (its *.conf files,
 * in name order) or a space-separated list of files. Fills a NULL-ended
 * array of paths (free each and the array with inifile_paths_free). 0, or
 * -1 with a message. */
int inifile_expand(const char *spec, const char *what, char ***paths, char *err, size_t errlen);
void inifile_paths_free(char **paths);
size_t ini_words(const char *value, char ***words, char **storage);
/* A copy of value (free it) without its inline comment: from the first ';'
 * or '#' that follows a space or tab, with the blanks before it. Only for
 * keys whose values can never hold such text (never a regex). */
char *ini_strip_comment(const char *value);

#endif
