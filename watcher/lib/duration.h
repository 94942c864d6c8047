/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * duration - "30s", "10m", "2h", "7d", "1h30m", "permanent", everywhere a
 * duration is read (config, rules, command line).
 */
#ifndef MS_DURATION_H
#define MS_DURATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DURATION_PERMANENT UINT64_MAX

/* Milliseconds into *ms. bare_unit: the unit of a bare number ('m' for the
 * block list file), or 0 to require a unit. allow_permanent: whether
 * "permanent" is acceptable here. 0 or -1 with a message in err. */
int duration_parse(const char *s, uint64_t *ms, char bare_unit, bool allow_permanent, char *err, size_t errlen);
/* "1h30m", "10m", "45s", "permanent" */
void duration_format(uint64_t ms, char *buf, size_t len);

#endif
