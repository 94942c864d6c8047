/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * xalloc - allocation that never fails for the caller: on failure the
 * process reports it and exits, in this one place. Sizes are checked for
 * overflow (xcalloc, xreallocarray).
 */
#ifndef MS_XALLOC_H
#define MS_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
void *xreallocarray(void *p, size_t nmemb, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Grow *arr (of *alloc elements of size sz) so that it holds at least
 * need elements; doubling. */
void xgrow(void **arr, size_t *alloc, size_t need, size_t sz);
#define XGROW(arr, alloc, need) xgrow((void **)&(arr), &(alloc), (need), sizeof *(arr))

#endif
