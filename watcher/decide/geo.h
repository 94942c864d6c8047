/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * geo - the country of an address, from a MaxMind DB country database
 * (GeoLite2-Country, GeoIP2-Country, DB-IP's country lite: all keep
 * country.iso_code; registered_country.iso_code when country is absent),
 * read through libmaxminddb.
 *
 * Owns the open database and a small cache of answers per address
 * (bounded, emptied when the database changes). Notices a database file
 * replaced on disk (geoipupdate renames a new file over it) by looking at
 * the file at most once a second, and reopens it; a replacement that
 * cannot be read leaves the old database in force. Must never: crash or
 * stop on a missing or broken file (the answer is then "no location"),
 * or block on anything but the file itself.
 *
 * A country is a code of two letters packed in 16 bits (geo_code);
 * GEO_UNKNOWN ("--") is an address the database does not place, and
 * GEO_NONE (0) means there is no database to ask.
 */
#ifndef MS_GEO_H
#define MS_GEO_H

#include "addr.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GEO_NONE 0
#define GEO_UNKNOWN (('-' << 8) | '-')
#define GEO_CACHE 4096          /* answers kept, per database */
#define GEO_RECHECK_MS 1000     /* the file is looked at no more often */

static inline uint16_t geo_code(char a, char b)
{
	return (uint16_t)(((unsigned char)a << 8) | (unsigned char)b);
}

/* "CN", "--" (unknown) or "" (GEO_NONE) */
void geo_code_text(uint16_t code, char out[3]);
/* An ISO 3166-1 alpha-2 code in any case ("cn", "CN"), or "--" / "unknown"
 * for addresses the database does not place. 0 and *code, or -1. */
int geo_code_parse(const char *s, uint16_t *code);

struct geo;

struct geo_stats {
	uint64_t lookups;       /* answers given */
	uint64_t cached;        /* of them, from the cache */
	uint64_t unknown;       /* of them, GEO_UNKNOWN */
	uint64_t reopened;      /* the file was replaced and read again */
	bool loaded;            /* a database is open */
};

/* A handle on the database at path; nothing is read yet. */
struct geo *geo_new(const char *path);
void geo_free(struct geo *g);
const char *geo_path(const struct geo *g);
/* Open (or open again) the file. On failure the database in force (if
 * any) stays: -1 and "what is wrong (what to do)" in err. */
int geo_load(struct geo *g, char *err, size_t errlen);
/* The database type its metadata names ("GeoLite2-Country"), or NULL. */
const char *geo_type(const struct geo *g);
/* At most once every GEO_RECHECK_MS of now_ms: when the file was
 * replaced (or appeared), read it again. 1 when a new database is in
 * force, 0 when nothing changed, -1 with err when the new file cannot
 * be read (the old one stays; reported once per replacement). */
int geo_refresh(struct geo *g, uint64_t now_ms, char *err, size_t errlen);
/* The country of a (an IPv4-mapped IPv6 address as its IPv4 address):
 * GEO_UNKNOWN when the database does not place it, GEO_NONE without a
 * database. */
uint16_t geo_lookup(struct geo *g, const struct ipaddr *a);
void geo_stats(const struct geo *g, struct geo_stats *st);

/* Blocks made by a location rule have origin "location" and a reason
 * "location CC: ... (rule NAME)": the country of such a reason (GEO_NONE
 * for other blocks), and whether it was made by rule `name`. */
#define GEO_ORIGIN "location"
uint16_t geo_block_country(const char *origin, const char *reason);
bool geo_block_of_rule(const char *origin, const char *reason, const char *name);

#endif
