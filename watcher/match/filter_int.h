/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * filter_int - what the files of the filter module share, and nothing
 * else: filter.c (the filterset's life and accessors, the matcher and its
 * hot path) and filter_load.c (reading filter files and layers into a
 * filterset). Private to them: callers include filter.h, the module's
 * whole public surface.
 *
 * Owns: nothing; it declares the layout of a compiled regex, a filter,
 * a filter file and the filterset, and the bounds both files check.
 *
 * Must never: be included outside filter*.c; hold code of the hot path
 * (that stays in filter.c, in one translation unit, so that it inlines).
 */
#ifndef MS_FILTER_INT_H
#define MS_FILTER_INT_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include "filter.h"

#include <pcre2.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROG_MAX 64             /* room for a program tag, NUL included */
#define PREFIX_MAX 32           /* room for a regex's literal prefix */

struct regex {
	pcre2_code *code;
	bool jit;
	uint8_t prefixlen;      /* the literal every match starts with */
	char prefix[PREFIX_MAX];
	int lineno;             /* in its file (match --explain) */
	const char *file;       /* that file (the filterset's copy) */
	int g_ip, g_user, g_session, g_count, g_service;
};

struct prog_service {
	char *prog, *service;
};

struct filter {
	char *name;
	const char *file;       /* owned by the filterset's file table */
	const char *path;       /* the same */
	int lineno;             /* first key of the section */
	char **programs;        /* globs; NULL = every line; "-" = lines
				 * without a tag (Dovecot's log_path) */
	size_t nprograms;
	char *programs_storage;
	int kind;               /* -1 until set */
	bool only_if_counted;   /* its events only add to a key already counted */
	bool handoff;           /* its connects are logged again by the program it hands them to */
	bool session_only;      /* its auth-ok events exempt the session, not the address */
	bool session_address;   /* its events lend their session's address, or borrow it */
	bool session_pid;       /* "session = pid": no session capture means
				 * the session is program[pid] (Postfix smtpd) */
	char *service;
	struct prog_service *ps;
	size_t nps, aps;
	struct regex *re, *ign;
	size_t nre, are, nign, aign;
	uint64_t tried, matched, ignored, bad_ip, limit_hits;
	uint64_t *re_matched;
};

struct ffile {
	char *name, *path;
	size_t first, n;
};

struct filterset {
	struct filter_limits lim;
	struct filter **f;
	size_t nf, af;
	struct ffile *files;
	size_t nfiles, afiles;
	pcre2_compile_context *cctx;
	pcre2_match_context *mctx;
	pcre2_jit_stack *jstack;
	pcre2_match_data *md;
	uint32_t md_pairs;
	char **warn;            /* "file:line: warning: ..." for filter authors */
	size_t nwarn, awarn;
	char **paths;           /* the files regexes came from, once each */
	size_t npaths, apaths;
};

/* Frees a filter that is not, or no longer, in a filterset's list
 * (filter.c: the filter's life is the filterset's). */
void filter_free(struct filter *f);

#endif
