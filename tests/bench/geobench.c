// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * geobench - what a country lookup costs the daemon (geo.c): N lookups of
 * distinct addresses (each a cache miss: a walk of the database's tree)
 * and N lookups of a few addresses (the per-address cache's answers), on
 * the database given (make-country-mmdb.pl writes a large one with
 * --random). Prints ns per lookup for both. Touches nothing else.
 *
 *   geobench DB [N]
 */
#include "geo.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	char err[ERR_LEN];
	struct geo *g;
	struct geo_stats st;
	unsigned long n = argc > 2 ? strtoul(argv[2], NULL, 10) : 1000000;
	unsigned long found = 0;
	uint32_t x = 2463534242u;
	double t0, miss, hit;

	if (argc < 2) {
		fprintf(stderr, "usage: geobench DB [N]\n");
		return 2;
	}
	log_init("geobench", LOG_LVL_WARN);
	g = geo_new(argv[1]);
	if (geo_load(g, err, sizeof err) < 0) {
		fprintf(stderr, "geobench: %s\n", err);
		return 1;
	}
	/* distinct addresses (xorshift): almost every one misses the cache */
	t0 = now_s();
	for (unsigned long i = 0; i < n; i++) {
		struct ipaddr a = { .family = AF_INET };
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		memcpy(a.b, &x, 4);
		found += geo_lookup(g, &a) != GEO_UNKNOWN;
	}
	miss = (now_s() - t0) / (double)n * 1e9;
	/* 64 addresses over and over: the cache answers */
	t0 = now_s();
	for (unsigned long i = 0; i < n; i++) {
		struct ipaddr a = { .family = AF_INET, .b = { 203, 0, 113, (uint8_t)(i & 63) } };
		found += geo_lookup(g, &a) != GEO_UNKNOWN;
	}
	hit = (now_s() - t0) / (double)n * 1e9;
	geo_stats(g, &st);
	printf("geobench: %s (%s): %lu lookups each; distinct addresses %.0f ns/lookup, repeated addresses (cache) "
	       "%.0f ns/lookup; %llu of %llu from the cache, %lu placed\n", argv[1], geo_type(g), n, miss, hit,
	       (unsigned long long)st.cached, (unsigned long long)st.lookups, found);
	geo_free(g);
	return 0;
}
