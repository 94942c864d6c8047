// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * cmd_check - "mailscreen check" validates a configuration with its
 * filters and rules exactly as "run" would load them, and "mailscreen
 * options" prints the configuration reference. Neither touches the
 * network, the logs or nftables.
 */
#include "bundle.h"
#include "cluster_entry.h"
#include "check_show.h"
#include "cmd.h"
#include "config.h"
#include "xalloc.h"
#include "duration.h"
#include "filter.h"
#include "httpd.h"
#include "geo.h"
#include "journal.h"
#include "keydoc.h"
#include "log.h"
#include "rules.h"

#include <getopt.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#include <libgen.h>
#include <string.h>

/* [location]: the database opens, and a rule that screens by location
 * has one to ask. 0 and what was read in info ("" if nothing), or -1 with
 * the error on stderr. */
static int location_check(const struct bundle *b, char *info, size_t infolen)
{
	const char *file = b->cfg.file ? b->cfg.file : "configuration";
	char err[ERR_LEN];
	struct geo *g;

	/* the daemon runs such a rule (it counts nothing): a warning */
	if (!*b->cfg.geo_database) {
		for (size_t i = 0; i < b->rules.n; i++)
			if (rule_is_location(&b->rules.v[i]) && b->rules.v[i].enabled)
				fprintf(stderr, "%s:%d: warning: rule '%s' screens by location (countries or "
					"not_countries) but [location] database is not set: it counts nothing (set it to a "
					"country database: see 'Location screening' in the README)\n", b->rules.v[i].file,
					b->rules.v[i].lineno, b->rules.v[i].name);
		return 0;
	}
	g = geo_new(b->cfg.geo_database);
	if (geo_load(g, err, sizeof err) < 0) {
		fprintf(stderr, "%s: %s\n", file, err);
		geo_free(g);
		return -1;
	}
	snprintf(info, infolen, "location: %s (%s)", geo_path(g), geo_type(g));
	geo_free(g);
	return 0;
}

static void usage(FILE *fp)
{
	fprintf(fp,
		"usage: mailscreen check [-c FILE] [-q] [-v | --show NAME]\n"
		"\n"
		"Validate the configuration, its filter files and its rules. Exits 0 if all is well,\n"
		"1 with 'file:line: message' on the first problem.\n"
		"\n"
		"  -c, --config FILE  configuration (default " CONFIG_DEFAULT_FILE ";\n"
		"                     built-in defaults if that does not exist)\n"
		"  -q, --quiet        print nothing when all is well\n"
		"  -v, --verbose      then every section's values and where each came from\n"
		"                     (file:line, the value an override replaced, or default)\n"
		"      --show NAME    only that: the rule, filter or configuration section NAME\n"
		"  -h, --help         this help\n");
}

/* A journal source's unit (or match) with no entry at all is a typo, or a
 * service that logs elsewhere: the daemon would wait for it forever. The
 * built-in source (no [source] configured) names alternatives for several
 * distributions (postfix@-.service and postfix.service): it is warned
 * about only if none of them has an entry. */
static void journal_warnings(const struct config *cfg)
{
	const char *file = cfg->file ? cfg->file : "built-in defaults";

	for (size_t i = 0; i < cfg->nsources; i++) {
		const struct source_cfg *s = &cfg->sources[i];
		bool builtin = s->lineno == 0, any = false;
		char where[512];
		if (!s->journal)
			continue;
		if (s->journal_path)
			snprintf(where, sizeof where, "journal '%s'", s->journal_path);
		else
			snprintf(where, sizeof where, "the journal");
		for (size_t k = 0; s->journal[k]; k++) {
			char err[ERR_LEN];
			int r = journal_term_has_entries(s->journal[k], s->journal_path, err, sizeof err);
			if (r < 0)
				fprintf(stderr, "%s: warning: [source %s] journal '%s': %s\n", file, s->name,
					s->journal[k], err);
			else if (r == 0 && !builtin)
				fprintf(stderr, "%s: warning: [source %s] journal '%s': no entry in %s (a typo? or the "
					"service logs elsewhere; 'journalctl -u UNIT' shows a unit's lines)\n", file,
					s->name, s->journal[k], where);
			any = any || r > 0;
		}
		if (builtin && !any)
			fprintf(stderr, "%s: warning: [source %s] journal: none of its units has an entry in %s (the mail "
				"servers log elsewhere? configure a [source] with their log file or units)\n", file,
				s->name, where);
	}
}

int cmd_check(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "show", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cfgpath = NULL, *show = NULL;
	bool quiet = false, verbose = false;
	struct bundle b;
	char err[ERR_LEN], location[ERR_LEN] = "";
	int opt;

	while ((opt = getopt_long(argc, argv, "c:qvh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c': cfgpath = optarg; break;
		case 'q': quiet = true; break;
		case 'v': verbose = true; break;
		case 'S': show = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "mailscreen check: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	if (bundle_load(&b, cfgpath, cfgpath != NULL, err, sizeof err) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (show) {
		size_t n = check_show(stdout, &b, show);
		if (!n)
			fprintf(stderr, "mailscreen check: no rule, filter or configuration section is named '%s'\n", show);
		bundle_release(&b);
		return n ? 0 : 1;
	}
	filterset_warnings(b.fs, stderr);
	/* shared = yes counts across the cluster only where it shares counts */
	if (!(b.cfg.cluster_share & CLUSTER_COUNTS))
		for (size_t i = 0; i < b.rules.n; i++)
			if (b.rules.v[i].shared && b.rules.v[i].enabled)
				fprintf(stderr, "%s:%d: warning: rule '%s' is shared but [cluster] share does not include "
					"counts: it counts this node's events alone\n", b.rules.v[i].file,
					b.rules.v[i].lineno, b.rules.v[i].name);
	/* a path whose directory does not exist either is a typo, not a log
	 * that has not been written yet (the daemon waits for that) */
	for (size_t i = 0; i < b.cfg.nsources; i++) {
		const struct source_cfg *s = &b.cfg.sources[i];
		char *dir;
		if (!s->path || access(s->path, F_OK) == 0)
			continue;
		dir = xstrdup(s->path);
		if (access(dirname(dir), F_OK) != 0)
			fprintf(stderr, "%s: warning: [source %s] path '%s': neither the file nor its directory "
				"exists (a typo? mailscreen waits for a missing file, but not in a missing "
				"directory)\n", b.cfg.file ? b.cfg.file : "configuration", s->name, s->path);
		free(dir);
	}
	journal_warnings(&b.cfg);
	/* a host name is resolved at each connection, in the daemon's loop */
	if (*b.cfg.cluster_redis) {
		struct cluster_redis r;
		struct in_addr a4;
		struct in6_addr a6;
		char e[ERR_LEN];
		if (cluster_redis_parse(b.cfg.cluster_redis, &r, e, sizeof e) == 0 && !r.is_unix &&
		    inet_pton(AF_INET, r.path, &a4) != 1 && inet_pton(AF_INET6, r.path, &a6) != 1)
			fprintf(stderr, "%s: warning: [cluster] redis '%s' names a host: it is looked up at each "
				"connection, and the daemon waits on the resolver meanwhile (a slow DNS stalls the "
				"logs and the control socket); give its address\n", b.cfg.file ? b.cfg.file :
				"configuration", b.cfg.cluster_redis);
	}
	if (*b.cfg.metrics_listen && !httpd_is_loopback(b.cfg.metrics_listen))
		fprintf(stderr, "%s: warning: [metrics] listen is not a loopback address: anyone who can reach it "
			"reads the metrics (rule and source names, counts); prefer 127.0.0.1 or [::1] behind a "
			"proxy\n", b.cfg.file ? b.cfg.file : "configuration");
	if (location_check(&b, location, sizeof location) < 0) {
		bundle_release(&b);
		return 1;
	}
	if (!quiet) {
		printf("configuration: %s\n", b.cfg.file ? b.cfg.file : "built-in defaults");
		printf("filters: %zu from %s\n", filterset_nfilters(b.fs), b.filters_dir);
		printf("rules: %zu from %s\n", b.rules.n, b.rules_dir);
		check_show_overrides(stdout, &b);
		for (size_t i = 0; i < b.rules.n; i++) {
			const struct rule *r = &b.rules.v[i];
			char win[32], dur[32];
			duration_format(r->window_ms, win, sizeof win);
			duration_format(r->block_ms, dur, sizeof dur);
			printf("  %-16s %s%u events within %s -> %s", r->name, r->enabled ? "" : "(disabled) ",
			       r->limit, win, r->log_only ? "log" : dur);
			for (size_t k = 0; k < r->ncountries; k++) {
				char cc[3];
				geo_code_text(r->countries[k], cc);
				printf("%s%s", k ? " " : r->not_countries ? " (not in " : " (in ", cc);
			}
			printf("%s\n", r->ncountries ? ")" : "");
		}
		for (size_t i = 0; i < b.cfg.nsources; i++) {
			const struct source_cfg *s = &b.cfg.sources[i];
			printf("source %s: %s", s->name, s->path ? s->path : "journal");
			for (size_t k = 0; s->journal && s->journal[k]; k++)
				printf(" %s", s->journal[k]);
			printf(" (filters:");
			for (size_t k = 0; k < s->nfilters; k++)
				printf(" %s", s->filters[k]);
			printf(")\n");
		}
		printf("nftables: table inet %s, ports %s\n", b.cfg.table, b.cfg.ports_text);
		if (*location)
			printf("%s\n", location);
		if (verbose)
			check_show(stdout, &b, NULL);
		printf("ok\n");
	}
	bundle_release(&b);
	return 0;
}

static void options_usage(FILE *fp)
{
	fprintf(fp,
		"usage: mailscreen options [--markdown]\n"
		"\n"
		"Print every section and key of mailscreen.conf, of rule files and of filter files, with\n"
		"its type, default and meaning.\n"
		"\n"
		"  --markdown         as Markdown tables (the README's configuration reference)\n"
		"  -h, --help         this help\n");
}

int cmd_options(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "markdown", no_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool md = false;
	int opt;

	while ((opt = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'm': md = true; break;
		case 'h': options_usage(stdout); return 0;
		default: options_usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "mailscreen options: unexpected argument '%s'\n", argv[optind]);
		return 2;
	}
	config_print_reference(stdout, md);
	printf("\n");
	keydoc_print(stdout, md, "[RULE]", "in a rule file", rule_keys, rule_nkeys);
	printf("\n");
	keydoc_print(stdout, md, "[FILTER]", "in a filter file", filter_keys, filter_nkeys);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "mailscreen options: cannot write to standard output\n");
		return 1;
	}
	return 0;
}
